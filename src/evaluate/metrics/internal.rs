//! Internal clustering scores: they judge a partition by the features alone, with no true
//! labels, as scikit-learn computes them: the silhouette ([`Silhouette`], euclidean,
//! manhattan or cosine distances, optionally on a random subsample), the Calinski-Harabasz
//! index and the Davies-Bouldin index.
//!
//! Labels are any finite values; only their equality matters. **Noise** (`-1`, as DBSCAN and
//! HDBSCAN label it) is treated as scikit-learn treats it: as one more cluster label, not
//! dropped. Drop those rows first to score the clusters alone. Every score needs between 2
//! and `n_samples - 1` distinct labels; otherwise it is scikit-learn's error "Number of labels
//! is 1. Valid values are 2 to n_samples - 1 (inclusive)".
//!
//! The silhouette never builds the `n × n` distance matrix: rows are taken in fixed blocks of
//! 64, run in parallel, and each block walks the other rows in tiles of 512 whose distances
//! come from one matrix product ([`crate::common::linalg::gemm_abt`]), so memory is
//! `O(block · tile)` on top of the data. Each row's sums run over the other rows in index
//! order, so the result is the same for any number of threads.
//!
//! ```
//! use ndarray::{arr1, arr2};
//! use amlis::evaluate::metrics::{calinski_harabasz_score, davies_bouldin_score, Distance, Silhouette};
//!
//! let x = arr2(&[[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]]);
//! let labels = arr1(&[0.0, 0.0, 1.0, 1.0]);
//! let s = Silhouette::default().score(x.view(), labels.view())?;
//! assert!(s > 0.9);
//! let cosine = Silhouette::default().metric(Distance::Cosine).score(x.view(), labels.view())?;
//! assert!(cosine > 0.0);
//! assert!(calinski_harabasz_score(x.view(), labels.view())? > 100.0);
//! assert!(davies_bouldin_score(x.view(), labels.view())? < 0.2);
//! // One label is not a partition.
//! let err = Silhouette::default().score(x.view(), arr1(&[3.0; 4]).view()).unwrap_err();
//! assert!(err.to_string().contains("Number of labels is 1."));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::common::{linalg, parallel, rng};
use crate::error::{Error, Result};
use crate::evaluate::metrics::check;
use crate::evaluate::metrics::clustering::encode;
use crate::models::kit::setters;

/// Rows of the silhouette per parallel task.
const ROWS: usize = 64;
/// Columns per distance tile: a tile holds `ROWS × COLS` distances (256 KB).
const COLS: usize = 512;
/// A squared euclidean distance below this fraction of the two squared norms lost its digits
/// to cancellation in `|x|² + |y|² - 2 x·y`; it is recomputed from the difference.
const CANCELLATION: f64 = 1e-4;

/// The distance between samples of [`Silhouette`] (scikit-learn's `metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// `sqrt(Σ (x - y)²)` (scikit-learn's default).
    #[default]
    Euclidean,
    /// `Σ |x - y|` (scikit-learn also calls it `"cityblock"` and `"l1"`).
    Manhattan,
    /// `1 - x·y / (|x| |y|)`, clipped to `[0, 2]`; a zero row counts as similarity 0.
    Cosine,
}

impl Distance {
    /// The distance's name as scikit-learn spells it (`"euclidean"`, `"manhattan"`,
    /// `"cosine"`).
    pub fn name(self) -> &'static str {
        match self {
            Distance::Euclidean => "euclidean",
            Distance::Manhattan => "manhattan",
            Distance::Cosine => "cosine",
        }
    }
}

/// The silhouette coefficient (`sklearn.metrics.silhouette_score` / `silhouette_samples`):
/// for each sample `(b - a) / max(a, b)`, with `a` the mean distance to the other members of
/// its cluster and `b` the smallest mean distance to the members of another cluster; 0 for a
/// sample alone in its cluster. The score is the mean over the samples, or over
/// `sample_size` of them drawn at random.
///
/// `random_state` seeds amlis's draw of the subsample (a seeded permutation, not NumPy's
/// `RandomState`: the same seed draws other rows than scikit-learn's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Silhouette {
    /// The distance between samples.
    pub metric: Distance,
    /// Score a random subsample of this many rows (all rows when `None` or larger than the
    /// data).
    pub sample_size: Option<usize>,
    /// Seed of the subsample.
    pub random_state: u64,
}

