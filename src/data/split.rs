//! Train/test splits and k-fold splitters, as row indices (no copy of the data).
//!
//! A [`Split`] holds the training and test row indices; [`Split::views`] turns it into two
//! [`DatasetView`]s of a [`DenseDataset`]. The splitters follow scikit-learn exactly where it is
//! deterministic:
//!
//! - [`KFold`]: contiguous folds, the first `n % k` one row larger; with `shuffle` the rows are
//!   permuted first.
//! - [`StratifiedKFold`]: scikit-learn's allocation (classes in order of first appearance, the
//!   per-fold class counts from a round robin over the sorted labels, each class's rows handed
//!   to the folds in blocks); with `shuffle` the block order of each class is permuted.
//! - [`TrainTestSplit`]: test size `ceil(fraction · n)`, train size `floor(fraction · n)`, as
//!   `_validate_shuffle_split`; the stratified variant gives each class the same train and test
//!   counts as scikit-learn's `StratifiedShuffleSplit` (`_approximate_mode`; ties are broken
//!   at random, as scikit-learn does).
//!
//! Shuffles draw from [`crate::common::rng`], so the same `random_state` gives the same split on every
//! machine (not the same permutation as numpy's generator, which cannot be matched).
//!
//! ```
//! use amlis::data::{KFold, Split, Splitter, StratifiedKFold, TrainTestSplit, SplitSize};
//! use amlis::traits::Dataset;
//!
//! let data = amlis::data::DenseDataset::classification(
//!     ndarray::Array2::zeros((10, 2)),
//!     ndarray::array![0., 0., 0., 0., 0., 0., 1., 1., 1., 1.],
//! )?;
//!
//! // Unshuffled 3-fold: test folds of 4, 3 and 3 contiguous rows.
//! let folds = KFold::new(3).split(&data)?;
//! assert_eq!(folds[0].test, vec![0, 1, 2, 3]);
//! assert_eq!(folds[0].train, vec![4, 5, 6, 7, 8, 9]);
//!
//! // Stratified 2-fold: each test fold holds 3 rows of class 0 and 2 of class 1.
//! let folds = StratifiedKFold::new(2).shuffle(7).split(&data)?;
//! assert_eq!(folds[0].test.len(), 5);
//!
//! // A stratified, shuffled 70/30 split as two views of the data.
//! let splitter = TrainTestSplit::new(SplitSize::Fraction(0.3)).stratify(true).random_state(42);
//! let (train, test) = splitter.split(&data)?;
//! assert_eq!((train.n_samples(), test.n_samples()), (7, 3));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::HashMap;

use rand::seq::SliceRandom;

use crate::common::rng;
use crate::data::dataset::{format_label, DatasetView, DenseDataset};
use crate::error::{Error, Result};
use crate::traits::Dataset;

/// One split: training and test row indices (positions in the dataset that was split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

impl Split {
    /// The training and test rows as views of `data` (no copy).
    pub fn views<'a>(&self, data: &'a DenseDataset) -> Result<(DatasetView<'a>, DatasetView<'a>)> {
        Ok((
            DatasetView::new(data, self.train.clone())?,
            DatasetView::new(data, self.test.clone())?,
        ))
    }

    /// A split whose test rows are `test` and whose training rows are all other rows of
    /// `0..n_samples`, in ascending order.
    fn from_test(n_samples: usize, test: Vec<usize>) -> Self {
        let mut in_test = vec![false; n_samples];
        for &i in &test {
            if let Some(flag) = in_test.get_mut(i) {
                *flag = true;
            }
        }
        let train = (0..n_samples)
            .filter(|&i| !in_test.get(i).copied().unwrap_or(true))
            .collect();
        Self { train, test }
    }
}

/// Something that cuts a dataset into several (train, test) splits, as cross-validation needs.
///
/// Indices are positions in the dataset given to [`split`](Self::split) (for a
/// [`DatasetView`], positions in the view, not in its base).
pub trait Splitter: Sync {
    /// The number of splits this splitter makes.
    fn n_splits(&self) -> usize;

