//! libsvm's SMO solver (Chang and Lin; Fan, Chen and Lin 2005) for
//!
//! `min ½ αᵀQα + pᵀα`  subject to  `yᵀα = Δ`, `0 ≤ αᵢ ≤ Cᵢ`,
//!
//! with second-order working-set selection (WSS3), shrinking and gradient reconstruction,
//! and its nu variant (`Solver_NU`: the pair is chosen within one sign of `y`, for the extra
//! constraint `eᵀα = const`). The active set is libsvm's permutation of the variables, so
//! variables are visited (and ties broken) in libsvm's order, but the permutation is applied
//! to indices only: cached kernel rows never move.

use super::kernel_cache::QMatrix;
use super::problem::Monitor;
use crate::error::Result;

/// The solver reports its progress to the fit callback every this many iterations (with the
/// maximal violation of the optimality conditions); the callback may stop or cancel the fit.
pub(crate) const REPORT_EVERY: usize = 100;

/// libsvm's `TAU`: the curvature used when a pair's is not positive.
const TAU: f64 = 1e-12;

const LOWER: u8 = 0;
const UPPER: u8 = 1;
const FREE: u8 = 2;

/// One problem for the solver.
pub(crate) struct Problem {
    /// The linear term.
    pub p: Vec<f64>,
    /// Signs (`±1`).
    pub y: Vec<i8>,
    /// The feasible starting point.
    pub alpha: Vec<f64>,
    /// Upper bounds.
    pub c: Vec<f64>,
}

/// How the solver runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Stopping tolerance on the maximal violation (libsvm's `eps`, scikit-learn's `tol`).
    pub eps: f64,
    /// Whether to shrink the active set.
    pub shrinking: bool,
    /// Cap on iterations (`None`: none).
    pub max_iter: Option<usize>,
    /// The nu variant.
    pub nu: bool,
}

/// What the solver returns.
pub(crate) struct Solution {
    pub alpha: Vec<f64>,
    pub rho: f64,
    /// The nu solver's `r` (0 otherwise).
    pub r: f64,
    pub n_iter: usize,
    /// Whether it stopped at `max_iter`.
    pub timed_out: bool,
    /// Whether the fit callback asked it to stop early.
    pub stopped: bool,
}

struct Solver<'q, 'a> {
    q: &'q mut QMatrix<'a>,
    qd: Vec<f64>,
    y: Vec<i8>,
    p: Vec<f64>,
    c: Vec<f64>,
    alpha: Vec<f64>,
    status: Vec<u8>,
    g: Vec<f64>,
    g_bar: Vec<f64>,
    /// libsvm's `active_set`: variables by position; the first `active_size` are active.
    order: Vec<usize>,
    active_size: usize,
    eps: f64,
    nu: bool,
    unshrink: bool,
    /// The maximal violation found by the last working-set selection.
    gap: f64,
    /// The first choice of the next working-set selection, `(Gmax, i)`, when the last step
    /// found it while updating the gradient (cleared whenever the active set or the
    /// gradient changes otherwise).
    first: Option<(f64, Option<usize>)>,
}

/// Row `i` of `Q` over the active variables of `$s` (libsvm's `get_Q(i, active_size)`).
macro_rules! active_row {
    ($s:expr, $i:expr) => {
        $s.q.row($i, $s.active_size)
    };
}