setters!(Silhouette {
    /// Sets the distance.
    metric: Distance,
    /// Scores a random subsample of this many rows.
    sample_size: usize => Some,
    /// Sets the seed of the subsample.
    random_state: u64,
});

/// Labels encoded as cluster indices `0..k`, with the cluster sizes.
struct Partition {
    codes: Vec<usize>,
    sizes: Vec<usize>,
}

/// Checks `x` and `labels` as scikit-learn does and encodes the labels.
fn partition(ctx: &str, x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<Partition> {
    let n = x.nrows();
    check::same_len(ctx, ("X rows", n), ("labels", labels.len()))?;
    check::non_empty(ctx, "X", n)?;
    check::finite(ctx, "labels", labels)?;
    check::finite2(ctx, "X", x)?;
    let (codes, k) = encode(labels);
    if !(k > 1 && k < n) {
        return Err(Error::InvalidArgument(format!(
            "{ctx}: Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive)"
        )));
    }
    let mut sizes = vec![0usize; k];
    for &c in &codes {
        sizes[c] += 1;
    }
    Ok(Partition { codes, sizes })
}

/// The rows of `x` row-major, in the form the distance tiles read: centred for euclidean
/// distances (they do not change, and the matrix product loses fewer digits), scaled to unit
/// length for cosine distances.
struct Points<'a> {
    flat: Cow<'a, [f64]>,
    d: usize,
    /// Squared norms of the (centred) rows, for euclidean distances.
    sq_norms: Vec<f64>,
    metric: Distance,
}

impl<'a> Points<'a> {
    fn new(x: ArrayView2<'a, f64>, metric: Distance) -> Self {
        let d = x.ncols();
        let flat: Cow<'a, [f64]> = match metric {
            Distance::Manhattan => match x.to_slice() {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(x.iter().copied().collect()),
            },
            Distance::Euclidean => {
                let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
                Cow::Owned(
                    x.rows()
                        .into_iter()
                        .flat_map(|r| r.iter().zip(&mean).map(|(v, m)| v - m).collect::<Vec<_>>())
                        .collect(),
                )
            }
            Distance::Cosine => Cow::Owned(
                x.rows()
                    .into_iter()
                    .flat_map(|r| {
                        let norm = r.dot(&r).sqrt();
                        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
                        r.iter().map(|v| v * scale).collect::<Vec<_>>()
                    })
                    .collect(),
            ),
        };
        let sq_norms = match metric {
            Distance::Euclidean => flat.chunks(d.max(1)).map(|r| check::dot(r, r)).collect(),
            _ => Vec::new(),
        };
        Self {
            flat,
            d,
            sq_norms,
            metric,
        }
    }

    fn rows(&self, from: usize, to: usize) -> &[f64] {
        self.flat.get(from * self.d..to * self.d).unwrap_or(&[])
    }

    /// The distances between rows `i0..i1` and rows `j0..j1`, row-major into `tile`; a row's
    /// distance to itself is 0.
    fn tile(
        &self,
        (i0, i1): (usize, usize),
        (j0, j1): (usize, usize),
        tile: &mut [f64],
    ) -> Result<()> {
        let (m, c, d) = (i1 - i0, j1 - j0, self.d);
        let (a, b) = (self.rows(i0, i1), self.rows(j0, j1));
        let len = tile.len();
        let tile = tile
            .get_mut(..m * c)
            .ok_or_else(|| Error::shape("silhouette tile", format!("{m} x {c} values"), len))?;
        match self.metric {
            Distance::Manhattan => {
                for (r, xi) in a.chunks(d.max(1)).take(m).enumerate() {
                    for (s, xj) in b.chunks(d.max(1)).take(c).enumerate() {
                        tile[r * c + s] = xi.iter().zip(xj).map(|(p, q)| (p - q).abs()).sum();
                    }
                }
            }
            Distance::Euclidean => {
                linalg::gemm_abt(a, m, b, c, d, tile)?;
                for r in 0..m {
                    let ni = self.sq_norms[i0 + r];
                    for s in 0..c {
                        let nj = self.sq_norms[j0 + s];
                        let mut sq = ni + nj - 2.0 * tile[r * c + s];
                        if sq <= CANCELLATION * (ni + nj) {
                            let (xi, xj) =
                                (self.rows(i0 + r, i0 + r + 1), self.rows(j0 + s, j0 + s + 1));
                            sq = xi.iter().zip(xj).map(|(p, q)| (p - q) * (p - q)).sum();
                        }
                        tile[r * c + s] = sq.max(0.0).sqrt();
                    }
                }
            }
            Distance::Cosine => {
                linalg::gemm_abt(a, m, b, c, d, tile)?;
                for v in tile.iter_mut() {
                    *v = (1.0 - *v).clamp(0.0, 2.0);
                }
            }
        }
        for i in i0.max(j0)..i1.min(j1) {
            tile[(i - i0) * c + (i - j0)] = 0.0;
        }
        Ok(())
    }
}

