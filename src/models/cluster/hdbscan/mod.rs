//! `HDBSCAN`, as scikit-learn's (>= 1.3): hierarchical density-based clusters. The
//! *core distance* of a row is the distance to its `min_samples`-th nearest row (itself
//! included); the *mutual reachability* of two rows is `max(core_a, core_b, d(a, b) / alpha)`;
//! the minimum spanning tree of that graph (Prim's algorithm over the rows, `O(n)` memory,
//! scikit-learn's visiting order and tie-breaking) gives a single-linkage hierarchy, which is
//! condensed to clusters of at least `min_cluster_size` rows; the clusters kept are those of
//! greatest stability (`cluster_selection_method: "eom"`) or the leaves (`"leaf"`), with
//! `cluster_selection_epsilon`, `max_cluster_size` and `allow_single_cluster` as
//! scikit-learn. A model of kind *clusterer*: labels (`-1` noise) and membership strengths
//! (`probabilities`) of the training rows.
//!
//! Prediction for new rows is the `hdbscan` package's `approximate_predict` (scikit-learn has
//! no predict): the row's `2 · min_samples` nearest training rows give its core distance (the
//! `min_samples + 1`-th) and its nearest neighbour in mutual reachability; the row joins that
//! neighbour's cluster at `lambda = 1 / reachability`, climbing the condensed tree while the
//! cluster was born above that lambda; `AMLIS_OUTPUT_VALUE` is the label (`-1` noise) and
//! `AMLIS_OUTPUT_PROBA` the membership strength, `min(lambda, max lambda) / max lambda`.
//!
//! With `algorithm: "brute"` (or cosine under `"auto"`), as scikit-learn's brute path, the
//! core distances are divided by `alpha` too.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::cluster::Hdbscan;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::Array2;
//!
//! // Two grids of 20 rows, around (0, 0) and (10, 10).
//! let x = Array2::from_shape_fn((40, 2), |(i, j)| {
//!     let centre = if i < 20 { 0.0 } else { 10.0 };
//!     let step = if j == 0 { (i % 5) as f64 * 0.1 + 0.013 * (i % 7) as f64 }
//!                else { ((i / 5) % 4) as f64 * 0.1 + 0.011 * (i % 3) as f64 };
//!     centre + step
//! });
//! let model = Hdbscan::default().fit(&DenseDataset::unsupervised(x)?)?;
//! assert_eq!(model.n_clusters(), 2);
//! assert_eq!((model.labels[0], model.labels[39]), (0, 1));
//! let mut label = [0.0; 2];
//! model.predict_into(ndarray::array![[0.2, 0.2], [10.2, 10.1]].view(), &mut label)?;
//! assert_ne!(label[0], label[1]);
//! # Ok::<(), amlis::Error>(())
//! ```

mod boruvka;
mod spanning;
mod tree;

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

pub use tree::Condensed;

use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate::{check_finite, check_numeric_kinds, check_predict_shapes};
use crate::models::neighbors::{
    finite_row, Algorithm, Distance, IndexParams, Metric, NeighborIndex, Queries, Tree,
};
use crate::traits::{
    Dataset, FitContext, Model, Outputs, Predictor, ProbabilisticPredictor, Trainer,
};

const NAME: &str = <Hdbscan as Trainer>::NAME;

/// The most features for which a brute-force index still gets a tree for the spanning tree
/// (scikit-learn's `auto` rule: trees up to 15 features); above, Prim's scan.
const MAX_TREE_FEATURES: usize = 15;

/// Rows per block of prediction.
const PREDICT_BLOCK: usize = 512;

/// The settings of HDBSCAN, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hdbscan {
    /// The fewest rows of a cluster (default 5), >= 2.
    pub min_cluster_size: usize,
    /// The neighbours of a core distance, the row itself included (default: none, i.e.
    /// `min_cluster_size`), >= 1 and at most the number of rows.
    pub min_samples: Option<usize>,
    /// Clusters split below this distance are merged (default 0), >= 0.
    pub cluster_selection_epsilon: f64,
    /// The largest cluster `"eom"` may select (default: none).
    pub max_cluster_size: Option<usize>,
    /// `"euclidean"` (default), `"manhattan"`, `"chebyshev"`, `"minkowski"` (with `p`),
    /// `"cosine"`.
    pub metric: Metric,
    /// The power of `minkowski` (default 2).
    pub p: f64,
    /// Distances are divided by `alpha` (default 1), > 0.
    pub alpha: f64,
    /// The search of the core distances (`"auto"`, `"brute"`, `"kd_tree"`, `"ball_tree"`).
    pub algorithm: Algorithm,
    /// Rows per leaf of the trees (default 40).
    pub leaf_size: usize,
    /// `"eom"` (excess of mass, default) or `"leaf"`.
    pub cluster_selection_method: String,
    /// Whether the root may be the one cluster (default false).
    pub allow_single_cluster: bool,
}