    /// The splits of `n_samples` rows with optional targets `y` (needed to stratify).
    fn split_indices(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Vec<Split>>;

    /// The splits of a dataset (its targets are used when the splitter stratifies).
    fn split(&self, data: &dyn Dataset) -> Result<Vec<Split>> {
        let y = data.targets().map(|y| y.to_vec());
        self.split_indices(data.n_samples(), y.as_deref())
    }
}

/// The splits of the labelled rows only, when `y` marks some rows unlabeled (`NaN`): `split`
/// cuts the labelled rows (their count and targets), and every unlabeled row joins each
/// training side, so that no unlabeled row is ever a test row (semi-supervised models learn
/// from them; no metric can score them). Without unlabeled rows this is `split` itself.
fn unlabeled_in_train(
    n_samples: usize,
    y: Option<&[f64]>,
    split: impl FnOnce(usize, Option<&[f64]>) -> Result<Vec<Split>>,
) -> Result<Vec<Split>> {
    let y_all = match y {
        Some(y) if y.len() == n_samples && y.iter().any(|v| v.is_nan()) => y,
        _ => return split(n_samples, y),
    };
    let (labelled, unlabeled): (Vec<usize>, Vec<usize>) =
        (0..n_samples).partition(|&i| y_all.get(i).is_some_and(|v| !v.is_nan()));
    let y_labelled: Vec<f64> = labelled
        .iter()
        .filter_map(|&i| y_all.get(i))
        .copied()
        .collect();
    let to_base = |rows: &[usize]| -> Vec<usize> {
        rows.iter()
            .filter_map(|&i| labelled.get(i))
            .copied()
            .collect()
    };
    let splits = split(labelled.len(), Some(&y_labelled))?;
    Ok(splits
        .into_iter()
        .map(|s| {
            let mut train = to_base(&s.train);
            train.extend_from_slice(&unlabeled);
            train.sort_unstable();
            Split {
                train,
                test: to_base(&s.test),
            }
        })
        .collect())
}

/// Checks `2 <= n_splits <= n_samples`.
fn check_n_splits(n_splits: usize, n_samples: usize) -> Result<()> {
    if n_splits < 2 {
        return Err(Error::param(
            "n_splits",
            n_splits,
            "an integer >= 2 (k-fold needs at least one train/test split)",
        ));
    }
    if n_splits > n_samples {
        return Err(Error::param(
            "n_splits",
            n_splits,
            &format!("at most the number of samples, {n_samples}"),
        ));
    }
    Ok(())
}

/// K-fold cross-validation: the rows are cut into `n_splits` contiguous folds (after an
/// optional seeded shuffle); each fold is the test set once.
///
/// As scikit-learn: the first `n_samples % n_splits` folds have one row more. Training rows
/// are in ascending order; test rows are in the (possibly shuffled) fold order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KFold {
    /// Number of folds (at least 2).
    pub n_splits: usize,
    /// Whether to shuffle the rows before cutting them into folds.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub random_state: u64,
}

/// `Default` (5 folds), `new` and `shuffle` of a k-fold splitter with fields `n_splits`,
/// `shuffle` and `random_state`.
macro_rules! kfold_builders {
    ($t:ident) => {
        impl Default for $t {
            fn default() -> Self {
                Self::new(5)
            }
        }

        impl $t {
            /// Unshuffled, with `n_splits` folds.
            pub fn new(n_splits: usize) -> Self {
                Self {
                    n_splits,
                    shuffle: false,
                    random_state: 0,
                }
            }

            /// Shuffles with seed `random_state` before making the folds.
            pub fn shuffle(mut self, random_state: u64) -> Self {
                self.shuffle = true;
                self.random_state = random_state;
                self
            }
        }
    };
}

kfold_builders!(KFold);

