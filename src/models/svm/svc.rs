//! `svc` and `nu_svc`: scikit-learn's `SVC` and `NuSVC` (libsvm's C-SVC and nu-SVC), one
//! binary problem per pair of classes (one-vs-one), each solved by the SMO solver over a
//! cached kernel.
//!
//! The classes are grouped in label order and each pair `(i, j)`, `i < j`, is a binary problem
//! with class `i` positive, exactly as scikit-learn's libsvm: the support vectors are listed
//! by class, in training-row order within a class; `dual_coef` row `j − 1` holds the
//! coefficients of class `i`'s vectors in the problem `(i, j)` and row `i` those of class
//! `j`'s; the decision value of a pair is `Σ coef · K(sv, x) + intercept`. For two classes
//! scikit-learn negates the coefficients and intercept so that a positive decision means
//! class 1; so does this model.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::svm::{KernelType, Svc};
//! use amlis::traits::{Predictor, ScorePredictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0, 0.0], [0.2, 0.1], [1.0, 1.1], [0.9, 1.0], [2.0, 0.1], [2.1, 0.0]];
//! let y = array![0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
//! let data = DenseDataset::classification(x, y)?;
//! let model = Svc::default().c(10.0).kernel(KernelType::Rbf).tol(1e-6).fit(&data)?;
//! assert_eq!(model.predict(array![[0.1, 0.0], [2.0, 0.0]].view())?.to_vec(), vec![0.0, 2.0]);
//! // decision_function_shape "ovr" (the default): one column per class.
//! assert_eq!(model.decision_function(array![[1.0, 1.0]].view())?.dim(), (1, 3));
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::formulation::{self, Fit, Formulation};
use super::kernel::{Gamma, KernelSettings, KernelType, SupportVectors};
use super::kernel_cache::TrainRows;
use super::libsvm::{prepare, report_max_iter, Common, DEFAULT_KERNEL};
use super::mt19937;
use super::platt;
use super::probability::{self, Costs, PairRows};
use super::problem::Monitor;
use crate::error::{Error, Result};
use crate::models::kit::{class_weight, context, setters, ClassWeight};
use crate::models::linear::logistic::class_targets;
use crate::traits::{
    Dataset, FitContext, Model, Outputs, Predictor, ProbabilisticPredictor, ScorePredictor, Trainer,
};

/// The shape of a multiclass decision function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionShape {
    /// One column per class: votes plus scaled confidences (scikit-learn's default).
    #[default]
    Ovr,
    /// One column per pair of classes, `(0,1), (0,2), …, (k−2,k−1)`.
    Ovo,
}

/// Classes up to which the single-row paths count votes on the stack (beyond, one buffer is
/// allocated per call).
const STACK_CLASSES: usize = 64;

