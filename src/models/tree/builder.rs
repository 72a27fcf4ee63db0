//! Growing one tree: depth-first (node ids in pre-order, as scikit-learn's
//! `DepthFirstTreeBuilder`) or best-first when `max_leaf_nodes` is set (the split with the
//! largest impurity decrease is made next, as `BestFirstTreeBuilder`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::Rng;

use super::criterion::Criterion;
use super::data::Columns;
use super::flat::{FlatTree, RawNode};
use super::params::SplitStrategy;
use super::params::TreeConfig;
use super::splitter::{
    find_split, partition, partition_kept, NodeView, Presorted, Ranks, Scratch, Split,
    MAX_RANKED_ROWS,
};

/// Impurities at or below this are pure (scikit-learn's `EPSILON`).
const EPSILON: f64 = f64::EPSILON;

/// A node whose statistics are known and whose split (if it has one) is chosen and applied
/// to the sample order.
struct Evaluated<A> {
    start: usize,
    end: usize,
    depth: usize,
    /// The split, its improvement, and the first right-hand position.
    split: Option<(Split, f64, usize)>,
    constant: Vec<bool>,
    /// The statistics of the children, when they are those [`Criterion::node_acc`] computes
    /// from the children's samples (so the children need not compute them again).
    children: (Option<A>, Option<A>),
}

struct Grower<'a, C: Criterion, R: Rng> {
    crit: &'a C,
    x: &'a Columns,
    cfg: &'a TreeConfig,
    samples: Vec<u32>,
    features: Vec<usize>,
    rng: &'a mut R,
    scratch: Scratch<C>,
    w_total: f64,
    min_weight_leaf: f64,
    raw: Vec<RawNode>,
    values: Vec<f64>,
    /// Presorted feature orders (best splitter only) and a per-row "goes left" mark.
    order: Option<Presorted>,
    goes_left: Vec<bool>,
    /// Value ranks of every feature (best splitter without presorted orders).
    ranks: Option<&'a Ranks>,
    /// Scratch space of the partition of a node's samples.
    part_tmp: Vec<u32>,
}

