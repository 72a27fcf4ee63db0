//! `CategoricalNB`, as scikit-learn's: every feature holds category codes `0, 1, 2, ...`
//! (e.g. from an `ordinal_encoder` step), with a categorical distribution per class and
//! feature: `feature_log_prob_[j][c, v] = log((count + α) / Σ_v' (count + α))`.
//!
//! A category never seen with a class has count 0 and gets the smoothed probability
//! `α / Σ (count + α)`. A code beyond the categories seen in training (and beyond
//! `min_categories`) is treated the same way, as unseen (scikit-learn would fail on it with an
//! index error). A negative, non-integer or missing value is an error naming its row and
//! column.
//!
//! ```
//! use amlis::data::DenseDataset;
//! use amlis::models::naive_bayes::{CategoricalNb, NaiveBayes};
//! use amlis::traits::{Predictor, Trainer};
//! use ndarray::array;
//!
//! let x = array![[0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [1.0, 0.0]];
//! let data = DenseDataset::classification(x.clone(), array![0.0, 0.0, 1.0, 1.0])?;
//! let model = CategoricalNb::default().fit(&data)?;
//! assert_eq!(model.predict(x.view())?.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
//! // Category 7 of the second feature was never seen: smoothed, not an error.
//! let unseen = model.predict_log_proba(array![[0.0, 7.0]].view())?;
//! assert!(unseen[[0, 0]] > unseen[[0, 1]]);
//! assert!(model.predict(array![[0.5, 1.0]].view()).is_err());
//! # Ok::<(), amlis::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use super::discrete::{check_prior, check_spec, class_log_prior, read_chunk, spec_of, FiniteCheck};
use super::posterior::{bad_value, NaiveBayes};
use crate::common::parallel::map_fold_blocks;
use crate::error::{Error, Result};
use crate::models::kit::validate::feature_name;
use crate::traits::{
    Dataset, FitContext, Incremental, IncrementalLearner, Model, StreamSpec, Trainer,
};

const NAME: &str = <CategoricalNb as Trainer>::NAME;

/// The largest category code accepted (codes index count arrays).
const MAX_CODE: f64 = 16_777_215.0;

/// `min_categories`: the least number of categories of every feature, or of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MinCategories {
    /// The same minimum for every feature.
    All(usize),
    /// One minimum per feature.
    PerFeature(Vec<usize>),
}

/// `CategoricalNB` hyperparameters (config type `categorical_nb`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoricalNb {
    /// Additive smoothing, `>= 0`.
    pub alpha: f64,
    /// Keep `alpha` as given; when false, a value below `1e-10` becomes `1e-10`.
    pub force_alpha: bool,
    /// Learn the class priors from the data (otherwise uniform).
    pub fit_prior: bool,
    /// Prior probability of each class (overrides `fit_prior`).
    pub class_prior: Option<Vec<f64>>,
    /// The least number of categories per feature (a number, or one per feature, `>= 1`).
    pub min_categories: Option<MinCategories>,
}

impl Default for CategoricalNb {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            force_alpha: true,
            fit_prior: true,
            class_prior: None,
            min_categories: None,
        }
    }
}

crate::models::kit::setters!(CategoricalNb {
    alpha: f64,
    force_alpha: bool,
    fit_prior: bool,
    class_prior: Vec<f64> => Some,
    min_categories: MinCategories => Some,
});

impl CategoricalNb {
    fn check(&self, spec: &StreamSpec) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::param("alpha", self.alpha, "a finite value >= 0"));
        }
        check_prior(
            "class_prior",
            self.class_prior.as_deref(),
            spec.classes.len(),
        )?;
        match &self.min_categories {
            Some(MinCategories::All(0)) => Err(Error::param("min_categories", 0, ">= 1")),
            Some(MinCategories::PerFeature(v)) if v.len() != spec.n_features => Err(Error::param(
                "min_categories",
                format!("{} values", v.len()),
                &format!("a number or one value per feature ({})", spec.n_features),
            )),
            Some(MinCategories::PerFeature(v)) if v.contains(&0) => Err(Error::param(
                "min_categories",
                format!("{v:?}"),
                "values >= 1",
            )),
            _ => Ok(()),
        }
    }

    fn min_categories_of(&self, j: usize) -> usize {
        match &self.min_categories {
            None => 0,
            Some(MinCategories::All(m)) => *m,
            Some(MinCategories::PerFeature(v)) => v.get(j).copied().unwrap_or(0),
        }
    }

    fn effective_alpha(&self) -> f64 {
        if self.force_alpha {
            self.alpha
        } else {
            self.alpha.max(1e-10)
        }
    }
}

/// A categorical naive Bayes model under streaming training: the counts so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalNbLearner {
    params: CategoricalNb,
    classes: Vec<String>,
    n_features: usize,
    class_count: Vec<f64>,
    /// Per feature, `k × n_categories` weighted counts (class-major).
    category_count: Vec<Vec<f64>>,
    n_categories: Vec<usize>,
}