/// Solves `problem` over `q`, reporting to `monitor` every [`REPORT_EVERY`] iterations
/// (a cancelled fit is an error; a stopped one returns the current iterate).
pub(crate) fn solve(
    q: &mut QMatrix<'_>,
    problem: Problem,
    settings: Settings,
    monitor: &Monitor<'_>,
) -> Result<Solution> {
    let l = q.len();
    let qd = q.qd().to_vec();
    let mut s = Solver {
        q,
        qd,
        y: problem.y,
        p: problem.p,
        c: problem.c,
        alpha: problem.alpha,
        status: vec![LOWER; l],
        g: Vec::new(),
        g_bar: vec![0.0; l],
        order: (0..l).collect(),
        active_size: l,
        eps: settings.eps,
        nu: settings.nu,
        unshrink: false,
        gap: f64::INFINITY,
        first: None,
    };
    for i in 0..l {
        s.update_status(i);
    }
    s.g = s.p.clone();
    for i in 0..l {
        if s.status[i] != LOWER {
            let (qi, sign) = s.q.row(i, l);
            let a = s.alpha[i] * sign;
            for (g, v) in s.g.iter_mut().zip(qi.iter()) {
                *g += a * f64::from(*v);
            }
            if s.status[i] == UPPER {
                let c = s.c[i] * sign;
                for (g, v) in s.g_bar.iter_mut().zip(qi.iter()) {
                    *g += c * f64::from(*v);
                }
            }
        }
    }

    let mut iter = 0;
    let mut counter = l.min(1000) + 1;
    let mut timed_out = false;
    let mut stopped = false;
    loop {
        if settings.max_iter.is_some_and(|m| iter >= m) {
            timed_out = true;
            break;
        }
        if iter > 0
            && iter % REPORT_EVERY == 0
            && !monitor.progress(iter, settings.max_iter, s.gap)?
        {
            stopped = true;
            break;
        }
        counter -= 1;
        if counter == 0 {
            counter = l.min(1000);
            if settings.shrinking {
                s.do_shrinking();
            }
        }
        let (i, j) = match s.select_working_set() {
            Some(pair) => pair,
            None => {
                s.reconstruct_gradient();
                s.grow_to_all();
                match s.select_working_set() {
                    Some(pair) => {
                        counter = 1;
                        pair
                    }
                    None => break,
                }
            }
        };
        iter += 1;
        s.step(i, j);
    }
    let rho;
    let mut r = 0.0;
    if s.nu {
        let (rho_nu, r_nu) = s.rho_nu();
        rho = rho_nu;
        r = r_nu;
    } else {
        rho = s.rho();
    }
    Ok(Solution {
        alpha: s.alpha,
        rho,
        r,
        n_iter: iter,
        timed_out,
        stopped,
    })
}

impl Solver<'_, '_> {
    fn update_status(&mut self, i: usize) {
        self.status[i] = if self.alpha[i] >= self.c[i] {
            UPPER
        } else if self.alpha[i] <= 0.0 {
            LOWER
        } else {
            FREE
        };
    }

    #[inline]
    fn upper(&self, i: usize) -> bool {
        self.status[i] == UPPER
    }

    #[inline]
    fn lower(&self, i: usize) -> bool {
        self.status[i] == LOWER
    }

