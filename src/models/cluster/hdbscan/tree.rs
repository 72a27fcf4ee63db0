//! The cluster hierarchy of HDBSCAN, as scikit-learn's `_linkage.pyx` and `_tree.pyx`: the
//! minimum spanning tree of the mutual-reachability graph (Prim's algorithm on the rows,
//! `O(n)` memory), the single-linkage tree it gives, the condensed tree (clusters of at least
//! `min_cluster_size` rows), cluster stabilities, the selection of clusters (excess of mass or
//! leaves, `cluster_selection_epsilon`, `max_cluster_size`, `allow_single_cluster`), and the
//! labels and membership probabilities of the rows. Every step visits rows and clusters in
//! scikit-learn's order, so its ties are broken the same way (the one exception: edges of
//! equal weight are sorted stably by their order in the tree, where scikit-learn's sort is
//! not stable).

use serde::{Deserialize, Serialize};

/// One merge of the single-linkage tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Merge {
    pub left: usize,
    pub right: usize,
    pub value: f64,
    pub size: usize,
}

/// One row of the condensed tree: `child` (a row when `< n`, else a cluster) leaves `parent`
/// at `lambda = 1 / distance`, with `size` rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Condensed {
    /// The parent cluster (clusters are numbered from `n`, the root).
    pub parent: usize,
    /// The child: a training row (`< n`) or a cluster.
    pub child: usize,
    /// `1 / distance` at which the child leaves the parent (infinite at distance 0).
    pub lambda: f64,
    /// The number of rows of the child.
    pub size: usize,
}

/// Prim's minimum spanning tree of the mutual-reachability graph,
/// `max(core_i, core_j, d(i, j) / alpha)`, from row 0 (scikit-learn's
/// `mst_from_data_matrix`, same visiting order and strict comparisons). `dist(i, j)` is the
/// distance of two rows. The reference of the parallel scan the fit uses
/// ([`super::spanning::prim_mst_fast`]).
#[cfg(test)]
pub(crate) fn prim_mst(
    n: usize,
    core: &[f64],
    alpha: f64,
    dist: impl Fn(usize, usize) -> f64,
) -> Vec<(usize, usize, f64)> {
    let mut mst = Vec::with_capacity(n.saturating_sub(1));
    let mut in_tree = vec![false; n];
    let mut min_reach = vec![f64::INFINITY; n];
    let mut sources = vec![1usize; n];
    let mut current = 0usize;
    for _ in 1..n {
        in_tree[current] = true;
        let current_core = core[current];
        let mut new_reach = f64::MAX;
        let (mut source, mut new_node) = (0usize, 0usize);
        for j in 0..n {
            if in_tree[j] {
                continue;
            }
            let next_min = min_reach[j];
            let next_source = sources[j];
            let pair = dist(current, j) / alpha;
            let mr = current_core.max(core[j]).max(pair);
            if mr < next_min {
                min_reach[j] = mr;
                sources[j] = current;
                if mr < new_reach {
                    new_reach = mr;
                    source = current;
                    new_node = j;
                }
            } else if next_min < new_reach {
                new_reach = next_min;
                source = next_source;
                new_node = j;
            }
        }
        mst.push((source, new_node, new_reach));
        current = new_node;
    }
    mst
}

/// The single-linkage tree of the MST edges sorted by weight (stably).
pub(crate) fn single_linkage(mut mst: Vec<(usize, usize, f64)>) -> Vec<Merge> {
    mst.sort_by(|a, b| a.2.total_cmp(&b.2));
    let n = mst.len() + 1;
    let mut parent = vec![usize::MAX; 2 * n - 1];
    let mut size: Vec<usize> = (0..2 * n - 1).map(|i| usize::from(i < n)).collect();
    let mut next = n;
    let find = |parent: &mut Vec<usize>, mut x: usize| {
        let mut p = x;
        while parent[x] != usize::MAX {
            x = parent[x];
        }
        while parent[p] != x && parent[p] != usize::MAX {
            let up = parent[p];
            parent[p] = x;
            p = up;
        }
        x
    };
    let mut out = Vec::with_capacity(n - 1);
    for (a, b, value) in mst {
        let (l, r) = (find(&mut parent, a), find(&mut parent, b));
        out.push(Merge {
            left: l,
            right: r,
            value,
            size: size[l] + size[r],
        });
        parent[l] = next;
        parent[r] = next;
        size[next] = size[l] + size[r];
        next += 1;
    }
    out
}

