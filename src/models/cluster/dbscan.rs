//! `DBSCAN`, as scikit-learn's: density-based clusters of the rows that have at least
//! `min_samples` (weighted) rows within `eps` (themselves included: *core samples*), joined
//! through chains of core samples, with the non-core rows within `eps` of a core sample as
//! their border; every other row is noise (label `-1`). A model of kind *clusterer*: it fits
//! without a target and predicts a cluster label per row (`AMLIS_OUTPUT_VALUE`).
//!
//! The labels are scikit-learn's, numbering included: clusters are numbered in the order of
//! their first core sample (scikit-learn's `dbscan_inner` grows a cluster from each
//! unlabelled core sample, row 0 upward), and a border row within `eps` of several clusters
//! takes the one numbered first (the first that reaches it). Memory stays
//! `O(n + the neighbourhoods of the rows in flight)`: three streamed passes of radius
//! queries over fixed blocks of rows ([`NeighborIndex::radius_blocks`]) — the weighted
//! neighbour counts (core flags), the links between core samples (a union–find), and the
//! cluster of each non-core row — never every neighbourhood at once.
//!
//! Prediction for new rows (scikit-learn's `DBSCAN` has no `predict`): the cluster of the
//! nearest core sample within `eps` (the earlier core sample on a tie of distances), else
//! `-1`. For a training row this is its label when it is a core sample or noise; a border
//! row may get another cluster that reaches it at a smaller distance.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::cluster::Dbscan;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[1.0, 2.0], [2.0, 2.0], [2.0, 3.0], [8.0, 7.0], [8.0, 8.0], [25.0, 80.0]];
//! let model = Dbscan::default().eps(3.0).min_samples(2).fit(&DenseDataset::unsupervised(x)?)?;
//! assert_eq!(model.labels, vec![0, 0, 0, 1, 1, -1]);
//! assert_eq!(model.core_sample_indices, vec![0, 1, 2, 3, 4]);
//! let mut label = [0.0; 2];
//! model.predict_into(array![[-5.0, -5.0], [9.0, 9.0]].view(), &mut label)?;
//! assert_eq!(label, [-1.0, 1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::dbscan_tree::TreePasses;
use crate::common::parallel::first_of_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate::{check_finite, check_numeric_kinds, check_predict_shapes};
use crate::models::neighbors::{
    finite_row, Algorithm, IndexParams, Metric, NeighborIndex, Queries,
};
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, Trainer};

const NAME: &str = <Dbscan as Trainer>::NAME;

/// Rows per block of prediction.
const PREDICT_BLOCK: usize = 1024;

/// scikit-learn's `NearestNeighbors` default `n_neighbors`, which its `algorithm="auto"`
/// reads when DBSCAN builds its index.
const AUTO_K: usize = 5;

/// The settings of DBSCAN, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dbscan {
    /// The radius of a neighbourhood (default 0.5), > 0; rows at distance `<= eps` are
    /// neighbours.
    pub eps: f64,
    /// The (weighted) number of rows within `eps`, the row itself included, that makes a
    /// core sample (default 5), >= 1.
    pub min_samples: usize,
    /// The distance (default `"minkowski"` with `p = 2`, i.e. euclidean).
    pub metric: Metric,
    /// The power of `minkowski` (default 2).
    pub p: f64,
    /// The neighbour search: `"auto"`, `"brute"`, `"kd_tree"`, `"ball_tree"` (all give the
    /// same clusters).
    pub algorithm: Algorithm,
    /// Rows per leaf of the trees (default 30).
    pub leaf_size: usize,
}

impl Default for Dbscan {
    fn default() -> Self {
        let index = IndexParams::default();
        Self {
            eps: 0.5,
            min_samples: 5,
            metric: index.metric,
            p: index.p,
            algorithm: index.algorithm,
            leaf_size: index.leaf_size,
        }
    }
}

crate::models::kit::setters!(Dbscan {
    eps: f64,
    min_samples: usize,
    metric: Metric,
    p: f64,
    algorithm: Algorithm,
    leaf_size: usize,
});

