//! `LocalOutlierFactor`, as scikit-learn's: the local density of a row (the inverse of the
//! mean *reachability distance* `max(d(x, o), k-distance(o))` to its `n_neighbors` nearest
//! rows `o`) compared with that of its neighbours. A model of kind *outlier detector*: it
//! fits without a target; `AMLIS_OUTPUT_VALUE` is `+1` (inlier) or `-1` (outlier: a score
//! below `offset`), `AMLIS_OUTPUT_SCORE` is scikit-learn's `score_samples` (the negated local
//! outlier factor: lower is more abnormal).
//!
//! As scikit-learn: `n_neighbors` is capped at `n − 1`; the training rows' neighbours exclude
//! the row itself ([`Queries::FittedWithoutSelf`]); densities are
//! `1 / (mean reachability + 1e-10)`, so duplicate rows (reachability 0) stay finite; the
//! model keeps `negative_outlier_factor` of the training rows; `offset` is −1.5 for
//! `contamination: "auto"`, else the `100 · contamination` percentile of
//! `negative_outlier_factor`. New rows are scored only with `novelty: true` (scikit-learn's
//! `predict` / `score_samples` exist only then); with `novelty: false` predicting is an error
//! naming `novelty`, and the training rows' labels are [`LocalOutlierFactorModel::labels`]
//! (scikit-learn's `fit_predict`).
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::neighbors::LocalOutlierFactor;
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[-1.1], [0.2], [101.1], [0.3]];
//! let model = LocalOutlierFactor::default().n_neighbors(2).fit(&DenseDataset::unsupervised(x.clone())?)?;
//! assert_eq!(model.labels(), vec![1.0, 1.0, -1.0, 1.0]);
//! assert!((model.negative_outlier_factor[2] + 73.36970).abs() < 1e-4);
//! assert!(model.predict(x.view()).is_err()); // novelty = false
//! let novel = LocalOutlierFactor::default().n_neighbors(2).novelty(true)
//!     .fit(&DenseDataset::unsupervised(x)?)?;
//! assert_eq!(novel.predict(array![[0.0], [50.0]].view())?.to_vec(), vec![1.0, -1.0]);
//! # Ok::<(), amlis::Error>(())
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::index::{IndexParams, NeighborIndex, Queries};
use super::metric::Metric;
use super::{finite_row, Algorithm};
use crate::common::stats::percentile_linear;
use crate::error::{Error, Result};
use crate::models::kit::validate::{check_finite, check_numeric_kinds, check_predict_shapes};
use crate::traits::{Dataset, FitContext, Model, Outputs, Predictor, ScorePredictor, Trainer};

const NAME: &str = <LocalOutlierFactor as Trainer>::NAME;

/// scikit-learn's guard against a zero mean reachability distance (duplicates).
const DENSITY_GUARD: f64 = 1e-10;

pub use crate::models::kit::Contamination;

/// The settings of local outlier factor, with scikit-learn's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalOutlierFactor {
    /// Neighbours per row (default 20), >= 1; capped at the number of rows − 1.
    pub n_neighbors: usize,
    /// The distance (default `"minkowski"` with `p = 2`).
    pub metric: Metric,
    /// The power of `minkowski` (default 2).
    pub p: f64,
    /// The neighbour search (all give the same result).
    pub algorithm: Algorithm,
    /// Rows per leaf of the trees (default 30).
    pub leaf_size: usize,
    /// `"auto"` or the fraction of outliers, which sets `offset`.
    pub contamination: Contamination,
    /// Whether the model scores new rows (default false: it describes its training rows).
    pub novelty: bool,
}

impl Default for LocalOutlierFactor {
    fn default() -> Self {
        let index = IndexParams::default();
        Self {
            n_neighbors: 20,
            metric: index.metric,
            p: index.p,
            algorithm: index.algorithm,
            leaf_size: index.leaf_size,
            contamination: Contamination::default(),
            novelty: false,
        }
    }
}

