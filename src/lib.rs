//! # amlis
//!
//! Classic machine learning through its whole life, in one embeddable Rust library:
//!
//! - **data** ([`data`], [`preprocess`]): read real tables from CSV into typed columns with
//!   missing values and categories, prepare them (impute, encode, scale), join tables on
//!   keys, split them for training and testing;
//! - **model** ([`models`], under the contracts of [`traits`]): every model family, the
//!   registry that names them, and [`evaluate`] (metrics, cross-validation, search, reports);
//! - **service** ([`service`]): the training config, the pipeline (the deployable unit), the
//!   versioned model file, and the C ABI (`libamlis`, `include/amlis.h`) for offline
//!   prediction from C and C++.
//!
//! [`common`] holds what every pillar uses (linear algebra, seeded random streams, order
//! statistics). The paths of earlier releases (`amlis::linear`, `amlis::pipeline`,
//! `amlis::ffi`, ...) are kept as re-exports of the modules' homes.
//!
//! ```
//! use amlis::data::{stratified_train_test_split, DenseDataset, TaskKind};
//! use amlis::preprocess::StandardScaler;
//! use amlis::traits::{Dataset, FittedTransformer, Transformer};
//!
//! // Read a table shipped with the crate, scale its numeric columns, pick the target.
//! let table = amlis::data::datasets::iris_table()?;
//! let (scaler, scaled) = StandardScaler::default().fit_transform(&table)?;
//! let data = DenseDataset::from_table(&scaled, "species", TaskKind::Classification)?;
//!
//! // A stratified 80/20 split: index views, no copy.
//! let (train, test) = stratified_train_test_split(&data, 0.2, 42)?;
//! assert_eq!(train.n_samples() + test.n_samples(), 150);
//! # let _ = scaler.transform(&table)?;
//! # Ok::<(), amlis::Error>(())
//! ```

#![warn(missing_docs)]

pub mod common;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod meta;
pub mod models;
pub mod preprocess;
pub mod service;
pub mod traits;

pub use error::{Error, Result};

// The paths of earlier releases, kept for the crates that use them.
pub use common::{linalg, rng, stats};
pub use data::datasets;
pub use evaluate::{metrics, report, selection};
/// The model registry (now [`models`]): [`models::ModelConfig`], [`models::AnyModel`].
pub use models as model;
pub use models::kit::validate;
pub use models::{dummy, ensemble, linear, tree};
pub use service::{config, ffi, persist, pipeline};

/// The crate version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The things most programs use, in one import: `use amlis::prelude::*;`.
pub mod prelude {
    pub use crate::data::{
        read_csv, Column, ColumnKind, CsvOptions, DatasetView, DenseDataset, FeatureKind, Table,
        Task, TaskKind,
    };
    pub use crate::error::{Error, Result};
    pub use crate::traits::{
        Control, Dataset, FitContext, FitEvent, FittedTransformer, Metric, MetricInput, Model,
        Prediction, Predictor, ProbabilisticPredictor, Trainer, Transformer,
    };
}