impl<C: Criterion, R: Rng> Grower<'_, C, R> {
    /// Computes the statistics of `samples[start..end]`, records them as a new leaf node and
    /// chooses (and applies) its split when it may be split. Returns the node's id.
    /// `acc` holds the node's statistics when its parent computed them.
    fn evaluate(
        &mut self,
        start: usize,
        end: usize,
        depth: usize,
        mut constant: Vec<bool>,
        acc: Option<C::Acc>,
    ) -> (usize, Evaluated<C::Acc>) {
        let crit = self.crit;
        let node_samples = self.samples.get(start..end).unwrap_or(&[]);
        let acc = acc.unwrap_or_else(|| crit.node_acc(node_samples));
        let n = end - start;
        let w = C::weight(&acc);
        let impurity = crit.impurity(&acc);
        let cfg = self.cfg;
        let is_leaf = depth >= cfg.max_depth
            || n < cfg.min_samples_split
            || n < 2 * cfg.min_samples_leaf
            || w < 2.0 * self.min_weight_leaf
            || impurity <= EPSILON;
        let mut split = None;
        let mut children = (None, None);
        if !is_leaf {
            let view = NodeView {
                crit,
                x: self.x,
                samples: node_samples,
                total: &acc,
                min_samples_leaf: cfg.min_samples_leaf,
                min_weight_leaf: self.min_weight_leaf,
                order: self.order.as_ref().map(|o| (o, start)),
                ranks: self.ranks,
            };
            let found = find_split(
                &view,
                cfg,
                &mut self.features,
                &mut constant,
                self.rng,
                &mut self.scratch,
            );
            if let Some(s) = found {
                let slice = self.samples.get_mut(start..end).unwrap_or(&mut []);
                let kept = self.ranks.and_then(|r| {
                    partition_kept(
                        r,
                        slice,
                        &s,
                        &self.scratch,
                        &mut self.goes_left,
                        &mut self.part_tmp,
                    )
                });
                let n_left =
                    kept.unwrap_or_else(|| partition(self.x, slice, &s, &mut self.part_tmp));
                if let Some(order) = self.order.as_mut() {
                    for (i, &smp) in slice.iter().enumerate() {
                        if let Some(m) = self.goes_left.get_mut(smp as usize) {
                            *m = i < n_left;
                        }
                    }
                    order.split(start, end, &self.goes_left, &constant);
                }
                let (l_samples, r_samples) = slice.split_at(n_left.min(slice.len()));
                let (left, right) = crit.children_acc(&acc, l_samples, r_samples);
                let improvement = crit.improvement(&acc, &left, &right, self.w_total);
                if improvement + EPSILON >= cfg.min_impurity_decrease && n_left > 0 && n_left < n {
                    split = Some((s, improvement, start + n_left));
                    children = (Some(left), C::EXACT_RIGHT.then_some(right));
                }
            }
        }
        let id = self.raw.len();
        self.raw.push(RawNode {
            split: None,
            left: 0,
            right: 0,
            impurity,
            n: n as u64,
            w,
        });
        let k = crit.n_outputs();
        let base = self.values.len();
        self.values.resize(base + k, 0.0);
        if let Some(out) = self.values.get_mut(base..base + k) {
            crit.leaf_value(&acc, out);
        }
        (
            id,
            Evaluated {
                start,
                end,
                depth,
                split,
                constant,
                children,
            },
        )
    }

    /// Turns node `id` into a split node with children `left` and `right`.
    fn link(&mut self, id: usize, split: &Split, left: usize, right: usize) {
        if let Some(node) = self.raw.get_mut(id) {
            node.split = Some((split.feature as u32, split.threshold, split.missing_go_left));
            node.left = left as u32;
            node.right = right as u32;
        }
    }

    /// Depth-first growth: ids in pre-order (a node, its left subtree, its right subtree).
    fn grow_depth_first(&mut self, n_features: usize) {
        // (start, end, depth, parent and side, constant features, statistics if known)
        type Pending<A> = (
            usize,
            usize,
            usize,
            Option<(usize, bool)>,
            Vec<bool>,
            Option<A>,
        );
        let mut stack: Vec<Pending<C::Acc>> = vec![(
            0,
            self.samples.len(),
            0,
            None,
            vec![false; n_features],
            None,
        )];
        while let Some((start, end, depth, parent, constant, acc)) = stack.pop() {
            let (id, ev) = self.evaluate(start, end, depth, constant, acc);
            if let Some((p, is_left)) = parent {
                if let Some(node) = self.raw.get_mut(p) {
                    if is_left {
                        node.left = id as u32;
                    } else {
                        node.right = id as u32;
                    }
                }
            }
            if let Some((s, _, pos)) = ev.split {
                if let Some(node) = self.raw.get_mut(id) {
                    node.split = Some((s.feature as u32, s.threshold, s.missing_go_left));
                }
                let (left, right) = ev.children;
                stack.push((
                    pos,
                    ev.end,
                    depth + 1,
                    Some((id, false)),
                    ev.constant.clone(),
                    right,
                ));
                stack.push((
                    ev.start,
                    pos,
                    depth + 1,
                    Some((id, true)),
                    ev.constant,
                    left,
                ));
            }
        }
    }

    /// Best-first growth: at most `max_leaf_nodes` leaves; the pending split with the largest
    /// improvement is made first (ties: the older node first).
    fn grow_best_first(&mut self, n_features: usize, max_leaf_nodes: usize) {
        let mut pending: Vec<Option<Evaluated<C::Acc>>> = Vec::new();
        let mut heap = BinaryHeap::new();
        let (root, ev) = self.evaluate(0, self.samples.len(), 0, vec![false; n_features], None);
        fn push<A>(
            id: usize,
            ev: Evaluated<A>,
            heap: &mut BinaryHeap<Frontier>,
            pending: &mut Vec<Option<Evaluated<A>>>,
        ) {
            if let Some((_, imp, _)) = ev.split {
                heap.push(Frontier {
                    improvement: imp,
                    id,
                });
                if pending.len() <= id {
                    pending.resize_with(id + 1, || None);
                }
                if let Some(slot) = pending.get_mut(id) {
                    *slot = Some(ev);
                }
            }
        }
        push(root, ev, &mut heap, &mut pending);
        let mut splits = 0;
        while let Some(top) = heap.pop() {
            if splits + 1 >= max_leaf_nodes {
                break;
            }
            let Some(ev) = pending.get_mut(top.id).and_then(Option::take) else {
                continue;
            };
            let Some((s, _, pos)) = ev.split else {
                continue;
            };
            let (left, right) = ev.children;
            let (l, lev) = self.evaluate(ev.start, pos, ev.depth + 1, ev.constant.clone(), left);
            let (r, rev) = self.evaluate(pos, ev.end, ev.depth + 1, ev.constant, right);
            self.link(top.id, &s, l, r);
            push(l, lev, &mut heap, &mut pending);
            push(r, rev, &mut heap, &mut pending);
            splits += 1;
        }
    }
}