/// A fitted [`Dbscan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbscanModel {
    /// The cluster of every training row, `-1` for noise (scikit-learn's `labels_`).
    pub labels: Vec<i64>,
    /// The training rows that are core samples, ascending (`core_sample_indices_`).
    pub core_sample_indices: Vec<usize>,
    /// The radius of a neighbourhood.
    pub eps: f64,
    /// The core samples (scikit-learn's `components_`, the rows of the index), indexed for
    /// prediction with the trainer's metric and algorithm.
    pub components: NeighborIndex,
    /// The number of input features.
    pub n_features: usize,
}

impl Dbscan {
    fn index_params(&self) -> IndexParams {
        IndexParams {
            metric: self.metric,
            p: self.p,
            algorithm: self.algorithm,
            leaf_size: self.leaf_size,
        }
    }

    /// Checks every setting that does not depend on the data.
    fn checked(&self) -> Result<IndexParams> {
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::param("eps", self.eps, "a finite value > 0"));
        }
        if self.min_samples == 0 {
            return Err(Error::param("min_samples", 0, "an integer >= 1"));
        }
        let params = self.index_params();
        params.check()?;
        Ok(params)
    }
}

/// The root of `i` in a union–find forest, halving paths on the way.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while let Some(&p) = parent.get(i) {
        if p == i {
            break;
        }
        let gp = parent.get(p).copied().unwrap_or(p);
        if let Some(slot) = parent.get_mut(i) {
            *slot = gp;
        }
        i = gp;
    }
    i
}

impl Trainer for Dbscan {
    type Model = DbscanModel;
    const NAME: &'static str = "dbscan";

    /// Clusters the rows; a target is not needed (a given one is ignored); sample weights are
    /// scikit-learn's `sample_weight` (any finite values: a row of weight >= `min_samples`
    /// is a core sample by itself, a negative weight can keep a neighbour from being one).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let params = self.checked()?;
        let n = data.n_samples();
        let p = data.n_features();
        if n == 0 {
            return Err(Error::Empty(format!("{NAME}: no rows to fit on")));
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        check_finite(NAME, features.view(), data.feature_names())?;
        let weights = data.weights().map(|w| w.to_vec());
        if let Some(i) = weights
            .as_ref()
            .and_then(|w| w.iter().position(|v| !v.is_finite()))
        {
            return Err(Error::InvalidValue {
                context: format!("{NAME} sample weights"),
                row: i,
                column: None,
                message: "sample weights must be finite".into(),
            });
        }
        let eps = self.eps;
        let min_samples = self.min_samples as f64;
        ctx.install(|| {
            let index = NeighborIndex::build(features.view(), &params, AUTO_K)?;
            let (core, labels) = match TreePasses::new(&index, eps) {
                Some(passes) => tree_passes(&passes, n, weights.as_deref(), min_samples)?,
                None => streamed_passes(&index, n, eps, weights.as_deref(), min_samples)?,
            };
            let components = features.select(ndarray::Axis(0), &core);
            let components = NeighborIndex::build(components.view(), &params, AUTO_K)?;
            Ok(DbscanModel {
                labels,
                core_sample_indices: core,
                eps,
                components,
                n_features: p,
            })
        })?
    }
}

/// Numbers the clusters in the order of their first core sample, from the root (the first
/// core sample) of each core sample's cluster.
fn number_clusters(core: &[usize], root_of: impl Fn(usize) -> usize, n: usize) -> Vec<i64> {
    let mut labels = vec![-1i64; n];
    let mut next = 0i64;
    for &i in core {
        let root = root_of(i);
        let label = if root == i {
            next += 1;
            next - 1
        } else {
            labels.get(root).copied().unwrap_or(-1)
        };
        if let Some(slot) = labels.get_mut(i) {
            *slot = label;
        }
    }
    labels
}

