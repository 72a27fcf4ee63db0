//! The machinery of the discrete naive Bayes models (scikit-learn's `_BaseDiscreteNB`):
//! `alpha` / `force_alpha` ([`Alpha`]), class priors (`fit_prior`, `class_prior`), per-class
//! weighted sums of the features over fixed row blocks, the streaming learner
//! ([`DiscreteNbLearner`]) and the fitted model of the three linear ones
//! ([`DiscreteNbModel`]: multinomial, complement, Bernoulli), whose joint log-likelihood is
//! `x · coefᵀ + intercept`.

use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use serde::{Deserialize, Serialize};

use crate::common::linalg::ROW_BLOCK;
use crate::common::parallel::{first_block_where, map_fold_blocks};
use crate::common::simd::with_avx2;
use crate::error::{Error, Result};
use crate::models::kit::validate::{self, nan_probe};
use crate::models::linear::logistic::dot_row;
use crate::models::naive_bayes::posterior::{bad_value, check_finite_row, NaiveBayes};
use crate::traits::{Dataset, IncrementalLearner, Model, StreamSpec, Trainer};

/// scikit-learn's smallest `alpha` when `force_alpha` is false.
const ALPHA_LOWER_BOUND: f64 = 1e-10;

/// `alpha`, the additive (Laplace / Lidstone) smoothing: one value for every feature, or one
/// per feature. In JSON a number or an array of numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Alpha {
    /// The same smoothing for every feature.
    Scalar(f64),
    /// One smoothing value per feature.
    PerFeature(Vec<f64>),
}

impl Default for Alpha {
    fn default() -> Self {
        Alpha::Scalar(1.0)
    }
}

impl From<f64> for Alpha {
    fn from(a: f64) -> Self {
        Alpha::Scalar(a)
    }
}

impl From<Vec<f64>> for Alpha {
    fn from(a: Vec<f64>) -> Self {
        Alpha::PerFeature(a)
    }
}

impl Alpha {
    /// Checks every value is finite and `>= 0`.
    pub(crate) fn check(&self) -> Result<()> {
        let values: &[f64] = match self {
            Alpha::Scalar(a) => std::slice::from_ref(a),
            Alpha::PerFeature(v) => v,
        };
        if let Some(a) = values.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
            return Err(Error::param("alpha", a, "finite values >= 0"));
        }
        Ok(())
    }

    /// One value per feature of `p`, raised to `1e-10` when `force_alpha` is false (as
    /// scikit-learn's `_check_alpha`).
    pub(crate) fn per_feature(&self, p: usize, force_alpha: bool) -> Result<Vec<f64>> {
        self.check()?;
        let v = match self {
            Alpha::Scalar(a) => vec![*a; p],
            Alpha::PerFeature(v) if v.len() == p => v.clone(),
            Alpha::PerFeature(v) => {
                return Err(Error::param(
                    "alpha",
                    format!("an array of {} values", v.len()),
                    &format!("a number or one value per feature ({p})"),
                ))
            }
        };
        Ok(if force_alpha {
            v
        } else {
            v.into_iter().map(|a| a.max(ALPHA_LOWER_BOUND)).collect()
        })
    }
}

/// Checks a prior given per class: `k` finite values `>= 0`.
pub(crate) fn check_prior(name: &str, prior: Option<&[f64]>, k: usize) -> Result<()> {
    let Some(p) = prior else { return Ok(()) };
    if p.len() != k {
        return Err(Error::param(
            name,
            format!("{} values", p.len()),
            &format!("one value per class ({k})"),
        ));
    }
    if let Some(v) = p.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(Error::param(name, v, "finite values >= 0"));
    }
    Ok(())
}

/// scikit-learn's `_update_class_log_prior`: `log(class_prior)` when given, else the
/// empirical log frequencies (`fit_prior`), else uniform.
pub(crate) fn class_log_prior(
    class_count: &[f64],
    fit_prior: bool,
    class_prior: Option<&[f64]>,
) -> Vec<f64> {
    let k = class_count.len();
    match class_prior {
        Some(p) => p.iter().map(|v| v.ln()).collect(),
        None if fit_prior => {
            let total = class_count.iter().sum::<f64>().ln();
            class_count.iter().map(|c| c.ln() - total).collect()
        }
        None => vec![-(k as f64).ln(); k],
    }
}

/// One checked chunk of training rows: row-major finite features, class indices, weights.
pub(crate) struct Chunk<'a> {
    /// The features, row-major.
    pub x: CowArray<'a, f64, Ix2>,
    /// The class index of every row.
    pub y: Vec<u32>,
    /// The sample weight of every row, `None` when the data has none (every weight 1).
    w: Option<Vec<f64>>,
}

