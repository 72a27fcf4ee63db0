//! Support vector machines.
//!
//! | type | trainer | model | solvers |
//! |---|---|---|---|
//! | `linear_svc` | [`LinearSvc`] | [`LinearSvcModel`] | liblinear's: dual coordinate descent, primal Newton, L1 coordinate descent, Crammer–Singer |
//! | `linear_svr` | [`LinearSvr`] | [`LinearSvrModel`] | dual coordinate descent, primal Newton |
//! | `svc` | [`Svc`] | [`SvcModel`] | libsvm's SMO (C-SVC), one-vs-one |
//! | `nu_svc` | [`NuSvc`] | [`SvcModel`] | libsvm's SMO (nu-SVC), one-vs-one |
//! | `svr` | [`Svr`] | [`SvrModel`] | libsvm's SMO (epsilon-SVR) |
//! | `nu_svr` | [`NuSvr`] | [`SvrModel`] | libsvm's SMO (nu-SVR) |
//! | `one_class_svm` | [`OneClassSvm`] | [`OneClassSvmModel`] | libsvm's SMO (one-class) |
//!
//! The linear SVMs reproduce scikit-learn's `LinearSVC` / `LinearSVR`, which wrap liblinear:
//! the same objectives (an intercept is a bias column of value `intercept_scaling`, penalized
//! like every coefficient), the same choice of solver from `penalty`, `loss` and `dual`
//! (with scikit-learn 1.9's `dual="auto"` rule and its messages for unsupported
//! combinations), the same per-row costs (`C` × class weight × sample weight; in
//! one-vs-rest, the rest keep `C`, as in liblinear) and the same stopping rules. The
//! coordinate-descent order comes from the fit's seed, so iterates differ from liblinear's
//! `rand()`, but at a tight `tol` the L2 problems have one optimum and the coefficients agree
//! with scikit-learn's (`tests/linear_svm.rs`).
//!
//! A solver that stops at `max_iter` before meeting `tol` says so: the model's `converged`
//! is false and the fit's callback receives an event of stage [`MAX_ITER_REACHED`] (one per
//! problem that did not converge), as scikit-learn warns with a `ConvergenceWarning`.
//!
//! The kernel SVMs reproduce scikit-learn's `SVC`, `NuSVC`, `SVR`, `NuSVR` and `OneClassSVM`,
//! which wrap libsvm: the same formulations with per-row weights (`formulation`), the same
//! SMO solver with second-order working-set selection, shrinking and gradient reconstruction
//! (`smo`), the kernel rows held in single precision as libsvm's `Qfloat` in an LRU cache of
//! `cache_size` MB (`kernel_cache`; rows are computed in parallel over fixed column blocks,
//! the full kernel matrix is never allocated), the same grouping of classes, support vectors,
//! `dual_coef_` / `intercept_` layout and sign conventions, and the same `max_iter` rule (-1:
//! no limit; a stop at the cap is reported with [`MAX_ITER_REACHED`]).
//!
//! `svc` / `nu_svc` with `probability=true` fit libsvm's probability model
//! (`probability`, `platt`): for each pair of classes an internal 5-fold cross-validation
//! shuffled by libsvm's own generator (`mt19937`, seeded from `random_state` as scikit-learn
//! does), Platt's sigmoid on the out-of-fold decision values (`probA_` / `probB_`), and
//! Wu–Lin–Weng pairwise coupling at prediction; `predict` still uses the decision function,
//! so `argmax(predict_proba)` may differ from `predict`, as in scikit-learn. Known
//! difference: with zero sample weights `support` holds indices of the full training data.

mod crammer_singer;
mod dual_cd;
mod formulation;
mod kernel;
mod kernel_cache;
mod l1_cd;
mod libsvm;
mod linear_svc;
mod linear_svr;
mod mt19937;
mod newton;
mod one_class;
mod platt;
mod probability;
mod problem;
mod smo;
mod svc;
mod svr;