macro_rules! kernel_classifier {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, $(#[$pdoc:meta])* $param:ident: $pname:literal = $pdefault:expr, $check:expr, $expected:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(#[$pdoc])*
            #[serde(rename = $pname)]
            pub $param: f64,
            /// The kernel (`rbf` by default).
            pub kernel: KernelType,
            /// Degree of the `poly` kernel (>= 0).
            pub degree: i64,
            /// `"scale"` (default), `"auto"` or a value >= 0.
            pub gamma: Gamma,
            /// Constant of the `poly` and `sigmoid` kernels.
            pub coef0: f64,
            /// Whether to use libsvm's shrinking heuristic.
            pub shrinking: bool,
            /// Probability estimates (libsvm's Platt scaling, fitted on an internal 5-fold
            /// cross-validation of each pair of classes; deprecated in scikit-learn 1.9 but
            /// still computed as libsvm does). `predict` keeps using the decision function,
            /// so `argmax(predict_proba)` may differ from `predict`, as in scikit-learn.
            pub probability: bool,
            /// Stopping tolerance of the solver (> 0).
            pub tol: f64,
            /// Size of the kernel cache in MB (> 0).
            pub cache_size: f64,
            /// Class weights: none, `"balanced"` (from class counts) or a map from label to
            /// weight; they scale `C` per class (nu-SVC, as libsvm, ignores them).
            #[serde(deserialize_with = "class_weight::deserialize_without_subsample")]
            pub class_weight: Option<ClassWeight>,
            /// Cap on solver iterations per pair of classes (-1: none).
            pub max_iter: i64,
            /// `ovr` (default) or `ovo`.
            pub decision_function_shape: DecisionShape,
            /// With `ovr` and more than two classes, predict the argmax of the decision
            /// function instead of the vote.
            pub break_ties: bool,
            /// Seed of the shuffles of `probability=true`'s cross-validation, in
            /// `[0, 2^32 - 1]`: the same value as scikit-learn's `random_state` gives the same
            /// folds (libsvm's seed is `RandomState(random_state).randint(2**31 - 1)`).
            /// `None`: the fit context's seed (folded to 32 bits).
            pub random_state: Option<u64>,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $param: $pdefault,
                    kernel: DEFAULT_KERNEL.kernel,
                    degree: DEFAULT_KERNEL.degree,
                    gamma: DEFAULT_KERNEL.gamma,
                    coef0: DEFAULT_KERNEL.coef0,
                    shrinking: true,
                    probability: false,
                    tol: 1e-3,
                    cache_size: 200.0,
                    class_weight: None,
                    max_iter: -1,
                    decision_function_shape: DecisionShape::Ovr,
                    break_ties: false,
                    random_state: None,
                }
            }
        }

        setters!($name {
            $param: f64,
            kernel: KernelType,
            degree: i64,
            gamma: Gamma,
            coef0: f64,
            shrinking: bool,
            probability: bool,
            tol: f64,
            cache_size: f64,
            class_weight: ClassWeight => Some,
            max_iter: i64,
            decision_function_shape: DecisionShape,
            break_ties: bool,
            random_state: u64 => Some,
        });

        impl $name {
            fn settings(&self) -> Settings {
                Settings {
                    common: Common {
                        kernel: KernelSettings {
                            kernel: self.kernel,
                            degree: self.degree,
                            gamma: self.gamma,
                            coef0: self.coef0,
                        },
                        tol: self.tol,
                        shrinking: self.shrinking,
                        cache_size: self.cache_size,
                        max_iter: self.max_iter,
                    },
                    probability: self.probability,
                    class_weight: self.class_weight.clone(),
                    shape: self.decision_function_shape,
                    break_ties: self.break_ties,
                    random_state: self.random_state,
                }
            }
        }

        impl Trainer for $name {
            const NAME: &'static str = $type_name;
            type Model = SvcModel;

            fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<SvcModel> {
                let v = self.$param;
                #[allow(clippy::redundant_closure_call)]
                if !($check)(v) {
                    return Err(Error::param($pname, v, $expected));
                }
                fit(&self.settings(), Cost::$name(v), data, ctx, $type_name)
            }
        }
    };
}

kernel_classifier!(
    /// `svc` hyperparameters (scikit-learn's `SVC`: C-SVC).
    Svc, "svc",
    /// Cost of the hinge loss (> 0).
    c: "C" = 1.0, |v: f64| v.is_finite() && v > 0.0, "a finite value > 0"
);

kernel_classifier!(
    /// `nu_svc` hyperparameters (scikit-learn's `NuSVC`: nu-SVC).
    NuSvc, "nu_svc",
    /// Upper bound on the fraction of margin errors, lower bound on the fraction of support
    /// vectors (in `(0, 1]`).
    nu: "nu" = 0.5, |v: f64| v > 0.0 && v <= 1.0, "a value in (0, 1]"
);

/// The settings both classifiers share.
struct Settings {
    common: Common,
    probability: bool,
    class_weight: Option<ClassWeight>,
    shape: DecisionShape,
    break_ties: bool,
    random_state: Option<u64>,
}

/// The formulation's parameter.
#[derive(Clone, Copy)]
enum Cost {
    Svc(f64),
    NuSvc(f64),
}

