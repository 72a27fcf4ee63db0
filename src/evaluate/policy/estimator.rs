//! The off-policy estimators and the per-row quantities they share.
//!
//! Every estimator is written as `sum(a) / n + sum(b) / sum(c)` over per-row terms `a`, `b`,
//! `c` (the ratio part is 0 when `sum(c) = 0`), so that the point estimate and every bootstrap
//! replicate are the same accumulation over a set of rows. The `a`, `b`, `c` of all the
//! estimators are only eight distinct terms per row ([`RowTerms::terms`]), computed once: a
//! set of rows counted any number of times is summarised by the eight count-weighted column
//! sums ([`TermSums`]). With `w` the (clipped) importance
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
}

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

/// Number of distinct per-row terms the estimators' `a`, `b`, `c` are made of (see
/// [`RowTerms::terms`]).
pub(crate) const N_TERMS: usize = 8;

/// Positions of the terms in [`RowTerms::terms`].
mod term {
    /// `w r`.
    pub const WR: usize = 0;
    /// `dm`.
    pub const DM: usize = 1;
    /// `dm + w (r - q(x, a_i))`.
    pub const DR: usize = 2;
    /// `dm + [w_raw <= tau] w_raw (r - q(x, a_i))`.
    pub const SWITCH: usize = 3;
    /// `m r`.
    pub const MR: usize = 4;
    /// `w (r - q(x, a_i))`.
    pub const W_RESID: usize = 5;
    /// `m`.
    pub const M: usize = 6;
    /// `w`, the clipped weight.
    pub const W: usize = 7;
}

/// Position of the `m` term (whether the policy is deterministic on the logged action).
pub(crate) const MATCHED_TERM: usize = term::M;

impl OpeEstimator {
    /// The positions of the estimator's `a`, `b`, `c` terms in [`RowTerms::terms`] (`None`:
    /// the term is 0): the table of the module documentation.
    fn parts(self) -> [Option<usize>; 3] {
        use term::*;
        match self {
            OpeEstimator::Replay => [None, Some(MR), Some(M)],
            OpeEstimator::Ips => [Some(WR), None, None],
            OpeEstimator::Snips => [None, Some(WR), Some(W)],
            OpeEstimator::Dm => [Some(DM), None, None],
            OpeEstimator::Dr => [Some(DR), None, None],
            OpeEstimator::Sndr => [Some(DM), Some(W_RESID), Some(W)],
            OpeEstimator::SwitchDr => [Some(SWITCH), None, None],
        }
    }
}

impl RowTerms {
    /// The row's distinct terms under the weighting: every estimator's `a`, `b` and `c` is one
    /// of them (or 0), so the estimates of any set of rows, counted any number of times, are
    /// read from the `N_TERMS` weighted column sums (see [`TermSums`]).
    #[inline]
    pub fn terms(&self, s: Weighting) -> [f64; N_TERMS] {
        let w = self.weight.min(s.clip);
        let r = self.reward;
        let resid = r - self.q_logged;
        let switch = if self.weight <= s.tau {
            self.weight * resid
        } else {
            0.0
        };
        let mut t = [0.0; N_TERMS];
        t[term::WR] = w * r;
        t[term::DM] = self.dm;
        t[term::DR] = self.dm + w * resid;
        t[term::SWITCH] = self.dm + switch;
        t[term::MR] = self.matched * r;
        t[term::W_RESID] = w * resid;
        t[term::M] = self.matched;
        t[term::W] = w;
        t
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

/// The (count-weighted) sums of the per-row terms over a set of rows, and the number of rows:
/// what every estimate is read from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct TermSums {
    pub n: f64,
    pub t: [f64; N_TERMS],
}

impl TermSums {
    /// Adds the terms of one row (`N_TERMS` values), counted `times` times.
    #[inline]
    pub fn add(&mut self, row: &[f64; N_TERMS], times: f64) {
        for (s, v) in self.t.iter_mut().zip(row) {
            *s += times * v;
        }
        self.n += times;
    }

    /// Adds the sums of a later block.
    pub fn merge(&mut self, o: &TermSums) {
        for (s, v) in self.t.iter_mut().zip(&o.t) {
            *s += v;
        }
        self.n += o.n;
    }

    /// The estimate of `e` from these sums: `sum(a) / n + sum(b) / sum(c)`, a part being 0
    /// when its denominator is 0.
    pub fn estimate(&self, e: OpeEstimator) -> f64 {
        let [a, b, c] = e.parts().map(|k| k.and_then(|k| self.t.get(k)).copied());
        let mean = match a {
            Some(a) if self.n > 0.0 => a / self.n,
            _ => 0.0,
        };
        let ratio = match (b, c) {
            (Some(b), Some(c)) if c > 0.0 => b / c,
            _ => 0.0,
        };
        mean + ratio
    }
}

/// The sums of the point estimate: the term sums, and the square sum and the largest of the
/// clipped weights.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    pub terms: TermSums,
    pub w2: f64,
    pub w_max: f64,
}

impl Sums {
    /// Adds one row's terms.
    #[inline]
    pub fn add(&mut self, row: &[f64; N_TERMS]) {
        self.terms.add(row, 1.0);
        let w = row[term::W];
        self.w2 += w * w;
        self.w_max = self.w_max.max(w);
    }

    /// Adds the sums of a later block.
    pub fn merge(&mut self, o: &Sums) {
        self.terms.merge(&o.terms);
        self.w2 += o.w2;
        self.w_max = self.w_max.max(o.w_max);
    }

    /// The estimate of `e`.
    pub fn estimate(&self, e: OpeEstimator) -> f64 {
        self.terms.estimate(e)
    }

    /// Kish's effective sample size of the clipped weights, `(sum w)^2 / sum w^2`.
    pub fn effective_sample_size(&self) -> f64 {
        let w = self.terms.t[term::W];
        if self.w2 > 0.0 {
            w * w / self.w2
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
    fn one_row_gives_the_table_of_the_module_documentation() {
        // w = 2 clipped to 1.5, r = 1, q(x, a_i) = 0.25, dm = 0.5, matched.
        let row = RowTerms {
            reward: 1.0,
            weight: 2.0,
            matched: 1.0,
            dm: 0.5,
            q_logged: 0.25,
        };
        let s = Weighting {
            clip: 1.5,
            tau: 1.0,
        };
        let mut sums = Sums::default();
        sums.add(&row.terms(s));
        let want = [1.0, 1.5, 1.0, 0.5, 0.5 + 1.5 * 0.75, 0.5 + 0.75, 0.5];
        for (e, want) in OpeEstimator::ALL.into_iter().zip(want) {
            assert_eq!(sums.estimate(e), want, "{}", e.name());
        }
        assert_eq!(sums.effective_sample_size(), 1.0);
        assert_eq!(sums.w_max, 1.5);
    }
}