impl Chunk<'_> {
    /// The row-major feature values.
    pub fn flat(&self) -> &[f64] {
        self.x.as_slice().unwrap_or(&[])
    }

    /// The sample weight of row `i` (1 without weights).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        self.w
            .as_ref()
            .and_then(|w| w.get(i))
            .copied()
            .unwrap_or(1.0)
    }

    /// The sample weight of every row, in order.
    pub fn weights(&self) -> impl Iterator<Item = f64> + '_ {
        let w = self.w.as_deref();
        (0..self.y.len()).map(move |i| w.and_then(|w| w.get(i)).copied().unwrap_or(1.0))
    }
}

/// When [`read_chunk`] checks that the feature values are finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FiniteCheck {
    /// While reading the chunk (a pass of its own).
    OnRead,
    /// In the caller's first pass of sums over the chunk ([`class_and_total_sums`] with a
    /// [`ValueCheck`]), which probes every value as it adds it: one pass over the data
    /// instead of two, and the same errors.
    InSums,
}

/// Reads a chunk for a stream of `spec`: classes as given up front, `spec.n_features`
/// columns, finite values (`numeric`: no categorical feature kinds; checked here or in the
/// first pass of sums, as `finite` says), finite weights `>= 0`.
pub(crate) fn read_chunk<'a>(
    data: &'a dyn Dataset,
    context: &str,
    spec: &StreamSpec,
    numeric: bool,
    finite: FiniteCheck,
) -> Result<Chunk<'a>> {
    let (classes, y) = validate::class_targets(data, context)?;
    if classes != spec.classes {
        return Err(Error::InvalidArgument(format!(
            "{context}: the data's classes {classes:?} differ from the classes given up front {:?}",
            spec.classes
        )));
    }
    if numeric {
        validate::check_numeric_kinds(context, data.feature_kinds(), data.feature_names())?;
    }
    let x = data.features();
    let x = if x.is_standard_layout() {
        x
    } else {
        CowArray::from(x.as_standard_layout().into_owned())
    };
    validate::check_n_features(context, x.view(), spec.n_features)?;
    if finite == FiniteCheck::OnRead {
        validate::check_finite(context, x.view(), data.feature_names())?;
    }
    // Without weights, none are made up: every row weighs 1 ([`Chunk::weight`]).
    let w = match data.base_weights() {
        Some(_) => Some(crate::models::linear::prep::weights_or_ones(data, y.len())?),
        None => None,
    };
    let bad_weight = w.as_ref().and_then(|w| {
        let i = w.iter().position(|v| !(v.is_finite() && *v >= 0.0))?;
        Some((i, w[i]))
    });
    if let Some((i, wi)) = bad_weight {
        // A non-finite feature value is the error reported first, as when it is checked
        // on reading.
        validate::check_finite(context, x.view(), data.feature_names())?;
        return Err(Error::InvalidValue {
            context: format!("{context} sample weights"),
            row: i,
            column: None,
            message: format!("{wi} is not a finite weight >= 0"),
        });
    }
    Ok(Chunk { x, y, w })
}

/// Checks the classes of a stream: at least one, no duplicates.
pub(crate) fn check_spec(context: &str, spec: &StreamSpec) -> Result<()> {
    if spec.classes.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{context} needs at least one class"
        )));
    }
    Ok(())
}

/// Per-class sums of a chunk: the weight of each class and `Σ w·f(c, j, x_ij)` per class and
/// feature (`k × p`, row-major).
pub(crate) struct ClassSums {
    /// `Σ w` per class.
    pub weight: Vec<f64>,
    /// `Σ w·f(c, j, x)` per class and feature.
    pub sums: Vec<f64>,
}

/// The check of the feature values that a pass of [`class_and_total_sums`] makes as it
/// reads them (for a chunk read with [`FiniteCheck::InSums`]): every value finite and, for
/// counts, `>= 0`. A probe of each block costs no extra pass; only when it finds a bad value
/// is the chunk searched for the first one, with the errors of the separate checks (the
/// first non-finite value, else the first negative one).
pub(crate) struct ValueCheck<'d> {
    /// The data the chunk was read from (for the feature names).
    pub data: &'d dyn Dataset,
    /// The model's name, for the errors.
    pub context: &'d str,
    /// scikit-learn's class name when the values are counts (`>= 0`), for the error.
    pub counts_of: Option<&'d str>,
}

