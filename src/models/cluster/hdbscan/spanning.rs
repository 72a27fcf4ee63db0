//! Prim's minimum spanning tree of the mutual-reachability graph: the same algorithm,
//! visiting order, comparisons and bits as [`super::tree::prim_mst`] (scikit-learn's
//! `mst_from_data_matrix`), with each step's scan over the rows run in parallel over fixed
//! chunks (the chunks' candidates reduced in chunk order, the first row winning ties, as
//! the plain scan) and no distance computed where it cannot change anything: a row's
//! `min_reach` is lowered to `max(core_current, core_j, d(current, j) / alpha)` only when
//! that is strictly smaller, which cannot happen when `max(core_current, core_j)` is already
//! at least `min_reach[j]`.

use rayon::prelude::*;

use crate::models::neighbors::Distance;

/// Rows per chunk of a step's parallel scan.
const CHUNK: usize = 4096;

/// The rows the spanning tree is computed over.
pub(super) struct Space<'a> {
    /// The rows searched, row-major.
    pub x: &'a [f64],
    /// Values per row.
    pub d: usize,
    /// The distance (the bits [`crate::models::neighbors::NeighborIndex::distance`] gives).
    pub dist: Distance,
}

/// The state of one row in Prim's algorithm.
#[derive(Clone, Copy)]
struct Slot {
    in_tree: bool,
    min_reach: f64,
    source: usize,
}

/// Prim's minimum spanning tree of the mutual-reachability graph over `space` (`n` rows of
/// core distances `core`), from row 0: the edges of [`super::tree::prim_mst`], in its order.
pub(super) fn prim_mst_fast(
    space: &Space<'_>,
    core: &[f64],
    alpha: f64,
) -> Vec<(usize, usize, f64)> {
    let n = core.len();
    let d = space.d;
    let dist = space.dist;
    let mut slots = vec![
        Slot {
            in_tree: false,
            min_reach: f64::INFINITY,
            source: 1,
        };
        n
    ];
    let mut mst = Vec::with_capacity(n.saturating_sub(1));
    let mut current = 0usize;
    let parallel = n > 2 * CHUNK && rayon::current_num_threads() > 1;
    for _ in 1..n {
        if let Some(s) = slots.get_mut(current) {
            s.in_tree = true;
        }
        let q = space.x.get(current * d..(current + 1) * d).unwrap_or(&[]);
        let core_cur = core.get(current).copied().unwrap_or(0.0);
        // One chunk's scan: (new_reach, source, new_node) of its first smallest row.
        let scan = |c: usize, chunk: &mut [Slot]| {
            let mut best = (f64::MAX, 0usize, 0usize);
            let base = c * CHUNK;
            for (t, s) in chunk.iter_mut().enumerate() {
                if s.in_tree {
                    continue;
                }
                let j = base + t;
                let floor = core_cur.max(core.get(j).copied().unwrap_or(0.0));
                let mut value = s.min_reach;
                if floor < value {
                    let row = space.x.get(j * d..(j + 1) * d).unwrap_or(&[]);
                    let mr = floor.max(dist.to_dist(dist.rdist(q, row)) / alpha);
                    if mr < value {
                        s.min_reach = mr;
                        s.source = current;
                        value = mr;
                    }
                }
                if value < best.0 {
                    best = (value, s.source, j);
                }
            }
            best
        };
        let found: Vec<(f64, usize, usize)> = if parallel {
            slots
                .par_chunks_mut(CHUNK)
                .enumerate()
                .map(|(c, chunk)| scan(c, chunk))
                .collect()
        } else {
            slots
                .chunks_mut(CHUNK)
                .enumerate()
                .map(|(c, chunk)| scan(c, chunk))
                .collect()
        };
        let mut best = (f64::MAX, 0usize, 0usize);
        for f in found {
            if f.0 < best.0 {
                best = f;
            }
        }
        let (new_reach, source, new_node) = best;
        mst.push((source, new_node, new_reach));
        current = new_node;
    }
    mst
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::models::neighbors::{Algorithm, IndexParams, Metric, NeighborIndex, Queries};

    /// 300 rows of 3 features, every third on a coarse grid (many tied distances), the
    /// others off it: the data the spanning-tree tests share.
    pub(crate) fn tie_heavy_rows() -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_fn((300, 3), |(i, j)| {
            let v = ((i * 7919 + j * 104_729) % 1000) as f64 / 100.0;
            if i % 3 == 0 {
                v.round()
            } else {
                v + (i % 5) as f64 * 3.0
            }
        })
    }

    /// The indexes the spanning-tree tests run on: each of `algorithms` with euclidean,
    /// manhattan, minkowski 3 and cosine (except a kd-tree with cosine), leaves of 4 rows.
    pub(crate) fn index_cases(algorithms: &[Algorithm]) -> Vec<IndexParams> {
        let metrics = [
            (Metric::Euclidean, 2.0),
            (Metric::Manhattan, 1.0),
            (Metric::Minkowski, 3.0),
            (Metric::Cosine, 2.0),
        ];
        metrics
            .iter()
            .flat_map(|&(metric, p)| {
                algorithms.iter().map(move |&algorithm| IndexParams {
                    metric,
                    p,
                    algorithm,
                    leaf_size: 4,
                })
            })
            .filter(|c| !(c.metric == Metric::Cosine && c.algorithm == Algorithm::KdTree))
            .collect()
    }

    /// The pruned search gives the plain algorithm's edges, bit for bit, on data with many
    /// ties (a coarse grid) and without, for both trees, several metrics and alphas.
    #[test]
    fn equals_the_plain_prim_on_every_tree_and_metric() {
        let x = tie_heavy_rows();
        let algorithms = [Algorithm::KdTree, Algorithm::BallTree, Algorithm::Brute];
        for params in index_cases(&algorithms) {
            let (metric, algorithm) = (params.metric, params.algorithm);
            let index = NeighborIndex::build(x.view(), &params, 5).unwrap();
            let knn = index.kneighbors(Queries::Fitted, 5).unwrap();
            let core: Vec<f64> = knn.distances.column(4).to_vec();
            for alpha in [1.0, 0.7] {
                let space = Space {
                    x: index.search_space(),
                    d: 3,
                    dist: index.distance_kind(),
                };
                let fast = prim_mst_fast(&space, &core, alpha);
                let plain =
                    super::super::tree::prim_mst(300, &core, alpha, |a, b| index.distance(a, b));
                assert_eq!(fast, plain, "{metric:?} {algorithm:?} alpha {alpha}");
            }
        }
    }
}
