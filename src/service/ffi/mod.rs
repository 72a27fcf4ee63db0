//! The C ABI: `libamlis` and `include/amlis.h` (generated from this module by cbindgen).
//!
//! Conventions, as in `ARCHITECTURE.md` section 7:
//! - every fallible export returns an [`AmlisStatus`]; `AMLIS_OK` is 0, and on any other value
//!   `amlis_last_error_message()` gives this thread's message (what, where, what was expected);
//! - handles (`AmlisDataset`, `AmlisModel`, `AmlisPredictor` and `AmlisLearner`) are opaque, made by
//!   the library and released by the matching `*_free` function, which accepts NULL;
//! - a NULL pointer argument is `AMLIS_NULL_ARGUMENT` naming the argument (optional
//!   arguments say so); outputs are written only on success (one exception:
//!   `AMLIS_BUFFER_TOO_SMALL` writes the needed size to `*out_len`); size arithmetic is
//!   checked; every export catches panics (`AMLIS_PANIC`), so no unwinding crosses into C;
//! - strings are NUL-terminated UTF-8;
//! - threads: a handle that is never mutated after creation (datasets, models) may be used
//!   through `const` pointers from many threads at once, without locks; an `AmlisPredictor`
//!   is one thread's at a time. Work that runs in parallel (training, large batch
//!   predictions) uses rayon's global pool, whose size `RAYON_NUM_THREADS` bounds, or a pool
//!   of `n_threads` from the training configuration (`"n_threads": 1` keeps training and
//!   prediction on the calling thread).
//!
//! The Rust functions here are the C functions; Rust programs use the safe API instead.

pub mod bandit;
mod boundary;
pub mod dataset;
pub mod error;
pub mod evaluate;
pub mod learner;
pub mod model;
pub mod policy;
pub mod predict;
pub mod status;
pub mod version;

pub use bandit::amlis_bandit_partial_fit;
pub use bandit::{
    amlis_bandit_choose, amlis_bandit_choose_excluding, amlis_bandit_free,
    amlis_bandit_load_buffer, amlis_bandit_load_file, amlis_bandit_new, amlis_bandit_save_buffer,
    amlis_bandit_save_file, amlis_bandit_update, AmlisBandit,
};
pub use dataset::{
    amlis_dataset_free, amlis_dataset_from_csv, amlis_dataset_from_dense, amlis_dataset_shape,
    AmlisDataset, DatasetContents,
};
pub use error::{amlis_last_error_message, last_error};
pub use evaluate::{amlis_cross_validate, amlis_evaluate};
pub use learner::{
    amlis_learner_choose, amlis_learner_free, amlis_learner_model, amlis_learner_new,
    amlis_learner_partial_fit, amlis_learner_update, AmlisLearner,
};
pub use model::{
    amlis_model_free, amlis_model_info_json, amlis_model_load_buffer, amlis_model_load_file,
    amlis_model_n_classes, amlis_model_n_features, amlis_model_n_outputs, amlis_model_save_buffer,
    amlis_model_save_file, amlis_train, AmlisModel,
};
pub use policy::amlis_evaluate_policy;
pub use predict::{
    amlis_predict, amlis_predict_dataset, amlis_predict_row, amlis_predictor_free,
    amlis_predictor_new, AmlisPredictor,
};
pub use status::{
    AmlisOutput, AmlisStatus, OutputKind, AMLIS_OUTPUT_PROBA, AMLIS_OUTPUT_SCORE,
    AMLIS_OUTPUT_TRANSFORM, AMLIS_OUTPUT_VALUE,
};
pub use version::{amlis_abi_version, amlis_version, AMLIS_ABI_VERSION};