impl ValueCheck<'_> {
    /// The error for the first bad value of `chunk`, or `Ok` when there is none.
    fn locate(&self, chunk: &Chunk<'_>) -> Result<()> {
        validate::check_finite(self.context, chunk.x.view(), self.data.feature_names())?;
        match self.counts_of {
            Some(sklearn) => check_non_negative(chunk, self.data, self.context, sklearn),
            None => Ok(()),
        }
    }
}

/// Per-class weighted sums of `f(class, feature, value)` over the rows of `chunk`, computed
/// over fixed row blocks (in parallel) and added in block order: the same bits for any
/// number of threads. `check` checks the values in the same pass.
pub(crate) fn class_sums(
    chunk: &Chunk<'_>,
    k: usize,
    f: impl Fn(usize, usize, f64) -> f64 + Sync,
    check: Option<&ValueCheck<'_>>,
) -> Result<ClassSums> {
    Ok(class_and_total_sums(chunk, k, f, None::<fn(usize, f64) -> f64>, check)?.0)
}

/// [`class_sums`] and, in the same pass when `g` is given, the unweighted sums of
/// `g(feature, value)` over every row (as one class of unit weights: the weight is the row
/// count), with the bits each would have in a pass of its own; `check` checks the values in
/// the same pass.
pub(crate) fn class_and_total_sums(
    chunk: &Chunk<'_>,
    k: usize,
    f: impl Fn(usize, usize, f64) -> f64 + Sync,
    g: Option<impl Fn(usize, f64) -> f64 + Sync>,
    check: Option<&ValueCheck<'_>>,
) -> Result<(ClassSums, ClassSums)> {
    let p = chunk.x.ncols();
    let n = chunk.y.len();
    let flat = chunk.flat();
    let zero = |k: usize| ClassSums {
        weight: vec![0.0; k],
        sums: vec![0.0; k * p],
    };
    let t = usize::from(g.is_some());
    let (mut total, mut all) = (zero(k), zero(t));
    let mut bad = false;
    map_fold_blocks(
        n.div_ceil(ROW_BLOCK),
        |b| {
            let (mut part, mut rows) = (zero(k), zero(t));
            // Per feature: `Σ v·0` (NaN exactly when some `v` is not finite) and the count
            // of negative values, kept lane by lane so that the loop vectorizes (with no
            // conditional store).
            let (mut nan, mut neg) = (vec![0.0; p], vec![0.0; p]);
            with_avx2(
                #[inline(always)]
                || {
                    for i in b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n) {
                        let (c, wi) = (chunk.y[i] as usize, chunk.weight(i));
                        let row = flat.get(i * p..(i + 1) * p).unwrap_or(&[]);
                        if let (Some(cw), Some(dst)) = (
                            part.weight.get_mut(c),
                            part.sums.get_mut(c * p..(c + 1) * p),
                        ) {
                            *cw += wi;
                            let cells = dst.iter_mut().zip(row).zip(&mut nan).zip(&mut neg);
                            for (j, (((d, &v), z), m)) in cells.enumerate() {
                                *d += wi * f(c, j, v);
                                *z += v * 0.0;
                                *m += if v < 0.0 { 1.0 } else { 0.0 };
                            }
                        }
                        if let (Some(g), Some(rw)) = (&g, rows.weight.first_mut()) {
                            *rw += 1.0;
                            for (j, (d, &v)) in rows.sums.iter_mut().zip(row).enumerate() {
                                *d += 1.0 * g(j, v);
                            }
                        }
                    }
                },
            );
            let bad = nan.iter().sum::<f64>().is_nan() || neg.iter().any(|&m| m > 0.0);
            (part, rows, bad)
        },
        |_, (part, rows, b)| {
            bad |= b;
            for (sums, part) in [(&mut total, part), (&mut all, rows)] {
                for (t, v) in sums.weight.iter_mut().zip(&part.weight) {
                    *t += v;
                }
                for (t, v) in sums.sums.iter_mut().zip(&part.sums) {
                    *t += v;
                }
            }
            Ok(())
        },
    )?;
    if let Some(check) = check.filter(|_| bad) {
        check.locate(chunk)?;
    }
    Ok((total, all))
}

/// The error for a negative value at (`row`, `column`) of count data.
pub(crate) fn negative(context: &str, sklearn: &str, row: usize, column: String, v: f64) -> Error {
    bad_value(
        context,
        row,
        column,
        format!("negative value {v} in data passed to {sklearn} (input X): counts must be >= 0"),
    )
}