crate::models::kit::setters!(LocalOutlierFactor {
    n_neighbors: usize,
    metric: Metric,
    p: f64,
    algorithm: Algorithm,
    leaf_size: usize,
    contamination: Contamination,
    novelty: bool,
});

/// A fitted [`LocalOutlierFactor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalOutlierFactorModel {
    /// The training rows, indexed.
    pub index: NeighborIndex,
    /// The neighbours used (`min(n_neighbors, n − 1)`, scikit-learn's `n_neighbors_`).
    pub n_neighbors: usize,
    /// The distance of every training row to its `n_neighbors`-th neighbour.
    pub k_distance: Vec<f64>,
    /// The local reachability density of every training row.
    pub lrd: Vec<f64>,
    /// The negated local outlier factor of every training row
    /// (`negative_outlier_factor_`).
    pub negative_outlier_factor: Vec<f64>,
    /// Rows scoring below it are outliers (`offset_`).
    pub offset: f64,
    /// Whether new rows may be scored.
    pub novelty: bool,
}

impl LocalOutlierFactor {
    fn index_params(&self) -> IndexParams {
        IndexParams {
            metric: self.metric,
            p: self.p,
            algorithm: self.algorithm,
            leaf_size: self.leaf_size,
        }
    }

    /// Checks every setting that does not depend on the data; returns the contamination
    /// fraction (`None` for auto).
    fn checked(&self) -> Result<Option<f64>> {
        if self.n_neighbors == 0 {
            return Err(Error::param("n_neighbors", 0, "an integer >= 1"));
        }
        let contamination = self.contamination.fraction()?;
        self.index_params().check()?;
        Ok(contamination)
    }
}

/// `1 / (mean reachability + 1e-10)` of a row with neighbours `idx` at distances `dist`.
fn density(idx: &[usize], dist: &[f64], k_distance: &[f64]) -> f64 {
    let sum: f64 = idx
        .iter()
        .zip(dist)
        .map(|(&j, &d)| d.max(k_distance.get(j).copied().unwrap_or(0.0)))
        .sum();
    1.0 / (sum / idx.len().max(1) as f64 + DENSITY_GUARD)
}

/// `−mean(lrd[o] / own)` over the neighbours `o`.
fn negative_factor(idx: &[usize], lrd: &[f64], own: f64) -> f64 {
    let sum: f64 = idx
        .iter()
        .map(|&j| lrd.get(j).copied().unwrap_or(0.0) / own)
        .sum();
    -(sum / idx.len().max(1) as f64)
}

impl Trainer for LocalOutlierFactor {
    type Model = LocalOutlierFactorModel;
    const NAME: &'static str = "local_outlier_factor";

    /// Scores the training rows; a target is not needed (a given one is ignored); sample
    /// weights are not used (scikit-learn has none).
    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<Self::Model> {
        let contamination = self.checked()?;
        let n = data.n_samples();
        if n < 2 {
            return Err(Error::Empty(format!(
                "{NAME}: {n} rows; at least 2 are needed (each row's neighbours exclude itself)"
            )));
        }
        check_numeric_kinds(NAME, data.feature_kinds(), data.feature_names())?;
        let features = data.features();
        check_finite(NAME, features.view(), data.feature_names())?;
        let k = self.n_neighbors.min(n - 1);
        ctx.install(|| {
            let index =
                NeighborIndex::build(features.view(), &self.index_params(), self.n_neighbors)?;
            let knn = index.kneighbors(Queries::FittedWithoutSelf, k)?;
            let k_distance: Vec<f64> = knn.distances.column(k - 1).to_vec();
            let (indices, distances) = (knn.indices.view(), knn.distances.view());
            let lrd: Vec<f64> = indices
                .outer_iter()
                .zip(distances.outer_iter())
                .map(|(idx, dist)| {
                    density(
                        idx.to_slice().unwrap_or(&[]),
                        dist.to_slice().unwrap_or(&[]),
                        &k_distance,
                    )
                })
                .collect();
            let negative_outlier_factor: Vec<f64> = indices
                .outer_iter()
                .zip(&lrd)
                .map(|(idx, &own)| negative_factor(idx.to_slice().unwrap_or(&[]), &lrd, own))
                .collect();
            let offset = match contamination {
                None => -1.5,
                Some(c) => percentile_linear(&negative_outlier_factor, 100.0 * c)
                    .ok_or_else(|| Error::Empty(format!("{NAME}: no score")))?,
            };
            Ok(LocalOutlierFactorModel {
                index,
                n_neighbors: k,
                k_distance,
                lrd,
                negative_outlier_factor,
                offset,
                novelty: self.novelty,
            })
        })?
    }
}