impl Default for Hdbscan {
    fn default() -> Self {
        Self {
            min_cluster_size: 5,
            min_samples: None,
            cluster_selection_epsilon: 0.0,
            max_cluster_size: None,
            metric: Metric::Euclidean,
            p: 2.0,
            alpha: 1.0,
            algorithm: Algorithm::Auto,
            leaf_size: 40,
            cluster_selection_method: "eom".into(),
            allow_single_cluster: false,
        }
    }
}

crate::models::kit::setters!(Hdbscan {
    min_cluster_size: usize,
    min_samples: usize => Some,
    cluster_selection_epsilon: f64,
    max_cluster_size: usize => Some,
    metric: Metric,
    p: f64,
    alpha: f64,
    algorithm: Algorithm,
    leaf_size: usize,
    cluster_selection_method: String,
    allow_single_cluster: bool,
});

/// A fitted [`Hdbscan`], with the `hdbscan` package's prediction data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HdbscanModel {
    /// The cluster of every training row, `-1` for noise (`labels_`).
    pub labels: Vec<i64>,
    /// The membership strength of every training row (`probabilities_`).
    pub probabilities: Vec<f64>,
    /// The training rows, indexed.
    pub index: NeighborIndex,
    /// `min_samples` as used.
    pub min_samples: usize,
    /// The core distance of every training row.
    pub core_distances: Vec<f64>,
    /// Per training row: the condensed-tree cluster it leaves and the lambda it leaves at.
    pub point_parent: Vec<usize>,
    /// Per training row: the lambda at which it leaves `point_parent`.
    pub point_lambda: Vec<f64>,
    /// Per cluster `n + c` of the condensed tree (`c` = 0 is the root): its parent cluster
    /// (the root's is itself).
    pub cluster_parent: Vec<usize>,
    /// Per cluster: the lambda of its birth (0 for the root).
    pub cluster_lambda: Vec<f64>,
    /// Per cluster: the label of the selected cluster it lies in, or -1.
    pub cluster_label: Vec<i64>,
    /// Per cluster: the largest lambda of its selected cluster (0 when none).
    pub cluster_max_lambda: Vec<f64>,
}

impl Hdbscan {
    /// Checks every setting that does not depend on the data; returns whether `leaf` is the
    /// selection method.
    fn checked(&self) -> Result<bool> {
        if self.min_cluster_size < 2 {
            return Err(Error::param(
                "min_cluster_size",
                self.min_cluster_size,
                "an integer >= 2",
            ));
        }
        if self.min_samples == Some(0) {
            return Err(Error::param("min_samples", 0, "an integer >= 1 or null"));
        }
        if !(self.cluster_selection_epsilon.is_finite() && self.cluster_selection_epsilon >= 0.0) {
            return Err(Error::param(
                "cluster_selection_epsilon",
                self.cluster_selection_epsilon,
                "a finite value >= 0",
            ));
        }
        if self.max_cluster_size == Some(0) {
            return Err(Error::param(
                "max_cluster_size",
                0,
                "an integer >= 1 or null",
            ));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::param("alpha", self.alpha, "a finite value > 0"));
        }
        let leaf = match self.cluster_selection_method.as_str() {
            "eom" => false,
            "leaf" => true,
            other => {
                return Err(Error::param(
                    "cluster_selection_method",
                    format!("{other:?}"),
                    "\"eom\" or \"leaf\"",
                ))
            }
        };
        self.index_params().check()?;
        Ok(leaf)
    }

    fn index_params(&self) -> IndexParams {
        IndexParams {
            metric: self.metric,
            p: self.p,
            algorithm: self.algorithm,
            leaf_size: self.leaf_size,
        }
    }
}

impl Trainer for Hdbscan {
    type Model = HdbscanModel;
    const NAME: &'static str = "hdbscan";

