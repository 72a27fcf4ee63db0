//! Leaf-wise (best-first) growth of one tree on binned data, as LightGBM and scikit-learn's
//! `TreeGrower` do.
//!
//! The rows of the tree live in one index array; every node owns a contiguous range of it,
//! which a split partitions in place (stably, so rows stay in increasing order and the
//! histogram loops read the binned columns forward). At each step the leaf with the largest
//! split gain is split; the smaller child's histograms are built from its rows and the larger
//! child's are the parent's minus the smaller's.

use rand_chacha::ChaCha8Rng;

use super::binning::BinnedData;
use super::histogram::{self, GradView, HistBin, Scratch, BLOCK};
use super::split::{find_best_split, SplitConfig, SplitInfo};
use super::tree::{Node, Tree, NUMERIC};

/// Growth limits and regularisation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowerConfig {
    /// Maximum number of leaves.
    pub max_leaf_nodes: usize,
    /// Maximum depth (root at 0).
    pub max_depth: Option<usize>,
    /// Split constraints.
    pub split: SplitConfig,
    /// Features drawn per split node (all when equal to the feature count).
    pub features_per_node: usize,
    /// Shrinkage of leaf values.
    pub learning_rate: f64,
}

/// A leaf of a grown tree: its node and its rows `rows[start..start + len]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafRows {
    /// The node index in the tree.
    pub node: usize,
    /// Start in the row array.
    pub start: usize,
    /// Number of rows.
    pub len: usize,
}

struct Open {
    node: usize,
    start: usize,
    len: usize,
    depth: usize,
    sums: HistBin,
    hist: Vec<HistBin>,
    split: SplitInfo,
}

/// Per-feature totals of split gains and counts.
#[derive(Debug, Clone)]
pub(crate) struct Importance {
    /// Total gain of the splits on each feature.
    pub gain: Vec<f64>,
    /// Number of splits on each feature.
    pub split: Vec<u64>,
}

/// Rows per task of a parallel partition; fixed, so the result is the same on any thread count.
const PARTITION_CHUNK: usize = 8192;

/// Nodes with at least this many rows are partitioned in parallel.
const PAR_PARTITION_MIN: usize = 4 * PARTITION_CHUNK;

/// Partitions `rows` stably by `split` (rows going left first, each side in its original
/// order); returns the left count. `buf` is scratch. Nodes of at least `par_min` rows are
/// partitioned in fixed chunks in parallel, each chunk stably, and the chunks' left parts then
/// right parts are concatenated in chunk order: the same result as one sequential pass.
fn partition_rows(
    data: &BinnedData,
    rows: &mut [u32],
    split: &SplitInfo,
    buf: &mut Vec<u32>,
    par_min: usize,
) -> usize {
    use rayon::prelude::*;
    if rows.len() < par_min.max(2 * PARTITION_CHUNK) {
        return partition_chunk(data, rows, split, buf);
    }
    let counts: Vec<usize> = rows
        .par_chunks_mut(PARTITION_CHUNK)
        .map(|chunk| partition_chunk(data, chunk, split, &mut Vec::new()))
        .collect();
    buf.clear();
    buf.reserve(rows.len());
    for (chunk, &nl) in rows.chunks(PARTITION_CHUNK).zip(&counts) {
        buf.extend_from_slice(&chunk[..nl]);
    }
    for (chunk, &nl) in rows.chunks(PARTITION_CHUNK).zip(&counts) {
        buf.extend_from_slice(&chunk[nl..]);
    }
    rows.copy_from_slice(buf);
    counts.iter().sum()
}

/// One sequential stable partition of `rows` by `split`; returns the left count.
fn partition_chunk(
    data: &BinnedData,
    rows: &mut [u32],
    split: &SplitInfo,
    buf: &mut Vec<u32>,
) -> usize {
    let missing_bin = data
        .features
        .get(split.feature)
        .map_or(BLOCK, |f| f.n_bins_non_missing);
    let col = data.column(split.feature);
    buf.clear();
    let mut nl = 0;
    for i in 0..rows.len() {
        let r = rows[i];
        let bin = col.get(r as usize).copied().unwrap_or(0);
        if split.goes_left(bin, missing_bin) {
            rows[nl] = r;
            nl += 1;
        } else {
            buf.push(r);
        }
    }
    rows[nl..].copy_from_slice(buf);
    nl
}

/// Reusable state for growing trees on one binned data set.
pub(crate) struct Grower<'a> {
    data: &'a BinnedData,
    has_missing: &'a [bool],
    cfg: GrowerConfig,
    pool: Vec<Vec<HistBin>>,
    scratch: Scratch,
    buf: Vec<u32>,
    all_features: Vec<usize>,
}