/// The passes over a tree index ([`TreePasses`]): (core samples, labels).
fn tree_passes(
    passes: &TreePasses<'_>,
    n: usize,
    weights: Option<&[f64]>,
    min_samples: f64,
) -> Result<(Vec<usize>, Vec<i64>)> {
    let is_core = passes.core_flags(weights, min_samples)?;
    let core: Vec<usize> = (0..n).filter(|&i| is_core[i]).collect();
    let roots = passes.core_roots(&is_core)?;
    let mut labels = number_clusters(&core, |i| roots.get(i).copied().unwrap_or(i), n);
    let others: Vec<usize> = (0..n).filter(|&i| !is_core[i]).collect();
    let border = passes.border_labels(&others, &is_core, &labels)?;
    for (&i, l) in others.iter().zip(border) {
        labels[i] = l;
    }
    Ok((core, labels))
}

/// The passes over a brute-force index, streamed through [`NeighborIndex::radius_blocks`]:
/// (core samples, labels).
fn streamed_passes(
    index: &NeighborIndex,
    n: usize,
    eps: f64,
    weights: Option<&[f64]>,
    min_samples: f64,
) -> Result<(Vec<usize>, Vec<i64>)> {
    // Pass 1: the (weighted) neighbour count of every row, hence the core samples.
    let mut is_core = Vec::with_capacity(n);
    index.radius_blocks(
        Queries::Fitted,
        eps,
        |b| {
            (0..b.len())
                .map(|r| {
                    let (nb, _) = b.row(r);
                    let count = match &weights {
                        None => nb.len() as f64,
                        Some(w) => nb.iter().map(|&j| w.get(j).copied().unwrap_or(0.0)).sum(),
                    };
                    count >= min_samples
                })
                .collect::<Vec<bool>>()
        },
        |flags| {
            is_core.extend(flags);
            Ok(())
        },
    )?;
    let core: Vec<usize> = (0..n).filter(|&i| is_core[i]).collect();
    // Pass 2: core samples within eps of each other are in one cluster.
    let mut parent: Vec<usize> = (0..n).collect();
    index.radius_blocks(
        Queries::FittedRows(&core),
        eps,
        |b| {
            let mut links = Vec::new();
            for r in 0..b.len() {
                let i = core.get(b.start + r).copied().unwrap_or(0);
                let (nb, _) = b.row(r);
                links.extend(
                    nb.iter()
                        .filter(|&&j| j < i && is_core.get(j) == Some(&true))
                        .map(|&j| (i, j)),
                );
            }
            links
        },
        |links| {
            for (i, j) in links {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                let (lo, hi) = (a.min(b), a.max(b));
                if let Some(slot) = parent.get_mut(hi) {
                    *slot = lo;
                }
            }
            Ok(())
        },
    )?;
    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
    let mut labels = number_clusters(&core, |i| roots.get(i).copied().unwrap_or(i), n);
    // Pass 3: a non-core row joins the first-numbered cluster among its core
    // neighbours (the first cluster scikit-learn's expansion reaches it from).
    let others: Vec<usize> = (0..n).filter(|&i| !is_core[i]).collect();
    let mut border = Vec::with_capacity(others.len());
    {
        let labels = &labels;
        index.radius_blocks(
            Queries::FittedRows(&others),
            eps,
            |b| {
                (0..b.len())
                    .map(|r| {
                        let (nb, _) = b.row(r);
                        nb.iter()
                            .filter(|&&j| is_core.get(j) == Some(&true))
                            .filter_map(|&j| labels.get(j).copied())
                            .min()
                            .unwrap_or(-1)
                    })
                    .collect::<Vec<i64>>()
            },
            |l| {
                border.extend(l);
                Ok(())
            },
        )?;
    }
    for (&i, l) in others.iter().zip(border) {
        labels[i] = l;
    }
    Ok((core, labels))
}

impl DbscanModel {
    /// The number of clusters found.
    pub fn n_clusters(&self) -> usize {
        self.labels
            .iter()
            .copied()
            .max()
            .map_or(0, |m| usize::try_from(m + 1).unwrap_or(0))
    }

    /// The cluster of `row`: that of its nearest core sample within `eps`, else -1.
    fn label(&self, row: ArrayView1<'_, f64>, index: usize) -> Result<f64> {
        let row = row
            .as_slice()
            .ok_or_else(|| Error::shape(NAME, "a contiguous row", "a strided row"))?;
        finite_row(NAME, row, index)?;
        Ok(match self.components.nearest_within(row, self.eps)? {
            None => -1.0,
            Some((j, _)) => self
                .core_sample_indices
                .get(j)
                .and_then(|&i| self.labels.get(i))
                .map_or(-1.0, |&l| l as f64),
        })
    }
}

