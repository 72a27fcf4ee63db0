//! A fitted regression tree as a flat node array, predicted from raw `f64` rows.
//!
//! Children are always stored after their parent (`left > i` and `right > i`), which
//! [`Tree::validate`] checks: together with the bounds checks this rules out cycles, so a loaded
//! tree always terminates.

use serde::{Deserialize, Serialize};

use super::split::{bitset_contains, Bitset};
use crate::error::{Error, Result};
#[cfg(test)]
use crate::models::tree::flat::FastForest;
use crate::models::tree::flat::FastSource;
pub(crate) use crate::models::tree::flat::FastTree;

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
        FastTree::build(self.nodes.len(), p, 1, |i| {
            let n = self.nodes.get(i)?;
            Some(if n.is_leaf() {
                FastSource::Leaf(std::slice::from_ref(&n.value))
            } else if n.category_set == NUMERIC {
                FastSource::Split {
                    feature: n.feature,
                    threshold: n.threshold,
                    missing_left: n.missing_left,
                    left: n.left as usize,
                    right: n.right as usize,
                }
            } else {
                return None;
            })
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
        assert_eq!(fast.depth(), 3);
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
