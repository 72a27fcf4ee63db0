//! The kd-tree and the ball tree: one binary space partition, as scikit-learn's
//! `BinaryTree`, whose nodes are bounded either by boxes (kd-tree: minkowski-family metrics)
//! or by balls around the mean of their rows (ball tree: any metric that satisfies the
//! triangle inequality; cosine is searched as the euclidean distance of unit rows).
//!
//! Layout as scikit-learn's: `1 + ⌊log2(max(1, (n − 1) / leaf_size))⌋` levels of a complete
//! binary tree stored as an implicit heap (children of node `i` are `2i + 1` and `2i + 2`),
//! each node splitting its rows at the median of the coordinate of largest spread (ties
//! between equal values broken by row index, so the tree is a function of the data). The
//! searches are exact: a node is skipped only when a lower bound (with a small slack for
//! rounding) exceeds the current limit, and every kept row's reduced distance is computed by
//! [`Distance::rdist`], the function brute force uses.

use rayon::prelude::*;

use super::metric::Distance;
use super::search::Collector;
use crate::common::simd::with_avx2;

/// Leaves copied per parallel task into a tree's [`Tree::points`].
const LEAVES_PER_TASK: usize = 64;

/// Rows of a leaf whose distances are computed together (on the stack) before they are
/// compared with the collector's limit.
const LEAF_CHUNK: usize = 64;

/// Rows of a leaf tested against the limit by one branch.
const GROUP: usize = 8;

/// A built tree over the rows of a search space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    ball: bool,
    d: usize,
    /// The rows, permuted so that every node holds a contiguous range.
    idx: Vec<usize>,
    /// `(start, end, leaf)` of every node.
    nodes: Vec<(usize, usize, bool)>,
    /// Per node: kd-tree `lo[d], hi[d]`; ball tree `centre[d], radius`.
    bounds: Vec<f64>,
    /// The rows' values in tree order, each leaf's block by columns
    /// ([`leaf_columns`](Tree::leaf_columns)), so that a search reads a leaf contiguously and
    /// computes its distances across the rows.
    points: Vec<f64>,
}

impl Tree {
    /// Builds the tree over the `n` rows of `x` (row-major, `d` values each), one level at
    /// a time: the nodes of a level hold disjoint ranges of the rows and disjoint slots of
    /// the heap, so they are built in parallel, each exactly as a recursive build would (the
    /// tree does not depend on the number of threads).
    pub(crate) fn build(
        x: &[f64],
        n: usize,
        d: usize,
        leaf_size: usize,
        dist: Distance,
        ball: bool,
    ) -> Self {
        let leaf_size = leaf_size.max(1);
        let per_leaf = (n.saturating_sub(1) / leaf_size).max(1);
        let n_levels = 1 + per_leaf.ilog2() as usize;
        let n_nodes = (1usize << n_levels.min(40)) - 1;
        let width = if ball { d + 1 } else { 2 * d };
        let mut tree = Tree {
            ball,
            d,
            idx: (0..n).collect(),
            nodes: vec![(0, 0, true); n_nodes],
            bounds: vec![0.0; n_nodes * width],
            points: Vec::new(),
        };
        // The row range of every node of the current level that is built (children of a
        // leaf are not), in node order; their ranges are ascending and disjoint.
        let mut level: Vec<(usize, usize, usize)> = vec![(0, 0, n)];
        while !level.is_empty() {
            let first = level.first().map_or(0, |l| l.0);
            let last = level.last().map_or(0, |l| l.0);
            let node_slots = tree.nodes.get_mut(first..=last).unwrap_or(&mut []);
            let bound_slots = tree
                .bounds
                .get_mut(first * width..(last + 1) * width)
                .unwrap_or(&mut []);
            // Cut the rows, node slots and bound slots of the level into one job per node.
            let mut jobs = Vec::with_capacity(level.len());
            let (mut rows, mut at) = (tree.idx.as_mut_slice(), 0);
            let mut slots: Vec<_> = node_slots
                .iter_mut()
                .zip(bound_slots.chunks_mut(width.max(1)))
                .map(Some)
                .collect();
            for &(node, start, end) in &level {
                let (_, rest) = std::mem::take(&mut rows).split_at_mut(start.saturating_sub(at));
                let (mine, rest) = rest.split_at_mut((end - start).min(rest.len()));
                rows = rest;
                at = end;
                if let Some((slot, bounds)) = slots.get_mut(node - first).and_then(Option::take) {
                    jobs.push((node, start, mine, slot, bounds));
                }
            }
            let splits: Vec<Option<(usize, usize, usize)>> = jobs
                .into_par_iter()
                .map(|(node, start, rows, slot, bounds)| {
                    let end = start + rows.len();
                    let leaf = 2 * node + 1 >= n_nodes || end - start < 2;
                    *slot = (start, end, leaf);
                    Self::build_node(x, d, ball, dist, rows, bounds, leaf)
                        .then_some((node, start, end))
                })
                .collect();
            level = splits
                .into_iter()
                .flatten()
                .flat_map(|(node, start, end)| {
                    let mid = start + (end - start) / 2;
                    [(2 * node + 1, start, mid), (2 * node + 2, mid, end)]
                })
                .collect();
        }
        tree.points = tree.leaf_columns(x);
        tree
    }

