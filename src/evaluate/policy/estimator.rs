//! The off-policy estimators and the per-row quantities they share.
//!
//! Every estimator is written as `sum(a) / n + sum(b) / sum(c)` over per-row terms `a`, `b`,
//! `c` (the ratio part is 0 when `sum(c) = 0`), so that the point estimate and every bootstrap
//! replicate are the same accumulation over a set of rows. With `w` the (clipped) importance
//! weight `pi(a_i | x_i) / p_i`, `r` the reward, `q` the reward model, `dm_i = sum_a pi(a |
//! x_i) q(x_i, a) / sum_a pi(a | x_i)` and `m_i = 1` when the evaluated policy puts all its
//! mass on the logged action:
//!
//! | estimator | `a` | `b` | `c` |
//! |---|---|---|---|
//! | `replay` | 0 | `m r` | `m` |
//! | `ips` | `w r` | 0 | 0 |
//! | `snips` | 0 | `w r` | `w` |
//! | `dm` | `dm` | 0 | 0 |
//! | `dr` | `dm + w (r - q(x, a_i))` | 0 | 0 |
//! | `sndr` | `dm` | `w (r - q(x, a_i))` | `w` |
//! | `switch_dr` | `dm + [w_raw <= tau] w_raw (r - q(x, a_i))` | 0 | 0 |

use serde::{Deserialize, Serialize};

/// An off-policy estimator, by its name in the options (`"ips"`, `"dr"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpeEstimator {
    /// Replay (Li et al. 2011): the mean reward of the rows where the evaluated
    /// (deterministic) policy picks the logged action; unbiased under uniform logging.
    Replay,
    /// Inverse propensity scoring, with weight clipping.
    Ips,
    /// Self-normalized IPS.
    Snips,
    /// The direct method: the reward model averaged under the evaluated policy.
    Dm,
    /// Doubly robust: the direct method corrected by the weighted residual of the logged
    /// action.
    Dr,
    /// Self-normalized doubly robust.
    Sndr,
    /// Switch doubly robust (Wang et al. 2017): the residual correction only where the raw
    /// weight is at most `tau`.
    SwitchDr,
}

impl OpeEstimator {
    /// Every estimator, in report order.
    pub const ALL: [OpeEstimator; 7] = [
        OpeEstimator::Replay,
        OpeEstimator::Ips,
        OpeEstimator::Snips,
        OpeEstimator::Dm,
        OpeEstimator::Dr,
        OpeEstimator::Sndr,
        OpeEstimator::SwitchDr,
    ];

    /// The name in options and reports.
    pub fn name(self) -> &'static str {
        match self {
            OpeEstimator::Replay => "replay",
            OpeEstimator::Ips => "ips",
            OpeEstimator::Snips => "snips",
            OpeEstimator::Dm => "dm",
            OpeEstimator::Dr => "dr",
            OpeEstimator::Sndr => "sndr",
            OpeEstimator::SwitchDr => "switch_dr",
        }
    }

    /// Whether the estimator reads a reward model.
    pub fn needs_reward_model(self) -> bool {
        matches!(
            self,
            OpeEstimator::Dm | OpeEstimator::Dr | OpeEstimator::Sndr | OpeEstimator::SwitchDr
        )
    }

    /// Whether the estimator reads the logging propensities.
    pub fn needs_propensities(self) -> bool {
        !matches!(self, OpeEstimator::Replay | OpeEstimator::Dm)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Number of estimators.
pub(crate) const N_EST: usize = OpeEstimator::ALL.len();

/// What one logged row contributes, computed once: the reward, the raw importance weight,
/// whether the evaluated policy is deterministic on the logged action, the direct-method
/// value and the reward model at the logged action.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RowTerms {
    pub reward: f64,
    pub weight: f64,
    pub matched: f64,
    pub dm: f64,
    pub q_logged: f64,
}

/// Number of `f64`s a [`RowTerms`] is stored in.
pub(crate) const ROW_WIDTH: usize = 5;