pub use kernel::{Gamma, Kernel, KernelType, SupportVectors};
pub use linear_svc::{LinearSvc, LinearSvcModel, MultiClass, SvcLoss};
pub use linear_svr::{LinearSvr, LinearSvrModel, SvrLoss};
pub use one_class::{OneClassSvm, OneClassSvmModel};
pub use problem::MAX_ITER_REACHED;
pub use svc::{DecisionShape, NuSvc, Svc, SvcModel};
pub use svr::{Expansion, NuSvr, Svr, SvrModel};

use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::rng;
use crate::error::{Error, Result};
use crate::traits::FitContext;
use dual_cd::DualLoss;
use newton::SquaredLoss;
use problem::{Monitor, Rows, Run, Solution};

/// The regularization of a linear SVM's coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    /// `‖w‖₁` (sparse coefficients; `linear_svc` with squared hinge and `dual=false` only).
    L1,
    /// `½‖w‖²`.
    #[default]
    L2,
}

impl Penalty {
    fn name(self) -> &'static str {
        match self {
            Penalty::L1 => "l1",
            Penalty::L2 => "l2",
        }
    }
}

/// Which problem to solve: the dual, the primal, or scikit-learn's choice (`"auto"`: the
/// dual when there are fewer rows than features and the dual exists for the settings, else
/// the primal when it exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dual {
    /// scikit-learn's `dual="auto"`.
    #[default]
    Auto,
    /// `dual=true`.
    Dual,
    /// `dual=false`.
    Primal,
}

impl Serialize for Dual {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Dual::Auto => s.serialize_str("auto"),
            Dual::Dual => s.serialize_bool(true),
            Dual::Primal => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for Dual {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Flag(true) => Ok(Dual::Dual),
            Raw::Flag(false) => Ok(Dual::Primal),
            Raw::Word(w) if w == "auto" => Ok(Dual::Auto),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "dual must be \"auto\", true or false, got {w:?}"
            ))),
        }
    }
}

/// The liblinear solver of a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Solver {
    /// Dual coordinate descent, hinge / epsilon-insensitive loss.
    DualL1,
    /// Dual coordinate descent, squared loss.
    DualL2,
    /// Primal Newton, squared loss, L2 penalty.
    Newton,
    /// Primal coordinate descent, squared hinge, L1 penalty.
    L1Cd,
}

/// scikit-learn's `_get_liblinear_solver_type` for one `dual` value: the solver, or the
/// reason the combination is not supported.
type SolverTable = fn(Penalty, bool) -> std::result::Result<Solver, String>;

/// Resolves `dual` (scikit-learn 1.9's `_validate_dual_parameter`) and returns the solver,
/// or scikit-learn's error for an unsupported combination.
pub(crate) fn choose_solver(
    table: SolverTable,
    penalty: Penalty,
    loss: &str,
    dual: Dual,
    n_samples: usize,
    n_features: usize,
) -> Result<Solver> {
    let dual = match dual {
        Dual::Dual => true,
        Dual::Primal => false,
        Dual::Auto => {
            let prefer = n_samples < n_features;
            if table(penalty, prefer).is_ok() {
                prefer
            } else {
                !prefer
            }
        }
    };
    table(penalty, dual).map_err(|why| {
        let py = if dual { "True" } else { "False" };
        Error::param(
            "dual",
            dual,
            &format!(
                "a supported combination (scikit-learn: Unsupported set of arguments: {why}, \
                 Parameters: penalty='{}', loss='{loss}', dual={py})",
                penalty.name()
            ),
        )
    })
}

/// The message of a combination that is supported with the other `dual` only.
pub(crate) fn not_with_dual(penalty: Penalty, loss: &str, dual: bool) -> String {
    let py = if dual { "True" } else { "False" };
    format!(
        "The combination of penalty='{}' and loss='{loss}' are not supported when dual={py}",
        penalty.name()
    )
}

