//! Preprocessing transformers: scalers, a normalizer, an imputer and categorical encoders
//! (plus [`LabelEncoder`] for target labels).
//!
//! Every step follows scikit-learn (names, parameters, numbers) and works on [`Table`]s:
//! [`Transformer::fit`] learns from a training table, [`FittedTransformer::transform`] applies
//! the same transformation to any table with those columns.
//!
//! - Without explicit `columns`, a step takes every column of the kind it handles (scalers,
//!   normalizer: numeric; encoders: categorical; imputer: see [`SimpleImputer`]). Columns it
//!   does not touch pass through unchanged, in place; one-hot replaces a column by its
//!   indicator columns at the same position.
//! - Settings and fitted states are serde types; [`Step`] and [`FittedStep`] wrap every step
//!   with a `"type"` tag (`standard_scaler`, `min_max_scaler`, `robust_scaler`, `normalizer`,
//!   `simple_imputer`, `one_hot_encoder`, `ordinal_encoder`) as a pipeline stores them.
//! - Transform errors name the column (a missing one, or one of the other kind) and, for bad
//!   values (an unknown category, NaN where a step cannot take it), the row.
//! - Fit and transform run in parallel over columns with rayon; results do not depend on the
//!   thread count. Fitted numeric scalers also work on plain rows and arrays
//!   ([`NumericScaler`]).
//!
//! ```
//! use amlis::data::{Column, Table};
//! use amlis::preprocess::{ImputeStrategy, OneHotEncoder, SimpleImputer, StandardScaler};
//! use amlis::traits::{FittedTransformer, Transformer};
//!
//! let train = Table::new(vec![
//!     ("size".into(), Column::numeric(vec![1.0, f64::NAN, 3.0])),
//!     ("color".into(), Column::categorical_from(&[Some("red"), Some("blue"), None])),
//! ])?;
//! let (imputer, t) = SimpleImputer::default().strategy(ImputeStrategy::MostFrequent).fit_transform(&train)?;
//! let (encoder, t) = OneHotEncoder::default().fit_transform(&t)?;
//! let (scaler, t) = StandardScaler::default().fit_transform(&t)?;
//! assert_eq!(t.names(), &["size", "color_blue", "color_red"]);
//!
//! // Later tables go through the same fitted steps.
//! let test = Table::new(vec![
//!     ("size".into(), Column::numeric(vec![f64::NAN])),
//!     ("color".into(), Column::categorical_from(&[Some("red")])),
//! ])?;
//! let out = scaler.transform(&encoder.transform(&imputer.transform(&test)?)?)?;
//! assert_eq!(out.n_columns(), 3);
//! # Ok::<(), amlis::Error>(())
//! ```
//!
//! [`Table`]: crate::data::Table
//! [`Transformer::fit`]: crate::traits::Transformer::fit
//! [`FittedTransformer::transform`]: crate::traits::FittedTransformer::transform

mod columns;
mod encoder;
mod imputer;
mod label;
mod normalizer;
mod scaler;
mod step;

pub use encoder::{
    ColumnCategories, FittedOneHotEncoder, FittedOrdinalEncoder, HandleUnknown, OneHotDrop,
    OneHotEncoder, OrdinalEncoder, OrdinalHandleUnknown,
};
pub use imputer::{FillValue, FittedSimpleImputer, ImputeStrategy, ImputedColumn, SimpleImputer};
pub use label::LabelEncoder;
pub use normalizer::{FittedNormalizer, Norm, Normalizer};
pub use scaler::{
    AffineForm, FittedMinMaxScaler, FittedRobustScaler, FittedStandardScaler, MinMaxScaler,
    NumericScaler, RobustScaler, StandardScaler,
};
pub use step::{FittedStep, Step};
