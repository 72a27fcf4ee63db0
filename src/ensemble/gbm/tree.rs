//! A fitted regression tree as a flat node array, predicted from raw `f64` rows.
//!
//! Children are always stored after their parent (`left > i` and `right > i`), which
//! [`Tree::validate`] checks: together with the bounds checks this rules out cycles, so a loaded
//! tree always terminates.

use serde::{Deserialize, Serialize};

use super::split::{bitset_contains, Bitset};
use crate::error::{Error, Result};

/// Marks a numeric split in [`Node::category_set`].
pub const NUMERIC: u32 = u32::MAX;

/// One node. A leaf has `left == 0` (no node links back to the root).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The split feature (column index).
    pub feature: u32,
    /// Index of the left child; 0 for a leaf.
    pub left: u32,
    /// Index of the right child; 0 for a leaf.
    pub right: u32,
    /// [`NUMERIC`], or the index of the set of categories that go left.
    pub category_set: u32,
    /// Numeric split: `x <= threshold` goes left.
    pub threshold: f64,
    /// Leaf value (already scaled by the learning rate); 0 for internal nodes.
    pub value: f64,
    /// Where a missing value (NaN) goes.
    pub missing_left: bool,
}

impl Node {
    /// A leaf with value `value`.
    pub fn leaf(value: f64) -> Self {
        Self {
            feature: 0,
            left: 0,
            right: 0,
            category_set: NUMERIC,
            threshold: 0.0,
            value,
            missing_left: false,
        }
    }

    /// Whether this node is a leaf.
    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// A tree: nodes (root at 0) and the category sets of its categorical splits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes; the root is `nodes[0]`.
    pub nodes: Vec<Node>,
    /// Category sets (256-bit sets of category codes that go left).
    pub category_sets: Vec<Bitset>,
}

impl Tree {
    /// Whether the value `x` of the split feature goes left at internal node `n`.
    /// Categories outside the set (including codes unseen in training) go right.
    #[inline(always)]
    fn goes_left(&self, n: &Node, x: f64) -> bool {
        if x.is_nan() {
            return n.missing_left;
        }
        if n.category_set == NUMERIC {
            return x <= n.threshold;
        }
        match self.category_sets.get(n.category_set as usize) {
            Some(set) if (0.0..256.0).contains(&x) && x.fract() == 0.0 => {
                bitset_contains(set, x as usize)
            }
            _ => false,
        }
    }