impl<'a> Grower<'a> {
    /// A grower for `data`.
    pub fn new(data: &'a BinnedData, has_missing: &'a [bool], cfg: GrowerConfig) -> Self {
        Self {
            data,
            has_missing,
            cfg,
            pool: Vec::new(),
            scratch: Scratch::default(),
            buf: Vec::new(),
            all_features: (0..data.features.len()).collect(),
        }
    }

    fn take_hist(&mut self) -> Vec<HistBin> {
        self.pool
            .pop()
            .unwrap_or_else(|| vec![HistBin::default(); self.data.features.len() * BLOCK])
    }

    fn can_split(&self, depth: usize, sums: &HistBin) -> bool {
        let c = &self.cfg;
        self.cfg.max_depth.is_none_or(|d| depth < d)
            && sums.c >= 2 * c.split.min_samples_leaf
            && sums.h >= 2.0 * c.split.min_sum_hessian
    }

    fn best_split(
        &mut self,
        hist: &[HistBin],
        sums: HistBin,
        rng: &mut ChaCha8Rng,
    ) -> Option<SplitInfo> {
        let p = self.all_features.len();
        if self.cfg.features_per_node < p {
            let mut f: Vec<usize> =
                rand::seq::index::sample(rng, p, self.cfg.features_per_node).into_vec();
            f.sort_unstable();
            find_best_split(hist, self.data, self.has_missing, sums, &f, &self.cfg.split)
        } else {
            find_best_split(
                hist,
                self.data,
                self.has_missing,
                sums,
                &self.all_features,
                &self.cfg.split,
            )
        }
    }

    /// Partitions `rows` (one node's range) stably by `split`; returns the left count.
    fn partition(&mut self, rows: &mut [u32], split: &SplitInfo) -> usize {
        partition_rows(self.data, rows, split, &mut self.buf, PAR_PARTITION_MIN)
    }

    /// Grows one tree on the rows `rows` (all rows in order when `all_rows`), with the
    /// gradients `grad`. Returns the tree and its leaves; `rows` is left partitioned by leaf.
    pub fn grow(
        &mut self,
        rows: &mut [u32],
        all_rows: bool,
        grad: GradView<'_>,
        rng: &mut ChaCha8Rng,
        importance: &mut Importance,
    ) -> (Tree, Vec<LeafRows>) {
        let cfg = self.cfg;
        let mut tree = Tree {
            nodes: vec![Node::leaf(0.0)],
            category_sets: Vec::new(),
        };
        let mut hist = self.take_hist();
        histogram::build(
            self.data,
            if all_rows { None } else { Some(rows) },
            grad,
            &mut self.scratch,
            &mut hist,
        );
        let mut sums = HistBin::default();
        if let Some(f0) = self.data.features.first() {
            for b in &hist[..=f0.n_bins_non_missing.min(BLOCK - 1)] {
                sums.g += b.g;
                sums.h += b.h;
                sums.c += b.c;
            }
        }
        sums.h = cfg.split.hess(&sums);
        let mut done: Vec<(LeafRows, HistBin)> = Vec::new();
        let mut open: Vec<Open> = Vec::new();
        let root_split = if self.can_split(0, &sums) && cfg.max_leaf_nodes > 1 {
            self.best_split(&hist, sums, rng)
        } else {
            None
        };
        let root = LeafRows {
            node: 0,
            start: 0,
            len: rows.len(),
        };
        match root_split {
            Some(split) => open.push(Open {
                node: 0,
                start: 0,
                len: rows.len(),
                depth: 0,
                sums,
                hist,
                split,
            }),
            None => {
                self.pool.push(hist);
                done.push((root, sums));
            }
        }
        let mut n_leaves = 1;
        while n_leaves < cfg.max_leaf_nodes && !open.is_empty() {
            // The open leaf with the largest gain (first created on ties).
            let mut best = 0;
            for (i, o) in open.iter().enumerate() {
                if o.split.gain > open[best].split.gain {
                    best = i;
                }
            }
            let leaf = open.remove(best);
            let split = leaf.split;
            let seg = &mut rows[leaf.start..leaf.start + leaf.len];
            let n_left = self.partition(seg, &split);
            let (left_id, right_id) = (tree.nodes.len(), tree.nodes.len() + 1);
            let fb = &self.data.features[split.feature];
            let mut node = Node::leaf(0.0);
            node.feature = split.feature as u32;
            node.left = left_id as u32;
            node.right = right_id as u32;
            node.missing_left = split.missing_left;
            match split.categories {
                Some(set) => {
                    node.category_set = tree.category_sets.len() as u32;
                    tree.category_sets.push(set);
                }
                None => {
                    node.category_set = NUMERIC;
                    node.threshold = fb.threshold(split.bin).min(f64::MAX);
                }
            }
            tree.nodes[leaf.node] = node;
            tree.nodes.push(Node::leaf(0.0));
            tree.nodes.push(Node::leaf(0.0));
            importance.gain[split.feature] += split.gain;
            importance.split[split.feature] += 1;
            n_leaves += 1;

            let depth = leaf.depth + 1;
            let (l_node, l_start, l_len, l_sums) = (left_id, leaf.start, n_left, split.left);
            let (r_node, r_start, r_len, r_sums) = (
                right_id,
                leaf.start + n_left,
                leaf.len - n_left,
                split.right,
            );
            let more = n_leaves < cfg.max_leaf_nodes;
            let l_ok = more && self.can_split(depth, &l_sums);
            let r_ok = more && self.can_split(depth, &r_sums);
            let mut parent_hist = leaf.hist;
            let mut child_hists: [Option<Vec<HistBin>>; 2] = [None, None];
            if l_ok || r_ok {
                // Build the smaller child, derive the larger one.
                let left_smaller = l_len <= r_len;
                let (s_start, s_len) = if left_smaller {
                    (l_start, l_len)
                } else {
                    (r_start, r_len)
                };
                let mut small = self.take_hist();
                histogram::build(
                    self.data,
                    Some(&rows[s_start..s_start + s_len]),
                    grad,
                    &mut self.scratch,
                    &mut small,
                );
                histogram::subtract(&mut parent_hist, &small);
                if left_smaller {
                    child_hists = [Some(small), Some(parent_hist)];
                } else {
                    child_hists = [Some(parent_hist), Some(small)];
                }
            } else {
                self.pool.push(parent_hist);
            }
            let [l_hist, r_hist] = child_hists;
            for (id, start, len, sums, ok, hist) in [
                (l_node, l_start, l_len, l_sums, l_ok, l_hist),
                (r_node, r_start, r_len, r_sums, r_ok, r_hist),
            ] {
                let split = match (&hist, ok) {
                    (Some(h), true) => self.best_split(h, sums, rng),
                    _ => None,
                };
                match (split, hist) {
                    (Some(split), Some(hist)) => open.push(Open {
                        node: id,
                        start,
                        len,
                        depth,
                        sums,
                        hist,
                        split,
                    }),
                    (_, hist) => {
                        if let Some(h) = hist {
                            self.pool.push(h);
                        }
                        done.push((
                            LeafRows {
                                node: id,
                                start,
                                len,
                            },
                            sums,
                        ));
                    }
                }
            }
        }
        for o in open {
            self.pool.push(o.hist);
            done.push((
                LeafRows {
                    node: o.node,
                    start: o.start,
                    len: o.len,
                },
                o.sums,
            ));
        }
        done.sort_by_key(|(l, _)| l.node);
        let l2 = cfg.split.l2;
        let leaves = done
            .into_iter()
            .map(|(l, s)| {
                if let Some(n) = tree.nodes.get_mut(l.node) {
                    n.value = -cfg.learning_rate * s.g / (s.h + l2 + 1e-15);
                }
                l
            })
            .collect();
        (tree, leaves)
    }
}

