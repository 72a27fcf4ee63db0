//! Successive halving, as scikit-learn's `HalvingGridSearchCV` with `resource="n_samples"`:
//! every iteration evaluates the surviving candidates on `factor` times more rows and keeps
//! the best `ceil(n / factor)` by mean score of the refit metric.
//!
//! The schedule is scikit-learn's: `min_resources` `"smallest"` is `2 · n_splits` rows (times
//! the number of classes for a classifier); `"exhaust"` raises it so that the last iteration
//! uses as many rows as possible; the number of iterations is the smaller of what the
//! candidates need (`1 + floor(log_factor(n_candidates))`) and what the rows allow. Each
//! iteration subsamples each split's training and test rows to `n_resources / n_samples` of
//! their size, without replacement, seeded (not numpy's draws). The best candidate is the best
//! of the last iteration.
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::data::KFold;
//! use amlis::evaluate::selection::{HalvingSearch, MinResources, ParamGrid, SearchOptions};
//! use amlis::traits::FitContext;
//!
//! let table = amlis::data::datasets::diabetes_table()?;
//! let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor"}}"#)?;
//! let grid = ParamGrid::from_json(r#"{"model.strategy": ["quantile"],
//!     "model.quantile": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}"#)?;
//! let search = HalvingSearch::new(grid.candidates()?, SearchOptions::metrics(&["r2"]))
//!     .min_resources(MinResources::Exhaust);
//! let results = search.fit(&base, &table, "progression", &KFold::new(3), &FitContext::new())?;
//! assert_eq!(results.candidates.iter().filter(|c| c.iteration == 0).count(), 10);
//! assert_eq!(results.candidates.iter().filter(|c| c.iteration == 2).count(), 2);
//! # Ok::<(), amlis::Error>(())
//! ```

use rand::seq::index::sample;

use crate::common::rng;
use crate::data::{Split, Splitter, Table};
use crate::error::{Error, Result};
use crate::evaluate::selection::cross_validate::{split_data, CvData, TableData};
use crate::evaluate::selection::param_path::Params;
use crate::evaluate::selection::results::SearchResults;
use crate::evaluate::selection::search::{
    candidate_configs, evaluate_candidates, finish, prepare, Progress, SearchOptions,
};
use crate::models::kit::setters;
use crate::service::config::TrainConfig;
use crate::traits::FitContext;

/// The rows of the first iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinResources {
    /// `2 · n_splits` (times the number of classes for a classifier).
    Smallest,
    /// As many as lets the last iteration use (nearly) every row (scikit-learn's default).
    #[default]
    Exhaust,
    /// This many rows.
    Count(usize),
}

/// The iteration schedule: rows and candidates per iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Rows per iteration.
    pub n_resources: Vec<usize>,
    /// Candidates evaluated per iteration.
    pub n_candidates: Vec<usize>,
}

/// `1 + floor(log_factor(x))` for `x >= 1`, in exact integer arithmetic.
fn one_plus_floor_log(x: usize, factor: usize) -> usize {
    let mut n = 1;
    let mut p = factor;
    while p <= x {
        n += 1;
        p = match p.checked_mul(factor) {
            Some(q) => q,
            None => break,
        };
    }
    n
}

/// Successive-halving search over explicit candidates (e.g. a grid's).
#[derive(Debug, Clone, PartialEq)]
pub struct HalvingSearch {
    /// The candidates.
    pub candidates: Vec<Params>,
    /// The keep ratio and resource growth per iteration (default 3).
    pub factor: usize,
    /// Rows of the first iteration (default exhaust).
    pub min_resources: MinResources,
    /// Seed of the row subsampling.
    pub random_state: u64,
    /// Metrics, refit metric, refit.
    pub options: SearchOptions,
}

setters!(HalvingSearch {
    /// Sets the factor (at least 2).
    factor: usize,
    /// Sets the first iteration's rows.
    min_resources: MinResources,
    /// Sets the seed of the row subsampling.
    random_state: u64,
});

impl HalvingSearch {
    /// A halving search with factor 3, `min_resources = "exhaust"`, seed 0.
    pub fn new(candidates: Vec<Params>, options: SearchOptions) -> Self {
        Self {
            candidates,
            factor: 3,
            min_resources: MinResources::Exhaust,
            random_state: 0,
            options,
        }
    }