    /// The index of the leaf that `row` falls in.
    #[inline]
    pub fn leaf_index(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.is_leaf() {
                return i;
            }
            let x = row.get(n.feature as usize).copied().unwrap_or(f64::NAN);
            i = if self.goes_left(n, x) {
                n.left as usize
            } else {
                n.right as usize
            };
        }
        i
    }

    /// The value of the leaf that `row` falls in.
    #[inline]
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        self.nodes
            .get(self.leaf_index(row))
            .map_or(0.0, |n| n.value)
    }

    /// Adds this tree's value for every row of `rows` (row-major, `p` values per row) to
    /// `out[i * stride + offset]`; `depth` is [`Tree::depth`]. Rows are walked eight at a time,
    /// interleaved, for exactly `depth` steps without data-dependent branches (a leaf stays
    /// where it is), so the dependent node loads of different rows overlap.
    pub(crate) fn add_to_block(
        &self,
        rows: &[f64],
        p: usize,
        depth: usize,
        out: &mut [f64],
        stride: usize,
        offset: usize,
    ) {
        const LANES: usize = 8;
        let p = p.max(1);
        let n = rows.len() / p;
        let nodes = self.nodes.as_slice();
        let mut i = 0;
        while i + LANES <= n {
            let block = &rows[i * p..(i + LANES) * p];
            let mut idx = [0u32; LANES];
            for _ in 0..depth {
                let mut all_leaves = true;
                for (l, id) in idx.iter_mut().enumerate() {
                    let Some(nd) = nodes.get(*id as usize) else {
                        continue;
                    };
                    let x = block
                        .get(l * p + nd.feature as usize)
                        .copied()
                        .unwrap_or(f64::NAN);
                    let go_left = if nd.category_set == NUMERIC {
                        (x <= nd.threshold) | (x.is_nan() & nd.missing_left)
                    } else {
                        self.goes_left(nd, x)
                    };
                    let child = if go_left { nd.left } else { nd.right };
                    all_leaves &= nd.left == 0;
                    *id = if nd.left == 0 { *id } else { child };
                }
                if all_leaves {
                    break;
                }
            }
            for (l, id) in idx.iter().enumerate() {
                if let (Some(o), Some(nd)) = (
                    out.get_mut((i + l) * stride + offset),
                    nodes.get(*id as usize),
                ) {
                    *o += nd.value;
                }
            }
            i += LANES;
        }
        for j in i..n {
            if let Some(o) = out.get_mut(j * stride + offset) {
                *o += self.predict_row(&rows[j * p..(j + 1) * p]);
            }
        }
    }

    /// The compact batch-prediction layout of this tree for rows of `p` features, or `None`
    /// when it has a categorical split, a link that is out of range, shared or cyclic, or a
    /// feature index `>= p` (those trees are predicted by [`Tree::add_to_block`]).
    pub(crate) fn fast(&self, p: usize) -> Option<FastTree> {
        if p == 0 || p >= MISSING_LEFT_BIT as usize || self.nodes.is_empty() {
            return None;
        }
        let len = self.nodes.len();
        let mut seen = vec![false; len];
        let mut nodes = Vec::with_capacity(len);
        let mut values = Vec::with_capacity(len);
        // Breadth-first: (old index, depth); the new index of a queued node is its position.
        let mut queue = vec![(0usize, 0usize)];
        let mut depth = 0;
        let mut head = 0;
        while let Some(&(old, d)) = queue.get(head) {
            let here = u32::try_from(head).ok()?;
            head += 1;
            let n = self.nodes.get(old)?;
            if std::mem::replace(seen.get_mut(old)?, true) {
                return None;
            }
            depth = depth.max(d);
            if n.is_leaf() {
                nodes.push(FastNode {
                    threshold: f64::INFINITY,
                    feature: MISSING_LEFT_BIT,
                    left: here,
                });
                values.push(n.value);
                continue;
            }
            if n.category_set != NUMERIC || n.feature as usize >= p || n.threshold.is_nan() {
                return None;
            }
            let left = u32::try_from(queue.len()).ok()?;
            if queue.len() + 2 > len {
                return None;
            }
            queue.push((n.left as usize, d + 1));
            queue.push((n.right as usize, d + 1));
            nodes.push(FastNode {
                threshold: n.threshold,
                feature: n.feature | if n.missing_left { MISSING_LEFT_BIT } else { 0 },
                left,
            });
            values.push(0.0);
        }
        Some(FastTree {
            nodes,
            values,
            p,
            depth,
        })
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    /// Depth of the tree (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        let mut max = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.is_leaf() {
                let here = depth[i];
                for c in [n.left, n.right] {
                    if let Some(d) = depth.get_mut(c as usize) {
                        *d = here + 1;
                        max = max.max(*d);
                    }
                }
            }
        }
        max
    }

    /// Checks every link, feature id and category-set id; `context` names the tree in errors.
    pub fn validate(&self, n_features: usize, context: &str) -> Result<()> {
        let corrupt = |msg: String| Error::ModelCorrupt(format!("{context}: {msg}"));
        if self.nodes.is_empty() {
            return Err(corrupt("tree has no nodes".into()));
        }
        let len = self.nodes.len();
        let mut parents = vec![0u32; len];
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_leaf() {
                if n.right != 0 {
                    return Err(corrupt(format!("leaf {i} has a right child")));
                }
                if !n.value.is_finite() {
                    return Err(corrupt(format!("leaf {i} has a non-finite value")));
                }
                continue;
            }
            for (side, c) in [("left", n.left), ("right", n.right)] {
                let c = c as usize;
                if c <= i || c >= len {
                    return Err(corrupt(format!(
                        "node {i}: {side} child {c} must lie in {}..{len}",
                        i + 1
                    )));
                }
                parents[c] += 1;
            }
            if n.feature as usize >= n_features {
                return Err(corrupt(format!(
                    "node {i}: feature {} out of range (model has {n_features} features)",
                    n.feature
                )));
            }
            if n.category_set != NUMERIC && n.category_set as usize >= self.category_sets.len() {
                return Err(corrupt(format!(
                    "node {i}: category set {} out of range ({} sets)",
                    n.category_set,
                    self.category_sets.len()
                )));
            }
            if n.category_set == NUMERIC && n.threshold.is_nan() {
                return Err(corrupt(format!("node {i}: NaN threshold")));
            }
        }
        if let Some(c) = parents.iter().skip(1).position(|&p| p != 1) {
            return Err(corrupt(format!(
                "node {} has {} parents, expected 1",
                c + 1,
                parents[c + 1]
            )));
        }
        Ok(())
    }
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