    /// One SMO step on the pair `(i, j)`: the analytic two-variable update clipped to the
    /// box, then the gradient (over the active set) and `G_bar` updates.
    fn step(&mut self, i: usize, j: usize) {
        let (qi, si) = active_row!(self, i);
        let (qj, sj) = active_row!(self, j);
        let qij = si * f64::from(qi[j]);
        let (ci, cj) = (self.c[i], self.c[j]);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        let (mut ai, mut aj) = (old_i, old_j);
        if self.y[i] != self.y[j] {
            let mut quad = self.qd[i] + self.qd[j] + 2.0 * qij;
            if quad <= 0.0 {
                quad = TAU;
            }
            let delta = (-self.g[i] - self.g[j]) / quad;
            let diff = ai - aj;
            ai += delta;
            aj += delta;
            if diff > 0.0 {
                if aj < 0.0 {
                    aj = 0.0;
                    ai = diff;
                }
            } else if ai < 0.0 {
                ai = 0.0;
                aj = -diff;
            }
            if diff > ci - cj {
                if ai > ci {
                    ai = ci;
                    aj = ci - diff;
                }
            } else if aj > cj {
                aj = cj;
                ai = cj + diff;
            }
        } else {
            let mut quad = self.qd[i] + self.qd[j] - 2.0 * qij;
            if quad <= 0.0 {
                quad = TAU;
            }
            let delta = (self.g[i] - self.g[j]) / quad;
            let sum = ai + aj;
            ai -= delta;
            aj += delta;
            if sum > ci {
                if ai > ci {
                    ai = ci;
                    aj = sum - ci;
                }
            } else if aj < 0.0 {
                aj = 0.0;
                ai = sum;
            }
            if sum > cj {
                if aj > cj {
                    aj = cj;
                    ai = sum - cj;
                }
            } else if ai < 0.0 {
                ai = 0.0;
                aj = sum;
            }
        }
        self.alpha[i] = ai;
        self.alpha[j] = aj;
        let (di, dj) = ((ai - old_i) * si, (aj - old_j) * sj);
        let (ui, uj) = (self.upper(i), self.upper(j));
        self.update_status(i);
        self.update_status(j);
        if self.nu {
            for &k in &self.order[..self.active_size] {
                self.g[k] += f64::from(qi[k]) * di + f64::from(qj[k]) * dj;
            }
        } else {
            // The first half of the next working-set selection rides on the update.
            let mut best = (f64::NEG_INFINITY, None);
            for &k in &self.order[..self.active_size] {
                self.g[k] += f64::from(qi[k]) * di + f64::from(qj[k]) * dj;
                self.consider_first(k, &mut best);
            }
            self.first = Some(best);
        }
        // The active rows are released first, so that a cached one is extended in place.
        drop((qi, qj));
        let l = self.alpha.len();
        if ui != self.upper(i) {
            let (qi, _) = self.q.row(i, l);
            let c = if ui { -ci } else { ci } * si;
            for (g, v) in self.g_bar.iter_mut().zip(qi.iter()) {
                *g += c * f64::from(*v);
            }
        }
        if uj != self.upper(j) {
            let (qj, _) = self.q.row(j, l);
            let c = if uj { -cj } else { cj } * sj;
            for (g, v) in self.g_bar.iter_mut().zip(qj.iter()) {
                *g += c * f64::from(*v);
            }
        }
    }

    /// Makes every variable active again.
    fn grow_to_all(&mut self) {
        self.first = None;
        self.active_size = self.alpha.len();
    }

    /// The active variables, in libsvm's order.
    fn active(&self) -> &[usize] {
        &self.order[..self.active_size]
    }

    /// Recomputes the gradient of the shrunk variables from `G_bar` and the free ones.
    fn reconstruct_gradient(&mut self) {
        self.first = None;
        let l = self.alpha.len();
        if self.active_size == l {
            return;
        }
        let inactive = self.order[self.active_size..].to_vec();
        for &j in &inactive {
            self.g[j] = self.g_bar[j] + self.p[j];
        }
        let free: Vec<usize> = self
            .active()
            .iter()
            .copied()
            .filter(|&k| self.status[k] == FREE)
            .collect();
        let a = self.active_size;
        if free.len() * l > 2 * a * (l - a) {
            for &i in &inactive {
                let (qi, si) = active_row!(self, i);
                let mut add = 0.0;
                for &j in &free {
                    add += self.alpha[j] * si * f64::from(qi[j]);
                }
                self.g[i] += add;
            }
        } else {
            for &i in &free {
                let (qi, si) = self.q.row(i, l);
                let ai = self.alpha[i] * si;
                for &j in &inactive {
                    self.g[j] += ai * f64::from(qi[j]);
                }
            }
        }
    }

    /// Takes variable `t` into the first choice of the working-set selection, `(Gmax, i)`:
    /// the largest violation `−y_t G_t` over the variables that may move up (`y_t = 1`) or
    /// down, the last one on ties, in the order of the active set.
    #[inline(always)]
    fn consider_first(&self, t: usize, best: &mut (f64, Option<usize>)) {
        let v = if self.y[t] == 1 {
            (!self.upper(t)).then_some(-self.g[t])
        } else {
            (!self.lower(t)).then_some(self.g[t])
        };
        if let Some(v) = v {
            if v >= best.0 {
                *best = (v, Some(t));
            }
        }
    }