/// The nodes under `root` in scikit-learn's breadth-first order (`bfs_from_hierarchy`).
fn bfs_hierarchy(h: &[Merge], root: usize) -> Vec<usize> {
    let n = h.len() + 1;
    let mut result = Vec::new();
    let mut queue = vec![root];
    while !queue.is_empty() {
        result.extend_from_slice(&queue);
        let mut next = Vec::new();
        for &x in &queue {
            if x >= n {
                let m = h[x - n];
                next.push(m.left);
                next.push(m.right);
            }
        }
        queue = next;
    }
    result
}

/// scikit-learn's `_condense_tree`.
pub(crate) fn condense(h: &[Merge], min_cluster_size: usize) -> Vec<Condensed> {
    let n = h.len() + 1;
    let root = 2 * h.len();
    let mut next_label = n + 1;
    let nodes = bfs_hierarchy(h, root);
    let mut relabel = vec![0usize; root + 1];
    relabel[root] = n;
    let mut ignore = vec![false; root + 1];
    let mut out = Vec::new();
    let count = |x: usize| if x >= n { h[x - n].size } else { 1 };
    for &node in &nodes {
        if ignore[node] || node < n {
            continue;
        }
        let m = h[node - n];
        let lambda = if m.value > 0.0 {
            1.0 / m.value
        } else {
            f64::INFINITY
        };
        let (lc, rc) = (count(m.left), count(m.right));
        let parent = relabel[node];
        let fall_out = |sub: usize, out: &mut Vec<Condensed>, ignore: &mut Vec<bool>| {
            for s in bfs_hierarchy(h, sub) {
                if s < n {
                    out.push(Condensed {
                        parent,
                        child: s,
                        lambda,
                        size: 1,
                    });
                }
                ignore[s] = true;
            }
        };
        if lc >= min_cluster_size && rc >= min_cluster_size {
            for (c, size) in [(m.left, lc), (m.right, rc)] {
                relabel[c] = next_label;
                next_label += 1;
                out.push(Condensed {
                    parent,
                    child: relabel[c],
                    lambda,
                    size,
                });
            }
        } else if lc < min_cluster_size && rc < min_cluster_size {
            fall_out(m.left, &mut out, &mut ignore);
            fall_out(m.right, &mut out, &mut ignore);
        } else if lc < min_cluster_size {
            relabel[m.right] = parent;
            fall_out(m.left, &mut out, &mut ignore);
        } else {
            relabel[m.left] = parent;
            fall_out(m.right, &mut out, &mut ignore);
        }
    }
    out
}

/// The settings of the cluster selection.
pub(crate) struct Selection {
    pub leaf: bool,
    pub allow_single_cluster: bool,
    pub epsilon: f64,
    pub max_cluster_size: Option<usize>,
}

/// The clusters chosen: labels and probabilities of the rows, and the selected clusters of
/// the condensed tree in label order.
pub(crate) struct Clusters {
    pub labels: Vec<i64>,
    pub probabilities: Vec<f64>,
    pub selected: Vec<usize>,
}

/// The cluster-only rows of the condensed tree under `root`, breadth first
/// (`bfs_from_cluster_tree`).
fn bfs_clusters(tree: &[Condensed], root: usize) -> Vec<usize> {
    let mut result = Vec::new();
    let mut queue = vec![root];
    while !queue.is_empty() {
        result.extend_from_slice(&queue);
        queue = tree
            .iter()
            .filter(|r| queue.contains(&r.parent))
            .map(|r| r.child)
            .collect();
    }
    result
}