fn fit(
    s: &Settings,
    cost: Cost,
    data: &dyn Dataset,
    ctx: &FitContext<'_>,
    name: &str,
) -> Result<SvcModel> {
    let run = s.common.run()?;
    class_weight::reject_subsample(s.class_weight.as_ref())?;
    // libsvm's seed, checked before any work (scikit-learn draws it on every fit).
    let seed = match s.random_state {
        Some(r) => mt19937::libsvm_seed(r)?,
        None => {
            let c = ctx.seed();
            mt19937::libsvm_seed((c ^ (c >> 32)) & u64::from(u32::MAX))?
        }
    };
    if s.break_ties && s.shape == DecisionShape::Ovo {
        return Err(Error::param(
            "break_ties",
            true,
            "false when decision_function_shape is \"ovo\" (scikit-learn's rule)",
        ));
    }
    let (y, classes) = class_targets(data, name)?;
    let prepared = prepare(data, &s.common.kernel, name)?;
    let k = classes.len();
    // scikit-learn's SVC counts rows, not sample weights, in "balanced".
    let per_class = class_weight::class_weights(
        s.class_weight.as_ref(),
        &classes,
        y.iter().map(|&c| (c, 1.0)),
    )?;
    // libsvm's remove_zero_weight, then rows grouped by class in row order.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, (&c, &w)) in y.iter().zip(&prepared.sw).enumerate() {
        if w > 0.0 {
            if let Some(g) = groups.get_mut(c) {
                g.push(i);
            }
        }
    }
    if k < 2 {
        return Err(Error::InvalidArgument(format!(
            "{name} needs at least two classes, got {k}"
        )));
    }
    if let Some(c) = groups.iter().position(Vec::is_empty) {
        return Err(Error::InvalidArgument(format!(
            "{name}: class {:?} has no training row of positive weight",
            classes[c]
        )));
    }
    let p = prepared.x.ncols();
    let rows = TrainRows::new(prepared.rows(), p, prepared.kernel);
    let sw = &prepared.sw;
    // One problem per pair (i, j): class i's rows (+1), then class j's (−1), with their
    // costs (C-SVC) or weights (nu-SVC).
    let pairs: Vec<Pair> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .map(|(i, j)| {
            let index: Vec<usize> = groups[i].iter().chain(&groups[j]).copied().collect();
            let y: Vec<i8> = std::iter::repeat_n(1, groups[i].len())
                .chain(std::iter::repeat_n(-1, groups[j].len()))
                .collect();
            let w: Vec<f64> = index.iter().map(|&r| sw[r]).collect();
            let c = match cost {
                Cost::Svc(c) => {
                    let (cp, cn) = (c * per_class[i], c * per_class[j]);
                    w.iter()
                        .zip(&y)
                        .map(|(wr, &yr)| wr * if yr == 1 { cp } else { cn })
                        .collect()
                }
                Cost::NuSvc(_) => Vec::new(),
            };
            Pair { index, y, w, c }
        })
        .collect();
    let stage = super::libsvm::context_stage(name);
    let (fits, sigmoids) = ctx.install(|| -> Result<_> {
        let fits: Vec<Fit> = pairs
            .iter()
            .enumerate()
            .map(|(t, pair)| {
                let f = match cost {
                    Cost::Svc(_) => Formulation::CSvc {
                        y: pair.y.clone(),
                        c: pair.c.clone(),
                    },
                    Cost::NuSvc(nu) => Formulation::NuSvc {
                        y: pair.y.clone(),
                        w: &pair.w,
                        nu,
                    },
                };
                let monitor = Monitor {
                    ctx,
                    stage,
                    task: t,
                };
                formulation::solve(&rows, pair.index.clone(), f, run, &monitor)
            })
            .collect::<Result<_>>()?;
        let sigmoids: Vec<((f64, f64), bool)> = if s.probability {
            let ys: Vec<&[i8]> = pairs.iter().map(|p| p.y.as_slice()).collect();
            let perms = probability::shuffles(seed, &ys);
            pairs
                .iter()
                .zip(&perms)
                .enumerate()
                .map(|(t, (pair, perm))| {
                    let costs = match cost {
                        Cost::Svc(_) => Costs::C(&pair.c),
                        Cost::NuSvc(nu) => Costs::Nu { w: &pair.w, nu },
                    };
                    let rows_of = PairRows {
                        index: &pair.index,
                        y: &pair.y,
                        costs,
                    };
                    probability::pair_sigmoid(&rows, &rows_of, perm, run, ctx, t)
                })
                .collect::<Result<_>>()?
        } else {
            Vec::new()
        };
        Ok((fits, sigmoids))
    })??;
    let mut converged = true;
    for (t, f) in fits.iter().enumerate() {
        let cv_early = sigmoids.get(t).is_some_and(|s| s.1);
        if f.timed_out {
            report_max_iter(ctx, t, f.n_iter);
        }
        if f.timed_out || f.stopped || cv_early {
            converged = false;
        }
        if !f.rho.is_finite() || f.coef.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{name}: the solver diverged (non-finite coefficients)"
            )));
        }
    }
    // The support vectors: rows with a nonzero coefficient in any pair, by class.
    let mut nonzero: Vec<Vec<bool>> = groups.iter().map(|g| vec![false; g.len()]).collect();
    let mut pair = 0;
    for i in 0..k {
        for j in i + 1..k {
            let f = &fits[pair];
            let ni = groups[i].len();
            for (r, c) in f.coef.iter().enumerate() {
                if c.abs() > 0.0 {
                    if r < ni {
                        nonzero[i][r] = true;
                    } else {
                        nonzero[j][r - ni] = true;
                    }
                }
            }
            pair += 1;
        }
    }
    let n_support: Vec<usize> = nonzero
        .iter()
        .map(|z| z.iter().filter(|b| **b).count())
        .collect();
    let support: Vec<usize> = groups
        .iter()
        .zip(&nonzero)
        .flat_map(|(g, z)| g.iter().zip(z).filter(|(_, b)| **b).map(|(r, _)| *r))
        .collect();
    let n_sv = support.len();
    let starts: Vec<usize> = n_support
        .iter()
        .scan(0, |acc, n| {
            let s = *acc;
            *acc += n;
            Some(s)
        })
        .collect();
    let mut dual_coef = Array2::zeros((k - 1, n_sv));
    let mut intercept = Vec::with_capacity(fits.len());
    let mut pair = 0;
    for i in 0..k {
        for j in i + 1..k {
            let f = &fits[pair];
            let ni = groups[i].len();
            let mut q = starts[i];
            for (r, z) in nonzero[i].iter().enumerate() {
                if *z {
                    dual_coef[[j - 1, q]] = f.coef[r];
                    q += 1;
                }
            }
            let mut q = starts[j];
            for (r, z) in nonzero[j].iter().enumerate() {
                if *z {
                    dual_coef[[i, q]] = f.coef[ni + r];
                    q += 1;
                }
            }
            // scikit-learn's intercept_ is −ρ (never −0).
            intercept.push(if f.rho != 0.0 { -f.rho } else { 0.0 });
            pair += 1;
        }
    }
    if k == 2 {
        dual_coef.mapv_inplace(|v| -v);
        intercept.iter_mut().for_each(|v| *v = -*v);
    }
    Ok(SvcModel {
        support_vectors: SupportVectors {
            kernel: prepared.kernel,
            vectors: prepared.gather(&support)?,
            support,
        },
        n_support,
        dual_coef,
        intercept,
        classes,
        decision_function_shape: s.shape,
        break_ties: s.break_ties,
        n_iter: fits.iter().map(|f| f.n_iter).collect(),
        converged,
        prob_a: sigmoids.iter().map(|s| s.0 .0).collect(),
        prob_b: sigmoids.iter().map(|s| s.0 .1).collect(),
    })
}

