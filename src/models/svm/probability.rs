//! `probability=true` for `svc` and `nu_svc`: libsvm's `svm_binary_svc_probability` for every
//! pair of classes. The pair's rows are shuffled with libsvm's generator, split into 5
//! folds, and each fold's decision values come from a model trained (same formulation, same
//! per-row costs) on the other 4; Platt's sigmoid is then fitted to those out-of-fold values.
//!
//! The shuffles follow scikit-learn's libsvm exactly: the generator is seeded once per fit
//! from `random_state`, and — as libsvm's training of each fold's model re-seeds it — it
//! restarts from the seed after every pair whose folds trained a model (in practice every
//! pair: a fold's training part always holds both classes for some fold). All shuffles are
//! therefore drawn first, in pair order, and the folds then train in parallel.

use rayon::prelude::*;

use super::formulation::{self, Formulation, Run};
use super::kernel_cache::TrainRows;
use super::libsvm::PLATT_CV_STAGE;
use super::mt19937::Mt19937;
use super::platt;
use super::problem::Monitor;
use crate::error::Result;
use crate::traits::FitContext;

/// libsvm's number of folds.
const N_FOLD: usize = 5;

/// The per-row costs of one pair's problem (rows in the pair's order).
pub(crate) enum Costs<'a> {
    /// C-SVC: each row's cost (`C` · class weight · sample weight).
    C(&'a [f64]),
    /// nu-SVC: the sample weights and `nu`.
    Nu { w: &'a [f64], nu: f64 },
}

/// One pair of classes: its training rows (class `i`'s, then class `j`'s), their labels
/// (`+1` for class `i`) and costs.
pub(crate) struct PairRows<'a> {
    pub index: &'a [usize],
    pub y: &'a [i8],
    pub costs: Costs<'a>,
}

/// libsvm's shuffles of every pair (pair lengths `lens`), from the generator seeded with
/// `seed`, re-seeded after each pair whose folds train a model (labels `ys`).
pub(crate) fn shuffles(seed: u32, ys: &[&[i8]]) -> Vec<Vec<usize>> {
    let mut mt = Mt19937::new(seed);
    ys.iter()
        .map(|y| {
            let l = y.len();
            let mut perm: Vec<usize> = (0..l).collect();
            for i in 0..l {
                let j = i + mt.bounded((l - i) as u32) as usize;
                perm.swap(i, j);
            }
            if (0..N_FOLD).any(|f| both_labels(y, &perm, f)) {
                mt = Mt19937::new(seed);
            }
            perm
        })
        .collect()
}

/// The positions of fold `f` in `perm` (libsvm's `begin..end`).
fn fold(l: usize, f: usize) -> std::ops::Range<usize> {
    f * l / N_FOLD..(f + 1) * l / N_FOLD
}

/// The labels of the rows outside fold `f`: `(#positive, #negative)`.
fn counts(y: &[i8], perm: &[usize], f: usize) -> (usize, usize) {
    let r = fold(perm.len(), f);
    let outside = perm[..r.start].iter().chain(&perm[r.end..]);
    outside.fold(
        (0, 0),
        |(p, n), &i| {
            if y[i] > 0 {
                (p + 1, n)
            } else {
                (p, n + 1)
            }
        },
    )
}

fn both_labels(y: &[i8], perm: &[usize], f: usize) -> bool {
    let (p, n) = counts(y, perm, f);
    p > 0 && n > 0
}

