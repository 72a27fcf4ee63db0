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

use crate::common::parallel::first_of_blocks;
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
        self.path_row(row, |_| {})
    }

    /// Calls `visit(node)` for every node on `row`'s root-to-leaf path, root first (node
    /// indices increase along it), and returns the leaf, or `None` for a malformed tree or a
    /// row too short for the features the tree tests.
    #[inline]
    pub fn path_row(&self, row: &[f64], mut visit: impl FnMut(usize)) -> Option<usize> {
        let mut i = 0usize;
        for _ in 0..self.nodes.len() {
            let n = self.nodes.get(i)?;
            visit(i);
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
    let run = |b: usize, chunk: &mut [f64]| {
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
    };
    match first_of_blocks(out, block_rows * per_row, |b, chunk| run(b, chunk).err()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The nodes each row passes through, as scikit-learn's `decision_path` indicator matrix
/// in compressed sparse row form: row `i` passes through the nodes
/// `indices[indptr[i]..indptr[i + 1]]`, root first. For an ensemble the node columns of the
/// trees are concatenated, tree `t`'s nodes being columns `node_ptr[t]..node_ptr[t + 1]`
/// (scikit-learn's `n_nodes_ptr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionPath {
    /// Row `i`'s entries are `indices[indptr[i]..indptr[i + 1]]`; `n_rows + 1` values.
    pub indptr: Vec<usize>,
    /// Node columns, root first within each tree, trees in order.
    pub indices: Vec<usize>,
    /// Column offsets of the trees; `n_trees + 1` values, the last one the column count.
    pub node_ptr: Vec<usize>,
}

impl DecisionPath {
    /// The paths of every row of `x` through `trees` (the caller has checked the column
    /// count). Parallel over row blocks, assembled in row order.
    pub(crate) fn new(trees: &[&FlatTree], x: ArrayView2<'_, f64>, context: &str) -> Result<Self> {
        let mut node_ptr = Vec::with_capacity(trees.len() + 1);
        node_ptr.push(0);
        for t in trees {
            node_ptr.push(node_ptr.last().copied().unwrap_or(0) + t.node_count());
        }
        let n = x.nrows();
        let blocks: Vec<Result<(Vec<usize>, Vec<usize>)>> = (0..n.div_ceil(ROW_BLOCK))
            .into_par_iter()
            .map(|b| {
                let (mut lens, mut idx, mut buf) = (Vec::new(), Vec::new(), Vec::new());
                for i in b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n) {
                    let row = x.row(i);
                    let r: &[f64] = match row.as_slice() {
                        Some(r) => r,
                        None => {
                            buf.clear();
                            buf.extend(row.iter());
                            &buf
                        }
                    };
                    let before = idx.len();
                    for (t, off) in trees.iter().zip(&node_ptr) {
                        t.path_row(r, |node| idx.push(off + node))
                            .ok_or_else(|| walk_error(context))?;
                    }
                    lens.push(idx.len() - before);
                }
                Ok((lens, idx))
            })
            .collect();
        let mut path = DecisionPath {
            indptr: Vec::with_capacity(n + 1),
            indices: Vec::new(),
            node_ptr,
        };
        path.indptr.push(0);
        for block in blocks {
            let (lens, idx) = block?;
            let mut end = path.indices.len();
            for len in lens {
                end += len;
                path.indptr.push(end);
            }
            path.indices.extend(idx);
        }
        Ok(path)
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// The node columns row `i` passes through (root first, trees in order), or `None` past
    /// the last row.
    pub fn row(&self, i: usize) -> Option<&[usize]> {
        let (&a, &b) = (self.indptr.get(i)?, self.indptr.get(i + 1)?);
        self.indices.get(a..b)
    }
}

/// The error for a row a tree cannot walk (a malformed tree).
pub(crate) fn walk_error(context: &str) -> Error {
    Error::ModelCorrupt(format!(
        "{context}: a tree walk left the tree (run Model::validate on loaded models)"
    ))
}

/// Bit of [`FastNode::feature`] set when a missing value goes left.
const MISSING_LEFT_BIT: u32 = 1 << 31;

/// A 16-byte node of [`FastTree`]: the children of a node are adjacent (`left`, `left + 1`),
/// and a leaf loops to itself (threshold `+inf` with missing-goes-left, so every value goes
/// "left" to `left == self`).
#[derive(Debug, Clone, Copy)]
struct FastNode {
    threshold: f64,
    /// Feature index, with [`MISSING_LEFT_BIT`] set when NaN goes left.
    feature: u32,
    /// Index of the left child (the right child is `left + 1`); the node itself for a leaf.
    left: u32,
}

/// What [`FastTree::build`] reads of one node of the tree it re-lays out.
pub(crate) enum FastSource<'a> {
    /// A leaf and its values (`n_outputs` of them).
    Leaf(&'a [f64]),
    /// A numeric split: `x[feature] <= threshold` goes to `left`, NaN to `left` when
    /// `missing_left`; `left` and `right` are node indices of the source tree.
    Split {
        /// The feature tested.
        feature: u32,
        /// The threshold.
        threshold: f64,
        /// Where a missing value goes.
        missing_left: bool,
        /// The left child's index.
        left: usize,
        /// The right child's index.
        right: usize,
    },
}

/// A numeric tree re-laid out for batch prediction (shared by decision trees, forests and
/// gradient boosting): compact 16-byte nodes in breadth-first order with adjacent children,
/// leaf values apart (`n_outputs` per node). Built by [`FastTree::build`], which guarantees
/// that every child index is inside `nodes` and every feature index is below the row length
/// it was built for; the fields are private so nothing else can break that.
#[derive(Debug, Clone)]
pub(crate) struct FastTree {
    nodes: Vec<FastNode>,
    /// `n_outputs` leaf values per node (zeros for internal nodes).
    values: Vec<f64>,
    /// Values per leaf; at least 1.
    n_outputs: usize,
    /// Row length (number of features) the tree was built for; at least 1.
    p: usize,
    /// Longest root-to-leaf path.
    depth: usize,
}

impl FastTree {
    /// Re-lays out the tree whose node `i` (of `len`, root `0`) is described by `node(i)`, for
    /// rows of `p` features and `n_outputs` values per leaf. `None` when a node is not
    /// describable (`node` returns `None`, e.g. a categorical split), a link is out of range,
    /// shared or cyclic, a leaf has the wrong number of values, or a feature index is `>= p`.
    pub(crate) fn build<'a>(
        len: usize,
        p: usize,
        n_outputs: usize,
        node: impl Fn(usize) -> Option<FastSource<'a>>,
    ) -> Option<FastTree> {
        if p == 0 || p >= MISSING_LEFT_BIT as usize || len == 0 || n_outputs == 0 {
            return None;
        }
        let mut seen = vec![false; len];
        let mut nodes = Vec::with_capacity(len);
        let mut values = Vec::with_capacity(len * n_outputs);
        // Breadth-first: (old index, depth); the new index of a queued node is its position.
        let mut queue = vec![(0usize, 0usize)];
        let mut depth = 0;
        let mut head = 0;
        while let Some(&(old, d)) = queue.get(head) {
            let here = u32::try_from(head).ok()?;
            head += 1;
            if std::mem::replace(seen.get_mut(old)?, true) {
                return None;
            }
            depth = depth.max(d);
            match node(old)? {
                FastSource::Leaf(v) => {
                    if v.len() != n_outputs {
                        return None;
                    }
                    nodes.push(FastNode {
                        threshold: f64::INFINITY,
                        feature: MISSING_LEFT_BIT,
                        left: here,
                    });
                    values.extend_from_slice(v);
                }
                FastSource::Split {
                    feature,
                    threshold,
                    missing_left,
                    left,
                    right,
                } => {
                    if feature as usize >= p || threshold.is_nan() || queue.len() + 2 > len {
                        return None;
                    }
                    let first = u32::try_from(queue.len()).ok()?;
                    queue.push((left, d + 1));
                    queue.push((right, d + 1));
                    nodes.push(FastNode {
                        threshold,
                        feature: feature | if missing_left { MISSING_LEFT_BIT } else { 0 },
                        left: first,
                    });
                    values.resize(values.len() + n_outputs, 0.0);
                }
            }
        }
        Some(FastTree {
            nodes,
            values,
            n_outputs,
            p,
            depth,
        })
    }

    /// Longest root-to-leaf path.
    #[cfg(test)]
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// Adds this tree's leaf values for every row of `rows` (row-major, `self.p` values per
    /// row) to `out[i * stride + offset..][..n_outputs]`. Rows are walked `LANES` at a time,
    /// interleaved, with a branch-free child selection; a leaf stays where it is, and the walk
    /// stops once no lane moved. Adds exactly the leaf values a plain walk reaches.
    pub(crate) fn add_to_block(&self, rows: &[f64], out: &mut [f64], stride: usize, offset: usize) {
        let p = self.p;
        let k = self.n_outputs;
        let n = rows.len() / p;
        let nodes = self.nodes.as_slice();
        let mut i = 0;
        while i + LANES <= n {
            let block = &rows[i * p..(i + LANES) * p];
            let mut idx = [0u32; LANES];
            for _ in 0..self.depth {
                let mut moved = false;
                for (l, id) in idx.iter_mut().enumerate() {
                    // SAFETY: `*id` starts at 0 (the root; `build` never makes an empty
                    // tree) and only ever becomes a node's `left` or `left + 1`, which `build`
                    // checked to lie inside `nodes`.
                    let nd = unsafe { *nodes.get_unchecked(*id as usize) };
                    let f = (nd.feature & !MISSING_LEFT_BIT) as usize;
                    // SAFETY: `f < p` (checked by `build`) and `l < LANES`, so
                    // `l * p + f < LANES * p == block.len()`.
                    let x = unsafe { *block.get_unchecked(l * p + f) };
                    let go_left =
                        (x <= nd.threshold) | (x.is_nan() & (nd.feature & MISSING_LEFT_BIT != 0));
                    let next = nd.left + u32::from(!go_left);
                    moved |= next != *id;
                    *id = next;
                }
                if !moved {
                    break;
                }
            }
            for (l, id) in idx.iter().enumerate() {
                let at = (i + l) * stride + offset;
                let v = *id as usize * k;
                if let (Some(o), Some(v)) = (out.get_mut(at..at + k), self.values.get(v..v + k)) {
                    for (a, b) in o.iter_mut().zip(v) {
                        *a += *b;
                    }
                }
            }
            i += LANES;
        }
        for j in i..n {
            let at = j * stride + offset;
            if let (Some(o), Some(row)) = (out.get_mut(at..at + k), rows.get(j * p..)) {
                for (a, b) in o.iter_mut().zip(self.leaf_of(row)) {
                    *a += *b;
                }
            }
        }
    }

    /// The leaf values (`n_outputs`) for one row (the first `p` values of `row`; a missing
    /// value reads as NaN). The single-row latency path.
    #[inline]
    pub(crate) fn leaf_of(&self, row: &[f64]) -> &[f64] {
        let mut id = 0usize;
        while let Some(nd) = self.nodes.get(id) {
            let x = row
                .get((nd.feature & !MISSING_LEFT_BIT) as usize)
                .copied()
                .unwrap_or(f64::NAN);
            let go_left = (x <= nd.threshold) | (x.is_nan() & (nd.feature & MISSING_LEFT_BIT != 0));
            let next = nd.left as usize + usize::from(!go_left);
            if next == id {
                break;
            }
            id = next;
        }
        let k = self.n_outputs;
        self.values.get(id * k..(id + 1) * k).unwrap_or(&[])
    }

    /// The first leaf value for one row (see [`FastTree::leaf_of`]); 0 if none.
    #[inline]
    pub(crate) fn predict_one(&self, row: &[f64]) -> f64 {
        self.leaf_of(row).first().copied().unwrap_or(0.0)
    }
}

/// A value derived from a model and built once on first use, never serialized (it is skipped
/// by serde and rebuilt after loading). Clones start empty and any two compare equal, so the
/// model's derived `Clone` / `PartialEq` only see the saved fields.
#[derive(Default)]
pub(crate) struct LazyCache<T>(std::sync::OnceLock<T>);

impl<T> LazyCache<T> {
    /// The cached value, built by `init` on first use.
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(init)
    }
}