    /// Clusters the rows; a target is not needed (a given one is ignored); sample weights are
    /// not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let leaf = self.checked()?;
        let n = data.n_samples();
        if n < 2 {
            return Err(Error::Empty(format!(
                "{NAME}: {n} rows; at least 2 are needed"
            )));
        }
        let min_samples = self.min_samples.unwrap_or(self.min_cluster_size);
        if min_samples > n {
            return Err(Error::param(
                "min_samples",
                min_samples,
                &format!("at most the number of rows ({n})"),
            ));
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        check_finite(NAME, features.view(), data.feature_names())?;
        let params = self.index_params();
        let dist = params.check()?;
        let brute = params.resolved(n, features.ncols(), min_samples)? == Algorithm::Brute
            && (self.algorithm == Algorithm::Brute || dist == Distance::Cosine);
        ctx.install(|| {
            let index = NeighborIndex::build(features.view(), &params, min_samples)?;
            let knn = index.kneighbors(Queries::Fitted, min_samples)?;
            let core_distances: Vec<f64> = knn.distances.column(min_samples - 1).to_vec();
            let mst_core: Vec<f64> = if brute {
                core_distances.iter().map(|c| c / self.alpha).collect()
            } else {
                core_distances.clone()
            };
            let space = spanning::Space {
                x: index.search_space(),
                d: index.n_features(),
                dist: index.distance_kind(),
            };
            let own;
            let tree = match index.tree() {
                Some(t) => Some(t),
                None if dist.tree_ok() && space.d <= MAX_TREE_FEATURES => {
                    own = Tree::build(
                        space.x,
                        n,
                        space.d,
                        self.leaf_size,
                        space.dist,
                        space.dist == Distance::Cosine,
                    );
                    Some(&own)
                }
                None => None,
            };
            let mst = match tree {
                Some(tree) => {
                    boruvka::boruvka_mst(&space, tree, &mst_core, self.alpha, knn.indices.view())
                }
                None => spanning::prim_mst_fast(&space, &mst_core, self.alpha),
            };
            let linkage = tree::single_linkage(mst);
            let condensed = tree::condense(&linkage, self.min_cluster_size);
            let selection = tree::Selection {
                leaf,
                allow_single_cluster: self.allow_single_cluster,
                epsilon: self.cluster_selection_epsilon,
                max_cluster_size: self.max_cluster_size,
            };
            let clusters = tree::select(&condensed, n, &selection);
            Ok(prediction_data(
                index,
                min_samples,
                core_distances,
                &condensed,
                clusters,
            ))
        })?
    }
}

/// The model with the `hdbscan` package's prediction data (`PredictionData`).
fn prediction_data(
    index: NeighborIndex,
    min_samples: usize,
    core_distances: Vec<f64>,
    condensed: &[Condensed],
    clusters: tree::Clusters,
) -> HdbscanModel {
    let n = core_distances.len();
    let max_id = condensed
        .iter()
        .map(|r| r.child.max(r.parent))
        .max()
        .unwrap_or(n)
        .max(n);
    let n_clusters = max_id + 1 - n;
    let mut point_parent = vec![n; n];
    let mut point_lambda = vec![0.0; n];
    let mut cluster_parent: Vec<usize> = (n..=max_id).collect();
    let mut cluster_lambda = vec![0.0; n_clusters];
    let mut true_max = vec![f64::NEG_INFINITY; n_clusters];
    for r in condensed {
        if r.child < n {
            point_parent[r.child] = r.parent;
            point_lambda[r.child] = r.lambda;
        } else {
            cluster_parent[r.child - n] = r.parent;
            cluster_lambda[r.child - n] = r.lambda;
        }
        let m = &mut true_max[r.parent - n];
        *m = m.max(r.lambda);
    }
    // Every cluster below a selected one takes its label and largest lambda.
    let mut cluster_label = vec![-1i64; n_clusters];
    let mut cluster_max_lambda = vec![0.0; n_clusters];
    for (label, &c) in clusters.selected.iter().enumerate() {
        cluster_label[c - n] = label as i64;
        cluster_max_lambda[c - n] = true_max[c - n].max(0.0);
    }
    // Children have larger ids than their parents: one ascending pass propagates down.
    for c in 1..n_clusters {
        let p = cluster_parent[c] - n;
        if cluster_label[c] < 0 && cluster_label[p] >= 0 {
            cluster_label[c] = cluster_label[p];
            cluster_max_lambda[c] = cluster_max_lambda[p];
        }
    }
    HdbscanModel {
        labels: clusters.labels,
        probabilities: clusters.probabilities,
        index,
        min_samples,
        core_distances,
        point_parent,
        point_lambda,
        cluster_parent,
        cluster_lambda,
        cluster_label,
        cluster_max_lambda,
    }
}