impl Model for DbscanModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return corrupt(format!("eps = {}", self.eps));
        }
        if self.components.n_features() != self.n_features
            || self.components.n_samples() != self.core_sample_indices.len()
        {
            return corrupt(format!(
                "{} core samples of {} features for {} core indices of {} features",
                self.components.n_samples(),
                self.components.n_features(),
                self.core_sample_indices.len(),
                self.n_features
            ));
        }
        let n = self.labels.len();
        if self.core_sample_indices.windows(2).any(|w| w[0] >= w[1])
            || self.core_sample_indices.last().is_some_and(|&i| i >= n)
        {
            return corrupt(format!("core sample indices not ascending in 0..{n}"));
        }
        if self.labels.iter().any(|&l| l < -1) {
            return corrupt("a label below -1".into());
        }
        if self
            .core_sample_indices
            .iter()
            .any(|&i| self.labels.get(i).is_none_or(|&l| l < 0))
        {
            return corrupt("a core sample labelled as noise".into());
        }
        Ok(())
    }
}

impl Predictor for DbscanModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        check_predict_shapes(NAME, x, self.n_features, out.len(), 1)?;
        let x = x.as_standard_layout();
        let bad = first_of_blocks(out, PREDICT_BLOCK, |b, chunk| {
            for (r, o) in chunk.iter_mut().enumerate() {
                let i = b * PREDICT_BLOCK + r;
                match self.label(x.row(i), i) {
                    Ok(v) => *o = v,
                    Err(e) => return Some(e),
                }
            }
            None
        });
        bad.map_or(Ok(()), Err)
    }

    /// Allocation-free.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.n_features || out.len() != 1 {
            return Err(Error::shape(
                "dbscan predict_row",
                format!("{} values in, 1 out", self.n_features),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        out[0] = self.label(ArrayView1::from(row), 0)?;
        Ok(())
    }
}

impl Outputs for DbscanModel {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    fn data() -> DenseDataset {
        DenseDataset::unsupervised(array![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [9.0, 9.0],
            [9.0, 10.0],
            [10.0, 9.0],
            [5.0, 5.0]
        ])
        .unwrap()
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let bad = |m: Dbscan, name: &str| {
            let err = m.fit(&data()).err();
            assert_eq!(
                err.as_ref().and_then(Error::parameter),
                Some(name),
                "{err:?}"
            );
        };
        bad(Dbscan::default().eps(0.0), "eps");
        bad(Dbscan::default().eps(f64::NAN), "eps");
        bad(Dbscan::default().min_samples(0), "min_samples");
        bad(Dbscan::default().p(-1.0), "p");
        bad(Dbscan::default().leaf_size(0), "leaf_size");
        bad(
            Dbscan::default()
                .metric(Metric::Cosine)
                .algorithm(Algorithm::KdTree),
            "algorithm",
        );
    }

    #[test]
    fn weights_make_core_samples_and_labels_follow_first_core() {
        let m = Dbscan::default()
            .eps(1.5)
            .min_samples(3)
            .fit(&data())
            .unwrap();
        assert_eq!(m.labels, vec![0, 0, 0, 1, 1, 1, -1]);
        assert_eq!(m.n_clusters(), 2);
        let w = ndarray::Array1::from(vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0]);
        let m = Dbscan::default()
            .eps(1.5)
            .min_samples(3)
            .fit(&data().with_weights(w).unwrap())
            .unwrap();
        assert_eq!(m.labels, vec![0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(m.core_sample_indices, vec![0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn corrupt_state_is_an_error() {
        let m = Dbscan::default()
            .eps(1.5)
            .min_samples(3)
            .fit(&data())
            .unwrap();
        m.validate().unwrap();
        let mut bad = m.clone();
        bad.core_sample_indices.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.labels.truncate(3);
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m.clone();
        bad.labels[0] = -1;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m;
        bad.n_features = 3;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }
}
