//! The three passes of [`Dbscan`](super::Dbscan) over a tree index (kd-tree or ball tree),
//! with summaries per tree node that let a query leave out whole nodes, and queries taken in
//! tree order (a spatial sort) in parallel over fixed blocks:
//!
//! 1. core flags: a row's (weighted) neighbour count, stopped as soon as it reaches
//!    `min_samples` (when no weight is negative), nodes wholly within `eps` counted without
//!    distances;
//! 2. the clusters of the core samples: a shared union–find (lock-free, roots linked to the
//!    smaller row, so a cluster's root is its first core sample), where a query leaves out
//!    every node whose core samples are already all in its own cluster (a per-node summary
//!    refreshed between chunks of queries) — the components of a graph do not depend on the
//!    order its edges are found in, so the result is the same for any thread count;
//! 3. the cluster of every non-core row: the smallest label among its core neighbours, with
//!    nodes whose smallest core label cannot improve it left out.
//!
//! Memory is `O(n + nodes)`: no neighbourhood is ever stored.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::parallel::map_fold_blocks;
use crate::error::Result;
use crate::models::neighbors::{Distance, NeighborIndex, Radius, Tree, Visitor};

/// Query rows per parallel block.
const BLOCK: usize = 256;
/// Core queries per chunk of pass 2 between refreshes of the node summaries: the first
/// chunk, doubled up to the last.
const FIRST_CHUNK: usize = 512;
const LAST_CHUNK: usize = 8192;

/// A node without core samples (pass 2 summary).
const NO_CORE: usize = usize::MAX;
/// A node whose core samples are in several clusters (pass 2 summary).
const MIXED: usize = usize::MAX - 1;

/// The passes over one tree index.
pub(super) struct TreePasses<'a> {
    tree: &'a Tree,
    x: &'a [f64],
    d: usize,
    dist: Distance,
    radius: Radius,
    /// The reduced radius under which a whole node is taken without distances.
    inner: f64,
}

impl<'a> TreePasses<'a> {
    /// The passes of `index` at radius `eps`, or `None` for a brute-force index.
    pub(super) fn new(index: &'a NeighborIndex, eps: f64) -> Option<Self> {
        let tree = index.tree()?;
        let dist = index.distance_kind();
        let inner = if dist == Distance::Cosine {
            -1.0
        } else {
            dist.to_rdist(eps) * (1.0 - 1e-9)
        };
        Some(Self {
            tree,
            x: index.search_space(),
            d: index.n_features(),
            dist,
            radius: Radius::new(dist, eps),
            inner,
        })
    }

    fn row(&self, i: usize) -> &[f64] {
        self.x.get(i * self.d..(i + 1) * self.d).unwrap_or(&[])
    }