/// The common parameter checks of both linear SVMs.
pub(crate) fn check_common(
    c: f64,
    tol: f64,
    max_iter: usize,
    fit_intercept: bool,
    intercept_scaling: f64,
) -> Result<()> {
    if !(c.is_finite() && c > 0.0) {
        return Err(Error::param("C", c, "a finite value > 0"));
    }
    if !(tol.is_finite() && tol > 0.0) {
        return Err(Error::param("tol", tol, "a finite value > 0"));
    }
    if max_iter == 0 {
        return Err(Error::param("max_iter", max_iter, "an integer >= 1"));
    }
    if fit_intercept && !(intercept_scaling.is_finite() && intercept_scaling > 0.0) {
        return Err(Error::param(
            "intercept_scaling",
            intercept_scaling,
            "a finite value > 0 (to fit no intercept, set fit_intercept=false)",
        ));
    }
    Ok(())
}

/// One binary or regression problem over the shared rows: targets (±1 for classification)
/// and per-row costs.
pub(crate) struct Task {
    pub y: Vec<f64>,
    pub c: Vec<f64>,
}

/// How a set of tasks is solved.
pub(crate) struct Plan {
    pub solver: Solver,
    /// `Some(ε)` for regression.
    pub epsilon: Option<f64>,
    pub tol: f64,
    pub max_iter: usize,
    pub seed: u64,
    pub stage: &'static str,
}

/// What the tasks' solutions add up to.
pub(crate) struct Solved {
    pub w: Vec<Vec<f64>>,
    pub n_iter: usize,
    pub converged: bool,
}

/// liblinear's tolerance of its primal classification solvers:
/// `tol · max(min(#positive, #negative), 1) / #rows`.
fn primal_tol(tol: f64, y: &[f64]) -> f64 {
    let pos = y.iter().filter(|v| **v > 0.0).count();
    let neg = y.len() - pos;
    tol * pos.min(neg).max(1) as f64 / y.len().max(1) as f64
}

