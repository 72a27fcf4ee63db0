//! Losses: baseline prediction, gradients and hessians, loss values, and the inverse link.
//!
//! Loss values follow scikit-learn's `_loss` module (half squared error, half Poisson deviance
//! without its constant, ...), so `tol` means the same thing as in scikit-learn. Raw
//! predictions are stored class-major: output `c` of row `i` is `raw[c * n + i]`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Rows per parallel chunk; fixed, so sums do not depend on the thread count.
const CHUNK: usize = 8192;

/// The loss of a fitted model, with its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum LossKind {
    /// Binomial or multinomial log loss (logit / softmax link).
    LogLoss,
    /// Half squared error (identity link).
    SquaredError,
    /// Absolute error (identity link).
    AbsoluteError,
    /// Pinball loss at level `quantile`.
    Quantile {
        /// The level in (0, 1).
        quantile: f64,
    },
    /// Huber loss with threshold at the `quantile`-quantile of the absolute residuals.
    Huber {
        /// The level in (0, 1).
        quantile: f64,
    },
    /// Half Poisson deviance (log link).
    Poisson,
}

/// Sum of `f(range)` over fixed chunks of `0..n`, reduced in chunk order.
pub(crate) fn par_sum(n: usize, f: impl Fn(std::ops::Range<usize>) -> f64 + Sync) -> f64 {
    let parts: Vec<f64> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| f(c * CHUNK..((c + 1) * CHUNK).min(n)))
        .collect();
    parts.iter().sum()
}

/// `np.percentile(values, 100 q)` (linear interpolation) without weights, scikit-learn's
/// `_weighted_percentile` (lower weighted percentile) with weights. `values` is reordered.
pub(crate) fn quantile_of(values: &mut [(f64, f64)], q: f64, weighted: bool) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    if !weighted {
        let pos = q * (values.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(values.len() - 1);
        let frac = pos - lo as f64;
        return values[lo].0 + frac * (values[hi].0 - values[lo].0);
    }
    let total: f64 = values.iter().map(|v| v.1).sum();
    let target = q * total;
    let mut cum = 0.0;
    for v in values.iter() {
        cum += v.1;
        if cum >= target {
            return v.0;
        }
    }
    values[values.len() - 1].0
}