    /// `f(row)` for every row of `rows`, in parallel over fixed blocks, in order.
    fn per_row<T: Send>(rows: &[usize], f: impl Fn(usize) -> T + Sync) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(rows.len());
        map_fold_blocks(
            rows.len().div_ceil(BLOCK),
            |b| {
                let block = rows.get(b * BLOCK..((b + 1) * BLOCK).min(rows.len()));
                block
                    .unwrap_or(&[])
                    .iter()
                    .map(|&i| f(i))
                    .collect::<Vec<T>>()
            },
            |_, v| {
                out.extend(v);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Pass 1: whether each row has a (weighted) neighbour count `>= min_samples`.
    pub(super) fn core_flags(
        &self,
        weights: Option<&[f64]>,
        min_samples: f64,
    ) -> Result<Vec<bool>> {
        let order = self.tree.order();
        let early = weights.is_none_or(|w| w.iter().all(|&v| v >= 0.0));
        let flags = Self::per_row(order, |i| {
            let mut c = Count {
                radius: self.radius,
                weights,
                count: 0.0,
                target: min_samples,
                early,
            };
            self.tree
                .visit(self.x, self.row(i), self.dist, self.inner, &mut c);
            c.count >= min_samples
        })?;
        let mut is_core = vec![false; order.len()];
        for (&i, f) in order.iter().zip(flags) {
            if let Some(slot) = is_core.get_mut(i) {
                *slot = f;
            }
        }
        Ok(is_core)
    }

    /// Pass 2: the root (the first core sample) of the cluster of every core sample (other
    /// rows: themselves).
    pub(super) fn core_roots(&self, is_core: &[bool]) -> Result<Vec<usize>> {
        let n = is_core.len();
        let parent: Vec<AtomicUsize> = (0..n).map(AtomicUsize::new).collect();
        let snap: Vec<AtomicUsize> = (0..self.tree.n_nodes())
            .map(|_| AtomicUsize::new(MIXED))
            .collect();
        let core: Vec<usize> = self
            .tree
            .order()
            .iter()
            .copied()
            .filter(|&i| is_core.get(i) == Some(&true))
            .collect();
        let mut start = 0;
        let mut chunk = FIRST_CHUNK;
        while start < core.len() {
            let end = (start + chunk).min(core.len());
            Self::per_row(core.get(start..end).unwrap_or(&[]), |q| {
                let mut link = Link {
                    q,
                    radius: self.radius,
                    is_core,
                    parent: &parent,
                    snap: &snap,
                };
                self.tree
                    .visit(self.x, self.row(q), self.dist, self.inner, &mut link);
            })?;
            self.refresh(is_core, &parent, &snap);
            start = end;
            chunk = (2 * chunk).min(LAST_CHUNK);
        }
        Ok((0..n).map(|i| find(&parent, i)).collect())
    }

    /// Recomputes the pass-2 summary of every node, leaves up.
    fn refresh(&self, is_core: &[bool], parent: &[AtomicUsize], snap: &[AtomicUsize]) {
        let get = |node: usize| {
            snap.get(node)
                .map_or(NO_CORE, |s| s.load(Ordering::Relaxed))
        };
        for node in (0..self.tree.n_nodes()).rev() {
            let (rows, leaf) = self.tree.node(node);
            let summary = if leaf {
                let mut s = NO_CORE;
                for &i in rows {
                    if is_core.get(i) == Some(&true) {
                        let r = find(parent, i);
                        if s == NO_CORE {
                            s = r;
                        } else if s != r {
                            s = MIXED;
                            break;
                        }
                    }
                }
                s
            } else {
                match (get(2 * node + 1), get(2 * node + 2)) {
                    (MIXED, _) | (_, MIXED) => MIXED,
                    (NO_CORE, s) | (s, NO_CORE) => s,
                    (a, b) => {
                        let r = find(parent, a);
                        if r == find(parent, b) {
                            r
                        } else {
                            MIXED
                        }
                    }
                }
            };
            if let Some(s) = snap.get(node) {
                s.store(summary, Ordering::Relaxed);
            }
        }
    }

    /// Pass 3: the smallest label among the core neighbours of each of `rows` (-1: none).
    pub(super) fn border_labels(
        &self,
        rows: &[usize],
        is_core: &[bool],
        labels: &[i64],
    ) -> Result<Vec<i64>> {
        let n_nodes = self.tree.n_nodes();
        let mut min_label = vec![i64::MAX; n_nodes];
        for node in (0..n_nodes).rev() {
            let (members, leaf) = self.tree.node(node);
            min_label[node] = if leaf {
                members
                    .iter()
                    .filter(|&&i| is_core.get(i) == Some(&true))
                    .filter_map(|&i| labels.get(i).copied())
                    .min()
                    .unwrap_or(i64::MAX)
            } else {
                let child = |c: usize| min_label.get(c).copied().unwrap_or(i64::MAX);
                child(2 * node + 1).min(child(2 * node + 2))
            };
        }
        Self::per_row(rows, |q| {
            let mut b = Border {
                radius: self.radius,
                is_core,
                labels,
                min_label: &min_label,
                best: i64::MAX,
            };
            self.tree
                .visit(self.x, self.row(q), self.dist, self.inner, &mut b);
            if b.best == i64::MAX {
                -1
            } else {
                b.best
            }
        })
    }
}

/// The root of `i` in a shared union–find forest (every link points to a smaller row), with
/// path halving (a stored shortcut is always an ancestor, so racing stores are harmless).
fn find(parent: &[AtomicUsize], mut i: usize) -> usize {
    loop {
        let Some(p) = parent.get(i).map(|a| a.load(Ordering::Acquire)) else {
            return i;
        };
        if p == i {
            return i;
        }
        let gp = parent.get(p).map_or(p, |a| a.load(Ordering::Acquire));
        if gp != p {
            if let Some(a) = parent.get(i) {
                a.store(gp, Ordering::Release);
            }
        }
        i = gp;
    }
}

/// Joins the clusters of `a` and `b` (the larger root is linked to the smaller).
fn union(parent: &[AtomicUsize], a: usize, b: usize) {
    loop {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra == rb {
            return;
        }
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        match parent.get(hi) {
            Some(slot) => {
                if slot
                    .compare_exchange(hi, lo, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return;
                }
            }
            None => return,
        }
    }
}

/// Pass 1: the weighted count of the rows within the radius.
struct Count<'a> {
    radius: Radius,
    weights: Option<&'a [f64]>,
    count: f64,
    target: f64,
    /// Whether the count can only grow (no negative weight), so it may stop at `target`.
    early: bool,
}

impl Count<'_> {
    #[inline]
    fn weight(&self, i: usize) -> f64 {
        self.weights
            .map_or(1.0, |w| w.get(i).copied().unwrap_or(0.0))
    }
}

