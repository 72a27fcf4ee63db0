//! Principal component analysis, as scikit-learn's `PCA`: the settings ([`Pca`]), the fitting
//! core and the fitted state ([`PcaModel`]) that both the `pca` model
//! ([`crate::models::decomposition`]) and the `pca` preprocessing step
//! ([`crate::preprocess::FittedPca`]) use, so that one piece of code serves both (it sits in
//! `common` because a preprocessing step may not import from `models`).
//!
//! Solvers, as scikit-learn 1.9's `PCA._fit`:
//!
//! - `"full"`: the SVD of the centred data (singular values and right vectors only, through a
//!   parallel tall-skinny QR when the data are tall: [`linalg::svd_right`]); explained
//!   variances `s² / (n - 1)`;
//! - `"covariance_eigh"`: the eigendecomposition of the covariance matrix, computed as a
//!   blocked, parallel Gram product reduced in a fixed order ([`linalg::weighted_gram`]);
//!   negative eigenvalues (rounding) become 0;
//! - `"randomized"`: Halko et al.'s randomized SVD (scikit-learn's `_randomized_svd`: a
//!   Gaussian test matrix of `n_components + n_oversamples` columns drawn from
//!   `random_state`, `iterated_power` power iterations, the data transposed when it has
//!   fewer rows than columns);
//! - `"auto"`: scikit-learn's rule — `covariance_eigh` when `n_features <= 1000` and
//!   `n_samples >= 10 * n_features`, else `full` when the data have at most 500 rows and
//!   columns or `n_components` is `"mle"`, else `randomized` when `1 <= n_components < 0.8 *
//!   min(n_samples, n_features)`, else `full`.
//!
//! Signs follow scikit-learn's `svd_flip(u_based_decision=False)` for every solver: the
//! largest-magnitude entry of each component (the first on ties) is positive.
//! `n_components` may be a count, a fraction of the explained variance in `(0, 1)` (the
//! fewest components whose cumulated ratio exceeds it) or `"mle"` (Minka's estimate,
//! [`infer_dimension`]).

mod mle;
mod randomized;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::common::linalg;
use crate::error::{Error, Result};

pub use mle::infer_dimension;

/// The number of components: a count, a fraction of the variance, or `"mle"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NComponents {
    /// Keep this many components (`>= 1`, at most `min(n_samples, n_features)`).
    Count(usize),
    /// Keep the fewest components whose explained variance ratio sums to more than this
    /// (in `(0, 1)`; `full` and `covariance_eigh` solvers).
    Fraction(f64),
    /// `"mle"`: Minka's maximum-likelihood estimate of the dimension (`n_samples >=
    /// n_features`; `full` and `covariance_eigh` solvers).
    Method(String),
}

/// The number of power iterations of the randomized solver: a count or `"auto"` (7 when
/// `n_components < 0.1 * min(n_samples, n_features)`, else 4, as scikit-learn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IteratedPower {
    /// This many power iterations.
    Count(usize),
    /// `"auto"`.
    Auto(String),
}

impl Default for IteratedPower {
    fn default() -> Self {
        IteratedPower::Auto("auto".into())
    }
}

/// The settings of principal component analysis, with scikit-learn's names and defaults:
/// the `pca` model's trainer and the `pca` preprocessing step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pca {
    /// How many components to keep (default `None`: all, `min(n_samples, n_features)`).
    pub n_components: Option<NComponents>,
    /// Divide each output by the square root of its explained variance (unit-variance
    /// outputs; default false).
    pub whiten: bool,
    /// `"auto"` (default), `"full"`, `"covariance_eigh"` or `"randomized"`.
    pub svd_solver: String,
    /// Power iterations of the randomized solver (default `"auto"`).
    pub iterated_power: IteratedPower,
    /// Extra random directions of the randomized solver (default 10).
    pub n_oversamples: usize,
    /// How the randomized solver's power iterations are normalized: `"auto"` (default: none
    /// for at most 2 iterations, else `"LU"`), `"QR"`, `"LU"` or `"none"`. `"LU"` is
    /// computed as `"QR"` (the same subspace, an orthonormal basis of it).
    pub power_iteration_normalizer: String,
    /// The seed of the randomized solver (`None`: the fit context's, 0 in a preprocessing
    /// step).
    pub random_state: Option<u64>,
}