/// One pair's problem: training rows, labels, sample weights and (C-SVC) per-row costs.
struct Pair {
    index: Vec<usize>,
    y: Vec<i8>,
    w: Vec<f64>,
    c: Vec<f64>,
}

/// A fitted `svc` or `nu_svc` (scikit-learn's fitted attributes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvcModel {
    /// The kernel, the support vectors (`support_vectors_`) and their training rows
    /// (`support_`; with zero sample weights, indices of the full training data).
    pub support_vectors: SupportVectors,
    /// Support vectors per class (`n_support_`).
    pub n_support: Vec<usize>,
    /// `dual_coef_`: `(n_classes − 1) × n_SV` (see the [module docs](self)).
    pub dual_coef: Array2<f64>,
    /// `intercept_`, one per pair of classes.
    pub intercept: Vec<f64>,
    /// Class labels; prediction `i` means `classes[i]`.
    pub classes: Vec<String>,
    /// The shape of the decision function.
    pub decision_function_shape: DecisionShape,
    /// Whether `ovr` predictions break vote ties by the decision function.
    pub break_ties: bool,
    /// Solver iterations per pair of classes (`n_iter_`).
    pub n_iter: Vec<usize>,
    /// Whether every pair met `tol` within `max_iter`.
    pub converged: bool,
    /// Platt scaling's `A` per pair of classes (scikit-learn's `probA_`); empty without
    /// `probability=true`.
    #[serde(default)]
    pub prob_a: Vec<f64>,
    /// Platt scaling's `B` per pair of classes (`probB_`); empty without `probability=true`.
    #[serde(default)]
    pub prob_b: Vec<f64>,
}

