//! Preprocessing transformers: scalers, a normalizer, an imputer, categorical encoders and
//! principal component analysis ([`Pca`]), plus [`LabelEncoder`] for target labels.
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
//!   with a `"type"` tag ([`Step::type_names`]: `standard_scaler`, `simple_imputer`, ...) as
//!   a pipeline stores them.
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
//! # Adding a step
//!
//! A new step touches two files: its own module here, and one line in the registry list at
//! the end of `step.rs` (`Variant(Settings => Fitted) = "type_name"`), which generates the
//! [`Step`] and [`FittedStep`] variants, their serde tag, `type_name`, JSON parsing with exact
//! error keys, [`Transformer`] / [`FittedTransformer`] dispatch and `From<Settings> for Step`.
//! The module defines the settings (serde, `deny_unknown_fields`, [`Transformer`]) and the
//! fitted state (serde, [`FittedTransformer`] for tables, and the crate-internal `RowStep`
//! for single rows: for a given input layout it validates its fitted state, returning
//! [`Error::ModelCorrupt`] rather than panicking, and compiles into a row kernel, usually a
//! `SlotMap` built from the per-slot operations in `row.rs`: copy, impute, affine map,
//! normalized member, level encoding, or a matrix map over several slots that may change the
//! column count). The pipeline's row path then runs it with no change elsewhere; the kernel
//! must repeat the table path's arithmetic in the same order, so that both paths stay
//! bit-identical (the tests of `tests/pipeline.rs` check this for every registered step kind
//! a config can name).
//!
//! [`Table`]: crate::data::Table
//! [`Error::ModelCorrupt`]: crate::Error::ModelCorrupt
//! [`Transformer`]: crate::traits::Transformer
//! [`FittedTransformer`]: crate::traits::FittedTransformer
//! [`Transformer::fit`]: crate::traits::Transformer::fit
//! [`FittedTransformer::transform`]: crate::traits::FittedTransformer::transform

mod columns;
mod encoder;
mod imputer;
mod label;
mod normalizer;
mod pca;
mod row;
mod scaler;
mod step;

pub use crate::common::pca::{IteratedPower, NComponents, Pca};
pub use encoder::{
    ColumnCategories, FittedOneHotEncoder, FittedOrdinalEncoder, HandleUnknown, OneHotDrop,
    OneHotEncoder, OrdinalEncoder, OrdinalHandleUnknown,
};
pub use imputer::{FillValue, FittedSimpleImputer, ImputeStrategy, ImputedColumn, SimpleImputer};
pub use label::LabelEncoder;
pub use normalizer::{FittedNormalizer, Norm, Normalizer};
pub use pca::FittedPca;
#[cfg(test)]
pub(crate) use row::testing;
pub(crate) use row::{layout_of, RowKernel, RowSlot, RowStep};
pub use scaler::{
    AffineForm, FittedMinMaxScaler, FittedRobustScaler, FittedStandardScaler, MinMaxScaler,
    NumericScaler, RobustScaler, StandardScaler,
};
pub use step::{FittedStep, Step};
