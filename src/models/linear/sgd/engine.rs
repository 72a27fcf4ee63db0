//! The plain stochastic-gradient loop of scikit-learn's `_plain_sgd`: per-sample updates of
//! one linear function with a scaled weight vector, L2 shrinkage, the cumulative L1 penalty
//! of Tsuruoka et al. (2009), optional averaging, and the epoch-level stopping rules.

use ndarray::ArrayView2;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::models::linear::logistic::dot_row;

/// A loss of the SGD models (scikit-learn's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SgdLoss {
    /// Linear SVM: `max(0, 1 − y·p)`.
    Hinge,
    /// Logistic regression: `log(1 + e^{−y·p})`.
    #[serde(alias = "log")]
    LogLoss,
    /// Smoothed hinge, quadratic near the margin; gives probabilities.
    ModifiedHuber,
    /// `max(0, 1 − y·p)²`.
    SquaredHinge,
    /// `max(0, −y·p)`.
    Perceptron,
    /// `½ (y − p)²`.
    SquaredError,
    /// Squared error up to `epsilon`, linear beyond.
    Huber,
    /// `max(0, |y − p| − epsilon)`.
    EpsilonInsensitive,
    /// `max(0, |y − p| − epsilon)²`.
    SquaredEpsilonInsensitive,
}

impl SgdLoss {
    /// Whether the loss is a classification loss (labels ±1).
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            SgdLoss::Hinge
                | SgdLoss::LogLoss
                | SgdLoss::ModifiedHuber
                | SgdLoss::SquaredHinge
                | SgdLoss::Perceptron
        )
    }

    /// The loss at target `y` and prediction `p` (`epsilon` for the robust losses).
    pub(crate) fn loss(self, y: f64, p: f64, epsilon: f64) -> f64 {
        let z = y * p;
        match self {
            SgdLoss::Hinge => (1.0 - z).max(0.0),
            SgdLoss::Perceptron => (-z).max(0.0),
            SgdLoss::SquaredHinge => (1.0 - z).max(0.0).powi(2),
            SgdLoss::LogLoss => {
                if z > 18.0 {
                    (-z).exp()
                } else if z < -18.0 {
                    -z
                } else {
                    (-z).exp().ln_1p()
                }
            }
            SgdLoss::ModifiedHuber => {
                if z >= 1.0 {
                    0.0
                } else if z >= -1.0 {
                    (1.0 - z) * (1.0 - z)
                } else {
                    -4.0 * z
                }
            }
            SgdLoss::SquaredError => 0.5 * (p - y) * (p - y),
            SgdLoss::Huber => {
                let r = (p - y).abs();
                if r <= epsilon {
                    0.5 * r * r
                } else {
                    epsilon * r - 0.5 * epsilon * epsilon
                }
            }
            SgdLoss::EpsilonInsensitive => ((y - p).abs() - epsilon).max(0.0),
            SgdLoss::SquaredEpsilonInsensitive => ((y - p).abs() - epsilon).max(0.0).powi(2),
        }
    }

    /// The derivative of the loss with respect to the prediction `p`.
    pub(crate) fn gradient(self, y: f64, p: f64, epsilon: f64) -> f64 {
        let z = y * p;
        match self {
            SgdLoss::Hinge => {
                if z <= 1.0 {
                    -y
                } else {
                    0.0
                }
            }
            SgdLoss::Perceptron => {
                if z <= 0.0 {
                    -y
                } else {
                    0.0
                }
            }
            SgdLoss::SquaredHinge => {
                let m = 1.0 - z;
                if m > 0.0 {
                    -2.0 * y * m
                } else {
                    0.0
                }
            }
            SgdLoss::LogLoss => {
                if z > 18.0 {
                    -y * (-z).exp()
                } else if z < -18.0 {
                    -y
                } else {
                    -y / (z.exp() + 1.0)
                }
            }
            SgdLoss::ModifiedHuber => {
                if z >= 1.0 {
                    0.0
                } else if z >= -1.0 {
                    -2.0 * (1.0 - z) * y
                } else {
                    -4.0 * y
                }
            }
            SgdLoss::SquaredError => p - y,
            SgdLoss::Huber => {
                let r = p - y;
                if r.abs() <= epsilon {
                    r
                } else {
                    epsilon * r.signum()
                }
            }
            SgdLoss::EpsilonInsensitive => {
                if y - p > epsilon {
                    -1.0
                } else if p - y > epsilon {
                    1.0
                } else {
                    0.0
                }
            }
            SgdLoss::SquaredEpsilonInsensitive => {
                let r = y - p;
                if r > epsilon {
                    -2.0 * (r - epsilon)
                } else if r < -epsilon {
                    2.0 * (-r - epsilon)
                } else {
                    0.0
                }
            }
        }
    }
}

