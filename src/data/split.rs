//! Train/test splits and k-fold splitters (stub: being written).

use crate::data::dataset::{DatasetView, DenseDataset};
use crate::error::{Error, Result};

/// One split: training and test row indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

/// Size of the test part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SplitSize {
    /// A fraction in (0, 1).
    Fraction(f64),
    /// A number of rows.
    Count(usize),
}

/// Train/test split settings.
#[derive(Debug, Clone)]
pub struct TrainTestSplit {
    /// Test size.
    pub test_size: SplitSize,
}

/// K-fold splitter.
#[derive(Debug, Clone)]
pub struct KFold {
    /// Number of folds.
    pub n_splits: usize,
}

/// Stratified k-fold splitter.
#[derive(Debug, Clone)]
pub struct StratifiedKFold {
    /// Number of folds.
    pub n_splits: usize,
}

/// Shuffled train/test split.
pub fn train_test_split(
    data: &DenseDataset,
    test_fraction: f64,
    random_state: u64,
) -> Result<(DatasetView<'_>, DatasetView<'_>)> {
    let _ = (data, test_fraction, random_state);
    Err(Error::Unsupported("splits are not written yet".into()))
}

/// Shuffled, stratified train/test split.
pub fn stratified_train_test_split(
    data: &DenseDataset,
    test_fraction: f64,
    random_state: u64,
) -> Result<(DatasetView<'_>, DatasetView<'_>)> {
    let _ = (data, test_fraction, random_state);
    Err(Error::Unsupported("splits are not written yet".into()))
}