impl Splitter for KFold {
    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split_indices(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Vec<Split>> {
        unlabeled_in_train(n_samples, y, |n, _| self.labelled_splits(n))
    }
}

impl KFold {
    /// The folds of `n_samples` rows, all labelled.
    fn labelled_splits(&self, n_samples: usize) -> Result<Vec<Split>> {
        check_n_splits(self.n_splits, n_samples)?;
        let order = if self.shuffle {
            rng::permutation(n_samples, &mut rng::from_seed(self.random_state))
        } else {
            (0..n_samples).collect()
        };
        let (base, extra) = (n_samples / self.n_splits, n_samples % self.n_splits);
        let mut splits = Vec::with_capacity(self.n_splits);
        let mut start = 0;
        for fold in 0..self.n_splits {
            let stop = start + base + usize::from(fold < extra);
            let test = order.get(start..stop).unwrap_or_default().to_vec();
            splits.push(Split::from_test(n_samples, test));
            start = stop;
        }
        Ok(splits)
    }
}

/// Class codes of targets `y`: `(codes, n_classes)`, classes numbered in order of first
/// appearance. A missing (`NaN`) or infinite target is an error naming its row.
fn encode_classes(y: &[f64], context: &str) -> Result<(Vec<usize>, usize)> {
    let mut ids: HashMap<u64, usize> = HashMap::new();
    let mut codes = Vec::with_capacity(y.len());
    for (row, &v) in y.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::InvalidValue {
                context: context.to_string(),
                row,
                column: None,
                message: format!("cannot stratify on the target {v}; expected a class label"),
            });
        }
        let key = if v == 0.0 { 0 } else { v.to_bits() };
        let next = ids.len();
        codes.push(*ids.entry(key).or_insert(next));
    }
    Ok((codes, ids.len()))
}

/// The targets a stratified splitter needs, checked against the row count.
fn stratify_targets<'y>(y: Option<&'y [f64]>, n_samples: usize, who: &str) -> Result<&'y [f64]> {
    let y = y.ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{who} stratifies by class and needs targets, but the data has none"
        ))
    })?;
    if y.len() != n_samples {
        return Err(Error::shape(
            &format!("{who} targets"),
            format!("{n_samples} values"),
            y.len(),
        ));
    }
    Ok(y)
}

/// Stratified k-fold: like [`KFold`], but each fold keeps the class proportions of the whole
/// data set (each class's count in a fold is within one of proportional).
///
/// Unshuffled, the folds are exactly scikit-learn's (`StratifiedKFold._make_test_folds`).
/// With `shuffle`, the order in which each class's rows are dealt to the folds is permuted.
/// Train and test rows are in ascending order.
///
/// It is an error when every class has fewer rows than `n_splits` (scikit-learn raises then
/// too); when only some classes do, those classes are simply missing from some folds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratifiedKFold {
    /// Number of folds (at least 2).
    pub n_splits: usize,
    /// Whether to shuffle each class's rows before dealing them to the folds.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub random_state: u64,
}

kfold_builders!(StratifiedKFold);

impl StratifiedKFold {
    /// The test fold of every row (`0..n_splits`), as scikit-learn's `_make_test_folds`.
    pub fn test_folds(&self, y: &[f64]) -> Result<Vec<usize>> {
        let k = self.n_splits;
        check_n_splits(k, y.len())?;
        let (codes, n_classes) = encode_classes(y, "StratifiedKFold targets")?;
        let mut counts = vec![0usize; n_classes];
        for &c in &codes {
            if let Some(n) = counts.get_mut(c) {
                *n += 1;
            }
        }
        if counts.iter().all(|&c| c < k) {
            return Err(Error::param(
                "n_splits",
                k,
                &format!(
                    "at most the number of members of some class (the largest class has {})",
                    counts.iter().max().copied().unwrap_or(0)
                ),
            ));
        }
        // allocation[fold][class]: the round robin over the sorted codes, i.e. how many of the
        // positions `start_c..start_c + counts[c]` of class c are congruent to `fold` mod k.
        let mut allocation = vec![vec![0usize; n_classes]; k];
        let mut pos = 0usize;
        for (c, &count) in counts.iter().enumerate() {
            for p in pos..pos + count {
                if let Some(cell) = allocation.get_mut(p % k).and_then(|row| row.get_mut(c)) {
                    *cell += 1;
                }
            }
            pos += count;
        }
        // Each class deals its rows, in row order, to fold 0 (allocation[0][c] rows), then
        // fold 1, and so on; shuffle permutes that block sequence.
        let mut rng = rng::from_seed(self.random_state);
        let mut deal: Vec<std::vec::IntoIter<usize>> = Vec::with_capacity(n_classes);
        for c in 0..n_classes {
            let mut folds: Vec<usize> = (0..k)
                .flat_map(|f| {
                    let n = allocation.get(f).and_then(|row| row.get(c)).copied();
                    std::iter::repeat_n(f, n.unwrap_or(0))
                })
                .collect();
            if self.shuffle {
                folds.shuffle(&mut rng);
            }
            deal.push(folds.into_iter());
        }
        let mut test_folds = Vec::with_capacity(codes.len());
        for &c in &codes {
            let fold = deal.get_mut(c).and_then(Iterator::next).ok_or_else(|| {
                Error::InvalidArgument("StratifiedKFold: fold allocation ran short".into())
            })?;
            test_folds.push(fold);
        }
        Ok(test_folds)
    }
}