/// The category code of `v`, or why it is not one.
fn code_of(v: f64) -> std::result::Result<usize, String> {
    if !v.is_finite() {
        Err(format!("{v} is not a category code (a whole number >= 0)"))
    } else if v < 0.0 {
        Err(format!(
            "negative value {v} in data passed to CategoricalNB (input X): category codes are >= 0"
        ))
    } else if v.fract() != 0.0 {
        Err(format!(
            "{v} is not a category code (a whole number >= 0); encode categories first, e.g. \
             with an `ordinal_encoder` step"
        ))
    } else if v > MAX_CODE {
        Err(format!("category code {v} is larger than {MAX_CODE}"))
    } else {
        Ok(v as usize)
    }
}

impl CategoricalNbLearner {
    /// A learner for the stream `spec` describes.
    pub fn new(params: CategoricalNb, spec: &StreamSpec) -> Result<Self> {
        check_spec(NAME, spec)?;
        params.check(spec)?;
        Ok(Self {
            classes: spec.classes.clone(),
            n_features: spec.n_features,
            class_count: vec![0.0; spec.classes.len()],
            category_count: vec![Vec::new(); spec.n_features],
            n_categories: vec![0; spec.n_features],
            params,
        })
    }

    /// Adds a chunk's counts.
    pub fn partial_fit(&mut self, data: &dyn Dataset) -> Result<()> {
        let spec = StreamSpec {
            n_features: self.n_features,
            classes: self.classes.clone(),
        };
        let chunk = read_chunk(data, NAME, &spec, false, FiniteCheck::OnRead)?;
        let (k, p) = (self.classes.len(), self.n_features);
        let flat = chunk.flat();
        // Check every code first (the first bad value in row order), and the widths.
        let mut width: Vec<usize> = (0..p).map(|j| self.params.min_categories_of(j)).collect();
        for (at, &v) in flat.iter().enumerate() {
            let (i, j) = (at / p.max(1), at % p.max(1));
            let code = code_of(v)
                .map_err(|m| bad_value(NAME, i, feature_name(data.feature_names(), j), m))?;
            width[j] = width[j].max(code + 1);
        }
        for (&c, w) in chunk.y.iter().zip(chunk.weights()) {
            if let Some(t) = self.class_count.get_mut(c as usize) {
                *t += w;
            }
        }
        let chunk = &chunk;
        let (old, old_n) = (&self.category_count, &self.n_categories);
        let mut grown: Vec<(Vec<f64>, usize)> = Vec::with_capacity(p);
        map_fold_blocks(
            p,
            |j| {
                let n_old = old_n[j];
                let n_new = n_old.max(width[j]);
                let mut counts = vec![0.0; k * n_new];
                for c in 0..k {
                    if let (Some(dst), Some(src)) = (
                        counts.get_mut(c * n_new..c * n_new + n_old),
                        old[j].get(c * n_old..(c + 1) * n_old),
                    ) {
                        dst.copy_from_slice(src);
                    }
                }
                for (i, (&c, wi)) in chunk.y.iter().zip(chunk.weights()).enumerate() {
                    let code = flat.get(i * p + j).map_or(0, |&v| v as usize);
                    if let Some(slot) = counts.get_mut(c as usize * n_new + code) {
                        *slot += wi;
                    }
                }
                (counts, n_new)
            },
            |_, r| {
                grown.push(r);
                Ok(())
            },
        )?;
        for (j, (counts, n)) in grown.into_iter().enumerate() {
            self.category_count[j] = counts;
            self.n_categories[j] = n;
        }
        Ok(())
    }

    /// The model learned so far.
    pub fn model(&self) -> Result<CategoricalNbModel> {
        let k = self.classes.len();
        let alpha = self.params.effective_alpha();
        let mut feature_log_prob = Vec::with_capacity(self.n_features);
        let mut unseen = Vec::with_capacity(self.n_features * k);
        for (counts, &n) in self.category_count.iter().zip(&self.n_categories) {
            let mut flp = Vec::with_capacity(counts.len());
            for c in 0..k {
                let row = counts.get(c * n..(c + 1) * n).unwrap_or(&[]);
                let total = row.iter().map(|v| v + alpha).sum::<f64>().ln();
                flp.extend(row.iter().map(|v| (v + alpha).ln() - total));
                unseen.push(alpha.ln() - total);
            }
            feature_log_prob.push(flp);
        }
        Ok(CategoricalNbModel {
            classes: self.classes.clone(),
            n_features: self.n_features,
            class_log_prior: class_log_prior(
                &self.class_count,
                self.params.fit_prior,
                self.params.class_prior.as_deref(),
            ),
            class_count: self.class_count.clone(),
            n_categories: self.n_categories.clone(),
            category_count: self.category_count.clone(),
            feature_log_prob,
            unseen_log_prob: unseen,
        })
    }
}