impl<T> Clone for LazyCache<T> {
    fn clone(&self) -> Self {
        Self(std::sync::OnceLock::new())
    }
}

impl<T> PartialEq for LazyCache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for LazyCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyCache")
    }
}

impl FlatTree {
    /// The compact batch-prediction layout of this tree for rows of `p` features (`None` for
    /// a malformed tree).
    pub(crate) fn fast(&self, p: usize) -> Option<FastTree> {
        FastTree::build(self.nodes.len(), p, self.n_outputs, |i| {
            let n = self.nodes.get(i)?;
            Some(if n.is_leaf() {
                FastSource::Leaf(self.leaf_values(i)?)
            } else {
                FastSource::Split {
                    feature: n.feature,
                    threshold: n.threshold,
                    missing_left: n.missing_go_left,
                    left: n.left as usize,
                    right: n.right as usize,
                }
            })
        })
    }
}

/// Trees walked side by side on one row by [`FastForest::for_each_value`]: independent
/// walks let the dependent node loads of different trees overlap.
const FOREST_LANES: usize = 8;

/// Every tree of a model in one compact node array, for the single-row path: the nodes of
/// tree `t` follow those of tree `t - 1`, child links are absolute indices into `nodes`.
/// Built by [`FastForest::new`] from [`FastTree`]s, which guarantees that every child index is
/// inside `nodes`, every root is inside `nodes` and every feature index is below `p`; the
/// fields are private so nothing else can break that.
#[derive(Debug, Clone)]
pub(crate) struct FastForest {
    nodes: Vec<FastNode>,
    /// Leaf value per node (0 for internal nodes).
    values: Vec<f64>,
    /// Root index of each tree, in tree order.
    roots: Vec<u32>,
    /// Row length the trees were built for; at least 1.
    p: usize,
}