/// The step-size schedule (scikit-learn's `learning_rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearningRate {
    /// `eta = eta0`.
    Constant,
    /// `eta = 1 / (alpha · (t + t0))`, with Bottou's heuristic for `t0`.
    Optimal,
    /// `eta = eta0 / t^power_t`.
    Invscaling,
    /// `eta0`, divided by 5 each time `n_iter_no_change` epochs bring no improvement.
    Adaptive,
}

/// The penalty (scikit-learn's `penalty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SgdPenalty {
    /// `½ alpha ‖w‖²`.
    L2,
    /// `alpha ‖w‖₁`.
    L1,
    /// `alpha (l1_ratio ‖w‖₁ + ½ (1 − l1_ratio) ‖w‖²)`.
    Elasticnet,
    /// No penalty.
    None,
}

/// The resolved settings of one SGD run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub loss: SgdLoss,
    pub epsilon: f64,
    pub penalty: SgdPenalty,
    pub alpha: f64,
    pub l1_ratio: f64,
    pub fit_intercept: bool,
    pub learning_rate: LearningRate,
    pub eta0: f64,
    pub power_t: f64,
    pub tol: Option<f64>,
    pub n_iter_no_change: usize,
    pub shuffle: bool,
    /// 0 = no averaging; otherwise averaging starts at update number `average`.
    pub average: usize,
}

impl Settings {
    fn l1_ratio_eff(&self) -> f64 {
        match self.penalty {
            SgdPenalty::L2 => 0.0,
            SgdPenalty::L1 => 1.0,
            SgdPenalty::Elasticnet => self.l1_ratio,
            SgdPenalty::None => 0.0,
        }
    }

    /// `t0` of the `optimal` schedule (so that the first step is Bottou's typical eta).
    fn optimal_init(&self) -> f64 {
        let typw = (1.0 / self.alpha.sqrt()).sqrt();
        let eta = typw / self.loss.gradient(1.0, -typw, self.epsilon).max(1.0);
        1.0 / (eta * self.alpha)
    }
}

/// The state of one linear function under SGD (serializable, so streaming can resume).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearState {
    /// Weights, to be multiplied by `wscale`.
    w: Vec<f64>,
    wscale: f64,
    intercept: f64,
    /// Averaged weights and intercept (used when averaging is on).
    avg_w: Vec<f64>,
    avg_intercept: f64,
    /// Cumulative L1 penalty applied to each weight, and the total that could have been.
    q: Vec<f64>,
    u: f64,
    /// The update counter of the learning-rate schedule (starts at 1).
    pub(crate) t: f64,
    /// The current step size (changed by the `adaptive` schedule).
    eta: f64,
}

impl LinearState {
    /// A zero function of `p` features.
    pub(crate) fn new(p: usize, eta0: f64) -> Self {
        Self {
            w: vec![0.0; p],
            wscale: 1.0,
            intercept: 0.0,
            avg_w: vec![0.0; p],
            avg_intercept: 0.0,
            q: vec![0.0; p],
            u: 0.0,
            t: 1.0,
            eta: eta0,
        }
    }

    /// The coefficients and intercept (averaged ones when averaging has started).
    pub(crate) fn coef(&self, s: &Settings) -> (Vec<f64>, f64) {
        if s.average > 0 && self.t > s.average as f64 {
            (self.avg_w.clone(), self.avg_intercept)
        } else {
            (
                self.w.iter().map(|v| v * self.wscale).collect(),
                self.intercept,
            )
        }
    }

    fn predict(&self, x: &[f64]) -> f64 {
        dot_row(x, &self.w) * self.wscale + self.intercept
    }