/// Solves every task (in parallel, each with its own random stream `for_task(seed, task)`:
/// the same weights for any thread count), then reports each task that stopped at
/// `max_iter` (in task order).
pub(crate) fn solve_all(
    rows: &Rows,
    tasks: &[Task],
    plan: &Plan,
    ctx: &FitContext<'_>,
) -> Result<Solved> {
    let one = |t: usize, task: &Task| -> Result<Solution> {
        let mut run = Run {
            tol: plan.tol,
            max_iter: plan.max_iter,
            rng: rng::for_task(plan.seed, t as u64),
            monitor: Monitor {
                ctx,
                stage: plan.stage,
                task: t,
            },
        };
        match (plan.solver, plan.epsilon) {
            (Solver::DualL1, None) => dual_cd::svc(rows, &task.y, &task.c, DualLoss::L1, &mut run),
            (Solver::DualL2, None) => dual_cd::svc(rows, &task.y, &task.c, DualLoss::L2, &mut run),
            (Solver::DualL1, Some(e)) => {
                dual_cd::svr(rows, &task.y, &task.c, e, DualLoss::L1, &mut run)
            }
            (Solver::DualL2, Some(e)) => {
                dual_cd::svr(rows, &task.y, &task.c, e, DualLoss::L2, &mut run)
            }
            (Solver::Newton, None) => {
                run.tol = primal_tol(plan.tol, &task.y);
                newton::minimize(rows, &task.c, SquaredLoss::Hinge { y: &task.y }, &mut run)
            }
            (Solver::Newton, Some(epsilon)) => newton::minimize(
                rows,
                &task.c,
                SquaredLoss::Tube {
                    y: &task.y,
                    epsilon,
                },
                &mut run,
            ),
            (Solver::L1Cd, _) => {
                run.tol = primal_tol(plan.tol, &task.y);
                l1_cd::minimize(rows, &task.y, &task.c, &mut run)
            }
        }
    };
    let solutions: Vec<Result<Solution>> = ctx.install(|| {
        tasks
            .par_iter()
            .enumerate()
            .map(|(t, task)| one(t, task))
            .collect()
    })?;
    let mut w = Vec::with_capacity(tasks.len());
    let mut n_iter = 0;
    let mut converged = true;
    for (t, s) in solutions.into_iter().enumerate() {
        let s = s?;
        if !s.converged {
            converged = false;
            if s.n_iter >= plan.max_iter {
                Monitor {
                    ctx,
                    stage: plan.stage,
                    task: t,
                }
                .max_iter_reached(s.n_iter);
            }
        }
        n_iter = n_iter.max(s.n_iter);
        if s.w.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{}: the solver diverged (non-finite coefficients)",
                plan.stage
            )));
        }
        w.push(s.w);
    }
    Ok(Solved {
        w,
        n_iter,
        converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc_table(penalty: Penalty, dual: bool) -> std::result::Result<Solver, String> {
        match (penalty, dual) {
            (Penalty::L2, true) => Ok(Solver::DualL2),
            (Penalty::L2, false) => Ok(Solver::Newton),
            (Penalty::L1, false) => Ok(Solver::L1Cd),
            (Penalty::L1, true) => Err(not_with_dual(penalty, "squared_hinge", dual)),
        }
    }

    #[test]
    fn auto_dual_follows_scikit_learn() {
        let pick =
            |penalty, dual, n, p| choose_solver(svc_table, penalty, "squared_hinge", dual, n, p);
        // More rows than features: the primal; fewer: the dual, when each exists.
        assert_eq!(
            pick(Penalty::L2, Dual::Auto, 100, 5).unwrap(),
            Solver::Newton
        );
        assert_eq!(
            pick(Penalty::L2, Dual::Auto, 5, 100).unwrap(),
            Solver::DualL2
        );
        assert_eq!(pick(Penalty::L1, Dual::Auto, 5, 100).unwrap(), Solver::L1Cd);
        let err = pick(Penalty::L1, Dual::Dual, 100, 5)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`dual`") && err.contains("dual=True"), "{err}");
    }

    #[test]
    fn rows_drop_zero_weights_and_append_the_bias() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let rows = Rows::new(&x, 2, &[true, false, true], Some(0.5));
        assert_eq!((rows.n(), rows.d), (2, 3));
        assert_eq!(rows.row(1), &[5.0, 6.0, 0.5]);
        assert_eq!(rows.columns(), vec![1.0, 5.0, 2.0, 6.0, 0.5, 0.5]);
        let plain = Rows::new(&x, 3, &[true, true], None);
        assert_eq!((plain.n(), plain.d), (2, 3));
    }

    #[test]
    fn primal_tolerance_is_liblinears() {
        assert_eq!(primal_tol(1.0, &[1.0, -1.0, -1.0, -1.0]), 0.25);
        assert_eq!(primal_tol(1.0, &[-1.0, -1.0]), 0.5);
    }

    #[test]
    fn common_checks_name_the_parameter() {
        let e = check_common(f64::NAN, 1e-4, 10, true, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`C`"), "{e}");
        let e = check_common(1.0, 0.0, 10, true, 1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`tol`"), "{e}");
        assert!(check_common(1.0, 1e-4, 10, false, 0.0).is_ok());
    }

    #[test]
    fn corrupt_models_are_rejected() {
        use crate::traits::Model;
        use ndarray::{Array1, Array2};
        let model = LinearSvcModel {
            coef: Array2::zeros((3, 2)),
            intercept: Array1::zeros(2),
            classes: vec!["a".into(), "b".into(), "c".into()],
            n_iter: 1,
            converged: true,
        };
        assert!(matches!(model.validate(), Err(Error::ModelCorrupt(_))));
        let mut two = model.clone();
        two.intercept = Array1::zeros(3);
        two.classes.truncate(2);
        assert!(matches!(two.validate(), Err(Error::ModelCorrupt(_))));
        let svr = LinearSvrModel {
            coef: Array1::from(vec![1.0, f64::NAN]),
            intercept: 0.0,
            n_iter: 1,
            converged: true,
        };
        assert!(matches!(svr.validate(), Err(Error::ModelCorrupt(_))));
    }
}
