//! The portfolio: what past data sets taught. For each data set of a corpus, its
//! meta-features and the cross-validated score of every configuration of a fixed grid,
//! learned offline by `examples/meta_portfolio.rs` (driven by `scripts/meta/`) and shipped
//! in `data/meta/portfolio.json`, compiled into the library.
//!
//! The zero-shot step of a search finds the data sets nearest to the new one in normalized
//! meta-feature space (same task) and proposes their best configurations first, interleaved
//! nearest first. Normalization uses the median and inter-quartile range of each
//! meta-feature over the data sets in use, so leaving data sets out (leave-one-data-set-out
//! evaluation) also leaves them out of the normalization.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::meta::features::{MetaFeatures, NAMES};

/// The shipped portfolio, as JSON text.
const SHIPPED: &str = include_str!("../../data/meta/portfolio.json");

/// One data set of the portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioDataset {
    /// The data set's name in the corpus.
    pub name: String,
    /// `classification` or `regression`.
    pub task: String,
    /// Where it comes from (package and loader).
    #[serde(default)]
    pub source: String,
    /// Training rows used.
    pub n_rows: usize,
    /// Its raw meta-features.
    pub meta_features: MetaFeatures,
    /// Per configuration of the portfolio, the mean cross-validated score (`null`: the
    /// configuration is of the other task, or failed).
    #[serde(with = "crate::common::json_float::vec")]
    pub scores: Vec<f64>,
}

/// The portfolio file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// The file format (1).
    pub format: u32,
    /// The amlis version that learned it.
    pub library_version: String,
    /// The meta-feature names, in order.
    pub feature_names: Vec<String>,
    /// The model configurations (JSON objects with a `type`).
    pub configs: Vec<Value>,
    /// The data sets.
    pub datasets: Vec<PortfolioDataset>,
}

impl Portfolio {
    /// The portfolio compiled into the library.
    pub fn shipped() -> Result<Self> {
        Self::from_json(SHIPPED)
    }

    /// Parses and checks a portfolio.
    pub fn from_json(text: &str) -> Result<Self> {
        let p: Portfolio = serde_json::from_str(text)
            .map_err(|e| Error::InvalidArgument(format!("portfolio: not a valid file: {e}")))?;
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        let bad = |m: String| Error::InvalidArgument(format!("portfolio: {m}"));
        if self.format != 1 {
            return Err(bad(format!(
                "format {} (this library reads format 1)",
                self.format
            )));
        }
        if self.feature_names != NAMES {
            return Err(bad(format!(
                "meta-features {:?}, this library computes {:?}",
                self.feature_names, NAMES
            )));
        }
        for d in &self.datasets {
            if d.meta_features.values.len() != NAMES.len() || d.scores.len() != self.configs.len() {
                return Err(bad(format!(
                    "data set `{}` has {} meta-features and {} scores (expected {} and {})",
                    d.name,
                    d.meta_features.values.len(),
                    d.scores.len(),
                    NAMES.len(),
                    self.configs.len()
                )));
            }
        }
        Ok(())
    }

    /// The data sets of `task` not in `exclude`.
    fn in_use<'a>(&'a self, task: &'a str, exclude: &'a [String]) -> Vec<&'a PortfolioDataset> {
        self.datasets
            .iter()
            .filter(|d| d.task == task && !exclude.contains(&d.name))
            .collect()
    }

    /// The configurations proposed for a data set with meta-features `mf`: the best
    /// configurations of the `k` nearest data sets of `task` (not in `exclude`), interleaved
    /// nearest first, without repeats, at most `count`; with the names of those neighbours.
    pub fn zero_shot(
        &self,
        mf: &MetaFeatures,
        task: &str,
        exclude: &[String],
        count: usize,
    ) -> (Vec<Value>, Vec<String>) {
        let pool = self.in_use(task, exclude);
        if pool.is_empty() || count == 0 {
            return (Vec::new(), Vec::new());
        }
        let (centre, scale) = normalization(&pool);
        let norm = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(centre.iter().zip(&scale))
                .map(|(x, (c, s))| (x - c) / s)
                .collect()
        };
        let q = norm(&mf.values);
        let mut by_distance: Vec<(f64, usize)> = pool
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let p = norm(&d.meta_features.values);
                let dist: f64 = p.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum();
                (dist, i)
            })
            .collect();
        by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let k = 3.min(by_distance.len());
        let rankings: Vec<Vec<usize>> = by_distance[..k]
            .iter()
            .filter_map(|&(_, i)| pool.get(i))
            .map(|d| ranking(&d.scores))
            .collect();
        let neighbours = by_distance[..k]
            .iter()
            .filter_map(|&(_, i)| pool.get(i).map(|d| d.name.clone()))
            .collect();
        let mut out: Vec<Value> = Vec::new();
        let depth = rankings.iter().map(Vec::len).max().unwrap_or(0);
        'outer: for r in 0..depth {
            for ranks in &rankings {
                if let Some(c) = ranks.get(r).and_then(|&i| self.configs.get(i)) {
                    if !out.contains(c) {
                        out.push(c.clone());
                        if out.len() >= count {
                            break 'outer;
                        }
                    }
                }
            }
        }
        (out, neighbours)
    }

    /// The prior defaults: of the default configurations of `families` that the portfolio
    /// scored, the `k` with the best mean rank over the data sets of `task` (not in
    /// `exclude`), best first; empty when the portfolio holds none of them. A
    /// configuration's rank on a data set is the share of the task's configurations scored
    /// strictly better there (a failed score ranks last), so one data set with a wild score
    /// range weighs no more than another. A search keeps the better of them unless a
    /// challenger is clearly better (they are learned with the portfolio's metric, accuracy
    /// or r2, whatever the search's metric).
    pub fn prior_defaults(
        &self,
        task: &str,
        exclude: &[String],
        families: &[&str],
        k: usize,
    ) -> Vec<Value> {
        let pool = self.in_use(task, exclude);
        if pool.is_empty() {
            return Vec::new();
        }
        let defaults: Vec<usize> = families
            .iter()
            .filter_map(|f| crate::meta::space::default_config(f).ok())
            .filter_map(|d| self.configs.iter().position(|c| *c == d))
            .filter(|&i| {
                pool.iter()
                    .any(|d| d.scores.get(i).is_some_and(|s| s.is_finite()))
            })
            .collect();
        let mean_rank = |i: usize| -> f64 {
            pool.iter()
                .map(|d| relative_rank(&d.scores, i))
                .sum::<f64>()
                / pool.len() as f64
        };
        let mut ranked: Vec<(f64, usize)> =
            defaults.into_iter().map(|i| (mean_rank(i), i)).collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(k)
            .filter_map(|(_, i)| self.configs.get(i).cloned())
            .collect()
    }
}

