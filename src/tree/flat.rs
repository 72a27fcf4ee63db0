//! A fitted tree as flat arrays: one compact node record per node (what prediction walks),
//! leaf values in a separate array, and per-node statistics (impurity, sample counts) for
//! feature importances and inspection.
//!
//! Node `0` is the root; every child has a larger index than its parent, so a walk from the
//! root always ends. A leaf has `left == 0` and keeps its leaf slot (row of the values array)
//! in `right`. [`FlatTree::validate`] checks all of this on a deserialized tree.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One node of a [`FlatTree`]: 24 bytes, everything a prediction step reads in one place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeNode {
    /// Rows with `x[feature] <= threshold` go left (unused in a leaf).
    pub threshold: f64,
    /// The feature tested (unused in a leaf).
    pub feature: u32,
    /// The left child's index; `0` marks a leaf.
    pub left: u32,
    /// The right child's index; in a leaf, the leaf slot in the values array.
    pub right: u32,
    /// Where a missing (`NaN`) value goes.
    pub missing_go_left: bool,
}

impl TreeNode {
    /// Whether this node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// A fitted decision tree in flat arrays (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlatTree {
    nodes: Vec<TreeNode>,
    n_outputs: usize,
    values: Vec<f64>,
    impurity: Vec<f64>,
    n_node_samples: Vec<u64>,
    weighted_n_node_samples: Vec<f64>,
}

/// A node as the builder records it, before leaf slots are assigned.
#[derive(Debug, Clone)]
pub(crate) struct RawNode {
    pub split: Option<(u32, f64, bool)>,
    pub left: u32,
    pub right: u32,
    pub impurity: f64,
    pub n: u64,
    pub w: f64,
}

impl FlatTree {
    /// Assembles a tree from builder nodes (`value` holds `n_outputs` values per node).
    pub(crate) fn from_raw(raw: Vec<RawNode>, node_values: &[f64], n_outputs: usize) -> Self {
        let mut nodes = Vec::with_capacity(raw.len());
        let mut values = Vec::new();
        let mut impurity = Vec::with_capacity(raw.len());
        let mut n_node_samples = Vec::with_capacity(raw.len());
        let mut weighted = Vec::with_capacity(raw.len());
        let mut n_leaves = 0u32;
        for (i, r) in raw.iter().enumerate() {
            match r.split {
                Some((feature, threshold, mgl)) => nodes.push(TreeNode {
                    threshold,
                    feature,
                    left: r.left,
                    right: r.right,
                    missing_go_left: mgl,
                }),
                None => {
                    nodes.push(TreeNode {
                        threshold: 0.0,
                        feature: 0,
                        left: 0,
                        right: n_leaves,
                        missing_go_left: false,
                    });
                    n_leaves += 1;
                    let v = node_values
                        .get(i * n_outputs..(i + 1) * n_outputs)
                        .unwrap_or(&[]);
                    values.extend_from_slice(v);
                }
            }
            impurity.push(r.impurity);
            n_node_samples.push(r.n);
            weighted.push(r.w);
        }
        Self {
            nodes,
            n_outputs,
            values,
            impurity,
            n_node_samples,
            weighted_n_node_samples: weighted,
        }
    }