impl HdbscanModel {
    /// The number of clusters found.
    pub fn n_clusters(&self) -> usize {
        self.labels
            .iter()
            .copied()
            .max()
            .map_or(0, |m| usize::try_from(m + 1).unwrap_or(0))
    }

    /// `approximate_predict` of one row: (label, membership strength).
    fn approximate(&self, row: ArrayView1<'_, f64>, index: usize) -> Result<(f64, f64)> {
        let row = row
            .as_slice()
            .ok_or_else(|| Error::shape(NAME, "a contiguous row", "a strided row"))?;
        finite_row(NAME, row, index)?;
        let n = self.core_distances.len();
        if self.cluster_parent.len() <= 1 || self.n_clusters() == 0 {
            return Ok((-1.0, 0.0));
        }
        let k = (2 * self.min_samples).min(n);
        let (nearest, lambda) = self.index.with_kneighbors_of_row(row, k, |idx, dist| {
            let own_core = dist
                .get(self.min_samples.min(dist.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0);
            let mut best = (usize::MAX, f64::INFINITY);
            for (&j, &d) in idx.iter().zip(dist) {
                let core = self.core_distances.get(j).copied().unwrap_or(0.0);
                let mr = core.max(own_core).max(d);
                if mr < best.1 {
                    best = (j, mr);
                }
            }
            let lambda = if best.1 > 0.0 { 1.0 / best.1 } else { f64::MAX };
            (best.0, lambda)
        })?;
        let (Some(&parent), Some(&point_lambda)) = (
            self.point_parent.get(nearest),
            self.point_lambda.get(nearest),
        ) else {
            return Ok((-1.0, 0.0));
        };
        let mut c = parent.saturating_sub(n);
        if point_lambda > lambda {
            // Climb while the cluster was born at or above the row's lambda (at most one
            // step per level: parents have smaller ids, so this ends).
            while c > 0 && self.cluster_lambda.get(c).is_some_and(|&l| l >= lambda) {
                let up = self
                    .cluster_parent
                    .get(c)
                    .map_or(0, |&p| p.saturating_sub(n));
                if up >= c {
                    break;
                }
                c = up;
            }
        }
        let label = self.cluster_label.get(c).copied().unwrap_or(-1);
        if label < 0 {
            return Ok((-1.0, 0.0));
        }
        let max_lambda = self.cluster_max_lambda.get(c).copied().unwrap_or(0.0);
        let prob = if max_lambda > 0.0 {
            lambda.min(max_lambda) / max_lambda
        } else {
            1.0
        };
        Ok((label as f64, prob))
    }

    fn batch(&self, x: ArrayView2<'_, f64>, out: &mut [f64], proba: bool) -> Result<()> {
        check_predict_shapes(NAME, x, self.index.n_features(), out.len(), 1)?;
        let x = x.as_standard_layout();
        let bad = first_of_blocks(out, PREDICT_BLOCK, |b, chunk| {
            for (r, o) in chunk.iter_mut().enumerate() {
                let i = b * PREDICT_BLOCK + r;
                match self.approximate(x.row(i), i) {
                    Ok((l, p)) => *o = if proba { p } else { l },
                    Err(e) => return Some(e),
                }
            }
            None
        });
        bad.map_or(Ok(()), Err)
    }

    fn row(&self, row: &[f64], out: &mut [f64], proba: bool) -> Result<()> {
        if row.len() != self.index.n_features() || out.len() != 1 {
            return Err(Error::shape(
                "hdbscan predict_row",
                format!("{} values in, 1 out", self.index.n_features()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        let (l, p) = self.approximate(ArrayView1::from(row), 0)?;
        out[0] = if proba { p } else { l };
        Ok(())
    }
}

impl Model for HdbscanModel {
    fn n_features(&self) -> usize {
        self.index.n_features()
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        let n = self.index.n_samples();
        if self.min_samples == 0 || self.min_samples > n {
            return corrupt(format!("min_samples = {} for {n} rows", self.min_samples));
        }
        let lens = [
            ("labels", self.labels.len()),
            ("probabilities", self.probabilities.len()),
            ("core_distances", self.core_distances.len()),
            ("point_parent", self.point_parent.len()),
            ("point_lambda", self.point_lambda.len()),
        ];
        if let Some((name, len)) = lens.iter().find(|(_, len)| *len != n) {
            return corrupt(format!("{len} values of {name} for {n} rows"));
        }
        let m = self.cluster_parent.len();
        if m == 0
            || self.cluster_lambda.len() != m
            || self.cluster_label.len() != m
            || self.cluster_max_lambda.len() != m
        {
            return corrupt("the cluster arrays differ in length".into());
        }
        let in_clusters = |c: usize| c >= n && c - n < m;
        if self.point_parent.iter().any(|&c| !in_clusters(c))
            || self
                .cluster_parent
                .iter()
                .enumerate()
                .any(|(c, &p)| !in_clusters(p) || (c > 0 && p - n >= c))
        {
            return corrupt("a condensed-tree parent out of range".into());
        }
        let k = self.labels.iter().copied().max().unwrap_or(-1);
        if self
            .labels
            .iter()
            .chain(&self.cluster_label)
            .any(|&l| l < -1 || l > k)
        {
            return corrupt("a label out of range".into());
        }
        if self
            .core_distances
            .iter()
            .chain(&self.cluster_max_lambda)
            .any(|v| !(v.is_finite() && *v >= 0.0))
            || self
                .point_lambda
                .iter()
                .chain(&self.cluster_lambda)
                .any(|v| v.is_nan() || *v < 0.0)
        {
            return corrupt("a negative or non-finite distance or lambda".into());
        }
        Ok(())
    }
}

/// The approximate label of each row (`approximate_predict`).
impl Predictor for HdbscanModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, false)
    }

    /// Allocation-free after the first call on a thread.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row(row, out, false)
    }
}

/// One column: the membership strength of `approximate_predict`.
impl ProbabilisticPredictor for HdbscanModel {
    fn n_classes(&self) -> usize {
        1
    }

