//! libsvm's five formulations over the SMO solver (`solve_c_svc`, `solve_nu_svc`,
//! `solve_one_class`, `solve_epsilon_svr`, `solve_nu_svr` with scikit-learn's per-row weights):
//! each builds the solver's problem, solves it and returns the signed coefficients of the
//! rows and `ρ`.

use super::kernel_cache::{QKind, QMatrix, TrainRows};
use super::problem::Monitor;
use super::smo::{self, Problem, Settings};
use crate::error::Result;

/// Which problem, with its per-row data (rows in the order of the problem's `index`).
pub(crate) enum Formulation<'a> {
    /// C-SVC: signs, and the cost of each row (`C` · class weight · sample weight).
    CSvc { y: Vec<i8>, c: Vec<f64> },
    /// nu-SVC: signs and sample weights.
    NuSvc { y: Vec<i8>, w: &'a [f64], nu: f64 },
    /// One-class SVM: sample weights.
    OneClass { w: &'a [f64], nu: f64 },
    /// epsilon-SVR: targets, sample weights.
    EpsilonSvr {
        y: &'a [f64],
        w: &'a [f64],
        c: f64,
        epsilon: f64,
    },
    /// nu-SVR: targets, sample weights.
    NuSvr {
        y: &'a [f64],
        w: &'a [f64],
        c: f64,
        nu: f64,
    },
}

/// The solver settings shared by every formulation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub tol: f64,
    pub shrinking: bool,
    pub max_iter: Option<usize>,
    pub cache_bytes: f64,
}

/// A solved problem: `coef[i]` multiplies `K(x_i, ·)` in the decision function
/// `Σ coef_i K(x_i, x) − ρ`.
pub(crate) struct Fit {
    pub coef: Vec<f64>,
    pub rho: f64,
    pub n_iter: usize,
    pub timed_out: bool,
    /// The fit callback stopped the solver early.
    pub stopped: bool,
}

/// Solves `f` over the training rows `index`, reporting progress to `monitor`.
pub(crate) fn solve(
    rows: &TrainRows<'_>,
    index: Vec<usize>,
    f: Formulation<'_>,
    run: Run,
    monitor: &Monitor<'_>,
) -> Result<Fit> {
    let l = index.len();
    let settings = |nu| Settings {
        eps: run.tol,
        shrinking: run.shrinking,
        max_iter: run.max_iter,
        nu,
    };
    Ok(match f {
        Formulation::CSvc { y, c } => {
            let mut q = QMatrix::new(rows, index, QKind::Svc(y.clone()), run.cache_bytes);
            let problem = Problem {
                p: vec![-1.0; l],
                y: y.clone(),
                alpha: vec![0.0; l],
                c,
            };
            let s = smo::solve(&mut q, problem, settings(false), monitor)?;
            let coef = s
                .alpha
                .iter()
                .zip(&y)
                .map(|(a, &yi)| a * f64::from(yi))
                .collect();
            Fit {
                coef,
                rho: s.rho,
                n_iter: s.n_iter,
                timed_out: s.timed_out,
                stopped: s.stopped,
            }
        }
        Formulation::NuSvc { y, w, nu } => {
            let c = w.to_vec();
            let nu_l: f64 = c.iter().map(|ci| nu * ci).sum();
            let (mut sum_pos, mut sum_neg) = (nu_l / 2.0, nu_l / 2.0);
            let alpha = c
                .iter()
                .zip(&y)
                .map(|(&ci, &yi)| {
                    let sum = if yi == 1 { &mut sum_pos } else { &mut sum_neg };
                    let a = ci.min(*sum);
                    *sum -= a;
                    a
                })
                .collect();
            let mut q = QMatrix::new(rows, index, QKind::Svc(y.clone()), run.cache_bytes);
            let problem = Problem {
                p: vec![0.0; l],
                y: y.clone(),
                alpha,
                c,
            };
            let s = smo::solve(&mut q, problem, settings(true), monitor)?;
            let r = s.r;
            let coef = s
                .alpha
                .iter()
                .zip(&y)
                .map(|(a, &yi)| a * (f64::from(yi) / r))
                .collect();
            Fit {
                coef,
                rho: s.rho / r,
                n_iter: s.n_iter,
                timed_out: s.timed_out,
                stopped: s.stopped,
            }
        }
        Formulation::OneClass { w, nu } => {
            let c = w.to_vec();
            let mut nu_l: f64 = c.iter().map(|ci| ci * nu).sum();
            let mut alpha = vec![0.0; l];
            for (a, &ci) in alpha.iter_mut().zip(&c) {
                if nu_l <= 0.0 {
                    break;
                }
                *a = ci.min(nu_l);
                nu_l -= *a;
            }
            let mut q = QMatrix::new(rows, index, QKind::OneClass, run.cache_bytes);
            let problem = Problem {
                p: vec![0.0; l],
                y: vec![1; l],
                alpha,
                c,
            };
            let s = smo::solve(&mut q, problem, settings(false), monitor)?;
            Fit {
                coef: s.alpha,
                rho: s.rho,
                n_iter: s.n_iter,
                timed_out: s.timed_out,
                stopped: s.stopped,
            }
        }
        Formulation::EpsilonSvr { y, w, c, epsilon } => {
            let cost: Vec<f64> = w.iter().map(|wi| wi * c).collect();
            let p = y
                .iter()
                .map(|yi| epsilon - yi)
                .chain(y.iter().map(|yi| epsilon + yi))
                .collect();
            let problem = Problem {
                p,
                y: signs(l),
                alpha: vec![0.0; 2 * l],
                c: [cost.as_slice(), cost.as_slice()].concat(),
            };
            let mut q = QMatrix::new(rows, index, QKind::Svr, run.cache_bytes);
            let s = smo::solve(&mut q, problem, settings(false), monitor)?;
            let coef = (0..l).map(|i| s.alpha[i] - s.alpha[i + l]).collect();
            Fit {
                coef,
                rho: s.rho,
                n_iter: s.n_iter,
                timed_out: s.timed_out,
                stopped: s.stopped,
            }
        }
        Formulation::NuSvr { y, w, c, nu } => {
            let cost: Vec<f64> = w.iter().map(|wi| wi * c).collect();
            let mut sum = cost.iter().map(|ci| ci * nu).sum::<f64>() / 2.0;
            let mut alpha = vec![0.0; 2 * l];
            for (i, &ci) in cost.iter().enumerate() {
                let a = sum.min(ci);
                alpha[i] = a;
                alpha[i + l] = a;
                sum -= a;
            }
            let p = y.iter().map(|yi| -yi).chain(y.iter().copied()).collect();
            let problem = Problem {
                p,
                y: signs(l),
                alpha,
                c: [cost.as_slice(), cost.as_slice()].concat(),
            };
            let mut q = QMatrix::new(rows, index, QKind::Svr, run.cache_bytes);
            let s = smo::solve(&mut q, problem, settings(true), monitor)?;
            let coef = (0..l).map(|i| s.alpha[i] - s.alpha[i + l]).collect();
            Fit {
                coef,
                rho: s.rho,
                n_iter: s.n_iter,
                timed_out: s.timed_out,
                stopped: s.stopped,
            }
        }
    })
}

/// `+1` for the `l` first variables, `−1` for the `l` others.
fn signs(l: usize) -> Vec<i8> {
    let mut y = vec![1; l];
    y.resize(2 * l, -1);
    y
}
