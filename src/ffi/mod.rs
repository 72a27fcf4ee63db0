//! The C ABI: `libamlis` and `include/amlis.h` (generated from this module by cbindgen).
//!
//! Conventions, as in `DESIGN.md` section 6:
//! - every fallible export returns an [`AmlisStatus`]; `AMLIS_OK` is 0, and on any other value
//!   `amlis_last_error_message()` gives this thread's message (what, where, what was expected);
//! - handles (`AmlisDataset`, later `AmlisModel` and `AmlisPredictor`) are opaque, made by
//!   the library and released by the matching `*_free` function, which accepts NULL;
//! - a NULL pointer argument is `AMLIS_NULL_ARGUMENT` naming the argument (optional
//!   arguments say so); outputs are written only on success (one exception:
//!   `AMLIS_BUFFER_TOO_SMALL` writes the needed size to `*out_len`); size arithmetic is
//!   checked; every export catches panics (`AMLIS_PANIC`), so no unwinding crosses into C;
//! - strings are NUL-terminated UTF-8;
//! - threads: the C ABI never creates or configures the global rayon thread pool behind the
//!   host's back; exports that run in parallel will do so in a pool whose size the caller
//!   chooses (through the training configuration), and a handle that is never mutated after
//!   creation may be used through `const` pointers from many threads at once.
//!
//! The Rust functions here are the C functions; Rust programs use the safe API instead.

mod boundary;
pub mod dataset;
pub mod error;
pub mod status;
pub mod version;

// AmlisModel and AmlisPredictor (train, save, load, predict) are added by the service work.

pub use dataset::{
    amlis_dataset_free, amlis_dataset_from_csv, amlis_dataset_from_dense, amlis_dataset_shape,
    AmlisDataset, DatasetContents,
};
pub use error::{amlis_last_error_message, last_error};
pub use status::{AmlisOutput, AmlisStatus, OutputKind, AMLIS_OUTPUT_PROBA, AMLIS_OUTPUT_VALUE};
pub use version::{amlis_abi_version, amlis_version, AMLIS_ABI_VERSION};