impl Splitter for StratifiedKFold {
    fn n_splits(&self) -> usize {
        self.n_splits
    }

    fn split_indices(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Vec<Split>> {
        unlabeled_in_train(n_samples, y, |n, y| self.labelled_splits(n, y))
    }
}

impl StratifiedKFold {
    /// The folds of `n_samples` rows, all labelled.
    fn labelled_splits(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Vec<Split>> {
        let y = stratify_targets(y, n_samples, "StratifiedKFold")?;
        let mut tests = vec![Vec::new(); self.n_splits];
        for (row, fold) in self.test_folds(y)?.into_iter().enumerate() {
            if let Some(t) = tests.get_mut(fold) {
                t.push(row);
            }
        }
        Ok(tests
            .into_iter()
            .map(|test| Split::from_test(n_samples, test))
            .collect())
    }
}

/// Size of one part of a train/test split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SplitSize {
    /// A fraction of the rows, in the open interval (0, 1). A test fraction rounds up, a
    /// train fraction down (as scikit-learn).
    Fraction(f64),
    /// A number of rows, in `1..n_samples`.
    Count(usize),
}

impl SplitSize {
    /// Checks the size against `n_samples`; `name` is the parameter name for the error.
    fn check(self, name: &str, n_samples: usize) -> Result<()> {
        match self {
            SplitSize::Fraction(f) if !(f > 0.0 && f < 1.0) => Err(Error::param(
                name,
                f,
                "a fraction in the open interval (0, 1)",
            )),
            SplitSize::Count(c) if c == 0 || c >= n_samples => Err(Error::param(
                name,
                c,
                &format!("a row count in 1..{n_samples} (fewer than the number of samples)"),
            )),
            _ => Ok(()),
        }
    }
}

/// A single train/test split: sizes as a fraction or a count, optional seeded shuffle, optional
/// stratification by class.
///
/// Defaults as scikit-learn's `train_test_split`: test size 0.25, the rest for training,
/// shuffled, not stratified. Without shuffling, the first rows train and the next ones test.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainTestSplit {
    /// Size of the test part.
    pub test_size: SplitSize,
    /// Size of the training part; `None` = every row not in the test part.
    pub train_size: Option<SplitSize>,
    /// Whether to shuffle (required for stratification).
    pub shuffle: bool,
    /// Whether to keep the class proportions of the targets in both parts.
    pub stratify: bool,
    /// Seed of the shuffle.
    pub random_state: u64,
}

impl Default for TrainTestSplit {
    fn default() -> Self {
        Self::new(SplitSize::Fraction(0.25))
    }
}

impl TrainTestSplit {
    /// A shuffled, unstratified split with the given test size (seed 0).
    pub fn new(test_size: SplitSize) -> Self {
        Self {
            test_size,
            train_size: None,
            shuffle: true,
            stratify: false,
            random_state: 0,
        }
    }

    /// Sets the training size (default: every row not in the test part).
    pub fn train_size(mut self, size: SplitSize) -> Self {
        self.train_size = Some(size);
        self
    }

    /// Turns shuffling on or off.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Turns stratification by class on or off.
    pub fn stratify(mut self, stratify: bool) -> Self {
        self.stratify = stratify;
        self
    }