    fn classes(&self) -> &[String] {
        static MEMBERSHIP: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        MEMBERSHIP.get_or_init(|| vec!["membership".to_string()])
    }

    fn predict_proba_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, true)
    }

    /// Allocation-free after the first call on a thread.
    fn predict_proba_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        self.row(row, out, true)
    }
}

impl Outputs for HdbscanModel {
    fn as_probabilistic(&self) -> Option<&dyn ProbabilisticPredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let d =
            DenseDataset::unsupervised(array![[0.0], [1.0], [2.0], [3.0], [4.0], [9.0]]).unwrap();
        let bad = |m: Hdbscan, name: &str| match m.fit(&d) {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        };
        bad(Hdbscan::default().min_cluster_size(1), "min_cluster_size");
        bad(Hdbscan::default().min_samples(0), "min_samples");
        bad(Hdbscan::default().min_samples(7), "min_samples");
        bad(
            Hdbscan::default().cluster_selection_epsilon(-1.0),
            "cluster_selection_epsilon",
        );
        bad(Hdbscan::default().max_cluster_size(0), "max_cluster_size");
        bad(Hdbscan::default().alpha(0.0), "alpha");
        bad(
            Hdbscan::default().cluster_selection_method("mass".into()),
            "cluster_selection_method",
        );
        bad(Hdbscan::default().leaf_size(0), "leaf_size");
    }

    #[test]
    fn corrupt_state_is_an_error_and_predictions_follow_the_clusters() {
        let x = ndarray::Array2::from_shape_fn((30, 2), |(i, j)| {
            (if i < 15 { 0.0 } else { 8.0 }) + ((i * 5 + j) % 4) as f64 * 0.2
        });
        let m = Hdbscan::default()
            .fit(&DenseDataset::unsupervised(x.clone()).unwrap())
            .unwrap();
        m.validate().unwrap();
        assert_eq!(m.n_clusters(), 2);
        let mut out = [0.0];
        m.predict_row_into(&[0.1, 0.1], &mut out).unwrap();
        assert_eq!(out[0], m.labels[0] as f64);
        m.predict_proba_row_into(&[0.1, 0.1], &mut out).unwrap();
        assert!(out[0] > 0.0 && out[0] <= 1.0);
        let mut bad = m.clone();
        bad.point_parent[0] = 0;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.cluster_parent[1] = 1 << 40;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.cluster_label.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m;
        bad.min_samples = 100;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }
}
