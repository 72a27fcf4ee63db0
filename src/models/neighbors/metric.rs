//! Distance metrics of the neighbour searches, with scikit-learn's names: `euclidean`,
//! `manhattan`, `chebyshev`, `minkowski` (with its `p`) and `cosine`.
//!
//! Every search compares *reduced* distances (the squared distance for `euclidean`,
//! `Σ|x − y|^p` for `minkowski`, `1 − cos` for `cosine`), which order rows as the distances
//! do and cost no root; a reported distance is the reduced one converted once
//! ([`Distance::to_dist`]). Every algorithm computes the reduced distance of a pair with the
//! same function ([`Distance::rdist`]), so brute force and the trees return the same bits.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A distance metric, by scikit-learn's name (`metric` of `NearestNeighbors`, `DBSCAN`,
/// `LocalOutlierFactor`). `minkowski` takes the separate parameter `p` (default 2, i.e.
/// euclidean, scikit-learn's default metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `sqrt(Σ (x − y)²)`.
    Euclidean,
    /// `Σ |x − y|` (cityblock, l1).
    Manhattan,
    /// `max |x − y|`.
    Chebyshev,
    /// `(Σ |x − y|^p)^(1/p)`, `p >= 1` for the trees (any `p > 0` by brute force); the
    /// default, with `p = 2`.
    #[default]
    Minkowski,
    /// `1 − x·y / (‖x‖ ‖y‖)` (a zero row has distance 1 to every row, as scikit-learn's
    /// `cosine_distances`); searched by brute force under `algorithm: "auto"`.
    Cosine,
}

impl Metric {
    /// The metric's name in configs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::Manhattan => "manhattan",
            Metric::Chebyshev => "chebyshev",
            Metric::Minkowski => "minkowski",
            Metric::Cosine => "cosine",
        }
    }
}

/// A metric resolved with its `p`, as scikit-learn's `effective_metric_`: `minkowski` with
/// `p` = 1, 2 or infinity is `manhattan`, `euclidean` or `chebyshev`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// Euclidean (reduced: the squared distance).
    Euclidean,
    /// Manhattan.
    Manhattan,
    /// Chebyshev.
    Chebyshev,
    /// Minkowski with this `p` (reduced: `Σ|x − y|^p`).
    Minkowski(f64),
    /// Cosine (computed on rows scaled to unit norm; reduced = the distance).
    Cosine,
}

/// `out[t] = term(q[0], x₀[t]) ⊕ term(q[1], x₁[t]) ⊕ …` in coordinate order, for the rows
/// of the columns `x_j = cols[j * stride..][..out.len()]` (`q` not empty, `cols` long enough:
/// checked by the caller). For chebyshev, `term` folds the start `0.0` into the first term.
#[inline(always)]
fn fold_columns(
    q: &[f64],
    cols: &[f64],
    stride: usize,
    out: &mut [f64],
    term: impl Fn(f64, f64) -> f64,
    add: impl Fn(f64, f64) -> f64,
) {
    let m = out.len();
    for (j, &qj) in q.iter().enumerate() {
        let col = cols.get(j * stride..j * stride + m).unwrap_or(&[]);
        if j == 0 {
            for (o, &x) in out.iter_mut().zip(col) {
                *o = term(qj, x);
            }
        } else {
            for (o, &x) in out.iter_mut().zip(col) {
                *o = add(*o, term(qj, x));
            }
        }
    }
}

/// Relative slack taken off every lower bound of a tree node, so that rounding in a bound
/// can never prune a row the exact comparison would keep (a looser bound only costs time).
const BOUND_SLACK: f64 = 1e-12;

/// The relative slack of a bound computed over `dims` coordinates.
#[inline(always)]
fn bound_slack(dims: usize) -> f64 {
    BOUND_SLACK + 8.0 * dims as f64 * f64::EPSILON
}

impl Distance {
    /// Resolves `metric` with `p`, checking `p` (`p > 0`; only read for `minkowski`).
    pub fn resolve(metric: Metric, p: f64) -> Result<Self> {
        if p.is_nan() || p <= 0.0 {
            return Err(Error::param("p", p, "a value > 0 (or infinity)"));
        }
        Ok(match metric {
            Metric::Euclidean => Distance::Euclidean,
            Metric::Manhattan => Distance::Manhattan,
            Metric::Chebyshev => Distance::Chebyshev,
            Metric::Cosine => Distance::Cosine,
            Metric::Minkowski if p == 1.0 => Distance::Manhattan,
            Metric::Minkowski if p == 2.0 => Distance::Euclidean,
            Metric::Minkowski if p == f64::INFINITY => Distance::Chebyshev,
            Metric::Minkowski => Distance::Minkowski(p),
        })
    }