impl Default for Pca {
    fn default() -> Self {
        Self {
            n_components: None,
            whiten: false,
            svd_solver: "auto".into(),
            iterated_power: IteratedPower::default(),
            n_oversamples: 10,
            power_iteration_normalizer: "auto".into(),
            random_state: None,
        }
    }
}

/// A solver after `"auto"` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Solver {
    Full,
    CovarianceEigh,
    Randomized,
}

/// The checked form of `n_components`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Count {
    All,
    Exactly(usize),
    Fraction(f64),
    Mle,
}

const N_COMPONENTS_EXPECTED: &str =
    "an integer >= 1, a fraction in (0, 1), \"mle\" or null (all components)";

impl Pca {
    /// Checks every setting that does not depend on the data.
    fn checked(&self) -> Result<Count> {
        let count = match &self.n_components {
            None => Count::All,
            Some(NComponents::Count(0)) => {
                return Err(Error::param("n_components", 0, N_COMPONENTS_EXPECTED))
            }
            Some(NComponents::Count(k)) => Count::Exactly(*k),
            Some(NComponents::Fraction(f)) if *f > 0.0 && *f < 1.0 => Count::Fraction(*f),
            Some(NComponents::Fraction(f)) => {
                return Err(Error::param("n_components", f, N_COMPONENTS_EXPECTED))
            }
            Some(NComponents::Method(m)) if m == "mle" => Count::Mle,
            Some(NComponents::Method(m)) => {
                return Err(Error::param(
                    "n_components",
                    format!("{m:?}"),
                    N_COMPONENTS_EXPECTED,
                ))
            }
        };
        if !matches!(
            self.svd_solver.as_str(),
            "auto" | "full" | "covariance_eigh" | "randomized"
        ) {
            return Err(Error::param(
                "svd_solver",
                format!("{:?}", self.svd_solver),
                "\"auto\", \"full\", \"covariance_eigh\" or \"randomized\"",
            ));
        }
        if let IteratedPower::Auto(s) = &self.iterated_power {
            if s != "auto" {
                return Err(Error::param(
                    "iterated_power",
                    format!("{s:?}"),
                    "\"auto\" or an integer >= 0",
                ));
            }
        }
        if !matches!(
            self.power_iteration_normalizer.as_str(),
            "auto" | "QR" | "LU" | "none"
        ) {
            return Err(Error::param(
                "power_iteration_normalizer",
                format!("{:?}", self.power_iteration_normalizer),
                "\"auto\", \"QR\", \"LU\" or \"none\"",
            ));
        }
        Ok(count)
    }

    /// scikit-learn's choice of solver for an `n × p` matrix.
    fn solver(&self, count: Count, n: usize, p: usize) -> Solver {
        match self.svd_solver.as_str() {
            "full" => Solver::Full,
            "covariance_eigh" => Solver::CovarianceEigh,
            "randomized" => Solver::Randomized,
            _ => {
                let m = n.min(p);
                let k = match count {
                    Count::All => m as f64,
                    Count::Exactly(k) => k as f64,
                    Count::Fraction(f) => f,
                    Count::Mle => f64::NAN,
                };
                if p <= 1_000 && n >= 10 * p {
                    Solver::CovarianceEigh
                } else if n.max(p) <= 500 || count == Count::Mle {
                    Solver::Full
                } else if 1.0 <= k && k < 0.8 * m as f64 {
                    Solver::Randomized
                } else {
                    Solver::Full
                }
            }
        }
    }

