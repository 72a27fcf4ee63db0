//! The results table of a search: per candidate its parameters and, per metric, the mean,
//! standard deviation, rank and fold scores; the best candidate; the refit pipeline.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::evaluate::selection::cross_validate::mean_std;
use crate::evaluate::selection::param_path::Params;
use crate::service::pipeline::Pipeline;

/// One metric's scores of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// Test score per fold, in fold order.
    #[serde(with = "crate::common::json_float::vec")]
    pub folds: Vec<f64>,
    /// Mean of the fold scores.
    #[serde(with = "crate::common::json_float::one")]
    pub mean: f64,
    /// Population standard deviation of the fold scores.
    #[serde(with = "crate::common::json_float::one")]
    pub std: f64,
    /// Rank among all candidates (1 = best; ties share the smallest rank, as
    /// `rankdata(-mean, method="min")`; the smallest mean is best for a metric that is not
    /// greater-is-better).
    pub rank: usize,
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    /// The parameters set by path.
    pub params: Params,
    /// Per metric, in the order of [`SearchResults::metrics`].
    pub scores: Vec<CandidateScore>,
    /// Mean fit time over the folds, in seconds.
    pub mean_fit_time: f64,
    /// Standard deviation of the fit time.
    pub std_fit_time: f64,
    /// Mean score time over the folds, in seconds.
    pub mean_score_time: f64,
    /// Successive-halving iteration (0 for grid and random search).
    pub iteration: usize,
    /// Rows used per split in this iteration (the whole data for grid and random search).
    pub n_resources: usize,
}

/// What a search returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResults {
    /// The metric names, in the order asked.
    pub metrics: Vec<String>,
    /// Per metric, whether a larger mean is better (`false` for a plain error or
    /// `davies_bouldin_score`: the smallest mean ranks first).
    #[serde(default)]
    pub greater_is_better: Vec<bool>,
    /// The metric that chose the best candidate.
    pub refit_metric: String,
    /// One row per evaluated candidate (per iteration for successive halving).
    pub candidates: Vec<CandidateResult>,
    /// The row of the best candidate.
    pub best_index: usize,
    /// The best candidate's parameters.
    pub best_params: Params,
    /// The best candidate's mean score of the refit metric.
    #[serde(with = "crate::common::json_float::one")]
    pub best_score: f64,
    /// The best config fitted on all data (when refit was asked).
    #[serde(skip)]
    pub best_pipeline: Option<Pipeline>,
}

/// Ranks as `scipy.stats.rankdata(-means, method="min")`; NaN means rank last, as
/// scikit-learn does.
pub fn rank_min(means: &[f64]) -> Vec<usize> {
    let worst_nan = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    means
        .iter()
        .map(|&m| {
            let m = worst_nan(m);
            1 + means.iter().filter(|&&o| worst_nan(o) > m).count()
        })
        .collect()
}

/// Builds a candidate score from fold scores (rank filled in later).
pub(crate) fn candidate_score(folds: Vec<f64>) -> CandidateScore {
    let (mean, std) = mean_std(&folds);
    CandidateScore {
        folds,
        mean,
        std,
        rank: 0,
    }
}

impl SearchResults {
    /// Fills in the ranks of every metric over all candidates.
    pub(crate) fn rank(&mut self) {
        for k in 0..self.metrics.len() {
            let means: Vec<f64> = self
                .candidates
                .iter()
                .map(|c| self.oriented(k, c.scores.get(k).map_or(f64::NAN, |s| s.mean)))
                .collect();
            for (c, r) in self.candidates.iter_mut().zip(rank_min(&means)) {
                if let Some(s) = c.scores.get_mut(k) {
                    s.rank = r;
                }
            }
        }
    }

    /// `mean` of metric `k` oriented so that larger is better (negated for a metric that is
    /// not greater-is-better).
    pub fn oriented(&self, k: usize, mean: f64) -> f64 {
        if self.greater_is_better.get(k).copied().unwrap_or(true) {
            mean
        } else {
            -mean
        }
    }

    /// The index of the refit metric.
    pub fn refit_index(&self) -> usize {
        self.metrics
            .iter()
            .position(|m| *m == self.refit_metric)
            .unwrap_or(0)
    }
}

impl fmt::Display for SearchResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paths: Vec<&String> = {
            let mut p: Vec<&String> = self
                .candidates
                .iter()
                .flat_map(|c| c.params.keys())
                .collect();
            p.sort();
            p.dedup();
            p
        };
        let value = |c: &CandidateResult, p: &String| {
            c.params
                .get(p)
                .map_or_else(|| "-".to_string(), |v| v.to_string())
        };
        let mut widths: Vec<usize> = paths
            .iter()
            .map(|p| {
                self.candidates
                    .iter()
                    .map(|c| value(c, p).len())
                    .chain(std::iter::once(p.len()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        widths.iter_mut().for_each(|w| *w = (*w).max(4));
        write!(f, "{:>4}", "#")?;
        let halving = self.candidates.iter().any(|c| c.iteration > 0);
        if halving {
            write!(f, " {:>4} {:>9}", "iter", "resources")?;
        }
        for (p, w) in paths.iter().zip(&widths) {
            write!(f, "  {p:>w$}")?;
        }
        let mw: Vec<usize> = self.metrics.iter().map(|m| (m.len() + 5).max(12)).collect();
        for (m, w) in self.metrics.iter().zip(&mw) {
            write!(
                f,
                "  {:>w$} {:>10} {:>4}",
                format!("mean {m}"),
                "std",
                "rank"
            )?;
        }
        writeln!(f, "  {:>10}", "fit (s)")?;
        for (i, c) in self.candidates.iter().enumerate() {
            write!(f, "{i:>4}")?;
            if halving {
                write!(f, " {:>4} {:>9}", c.iteration, c.n_resources)?;
            }
            for (p, w) in paths.iter().zip(&widths) {
                write!(f, "  {:>w$}", value(c, p))?;
            }
            for (s, w) in c.scores.iter().zip(&mw) {
                write!(f, "  {:>w$.6} {:>10.6} {:>4}", s.mean, s.std, s.rank)?;
            }
            writeln!(f, "  {:>10.4}", c.mean_fit_time)?;
        }
        writeln!(
            f,
            "best: #{} {} = {:.6} with {}",
            self.best_index,
            self.refit_metric,
            self.best_score,
            serde_json::to_string(&self.best_params).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_like_rankdata_min_of_negated_means() {
        assert_eq!(rank_min(&[0.5, 0.9, 0.5, 0.1]), vec![2, 1, 2, 4]);
        assert_eq!(rank_min(&[f64::NAN, 0.2, 0.2]), vec![3, 1, 1]);
    }
}