impl LocalOutlierFactorModel {
    /// The training rows' labels, `+1` inlier / `−1` outlier (scikit-learn's `fit_predict`).
    pub fn labels(&self) -> Vec<f64> {
        self.negative_outlier_factor
            .iter()
            .map(|&s| if s < self.offset { -1.0 } else { 1.0 })
            .collect()
    }

    fn check_novelty(&self) -> Result<()> {
        if self.novelty {
            Ok(())
        } else {
            Err(Error::Unsupported(format!(
                "{NAME} fitted with novelty = false describes its training rows only \
                 (negative_outlier_factor, labels); fit with \"novelty\": true to score new rows"
            )))
        }
    }

    /// The score (`score_samples`) of one new row from its neighbours.
    fn score_of(&self, idx: &[usize], dist: &[f64]) -> f64 {
        let own = density(idx, dist, &self.k_distance);
        negative_factor(idx, &self.lrd, own)
    }

    /// Writes the score of every row of `x`, or the label (`as_label`).
    fn batch(&self, x: ArrayView2<'_, f64>, out: &mut [f64], as_label: bool) -> Result<()> {
        check_predict_shapes(NAME, x, self.index.n_features(), out.len(), 1)?;
        self.check_novelty()?;
        for (i, row) in x.outer_iter().enumerate() {
            if row.iter().any(|v| !v.is_finite()) {
                finite_row(NAME, &row.to_vec(), i)?;
            }
        }
        let mut pos = 0;
        self.index.kneighbors_blocks(
            Queries::Rows(x),
            self.n_neighbors,
            |b| {
                (0..b.len())
                    .map(|r| {
                        let (idx, dist) = b.row(r);
                        self.score_of(idx, dist)
                    })
                    .collect::<Vec<f64>>()
            },
            |scores| {
                for s in scores {
                    if let Some(o) = out.get_mut(pos) {
                        *o = if as_label { self.label_of(s) } else { s };
                    }
                    pos += 1;
                }
                Ok(())
            },
        )
    }

    fn label_of(&self, score: f64) -> f64 {
        if score - self.offset < 0.0 {
            -1.0
        } else {
            1.0
        }
    }

    /// The score of one row (allocation-free after the first call on a thread).
    fn row_score(&self, row: &[f64], out: &mut [f64], context: &str) -> Result<f64> {
        if row.len() != self.index.n_features() || out.len() != 1 {
            return Err(Error::shape(
                context,
                format!("{} values in, 1 out", self.index.n_features()),
                format!("{} in, {} out", row.len(), out.len()),
            ));
        }
        self.check_novelty()?;
        finite_row(NAME, row, 0)?;
        self.index
            .with_kneighbors_of_row(row, self.n_neighbors, |idx, dist| self.score_of(idx, dist))
    }
}

impl Model for LocalOutlierFactorModel {
    fn n_features(&self) -> usize {
        self.index.n_features()
    }