    /// Sets the seed of the shuffle.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = seed;
        self
    }

    /// The (train, test) row counts for `n_samples` rows, as scikit-learn's
    /// `_validate_shuffle_split`.
    pub fn sizes(&self, n_samples: usize) -> Result<(usize, usize)> {
        if n_samples == 0 {
            return Err(Error::Empty(
                "train/test split: the data has no rows".into(),
            ));
        }
        self.test_size.check("test_size", n_samples)?;
        if let Some(train) = self.train_size {
            train.check("train_size", n_samples)?;
        }
        if let (SplitSize::Fraction(te), Some(SplitSize::Fraction(tr))) =
            (self.test_size, self.train_size)
        {
            if te + tr > 1.0 {
                return Err(Error::param(
                    "train_size",
                    tr,
                    &format!(
                        "at most 1 - test_size = {} (the two fractions sum to {})",
                        1.0 - te,
                        te + tr
                    ),
                ));
            }
        }
        let n_test = match self.test_size {
            SplitSize::Fraction(f) => (f * n_samples as f64).ceil() as usize,
            SplitSize::Count(c) => c,
        };
        let n_train = match self.train_size {
            None => n_samples.saturating_sub(n_test),
            Some(SplitSize::Fraction(f)) => (f * n_samples as f64).floor() as usize,
            Some(SplitSize::Count(c)) => c,
        };
        if n_train + n_test > n_samples {
            return Err(Error::InvalidArgument(format!(
                "train/test split: train_size + test_size = {} rows, more than the {n_samples} \
                 samples; reduce test_size and/or train_size",
                n_train + n_test
            )));
        }
        if n_train == 0 {
            return Err(Error::InvalidArgument(format!(
                "train/test split: with {n_samples} samples, test_size = {:?} and train_size = \
                 {:?} the training set would be empty",
                self.test_size, self.train_size
            )));
        }
        Ok((n_train, n_test))
    }

    /// The train and test row indices of `n_samples` rows; `y` (the targets) is needed only to
    /// stratify. Unlabeled rows (`NaN` targets) all go to the training side: the sizes and
    /// the stratification apply to the labelled rows.
    pub fn indices(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Split> {
        let mut splits = unlabeled_in_train(n_samples, y, |n, y| {
            self.labelled_indices(n, y).map(|s| vec![s])
        })?;
        splits
            .pop()
            .ok_or_else(|| Error::InvalidArgument("train/test split: no split was made".into()))
    }

    /// The split of `n_samples` rows, all labelled.
    fn labelled_indices(&self, n_samples: usize, y: Option<&[f64]>) -> Result<Split> {
        let (n_train, n_test) = self.sizes(n_samples)?;
        if !self.shuffle {
            if self.stratify {
                return Err(Error::InvalidArgument(
                    "a stratified train/test split needs shuffle = true (as in scikit-learn)"
                        .into(),
                ));
            }
            return Ok(Split {
                train: (0..n_train).collect(),
                test: (n_train..n_train + n_test).collect(),
            });
        }
        let mut rng = rng::from_seed(self.random_state);
        if !self.stratify {
            let perm = rng::permutation(n_samples, &mut rng);
            let test = perm.get(..n_test).unwrap_or_default().to_vec();
            let train = perm
                .get(n_test..n_test + n_train)
                .unwrap_or_default()
                .to_vec();
            return Ok(Split { train, test });
        }
        let y = stratify_targets(y, n_samples, "stratified train/test split")?;
        stratified_indices(y, n_train, n_test, &mut rng)
    }

    /// Splits a dataset into (train, test) views (no copy of the data).
    pub fn split<'a>(&self, data: &'a DenseDataset) -> Result<(DatasetView<'a>, DatasetView<'a>)> {
        let y = data.targets().map(|y| y.to_vec());
        self.indices(data.n_samples(), y.as_deref())?.views(data)
    }
}

/// Per-class counts of a draw of `n_draws` rows from classes of sizes `class_counts`: the
/// approximate mode of the multivariate hypergeometric, as scikit-learn's `_approximate_mode`
/// (floors of the proportional shares, then one more row for the largest remainders, ties broken
/// at random).
pub fn approximate_mode(
    class_counts: &[usize],
    n_draws: usize,
    rng: &mut impl rand::Rng,
) -> Vec<usize> {
    let total: usize = class_counts.iter().sum();
    if total == 0 {
        return vec![0; class_counts.len()];
    }
    // Same float operations as numpy: counts / total * n_draws.
    let continuous: Vec<f64> = class_counts
        .iter()
        .map(|&c| c as f64 / total as f64 * n_draws as f64)
        .collect();
    let mut floored: Vec<usize> = continuous.iter().map(|c| c.floor() as usize).collect();
    let mut need = n_draws.saturating_sub(floored.iter().sum());
    if need > 0 {
        let remainder: Vec<f64> = continuous
            .iter()
            .zip(&floored)
            .map(|(c, &f)| c - f as f64)
            .collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for value in values {
            let mut inds: Vec<usize> = (0..remainder.len())
                .filter(|&i| remainder.get(i) == Some(&value))
                .collect();
            let add_now = inds.len().min(need);
            let (chosen, _) = inds.partial_shuffle(rng, add_now);
            for &i in chosen.iter() {
                if let Some(f) = floored.get_mut(i) {
                    *f += 1;
                }
            }
            need -= add_now;
            if need == 0 {
                break;
            }
        }
    }
    floored
}

