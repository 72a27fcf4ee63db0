//! Limited-memory quasi-Newton minimization: L-BFGS for smooth objectives and OWL-QN
//! (orthant-wise L-BFGS, Andrew & Gao 2007) for a smooth objective plus a weighted L1 term.
//!
//! Both share the two-loop recursion with `m` correction pairs. L-BFGS searches along the
//! quasi-Newton direction with a strong-Wolfe line search (bracketing and cubic zoom,
//! Nocedal & Wright, algorithms 3.5 and 3.6); OWL-QN projects the direction and each trial
//! point onto the current orthant and backtracks until the Armijo condition holds.
//!
//! Stopping: the largest absolute entry of the (pseudo-)gradient at most `gtol` (SciPy's
//! `pgtol`, as scikit-learn passes `tol`), optionally a relative decrease of the objective
//! below `ftol` (off by default: near the optimum objective values agree to rounding while
//! the gradient still carries information, and the line search then decides on the
//! directional derivative alone, so the gradient tolerance can be met tightly).

/// Settings of one minimization.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Maximum number of quasi-Newton iterations.
    pub max_iter: usize,
    /// Stop when `max |g_i| <= gtol` (pseudo-gradient with an L1 term).
    pub gtol: f64,
    /// Stop when `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol`.
    pub ftol: f64,
    /// Number of correction pairs kept.
    pub memory: usize,
    /// Maximum function evaluations per line search.
    pub max_linesearch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_iter: 100,
            gtol: 1e-4,
            ftol: 0.0,
            memory: 10,
            max_linesearch: 50,
        }
    }
}

/// What a minimization ended with.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The minimizer found.
    pub x: Vec<f64>,
    /// Quasi-Newton iterations done.
    pub n_iter: usize,
    /// Whether a stopping criterion (not the iteration budget) ended the run.
    pub converged: bool,
}

/// What the per-iteration callback answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Keep iterating.
    Continue,
    /// Stop and return the current point.
    Stop,
}

/// The correction pairs of the two-loop recursion (a ring buffer of `(s, y, 1/sᵀy)`).
struct History {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    start: usize,
    len: usize,
}

impl History {
    fn new(m: usize) -> Self {
        Self {
            s: Vec::with_capacity(m),
            y: Vec::with_capacity(m),
            rho: vec![0.0; m],
            alpha: vec![0.0; m],
            start: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.rho.len()
    }

    /// Adds a pair when the curvature `sᵀy` is positive (otherwise skips it, keeping the
    /// approximation positive definite).
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        if sy <= 1e-300 || !sy.is_finite() {
            return;
        }
        let m = self.capacity();
        if m == 0 {
            return;
        }
        let slot = (self.start + self.len) % m;
        if self.s.len() < m {
            self.s.push(s);
            self.y.push(y);
        } else {
            self.s[slot] = s;
            self.y[slot] = y;
        }
        self.rho[slot] = 1.0 / sy;
        if self.len < m {
            self.len += 1;
        } else {
            self.start = (self.start + 1) % m;
        }
    }