    fn scale(&mut self, c: f64) {
        self.wscale *= c;
        if self.wscale < 1e-9 {
            let ws = self.wscale;
            self.w.iter_mut().for_each(|v| *v *= ws);
            self.wscale = 1.0;
        }
    }

    /// The cumulative L1 penalty step (Tsuruoka et al.): each weight is pulled towards zero
    /// by what it has not yet received of the total `u`, never across zero.
    fn l1_step(&mut self) {
        let ws = self.wscale;
        for j in 0..self.w.len() {
            let z = self.w[j];
            if ws * z > 0.0 {
                self.w[j] = (z - (self.u + self.q[j]) / ws).max(0.0);
            } else if ws * z < 0.0 {
                self.w[j] = (z + (self.u - self.q[j]) / ws).min(0.0);
            }
            self.q[j] += ws * (self.w[j] - z);
        }
    }
}

/// What an epoch loop needs besides the settings.
pub(crate) struct Problem<'a> {
    /// Row-major features.
    pub x: ArrayView2<'a, f64>,
    /// Targets: ±1 for classification, real values for regression.
    pub y: &'a [f64],
    /// Per-row weights (sample weight × class weight).
    pub w: &'a [f64],
    /// Rows used for training.
    pub train: &'a [usize],
    /// Rows held out for early stopping (empty: stop on the training objective).
    pub validation: &'a [usize],
}

/// Runs up to `epochs` epochs; with `check` the stopping rules of scikit-learn apply
/// (training objective or validation score not improving by `tol` for `n_iter_no_change`
/// epochs). Returns the number of epochs done. `rng` shuffles the rows of each epoch.
pub(crate) fn run(
    s: &Settings,
    prob: &Problem<'_>,
    st: &mut LinearState,
    rng: &mut impl Rng,
    epochs: usize,
    check: bool,
) -> usize {
    let l1_ratio = s.l1_ratio_eff();
    let has_l2 = matches!(s.penalty, SgdPenalty::L2 | SgdPenalty::Elasticnet);
    let has_l1 = matches!(s.penalty, SgdPenalty::L1 | SgdPenalty::Elasticnet);
    let optimal_init = if s.learning_rate == LearningRate::Optimal {
        s.optimal_init()
    } else {
        0.0
    };
    let mut order: Vec<usize> = prob.train.to_vec();
    let n_train = order.len().max(1) as f64;
    let mut best_objective = f64::INFINITY;
    let mut best_score = f64::NEG_INFINITY;
    let mut no_improvement = 0usize;
    let early = !prob.validation.is_empty();
    let mut done = 0;
    for _ in 0..epochs {
        done += 1;
        if s.shuffle {
            rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
        }
        let mut objective = 0.0;
        for &i in &order {
            let row = prob.x.row(i);
            let Some(xi) = row.as_slice() else { continue };
            let yi = prob.y[i];
            let p = st.predict(xi);
            match s.learning_rate {
                LearningRate::Optimal => st.eta = 1.0 / (s.alpha * (optimal_init + st.t - 1.0)),
                LearningRate::Invscaling => st.eta = s.eta0 / st.t.powf(s.power_t),
                _ => {}
            }
            let eta = st.eta;
            if check && !early {
                objective += s.loss.loss(yi, p, s.epsilon);
                if s.penalty != SgdPenalty::None {
                    let (n2, n1) = norms(st);
                    objective += s.alpha * ((1.0 - l1_ratio) * 0.5 * n2 + l1_ratio * n1);
                }
            }
            let dloss = s.loss.gradient(yi, p, s.epsilon).clamp(-1e12, 1e12);
            let update = -eta * dloss * prob.w[i];
            if has_l2 {
                st.scale((1.0 - (1.0 - l1_ratio) * eta * s.alpha).max(0.0));
            }
            if update != 0.0 {
                let c = update / st.wscale;
                for (wj, xj) in st.w.iter_mut().zip(xi) {
                    *wj += c * xj;
                }
                if s.fit_intercept {
                    st.intercept += update;
                }
            }
            if s.average > 0 && s.average as f64 <= st.t {
                let k = st.t - s.average as f64 + 1.0;
                let ws = st.wscale;
                for (a, w) in st.avg_w.iter_mut().zip(&st.w) {
                    *a += (w * ws - *a) / k;
                }
                st.avg_intercept += (st.intercept - st.avg_intercept) / k;
            }
            if has_l1 {
                st.u += l1_ratio * eta * s.alpha;
                st.l1_step();
            }
            st.t += 1.0;
        }
        if !st.intercept.is_finite() || st.w.iter().any(|v| !v.is_finite()) {
            break;
        }
        if !check {
            continue;
        }
        let tol = s.tol.unwrap_or(f64::NEG_INFINITY);
        if early {
            let score = validation_score(s, prob, st);
            if score < best_score + tol {
                no_improvement += 1;
            } else {
                no_improvement = 0;
            }
            best_score = best_score.max(score);
        } else {
            let obj = objective / n_train;
            if obj > best_objective - tol {
                no_improvement += 1;
            } else {
                no_improvement = 0;
            }
            best_objective = best_objective.min(obj);
        }
        if (s.tol.is_some() || early) && no_improvement >= s.n_iter_no_change {
            if s.learning_rate == LearningRate::Adaptive && st.eta > 1e-6 {
                st.eta /= 5.0;
                no_improvement = 0;
            } else {
                break;
            }
        }
    }
    done
}