/// The first negative value of a chunk, as an error naming its row and column.
pub(crate) fn check_non_negative(
    chunk: &Chunk<'_>,
    data: &dyn Dataset,
    context: &str,
    sklearn: &str,
) -> Result<()> {
    let p = chunk.x.ncols().max(1);
    let flat = chunk.flat();
    // Blocks probed in parallel by a count that vectorizes; the first bad block is searched.
    let block = ROW_BLOCK * p;
    let bad = first_block_where(flat.len().div_ceil(block), |b| {
        let part = flat.get(b * block..).unwrap_or(&[]);
        let part = part.get(..block.min(part.len())).unwrap_or(&[]);
        part.iter().map(|&v| usize::from(v < 0.0)).sum::<usize>() > 0
    });
    let found = bad.and_then(|b| {
        let from = b * block;
        flat.get(from..)?
            .iter()
            .position(|&v| v < 0.0)
            .map(|at| from + at)
    });
    match found {
        Some(at) => Err(negative(
            context,
            sklearn,
            at / p,
            validate::feature_name(data.feature_names(), at % p),
            chunk.flat()[at],
        )),
        None => Ok(()),
    }
}

/// Which discrete model a [`DiscreteNbModel`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscreteKind {
    /// `multinomial_nb`.
    Multinomial,
    /// `complement_nb`.
    Complement,
    /// `bernoulli_nb`.
    Bernoulli,
}

impl DiscreteKind {
    /// The config `type` name.
    pub fn type_name(self) -> &'static str {
        match self {
            DiscreteKind::Multinomial => "multinomial_nb",
            DiscreteKind::Complement => "complement_nb",
            DiscreteKind::Bernoulli => "bernoulli_nb",
        }
    }
}

/// The settings every discrete naive Bayes trainer has.
pub struct Common<'a> {
    /// `alpha`.
    pub alpha: &'a Alpha,
    /// `force_alpha`.
    pub force_alpha: bool,
    /// `fit_prior`.
    pub fit_prior: bool,
    /// `class_prior`.
    pub class_prior: Option<&'a [f64]>,
}

/// What a trainer adds to the shared discrete machinery: its settings, how its input is
/// counted, and its log probabilities from the counts.
pub trait DiscreteNb: Trainer + Clone + std::fmt::Debug + PartialEq + Send + Sync {
    /// The model kind.
    const KIND: DiscreteKind;
    /// scikit-learn's class name (for messages).
    const SKLEARN: &'static str;

    /// The shared settings.
    fn common(&self) -> Common<'_>;

    /// The binarization threshold (Bernoulli), `None` for counts taken as they are.
    fn binarize(&self) -> Option<f64> {
        None
    }

    /// Whether input values must be `>= 0` (counts).
    fn counts_only(&self) -> bool {
        true
    }

    /// `feature_log_prob_` (`k × p`), and the joint log-likelihood's `coef` (`k × p`) and
    /// `intercept` (`k`) from the counts, the per-feature `alpha` and the class log prior.
    fn log_probs(&self, counts: &Counts, alpha: &[f64], log_prior: &[f64]) -> LogProbs;

    /// Checks the settings (before any data is read).
    fn check_settings(&self, n_classes: usize) -> Result<()> {
        let c = self.common();
        c.alpha.check()?;
        check_prior("class_prior", c.class_prior, n_classes)?;
        if let Some(t) = self.binarize() {
            if !(t.is_finite() && t >= 0.0) {
                return Err(Error::param("binarize", t, "null or a finite value >= 0"));
            }
        }
        Ok(())
    }
}

/// The counts of a discrete model: class weights and per-class feature sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// `class_count_`: the weight of each class.
    pub class_count: Vec<f64>,
    /// `feature_count_`: per class and feature, the weighted sum of the (binarized) values,
    /// `k × p` row-major.
    pub feature_count: Vec<f64>,
    /// The number of features.
    pub n_features: usize,
}

/// What [`DiscreteNb::log_probs`] gives (each `k × p` row-major, or `k`).
pub struct LogProbs {
    /// `feature_log_prob_`.
    pub feature_log_prob: Vec<f64>,
    /// The joint log-likelihood's weights.
    pub coef: Vec<f64>,
    /// The joint log-likelihood's constant per class.
    pub intercept: Vec<f64>,
}

/// A discrete naive Bayes model under streaming training: the counts so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscreteNbLearner<T> {
    params: T,
    classes: Vec<String>,
    counts: Counts,
}

impl<T: DiscreteNb<Model = DiscreteNbModel>> DiscreteNbLearner<T> {
    /// A learner for the stream `spec` describes.
    pub(crate) fn new(params: T, spec: &StreamSpec) -> Result<Self> {
        check_spec(T::NAME, spec)?;
        params.check_settings(spec.classes.len())?;
        let (k, p) = (spec.classes.len(), spec.n_features);
        params.common().alpha.per_feature(p, true)?;
        Ok(Self {
            params,
            classes: spec.classes.clone(),
            counts: Counts {
                class_count: vec![0.0; k],
                feature_count: vec![0.0; k * p],
                n_features: p,
            },
        })
    }