    /// Validates the settings (naming the parameter), then fits on the rows of `x`, which
    /// must be finite (the callers check and name the bad cell); `seed` seeds the randomized
    /// solver when `random_state` is `None`.
    pub fn fit_matrix(&self, x: ArrayView2<'_, f64>, seed: u64) -> Result<PcaModel> {
        let count = self.checked()?;
        let (n, p) = x.dim();
        if n < 2 || p == 0 {
            return Err(Error::InvalidArgument(format!(
                "pca: {n} rows of {p} features; at least 2 rows and 1 feature are needed"
            )));
        }
        let m = n.min(p);
        let solver = self.solver(count, n, p);
        match count {
            Count::Exactly(k) if k > m => {
                return Err(Error::param(
                    "n_components",
                    k,
                    &format!("at most min(n_samples, n_features) = {m}"),
                ))
            }
            Count::Mle if n < p => {
                return Err(Error::param(
                    "n_components",
                    "\"mle\"",
                    &format!(
                        "a count or fraction: \"mle\" needs n_samples ({n}) >= n_features ({p})"
                    ),
                ))
            }
            Count::Mle | Count::Fraction(_) if solver == Solver::Randomized => {
                return Err(Error::param(
                    "n_components",
                    format!("{:?}", self.n_components),
                    "an integer count with svd_solver = \"randomized\"",
                ))
            }
            _ => {}
        }
        let (centred, mean, sum_sq) = centre(x)?;
        let denom = (n - 1) as f64;
        let seed = self.random_state.unwrap_or(seed);
        let axes = match solver {
            Solver::Full => {
                let svd = linalg::svd_right(centred.view())?;
                let ev = svd.s.mapv(|s| s * s / denom);
                Spectrum::full(svd.v.reversed_axes(), svd.s, ev, count, n, p)
            }
            Solver::CovarianceEigh => {
                drop(centred);
                let zeros = Array1::zeros(n);
                let gram = linalg::weighted_gram(x, zeros.view(), mean.view(), 0.0, None)?;
                let eig = linalg::sym_eigh((gram.xtx / denom).view())?;
                let order: Vec<usize> = (0..p).rev().collect();
                let ev = Array1::from_iter(order.iter().map(|&i| eig.w[i].max(0.0)));
                let vt = Array2::from_shape_fn((p, p), |(r, j)| eig.v[[j, order[r]]]);
                let s = ev.mapv(|e| (e * denom).sqrt());
                Spectrum::full(vt, s, ev, count, n, p)
            }
            Solver::Randomized => {
                let k = match count {
                    Count::Exactly(k) => k,
                    _ => m,
                };
                let iters = match self.iterated_power {
                    IteratedPower::Count(c) => c,
                    IteratedPower::Auto(_) => {
                        if (k as f64) < 0.1 * m as f64 {
                            7
                        } else {
                            4
                        }
                    }
                };
                let normalize = match self.power_iteration_normalizer.as_str() {
                    "none" => false,
                    "auto" => iters > 2,
                    _ => true,
                };
                let (vt, s) = randomized::svd(
                    centred.view(),
                    k,
                    self.n_oversamples,
                    iters,
                    normalize,
                    seed,
                )?;
                let total_var = sum_sq / denom;
                Spectrum::truncated(vt, s, total_var, n, p)
            }
        };
        Ok(axes.into_model(mean, n, self.whiten))
    }
}

/// Rows of the data per parallel block of [`centre`].
const CENTRE_BLOCK: usize = 2048;