impl FastForest {
    /// Concatenates the trees (in order), or `None` when there is none, one has several
    /// values per leaf, they were built for different row lengths, or the nodes do not fit
    /// `u32` indices.
    pub(crate) fn new<'a>(trees: impl IntoIterator<Item = &'a FastTree>) -> Option<Self> {
        let mut forest = FastForest {
            nodes: Vec::new(),
            values: Vec::new(),
            roots: Vec::new(),
            p: 0,
        };
        for t in trees {
            if forest.roots.is_empty() {
                forest.p = t.p;
            }
            if t.n_outputs != 1
                || t.p != forest.p
                || t.nodes.is_empty()
                || t.values.len() != t.nodes.len()
            {
                return None;
            }
            let offset = u32::try_from(forest.nodes.len()).ok()?;
            let end = u32::try_from(forest.nodes.len() + t.nodes.len()).ok()?;
            forest.roots.push(offset);
            for nd in &t.nodes {
                let left = nd.left.checked_add(offset)?;
                forest.nodes.push(FastNode { left, ..*nd });
            }
            if forest.nodes.len() != end as usize {
                return None;
            }
            forest.values.extend_from_slice(&t.values);
        }
        // The bounds the walk relies on: every feature below `p`; an internal node's children
        // `left` and `left + 1` inside `nodes`; a leaf links to itself and every value goes
        // "left" there (threshold `+inf`, NaN goes left), so its walk never leaves it.
        let len = forest.nodes.len();
        let ok = forest.p >= 1
            && forest.values.len() == len
            && forest.nodes.iter().enumerate().all(|(i, nd)| {
                let f = (nd.feature & !MISSING_LEFT_BIT) as usize;
                let left = nd.left as usize;
                let leaf = left == i
                    && nd.threshold == f64::INFINITY
                    && nd.feature & MISSING_LEFT_BIT != 0;
                f < forest.p && (leaf || left + 1 < len)
            });
        ok.then_some(forest)
    }

    /// Row length the forest reads.
    pub(crate) fn n_features(&self) -> usize {
        self.p
    }

    /// Calls `add(t, value)` with the leaf value of every tree `t` for `row`, in tree order
    /// (exactly the leaf value a plain walk of each tree reaches). Returns `false`, calling
    /// nothing, when `row` is shorter than [`FastForest::n_features`]. Allocation-free;
    /// `FOREST_LANES` trees are walked side by side.
    #[inline]
    pub(crate) fn for_each_value(&self, row: &[f64], mut add: impl FnMut(usize, f64)) -> bool {
        if row.len() < self.p {
            return false;
        }
        let nodes = self.nodes.as_slice();
        let values = self.values.as_slice();
        let step = |id: u32| -> u32 {
            // SAFETY: `id` is a root or a node's `left` / `left + 1`, all checked to lie
            // inside `nodes` by `FastForest::new` (a leaf's `left` is itself).
            let nd = unsafe { *nodes.get_unchecked(id as usize) };
            let f = (nd.feature & !MISSING_LEFT_BIT) as usize;
            // SAFETY: `f < self.p` (checked by `FastForest::new`) and `row.len() >= self.p`
            // (checked above).
            let x = unsafe { *row.get_unchecked(f) };
            let go_left = (x <= nd.threshold) | (x.is_nan() & (nd.feature & MISSING_LEFT_BIT != 0));
            nd.left + u32::from(!go_left)
        };
        let value = |id: u32| values.get(id as usize).copied().unwrap_or(0.0);
        let mut groups = self.roots.chunks_exact(FOREST_LANES);
        let mut t = 0;
        for group in groups.by_ref() {
            let mut idx = [0u32; FOREST_LANES];
            idx.copy_from_slice(group);
            loop {
                let mut moved = false;
                for id in idx.iter_mut() {
                    let next = step(*id);
                    moved |= next != *id;
                    *id = next;
                }
                if !moved {
                    break;
                }
            }
            for id in idx {
                add(t, value(id));
                t += 1;
            }
        }
        for &root in groups.remainder() {
            let mut id = root;
            loop {
                let next = step(id);
                if next == id {
                    break;
                }
                id = next;
            }
            add(t, value(id));
            t += 1;
        }
        true
    }
}