    /// Adds a chunk's counts.
    pub fn partial_fit(&mut self, data: &dyn Dataset) -> Result<()> {
        let spec = StreamSpec {
            n_features: self.counts.n_features,
            classes: self.classes.clone(),
        };
        let chunk = read_chunk(data, T::NAME, &spec, true, FiniteCheck::InSums)?;
        let check = ValueCheck {
            data,
            context: T::NAME,
            counts_of: self.params.counts_only().then_some(T::SKLEARN),
        };
        let k = self.classes.len();
        let sums = match self.params.binarize() {
            Some(t) => class_sums(
                &chunk,
                k,
                |_, _, v| f64::from(u8::from(v > t)),
                Some(&check),
            )?,
            None => class_sums(&chunk, k, |_, _, v| v, Some(&check))?,
        };
        for (t, v) in self.counts.class_count.iter_mut().zip(&sums.weight) {
            *t += v;
        }
        for (t, v) in self.counts.feature_count.iter_mut().zip(&sums.sums) {
            *t += v;
        }
        Ok(())
    }

    /// The model learned so far.
    pub fn model(&self) -> Result<DiscreteNbModel> {
        let c = self.params.common();
        let alpha = c.alpha.per_feature(self.counts.n_features, c.force_alpha)?;
        let log_prior = class_log_prior(&self.counts.class_count, c.fit_prior, c.class_prior);
        let lp = self.params.log_probs(&self.counts, &alpha, &log_prior);
        Ok(DiscreteNbModel {
            kind: T::KIND,
            classes: self.classes.clone(),
            counts: self.counts.clone(),
            class_log_prior: log_prior,
            feature_log_prob: lp.feature_log_prob,
            coef: lp.coef,
            intercept: lp.intercept,
            binarize: self.params.binarize(),
        })
    }
}

impl<T: DiscreteNb<Model = DiscreteNbModel>> IncrementalLearner for DiscreteNbLearner<T> {
    type Model = DiscreteNbModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        DiscreteNbLearner::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<DiscreteNbModel> {
        DiscreteNbLearner::model(self)
    }
}

/// The stream of a whole dataset: its columns and classes.
pub(crate) fn spec_of(data: &dyn Dataset, context: &str) -> Result<StreamSpec> {
    let (classes, _) = validate::class_targets(data, context)?;
    Ok(StreamSpec {
        n_features: data.n_features(),
        classes,
    })
}

/// A fitted multinomial, complement or Bernoulli naive Bayes model: scikit-learn's fitted
/// attributes, and the joint log-likelihood `x · coefᵀ + intercept` (with `x` binarized first
/// when `binarize` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscreteNbModel {
    /// Which model.
    pub kind: DiscreteKind,
    /// Class labels.
    pub classes: Vec<String>,
    /// `class_count_` and `feature_count_`.
    pub counts: Counts,
    /// `class_log_prior_` (`-inf` for a class without weight under `fit_prior`).
    #[serde(with = "crate::common::json_float::vec")]
    pub class_log_prior: Vec<f64>,
    /// `feature_log_prob_`, `k × p` row-major.
    #[serde(with = "crate::common::json_float::vec")]
    pub feature_log_prob: Vec<f64>,
    /// The joint log-likelihood's weights, `k × p` row-major.
    #[serde(with = "crate::common::json_float::vec")]
    pub coef: Vec<f64>,
    /// The joint log-likelihood's constant per class.
    #[serde(with = "crate::common::json_float::vec")]
    pub intercept: Vec<f64>,
    /// The binarization threshold of a Bernoulli model.
    #[serde(with = "crate::common::json_float::option")]
    pub binarize: Option<f64>,
}

impl DiscreteNbModel {
    /// `feature_log_prob_` as a `k × p` matrix.
    pub fn feature_log_prob(&self) -> Result<ArrayView2<'_, f64>> {
        ArrayView2::from_shape(
            (self.classes.len(), self.counts.n_features),
            &self.feature_log_prob,
        )
        .map_err(|e| Error::shape(self.kind.type_name(), "k x p", e))
    }

    /// `feature_count_` as a `k × p` matrix.
    pub fn feature_count(&self) -> Result<Array2<f64>> {
        Array2::from_shape_vec(
            (self.classes.len(), self.counts.n_features),
            self.counts.feature_count.clone(),
        )
        .map_err(|e| Error::shape(self.kind.type_name(), "k x p", e))
    }
}