    /// Whether the metric satisfies the triangle inequality on the rows the trees search
    /// (cosine is searched as the euclidean distance of unit rows, so it qualifies).
    pub fn tree_ok(self) -> bool {
        !matches!(self, Distance::Minkowski(p) if p < 1.0)
    }

    /// The reduced distance of two rows of the search space (for cosine, unit rows).
    #[inline]
    pub fn rdist(self, a: &[f64], b: &[f64]) -> f64 {
        let pairs = a.iter().zip(b);
        match self {
            Distance::Euclidean => pairs.map(|(x, y)| (x - y) * (x - y)).sum(),
            Distance::Manhattan => pairs.map(|(x, y)| (x - y).abs()).sum(),
            Distance::Chebyshev => pairs.fold(0.0, |m, (x, y)| m.max((x - y).abs())),
            Distance::Minkowski(p) => pairs.map(|(x, y)| (x - y).abs().powf(p)).sum(),
            Distance::Cosine => {
                let dot: f64 = pairs.map(|(x, y)| x * y).sum();
                (1.0 - dot).clamp(0.0, 2.0)
            }
        }
    }

    /// The reduced distances of `q` to `out.len()` rows stored by columns (coordinate `j` of
    /// row `t` at `cols[j * stride + t]`), each with the bits of [`rdist`](Self::rdist): the
    /// same terms, combined in the same order (a sum starts from its first term, as
    /// `-0.0 + t = t`), so the loops run across the rows and vectorize. Rows the columns do
    /// not hold (a short `cols`) get an infinite distance.
    #[inline(always)]
    pub(crate) fn rdist_columns(self, q: &[f64], cols: &[f64], stride: usize, out: &mut [f64]) {
        let m = out.len();
        let need = q.len().saturating_sub(1) * stride + m;
        if q.is_empty() || cols.len() < need {
            out.fill(f64::INFINITY);
            return;
        }
        let sum = |a: f64, t: f64| a + t;
        match self {
            Distance::Euclidean => {
                fold_columns(q, cols, stride, out, |a, b| (a - b) * (a - b), sum)
            }
            Distance::Manhattan => fold_columns(q, cols, stride, out, |a, b| (a - b).abs(), sum),
            Distance::Chebyshev => fold_columns(
                q,
                cols,
                stride,
                out,
                |a, b| 0.0f64.max((a - b).abs()),
                f64::max,
            ),
            Distance::Minkowski(p) => {
                fold_columns(q, cols, stride, out, |a, b| (a - b).abs().powf(p), sum)
            }
            Distance::Cosine => {
                // The products `q·x`, then `1 − q·x`, as `rdist`.
                fold_columns(q, cols, stride, out, |a, b| a * b, sum);
                out.iter_mut().for_each(|o| *o = (1.0 - *o).clamp(0.0, 2.0));
            }
        }
    }

    /// A reduced distance as a distance.
    #[inline]
    pub fn to_dist(self, rd: f64) -> f64 {
        match self {
            Distance::Euclidean => rd.sqrt(),
            Distance::Minkowski(p) => rd.powf(1.0 / p),
            _ => rd,
        }
    }

    /// A distance (a radius) as a reduced distance.
    #[inline]
    pub fn to_rdist(self, d: f64) -> f64 {
        match self {
            Distance::Euclidean => d * d,
            Distance::Minkowski(p) => d.powf(p),
            _ => d,
        }
    }

    /// The distance, in the search space, of which tree bounds are measured: cosine trees
    /// bound the euclidean distance of unit rows.
    #[inline]
    fn space(self) -> Distance {
        match self {
            Distance::Cosine => Distance::Euclidean,
            d => d,
        }
    }

    /// The distance of two rows in the bound space (euclidean for cosine).
    #[inline]
    pub(crate) fn space_dist(self, a: &[f64], b: &[f64]) -> f64 {
        let s = self.space();
        s.to_dist(s.rdist(a, b))
    }

    /// The norm, in the bound space, of a vector of per-coordinate gaps (`>= 0`).
    #[inline]
    pub(crate) fn gap_norm(self, gaps: impl Iterator<Item = f64>) -> f64 {
        match self.space() {
            Distance::Euclidean => gaps.map(|g| g * g).sum::<f64>().sqrt(),
            Distance::Manhattan => gaps.sum(),
            Distance::Chebyshev => gaps.fold(0.0, f64::max),
            Distance::Minkowski(p) => gaps.map(|g| g.powf(p)).sum::<f64>().powf(1.0 / p),
            Distance::Cosine => 0.0,
        }
    }