/// Platt's `(A, B)` of pair `t` from its shuffle `perm`, and whether a fold's solver stopped
/// early (at `max_iter` or by the callback).
pub(crate) fn pair_sigmoid(
    rows: &TrainRows<'_>,
    pair: &PairRows<'_>,
    perm: &[usize],
    run: Run,
    ctx: &FitContext<'_>,
    t: usize,
) -> Result<((f64, f64), bool)> {
    let l = pair.y.len();
    // Each fold's model gets a share of the cache: the folds train in parallel.
    let run = Run {
        cache_bytes: run.cache_bytes / N_FOLD as f64,
        ..run
    };
    let folds: Vec<(Vec<f64>, bool)> = (0..N_FOLD)
        .into_par_iter()
        .map(|f| {
            let monitor = Monitor {
                ctx,
                stage: PLATT_CV_STAGE,
                task: N_FOLD * t + f,
            };
            fold_values(rows, pair, perm, f, run, &monitor)
        })
        .collect::<Result<_>>()?;
    let mut dec = vec![0.0; l];
    let mut timed_out = false;
    for (f, (values, t)) in folds.into_iter().enumerate() {
        timed_out |= t;
        for (&pos, v) in perm[fold(l, f)].iter().zip(values) {
            dec[pos] = v;
        }
    }
    let positive: Vec<bool> = pair.y.iter().map(|&v| v > 0).collect();
    Ok((platt::sigmoid_train(&dec, &positive), timed_out))
}

/// The decision values of fold `f`'s rows (in `perm` order) from a model trained on the
/// other folds, in libsvm's orientation (positive: class `i`).
fn fold_values(
    rows: &TrainRows<'_>,
    pair: &PairRows<'_>,
    perm: &[usize],
    f: usize,
    run: Run,
    monitor: &Monitor<'_>,
) -> Result<(Vec<f64>, bool)> {
    let r = fold(perm.len(), f);
    let test = &perm[r.clone()];
    match counts(pair.y, perm, f) {
        (0, 0) => return Ok((vec![0.0; test.len()], false)),
        (_, 0) => return Ok((vec![1.0; test.len()], false)),
        (0, _) => return Ok((vec![-1.0; test.len()], false)),
        _ => {}
    }
    // libsvm trains the fold's model on labels sorted (-1 first): the rows of class j, in
    // shuffled order, are the solver's positive class, then those of class i.
    let train: Vec<usize> = perm[..r.start]
        .iter()
        .chain(&perm[r.end..])
        .copied()
        .collect();
    let order: Vec<usize> = train
        .iter()
        .filter(|&&p| pair.y[p] < 0)
        .chain(train.iter().filter(|&&p| pair.y[p] > 0))
        .copied()
        .collect();
    let index: Vec<usize> = order.iter().map(|&p| pair.index[p]).collect();
    let y: Vec<i8> = order.iter().map(|&p| -pair.y[p]).collect();
    let fit = match &pair.costs {
        Costs::C(c) => {
            let c = order.iter().map(|&p| c[p]).collect();
            formulation::solve(
                rows,
                index.clone(),
                Formulation::CSvc { y, c },
                run,
                monitor,
            )?
        }
        Costs::Nu { w, nu } => {
            let w: Vec<f64> = order.iter().map(|&p| w[p]).collect();
            formulation::solve(
                rows,
                index.clone(),
                Formulation::NuSvc { y, w: &w, nu: *nu },
                run,
                monitor,
            )?
        }
    };
    let values = test
        .iter()
        .map(|&p| {
            let x = pair.index[p];
            let mut sum = 0.0;
            for (&sv, &c) in index.iter().zip(&fit.coef) {
                if c != 0.0 {
                    sum += c * rows.k_predict(x, sv);
                }
            }
            // The fold model's first label is -1: libsvm multiplies by it.
            -(sum - fit.rho)
        })
        .collect();
    Ok((values, fit.timed_out || fit.stopped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_cover_every_row_once() {
        let l = 13;
        let mut seen = vec![0; l];
        for f in 0..N_FOLD {
            for i in fold(l, f) {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn the_generator_restarts_after_a_trained_pair() {
        let y: Vec<i8> = vec![1, 1, 1, -1, -1, -1, -1];
        let p = shuffles(5, &[&y, &y]);
        assert_eq!(p[0], p[1]);
        let mut sorted = p[0].clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..7).collect::<Vec<_>>());
    }
}