#[inline]
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(x))`, stable.
#[inline]
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Training targets and weights of the rows being boosted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Targets<'a> {
    /// Targets (class indices for classification).
    pub y: &'a [f64],
    /// Sample weights.
    pub w: Option<&'a [f64]>,
    /// Number of raw outputs per row (classes for multinomial, else 1).
    pub k: usize,
}

impl Targets<'_> {
    fn weight(&self, i: usize) -> f64 {
        self.w.map_or(1.0, |w| w[i])
    }

    fn total_weight(&self) -> f64 {
        self.w.map_or(self.y.len() as f64, |w| w.iter().sum())
    }
}

impl LossKind {
    /// The quantile that leaves are re-fitted to, for losses whose Newton step is not the
    /// optimal leaf value.
    pub(crate) fn leaf_quantile(&self) -> Option<f64> {
        match *self {
            LossKind::AbsoluteError => Some(0.5),
            LossKind::Quantile { quantile } => Some(quantile),
            _ => None,
        }
    }

    /// The constant hessian per row, when hessians do not depend on the predictions.
    pub(crate) fn constant_hessian(&self, weighted: bool) -> Option<f64> {
        match self {
            LossKind::LogLoss | LossKind::Poisson => None,
            _ if weighted => None,
            _ => Some(1.0),
        }
    }

    /// Checks the targets for this loss (finite; non-negative for Poisson).
    pub(crate) fn check_targets(&self, t: &Targets<'_>) -> Result<()> {
        for (i, &v) in t.y.iter().enumerate() {
            let bad = !v.is_finite() || (matches!(self, LossKind::Poisson) && v < 0.0);
            if bad {
                return Err(Error::InvalidValue {
                    context: "gradient boosting targets".into(),
                    row: i,
                    column: None,
                    message: format!(
                        "target {v} is not allowed: expected a finite number{}",
                        if matches!(self, LossKind::Poisson) {
                            " >= 0 (poisson loss)"
                        } else {
                            ""
                        }
                    ),
                });
            }
        }
        if matches!(self, LossKind::Poisson) && !t.y.is_empty() {
            let s: f64 = (0..t.y.len()).map(|i| t.weight(i) * t.y[i]).sum();
            if s <= 0.0 {
                return Err(Error::InvalidArgument(
                    "poisson loss needs targets with a positive sum".into(),
                ));
            }
        }
        Ok(())
    }

    /// The constant raw prediction that minimises the loss (scikit-learn's
    /// `fit_intercept_only`), one per output.
    pub(crate) fn baseline(&self, t: &Targets<'_>) -> Vec<f64> {
        let total = t.total_weight().max(f64::MIN_POSITIVE);
        let mean = (0..t.y.len()).map(|i| t.weight(i) * t.y[i]).sum::<f64>() / total;
        let quantile = |q: f64| {
            let mut v: Vec<(f64, f64)> = (0..t.y.len()).map(|i| (t.y[i], t.weight(i))).collect();
            quantile_of(&mut v, q, t.w.is_some())
        };
        match *self {
            LossKind::SquaredError => vec![mean],
            LossKind::AbsoluteError | LossKind::Huber { .. } => vec![quantile(0.5)],
            LossKind::Quantile { quantile: q } => vec![quantile(q)],
            LossKind::Poisson => vec![mean.max(f64::MIN_POSITIVE).ln()],
            LossKind::LogLoss => {
                let eps = f64::EPSILON;
                let mut prior = vec![0.0; t.k.max(2)];
                for i in 0..t.y.len() {
                    if let Some(p) = prior.get_mut(t.y[i] as usize) {
                        *p += t.weight(i);
                    }
                }
                let logs: Vec<f64> = prior
                    .iter()
                    .map(|p| (p / total).clamp(eps, 1.0 - eps).ln())
                    .collect();
                if t.k == 1 {
                    vec![logs[1] - logs[0]]
                } else {
                    let m = logs.iter().sum::<f64>() / logs.len() as f64;
                    logs.iter().map(|l| l - m).collect()
                }
            }
        }
    }

    /// The Huber threshold for the current predictions (`None` for other losses).
    pub(crate) fn huber_delta(&self, t: &Targets<'_>, raw: &[f64]) -> Option<f64> {
        let LossKind::Huber { quantile } = *self else {
            return None;
        };
        let mut v: Vec<(f64, f64)> = (0..t.y.len())
            .map(|i| ((t.y[i] - raw[i]).abs(), t.weight(i)))
            .collect();
        Some(quantile_of(&mut v, quantile, t.w.is_some()))
    }

    /// Loss, gradient and hessian of one single-output row.
    #[inline(always)]
    fn single(&self, y: f64, raw: f64, delta: f64) -> (f64, f64, f64) {
        match *self {
            LossKind::SquaredError => {
                let d = raw - y;
                (0.5 * d * d, d, 1.0)
            }
            LossKind::AbsoluteError => {
                let g = if raw > y { 1.0 } else { -1.0 };
                ((y - raw).abs(), g, 1.0)
            }
            LossKind::Quantile { quantile: q } => {
                if y >= raw {
                    let g = if y > raw { -q } else { 1.0 - q };
                    (q * (y - raw), g, 1.0)
                } else {
                    ((1.0 - q) * (raw - y), 1.0 - q, 1.0)
                }
            }
            LossKind::Huber { .. } => {
                let r = y - raw;
                if r.abs() <= delta {
                    (0.5 * r * r, -r, 1.0)
                } else {
                    (delta * (r.abs() - 0.5 * delta), -delta * r.signum(), 1.0)
                }
            }
            LossKind::Poisson => {
                let e = raw.exp();
                (e - y * raw, e - y, e)
            }
            LossKind::LogLoss => {
                let p = sigmoid(raw);
                (softplus(raw) - y * raw, p - y, p * (1.0 - p))
            }
        }
    }

    /// Log-sum-exp of the `k` outputs of row `i`.
    #[inline]
    fn lse(raw: &[f64], n: usize, k: usize, i: usize) -> f64 {
        let m = (0..k)
            .map(|c| raw[c * n + i])
            .fold(f64::NEG_INFINITY, f64::max);
        m + (0..k).map(|c| (raw[c * n + i] - m).exp()).sum::<f64>().ln()
    }

    /// The mean (weighted) loss of raw predictions `raw`.
    pub(crate) fn loss(&self, t: &Targets<'_>, raw: &[f64]) -> f64 {
        let n = t.y.len();
        if n == 0 {
            return 0.0;
        }
        let delta = self.huber_delta(t, raw).unwrap_or(0.0);
        let k = t.k;
        let s = par_sum(n, |range| {
            range
                .map(|i| {
                    let l = if k > 1 {
                        Self::lse(raw, n, k, i) - raw[(t.y[i] as usize).min(k - 1) * n + i]
                    } else {
                        self.single(t.y[i], raw[i], delta).0
                    };
                    t.weight(i) * l
                })
                .sum()
        });
        s / t.total_weight().max(f64::MIN_POSITIVE)
    }

    /// Writes gradients `g` and hessians `h` (class-major like `raw`; `h` untouched when
    /// hessians are constant) and returns the mean loss of `raw`.
    pub(crate) fn gradients(
        &self,
        t: &Targets<'_>,
        raw: &[f64],
        g: &mut [f32],
        h: &mut [f32],
        const_hess: bool,
    ) -> f64 {
        let n = t.y.len();
        if n == 0 {
            return 0.0;
        }
        let k = t.k;
        let total = t.total_weight().max(f64::MIN_POSITIVE);
        if k == 1 {
            let delta = self.huber_delta(t, raw).unwrap_or(0.0);
            let parts: Vec<f64> = g
                .par_chunks_mut(CHUNK)
                .zip(h.par_chunks_mut(CHUNK))
                .enumerate()
                .map(|(c, (gc, hc))| {
                    let base = c * CHUNK;
                    let mut s = 0.0;
                    for j in 0..gc.len() {
                        let i = base + j;
                        let w = t.weight(i);
                        let (l, gi, hi) = self.single(t.y[i], raw[i], delta);
                        s += w * l;
                        gc[j] = (w * gi) as f32;
                        if !const_hess {
                            hc[j] = (w * hi) as f32;
                        }
                    }
                    s
                })
                .collect();
            return parts.iter().sum::<f64>() / total;
        }
        // Multinomial: log-sum-exp per row first, then each class's gradients.
        let mut lse = vec![0.0f64; n];
        lse.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            for (j, o) in out.iter_mut().enumerate() {
                *o = Self::lse(raw, n, k, c * CHUNK + j);
            }
        });
        for c in 0..k {
            let (gk, hk) = (&mut g[c * n..(c + 1) * n], &mut h[c * n..(c + 1) * n]);
            let rk = &raw[c * n..(c + 1) * n];
            gk.par_chunks_mut(CHUNK)
                .zip(hk.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(ch, (gc, hc))| {
                    for j in 0..gc.len() {
                        let i = ch * CHUNK + j;
                        let w = t.weight(i);
                        let p = (rk[i] - lse[i]).exp();
                        let yi = if t.y[i] as usize == c { 1.0 } else { 0.0 };
                        gc[j] = (w * (p - yi)) as f32;
                        hc[j] = (w * p * (1.0 - p)) as f32;
                    }
                });
        }
        par_sum(n, |range| {
            range
                .map(|i| t.weight(i) * (lse[i] - raw[(t.y[i] as usize).min(k - 1) * n + i]))
                .sum()
        }) / total
    }

    /// Turns `k` raw outputs into probabilities in place (classification) or the
    /// prediction in the target's scale (regression: `out[0]`).
    #[inline]
    pub(crate) fn inverse_link(&self, out: &mut [f64]) {
        match self {
            LossKind::LogLoss if out.len() == 1 => out[0] = sigmoid(out[0]),
            LossKind::LogLoss => {
                let m = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut s = 0.0;
                for v in out.iter_mut() {
                    *v = (*v - m).exp();
                    s += *v;
                }
                for v in out.iter_mut() {
                    *v /= s;
                }
            }
            LossKind::Poisson => {
                for v in out.iter_mut() {
                    *v = v.exp();
                }
            }
            _ => {}
        }
    }

    /// Checks a loss read from a model file.
    pub(crate) fn validate(&self) -> Result<()> {
        match *self {
            LossKind::Quantile { quantile } | LossKind::Huber { quantile }
                if !(quantile > 0.0 && quantile < 1.0) =>
            {
                Err(Error::ModelCorrupt(format!(
                    "loss quantile {quantile} outside (0, 1)"
                )))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_grad(loss: LossKind, y: f64, raw: f64) -> f64 {
        let e = 1e-6;
        (loss.single(y, raw + e, 1.0).0 - loss.single(y, raw - e, 1.0).0) / (2.0 * e)
    }

    #[test]
    fn gradients_match_finite_differences() {
        for loss in [
            LossKind::SquaredError,
            LossKind::Poisson,
            LossKind::LogLoss,
            LossKind::Quantile { quantile: 0.3 },
            LossKind::AbsoluteError,
            LossKind::Huber { quantile: 0.9 },
        ] {
            for (y, raw) in [(1.0, 0.3), (0.0, -0.7), (2.0, 0.1)] {
                if matches!(loss, LossKind::LogLoss) && y > 1.0 {
                    continue;
                }
                let g = loss.single(y, raw, 1.0).1;
                assert!(
                    (g - numeric_grad(loss, y, raw)).abs() < 1e-5,
                    "{loss:?} {y} {raw}"
                );
            }
        }
    }

    #[test]
    fn baselines_match_scikit_learn() {
        let y = [0.0, 1.0, 1.0, 1.0];
        let t = Targets {
            y: &y,
            w: None,
            k: 1,
        };
        let b = LossKind::LogLoss.baseline(&t)[0];
        assert!((b - 3.0f64.ln()).abs() < 1e-12);
        let y = [1.0, 2.0, 3.0, 10.0];
        let t = Targets {
            y: &y,
            w: None,
            k: 1,
        };
        assert_eq!(LossKind::SquaredError.baseline(&t), vec![4.0]);
        assert_eq!(LossKind::AbsoluteError.baseline(&t), vec![2.5]);
        assert!((LossKind::Poisson.baseline(&t)[0] - 4.0f64.ln()).abs() < 1e-12);
        // np.percentile([1,2,3,10], 90) = 7.9
        let q = LossKind::Quantile { quantile: 0.9 }.baseline(&t)[0];
        assert!((q - 7.9).abs() < 1e-12);
        let y = [0.0, 1.0, 2.0, 2.0];
        let t = Targets {
            y: &y,
            w: None,
            k: 3,
        };
        let b = LossKind::LogLoss.baseline(&t);
        let mut p = b.clone();
        LossKind::LogLoss.inverse_link(&mut p);
        assert!((p[0] - 0.25).abs() < 1e-12 && (p[2] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn multinomial_gradients_and_loss() {
        // 2 rows, 3 classes, raw class-major.
        let y = [0.0, 2.0];
        let raw = [0.0, 1.0, 0.0, 0.0, 0.0, 2.0];
        let t = Targets {
            y: &y,
            w: None,
            k: 3,
        };
        let (mut g, mut h) = (vec![0.0f32; 6], vec![0.0f32; 6]);
        let l = LossKind::LogLoss.gradients(&t, &raw, &mut g, &mut h, false);
        let p0 = 1.0 / 3.0;
        assert!((g[0] as f64 - (p0 - 1.0)).abs() < 1e-6);
        assert!((h[0] as f64 - p0 * (1.0 - p0)).abs() < 1e-6);
        let l1 = (1.0 + 1.0f64.exp() + 2.0f64.exp()).ln() - 2.0;
        let expected = (3.0f64.ln() + l1) / 2.0;
        assert!((l - expected).abs() < 1e-12);
        assert!((LossKind::LogLoss.loss(&t, &raw) - expected).abs() < 1e-12);
    }
}
