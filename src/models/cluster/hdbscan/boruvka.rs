//! Borůvka's minimum spanning tree of the mutual-reachability graph over a kd-tree or ball
//! tree (McInnes & Healy 2017, "Accelerated Hierarchical Density Clustering"), for the
//! sizes where Prim's `O(n²)` scan ([`super::spanning`]) is the cost of the fit.
//!
//! Edges are ordered by `(weight, distance, smaller row, larger row)` (equal weights are
//! frequent: every row whose core distance dominates; the nearer row wins, then the smaller
//! index): a strict total order, so the
//! spanning tree is the one minimum tree under it, whatever the search order, the pruning or
//! the number of threads (Prim's tree, and scikit-learn's, may pick other edges among equal
//! weights; every minimum tree has the same weights). Each round finds, for every component
//! of the forest, its least edge to another component, and joins them all:
//!
//! - every row searches the tree for its least edge to another component, in parallel over
//!   fixed blocks of rows (in tree order). `max(core_i, core_j, d / alpha)` is at least
//!   `core_i`, at least the least core distance of a node's rows and at least the node's
//!   distance bound, so a node is left out when one of these exceeds the best edge known for
//!   the row or for its component (the component's bound is shared between threads: it only
//!   prunes, it never chooses); nodes whose rows all lie in the row's component are left out,
//!   and a row whose core distance exceeds its component's bound is not searched;
//! - a row's search starts from its previous round's edge when that still leaves the
//!   component (a valid edge: it tightens the bounds and changes nothing else);
//! - each component keeps the least of its rows' edges under the order above, which is its
//!   least edge (no pruning can drop it: its weight is at most every bound).

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::ArrayView2;

use crate::common::parallel::for_each_mut;
use crate::models::neighbors::{Tree, Visitor};

use super::spanning::Space;

/// Rows per block of a round's parallel searches.
const BLOCK: usize = 256;

/// No row (no edge found).
const NONE: usize = usize::MAX;

/// An edge of the mutual-reachability graph: weight `w`, distance `d` of its rows `a < b`.
#[derive(Debug, Clone, Copy)]
struct Edge {
    w: f64,
    d: f64,
    a: usize,
    b: usize,
}

impl Edge {
    /// No edge (after every edge).
    const NONE: Edge = Edge {
        w: f64::INFINITY,
        d: f64::INFINITY,
        a: NONE,
        b: NONE,
    };

    fn new(w: f64, d: f64, i: usize, j: usize) -> Self {
        Edge {
            w,
            d,
            a: i.min(j),
            b: i.max(j),
        }
    }

    fn is_none(&self) -> bool {
        self.a == NONE
    }

    /// The row at the other end from `i`.
    fn other(&self, i: usize) -> usize {
        if self.a == i {
            self.b
        } else {
            self.a
        }
    }

    /// Whether `self` comes before `other` in the order of the spanning tree: by weight, then
    /// distance, then smaller row, then larger row.
    fn precedes(&self, other: &Edge) -> bool {
        self.cmp(other).is_lt()
    }

    fn cmp(&self, other: &Edge) -> std::cmp::Ordering {
        self.w
            .total_cmp(&other.w)
            .then(self.d.total_cmp(&other.d))
            .then((self.a, self.b).cmp(&(other.a, other.b)))
    }
}

/// The union-find of the forest's components.
struct Forest {
    parent: Vec<usize>,
}

impl Forest {
    fn find(&mut self, mut x: usize) -> usize {
        let mut root = x;
        while let Some(&p) = self.parent.get(root) {
            if p == root {
                break;
            }
            root = p;
        }
        while let Some(&p) = self.parent.get(x) {
            if p == root {
                break;
            }
            if let Some(slot) = self.parent.get_mut(x) {
                *slot = root;
            }
            x = p;
        }
        root
    }

    /// Joins the components of `a` and `b`; false when they are one already.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        if let Some(slot) = self.parent.get_mut(hi) {
            *slot = lo;
        }
        true
    }
}

/// What a row's search shares with the others of its round.
struct Round<'a> {
    space: &'a Space<'a>,
    core: &'a [f64],
    alpha: f64,
    /// The component (its smallest row) of every row.
    comp: &'a [usize],
    /// Per node: the component of all its rows, or [`NONE`].
    node_comp: &'a [usize],
    /// Per node: the least core distance of its rows.
    node_core: &'a [f64],
    /// Per component: the bits of the least edge weight found so far (weights are >= 0, so
    /// their bits order as the values).
    bound: &'a [AtomicU64],
}