impl Model for DiscreteNbModel {
    fn n_features(&self) -> usize {
        self.counts.n_features
    }

    fn validate(&self) -> Result<()> {
        let name = self.kind.type_name();
        let k = self.classes.len();
        let kp = k.checked_mul(self.counts.n_features);
        let ok = k >= 1
            && self.counts.class_count.len() == k
            && self.class_log_prior.len() == k
            && self.intercept.len() == k
            && kp == Some(self.counts.feature_count.len())
            && kp == Some(self.feature_log_prob.len())
            && kp == Some(self.coef.len());
        if !ok {
            return Err(Error::ModelCorrupt(format!(
                "{name}: the fitted arrays do not match {k} classes and {} features",
                self.counts.n_features
            )));
        }
        let allowed = self.kind == DiscreteKind::Bernoulli || self.binarize.is_none();
        if !allowed || self.binarize.is_some_and(|t| !t.is_finite()) {
            return Err(Error::ModelCorrupt(format!(
                "{name}: binarization threshold {:?} for this model",
                self.binarize
            )));
        }
        Ok(())
    }
}

impl NaiveBayes for DiscreteNbModel {
    fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    fn class_labels(&self) -> &[String] {
        &self.classes
    }

    fn joint_log_likelihood_row(&self, row: &[f64], index: usize, out: &mut [f64]) -> Result<()> {
        self.joint_log_likelihood_rows(row, index, out)
    }

    fn joint_log_likelihood_rows(&self, rows: &[f64], first: usize, out: &mut [f64]) -> Result<()> {
        let p = self.counts.n_features;
        let suspect = linear_jll_rows(rows, p, &self.coef, &self.intercept, self.binarize, out);
        // The rows are searched for the first bad value only when the kernel suspects one.
        if suspect {
            for (i, row) in rows.chunks(p.max(1)).enumerate() {
                check_finite_row(self.kind.type_name(), row, first + i)?;
            }
        }
        Ok(())
    }
}

/// Rows that the AVX2 kernel of [`linear_jll_rows`] computes side by side: independent sums
/// that hide the latency of the additions, each row's bits unchanged.
#[cfg(target_arch = "x86_64")]
const GROUP: usize = 4;

/// The joint log-likelihoods of a block of rows (`rows`: whole rows of `p` values; `out`:
/// `intercept.len()` values per row), `out[c] = x · coef_c + intercept_c` with `x` binarized at
/// `t` first when `binarize` is set ([`masked_sum`], else [`dot_row`], with their bits), in one
/// kernel: AVX2 when the CPU has it. Returns whether some row may hold a value that is not
/// finite (the caller then searches the rows): always when one does.
fn linear_jll_rows(
    rows: &[f64],
    p: usize,
    coef: &[f64],
    intercept: &[f64],
    binarize: Option<f64>,
    out: &mut [f64],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { linear_jll_rows_avx2(rows, p, coef, intercept, binarize, out) };
        }
    }
    let (p, k) = (p.max(1), intercept.len().max(1));
    let mut suspect = false;
    for (row, out) in rows.chunks_exact(p).zip(out.chunks_exact_mut(k)) {
        for ((o, w), b) in out.iter_mut().zip(coef.chunks_exact(p)).zip(intercept) {
            let dot = match binarize {
                Some(t) => masked_sum(row, t, w),
                None => dot_row(row, w),
            };
            *o = dot + b;
        }
        // `Σ x·0` is NaN exactly when some value is not finite.
        suspect |= nan_probe(row).is_nan();
    }
    suspect
}

/// [`linear_jll_rows`] in AVX2 registers, [`GROUP`] rows at a time (the rest one by one).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn linear_jll_rows_avx2(
    rows: &[f64],
    p: usize,
    coef: &[f64],
    intercept: &[f64],
    binarize: Option<f64>,
    out: &mut [f64],
) -> bool {
    let (pp, k) = (p.max(1), intercept.len().max(1));
    let mut groups = rows.chunks_exact(GROUP * pp);
    let mut outs = out.chunks_exact_mut(GROUP * k);
    let mut suspect = false;
    for (g, o) in (&mut groups).zip(&mut outs) {
        // SAFETY (of each call): the CPU has AVX2 (this function's own requirement).
        suspect |= unsafe {
            match binarize {
                Some(t) => jll_group_avx2::<GROUP, true>(g, p, coef, intercept, t, o),
                None => jll_group_avx2::<GROUP, false>(g, p, coef, intercept, 0.0, o),
            }
        };
    }
    let rest = groups.remainder().chunks_exact(pp);
    for (row, o) in rest.zip(outs.into_remainder().chunks_exact_mut(k)) {
        // SAFETY: as above.
        suspect |= unsafe {
            match binarize {
                Some(t) => jll_group_avx2::<1, true>(row, p, coef, intercept, t, o),
                None => jll_group_avx2::<1, false>(row, p, coef, intercept, 0.0, o),
            }
        };
    }
    suspect
}