/// The share of the finite scores in `scores` strictly better than `scores[i]` (1 when
/// `scores[i]` is not finite, 0 when it is the only one).
fn relative_rank(scores: &[f64], i: usize) -> f64 {
    let Some(mine) = scores.get(i).copied().filter(|s| s.is_finite()) else {
        return 1.0;
    };
    let finite = scores.iter().filter(|s| s.is_finite()).count();
    let better = scores
        .iter()
        .filter(|&&s| s.is_finite() && s > mine)
        .count();
    if finite > 1 {
        better as f64 / (finite - 1) as f64
    } else {
        0.0
    }
}

/// Config indices by score, best first (failed or other-task configs left out).
fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len())
        .filter(|&i| scores.get(i).is_some_and(|s| s.is_finite()))
        .collect();
    idx.sort_by(|&a, &b| {
        let (sa, sb) = (scores.get(a).copied(), scores.get(b).copied());
        sb.unwrap_or(f64::NAN)
            .total_cmp(&sa.unwrap_or(f64::NAN))
            .then(a.cmp(&b))
    });
    idx
}

/// Median and inter-quartile range (at least 1e-6, else the standard deviation or 1) of each
/// meta-feature over `pool`.
fn normalization(pool: &[&PortfolioDataset]) -> (Vec<f64>, Vec<f64>) {
    let mut centre = Vec::with_capacity(NAMES.len());
    let mut scale = Vec::with_capacity(NAMES.len());
    for j in 0..NAMES.len() {
        let mut v: Vec<f64> = pool
            .iter()
            .filter_map(|d| d.meta_features.values.get(j).copied())
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let pos = p * (v.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            let (a, b) = (
                v.get(lo).copied().unwrap_or(0.0),
                v.get(hi).copied().unwrap_or(0.0),
            );
            a + (b - a) * (pos - lo as f64)
        };
        let iqr = q(0.75) - q(0.25);
        centre.push(q(0.5));
        scale.push(if iqr > 1e-6 {
            iqr
        } else {
            let n = v.len().max(1) as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
            if sd > 1e-6 {
                sd
            } else {
                1.0
            }
        });
    }
    (centre, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_portfolio_loads() {
        let p = Portfolio::shipped().unwrap();
        assert_eq!(p.feature_names, NAMES);
    }

    #[test]
    fn relative_ranks_count_strictly_better_scores_and_put_failures_last() {
        let scores = [0.5, f64::NAN, 0.9, 0.5, 0.7];
        assert_eq!(relative_rank(&scores, 2), 0.0);
        assert_eq!(relative_rank(&scores, 4), 1.0 / 3.0);
        assert_eq!(relative_rank(&scores, 0), 2.0 / 3.0);
        assert_eq!(relative_rank(&scores, 3), 2.0 / 3.0);
        assert_eq!(relative_rank(&scores, 1), 1.0);
        assert_eq!(relative_rank(&[0.3], 0), 0.0);
    }

    #[test]
    fn prior_defaults_rank_the_searched_families_defaults_by_mean_rank() {
        let p = Portfolio::shipped().unwrap();
        let all = crate::meta::space::searchable(crate::models::Estimator::Classifier);
        let names = |v: Vec<Value>| -> Vec<String> {
            v.iter()
                .map(|c| c["type"].as_str().unwrap().to_string())
                .collect()
        };
        let two = names(p.prior_defaults("classification", &[], &all, 2));
        assert_eq!(two.len(), 2);
        // Restricted to families, in the order of their mean rank; one family is itself.
        let some = ["gaussian_nb", "decision_tree_classifier", two[1].as_str()];
        let ranked = names(p.prior_defaults("classification", &[], &some, 3));
        assert_eq!(ranked.first(), Some(&two[1]));
        assert_eq!(ranked.len(), 3);
        // Leaving every data set out leaves no prior; a family the grid lacks has none.
        let every: Vec<String> = p.datasets.iter().map(|d| d.name.clone()).collect();
        assert!(p
            .prior_defaults("classification", &every, &all, 2)
            .is_empty());
        assert!(p.prior_defaults("regression", &[], &["svc"], 2).is_empty());
    }

    #[test]
    fn ranking_puts_failures_last_and_breaks_ties_by_index() {
        assert_eq!(ranking(&[0.5, f64::NAN, 0.9, 0.5]), vec![2, 0, 3]);
    }
}