/// The search of row `i`: its least edge to another component.
struct Query<'a> {
    round: &'a Round<'a>,
    i: usize,
    comp: usize,
    core: f64,
    best: Edge,
}

impl Query<'_> {
    /// The weight no wanted edge exceeds: the row's best, or its component's if smaller.
    fn cap(&self) -> f64 {
        let shared = self
            .round
            .bound
            .get(self.comp)
            .map_or(f64::INFINITY, |b| f64::from_bits(b.load(Ordering::Relaxed)));
        self.best.w.min(shared)
    }
}

impl Visitor for Query<'_> {
    fn limit(&self) -> f64 {
        let cap = self.cap();
        if cap.is_infinite() {
            return f64::INFINITY;
        }
        // The reduced distance of `cap · alpha`, padded for rounding: pruning less is safe.
        let dist = self.round.space.dist;
        dist.to_rdist(cap * self.round.alpha) * (1.0 + 1e-9) + f64::MIN_POSITIVE
    }

    fn skip(&mut self, node: usize) -> bool {
        let r = self.round;
        r.node_comp.get(node) == Some(&self.comp)
            || r.node_core.get(node).is_some_and(|&c| c > self.cap())
    }

    fn offer(&mut self, j: usize, rd: f64) {
        let r = self.round;
        if r.comp.get(j) == Some(&self.comp) {
            return;
        }
        let floor = self.core.max(r.core.get(j).copied().unwrap_or(0.0));
        if floor > self.cap() {
            return;
        }
        let d = r.space.dist.to_dist(rd);
        let e = Edge::new(floor.max(d / r.alpha), d, self.i, j);
        if e.precedes(&self.best) {
            self.best = e;
            if let Some(b) = r.bound.get(self.comp) {
                b.fetch_min(e.w.to_bits(), Ordering::Relaxed);
            }
        }
    }

    fn take_all(&mut self, _rows: &[usize]) {}
}

/// Per node of `tree`, the least of `value` over its rows.
fn node_min(tree: &Tree, value: impl Fn(usize) -> f64) -> Vec<f64> {
    let m = tree.n_nodes();
    let mut out = vec![f64::INFINITY; m];
    for node in (0..m).rev() {
        let (rows, leaf) = tree.node(node);
        let v = if leaf {
            rows.iter().map(|&i| value(i)).fold(f64::INFINITY, f64::min)
        } else {
            let child = |c: usize| out.get(c).copied().unwrap_or(f64::INFINITY);
            child(2 * node + 1).min(child(2 * node + 2))
        };
        if let Some(o) = out.get_mut(node) {
            *o = v;
        }
    }
    out
}

/// Per node of `tree`, the component of all its rows, or [`NONE`].
fn node_components(tree: &Tree, comp: &[usize], out: &mut [usize]) {
    for node in (0..out.len()).rev() {
        let (rows, leaf) = tree.node(node);
        let c = if leaf {
            let first = rows.first().and_then(|&i| comp.get(i)).copied();
            match first {
                Some(c) if rows.iter().all(|&i| comp.get(i) == Some(&c)) => c,
                _ => NONE,
            }
        } else {
            let a = out.get(2 * node + 1).copied().unwrap_or(NONE);
            let b = out.get(2 * node + 2).copied().unwrap_or(NONE);
            if a == b {
                a
            } else {
                NONE
            }
        };
        if let Some(o) = out.get_mut(node) {
            *o = c;
        }
    }
}