    /// The rows' values in tree order, each leaf's block stored by columns: coordinate `j`
    /// of the `t`-th row of the leaf over `start..end` at `start·d + j·(end − start) + t`.
    /// The leaves hold disjoint ranges that cover every row, so they are written in parallel.
    fn leaf_columns(&self, x: &[f64]) -> Vec<f64> {
        let d = self.d;
        let mut points = vec![0.0; self.idx.len() * d];
        let mut leaves: Vec<(usize, usize)> = self
            .nodes
            .iter()
            .filter(|&&(start, end, leaf)| leaf && end > start)
            .map(|&(start, end, _)| (start, end))
            .collect();
        leaves.sort_unstable();
        let mut jobs = Vec::with_capacity(leaves.len());
        let (mut rest, mut at) = (points.as_mut_slice(), 0);
        for (start, end) in leaves {
            let skip = start.saturating_sub(at) * d;
            let take = (end - start) * d;
            if start < at || skip + take > rest.len() {
                break;
            }
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(skip);
            let (mine, tail) = tail.split_at_mut(take);
            rest = tail;
            at = end;
            jobs.push((self.idx.get(start..end).unwrap_or(&[]), mine));
        }
        jobs.into_par_iter()
            .with_min_len(LEAVES_PER_TASK)
            .for_each(|(rows, dst)| {
                let m = rows.len();
                for (t, &i) in rows.iter().enumerate() {
                    for (j, &v) in Self::row(x, d, i).iter().enumerate() {
                        if let Some(slot) = dst.get_mut(j * m + t) {
                            *slot = v;
                        }
                    }
                }
            });
        points
    }

    fn row(x: &[f64], d: usize, i: usize) -> &[f64] {
        x.get(i * d..(i + 1) * d).unwrap_or(&[])
    }