#[cfg(test)]
mod tests {
    use super::super::binning::FeatureBins;
    use super::*;
    use rand::Rng;

    #[test]
    fn parallel_partition_equals_sequential_stable_partition() {
        let (n, p) = (5 * PARTITION_CHUNK + 123, 3);
        let mut rng = crate::common::rng::for_task(7, 0);
        let fb = FeatureBins {
            thresholds: vec![0.0; 9],
            n_bins_non_missing: 10,
            categorical: false,
        };
        // Column-major codes.
        let data = BinnedData {
            codes: (0..n * p).map(|_| rng.gen_range(0..=10u8)).collect(),
            n_rows: n,
            features: vec![fb; p],
        };
        // A node's rows: an increasing subset of all rows.
        let node: Vec<u32> = (0..n as u32).filter(|_| rng.gen_bool(0.8)).collect();
        for (bin, missing_left) in [(3, true), (6, false), (0, false), (9, true)] {
            let split = SplitInfo {
                gain: 1.0,
                feature: 1,
                bin,
                missing_left,
                categories: None,
                left: HistBin::default(),
                right: HistBin::default(),
            };
            let goes_left = |r: u32| split.goes_left(data.column(1)[r as usize], 10);
            let want_left: Vec<u32> = node.iter().copied().filter(|&r| goes_left(r)).collect();
            let want: Vec<u32> = want_left
                .iter()
                .copied()
                .chain(node.iter().copied().filter(|&r| !goes_left(r)))
                .collect();
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for par_min in [0, usize::MAX] {
                    let mut rows = node.clone();
                    let nl = pool.install(|| {
                        partition_rows(&data, &mut rows, &split, &mut Vec::new(), par_min)
                    });
                    assert_eq!(nl, want_left.len());
                    assert_eq!(rows, want, "bin {bin} threads {threads} par_min {par_min}");
                }
            }
        }
    }
}