    /// The schedule for `n_samples` rows, `n_splits` folds and `n_classes` classes (0 for a
    /// regressor), as scikit-learn computes it (candidate counts assume no ties).
    pub fn schedule(
        &self,
        n_samples: usize,
        n_splits: usize,
        n_classes: usize,
    ) -> Result<Schedule> {
        if self.factor < 2 {
            return Err(Error::param("factor", self.factor, "an integer >= 2"));
        }
        if self.candidates.is_empty() {
            return Err(Error::Empty("halving search candidates".into()));
        }
        let smallest = 2 * n_splits * n_classes.max(1);
        let n_required = one_plus_floor_log(self.candidates.len(), self.factor);
        let min_resources = match self.min_resources {
            MinResources::Smallest => smallest,
            MinResources::Count(n) => n,
            MinResources::Exhaust => {
                let last = u32::try_from(n_required - 1).unwrap_or(u32::MAX);
                let div = self.factor.checked_pow(last).unwrap_or(usize::MAX);
                smallest.max(n_samples / div)
            }
        };
        if min_resources == 0 || min_resources > n_samples {
            return Err(Error::param(
                "min_resources",
                min_resources,
                &format!("between 1 and the number of rows, {n_samples}"),
            ));
        }
        let n_possible = one_plus_floor_log(n_samples / min_resources, self.factor);
        let n_iterations = n_possible.min(n_required);
        let mut n_resources = Vec::with_capacity(n_iterations);
        let mut n_candidates = Vec::with_capacity(n_iterations);
        let mut c = self.candidates.len();
        for itr in 0..n_iterations {
            let pow = self
                .factor
                .checked_pow(u32::try_from(itr).unwrap_or(u32::MAX))
                .unwrap_or(usize::MAX);
            n_resources.push(pow.saturating_mul(min_resources).min(n_samples));
            n_candidates.push(c);
            c = c.div_ceil(self.factor);
        }
        Ok(Schedule {
            n_resources,
            n_candidates,
        })
    }

    /// Runs the halving iterations on `table`, then refits the best of the last iteration
    /// (`target`: the target column, or `None` for a model that learns without one).
    pub fn fit<'t>(
        &self,
        base: &TrainConfig,
        table: &Table,
        target: impl Into<Option<&'t str>>,
        splitter: &dyn Splitter,
        ctx: &FitContext<'_>,
    ) -> Result<SearchResults> {
        let data = TableData::new(table, target, base.model.estimator())?;
        let prepared = prepare(&data, &self.options)?;
        let configs = candidate_configs(base, &self.candidates)?;
        let n = data.n_rows();
        let base_splits = split_data(&data, splitter)?;
        // scikit-learn counts classes only for a classifier (a clusterer's labels are not).
        let n_classes = match data.estimator() {
            Some(crate::models::Estimator::Classifier) => data.target_task().classes().len(),
            _ => 0,
        };
        let greater = prepared
            .metrics
            .get(k_refit(&prepared))
            .is_none_or(|m| m.greater_is_better());
        let schedule = self.schedule(n, base_splits.len(), n_classes)?;
        let total: usize = schedule.n_candidates.iter().sum();
        let k = k_refit(&prepared);

        let mut alive: Vec<usize> = (0..configs.len()).collect();
        let mut rows = Vec::new();
        let mut last_rows: Vec<usize> = Vec::new();
        let mut offset = 0;
        for (itr, &n_resources) in schedule.n_resources.iter().enumerate() {
            let splits = subsample(&base_splits, n_resources, n, self.random_state, itr);
            let cands: Vec<Params> = alive
                .iter()
                .filter_map(|&i| self.candidates.get(i).cloned())
                .collect();
            let confs: Vec<TrainConfig> = alive
                .iter()
                .filter_map(|&i| configs.get(i).cloned())
                .collect();
            let progress = Progress::new(ctx, confs.len(), splits.len(), offset, total);
            let new_rows = evaluate_candidates(
                &data,
                &cands,
                &confs,
                &splits,
                &prepared.metrics,
                ctx,
                &progress,
                itr,
                n_resources,
            )?;
            offset += confs.len();
            // _top_k: ascending stable order of the mean (NaN first), keep the last ceil(n/f);
            // the mean negated for a lower-is-better metric.
            let mut order: Vec<usize> = (0..new_rows.len()).collect();
            let mean = |i: usize| {
                let m = new_rows
                    .get(i)
                    .and_then(|r| r.scores.get(k))
                    .map_or(f64::NAN, |s| s.mean);
                if greater {
                    m
                } else {
                    -m
                }
            };
            order.sort_by(|&a, &b| {
                let (x, y) = (mean(a), mean(b));
                match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Less,
                    (false, true) => std::cmp::Ordering::Greater,
                    _ => x.total_cmp(&y),
                }
            });
            let keep = new_rows.len().div_ceil(self.factor);
            let kept: Vec<usize> = order
                .iter()
                .skip(order.len().saturating_sub(keep))
                .filter_map(|&i| alive.get(i).copied())
                .collect();
            last_rows = (rows.len()..rows.len() + new_rows.len()).collect();
            rows.extend(new_rows);
            alive = kept;
        }
        finish(
            &data,
            base,
            prepared,
            rows,
            Some(&last_rows),
            self.options.refit,
            ctx,
        )
    }
}