/// The minimum spanning tree of the mutual-reachability graph
/// `max(core_i, core_j, d(i, j) / alpha)` over the rows of `space` indexed by `tree`, with
/// the nearest rows of every row (`neighbours`, one row per row, any number of columns,
/// ascending by distance, then index: the core distances' search): `n − 1`
/// edges `(source, new row, weight)` in the order of Prim's algorithm from row 0
/// ([`in_prim_order`]).
pub(super) fn boruvka_mst(
    space: &Space<'_>,
    tree: &Tree,
    core: &[f64],
    alpha: f64,
    neighbours: ArrayView2<'_, usize>,
) -> Vec<(usize, usize, f64)> {
    let n = core.len();
    let d = space.d;
    let mut forest = Forest {
        parent: (0..n).collect(),
    };
    let node_core = node_min(tree, |i| core.get(i).copied().unwrap_or(0.0));
    let mut node_comp = vec![NONE; tree.n_nodes()];
    let mut comp: Vec<usize> = (0..n).collect();
    // Per tree position: the row's edge of the last round (or none).
    let order = tree.order();
    let mut found: Vec<Edge> = vec![Edge::NONE; order.len()];
    let mut mst: Vec<Edge> = Vec::with_capacity(n.saturating_sub(1));
    let row = |i: usize| space.x.get(i * d..(i + 1) * d).unwrap_or(&[]);
    let edge = |i: usize, j: usize| {
        let floor = core
            .get(i)
            .copied()
            .unwrap_or(0.0)
            .max(core.get(j).copied().unwrap_or(0.0));
        let d = space.dist.to_dist(space.dist.rdist(row(i), row(j)));
        Edge::new(floor.max(d / alpha), d, i, j)
    };
    // The first round from the core distances' neighbours: a row's least edge among them
    // is its least edge of all when it weighs the row's own core distance (no edge weighs
    // less) and is shorter than the farthest of them (every other row is at least that
    // far); the other rows search the tree from it.
    let mut settled = vec![false; order.len()];
    {
        let mut blocks: Vec<(&mut [Edge], &mut [bool])> = found
            .chunks_mut(BLOCK)
            .zip(settled.chunks_mut(BLOCK))
            .collect();
        for_each_mut(&mut blocks, |b, (found, settled)| {
            for (t, (f, done)) in found.iter_mut().zip(settled.iter_mut()).enumerate() {
                let i = order.get(b * BLOCK + t).copied().unwrap_or(0);
                let mut farthest = 0.0f64;
                let mut best = Edge::NONE;
                for &j in neighbours.row(i).iter().filter(|&&j| j != i && j < n) {
                    let e = edge(i, j);
                    farthest = farthest.max(e.d);
                    if e.precedes(&best) {
                        best = e;
                    }
                }
                *done = best.w == core.get(i).copied().unwrap_or(f64::NAN) && best.d < farthest;
                *f = best;
            }
        });
    }
    while mst.len() + 1 < n {
        node_components(tree, &comp, &mut node_comp);
        let bound: Vec<AtomicU64> = (0..n)
            .map(|_| AtomicU64::new(f64::INFINITY.to_bits()))
            .collect();
        // Last round's edges that still leave their component seed the bounds.
        for (pos, f) in found.iter_mut().enumerate() {
            let i = order.get(pos).copied().unwrap_or(0);
            let ci = comp.get(i).copied().unwrap_or(i);
            let j = f.other(i);
            *f = match comp.get(j) {
                Some(&cj) if !f.is_none() && cj != ci => {
                    let e = edge(i, j);
                    if let Some(b) = bound.get(ci) {
                        b.fetch_min(e.w.to_bits(), Ordering::Relaxed);
                    }
                    e
                }
                _ => Edge::NONE,
            };
        }
        let round = Round {
            space,
            core,
            alpha,
            comp: &comp,
            node_comp: &node_comp,
            node_core: &node_core,
            bound: &bound,
        };
        let mut blocks: Vec<(&mut [Edge], &[bool])> =
            found.chunks_mut(BLOCK).zip(settled.chunks(BLOCK)).collect();
        for_each_mut(&mut blocks, |b, (block, settled)| {
            for (t, (f, &done)) in block.iter_mut().zip(settled.iter()).enumerate() {
                if done {
                    continue;
                }
                let i = order.get(b * BLOCK + t).copied().unwrap_or(0);
                let ci = comp.get(i).copied().unwrap_or(i);
                let c = core.get(i).copied().unwrap_or(0.0);
                let shared = bound
                    .get(ci)
                    .map_or(f64::INFINITY, |b| f64::from_bits(b.load(Ordering::Relaxed)));
                if c > shared {
                    continue;
                }
                let mut q = Query {
                    round: &round,
                    i,
                    comp: ci,
                    core: c,
                    best: *f,
                };
                tree.visit(space.x, row(i), space.dist, -1.0, &mut q);
                *f = q.best;
            }
        });
        // The least edge of every component.
        let mut least: Vec<Edge> = vec![Edge::NONE; n];
        for (pos, f) in found.iter().enumerate() {
            let i = order.get(pos).copied().unwrap_or(0);
            let ci = comp.get(i).copied().unwrap_or(i);
            if let Some(l) = least.get_mut(ci) {
                if f.precedes(l) {
                    *l = *f;
                }
            }
        }
        let before_round = mst.len();
        for e in least.iter().filter(|e| !e.is_none()) {
            if forest.union(e.a, e.b) {
                mst.push(*e);
            }
        }
        settled.fill(false);
        if mst.len() == before_round {
            // Unreachable with finite distances; ends the loop on corrupt input.
            break;
        }
        for (i, c) in comp.iter_mut().enumerate() {
            *c = forest.find(i);
        }
    }
    let mst: Vec<(usize, usize, f64)> = mst.iter().map(|e| (e.a, e.b, e.w)).collect();
    in_prim_order(&mst, n)
}