/// Stratified shuffled split, as scikit-learn's `StratifiedShuffleSplit`.
fn stratified_indices(
    y: &[f64],
    n_train: usize,
    n_test: usize,
    rng: &mut rng::ChaCha8Rng,
) -> Result<Split> {
    let (codes, n_classes) = encode_classes(y, "stratified train/test split targets")?;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (row, &c) in codes.iter().enumerate() {
        if let Some(m) = members.get_mut(c) {
            m.push(row);
        }
    }
    let lonely: Vec<String> = members
        .iter()
        .filter(|m| m.len() < 2)
        .filter_map(|m| {
            m.first()
                .and_then(|&row| y.get(row))
                .map(|&v| format_label(v))
        })
        .collect();
    if !lonely.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "stratified train/test split: the least populated classes in y have only 1 member, \
             which is too few (every class needs at least 2); classes with too few members: {}",
            lonely.join(", ")
        )));
    }
    for (name, n) in [("train_size", n_train), ("test_size", n_test)] {
        if n < n_classes {
            return Err(Error::param(
                name,
                format!("{n} rows"),
                &format!("at least the number of classes, {n_classes}, for a stratified split"),
            ));
        }
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    let n_i = approximate_mode(&counts, n_train, rng);
    let remaining: Vec<usize> = counts.iter().zip(&n_i).map(|(c, n)| c - n).collect();
    let t_i = approximate_mode(&remaining, n_test, rng);
    let mut train = Vec::with_capacity(n_train);
    let mut test = Vec::with_capacity(n_test);
    for ((rows, &ntr), &nte) in members.iter_mut().zip(&n_i).zip(&t_i) {
        rows.shuffle(rng);
        train.extend(rows.iter().take(ntr));
        test.extend(rows.iter().skip(ntr).take(nte));
    }
    train.shuffle(rng);
    test.shuffle(rng);
    Ok(Split { train, test })
}

/// A shuffled train/test split of `data` with `test_fraction` of the rows (rounded up) in the
/// test part, as `sklearn.model_selection.train_test_split(test_size=test_fraction)`.
pub fn train_test_split(
    data: &DenseDataset,
    test_fraction: f64,
    random_state: u64,
) -> Result<(DatasetView<'_>, DatasetView<'_>)> {
    TrainTestSplit::new(SplitSize::Fraction(test_fraction))
        .random_state(random_state)
        .split(data)
}

/// A shuffled train/test split that keeps the class proportions of the targets in both parts,
/// as `train_test_split(test_size=test_fraction, stratify=y)`.
pub fn stratified_train_test_split(
    data: &DenseDataset,
    test_fraction: f64,
    random_state: u64,
) -> Result<(DatasetView<'_>, DatasetView<'_>)> {
    TrainTestSplit::new(SplitSize::Fraction(test_fraction))
        .stratify(true)
        .random_state(random_state)
        .split(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximate_mode_matches_sklearn_doc_examples() {
        let mut r = rng::from_seed(0);
        assert_eq!(approximate_mode(&[4, 2], 3, &mut r), vec![2, 1]);
        assert_eq!(approximate_mode(&[5, 2], 4, &mut r), vec![3, 1]);
        // [2, 2, 2, 1] with 2 draws: two of the three tied classes get one row.
        let m = approximate_mode(&[2, 2, 2, 1], 2, &mut r);
        assert_eq!(m.iter().sum::<usize>(), 2);
        assert_eq!(m[3], 0);
        assert!(m.iter().all(|&c| c <= 1));
    }

    #[test]
    fn from_test_complements() {
        let s = Split::from_test(5, vec![3, 1]);
        assert_eq!(s.train, vec![0, 2, 4]);
    }
}