    /// Writes the bounds of the node holding `rows` and, unless it is a `leaf`, splits its
    /// rows at the median of the coordinate of largest spread (the first on ties; equal
    /// values by row index). Returns whether it split.
    fn build_node(
        x: &[f64],
        d: usize,
        ball: bool,
        dist: Distance,
        rows: &mut [usize],
        b: &mut [f64],
        leaf: bool,
    ) -> bool {
        if ball {
            b.fill(0.0);
            for &i in rows.iter() {
                for (c, v) in b.iter_mut().zip(Self::row(x, d, i)) {
                    *c += v;
                }
            }
            let m = rows.len().max(1) as f64;
            b.iter_mut().take(d).for_each(|c| *c /= m);
            let (centre, radius) = b.split_at_mut(d.min(b.len()));
            let r = rows
                .iter()
                .map(|&i| dist.space_dist(centre, Self::row(x, d, i)))
                .fold(0.0, f64::max);
            if let Some(slot) = radius.first_mut() {
                *slot = r;
            }
        } else {
            let (lo, hi) = b.split_at_mut(d.min(b.len()));
            lo.fill(f64::INFINITY);
            hi.fill(f64::NEG_INFINITY);
            for &i in rows.iter() {
                for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(Self::row(x, d, i)) {
                    *l = l.min(v);
                    *h = h.max(v);
                }
            }
        }
        if leaf {
            return false;
        }
        // The coordinate of largest spread (the first on ties): a kd-tree's box has it.
        let mut split = 0;
        let mut spread = -1.0;
        for j in 0..d {
            let (lo, hi) = if ball {
                rows.iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                        let v = Self::row(x, d, i).get(j).copied().unwrap_or(0.0);
                        (lo.min(v), hi.max(v))
                    })
            } else {
                (
                    b.get(j).copied().unwrap_or(0.0),
                    b.get(d + j).copied().unwrap_or(0.0),
                )
            };
            if hi - lo > spread {
                spread = hi - lo;
                split = j;
            }
        }
        // The median by (value, row): on the pairs, read once, rather than through the rows.
        let mut keyed: Vec<(f64, usize)> = rows
            .iter()
            .map(|&i| (Self::row(x, d, i).get(split).copied().unwrap_or(0.0), i))
            .collect();
        let half = keyed.len() / 2;
        keyed.select_nth_unstable_by(half, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (r, (_, i)) in rows.iter_mut().zip(keyed) {
            *r = i;
        }
        true
    }

    /// A lower bound on the reduced distance of `q` to every row of `node`.
    #[inline(always)]
    fn lower_bound(&self, node: usize, q: &[f64], dist: Distance) -> f64 {
        let d = self.d;
        if self.ball {
            let b = self.bounds.get(node * (d + 1)..(node + 1) * (d + 1));
            let Some((centre, radius)) = b.and_then(|b| b.split_last().map(|(r, c)| (c, *r)))
            else {
                return 0.0;
            };
            let dqc = dist.space_dist(q, centre);
            dist.bound_rdist(dqc - radius, dqc + radius, d)
        } else {
            let Some(b) = self.bounds.get(node * 2 * d..(node + 1) * 2 * d) else {
                return 0.0;
            };
            let (lo, hi) = b.split_at(d);
            let gaps = q
                .iter()
                .zip(lo.iter().zip(hi))
                .map(|(&v, (&l, &h))| (l - v).max(v - h).max(0.0));
            dist.gap_bound_rdist(gaps, d)
        }
    }

    /// Offers every row of the tree that can be within the collector's limit for query row
    /// `r` (vector `q`), nearest nodes first.
    pub(crate) fn search<C: Collector + ?Sized>(
        &self,
        q: &[f64],
        r: usize,
        dist: Distance,
        out: &mut C,
    ) {
        if self.nodes.is_empty() {
            return;
        }
        // The euclidean search (the default metric) is compiled on its own, so that its
        // distances and bounds carry no match on the metric.
        if dist == Distance::Euclidean {
            let bound = self.lower_bound(0, q, Distance::Euclidean);
            self.search_node::<C, true>(0, bound, q, r, dist, out);
        } else {
            let bound = self.lower_bound(0, q, dist);
            self.search_node::<C, false>(0, bound, q, r, dist, out);
        }
    }

    /// The number of nodes (an implicit heap: the children of node `i` are `2i + 1` and
    /// `2i + 2`, so children always follow their parent).
    pub(crate) fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The rows of `node` (a contiguous range of [`order`](Self::order)) and whether it is a
    /// leaf.
    pub(crate) fn node(&self, node: usize) -> (&[usize], bool) {
        match self.nodes.get(node) {
            Some(&(start, end, leaf)) => (self.idx.get(start..end).unwrap_or(&[]), leaf),
            None => (&[], true),
        }
    }

    /// Every row, in tree order (the rows of each node are contiguous: a spatial sort).
    pub(crate) fn order(&self) -> &[usize] {
        &self.idx
    }

    /// An upper bound on the reduced distance of `q` to every row of `node`, inflated so
    /// that no computed [`Distance::rdist`] of a row of the node exceeds it (kd-trees only;
    /// infinite for a ball tree or cosine, which take no whole nodes).
    fn upper_bound(&self, node: usize, q: &[f64], dist: Distance) -> f64 {
        let d = self.d;
        if self.ball || dist == Distance::Cosine {
            return f64::INFINITY;
        }
        let Some(b) = self.bounds.get(node * 2 * d..(node + 1) * 2 * d) else {
            return f64::INFINITY;
        };
        let (lo, hi) = b.split_at(d);
        // The farthest corner, each gap padded by the rounding of the differences.
        let gaps = q.iter().zip(lo.iter().zip(hi)).map(|(&v, (&l, &h))| {
            (v - l).abs().max((h - v).abs()) + 4.0 * f64::EPSILON * (v.abs() + l.abs() + h.abs())
        });
        let slack = 1.0 + 1e-12 + 8.0 * d as f64 * f64::EPSILON;
        dist.to_rdist(dist.gap_norm(gaps) * slack) * slack
    }

    /// Visits every row of the tree that can be within `limit` (reduced) of `q`: a node the
    /// visitor [skips](Visitor::skip), or whose lower bound exceeds [`Visitor::limit`], is
    /// left out; a node whose every row is within `inner` (reduced; a negative value takes
    /// no whole node) is handed over whole ([`Visitor::take_all`], no distance computed);
    /// the rows of the other leaves are offered with their reduced distance.
    pub(crate) fn visit<V: Visitor + ?Sized>(
        &self,
        x: &[f64],
        q: &[f64],
        dist: Distance,
        inner: f64,
        v: &mut V,
    ) {
        if self.nodes.is_empty() {
            return;
        }
        let bound = self.lower_bound(0, q, dist);
        self.visit_node(x, 0, bound, q, dist, inner, v);
    }

    #[allow(clippy::too_many_arguments)]
    fn visit_node<V: Visitor + ?Sized>(
        &self,
        x: &[f64],
        node: usize,
        bound: f64,
        q: &[f64],
        dist: Distance,
        inner: f64,
        v: &mut V,
    ) {
        if bound > v.limit() || v.skip(node) {
            return;
        }
        let Some(&(start, end, leaf)) = self.nodes.get(node) else {
            return;
        };
        let rows = self.idx.get(start..end).unwrap_or(&[]);
        if inner >= 0.0 && self.upper_bound(node, q, dist) <= inner {
            v.take_all(rows);
            return;
        }
        if leaf {
            for &i in rows {
                v.offer(i, dist.rdist(q, Self::row(x, self.d, i)));
            }
            return;
        }
        let (a, b) = (2 * node + 1, 2 * node + 2);
        let (ba, bb) = (self.lower_bound(a, q, dist), self.lower_bound(b, q, dist));
        if ba <= bb {
            self.visit_node(x, a, ba, q, dist, inner, v);
            self.visit_node(x, b, bb, q, dist, inner, v);
        } else {
            self.visit_node(x, b, bb, q, dist, inner, v);
            self.visit_node(x, a, ba, q, dist, inner, v);
        }
    }

    /// Searches `node` (lower bound `bound`) for query row `r`; `EUCLID` when `dist` is
    /// [`Distance::Euclidean`], which the compiler then knows.
    #[allow(clippy::too_many_arguments)]
    fn search_node<C: Collector + ?Sized, const EUCLID: bool>(
        &self,
        node: usize,
        bound: f64,
        q: &[f64],
        r: usize,
        dist: Distance,
        out: &mut C,
    ) {
        let dist = if EUCLID { Distance::Euclidean } else { dist };
        if bound > out.limit(r) {
            return;
        }
        let Some(&(start, end, leaf)) = self.nodes.get(node) else {
            return;
        };
        if leaf {
            let rows = self.idx.get(start..end).unwrap_or(&[]);
            if self.d == 0 {
                rows.iter()
                    .for_each(|&i| out.offer(r, i, dist.rdist(q, &[])));
                return;
            }
            let m = rows.len();
            let block = self.points.get(start * self.d..end * self.d).unwrap_or(&[]);
            // Only a row within the limit can be kept; the limit moves only when one is.
            let mut limit = out.limit(r);
            let mut rds = [0.0; LEAF_CHUNK];
            for (from, ids) in (0..m).step_by(LEAF_CHUNK).zip(rows.chunks(LEAF_CHUNK)) {
                let chunk = rds.get_mut(..ids.len()).unwrap_or(&mut []);
                let cols = block.get(from..).unwrap_or(&[]);
                with_avx2(
                    #[inline(always)]
                    || dist.rdist_columns(q, cols, m, chunk),
                );
                // Groups without a row within the limit (most, once the limit is tight) are
                // passed over by one branch.
                for (ids, rds) in ids.chunks(GROUP).zip(chunk.chunks(GROUP)) {
                    if !rds.iter().fold(false, |any, &rd| any | (rd <= limit)) {
                        continue;
                    }
                    for (&i, &rd) in ids.iter().zip(rds) {
                        if rd <= limit {
                            out.offer(r, i, rd);
                            limit = out.limit(r);
                        }
                    }
                }
            }
            return;
        }
        let (a, b) = (2 * node + 1, 2 * node + 2);
        let (ba, bb) = (self.lower_bound(a, q, dist), self.lower_bound(b, q, dist));
        if ba <= bb {
            self.search_node::<C, EUCLID>(a, ba, q, r, dist, out);
            self.search_node::<C, EUCLID>(b, bb, q, r, dist, out);
        } else {
            self.search_node::<C, EUCLID>(b, bb, q, r, dist, out);
            self.search_node::<C, EUCLID>(a, ba, q, r, dist, out);
        }
    }
}

/// What a [`Tree::visit`] does with the nodes and rows it reaches (the passes of `dbscan`
/// and the spanning tree of `hdbscan`, which keep summaries per node).
pub(crate) trait Visitor {
    /// The largest reduced distance still of interest (a node whose lower bound exceeds it
    /// is left out; a negative value ends the visit).
    fn limit(&self) -> f64;
    /// Whether to leave out `node` (by a summary the caller keeps per node).
    fn skip(&mut self, node: usize) -> bool;
    /// Row `i` at reduced distance `rd`.
    fn offer(&mut self, i: usize, rd: f64);
    /// Rows all within the `inner` radius of the visit (no distance computed).
    fn take_all(&mut self, rows: &[usize]);
}