/// The edges of the spanning tree `mst` (over `n` rows) in the order Prim's algorithm
/// from row 0 adds them (scikit-learn's `mst_from_data_matrix`: at each step the row of
/// least reach, the smaller index on ties), each as `(source, new row, weight)`: when the
/// tree is Prim's, these are Prim's edges in Prim's order (a row is always added by its
/// edge in the tree: another edge would make another tree), so the single linkage merges
/// equal weights in scikit-learn's order.
fn in_prim_order(mst: &[(usize, usize, f64)], n: usize) -> Vec<(usize, usize, f64)> {
    use std::cmp::Reverse;
    // The edges of every row, as a compressed adjacency list.
    let mut start = vec![0usize; n + 1];
    for &(a, b, _) in mst {
        for v in [a, b] {
            if let Some(s) = start.get_mut(v + 1) {
                *s += 1;
            }
        }
    }
    for v in 0..n {
        let prev = start.get(v).copied().unwrap_or(0);
        if let Some(s) = start.get_mut(v + 1) {
            *s += prev;
        }
    }
    let mut fill = start.clone();
    let mut adj = vec![(0usize, 0.0f64); 2 * mst.len()];
    for &(a, b, w) in mst {
        for (v, other) in [(a, b), (b, a)] {
            if let Some(f) = fill.get_mut(v) {
                if let Some(slot) = adj.get_mut(*f) {
                    *slot = (other, w);
                }
                *f += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(mst.len());
    let mut added = vec![false; n];
    // (weight bits, new row, source): weights are >= 0, so their bits order as the values.
    let mut heap = std::collections::BinaryHeap::new();
    heap.push(Reverse((0u64, 0usize, usize::MAX)));
    while let Some(Reverse((bits, v, source))) = heap.pop() {
        if added.get(v).copied().unwrap_or(true) {
            continue;
        }
        if let Some(a) = added.get_mut(v) {
            *a = true;
        }
        if source != usize::MAX {
            out.push((source, v, f64::from_bits(bits)));
        }
        let (lo, hi) = (
            start.get(v).copied().unwrap_or(0),
            start.get(v + 1).copied().unwrap_or(0),
        );
        for &(other, w) in adj.get(lo..hi).unwrap_or(&[]) {
            if !added.get(other).copied().unwrap_or(true) {
                heap.push(Reverse((w.to_bits(), other, v)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::parallel::ThreadPolicy;
    use crate::models::cluster::hdbscan::spanning::tests::{index_cases, tie_heavy_rows};
    use crate::models::neighbors::{Algorithm, NeighborIndex, Queries};

    /// A spanning tree with Prim's weights (every minimum tree has the same weights) and the
    /// same tree for 1 and 3 threads, on data with
    /// many ties (a coarse grid) and without, for both trees, several metrics and alphas.
    #[test]
    fn a_minimum_tree_the_same_for_any_number_of_threads() {
        let x = tie_heavy_rows();
        for params in index_cases(&[Algorithm::KdTree, Algorithm::BallTree]) {
            let (metric, algorithm) = (params.metric, params.algorithm);
            let index = NeighborIndex::build(x.view(), &params, 5).unwrap();
            let tree = index.tree().unwrap();
            for k in [1, 5] {
                let knn = index.kneighbors(Queries::Fitted, k).unwrap();
                let core: Vec<f64> = knn.distances.column(k - 1).to_vec();
                for alpha in [1.0, 0.7] {
                    let space = Space {
                        x: index.search_space(),
                        d: 3,
                        dist: index.distance_kind(),
                    };
                    let what = format!("{metric:?} {algorithm:?} k {k} alpha {alpha}");
                    let run = |threads| {
                        ThreadPolicy::new(Some(threads))
                            .run(|| boruvka_mst(&space, tree, &core, alpha, knn.indices.view()))
                            .unwrap()
                    };
                    let fast = run(3);
                    assert_eq!(fast, run(1), "{what}");
                    let plain = super::super::tree::prim_mst(300, &core, alpha, |a, b| {
                        index.distance(a, b)
                    });
                    let weights = |m: &[(usize, usize, f64)]| {
                        let mut w: Vec<f64> = m.iter().map(|e| e.2).collect();
                        w.sort_by(f64::total_cmp);
                        w
                    };
                    assert_eq!(weights(&fast), weights(&plain), "{what}");
                }
            }
        }
    }
}