impl Silhouette {
    /// The silhouette coefficient of every sample (`sklearn.metrics.silhouette_samples`;
    /// `sample_size` does not apply).
    pub fn samples(
        &self,
        x: ArrayView2<'_, f64>,
        labels: ArrayView1<'_, f64>,
    ) -> Result<Array1<f64>> {
        let p = partition("silhouette_samples", x, labels)?;
        Ok(Array1::from(silhouette_values(x, &p, self.metric)?))
    }

    /// The mean silhouette coefficient (`sklearn.metrics.silhouette_score`), over all rows or
    /// over `sample_size` of them.
    pub fn score(&self, x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
        const CTX: &str = "silhouette_score";
        let n = x.nrows();
        check::same_len(CTX, ("X rows", n), ("labels", labels.len()))?;
        let values = match self.sample_size {
            Some(0) => {
                return Err(Error::param(
                    "sample_size",
                    0,
                    "an integer >= 1, or none for every row",
                ))
            }
            Some(size) if size < n => {
                let mut r = rng::for_task(self.random_state, 0);
                let mut rows = rng::permutation(n, &mut r);
                rows.truncate(size);
                let xs = x.select(Axis(0), &rows);
                let ls = labels.select(Axis(0), &rows);
                let p = partition(CTX, xs.view(), ls.view())?;
                silhouette_values(xs.view(), &p, self.metric)?
            }
            _ => {
                let p = partition(CTX, x, labels)?;
                silhouette_values(x, &p, self.metric)?
            }
        };
        Ok(check::np_mean(&values))
    }
}