/// The joint log-likelihoods of the `R` rows of `p` values in `rows` into `out` (`R × k`, row
/// by row), with `x` binarized at `t` first when `MASK`. Each class's four lanes of each row
/// are those of [`dot_row`] (and [`masked_sum`]), summed in the same order,
/// `(l₀ + l₁) + (l₂ + l₃)`, then the tail in order, then the intercept; no multiply-add is
/// fused, so the bits are those of the portable path.
///
/// Returns whether a row may hold a non-finite value: without binarization, when none of
/// its sums `x · coef_c` is finite (a non-finite `x_j` makes every one of them non-finite);
/// with it (`x > t` drops NaN), when its probe `Σ x·0` is NaN.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn jll_group_avx2<const R: usize, const MASK: bool>(
    rows: &[f64],
    p: usize,
    coef: &[f64],
    intercept: &[f64],
    t: f64,
    out: &mut [f64],
) -> bool {
    use std::arch::x86_64::*;
    let k = intercept.len();
    if rows.len() != R * p || coef.len() < k * p || out.len() < R * k {
        return true;
    }
    let full = p - p % 4;
    let zero = _mm256_setzero_pd();
    let threshold = _mm256_set1_pd(t);
    // SAFETY (of every `load(i)` below): `i + 4 <= (q + 1) · p` for row `q < R` (the
    // loads start at `q · p + j` with `j + 4 <= full <= p`), within `rows` (`R · p`
    // values, checked above).
    let load = |i: usize| unsafe { _mm256_loadu_pd(rows.as_ptr().add(i)) };
    let lanes = |v: __m256d| {
        let mut l = [0.0f64; 4];
        // SAFETY: `l` holds 4 values.
        unsafe { _mm256_storeu_pd(l.as_mut_ptr(), v) };
        l
    };
    // Row after row, in memory order (which the hardware prefetcher follows best); the
    // rows' sums are independent, so the core overlaps them all the same.
    let mut finite = [false; R];
    if MASK {
        let mut probe = [zero; R];
        for (q, pr) in probe.iter_mut().enumerate() {
            for j in (0..full).step_by(4) {
                *pr = _mm256_add_pd(*pr, _mm256_mul_pd(load(q * p + j), zero));
            }
        }
        for (q, (f, pr)) in finite.iter_mut().zip(probe).enumerate() {
            let tail = rows.get(q * p + full..(q + 1) * p).unwrap_or(&[]);
            *f = !(lanes(pr).iter().sum::<f64>() + nan_probe(tail)).is_nan();
        }
    }
    for (c, (w, b)) in coef.chunks_exact(p.max(1)).zip(intercept).enumerate() {
        let mut acc = [zero; R];
        for (q, a) in acc.iter_mut().enumerate() {
            for j in (0..full).step_by(4) {
                // SAFETY: `j + 4 <= full <= p`, the length of `w`.
                let wv = unsafe { _mm256_loadu_pd(w.as_ptr().add(j)) };
                let v = load(q * p + j);
                let term = if MASK {
                    // `w` where `v > t`, else +0 (as `masked_sum`'s pick).
                    _mm256_and_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(v, threshold), wv)
                } else {
                    _mm256_mul_pd(v, wv)
                };
                *a = _mm256_add_pd(*a, term);
            }
        }
        for (q, a) in acc.into_iter().enumerate() {
            let l = lanes(a);
            let tail = rows.get(q * p + full..(q + 1) * p).unwrap_or(&[]);
            let mut rest = 0.0;
            for (&v, &w) in tail.iter().zip(w.get(full..).unwrap_or(&[])) {
                rest += if !MASK {
                    v * w
                } else if v > t {
                    w
                } else {
                    0.0
                };
            }
            let dot = (l[0] + l[1]) + (l[2] + l[3]) + rest;
            if !MASK {
                finite[q] |= dot.is_finite();
            }
            if let Some(o) = out.get_mut(q * k + c) {
                *o = dot + b;
            }
        }
    }
    finite.iter().any(|f| !f)
}