impl SvcModel {
    /// The decision function (scikit-learn's `decision_function`): one column for two
    /// classes (positive means class 1), else one per class (`ovr`) or per pair (`ovo`).
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let w = self.n_scores();
        let mut out = vec![0.0; x.nrows() * w];
        self.score_into(x, &mut out)?;
        Array2::from_shape_vec((x.nrows(), w), out)
            .map_err(|e| Error::shape("decision_function", format!("{}x{w}", x.nrows()), e))
    }

    fn n_pairs(&self) -> usize {
        let k = self.classes.len();
        k * k.saturating_sub(1) / 2
    }

    /// The decision value of pair `p = (i, j)` with kernel values `kv(s) = K(sv_s, x)`:
    /// libsvm's sum over class `i`'s vectors, then class `j`'s, plus the intercept.
    #[inline]
    fn pair_value(&self, p: usize, i: usize, j: usize, kv: &impl Fn(usize) -> f64) -> f64 {
        let start = |c: usize| self.n_support[..c].iter().sum::<usize>();
        let (si, sj) = (start(i), start(j));
        let row = |r: usize| self.dual_coef.row(r);
        let (c1, c2) = (row(j - 1), row(i));
        let mut sum = 0.0;
        for s in si..si + self.n_support[i] {
            sum += c1[s] * kv(s);
        }
        for s in sj..sj + self.n_support[j] {
            sum += c2[s] * kv(s);
        }
        sum + self.intercept[p]
    }

    /// Calls `f(p, i, j, value)` for every pair in order.
    #[inline]
    fn pairs(&self, kv: &impl Fn(usize) -> f64, mut f: impl FnMut(usize, usize, usize, f64)) {
        let k = self.classes.len();
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                f(p, i, j, self.pair_value(p, i, j, kv));
                p += 1;
            }
        }
    }

    /// The decision function of one row into `out` (`n_scores` values).
    fn scores(&self, kv: &impl Fn(usize) -> f64, out: &mut [f64]) {
        let k = self.classes.len();
        if k == 2 || self.decision_function_shape == DecisionShape::Ovo {
            self.pairs(kv, |p, _, _, v| out[p] = v);
            return;
        }
        with_votes(k, |votes| self.ovr(kv, votes, out));
    }

    /// scikit-learn's `_ovr_decision_function` of the pairwise values: votes plus the summed
    /// confidences squashed into `(−1/3, 1/3)`.
    fn ovr(&self, kv: &impl Fn(usize) -> f64, votes: &mut [f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        self.pairs(kv, |_, i, j, v| {
            out[i] += v;
            out[j] -= v;
            if v < 0.0 {
                votes[j] += 1.0;
            } else {
                votes[i] += 1.0;
            }
        });
        for (o, v) in out.iter_mut().zip(votes.iter()) {
            *o = v + *o / (3.0 * (o.abs() + 1.0));
        }
    }

    /// The predicted class index of one row.
    fn class_of(&self, kv: &impl Fn(usize) -> f64) -> f64 {
        let k = self.classes.len();
        if k == 2 {
            let mut v = 0.0;
            self.pairs(kv, |_, _, _, d| v = d);
            return if v < 0.0 { 0.0 } else { 1.0 };
        }
        let ties = self.break_ties && self.decision_function_shape == DecisionShape::Ovr;
        with_votes(2 * k, |buf| {
            let (votes, scores) = buf.split_at_mut(k);
            if ties {
                self.ovr(kv, votes, scores);
                return first_max(scores) as f64;
            }
            // libsvm's vote: class i when the pair's value is > 0 (before scikit-learn's
            // sign convention, which leaves multiclass values as libsvm's).
            self.pairs(kv, |_, i, j, v| {
                if v > 0.0 {
                    votes[i] += 1.0;
                } else {
                    votes[j] += 1.0;
                }
            });
            first_max(votes) as f64
        })
    }
}