/// `‖w‖²` and `‖w‖₁` of the current weights.
fn norms(st: &LinearState) -> (f64, f64) {
    let ws = st.wscale;
    let n2 = st.w.iter().map(|v| v * v).sum::<f64>() * ws * ws;
    let n1 = st.w.iter().map(|v| v.abs()).sum::<f64>() * ws.abs();
    (n2, n1)
}

/// Accuracy (classification: sign agreement) or R² (regression) on the held-out rows.
fn validation_score(s: &Settings, prob: &Problem<'_>, st: &LinearState) -> f64 {
    let (coef, b) = st.coef(s);
    let preds: Vec<(f64, f64)> = prob
        .validation
        .iter()
        .filter_map(|&i| {
            let row = prob.x.row(i);
            let xi = row.as_slice()?;
            Some((prob.y[i], dot_row(xi, &coef) + b))
        })
        .collect();
    let n = preds.len().max(1) as f64;
    if s.loss.is_classification() {
        preds
            .iter()
            .filter(|(y, p)| (*p > 0.0) == (*y > 0.0))
            .count() as f64
            / n
    } else {
        let mean = preds.iter().map(|(y, _)| y).sum::<f64>() / n;
        let ss_res: f64 = preds.iter().map(|(y, p)| (y - p) * (y - p)).sum();
        let ss_tot: f64 = preds.iter().map(|(y, _)| (y - mean) * (y - mean)).sum();
        if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_match_finite_differences() {
        let losses = [
            SgdLoss::LogLoss,
            SgdLoss::ModifiedHuber,
            SgdLoss::SquaredHinge,
            SgdLoss::SquaredError,
            SgdLoss::Huber,
            SgdLoss::SquaredEpsilonInsensitive,
            SgdLoss::Hinge,
            SgdLoss::EpsilonInsensitive,
        ];
        for loss in losses {
            for &(y, p) in &[(1.0, 0.3), (-1.0, 0.7), (1.0, -2.5), (0.4, 1.9)] {
                let h = 1e-6;
                let fd = (loss.loss(y, p + h, 0.1) - loss.loss(y, p - h, 0.1)) / (2.0 * h);
                let g = loss.gradient(y, p, 0.1);
                assert!((fd - g).abs() < 1e-5, "{loss:?} at ({y}, {p}): {fd} vs {g}");
            }
        }
    }

    #[test]
    fn cumulative_l1_never_crosses_zero() {
        let mut st = LinearState::new(2, 0.1);
        st.w = vec![0.05, -0.3];
        st.u = 0.1;
        st.l1_step();
        assert_eq!(st.w[0], 0.0);
        assert!((st.w[1] + 0.2).abs() < 1e-15);
        assert!((st.q[0] + 0.05).abs() < 1e-15 && (st.q[1] - 0.1).abs() < 1e-15);
    }
}