    /// The nodes, root first.
    pub fn nodes(&self) -> &[TreeNode] {
        &self.nodes
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    /// Values per leaf (the number of classes, or 1).
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// The impurity of each node at fit.
    pub fn impurity(&self) -> &[f64] {
        &self.impurity
    }

    /// The number of training samples that reached each node.
    pub fn n_node_samples(&self) -> &[u64] {
        &self.n_node_samples
    }

    /// The total weight of the training samples that reached each node.
    pub fn weighted_n_node_samples(&self) -> &[f64] {
        &self.weighted_n_node_samples
    }

    /// The depth of the tree (0 for a single leaf).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        let mut max = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            let d = depth.get(i).copied().unwrap_or(0);
            max = max.max(d);
            if !n.is_leaf() {
                for c in [n.left, n.right] {
                    if let Some(slot) = depth.get_mut(c as usize) {
                        *slot = d + 1;
                    }
                }
            }
        }
        max
    }

    /// The index of the leaf that `row` falls into, or `None` for a malformed tree or a row
    /// too short for the features the tree tests.
    #[inline]
    pub fn apply_row(&self, row: &[f64]) -> Option<usize> {
        let mut i = 0usize;
        for _ in 0..self.nodes.len() {
            let n = self.nodes.get(i)?;
            if n.left == 0 {
                return Some(i);
            }
            let v = *row.get(n.feature as usize)?;
            let go_left = if v.is_nan() {
                n.missing_go_left
            } else {
                v <= n.threshold
            };
            i = if go_left { n.left } else { n.right } as usize;
        }
        None
    }

    /// Walks `LANES` rows (row-major, `n_features` values each) down the tree together, so
    /// that their memory loads overlap; writes each row's leaf node into `leaves`. `None` for
    /// a malformed tree or short rows.
    #[inline]
    pub(crate) fn apply_lanes(
        &self,
        rows: &[f64],
        n_features: usize,
        leaves: &mut [usize; LANES],
    ) -> Option<()> {
        *leaves = [0; LANES];
        for _ in 0..self.nodes.len() {
            let mut active = false;
            for (l, leaf) in leaves.iter_mut().enumerate() {
                let n = self.nodes.get(*leaf)?;
                if n.left == 0 {
                    continue;
                }
                active = true;
                let v = *rows.get(l * n_features + n.feature as usize)?;
                let go_left = if v.is_nan() {
                    n.missing_go_left
                } else {
                    v <= n.threshold
                };
                *leaf = if go_left { n.left } else { n.right } as usize;
            }
            if !active {
                return Some(());
            }
        }
        None
    }

    /// The values of leaf node `node` (class fractions, or the mean).
    #[inline]
    pub fn leaf_values(&self, node: usize) -> Option<&[f64]> {
        let slot = self.nodes.get(node)?.right as usize;
        self.values
            .get(slot * self.n_outputs..(slot + 1) * self.n_outputs)
    }

    /// The leaf values for `row`.
    #[inline]
    pub fn predict_row(&self, row: &[f64]) -> Option<&[f64]> {
        self.leaf_values(self.apply_row(row)?)
    }

    /// Impurity decrease per feature, weighted by the samples reaching each split, normalised
    /// to sum to 1 (all zeros for a single-leaf tree), as scikit-learn's
    /// `feature_importances_`.
    pub fn feature_importances(&self, n_features: usize) -> Vec<f64> {
        let mut imp = vec![0.0; n_features];
        let w = &self.weighted_n_node_samples;
        let at = |v: &[f64], i: u32| v.get(i as usize).copied().unwrap_or(0.0);
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_leaf() {
                continue;
            }
            let i = i as u32;
            let dec = at(w, i) * at(&self.impurity, i)
                - at(w, n.left) * at(&self.impurity, n.left)
                - at(w, n.right) * at(&self.impurity, n.right);
            if let Some(slot) = imp.get_mut(n.feature as usize) {
                *slot += dec;
            }
        }
        let root = w.first().copied().unwrap_or(1.0);
        for v in imp.iter_mut() {
            *v /= root;
        }
        let total: f64 = imp.iter().sum();
        if total > 0.0 {
            for v in imp.iter_mut() {
                *v /= total;
            }
        }
        imp
    }

    /// Checks that the tree is well formed for `n_features` features: array lengths, child
    /// links (in range, after their parent, each node with exactly one parent), feature ids,
    /// leaf slots and finite values. A corrupt tree is an [`Error::ModelCorrupt`].
    pub fn validate(&self, n_features: usize) -> Result<()> {
        let bad = |m: String| Err(Error::ModelCorrupt(format!("decision tree: {m}")));
        let n = self.nodes.len();
        if n == 0 || u32::try_from(n).is_err() {
            return bad(format!("{n} nodes"));
        }
        if self.impurity.len() != n
            || self.n_node_samples.len() != n
            || self.weighted_n_node_samples.len() != n
        {
            return bad("per-node statistics do not have one entry per node".into());
        }
        if self.n_outputs == 0 {
            return bad("0 values per leaf".into());
        }
        let n_leaves = self.n_leaves();
        if n_leaves.checked_mul(self.n_outputs) != Some(self.values.len()) {
            return bad(format!(
                "{} leaf values for {n_leaves} leaves of {} values",
                self.values.len(),
                self.n_outputs
            ));
        }
        let mut parents = vec![0u8; n];
        let mut slot_used = vec![false; n_leaves];
        for (i, node) in self.nodes.iter().enumerate() {
            if node.is_leaf() {
                match slot_used.get_mut(node.right as usize) {
                    Some(u) if !*u => *u = true,
                    _ => return bad(format!("leaf {i} has an invalid value slot {}", node.right)),
                }
                continue;
            }
            if node.feature as usize >= n_features {
                return bad(format!(
                    "node {i} tests feature {} of {n_features}",
                    node.feature
                ));
            }
            if node.threshold.is_nan() {
                return bad(format!("node {i} has a NaN threshold"));
            }
            for c in [node.left, node.right] {
                let c = c as usize;
                if c <= i || c >= n {
                    return bad(format!("node {i} links to node {c} (of {n})"));
                }
                match parents.get_mut(c) {
                    Some(p) if *p == 0 => *p = 1,
                    _ => return bad(format!("node {c} has two parents")),
                }
            }
        }
        if let Some(orphan) = parents.iter().skip(1).position(|&p| p == 0) {
            return bad(format!("node {} is unreachable", orphan + 1));
        }
        if self.values.iter().any(|v| !v.is_finite()) {
            return bad("a leaf value is not finite".into());
        }
        Ok(())
    }
}