/// scikit-learn's `traverse_upwards`.
fn traverse_upwards(tree: &[Condensed], epsilon: f64, leaf: usize, allow_single: bool) -> usize {
    let root = tree.iter().map(|r| r.parent).min().unwrap_or(0);
    let Some(parent) = tree.iter().find(|r| r.child == leaf).map(|r| r.parent) else {
        return leaf;
    };
    if parent == root {
        return if allow_single { parent } else { leaf };
    }
    let parent_eps = tree
        .iter()
        .find(|r| r.child == parent)
        .map_or(f64::INFINITY, |r| 1.0 / r.lambda);
    if parent_eps > epsilon {
        parent
    } else {
        traverse_upwards(tree, epsilon, parent, allow_single)
    }
}

/// scikit-learn's `epsilon_search` (leaves visited in ascending order).
fn epsilon_search(
    leaves: &[usize],
    tree: &[Condensed],
    epsilon: f64,
    allow_single: bool,
) -> Vec<usize> {
    let mut selected = Vec::new();
    let mut processed = Vec::new();
    for &leaf in leaves {
        let eps = tree
            .iter()
            .find(|r| r.child == leaf)
            .map_or(f64::INFINITY, |r| 1.0 / r.lambda);
        if eps < epsilon {
            if !processed.contains(&leaf) {
                let up = traverse_upwards(tree, epsilon, leaf, allow_single);
                selected.push(up);
                processed.extend(bfs_clusters(tree, up).into_iter().filter(|&s| s != up));
            }
        } else {
            selected.push(leaf);
        }
    }
    selected.sort_unstable();
    selected.dedup();
    selected
}