    /// `d = -H·g` by the two-loop recursion, with the initial scaling `sᵀy / yᵀy`.
    fn direction(&mut self, g: &[f64], d: &mut [f64]) {
        let m = self.capacity();
        for (di, gi) in d.iter_mut().zip(g) {
            *di = -gi;
        }
        for k in (0..self.len).rev() {
            let i = (self.start + k) % m;
            let a = self.rho[i] * dot(&self.s[i], d);
            self.alpha[i] = a;
            axpy(-a, &self.y[i], d);
        }
        if self.len > 0 {
            let i = (self.start + self.len - 1) % m;
            let yy = dot(&self.y[i], &self.y[i]);
            let gamma = if yy > 0.0 {
                1.0 / (self.rho[i] * yy)
            } else {
                1.0
            };
            d.iter_mut().for_each(|v| *v *= gamma);
        }
        for k in 0..self.len {
            let i = (self.start + k) % m;
            let b = self.rho[i] * dot(&self.y[i], d);
            axpy(self.alpha[i] - b, &self.s[i], d);
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// The L1 pseudo-gradient of `f + Σ l1_i |x_i|` at `x` given the smooth gradient `g`.
fn pseudo_gradient(x: &[f64], g: &[f64], l1: &[f64], pg: &mut [f64]) {
    for i in 0..x.len() {
        let (xi, gi, li) = (x[i], g[i], l1[i]);
        pg[i] = if xi > 0.0 {
            gi + li
        } else if xi < 0.0 {
            gi - li
        } else if gi + li < 0.0 {
            gi + li
        } else if gi - li > 0.0 {
            gi - li
        } else {
            0.0
        };
    }
}

fn l1_value(x: &[f64], l1: &[f64]) -> f64 {
    x.iter().zip(l1).map(|(a, b)| a.abs() * b).sum()
}

/// Minimizes `f + Σ l1_i |x_i|` from `x0`.
///
/// `eval(x, g)` writes the smooth gradient into `g` and returns the smooth objective.
/// `l1` holds one non-negative L1 weight per coordinate (`None`: smooth problem, L-BFGS with
/// a strong-Wolfe search). `on_iter(iteration, objective)` is called after every iteration.
pub(crate) fn minimize(
    mut eval: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    l1: Option<&[f64]>,
    opts: &Options,
    mut on_iter: impl FnMut(usize, f64) -> Step,
) -> Outcome {
    let n = x0.len();
    let l1 = l1.filter(|w| w.iter().any(|&v| v > 0.0));
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut f = eval(&x, &mut g) + l1.map_or(0.0, |w| l1_value(&x, w));
    let mut pg = vec![0.0; n];
    let mut d = vec![0.0; n];
    let mut hist = History::new(opts.memory);
    let outcome = |x: Vec<f64>, n_iter: usize, converged: bool| Outcome {
        x,
        n_iter,
        converged,
    };
    let proj = |x: &[f64], g: &[f64], pg: &mut [f64]| match l1 {
        Some(w) => pseudo_gradient(x, g, w, pg),
        None => pg.copy_from_slice(g),
    };
    proj(&x, &g, &mut pg);
    if !f.is_finite() {
        return outcome(x, 0, false);
    }
    if max_abs(&pg) <= opts.gtol {
        return outcome(x, 0, true);
    }
    for iter in 1..=opts.max_iter {
        hist.direction(&pg, &mut d);
        if let Some(w) = l1 {
            // Keep only the penalized components that descend along the pseudo-gradient.
            for ((di, pgi), wi) in d.iter_mut().zip(&pg).zip(w) {
                if *wi > 0.0 && *di * *pgi >= 0.0 {
                    *di = 0.0;
                }
            }
        }
        let mut dg = dot(&d, &pg);
        if dg >= 0.0 || !dg.is_finite() {
            // Not a descent direction: restart from steepest descent.
            hist = History::new(opts.memory);
            for (di, pgi) in d.iter_mut().zip(&pg) {
                *di = -pgi;
            }
            dg = dot(&d, &pg);
        }
        let step0 = if hist.len == 0 {
            (1.0 / max_abs(&d).max(1e-300)).min(1.0)
        } else {
            1.0
        };
        let found = match l1 {
            None => wolfe_search(&mut eval, &x, f, dg, &d, step0, opts.max_linesearch),
            Some(w) => orthant_search(&mut eval, &x, f, &pg, &d, w, step0, opts.max_linesearch),
        };
        let Some((x_new, f_new, g_new)) = found else {
            // The line search could not decrease the objective: numerically at the optimum
            // when the gradient is small, otherwise a failure.
            let ok = max_abs(&pg) <= opts.gtol.max(1e-12) * 10.0;
            return outcome(x, iter - 1, ok);
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        hist.push(s, yv);
        let f_old = f;
        x = x_new;
        f = f_new;
        g = g_new;
        proj(&x, &g, &mut pg);
        if on_iter(iter, f) == Step::Stop {
            return outcome(x, iter, false);
        }
        if max_abs(&pg) <= opts.gtol {
            return outcome(x, iter, true);
        }
        if opts.ftol > 0.0 && (f_old - f) / f_old.abs().max(f.abs()).max(1.0) <= opts.ftol {
            return outcome(x, iter, true);
        }
    }
    outcome(x, opts.max_iter, false)
}

type Trial = (Vec<f64>, f64, Vec<f64>);

/// Strong-Wolfe line search (c1 = 1e-4, c2 = 0.9) along `d` from `x`.
fn wolfe_search(
    eval: &mut impl FnMut(&[f64], &mut [f64]) -> f64,
    x: &[f64],
    f0: f64,
    dg0: f64,
    d: &[f64],
    step0: f64,
    max_eval: usize,
) -> Option<Trial> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    let n = x.len();
    let mut try_at = |a: f64| -> Trial {
        let xt: Vec<f64> = x.iter().zip(d).map(|(xi, di)| xi + a * di).collect();
        let mut gt = vec![0.0; n];
        let ft = eval(&xt, &mut gt);
        (xt, ft, gt)
    };
    let mut a_prev = 0.0;
    let mut f_prev = f0;
    let mut dg_prev = dg0;
    let mut a = step0;
    let mut evals = 0;
    // Bracketing phase.
    let (mut lo, mut hi);
    loop {
        if evals >= max_eval {
            return None;
        }
        let t = try_at(a);
        evals += 1;
        let dg = dot(&t.2, d);
        if flat(f0, t.1) && t.1.is_finite() {
            // Values are equal to rounding: decide on the derivative alone (the approximate
            // Wolfe conditions of Hager & Zhang).
            if dg.abs() <= -C2 * dg0 {
                return Some(t);
            }
        }
        if !t.1.is_finite()
            || (t.1 > f0 + C1 * a * dg0 && !flat(f0, t.1))
            || (evals > 1 && t.1 >= f_prev && !flat(f_prev, t.1))
        {
            lo = (a_prev, f_prev, dg_prev);
            hi = (a, t.1, dg);
            break;
        }
        if dg.abs() <= -C2 * dg0 {
            return Some(t);
        }
        if dg >= 0.0 {
            lo = (a, t.1, dg);
            hi = (a_prev, f_prev, dg_prev);
            // The accepted point is `lo`; remember its trial for a possible early exit.
            break;
        }
        a_prev = a;
        f_prev = t.1;
        dg_prev = dg;
        a *= 2.0;
    }
    // Zoom phase.
    let mut best: Option<Trial> = None;
    while evals < max_eval {
        let a = cubic_min(lo, hi);
        let t = try_at(a);
        evals += 1;
        let dg = dot(&t.2, d);
        let is_flat = t.1.is_finite() && flat(f0, t.1);
        if is_flat && dg.abs() <= -C2 * dg0 {
            return Some(t);
        }
        if !t.1.is_finite() || (!is_flat && (t.1 > f0 + C1 * a * dg0 || t.1 >= lo.1)) {
            hi = (a, t.1, dg);
        } else {
            if dg.abs() <= -C2 * dg0 {
                return Some(t);
            }
            if dg * (hi.0 - lo.0) >= 0.0 {
                hi = lo;
            }
            lo = (a, t.1, dg);
            best = Some(t);
        }
        if (hi.0 - lo.0).abs() <= 1e-16 * lo.0.abs().max(1e-300) {
            break;
        }
    }
    // Accept a point with sufficient decrease even if curvature was not met.
    best.filter(|t| t.1 < f0)
}

/// Whether two objective values are equal up to rounding, where comparing them says
/// nothing and the line search must look at the derivative instead.
fn flat(f0: f64, f1: f64) -> bool {
    (f1 - f0).abs() <= 1e-12 * f0.abs().max(f1.abs())
}

/// The minimizer of the cubic through two points with values and slopes, safeguarded to
/// stay inside the interval (bisection when the cubic misbehaves).
fn cubic_min(lo: (f64, f64, f64), hi: (f64, f64, f64)) -> f64 {
    let (a0, f0, g0) = lo;
    let (a1, f1, g1) = hi;
    let (left, right) = if a0 < a1 { (a0, a1) } else { (a1, a0) };
    let width = right - left;
    let d1 = g0 + g1 - 3.0 * (f0 - f1) / (a0 - a1);
    let disc = d1 * d1 - g0 * g1;
    if disc >= 0.0 && width > 0.0 {
        let d2 = (a1 - a0).signum() * disc.sqrt();
        let denom = g1 - g0 + 2.0 * d2;
        if denom != 0.0 {
            let a = a1 - (a1 - a0) * (g1 + d2 - d1) / denom;
            if a.is_finite() && a > left + 0.1 * width && a < right - 0.1 * width {
                return a;
            }
        }
    }
    0.5 * (left + right)
}

/// OWL-QN backtracking search: trial points are projected onto the orthant of `x` (signs of
/// `x`, or of `-pg` where `x` is zero); accepted when the Armijo condition on the full
/// objective holds.
#[allow(clippy::too_many_arguments)]
fn orthant_search(
    eval: &mut impl FnMut(&[f64], &mut [f64]) -> f64,
    x: &[f64],
    f0: f64,
    pg: &[f64],
    d: &[f64],
    l1: &[f64],
    step0: f64,
    max_eval: usize,
) -> Option<Trial> {
    const C1: f64 = 1e-4;
    let n = x.len();
    // Unpenalized coordinates (weight 0) are free: no orthant constraint.
    let orthant: Vec<f64> = (0..n)
        .map(|i| {
            if l1[i] == 0.0 {
                0.0
            } else if x[i] != 0.0 {
                x[i].signum()
            } else {
                -pg[i].signum()
            }
        })
        .collect();
    let mut a = step0;
    for _ in 0..max_eval {
        let xt: Vec<f64> = (0..n)
            .map(|i| {
                let v = x[i] + a * d[i];
                if orthant[i] == 0.0 || v * orthant[i] > 0.0 {
                    v
                } else {
                    0.0
                }
            })
            .collect();
        let mut gt = vec![0.0; n];
        let ft = eval(&xt, &mut gt) + l1_value(&xt, l1);
        let decrease: f64 = (0..n).map(|i| pg[i] * (xt[i] - x[i])).sum();
        if ft.is_finite() && ft <= f0 + C1 * decrease {
            return Some((xt, ft, gt));
        }
        if ft.is_finite() && flat(f0, ft) {
            // Values equal to rounding: accept when the pseudo-gradient along the step has
            // shrunk (the derivative test of the approximate Wolfe conditions).
            let mut pg_new = vec![0.0; n];
            pseudo_gradient(&xt, &gt, l1, &mut pg_new);
            let slope_new: f64 = (0..n).map(|i| pg_new[i] * (xt[i] - x[i])).sum();
            if decrease < 0.0 && slope_new.abs() <= 0.9 * decrease.abs() {
                return Some((xt, ft, gt));
            }
        }
        a *= 0.5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock in 2-D: a classic curved valley, minimum 0 at (1, 1).
    fn rosen(x: &[f64], g: &mut [f64]) -> f64 {
        let (a, b) = (x[0], x[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
    }

    #[test]
    fn lbfgs_solves_rosenbrock() {
        let opts = Options {
            max_iter: 500,
            gtol: 1e-10,
            ftol: 0.0,
            ..Options::default()
        };
        let out = minimize(rosen, vec![-1.2, 1.0], None, &opts, |_, _| Step::Continue);
        assert!(out.converged);
        assert!((out.x[0] - 1.0).abs() < 1e-8 && (out.x[1] - 1.0).abs() < 1e-8);
    }

    #[test]
    fn owlqn_solves_lasso_in_closed_form() {
        // f = ½ Σ (x_i - c_i)², L1 weight 1: soft-thresholding gives the exact minimizer.
        let c = [3.0, -0.5, -2.0, 0.9];
        let quad = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for i in 0..4 {
                g[i] = x[i] - c[i];
                f += 0.5 * g[i] * g[i];
            }
            f
        };
        let l1 = [1.0; 4];
        let opts = Options {
            gtol: 1e-12,
            ..Options::default()
        };
        let out = minimize(quad, vec![0.0; 4], Some(&l1), &opts, |_, _| Step::Continue);
        let expect = [2.0, 0.0, -1.0, 0.0];
        for (a, b) in out.x.iter().zip(expect) {
            assert!((a - b).abs() < 1e-10, "{:?}", out.x);
        }
        assert!(out.converged);
    }
}