    /// Second-order working-set selection; `None` when optimal within `eps`.
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        if self.nu {
            return self.select_working_set_nu();
        }
        let (gmax, gmax_idx) = match self.first.take() {
            Some(best) => best,
            None => {
                let mut best = (f64::NEG_INFINITY, None);
                for &t in &self.order[..self.active_size] {
                    self.consider_first(t, &mut best);
                }
                best
            }
        };
        let i = gmax_idx?;
        let (qi, si) = active_row!(self, i);
        let yi = f64::from(self.y[i]);
        let mut gmax2 = f64::NEG_INFINITY;
        let mut gmin_idx = None;
        let mut obj_min = f64::INFINITY;
        for &j in self.active() {
            let (grad_diff, quad) = if self.y[j] == 1 {
                if self.lower(j) {
                    continue;
                }
                gmax2 = gmax2.max(self.g[j]);
                (gmax + self.g[j], -2.0)
            } else {
                if self.upper(j) {
                    continue;
                }
                gmax2 = gmax2.max(-self.g[j]);
                (gmax - self.g[j], 2.0)
            };
            if grad_diff > 0.0 {
                let q = self.qd[i] + self.qd[j] + quad * yi * si * f64::from(qi[j]);
                let obj = -(grad_diff * grad_diff) / if q > 0.0 { q } else { TAU };
                if obj <= obj_min {
                    gmin_idx = Some(j);
                    obj_min = obj;
                }
            }
        }
        self.gap = gmax + gmax2;
        if self.gap < self.eps {
            return None;
        }
        gmin_idx.map(|j| (i, j))
    }

    fn select_working_set_nu(&mut self) -> Option<(usize, usize)> {
        let (mut gmaxp, mut gmaxn) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let (mut ip, mut in_) = (None, None);
        for &t in self.active() {
            if self.y[t] == 1 {
                if !self.upper(t) && -self.g[t] >= gmaxp {
                    gmaxp = -self.g[t];
                    ip = Some(t);
                }
            } else if !self.lower(t) && self.g[t] >= gmaxn {
                gmaxn = self.g[t];
                in_ = Some(t);
            }
        }
        let rp = ip.map(|i| active_row!(self, i));
        let rn = in_.map(|i| active_row!(self, i));
        let (mut gmaxp2, mut gmaxn2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut gmin_idx = None;
        let mut obj_min = f64::INFINITY;
        for &j in self.active() {
            let (grad_diff, i, row) = if self.y[j] == 1 {
                if self.lower(j) {
                    continue;
                }
                gmaxp2 = gmaxp2.max(self.g[j]);
                (gmaxp + self.g[j], ip, &rp)
            } else {
                if self.upper(j) {
                    continue;
                }
                gmaxn2 = gmaxn2.max(-self.g[j]);
                (gmaxn - self.g[j], in_, &rn)
            };
            if grad_diff > 0.0 {
                if let (Some(i), Some((qi, si))) = (i, row) {
                    let q = self.qd[i] + self.qd[j] - 2.0 * si * f64::from(qi[j]);
                    let obj = -(grad_diff * grad_diff) / if q > 0.0 { q } else { TAU };
                    if obj <= obj_min {
                        gmin_idx = Some(j);
                        obj_min = obj;
                    }
                }
            }
        }
        self.gap = (gmaxp + gmaxp2).max(gmaxn + gmaxn2);
        if self.gap < self.eps {
            return None;
        }
        let j = gmin_idx?;
        let i = if self.y[j] == 1 { ip } else { in_ }?;
        Some((i, j))
    }

    /// The maximal violations `(Gmax1, Gmax2, Gmax3, Gmax4)` over the active set: for the
    /// standard solver only the first two are used (over both signs).
    fn violations(&self) -> [f64; 4] {
        let mut m = [f64::NEG_INFINITY; 4];
        for &i in self.active() {
            let g = self.g[i];
            let pos = self.y[i] == 1;
            if self.nu {
                if !self.upper(i) {
                    let k = if pos { 0 } else { 3 };
                    m[k] = m[k].max(-g);
                }
                if !self.lower(i) {
                    let k = if pos { 1 } else { 2 };
                    m[k] = m[k].max(g);
                }
            } else if pos {
                if !self.upper(i) {
                    m[0] = m[0].max(-g);
                }
                if !self.lower(i) {
                    m[1] = m[1].max(g);
                }
            } else {
                if !self.upper(i) {
                    m[1] = m[1].max(-g);
                }
                if !self.lower(i) {
                    m[0] = m[0].max(g);
                }
            }
        }
        m
    }

    fn be_shrunk(&self, i: usize, m: &[f64; 4]) -> bool {
        let pos = self.y[i] == 1;
        let g = self.g[i];
        if self.upper(i) {
            -g > if pos {
                m[0]
            } else if self.nu {
                m[3]
            } else {
                m[1]
            }
        } else if self.lower(i) {
            g > if pos {
                m[1]
            } else if self.nu {
                m[2]
            } else {
                m[0]
            }
        } else {
            false
        }
    }

    fn do_shrinking(&mut self) {
        self.first = None;
        let m = self.violations();
        let gap = if self.nu {
            (m[0] + m[1]).max(m[2] + m[3])
        } else {
            m[0] + m[1]
        };
        if !self.unshrink && gap <= self.eps * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.grow_to_all();
        }
        // libsvm's swaps: a shrunk variable trades places with the last active one that stays.
        // The swapped pairs are nested, so the first one spans them all for the cache.
        let mut first = None;
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(self.order[i], &m) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.order[self.active_size], &m) {
                        self.order.swap(i, self.active_size);
                        self.q.swapped(i, self.active_size, &self.order);
                        first = first.or(Some((i, self.active_size)));
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
        if let Some((i, j)) = first {
            self.q.cut(i, j);
        }
    }

    /// `ρ`: the mean of `yᵢGᵢ` over free variables, else the middle of the feasible range.
    fn rho(&self) -> f64 {
        let (mut ub, mut lb, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for &i in self.active() {
            let yg = f64::from(self.y[i]) * self.g[i];
            let pos = self.y[i] == 1;
            if self.upper(i) {
                if pos {
                    lb = lb.max(yg);
                } else {
                    ub = ub.min(yg);
                }
            } else if self.lower(i) {
                if pos {
                    ub = ub.min(yg);
                } else {
                    lb = lb.max(yg);
                }
            } else {
                n += 1;
                sum += yg;
            }
        }
        if n > 0 {
            sum / n as f64
        } else {
            (ub + lb) / 2.0
        }
    }

    /// The nu solver's `(ρ, r)`.
    fn rho_nu(&self) -> (f64, f64) {
        let mut ub = [f64::INFINITY; 2];
        let mut lb = [f64::NEG_INFINITY; 2];
        let mut sum = [0.0; 2];
        let mut n = [0usize; 2];
        for &i in self.active() {
            let s = usize::from(self.y[i] != 1);
            let g = self.g[i];
            if self.upper(i) {
                lb[s] = lb[s].max(g);
            } else if self.lower(i) {
                ub[s] = ub[s].min(g);
            } else {
                n[s] += 1;
                sum[s] += g;
            }
        }
        let r = |s: usize| {
            if n[s] > 0 {
                sum[s] / n[s] as f64
            } else {
                (ub[s] + lb[s]) / 2.0
            }
        };
        let (r1, r2) = (r(0), r(1));
        ((r1 - r2) / 2.0, (r1 + r2) / 2.0)
    }
}