/// A numeric-only tree re-laid out for batch prediction: compact nodes with adjacent
/// children, leaf values apart. Built by [`Tree::fast`], which guarantees that every child
/// index is inside `nodes` and every feature index is below the row length it was built for;
/// the fields are private so nothing else can break that.
#[derive(Debug, Clone)]
pub(crate) struct FastTree {
    nodes: Vec<FastNode>,
    /// Leaf value per node (0 for internal nodes).
    values: Vec<f64>,
    /// Row length (number of features) the tree was built for; at least 1.
    p: usize,
    /// Longest root-to-leaf path.
    depth: usize,
}

impl FastTree {
    /// Adds this tree's value for every row of `rows` (row-major, `self.p` values per row) to
    /// `out[i * stride + offset]`. Rows are walked `LANES` at a time, interleaved, with a
    /// branch-free child selection; a leaf stays where it is, and the walk stops once no lane
    /// moved. Adds exactly what [`Tree::predict_row`] returns, in the same order.
    pub(crate) fn add_to_block(&self, rows: &[f64], out: &mut [f64], stride: usize, offset: usize) {
        const LANES: usize = 8;
        let p = self.p;
        let n = rows.len() / p;
        let nodes = self.nodes.as_slice();
        let mut i = 0;
        while i + LANES <= n {
            let block = &rows[i * p..(i + LANES) * p];
            let mut idx = [0u32; LANES];
            for _ in 0..self.depth {
                let mut moved = false;
                for (l, id) in idx.iter_mut().enumerate() {
                    // SAFETY: `*id` starts at 0 (the root; `Tree::fast` never builds an empty
                    // tree) and only ever becomes a node's `left` or `left + 1`, which
                    // `Tree::fast` checked to lie inside `nodes`.
                    let nd = unsafe { *nodes.get_unchecked(*id as usize) };
                    let f = (nd.feature & !MISSING_LEFT_BIT) as usize;
                    // SAFETY: `f < p` (checked by `Tree::fast`) and `l < LANES`, so
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
                if let (Some(o), Some(v)) = (
                    out.get_mut((i + l) * stride + offset),
                    self.values.get(*id as usize),
                ) {
                    *o += *v;
                }
            }
            i += LANES;
        }
        for j in i..n {
            if let (Some(o), Some(row)) = (out.get_mut(j * stride + offset), rows.get(j * p..)) {
                *o += self.predict_one(row);
            }
        }
    }

    /// This tree's value for one row (the first `p` values of `row`; a missing value reads as
    /// NaN): exactly what [`Tree::predict_row`] returns. The single-row latency path.
    #[inline]
    pub(crate) fn predict_one(&self, row: &[f64]) -> f64 {
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
        self.values.get(id).copied().unwrap_or(0.0)
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
    /// Concatenates the trees (in order), or `None` when there is none, they were built for
    /// different row lengths, or the nodes do not fit `u32` indices.
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
            if t.p != forest.p || t.nodes.is_empty() || t.values.len() != t.nodes.len() {
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
    /// (exactly what [`Tree::predict_row`] returns per tree). Returns `false`, calling
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Tree {
        let mut root = Node::leaf(0.0);
        root.left = 1;
        root.right = 2;
        root.threshold = 0.5;
        root.missing_left = true;
        Tree {
            nodes: vec![root, Node::leaf(-1.0), Node::leaf(1.0)],
            category_sets: vec![],
        }
    }

    #[test]
    fn predicts_numeric_missing_and_categories() {
        let t = stump();
        assert_eq!(t.predict_row(&[0.5]), -1.0);
        assert_eq!(t.predict_row(&[0.6]), 1.0);
        assert_eq!(t.predict_row(&[f64::NAN]), -1.0);
        let mut c = t.clone();
        c.nodes[0].category_set = 0;
        c.category_sets.push([0b101, 0, 0, 0]);
        assert_eq!(c.predict_row(&[0.0]), -1.0);
        assert_eq!(c.predict_row(&[1.0]), 1.0);
        assert_eq!(c.predict_row(&[2.0]), -1.0);
        assert_eq!(c.predict_row(&[300.0]), 1.0);
        assert_eq!(c.predict_row(&[-1.0]), 1.0);
        assert_eq!(t.depth(), 1);
        assert_eq!(t.n_leaves(), 2);
    }

    #[test]
    fn validate_rejects_cycles_and_bad_ids() {
        let t = stump();
        assert!(t.validate(1, "tree 0").is_ok());
        let mut bad = t.clone();
        bad.nodes[0].left = 0;
        bad.nodes[0].right = 1; // now a "leaf" with a right child
        assert!(bad.validate(1, "t").is_err());
        let mut bad = t.clone();
        bad.nodes[0].right = 3;
        assert!(bad.validate(1, "t").is_err());
        let mut bad = t.clone();
        bad.nodes[0].feature = 1;
        let e = bad.validate(1, "tree 0").unwrap_err().to_string();
        assert!(e.contains("feature 1"), "{e}");
        let mut bad = t.clone();
        bad.nodes[0].category_set = 0;
        assert!(bad.validate(1, "t").is_err());
        let mut bad = t.clone();
        bad.nodes[0].right = 1; // both children the same node
        assert!(bad.validate(1, "t").is_err());
        assert!(Tree::default().validate(1, "t").is_err());
    }

    /// A lopsided numeric tree stored depth-first (not in the fast layout's order).
    fn lopsided() -> Tree {
        let split = |feature, left, right, threshold, missing_left| Node {
            feature,
            left,
            right,
            category_set: NUMERIC,
            threshold,
            value: 0.0,
            missing_left,
        };
        Tree {
            nodes: vec![
                split(0, 1, 6, 0.0, false),
                split(1, 2, 3, -1.0, true),
                Node::leaf(0.1),
                split(2, 4, 5, 1.5, false),
                Node::leaf(0.2),
                Node::leaf(0.3),
                split(1, 7, 8, 2.0, true),
                Node::leaf(0.4),
                Node::leaf(0.5),
            ],
            category_sets: vec![],
        }
    }

    #[test]
    fn fast_layout_adds_exactly_predict_row() {
        let t = lopsided();
        let fast = t.fast(3).unwrap();
        assert_eq!(fast.depth, 3);
        let vals = [-2.0, -1.0, 0.0, 1.5, 2.0, 3.0, f64::NAN, f64::INFINITY];
        let mut rows = Vec::new();
        for a in vals {
            for b in vals {
                for c in vals {
                    rows.extend([a, b, c]);
                }
            }
        }
        rows.extend([1.0, 1.0, 1.0]); // 513 rows: a tail after the 8-row lanes
        let n = rows.len() / 3;
        let mut out = vec![0.25; n * 2];
        fast.add_to_block(&rows, &mut out, 2, 1);
        for i in 0..n {
            let want = 0.25 + t.predict_row(&rows[i * 3..i * 3 + 3]);
            assert_eq!(out[i * 2 + 1].to_bits(), want.to_bits(), "row {i}");
            assert_eq!(out[i * 2], 0.25);
        }
        // Not eligible: a categorical split, a feature past the row, a shared child.
        let mut c = stump();
        c.nodes[0].category_set = 0;
        c.category_sets.push([1, 0, 0, 0]);
        assert!(c.fast(1).is_none());
        assert!(t.fast(2).is_none());
        let mut shared = t.clone();
        shared.nodes[3].right = 2;
        assert!(shared.fast(3).is_none());
        assert!(Tree::default().fast(3).is_none());
    }

    #[test]
    fn forest_walk_gives_every_tree_value_in_order() {
        // 11 trees: one group of 8 walked side by side, then a tail of 3.
        let mut trees = Vec::new();
        for i in 0..11 {
            let mut t = if i % 2 == 0 { lopsided() } else { stump() };
            for n in &mut t.nodes {
                n.value += i as f64;
                if i % 3 == 0 {
                    n.missing_left = !n.missing_left;
                }
            }
            trees.push(t);
        }
        let fast: Vec<FastTree> = trees.iter().map(|t| t.fast(3).unwrap()).collect();
        let forest = FastForest::new(&fast).unwrap();
        assert_eq!(forest.n_features(), 3);
        let vals = [-2.0, -1.0, 0.0, 0.5, 1.5, 2.0, 3.0, f64::NAN];
        for a in vals {
            for b in vals {
                for c in vals {
                    let row = [a, b, c];
                    let mut got = Vec::new();
                    assert!(forest.for_each_value(&row, |t, v| got.push((t, v))));
                    let want: Vec<(usize, f64)> = trees
                        .iter()
                        .enumerate()
                        .map(|(t, tr)| (t, tr.predict_row(&row)))
                        .collect();
                    assert_eq!(got, want, "{row:?}");
                }
            }
        }
        // A short row is refused, not read past its end.
        assert!(!forest.for_each_value(&[0.0, 1.0], |_, _| panic!("called")));
        // Trees built for different row lengths do not mix.
        let other = stump().fast(1).unwrap();
        assert!(FastForest::new([&fast[0], &other]).is_none());
        assert!(FastForest::new(std::iter::empty::<&FastTree>()).is_none());
    }
}