/// A fitted categorical naive Bayes model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalNbModel {
    /// Class labels.
    pub classes: Vec<String>,
    /// The number of features.
    pub n_features: usize,
    /// `class_count_`.
    pub class_count: Vec<f64>,
    /// `class_log_prior_`.
    #[serde(with = "crate::common::json_float::vec")]
    pub class_log_prior: Vec<f64>,
    /// The number of categories of each feature (the widest seen or asked for).
    pub n_categories: Vec<usize>,
    /// `category_count_`: per feature, `k × n_categories` weighted counts (class-major).
    pub category_count: Vec<Vec<f64>>,
    /// `feature_log_prob_`: per feature, `k × n_categories` log probabilities (class-major).
    #[serde(with = "nested_floats")]
    pub feature_log_prob: Vec<Vec<f64>>,
    /// Per feature and class (`p × k`), the log probability of a code beyond
    /// `n_categories`: `log(α) - log Σ (count + α)`.
    #[serde(with = "crate::common::json_float::vec")]
    pub unseen_log_prob: Vec<f64>,
}

/// serde for `Vec<Vec<f64>>` whose values may be `-inf` (`alpha = 0`).
mod nested_floats {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    struct Row(#[serde(with = "crate::common::json_float::vec")] Vec<f64>);

    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|r| Row(r.clone())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Vec::<Row>::deserialize(d).map(|v| v.into_iter().map(|r| r.0).collect())
    }
}

impl Model for CategoricalNbModel {
    fn n_features(&self) -> usize {
        self.n_features
    }

    fn validate(&self) -> Result<()> {
        let k = self.classes.len();
        let p = self.n_features;
        let mut ok = k >= 1
            && self.class_count.len() == k
            && self.class_log_prior.len() == k
            && self.n_categories.len() == p
            && self.category_count.len() == p
            && self.feature_log_prob.len() == p
            && p.checked_mul(k) == Some(self.unseen_log_prob.len());
        if ok {
            ok = self
                .n_categories
                .iter()
                .zip(&self.feature_log_prob)
                .zip(&self.category_count)
                .all(|((&n, f), c)| n.checked_mul(k) == Some(f.len()) && c.len() == f.len());
        }
        if !ok {
            return Err(Error::ModelCorrupt(format!(
                "{NAME}: the fitted arrays do not match {k} classes and {p} features"
            )));
        }
        Ok(())
    }
}

impl NaiveBayes for CategoricalNbModel {
    fn type_name(&self) -> &'static str {
        NAME
    }

    fn class_labels(&self) -> &[String] {
        &self.classes
    }

    /// `Σ_j feature_log_prob[j][c, x_j] + log prior`, in scikit-learn's order.
    fn joint_log_likelihood_row(&self, row: &[f64], index: usize, out: &mut [f64]) -> Result<()> {
        let k = out.len();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (j, ((&v, flp), &n)) in row
            .iter()
            .zip(&self.feature_log_prob)
            .zip(&self.n_categories)
            .enumerate()
        {
            let code = code_of(v).map_err(|m| bad_value(NAME, index, format!("x{j}"), m))?;
            for (c, o) in out.iter_mut().enumerate() {
                *o += if code < n {
                    flp.get(c * n + code).copied().unwrap_or(f64::NAN)
                } else {
                    self.unseen_log_prob
                        .get(j * k + c)
                        .copied()
                        .unwrap_or(f64::NAN)
                };
            }
        }
        for (o, lp) in out.iter_mut().zip(&self.class_log_prior) {
            *o += lp;
        }
        Ok(())
    }
}

super::posterior::naive_bayes_outputs!(CategoricalNbModel);

impl Trainer for CategoricalNb {
    const NAME: &'static str = "categorical_nb";
    type Model = CategoricalNbModel;

    fn fit_with(&self, data: &dyn Dataset, ctx: &FitContext<'_>) -> Result<CategoricalNbModel> {
        let spec = spec_of(data, NAME)?;
        let mut learner = self.start(&spec, ctx)?;
        ctx.install(|| learner.partial_fit(data))??;
        learner.model()
    }
}

impl IncrementalLearner for CategoricalNbLearner {
    type Model = CategoricalNbModel;

    fn partial_fit(&mut self, chunk: &dyn Dataset) -> Result<()> {
        CategoricalNbLearner::partial_fit(self, chunk)
    }

    fn model(&self) -> Result<CategoricalNbModel> {
        CategoricalNbLearner::model(self)
    }
}

impl Incremental for CategoricalNb {
    type Learner = CategoricalNbLearner;

    fn start(&self, spec: &StreamSpec, _ctx: &FitContext<'_>) -> Result<CategoricalNbLearner> {
        CategoricalNbLearner::new(self.clone(), spec)
    }
}