/// `Σ_j [x_j > t] · w_j` in four independent lanes.
#[inline]
fn masked_sum(x: &[f64], t: f64, w: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let cx = x.chunks_exact(4);
    let cw = w.chunks_exact(4);
    let (rx, rw) = (cx.remainder(), cw.remainder());
    let pick = |v: f64, w: f64| if v > t { w } else { 0.0 };
    for (a, b) in cx.zip(cw) {
        acc[0] += pick(a[0], b[0]);
        acc[1] += pick(a[1], b[1]);
        acc[2] += pick(a[2], b[2]);
        acc[3] += pick(a[3], b[3]);
    }
    let tail: f64 = rx.iter().zip(rw).map(|(&a, &b)| pick(a, b)).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

crate::models::naive_bayes::posterior::naive_bayes_outputs!(DiscreteNbModel);

/// Defines a discrete naive Bayes trainer: the shared settings (`alpha`, `force_alpha`,
/// `fit_prior`, `class_prior`, scikit-learn's defaults) and the model's own, its setters, and
/// its `Trainer` / `Incremental` impls through [`DiscreteNbLearner`].
macro_rules! discrete_nb {
    (
        $(#[$meta:meta])*
        $name:ident = $type_name:literal {
            $($(#[$fmeta:meta])* $field:ident: $ty:ty = $default:expr,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Additive smoothing (a number, or one per feature), `>= 0`.
            pub alpha: $crate::models::naive_bayes::Alpha,
            /// Keep `alpha` as given; when false, values below `1e-10` become `1e-10`.
            pub force_alpha: bool,
            /// Learn the class priors from the data (otherwise uniform).
            pub fit_prior: bool,
            /// Prior probability of each class (overrides `fit_prior`).
            pub class_prior: Option<Vec<f64>>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    alpha: $crate::models::naive_bayes::Alpha::Scalar(1.0),
                    force_alpha: true,
                    fit_prior: true,
                    class_prior: None,
                    $($field: $default,)*
                }
            }
        }

        $crate::models::kit::setters!($name {
            /// Sets `alpha` (a number, or a `Vec` of one value per feature).
            alpha: $crate::models::naive_bayes::Alpha,
            force_alpha: bool,
            fit_prior: bool,
            class_prior: Vec<f64> => Some,
            $($field: $ty,)*
        });

        impl $crate::traits::Trainer for $name {
            const NAME: &'static str = $type_name;
            type Model = $crate::models::naive_bayes::discrete::DiscreteNbModel;

            fn fit_with(
                &self,
                data: &dyn $crate::traits::Dataset,
                ctx: &$crate::traits::FitContext<'_>,
            ) -> $crate::error::Result<Self::Model> {
                use $crate::traits::Incremental;
                let spec = $crate::models::naive_bayes::discrete::spec_of(data, Self::NAME)?;
                let mut learner = self.start(&spec, ctx)?;
                ctx.install(|| learner.partial_fit(data))??;
                learner.model()
            }
        }

        impl $crate::traits::Incremental for $name {
            type Learner = $crate::models::naive_bayes::discrete::DiscreteNbLearner<$name>;

            fn start(
                &self,
                spec: &$crate::traits::StreamSpec,
                _ctx: &$crate::traits::FitContext<'_>,
            ) -> $crate::error::Result<Self::Learner> {
                $crate::models::naive_bayes::discrete::DiscreteNbLearner::new(self.clone(), spec)
            }
        }
    };
}
pub(crate) use discrete_nb;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_rules_follow_scikit_learn() {
        assert_eq!(
            Alpha::Scalar(0.0).per_feature(2, true).unwrap(),
            vec![0.0, 0.0]
        );
        assert_eq!(
            Alpha::Scalar(0.0).per_feature(2, false).unwrap(),
            vec![1e-10, 1e-10]
        );
        assert!(Alpha::PerFeature(vec![1.0]).per_feature(2, true).is_err());
        assert!(Alpha::Scalar(-1.0).check().is_err());
        assert!(Alpha::Scalar(f64::NAN).check().is_err());
        let a: Alpha = serde_json::from_str("[0.5, 2]").unwrap();
        assert_eq!(a, Alpha::PerFeature(vec![0.5, 2.0]));
        let l = class_log_prior(&[1.0, 3.0], true, None);
        assert!((l[0] - 0.25f64.ln()).abs() < 1e-15);
        assert_eq!(
            class_log_prior(&[1.0, 3.0], false, None),
            vec![-(2f64.ln()); 2]
        );
        assert!(check_prior("class_prior", Some(&[0.5]), 2).is_err());
        assert!(check_prior("class_prior", Some(&[0.5, -0.1]), 2).is_err());
    }
}