/// The index of the first largest value.
fn first_max(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Runs `f` on `n` zeros: on the stack up to `2 · STACK_CLASSES`, else on the heap.
fn with_votes<R>(n: usize, f: impl FnOnce(&mut [f64]) -> R) -> R {
    if n <= 2 * STACK_CLASSES {
        let mut buf = [0.0; 2 * STACK_CLASSES];
        f(&mut buf[..n])
    } else {
        f(&mut vec![0.0; n])
    }
}

impl Model for SvcModel {
    fn n_features(&self) -> usize {
        self.support_vectors.n_features()
    }

    fn validate(&self) -> Result<()> {
        const CTX: &str = "svc";
        self.support_vectors.validate(CTX)?;
        let k = self.classes.len();
        let n_sv = self.support_vectors.len();
        let bad = |what: String| Err(Error::ModelCorrupt(format!("{CTX}: {what}")));
        if k < 2 || self.n_support.len() != k {
            return bad(format!(
                "{} classes, {} support counts",
                k,
                self.n_support.len()
            ));
        }
        let total = self
            .n_support
            .iter()
            .try_fold(0usize, |a, n| a.checked_add(*n));
        if total != Some(n_sv) {
            return bad(format!(
                "support counts {:?} for {n_sv} support vectors",
                self.n_support
            ));
        }
        if self.dual_coef.dim() != (k - 1, n_sv)
            || self.intercept.len() != self.n_pairs()
            || self.n_iter.len() != self.n_pairs()
        {
            return bad(format!(
                "dual_coef {:?}, {} intercepts for {k} classes and {n_sv} support vectors",
                self.dual_coef.dim(),
                self.intercept.len()
            ));
        }
        if self.prob_a.len() != self.prob_b.len()
            || !(self.prob_a.is_empty() || self.prob_a.len() == self.n_pairs())
        {
            return bad(format!(
                "{} probA and {} probB values for {} pairs of classes",
                self.prob_a.len(),
                self.prob_b.len(),
                self.n_pairs()
            ));
        }
        if self
            .dual_coef
            .iter()
            .chain(&self.intercept)
            .chain(&self.prob_a)
            .chain(&self.prob_b)
            .any(|v| !v.is_finite())
        {
            return bad("non-finite coefficients".into());
        }
        Ok(())
    }
}

impl Predictor for SvcModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.support_vectors
            .batch(context!("svc", "predict"), x, out, 1, |kv, o| {
                o[0] = self.class_of(&|s| kv[s]);
            })
    }

    /// Allocation-free up to 64 classes; the same sums as the batch path.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.support_vectors
            .check_row(context!("svc", "predict_row"), row, out.len(), 1)?;
        out[0] = self.class_of(&|s| self.support_vectors.k(s, row));
        Ok(())
    }
}

/// The decision function: one column for two classes, else one per class (`ovr`) or per pair
/// of classes (`ovo`).
impl ScorePredictor for SvcModel {
    fn n_scores(&self) -> usize {
        let k = self.classes.len();
        if k == 2 {
            1
        } else if self.decision_function_shape == DecisionShape::Ovo {
            self.n_pairs()
        } else {
            k
        }
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.support_vectors.batch(
            context!("svc", "decision_function"),
            x,
            out,
            self.n_scores(),
            |kv, o| {
                self.scores(&|s| kv[s], o);
            },
        )
    }

    /// Allocation-free up to 64 classes; the same sums as the batch path.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.support_vectors.check_row(
            context!("svc", "decision_function"),
            row,
            out.len(),
            self.n_scores(),
        )?;
        self.scores(&|s| self.support_vectors.k(s, row), out);
        Ok(())
    }
}

