//! # amlis
//!
//! Classic machine learning through its whole life, in one embeddable Rust library:
//!
//! - **data** ([`data`], [`preprocess`], [`datasets`]): read real tables from CSV into typed
//!   columns with missing values and categories, prepare them (impute, encode, scale), join
//!   tables on keys, split them for training and testing;
//! - **model** ([`traits`]): trainers with hyperparameters, fitted models, metrics;
//! - **service** ([`ffi`]): a C ABI (`libamlis`, `include/amlis.h`) for offline prediction
//!   from C and C++.
//!
//! ```
//! use amlis::data::{stratified_train_test_split, DenseDataset, TaskKind};
//! use amlis::preprocess::StandardScaler;
//! use amlis::traits::{Dataset, FittedTransformer, Transformer};
//!
//! // Read a table shipped with the crate, scale its numeric columns, pick the target.
//! let table = amlis::datasets::iris_table()?;
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

pub(crate) mod class_weight;
pub mod config;
pub mod data;
pub mod datasets;
pub mod dummy;
pub mod ensemble;
pub mod error;
pub mod ffi;
mod json_float;
pub mod linalg;
pub mod linear;
pub mod metrics;
pub mod model;
pub(crate) mod parallel;
pub mod persist;
pub mod pipeline;
pub mod preprocess;
pub mod report;
pub mod rng;
pub mod selection;
pub mod stats;
pub mod traits;
pub mod tree;
pub mod validate;

pub use error::{Error, Result};

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