/// An entry of the best-first frontier: larger improvement first, then smaller id.
struct Frontier {
    improvement: f64,
    id: usize,
}

impl PartialEq for Frontier {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Frontier {}
impl PartialOrd for Frontier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Frontier {
    fn cmp(&self, other: &Self) -> Ordering {
        self.improvement
            .total_cmp(&other.improvement)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// Whether keeping every feature's presorted order pays: it costs a stable partition of all
/// `n_features` orders at every split, against sorting only the `max_features` candidates of
/// each node (scikit-learn's way), so it pays when most features are candidates.
fn presort_pays(max_features: usize, n_features: usize) -> bool {
    2 * max_features >= n_features
}

/// Whether growing trees with `cfg` on `n_features` features reads [`Ranks`] (the best
/// splitter sorting each node's values): a forest computes them once for all its trees.
pub(crate) fn needs_ranks(cfg: &TreeConfig, x: &Columns) -> bool {
    cfg.splitter == SplitStrategy::Best
        && !presort_pays(cfg.max_features, x.n_features())
        && x.n_rows() < MAX_RANKED_ROWS
}

/// The sorting shared by the trees grown with `cfg` on `x` (computed once by a forest): value
/// ranks when they sort each node's values, row orders when they presort, `None` for random
/// splits.
pub(crate) fn shared_sort(cfg: &TreeConfig, x: &Columns) -> Option<Ranks> {
    if needs_ranks(cfg, x) {
        Some(Ranks::new(x))
    } else if cfg.splitter == SplitStrategy::Best && presort_pays(cfg.max_features, x.n_features())
    {
        Some(Ranks::ordered(x))
    } else {
        None
    }
}

/// Grows one tree with criterion `crit` on the rows `samples` of `x` (rows of zero weight
/// must be left out by the caller). `ranks` is the caller's [`shared_sort`] of `x`, if any
/// (ranks are computed here when [`needs_ranks`] and not given; presorted orders are sorted
/// here when not given).
pub(crate) fn grow<C: Criterion>(
    crit: &C,
    x: &Columns,
    ranks: Option<&Ranks>,
    cfg: &TreeConfig,
    samples: Vec<u32>,
    rng: &mut impl Rng,
) -> FlatTree {
    let mut root = crit.empty();
    for &s in &samples {
        crit.add(&mut root, s);
    }
    let w_total = C::weight(&root);
    let n_features = x.n_features();
    let (order, goes_left) = match cfg.splitter {
        SplitStrategy::Best if presort_pays(cfg.max_features, n_features) => (
            Some(Presorted::new(x, &samples, ranks)),
            vec![false; x.n_rows()],
        ),
        SplitStrategy::Best | SplitStrategy::Random => (None, Vec::new()),
    };
    let own;
    let ranks = match (needs_ranks(cfg, x), ranks) {
        (false, _) => None,
        (true, Some(r)) if r.is_ranked() => Some(r),
        (true, _) => {
            own = Ranks::new(x);
            Some(&own)
        }
    };
    let goes_left = if ranks.is_some() {
        vec![false; x.n_rows()]
    } else {
        goes_left
    };
    let mut g = Grower {
        crit,
        x,
        cfg,
        samples,
        features: (0..n_features).collect(),
        rng,
        scratch: Scratch::new(crit),
        w_total,
        min_weight_leaf: cfg.min_weight_fraction_leaf * w_total,
        raw: Vec::new(),
        values: Vec::new(),
        order,
        goes_left,
        ranks,
        part_tmp: Vec::new(),
    };
    match cfg.max_leaf_nodes {
        Some(m) => g.grow_best_first(n_features, m),
        None => g.grow_depth_first(n_features),
    }
    FlatTree::from_raw(g.raw, &g.values, crit.n_outputs())
}