/// scikit-learn's `tree_to_labels` after the condensed tree: stabilities, selection,
/// labelling, probabilities.
pub(crate) fn select(condensed: &[Condensed], n: usize, s: &Selection) -> Clusters {
    let root = n;
    let max_id = condensed
        .iter()
        .map(|r| r.child.max(r.parent))
        .max()
        .unwrap_or(root)
        .max(root);
    // Stabilities (`_compute_stability`).
    let mut births = vec![f64::NAN; max_id + 1];
    for r in condensed {
        births[r.child] = r.lambda;
    }
    births[root] = 0.0;
    let mut stability = vec![0.0; max_id + 1];
    for r in condensed {
        stability[r.parent] += (r.lambda - births[r.parent]) * r.size as f64;
    }
    let max_parent = condensed.iter().map(|r| r.parent).max().unwrap_or(root);
    // The clusters, children before parents (`sorted(stability, reverse=True)`).
    let mut nodes: Vec<usize> = (root..=max_parent).rev().collect();
    if !s.allow_single_cluster {
        nodes.pop();
    }
    let cluster_tree: Vec<Condensed> = condensed.iter().copied().filter(|r| r.size > 1).collect();
    let mut is_cluster = vec![false; max_id + 1];
    for &c in &nodes {
        is_cluster[c] = true;
    }
    let max_size = s.max_cluster_size.unwrap_or(n + 1);
    let mut sizes = vec![0usize; max_id + 1];
    for r in &cluster_tree {
        sizes[r.child] = r.size;
    }
    if s.allow_single_cluster {
        sizes[root] = cluster_tree
            .iter()
            .filter(|r| r.parent == root)
            .map(|r| r.size)
            .sum();
    }
    if !s.leaf {
        for &node in &nodes {
            let sub: f64 = cluster_tree
                .iter()
                .filter(|r| r.parent == node)
                .map(|r| stability[r.child])
                .sum();
            if sub > stability[node] || sizes[node] > max_size {
                is_cluster[node] = false;
                stability[node] = sub;
            } else {
                for d in bfs_clusters(&cluster_tree, node) {
                    if d != node {
                        is_cluster[d] = false;
                    }
                }
            }
        }
        if s.epsilon != 0.0 && !cluster_tree.is_empty() {
            let eom: Vec<usize> = nodes
                .iter()
                .copied()
                .filter(|&c| is_cluster[c])
                .rev()
                .collect();
            let tree_root = cluster_tree.iter().map(|r| r.parent).min().unwrap_or(root);
            let chosen = if eom.len() == 1 && eom[0] == tree_root {
                if s.allow_single_cluster {
                    eom
                } else {
                    Vec::new()
                }
            } else {
                epsilon_search(&eom, &cluster_tree, s.epsilon, s.allow_single_cluster)
            };
            for &c in &nodes {
                is_cluster[c] = chosen.contains(&c);
            }
        }
    } else {
        let mut leaves: Vec<usize> = if cluster_tree.is_empty() {
            Vec::new()
        } else {
            let tree_root = cluster_tree.iter().map(|r| r.parent).min().unwrap_or(root);
            bfs_clusters(&cluster_tree, tree_root)
                .into_iter()
                .filter(|&c| !cluster_tree.iter().any(|r| r.parent == c))
                .collect()
        };
        leaves.sort_unstable();
        let mut with_root = nodes.clone();
        if leaves.is_empty() {
            for &c in &nodes {
                is_cluster[c] = false;
            }
            is_cluster[root] = true;
            if !with_root.contains(&root) {
                with_root.push(root);
            }
        }
        let chosen = if s.epsilon != 0.0 {
            epsilon_search(&leaves, &cluster_tree, s.epsilon, s.allow_single_cluster)
        } else {
            leaves
        };
        for &c in &with_root {
            is_cluster[c] = chosen.contains(&c);
        }
    }
    let selected: Vec<usize> = (root..=max_id).filter(|&c| is_cluster[c]).collect();
    let label_of = |c: usize| selected.binary_search(&c).ok().map(|l| l as i64);
    // Labelling (`_do_labelling`): each row's topmost node below a selected cluster (or the
    // root); rows are top-down, so a parent's component is known before its children's.
    let mut comp: Vec<usize> = (0..=max_id).collect();
    for r in condensed {
        comp[r.child] = if is_cluster[r.child] {
            r.child
        } else {
            comp[r.parent]
        };
    }
    let single_root = selected.len() == 1 && s.allow_single_cluster;
    let root_threshold = if s.epsilon != 0.0 {
        1.0 / s.epsilon
    } else {
        condensed
            .iter()
            .filter(|r| r.parent == root)
            .map(|r| r.lambda)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let mut point_lambda = vec![0.0; n];
    for r in condensed.iter().filter(|r| r.child < n) {
        point_lambda[r.child] = r.lambda;
    }
    let labels: Vec<i64> = (0..n)
        .map(|i| {
            let c = comp[i];
            if c != root {
                label_of(c).unwrap_or(-1)
            } else if single_root && point_lambda[i] >= root_threshold {
                label_of(root).unwrap_or(-1)
            } else {
                -1
            }
        })
        .collect();
    // Probabilities (`get_probabilities` with `max_lambdas`, contiguous runs of a parent).
    let deaths = max_lambdas(condensed, max_id);
    let mut probabilities = vec![0.0; n];
    for r in condensed.iter().filter(|r| r.child < root) {
        let Some(&l) = labels.get(r.child) else {
            continue;
        };
        if l < 0 {
            continue;
        }
        let cluster = selected[l as usize];
        let max_lambda = deaths[cluster];
        probabilities[r.child] = if max_lambda == 0.0 || r.lambda.is_infinite() {
            1.0
        } else {
            r.lambda.min(max_lambda) / max_lambda
        };
    }
    Clusters {
        labels,
        probabilities,
        selected,
    }
}

/// scikit-learn's `max_lambdas`: the largest lambda of each parent's last contiguous run of
/// rows.
pub(crate) fn max_lambdas(condensed: &[Condensed], max_id: usize) -> Vec<f64> {
    let mut deaths = vec![0.0; max_id + 1];
    let Some(first) = condensed.first() else {
        return deaths;
    };
    let (mut current, mut max_lambda) = (first.parent, first.lambda);
    for r in &condensed[1..] {
        if r.parent == current {
            max_lambda = max_lambda.max(r.lambda);
        } else {
            deaths[current] = max_lambda;
            current = r.parent;
            max_lambda = r.lambda;
        }
    }
    deaths[current] = max_lambda;
    deaths
}
