//! Scalers (stub: being written).

use crate::data::Table;
use crate::error::{Error, Result};
use crate::traits::{FittedTransformer, Transformer};

/// Standardizes numeric columns to zero mean and unit variance.
#[derive(Debug, Clone, Default)]
pub struct StandardScaler {}

/// A fitted [`StandardScaler`].
#[derive(Debug, Clone, Default)]
pub struct FittedStandardScaler {}

impl Transformer for StandardScaler {
    type Fitted = FittedStandardScaler;
    fn fit(&self, table: &Table) -> Result<Self::Fitted> {
        let _ = table;
        Err(Error::Unsupported(
            "StandardScaler is not written yet".into(),
        ))
    }
}

impl FittedTransformer for FittedStandardScaler {
    fn transform(&self, table: &Table) -> Result<Table> {
        Ok(table.clone())
    }
}