/// The data centred on their column means (a new row-major matrix), the means, and the sum
/// of the squared centred values. Two parallel passes over fixed row blocks (column sums,
/// then the centred copy with its squares), each block summed in row order and the blocks
/// added in block order: the same bits for any number of threads. NaN or infinite data are
/// an error (a non-finite cell makes its column's sum non-finite, so the sums check it).
fn centre(x: ArrayView2<'_, f64>) -> Result<(Array2<f64>, Array1<f64>, f64)> {
    use rayon::prelude::*;
    let (n, p) = x.dim();
    let blocks = n.div_ceil(CENTRE_BLOCK);
    let block_rows = |b: usize| {
        x.slice(ndarray::s![
            b * CENTRE_BLOCK..((b + 1) * CENTRE_BLOCK).min(n),
            ..
        ])
    };
    let mut sums = vec![0.0; p];
    let partial: Vec<Vec<f64>> = (0..blocks)
        .into_par_iter()
        .map(|b| {
            let mut s = vec![0.0; p];
            for row in block_rows(b).rows() {
                s.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            }
            s
        })
        .collect();
    for part in &partial {
        sums.iter_mut().zip(part).for_each(|(a, v)| *a += v);
    }
    if sums.iter().any(|v| !v.is_finite()) && x.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "pca: the data hold NaN or infinite values".into(),
        ));
    }
    let mean = Array1::from_iter(sums.iter().map(|s| s / n as f64));
    // Zeroed memory is first touched (and its pages faulted in) by the parallel copy.
    let mut centred = Array2::<f64>::zeros((n, p));
    let squares: Vec<f64> = match centred.as_slice_mut() {
        Some(out) if p > 0 => out
            .par_chunks_mut(CENTRE_BLOCK * p)
            .enumerate()
            .map(|(b, dst)| {
                let mut sq = 0.0;
                for (d, row) in dst.chunks_exact_mut(p).zip(block_rows(b).rows()) {
                    for ((d, v), m) in d.iter_mut().zip(row).zip(&mean) {
                        *d = v - m;
                        sq += *d * *d;
                    }
                }
                sq
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok((centred, mean, squares.iter().sum()))
}

/// The principal axes before they become a model: components (rows, signs flipped),
/// singular values, explained variances and their ratios, the noise variance.
struct Spectrum {
    vt: Array2<f64>,
    s: Array1<f64>,
    ev: Array1<f64>,
    ratio: Array1<f64>,
    noise_variance: f64,
}

impl Spectrum {
    /// The whole spectrum of an exact solver, cut to the chosen number of components.
    fn full(
        mut vt: Array2<f64>,
        s: Array1<f64>,
        ev: Array1<f64>,
        count: Count,
        n: usize,
        p: usize,
    ) -> Self {
        flip_rows(&mut vt);
        let total: f64 = ev.sum();
        let ratio = ev.mapv(|e| e / total);
        let len = ev.len();
        let k = match count {
            Count::All => n.min(p),
            Count::Exactly(k) => k,
            Count::Mle => infer_dimension(ev.as_slice().unwrap_or(&[]), n),
            Count::Fraction(f) => {
                // numpy's searchsorted(cumsum, f, side="right") + 1.
                let mut cum = 0.0;
                let below = ratio
                    .iter()
                    .take_while(|&&r| {
                        cum += r;
                        cum <= f
                    })
                    .count();
                below + 1
            }
        }
        .min(len);
        let noise_variance = if k < n.min(p) {
            let rest = ev.slice(ndarray::s![k..]);
            rest.sum() / rest.len().max(1) as f64
        } else {
            0.0
        };
        Self {
            vt: vt.slice(ndarray::s![..k, ..]).to_owned(),
            s: s.slice(ndarray::s![..k]).to_owned(),
            ev: ev.slice(ndarray::s![..k]).to_owned(),
            ratio: ratio.slice(ndarray::s![..k]).to_owned(),
            noise_variance,
        }
    }

    /// The components of a truncated solver, with the total variance of the data.
    fn truncated(mut vt: Array2<f64>, s: Array1<f64>, total_var: f64, n: usize, p: usize) -> Self {
        flip_rows(&mut vt);
        let denom = (n - 1) as f64;
        let ev = s.mapv(|s| s * s / denom);
        let ratio = ev.mapv(|e| e / total_var);
        let k = ev.len();
        let m = n.min(p);
        let noise_variance = if k < m {
            (total_var - ev.sum()) / (m - k) as f64
        } else {
            0.0
        };
        Self {
            vt,
            s,
            ev,
            ratio,
            noise_variance,
        }
    }

    fn into_model(self, mean: Array1<f64>, n_samples: usize, whiten: bool) -> PcaModel {
        PcaModel {
            n_components: self.vt.nrows(),
            n_features: self.vt.ncols(),
            components: self.vt.outer_iter().map(|r| r.to_vec()).collect(),
            mean: mean.to_vec(),
            explained_variance: self.ev.to_vec(),
            explained_variance_ratio: self.ratio.to_vec(),
            singular_values: self.s.to_vec(),
            noise_variance: self.noise_variance,
            n_samples,
            whiten,
        }
    }
}

/// scikit-learn's `svd_flip(u_based_decision=False)` on the rows of `vt`: each row's
/// largest-magnitude entry (the first on ties) becomes positive.
pub fn flip_rows(vt: &mut Array2<f64>) {
    for mut row in vt.outer_iter_mut() {
        let mut best = 0.0f64;
        let mut sign = 1.0;
        for &v in row.iter() {
            if v.abs() > best {
                best = v.abs();
                sign = if v < 0.0 { -1.0 } else { 1.0 };
            }
        }
        if sign < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
}

/// Fitted principal axes: scikit-learn's fitted attributes of `PCA` / `IncrementalPCA`
/// (without the trailing underscores), and whether outputs are whitened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaModel {
    /// The principal axes, `n_components` rows of `n_features` values, by decreasing
    /// explained variance (`components_`).
    pub components: Vec<Vec<f64>>,
    /// The training mean of each feature (`mean_`).
    pub mean: Vec<f64>,
    /// The variance along each component (`explained_variance_`, `s² / (n - 1)`).
    pub explained_variance: Vec<f64>,
    /// Each component's share of the total variance (`explained_variance_ratio_`).
    pub explained_variance_ratio: Vec<f64>,
    /// The singular values of the centred data (`singular_values_`).
    pub singular_values: Vec<f64>,
    /// The variance left out, per left-out dimension (`noise_variance_`, the probabilistic
    /// PCA model's noise; 0 when every component is kept).
    pub noise_variance: f64,
    /// The number of components kept (`n_components_`).
    pub n_components: usize,
    /// The number of training rows (`n_samples_`).
    pub n_samples: usize,
    /// The number of input features.
    pub n_features: usize,
    /// Whether `transform` divides by the square root of the explained variance.
    pub whiten: bool,
}

impl PcaModel {
    /// Checks that every vector has the length the counts say and every value is finite
    /// (a model read from a file could break either): [`Error::ModelCorrupt`] naming
    /// `context`.
    pub fn check(&self, context: &str) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {context}: {m}")));
        let k = self.n_components;
        if k == 0 || self.n_features == 0 {
            return corrupt(format!("{k} components of {} features", self.n_features));
        }
        for (what, len) in [
            ("components", self.components.len()),
            ("explained_variance", self.explained_variance.len()),
            (
                "explained_variance_ratio",
                self.explained_variance_ratio.len(),
            ),
            ("singular_values", self.singular_values.len()),
        ] {
            if len != k {
                return corrupt(format!("`{what}` has {len} entries for {k} components"));
            }
        }
        if self.mean.len() != self.n_features
            || self.components.iter().any(|c| c.len() != self.n_features)
        {
            return corrupt(format!(
                "the mean or a component does not have {} entries",
                self.n_features
            ));
        }
        let finite = self
            .components
            .iter()
            .flatten()
            .chain(&self.mean)
            .chain(&self.explained_variance)
            .chain(&self.explained_variance_ratio)
            .chain(&self.singular_values)
            .all(|v| v.is_finite());
        if !(finite && self.noise_variance.is_finite() && self.noise_variance >= 0.0) {
            return corrupt("a non-finite value, or a negative noise variance".into());
        }
        if self.explained_variance.iter().any(|&v| v < 0.0) {
            return corrupt("a negative explained variance".into());
        }
        Ok(())
    }

    /// What `transform` divides component `k`'s output by: `sqrt(explained_variance)`
    /// (at least machine epsilon, as scikit-learn) when whitening, else 1.
    fn scale(&self, k: usize) -> f64 {
        if self.whiten {
            self.explained_variance
                .get(k)
                .map_or(1.0, |v| v.sqrt().max(f64::EPSILON))
        } else {
            1.0
        }
    }

    /// The projection of one finite row (`n_features` values) into `out`
    /// (`n_components` values): `Σ_j (x_j - mean_j) · components[k][j]`, accumulated in
    /// `j` order, then divided by the whitening scale. Allocation-free.
    pub fn project_row(&self, row: &[f64], out: &mut [f64]) {
        for (k, (o, c)) in out.iter_mut().zip(&self.components).enumerate() {
            let mut acc = 0.0;
            for ((&x, &m), &w) in row.iter().zip(&self.mean).zip(c) {
                acc += (x - m) * w;
            }
            *o = if self.whiten {
                acc / self.scale(k)
            } else {
                acc
            };
        }
    }

    /// The projection of a block of finite rows (`x` row-major, `n_features` values each)
    /// into `out` (`n_components` values per row): the bits of
    /// [`project_row`](Self::project_row) for every row, with the components of a row
    /// accumulated side by side ([`linalg::shifted_dots_ordered`] over `components_t`, the
    /// components transposed by [`components_transposed`](Self::components_transposed)).
    pub fn project_rows(&self, components_t: &[f64], x: &[f64], out: &mut [f64]) -> Result<()> {
        let k = self.n_components;
        let m = x.len() / self.n_features.max(1);
        linalg::shifted_dots_ordered(x, m, &self.mean, components_t, k, out)?;
        if self.whiten {
            for row in out.chunks_exact_mut(k.max(1)) {
                for (c, o) in row.iter_mut().enumerate() {
                    *o /= self.scale(c);
                }
            }
        }
        Ok(())
    }

    /// The components as an `n_features × n_components` row-major matrix (the weights of
    /// [`project_rows`](Self::project_rows)).
    pub fn components_transposed(&self) -> Vec<f64> {
        let (p, k) = (self.n_features, self.n_components);
        let mut t = vec![0.0; p * k];
        for (c, comp) in self.components.iter().enumerate().take(k) {
            for (j, &w) in comp.iter().enumerate().take(p) {
                if let Some(v) = t.get_mut(j * k + c) {
                    *v = w;
                }
            }
        }
        t
    }

    /// The weights of [`project_row`](Self::project_row) with the whitening folded in, row
    /// `k` being `components[k] / scale_k`, row-major `n_components × n_features` (the matrix
    /// of the `pca` preprocessing step's row kernel).
    pub fn projection_weights(&self) -> Vec<f64> {
        self.components
            .iter()
            .enumerate()
            .flat_map(|(k, c)| {
                let s = self.scale(k);
                c.iter().map(move |&w| if s == 1.0 { w } else { w / s })
            })
            .collect()
    }

    /// Maps outputs back to the input space (scikit-learn's `inverse_transform`:
    /// `z · components + mean`, the components scaled by `sqrt(explained_variance)` when
    /// whitening). `z` must have `n_components` columns.
    pub fn inverse_transform(&self, z: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let k = self.n_components;
        if z.ncols() != k {
            return Err(Error::shape(
                "pca inverse_transform",
                format!("{k} columns (the components)"),
                format!("{} columns", z.ncols()),
            ));
        }
        let mut w = Array2::zeros((k, self.n_features));
        for (r, (mut row, c)) in w.outer_iter_mut().zip(&self.components).enumerate() {
            let s = if self.whiten {
                self.explained_variance.get(r).map_or(1.0, |v| v.sqrt())
            } else {
                1.0
            };
            for (d, &v) in row.iter_mut().zip(c) {
                *d = v * s;
            }
        }
        let mut out = z.dot(&w);
        out += &Array1::from(self.mean.clone());
        Ok(out)
    }

    /// The log-likelihood of one finite row under the probabilistic PCA model (scikit-learn's
    /// `score_samples`: a Gaussian with covariance `Wᵀ diag(λ - σ²) W + σ² I`), through the
    /// closed form of its precision for orthonormal components: `Σ_k (w_k·x)² / λ_k +
    /// (‖x‖² - Σ_k (w_k·x)²) / σ²` and `log det = Σ_k ln λ_k + (p - k) ln σ²`, where `x` is
    /// the centred row and `λ_k` is at least `σ²`. As scikit-learn's `get_covariance`, a
    /// whitened model scales its components by `sqrt(explained_variance)` first, so that
    /// `λ_k` is then `ev_k · max(ev_k - σ², 0) + σ²`. A rank-deficient fit (collinear
    /// columns, e.g. one-hot indicators that sum to 1) has variances of 0, whose density
    /// scikit-learn cannot evaluate (a singular covariance): here every `λ_k` is at least
    /// machine epsilon times the largest, which changes nothing for data of full rank and
    /// keeps the score finite. Allocation-free.
    pub fn log_likelihood_row(&self, row: &[f64]) -> f64 {
        let sigma2 = self.noise_variance;
        let p = self.n_features as f64;
        let mut sq = 0.0;
        for (&x, &m) in row.iter().zip(&self.mean) {
            sq += (x - m) * (x - m);
        }
        let mut quad = 0.0;
        let mut explained = 0.0;
        let mut log_det = 0.0;
        let floor = f64::EPSILON * self.explained_variance.first().copied().unwrap_or(0.0);
        for (c, &ev) in self.components.iter().zip(&self.explained_variance) {
            let mut proj = 0.0;
            for ((&x, &m), &w) in row.iter().zip(&self.mean).zip(c) {
                proj += (x - m) * w;
            }
            let lambda = if self.whiten {
                ev * (ev - sigma2).max(0.0) + sigma2
            } else {
                ev.max(sigma2)
            }
            .max(floor);
            quad += proj * proj / lambda;
            explained += proj * proj;
            log_det += lambda.ln();
        }
        if sigma2 > 0.0 {
            quad += (sq - explained) / sigma2;
            log_det += (p - self.n_components as f64) * sigma2.ln();
        }
        -0.5 * quad - 0.5 * (p * (2.0 * std::f64::consts::PI).ln() + log_det)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn flip_makes_the_largest_entry_positive() {
        let mut v = array![[0.1, -0.9, 0.3], [0.5, -0.5, 0.2]];
        flip_rows(&mut v);
        assert_eq!(v, array![[-0.1, 0.9, -0.3], [0.5, -0.5, 0.2]]);
    }

    #[test]
    fn auto_solver_follows_scikit_learn() {
        let pca = Pca::default();
        assert_eq!(pca.solver(Count::All, 100, 5), Solver::CovarianceEigh);
        assert_eq!(pca.solver(Count::All, 100, 50), Solver::Full);
        assert_eq!(pca.solver(Count::Mle, 600, 100), Solver::Full);
        assert_eq!(pca.solver(Count::Exactly(10), 600, 100), Solver::Randomized);
        assert_eq!(pca.solver(Count::Exactly(90), 600, 100), Solver::Full);
        assert_eq!(pca.solver(Count::Fraction(0.5), 600, 100), Solver::Full);
    }

    #[test]
    fn bad_settings_name_the_parameter() {
        let x = array![[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]];
        let bad = |pca: Pca, name: &str| {
            let err = pca.fit_matrix(x.view(), 0).err();
            assert_eq!(
                err.as_ref().and_then(Error::parameter),
                Some(name),
                "{err:?}"
            );
        };
        let with = |n: NComponents| Pca {
            n_components: Some(n),
            ..Pca::default()
        };
        bad(with(NComponents::Count(0)), "n_components");
        bad(with(NComponents::Count(3)), "n_components");
        bad(with(NComponents::Fraction(1.0)), "n_components");
        bad(with(NComponents::Method("mle2".into())), "n_components");
        bad(
            Pca {
                svd_solver: "arpack".into(),
                ..Pca::default()
            },
            "svd_solver",
        );
        bad(
            Pca {
                svd_solver: "randomized".into(),
                ..with(NComponents::Fraction(0.5))
            },
            "n_components",
        );
        bad(
            Pca {
                power_iteration_normalizer: "qr".into(),
                ..Pca::default()
            },
            "power_iteration_normalizer",
        );
    }
}