    /// A lower bound on the reduced distance of every row of a box whose per-coordinate gaps
    /// to the query are `gaps` (`>= 0`), over `dims` coordinates: as
    /// [`bound_rdist`](Self::bound_rdist) of their [`gap_norm`](Self::gap_norm), with the
    /// euclidean bound taken from the sum of squares directly (no root and square: fewer
    /// roundings, the same relative slack).
    #[inline(always)]
    pub(crate) fn gap_bound_rdist(self, gaps: impl Iterator<Item = f64>, dims: usize) -> f64 {
        if self == Distance::Euclidean {
            let keep = 1.0 - bound_slack(dims);
            return gaps.map(|g| g * g).sum::<f64>() * keep * keep;
        }
        self.bound_rdist(self.gap_norm(gaps), 0.0, dims)
    }

    /// A lower bound on the reduced distance of every row of a node, from a lower bound
    /// `bound` (bound space), the scale `scale` of the numbers it was computed from and the
    /// number of coordinates: shrunk by a small relative slack so that rounding cannot prune
    /// a row that the exact comparison keeps.
    #[inline]
    pub(crate) fn bound_rdist(self, bound: f64, scale: f64, dims: usize) -> f64 {
        let slack = bound_slack(dims);
        let b = (bound - slack * (bound.abs() + scale)).max(0.0);
        match self {
            // 1 − cos = ‖x̂ − ŷ‖² / 2 for unit rows, computed with an absolute rounding
            // error of a few ulps of 1.
            Distance::Cosine => (b * b / 2.0 - slack).max(0.0),
            d => d.to_rdist(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minkowski_resolves_as_scikit_learn_and_p_is_checked() {
        assert_eq!(
            Distance::resolve(Metric::Minkowski, 2.0).unwrap(),
            Distance::Euclidean
        );
        assert_eq!(
            Distance::resolve(Metric::Minkowski, 1.0).unwrap(),
            Distance::Manhattan
        );
        assert_eq!(
            Distance::resolve(Metric::Minkowski, f64::INFINITY).unwrap(),
            Distance::Chebyshev
        );
        assert_eq!(
            Distance::resolve(Metric::Minkowski, 3.0).unwrap(),
            Distance::Minkowski(3.0)
        );
        for bad in [0.0, -1.0, f64::NAN] {
            assert!(matches!(
                Distance::resolve(Metric::Minkowski, bad),
                Err(Error::InvalidParameter { .. })
            ));
        }
        assert!(!Distance::Minkowski(0.5).tree_ok());
        let json = serde_json::to_string(&Metric::Chebyshev).unwrap();
        assert_eq!(json, "\"chebyshev\"");
    }

    #[test]
    fn distances_by_columns_have_the_bits_of_the_row_distances() {
        // Rows of 1 to 5 coordinates (signed, with zeros and -0.0), stored by columns with a
        // stride longer than the rows taken, against `rdist` row by row, for every metric.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match seed >> 60 {
                0 => 0.0,
                1 => -0.0,
                _ => ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 7.0,
            }
        };
        let metrics = [
            Distance::Euclidean,
            Distance::Manhattan,
            Distance::Chebyshev,
            Distance::Minkowski(3.0),
            Distance::Minkowski(1.5),
            Distance::Cosine,
        ];
        for d in 1..=5 {
            let (m, stride) = (13, 17);
            let q: Vec<f64> = (0..d).map(|_| next()).collect();
            let cols: Vec<f64> = (0..d * stride).map(|_| next()).collect();
            for dist in metrics {
                let mut out = vec![f64::NAN; m];
                dist.rdist_columns(&q, &cols, stride, &mut out);
                for (t, &got) in out.iter().enumerate() {
                    let row: Vec<f64> = (0..d).map(|j| cols[j * stride + t]).collect();
                    assert_eq!(
                        got.to_bits(),
                        dist.rdist(&q, &row).to_bits(),
                        "{dist:?} d={d}"
                    );
                }
                // Columns too short for the rows asked: no row is near.
                let mut short = vec![0.0; m];
                dist.rdist_columns(&q, &cols[..(d - 1) * stride + m - 1], stride, &mut short);
                assert!(short.iter().all(|v| *v == f64::INFINITY));
            }
        }
    }

    #[test]
    fn distances_are_the_textbook_ones() {
        let (a, b) = ([0.0, 3.0], [4.0, 0.0]);
        let d = |m: Distance| m.to_dist(m.rdist(&a, &b));
        assert_eq!(d(Distance::Euclidean), 5.0);
        assert_eq!(d(Distance::Manhattan), 7.0);
        assert_eq!(d(Distance::Chebyshev), 4.0);
        assert!((d(Distance::Minkowski(3.0)) - 91f64.powf(1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(Distance::Cosine.rdist(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
    }
}