/// Class probabilities from Platt scaling (`probability=true`): each pair's decision value
/// through its sigmoid, coupled into class probabilities as libsvm's `predict_probability`.
/// A model fitted without probabilities lists its classes; its `predict_proba*` calls are
/// [`Error::Unsupported`].
impl ProbabilisticPredictor for SvcModel {
    fn n_classes(&self) -> usize {
        self.classes.len()
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.check_probabilities()?;
        self.support_vectors.batch(
            context!("svc", "predict_proba"),
            x,
            out,
            self.classes.len(),
            |kv, o| self.proba(&|s| kv[s], o),
        )
    }

    /// Allocation-free up to 32 classes; the same sums as the batch path.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.check_probabilities()?;
        self.support_vectors.check_row(
            context!("svc", "predict_proba_row"),
            row,
            out.len(),
            self.classes.len(),
        )?;
        self.proba(&|s| self.support_vectors.k(s, row), out);
        Ok(())
    }
}

/// Classes up to which the probability paths keep their scratch on the stack.
const STACK_PROBA_CLASSES: usize = 32;

/// The stack scratch of the probability paths: pairwise probabilities and coupling buffers.
const PROBA_SCRATCH: usize =
    STACK_PROBA_CLASSES * (STACK_PROBA_CLASSES - 1) / 2 + platt::scratch_len(STACK_PROBA_CLASSES);

impl SvcModel {
    /// Natural logarithms of [`predict_proba`](ProbabilisticPredictor::predict_proba)
    /// (scikit-learn's `predict_log_proba`).
    pub fn predict_log_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Ok(self.predict_proba(x)?.mapv_into(f64::ln))
    }

    fn check_probabilities(&self) -> Result<()> {
        if self.prob_a.is_empty() {
            return Err(Error::Unsupported(
                "svc has no probabilities: fit with probability=true (or use the decision \
                 function, the score output)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The class probabilities of one row into `out` (`n_classes` values).
    fn proba(&self, kv: &impl Fn(usize) -> f64, out: &mut [f64]) {
        let k = self.classes.len();
        let n_pairs = self.n_pairs();
        let need = n_pairs + platt::scratch_len(k);
        let mut run = |buf: &mut [f64]| {
            let (r, scratch) = buf.split_at_mut(n_pairs);
            // libsvm's orientation: two-class models store scikit-learn's negated values.
            let sign = if k == 2 { -1.0 } else { 1.0 };
            self.pairs(kv, |p, _, _, v| {
                r[p] = platt::pairwise(sign * v, self.prob_a[p], self.prob_b[p]);
            });
            platt::couple(k, r, out, scratch);
        };
        if need <= PROBA_SCRATCH {
            let mut buf = [0.0; PROBA_SCRATCH];
            run(&mut buf[..need]);
        } else {
            run(&mut vec![0.0; need]);
        }
    }
}

impl Outputs for SvcModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }

    fn has_probabilities(&self) -> bool {
        !self.prob_a.is_empty()
    }

    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    fn model() -> SvcModel {
        let x = array![
            [0.0, 0.0],
            [0.2, 0.1],
            [1.0, 1.1],
            [0.9, 1.0],
            [2.0, 0.1],
            [2.1, 0.0]
        ];
        let y = array![0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
        Svc::default()
            .fit(&DenseDataset::classification(x, y).unwrap())
            .unwrap()
    }

    #[test]
    fn corrupt_models_are_rejected() {
        let m = model();
        assert!(m.validate().is_ok());
        let mut bad = m.clone();
        bad.n_support[0] += 1;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.n_support = vec![usize::MAX, 2, 2];
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.classes.push("x".into());
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.intercept.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.support_vectors.support.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m;
        bad.dual_coef = Array2::zeros((1, bad.support_vectors.len()));
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }

    #[test]
    fn ovr_scores_are_votes_plus_squashed_confidences() {
        let m = model();
        let s = m.decision_function(array![[0.1, 0.0]].view()).unwrap();
        // Class 0 wins both of its pairs: 2 votes, plus a confidence in (-1/3, 1/3).
        assert!(s[[0, 0]] > 5.0 / 3.0 && s[[0, 0]] < 7.0 / 3.0, "{s:?}");
        assert_eq!(first_max(&[1.0, 3.0, 3.0]), 1);
    }
}