impl RowTerms {
    /// Writes the terms into `out` (`ROW_WIDTH` values).
    pub fn store(&self, out: &mut [f64]) {
        if let [r, w, m, d, q] = out {
            (*r, *w, *m, *d, *q) = (
                self.reward,
                self.weight,
                self.matched,
                self.dm,
                self.q_logged,
            );
        }
    }

    /// Reads the terms from `row` (`ROW_WIDTH` values).
    #[inline]
    pub fn load(row: &[f64]) -> Self {
        match row {
            [reward, weight, matched, dm, q_logged, ..] => Self {
                reward: *reward,
                weight: *weight,
                matched: *matched,
                dm: *dm,
                q_logged: *q_logged,
            },
            _ => Self::default(),
        }
    }
}

/// The settings the per-row terms depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weighting {
    /// Upper bound on the importance weight (`f64::INFINITY`: no clipping).
    pub clip: f64,
    /// Switch threshold of `switch_dr` (`f64::INFINITY`: always correct).
    pub tau: f64,
}

/// The running sums of every estimator's `a`, `b`, `c` terms and of the weights.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    pub n: f64,
    pub a: [f64; N_EST],
    pub b: [f64; N_EST],
    pub c: [f64; N_EST],
    /// Sum of the clipped weights and of their squares (effective sample size).
    pub w: f64,
    pub w2: f64,
    pub w_max: f64,
}

impl Sums {
    /// Adds one row, counted `times` times.
    #[inline]
    pub fn add(&mut self, t: &RowTerms, s: Weighting, times: f64) {
        let w = t.weight.min(s.clip);
        let r = t.reward;
        let resid = r - t.q_logged;
        let switch = if t.weight <= s.tau {
            t.weight * resid
        } else {
            0.0
        };
        let a = [0.0, w * r, 0.0, t.dm, t.dm + w * resid, t.dm, t.dm + switch];
        let b = [t.matched * r, 0.0, w * r, 0.0, 0.0, w * resid, 0.0];
        let c = [t.matched, 0.0, w, 0.0, 0.0, w, 0.0];
        for k in 0..N_EST {
            self.a[k] += times * a[k];
            self.b[k] += times * b[k];
            self.c[k] += times * c[k];
        }
        self.n += times;
        self.w += times * w;
        self.w2 += times * w * w;
        if times > 0.0 {
            self.w_max = self.w_max.max(w);
        }
    }

    /// Adds the sums of a later block.
    pub fn merge(&mut self, o: &Sums) {
        for k in 0..N_EST {
            self.a[k] += o.a[k];
            self.b[k] += o.b[k];
            self.c[k] += o.c[k];
        }
        self.n += o.n;
        self.w += o.w;
        self.w2 += o.w2;
        self.w_max = self.w_max.max(o.w_max);
    }

    /// The estimate of `e` from these sums.
    pub fn estimate(&self, e: OpeEstimator) -> f64 {
        let k = e.index();
        let mean = if self.n > 0.0 {
            self.a[k] / self.n
        } else {
            0.0
        };
        let ratio = if self.c[k] > 0.0 {
            self.b[k] / self.c[k]
        } else {
            0.0
        };
        mean + ratio
    }

    /// Kish's effective sample size of the clipped weights, `(sum w)^2 / sum w^2`.
    pub fn effective_sample_size(&self) -> f64 {
        if self.w2 > 0.0 {
            self.w * self.w / self.w2
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for e in OpeEstimator::ALL {
            let json = serde_json::to_value(e).unwrap();
            assert_eq!(json, serde_json::json!(e.name()));
            assert_eq!(serde_json::from_value::<OpeEstimator>(json).unwrap(), e);
        }
    }

    #[test]
    fn row_terms_store_and_load() {
        let t = RowTerms {
            reward: 1.0,
            weight: 2.0,
            matched: 1.0,
            dm: 0.5,
            q_logged: 0.25,
        };
        let mut buf = [0.0; ROW_WIDTH];
        t.store(&mut buf);
        assert_eq!(RowTerms::load(&buf), t);
    }
}