/// The index of the refit metric among the prepared metrics.
fn k_refit(prepared: &super::search::Prepared) -> usize {
    prepared
        .names
        .iter()
        .position(|m| *m == prepared.refit_metric)
        .unwrap_or(0)
}

/// Each split with its training and test rows subsampled to `n_resources / n_samples` of
/// their size (without replacement, ascending order), seeded per iteration and split.
fn subsample(
    splits: &[Split],
    n_resources: usize,
    n_samples: usize,
    seed: u64,
    iteration: usize,
) -> Vec<Split> {
    let fraction = n_resources as f64 / n_samples.max(1) as f64;
    let pick = |rows: &[usize], task: u64| -> Vec<usize> {
        let m = ((fraction * rows.len() as f64) as usize).min(rows.len());
        if m == rows.len() {
            return rows.to_vec();
        }
        let mut r = rng::for_task(seed, task);
        let mut idx: Vec<usize> = sample(&mut r, rows.len(), m)
            .into_iter()
            .filter_map(|i| rows.get(i).copied())
            .collect();
        idx.sort_unstable();
        idx
    };
    splits
        .iter()
        .enumerate()
        .map(|(f, s)| {
            let task = ((iteration * splits.len() + f) as u64) * 2;
            Split {
                train: pick(&s.train, task),
                test: pick(&s.test, task + 1),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(n: usize, min: MinResources) -> HalvingSearch {
        HalvingSearch::new(vec![Params::new(); n], SearchOptions::default()).min_resources(min)
    }

    #[test]
    fn schedule_matches_scikit_learn() {
        // HalvingGridSearchCV(factor=3, cv=5), 1000 rows, 30 candidates, regressor:
        // exhaust -> min_resources_ = max(10, 1000 // 27) = 37; n_resources_ = [37, 111, 333, 999].
        let s = search(30, MinResources::Exhaust)
            .schedule(1000, 5, 0)
            .unwrap();
        assert_eq!(s.n_resources, vec![37, 111, 333, 999]);
        assert_eq!(s.n_candidates, vec![30, 10, 4, 2]);
        // smallest with 3 classes: 2 * 5 * 3 = 30; possible 1 + floor(log3(33)) = 4 iterations.
        let s = search(30, MinResources::Smallest)
            .schedule(1000, 5, 3)
            .unwrap();
        assert_eq!(s.n_resources, vec![30, 90, 270, 810]);
        // Few rows: the rows limit the iterations (possible = 1 + floor(log3(150 // 30)) = 2).
        let s = search(30, MinResources::Smallest)
            .schedule(150, 5, 3)
            .unwrap();
        assert_eq!(s.n_resources, vec![30, 90]);
        assert_eq!(s.n_candidates, vec![30, 10]);
        assert!(search(3, MinResources::Count(0))
            .schedule(100, 5, 0)
            .is_err());
    }

    #[test]
    fn subsample_keeps_fraction_and_is_seeded() {
        let splits = vec![Split {
            train: (0..90).collect(),
            test: (90..120).collect(),
        }];
        let a = subsample(&splits, 40, 120, 7, 0);
        assert_eq!((a[0].train.len(), a[0].test.len()), (30, 10));
        assert_eq!(a, subsample(&splits, 40, 120, 7, 0));
        assert!(a[0].test.iter().all(|&i| (90..120).contains(&i)));
        assert_eq!(subsample(&splits, 120, 120, 7, 1), splits);
    }
}