    fn validate(&self) -> Result<()> {
        let corrupt = |m: String| Err(Error::ModelCorrupt(format!("fitted {NAME}: {m}")));
        let n = self.index.n_samples();
        if self.n_neighbors == 0 || self.n_neighbors > n {
            return corrupt(format!("n_neighbors = {} for {n} rows", self.n_neighbors));
        }
        for (name, v) in [
            ("k_distance", &self.k_distance),
            ("lrd", &self.lrd),
            ("negative_outlier_factor", &self.negative_outlier_factor),
        ] {
            if v.len() != n {
                return corrupt(format!("{} values of {name} for {n} rows", v.len()));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return corrupt(format!("a non-finite value in {name}"));
            }
        }
        if self.lrd.iter().any(|&v| v <= 0.0) || self.k_distance.iter().any(|&v| v < 0.0) {
            return corrupt("a density <= 0 or a negative distance".into());
        }
        if !self.offset.is_finite() {
            return corrupt(format!("offset = {}", self.offset));
        }
        Ok(())
    }
}

/// `+1` inlier, `−1` outlier (`score_samples(x) < offset`); `novelty: true` only.
impl Predictor for LocalOutlierFactorModel {
    fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, true)
    }

    /// Allocation-free after the first call on a thread.
    fn predict_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let s = self.row_score(row, out, "local_outlier_factor predict_row")?;
        out[0] = self.label_of(s);
        Ok(())
    }
}

/// scikit-learn's `score_samples`: the negated local outlier factor (lower is more abnormal);
/// `novelty: true` only.
impl ScorePredictor for LocalOutlierFactorModel {
    fn n_scores(&self) -> usize {
        1
    }

    fn score_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.batch(x, out, false)
    }

    /// Allocation-free after the first call on a thread.
    fn score_row_into(&self, row: &[f64], out: &mut [f64]) -> Result<()> {
        let s = self.row_score(row, out, "local_outlier_factor score_row")?;
        out[0] = s;
        Ok(())
    }
}

impl Outputs for LocalOutlierFactorModel {
    fn as_scorer(&self) -> Option<&dyn ScorePredictor> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DenseDataset;
    use ndarray::array;

    fn data() -> DenseDataset {
        DenseDataset::unsupervised(array![[0.0], [0.0], [1.0], [2.0], [10.0]]).unwrap()
    }

    #[test]
    fn bad_settings_are_errors_naming_the_parameter() {
        let bad = |m: LocalOutlierFactor, name: &str| {
            let err = m.fit(&data()).err();
            assert_eq!(
                err.as_ref().and_then(Error::parameter),
                Some(name),
                "{err:?}"
            );
        };
        bad(LocalOutlierFactor::default().n_neighbors(0), "n_neighbors");
        for c in [0.0, 0.6, f64::NAN] {
            bad(
                LocalOutlierFactor::default().contamination(Contamination::Fraction(c)),
                "contamination",
            );
        }
        bad(
            LocalOutlierFactor::default().contamination(Contamination::Auto("x".into())),
            "contamination",
        );
        bad(LocalOutlierFactor::default().leaf_size(0), "leaf_size");
        let one = DenseDataset::unsupervised(array![[0.0]]).unwrap();
        assert!(LocalOutlierFactor::default().fit(&one).is_err());
    }

    #[test]
    fn duplicates_stay_finite_and_novelty_false_refuses_new_rows() {
        let m = LocalOutlierFactor::default()
            .n_neighbors(1)
            .fit(&data())
            .unwrap();
        assert_eq!(m.n_neighbors, 1);
        assert!(m.negative_outlier_factor.iter().all(|v| v.is_finite()));
        let e = m.predict(array![[0.0]].view()).unwrap_err();
        assert!(e.to_string().contains("novelty"), "{e}");
        let mut out = [0.0];
        assert!(m.score_row_into(&[0.0], &mut out).is_err());
        let mut bad = m.clone();
        bad.lrd.pop();
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
        let mut bad = m;
        bad.n_neighbors = 9;
        assert!(matches!(bad.validate(), Err(Error::ModelCorrupt(_))));
    }
}