impl Visitor for Count<'_> {
    #[inline]
    fn limit(&self) -> f64 {
        if self.early && self.count >= self.target {
            -1.0
        } else {
            self.radius.loose
        }
    }

    #[inline]
    fn skip(&mut self, _node: usize) -> bool {
        false
    }

    #[inline]
    fn offer(&mut self, i: usize, rd: f64) {
        if self.radius.holds(rd) {
            self.count += self.weight(i);
        }
    }

    fn take_all(&mut self, rows: &[usize]) {
        match self.weights {
            None => self.count += rows.len() as f64,
            Some(_) => {
                for &i in rows {
                    self.count += self.weight(i);
                }
            }
        }
    }
}

/// Pass 2: links core row `q` with the core rows within the radius.
struct Link<'a> {
    q: usize,
    radius: Radius,
    is_core: &'a [bool],
    parent: &'a [AtomicUsize],
    snap: &'a [AtomicUsize],
}

impl Visitor for Link<'_> {
    #[inline]
    fn limit(&self) -> f64 {
        self.radius.loose
    }

    #[inline]
    fn skip(&mut self, node: usize) -> bool {
        match self.snap.get(node).map(|s| s.load(Ordering::Relaxed)) {
            Some(NO_CORE) => true,
            Some(MIXED) | None => false,
            Some(s) => find(self.parent, s) == find(self.parent, self.q),
        }
    }

    #[inline]
    fn offer(&mut self, i: usize, rd: f64) {
        if i != self.q && self.is_core.get(i) == Some(&true) && self.radius.holds(rd) {
            union(self.parent, self.q, i);
        }
    }

    fn take_all(&mut self, rows: &[usize]) {
        for &i in rows {
            if self.is_core.get(i) == Some(&true) {
                union(self.parent, self.q, i);
            }
        }
    }
}

/// Pass 3: the smallest label among the core rows within the radius.
struct Border<'a> {
    radius: Radius,
    is_core: &'a [bool],
    labels: &'a [i64],
    min_label: &'a [i64],
    best: i64,
}

impl Border<'_> {
    #[inline]
    fn take(&mut self, i: usize) {
        if self.is_core.get(i) == Some(&true) {
            if let Some(&l) = self.labels.get(i) {
                self.best = self.best.min(l);
            }
        }
    }
}

impl Visitor for Border<'_> {
    #[inline]
    fn limit(&self) -> f64 {
        if self.best <= 0 {
            -1.0
        } else {
            self.radius.loose
        }
    }

    #[inline]
    fn skip(&mut self, node: usize) -> bool {
        self.min_label.get(node).is_none_or(|&m| m >= self.best)
    }

    #[inline]
    fn offer(&mut self, i: usize, rd: f64) {
        if self.radius.holds(rd) {
            self.take(i);
        }
    }

    fn take_all(&mut self, rows: &[usize]) {
        for &i in rows {
            self.take(i);
        }
    }
}
