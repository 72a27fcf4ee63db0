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
use crate::error::{Error, Result};
use crate::models::kit::validate;
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
    pub y: Vec<usize>,
    /// The sample weight of every row (1 without weights).
    pub w: Vec<f64>,
}

impl Chunk<'_> {
    /// The row-major feature values.
    pub fn flat(&self) -> &[f64] {
        self.x.as_slice().unwrap_or(&[])
    }
}

/// Reads a chunk for a stream of `spec`: classes as given up front, `spec.n_features`
/// columns, finite values (`numeric`: no categorical feature kinds), finite weights `>= 0`.
pub(crate) fn read_chunk<'a>(
    data: &'a dyn Dataset,
    context: &str,
    spec: &StreamSpec,
    numeric: bool,
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
    validate::check_finite(context, x.view(), data.feature_names())?;
    let w = crate::models::linear::prep::weights_or_ones(data, y.len())?;
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::InvalidValue {
            context: format!("{context} sample weights"),
            row: i,
            column: None,
            message: format!("{} is not a finite weight >= 0", w[i]),
        });
    }
    Ok(Chunk {
        x,
        y: y.into_iter().map(|c| c as usize).collect(),
        w,
    })
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

/// Per-class weighted sums of `f(class, feature, value)` over the rows of `chunk`, computed
/// over fixed row blocks (in parallel) and added in block order: the same bits for any
/// number of threads.
pub(crate) fn class_sums(
    chunk: &Chunk<'_>,
    k: usize,
    f: impl Fn(usize, usize, f64) -> f64 + Sync,
) -> Result<ClassSums> {
    Ok(class_and_total_sums(chunk, k, f, None::<fn(usize, f64) -> f64>)?.0)
}

/// [`class_sums`] and, in the same pass when `g` is given, the unweighted sums of
/// `g(feature, value)` over every row (as one class of unit weights: the weight is the row
/// count), with the bits each would have in a pass of its own.
pub(crate) fn class_and_total_sums(
    chunk: &Chunk<'_>,
    k: usize,
    f: impl Fn(usize, usize, f64) -> f64 + Sync,
    g: Option<impl Fn(usize, f64) -> f64 + Sync>,
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
    map_fold_blocks(
        n.div_ceil(ROW_BLOCK),
        |b| {
            let (mut part, mut rows) = (zero(k), zero(t));
            for i in b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n) {
                let (c, wi) = (chunk.y[i], chunk.w[i]);
                let row = flat.get(i * p..(i + 1) * p).unwrap_or(&[]);
                if let (Some(cw), Some(dst)) = (
                    part.weight.get_mut(c),
                    part.sums.get_mut(c * p..(c + 1) * p),
                ) {
                    *cw += wi;
                    for (j, (d, &v)) in dst.iter_mut().zip(row).enumerate() {
                        *d += wi * f(c, j, v);
                    }
                }
                if let (Some(g), Some(rw)) = (&g, rows.weight.first_mut()) {
                    *rw += 1.0;
                    for (j, (d, &v)) in rows.sums.iter_mut().zip(row).enumerate() {
                        *d += 1.0 * g(j, v);
                    }
                }
            }
            (part, rows)
        },
        |_, (part, rows)| {
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
        let chunk = read_chunk(data, T::NAME, &spec, true)?;
        if self.params.counts_only() {
            check_non_negative(&chunk, data, T::NAME, T::SKLEARN)?;
        }
        let sums = match self.params.binarize() {
            Some(t) => class_sums(&chunk, self.classes.len(), |_, _, v| {
                f64::from(u8::from(v > t))
            })?,
            None => class_sums(&chunk, self.classes.len(), |_, _, v| v)?,
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
        check_finite_row(self.kind.type_name(), row, index)?;
        let p = row.len().max(1);
        for ((o, w), b) in out
            .iter_mut()
            .zip(self.coef.chunks_exact(p))
            .zip(&self.intercept)
        {
            let dot = match self.binarize {
                Some(t) => masked_sum(row, t, w),
                None => dot_row(row, w),
            };
            *o = dot + b;
        }
        Ok(())
    }
}

/// `Σ_j [x_j > t] · w_j` in four independent lanes.
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