/// Rows walked down a tree together by batch prediction.
pub(crate) const LANES: usize = 8;

/// Rows per block of parallel batch prediction.
pub(crate) const ROW_BLOCK: usize = 256;

/// Rows per block for models of many trees: large blocks (a few per thread), so that each
/// tree is read from memory once per block and walks all the block's rows while cached.
pub(crate) fn ensemble_block_rows(n_rows: usize) -> usize {
    n_rows
        .div_ceil(4 * rayon::current_num_threads().max(1))
        .max(ROW_BLOCK)
}

/// Calls `f(rows, out)` for blocks of `block_rows` rows of `x` in parallel: `rows` holds the block's rows
/// contiguously (row-major, `x.ncols()` values each) and `out` its `per_row` output slots
/// per row. The caller has checked the shapes.
pub(crate) fn par_row_blocks<F>(
    x: ArrayView2<'_, f64>,
    out: &mut [f64],
    per_row: usize,
    block_rows: usize,
    f: F,
) -> Result<()>
where
    F: Fn(&[f64], &mut [f64]) -> Result<()> + Sync,
{
    let nf = x.ncols();
    if nf == 0 {
        return Err(Error::shape(
            "predict",
            "at least one feature column",
            "0 columns",
        ));
    }
    let per_row = per_row.max(1);
    let contiguous = x.as_slice();
    let block_rows = block_rows.max(1);
    out.par_chunks_mut(block_rows * per_row)
        .enumerate()
        .try_for_each(|(b, chunk)| {
            let r0 = b * block_rows;
            let nr = chunk.len() / per_row;
            match contiguous {
                Some(all) => {
                    let rows = all.get(r0 * nf..(r0 + nr) * nf).ok_or_else(|| {
                        Error::shape("predict", format!("{} rows", r0 + nr), x.nrows())
                    })?;
                    f(rows, chunk)
                }
                None => {
                    let mut buf = Vec::with_capacity(nr * nf);
                    for r in r0..r0 + nr {
                        buf.extend(x.row(r).iter());
                    }
                    f(&buf, chunk)
                }
            }
        })
}

/// The error for a row a tree cannot walk (a malformed tree).
pub(crate) fn walk_error(context: &str) -> Error {
    Error::ModelCorrupt(format!(
        "{context}: a tree walk left the tree (run Model::validate on loaded models)"
    ))
}