/// The silhouette of every row of a checked partition.
fn silhouette_values(x: ArrayView2<'_, f64>, p: &Partition, metric: Distance) -> Result<Vec<f64>> {
    let n = x.nrows();
    let k = p.sizes.len();
    let points = Points::new(x, metric);
    let mut out = vec![0.0; n];
    let failed = parallel::first_of_blocks(&mut out, ROWS, |block, chunk| {
        let i0 = block * ROWS;
        let i1 = i0 + chunk.len();
        let mut tile = vec![0.0; chunk.len() * COLS];
        // Per row, the sum of its distances to each cluster, added in row order.
        let mut sums = vec![0.0; chunk.len() * k];
        for j0 in (0..n).step_by(COLS) {
            let j1 = (j0 + COLS).min(n);
            let c = j1 - j0;
            if let Err(e) = points.tile((i0, i1), (j0, j1), &mut tile) {
                return Some(e);
            }
            for (r, row_sums) in sums.chunks_mut(k).enumerate() {
                for (dist, &code) in tile[r * c..(r + 1) * c].iter().zip(&p.codes[j0..j1]) {
                    row_sums[code] += dist;
                }
            }
        }
        for (r, (o, row_sums)) in chunk.iter_mut().zip(sums.chunks(k)).enumerate() {
            let own = p.codes[i0 + r];
            let a = row_sums[own] / (p.sizes[own] as f64 - 1.0);
            let b = (0..k)
                .filter(|&c| c != own)
                .map(|c| row_sums[c] / p.sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            // A singleton (0 / 0) or a sample at distance 0 from everything: 0, as
            // scikit-learn's nan_to_num.
            let v = (b - a) / a.max(b);
            *o = if v.is_nan() { 0.0 } else { v };
        }
        None
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Silhouette coefficient of every sample with euclidean distances
/// (`sklearn.metrics.silhouette_samples`); [`Silhouette::samples`] takes other distances.
pub fn silhouette_samples(
    x: ArrayView2<'_, f64>,
    labels: ArrayView1<'_, f64>,
) -> Result<Array1<f64>> {
    Silhouette::default().samples(x, labels)
}

/// Mean silhouette coefficient over all samples with euclidean distances
/// (`sklearn.metrics.silhouette_score`); [`Silhouette::score`] takes other distances and a
/// subsample.
pub fn silhouette_score(x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
    Silhouette::default().score(x, labels)
}

/// The cluster centroids (`k × d`) of a checked partition.
fn centroids(x: ArrayView2<'_, f64>, p: &Partition) -> Array2<f64> {
    let mut c = Array2::zeros((p.sizes.len(), x.ncols()));
    for (row, &code) in x.rows().into_iter().zip(&p.codes) {
        let mut target = c.row_mut(code);
        target += &row;
    }
    for (mut row, &size) in c.rows_mut().into_iter().zip(&p.sizes) {
        row /= size as f64;
    }
    c
}

/// Calinski-Harabasz index (`sklearn.metrics.calinski_harabasz_score`), the variance ratio
/// criterion: between-cluster dispersion over within-cluster dispersion, each divided by its
/// degrees of freedom; higher is better; 1 when every cluster is a single point.
pub fn calinski_harabasz_score(x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
    let p = partition("calinski_harabasz_score", x, labels)?;
    let (n, k) = (x.nrows() as f64, p.sizes.len() as f64);
    let mean = x
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(x.ncols()));
    let c = centroids(x, &p);
    let extra: f64 = c
        .rows()
        .into_iter()
        .zip(&p.sizes)
        .map(|(ck, &size)| {
            size as f64
                * ck.iter()
                    .zip(&mean)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
        })
        .sum();
    let intra: f64 = x
        .rows()
        .into_iter()
        .zip(&p.codes)
        .map(|(row, &code)| {
            row.iter()
                .zip(c.row(code))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .sum();
    Ok(if intra == 0.0 {
        1.0
    } else {
        extra * (n - k) / (intra * (k - 1.0))
    })
}

/// Davies-Bouldin index (`sklearn.metrics.davies_bouldin_score`): the mean over clusters of
/// the largest ratio of summed within-cluster spreads (mean distance to the centroid) to the
/// distance between centroids; **lower is better**, 0 at best (and when every spread or every
/// centroid distance is within 1e-8 of 0).
pub fn davies_bouldin_score(x: ArrayView2<'_, f64>, labels: ArrayView1<'_, f64>) -> Result<f64> {
    let p = partition("davies_bouldin_score", x, labels)?;
    let k = p.sizes.len();
    let c = centroids(x, &p);
    let dist = |a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>| {
        a.iter()
            .zip(b)
            .map(|(u, v)| (u - v) * (u - v))
            .sum::<f64>()
            .sqrt()
    };
    let mut spread = vec![0.0; k];
    for (row, &code) in x.rows().into_iter().zip(&p.codes) {
        spread[code] += dist(row, c.row(code));
    }
    for (s, &size) in spread.iter_mut().zip(&p.sizes) {
        *s /= size as f64;
    }
    let centre_dist = Array2::from_shape_fn((k, k), |(i, j)| {
        if i == j {
            0.0
        } else {
            dist(c.row(i), c.row(j))
        }
    });
    // np.allclose(values, 0): every |value| <= 1e-8.
    let near_zero = |d: &f64| d.abs() <= 1e-8;
    if spread.iter().all(near_zero) || centre_dist.iter().all(near_zero) {
        return Ok(0.0);
    }
    let scores: Vec<f64> = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    let d = centre_dist[(i, j)];
                    let d = if d == 0.0 { f64::INFINITY } else { d };
                    (spread[i] + spread[j]) / d
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    Ok(check::np_mean(&scores))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};

    #[test]
    fn euclidean_tiles_match_the_direct_distances_far_from_the_origin() {
        // Far from the origin and close together: the expansion alone would lose the digits.
        let x = Array2::from_shape_fn((700, 3), |(i, j)| {
            1e4 + ((i * 7 + j * 3) % 11) as f64 * 1e-3
        });
        let points = Points::new(x.view(), Distance::Euclidean);
        let mut tile = vec![0.0; 5 * COLS];
        points.tile((600, 605), (0, COLS), &mut tile).unwrap();
        for r in 0..5 {
            for s in 0..COLS {
                let exact = dist_direct(x.row(600 + r), x.row(s));
                assert!((tile[r * COLS + s] - exact).abs() <= 1e-12, "{r} {s}");
            }
        }
    }

    fn dist_direct(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
        a.iter()
            .zip(b)
            .map(|(u, v)| (u - v) * (u - v))
            .sum::<f64>()
            .sqrt()
    }

    #[test]
    fn edge_cases_as_scikit_learn() {
        let x = arr2(&[[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [9.0, 9.0]]);
        // A singleton cluster's sample scores 0.
        let s = silhouette_samples(x.view(), arr1(&[0.0, 0.0, 1.0, 2.0]).view()).unwrap();
        assert_eq!((s[2], s[3]), (0.0, 0.0));
        // n labels for n samples is refused.
        let e = silhouette_score(x.view(), arr1(&[0.0, 1.0, 2.0, 3.0]).view()).unwrap_err();
        assert!(
            e.to_string()
                .contains("Number of labels is 4. Valid values are 2 to n_samples - 1 (inclusive)"),
            "{e}"
        );
        let e = calinski_harabasz_score(x.view(), arr1(&[1.0; 4]).view()).unwrap_err();
        assert!(e.to_string().contains("Number of labels is 1."), "{e}");
        assert!(Silhouette::default()
            .sample_size(0)
            .score(x.view(), arr1(&[0.0, 0.0, 1.0, 1.0]).view())
            .is_err());
        // Every cluster a single point repeated: CH is 1, DB is 0.
        let x = arr2(&[[1.0], [1.0], [4.0], [4.0]]);
        let l = arr1(&[0.0, 0.0, 1.0, 1.0]);
        assert_eq!(calinski_harabasz_score(x.view(), l.view()).unwrap(), 1.0);
        assert_eq!(davies_bouldin_score(x.view(), l.view()).unwrap(), 0.0);
    }

    #[test]
    fn a_subsample_is_seeded_and_bounded_by_the_data() {
        let x = Array2::from_shape_fn((300, 2), |(i, j)| {
            ((i * 13 + j * 5) % 17) as f64 + (i % 3) as f64 * 20.0
        });
        let l = Array1::from_shape_fn(300, |i| (i % 3) as f64);
        let s = Silhouette::default().sample_size(100).random_state(4);
        assert_eq!(
            s.score(x.view(), l.view()).unwrap(),
            s.score(x.view(), l.view()).unwrap()
        );
        let all = silhouette_score(x.view(), l.view()).unwrap();
        let big = Silhouette::default()
            .sample_size(1000)
            .score(x.view(), l.view())
            .unwrap();
        assert_eq!(all, big);
    }
}
