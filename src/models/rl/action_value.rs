//! The action-value model every offline learner of this module fits: a registered regressor
//! of the reward (or return) of taking action `a` in context `x`, with the action one-hot
//! encoded beside the context or one regressor per action.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::DenseDataset;
use crate::error::{Error, Result};
use crate::models::{AnyModel, Estimator, ModelConfig};
use crate::traits::{FitContext, Model, Predictor};

/// How the action enters the regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionEncoding {
    /// One regressor on the context followed by the action's one-hot code.
    #[default]
    OneHot,
    /// One regressor per action, fitted on the rows of that action.
    PerAction,
}

/// The default regressor of the offline learners: a small extra-trees forest.
pub fn default_regressor() -> ModelConfig {
    // The literal parses (it is the registered type with two of its own keys).
    ModelConfig::from_json_parts(
        "extra_trees_regressor",
        serde_json::json!({"n_estimators": 50, "min_samples_leaf": 2}),
    )
    .unwrap_or_else(|_| {
        ModelConfig::ExtraTreesRegressor(
            crate::models::ensemble::forest::ExtraTreesRegressor::default(),
        )
    })
}

/// Checks that `config` is a regressor (the kind every action-value model needs).
pub fn check_regressor(config: &ModelConfig, name: &str) -> Result<()> {
    if config.estimator() != Estimator::Regressor {
        return Err(Error::param(
            name,
            config.type_name(),
            "a registered regressor (e.g. `extra_trees_regressor`, `ridge`)",
        ));
    }
    Ok(())
}

/// Checks that every action is below `n_actions`.
pub fn check_actions(actions: &[usize], n_actions: usize, context: &str) -> Result<()> {
    match actions.iter().position(|&a| a >= n_actions) {
        Some(row) => Err(Error::InvalidValue {
            context: context.to_string(),
            row,
            column: None,
            message: format!(
                "action {} is out of range (expected 0..{n_actions})",
                actions[row]
            ),
        }),
        None => Ok(()),
    }
}

/// A fitted action-value model `q(x, a)`.
///
/// ```
/// use amlis::models::rl::{ActionEncoding, ActionValueModel};
/// use amlis::traits::FitContext;
/// use ndarray::array;
///
/// let x = array![[0.0], [1.0], [0.0], [1.0]];
/// let actions = [0, 0, 1, 1];
/// let rewards = [1.0, 0.0, 0.0, 1.0];
/// let ridge = amlis::models::ModelConfig::from_json_parts("linear_regression", serde_json::json!({}))?;
/// let q = ActionValueModel::fit(x.view(), &actions, &rewards, None, 2, ActionEncoding::PerAction,
///                               &ridge, &FitContext::new())?;
/// let values = q.action_values(&[1.0])?;
/// assert!((values[0] - 0.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionValueModel {
    n_features: usize,
    n_actions: usize,
    encoding: ActionEncoding,
    models: Vec<AnyModel>,
}

impl ActionValueModel {
    /// Fits `q(x, a) ~ target` on rows `x` with logged `actions`, optional sample weights,
    /// with the regressor `config`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        x: ArrayView2<'_, f64>,
        actions: &[usize],
        targets: &[f64],
        weights: Option<&[f64]>,
        n_actions: usize,
        encoding: ActionEncoding,
        config: &ModelConfig,
        ctx: &FitContext<'_>,
    ) -> Result<Self> {
        check_regressor(config, "estimator")?;
        if n_actions == 0 {
            return Err(Error::param("n_actions", 0, "at least 1"));
        }
        let n = x.nrows();
        for (name, len) in [("actions", actions.len()), ("targets", targets.len())] {
            if len != n {
                return Err(Error::shape(name, format!("{n} values (one per row)"), len));
            }
        }
        if let Some(w) = weights {
            if w.len() != n {
                return Err(Error::shape("weights", format!("{n} values"), w.len()));
            }
        }
        check_actions(actions, n_actions, "actions")?;
        let d = x.ncols();
        let rows_of =
            |keep: &dyn Fn(usize) -> bool| -> Vec<usize> { (0..n).filter(|&i| keep(i)).collect() };
        let fit_rows = |rows: &[usize], one_hot: bool| -> Result<AnyModel> {
            let width = if one_hot { d + n_actions } else { d };
            let mut m = Array2::zeros((rows.len(), width));
            for (r, &i) in rows.iter().enumerate() {
                let mut row = m.row_mut(r);
                for j in 0..d {
                    row[j] = x[[i, j]];
                }
                if one_hot {
                    row[d + actions[i]] = 1.0;
                }
            }
            let y: Array1<f64> = rows.iter().map(|&i| targets[i]).collect();
            let mut data = DenseDataset::regression(m, y)?;
            if let Some(w) = weights {
                data = data.with_weights(rows.iter().map(|&i| w[i]).collect())?;
            }
            config.fit(&data, ctx)
        };
        let models = match encoding {
            ActionEncoding::OneHot => vec![fit_rows(&rows_of(&|_| true), true)?],
            ActionEncoding::PerAction => (0..n_actions)
                .map(|a| {
                    let rows = rows_of(&|i| actions[i] == a);
                    if rows.is_empty() {
                        return Err(Error::InvalidArgument(format!(
                            "action {a} is never logged, so a per-action model cannot be fitted \
                             for it; use `\"action_encoding\": \"one_hot\"`"
                        )));
                    }
                    fit_rows(&rows, false)
                })
                .collect::<Result<_>>()?,
        };
        Ok(Self {
            n_features: d,
            n_actions,
            encoding,
            models,
        })
    }

    /// Number of context features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of actions.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }

    /// How the action is encoded.
    pub fn encoding(&self) -> ActionEncoding {
        self.encoding
    }

    /// Writes `q(x_i, a)` for every row and action into `out` (`x.nrows() * n_actions`
    /// values, row-major).
    pub fn predict_into(&self, x: ArrayView2<'_, f64>, out: &mut [f64]) -> Result<()> {
        let (n, k, d) = (x.nrows(), self.n_actions, self.n_features);
        if x.ncols() != d {
            return Err(Error::shape(
                "action values",
                format!("{d} columns"),
                x.ncols(),
            ));
        }
        let len = n
            .checked_mul(k)
            .ok_or_else(|| Error::shape("action values", "a representable size", "overflow"))?;
        if out.len() != len {
            return Err(Error::shape("action values output", len, out.len()));
        }
        match self.encoding {
            ActionEncoding::OneHot => {
                let model = self.models.first().ok_or_else(|| self.corrupt())?;
                let mut m = Array2::zeros((len, d + k));
                for i in 0..n {
                    for a in 0..k {
                        let mut row = m.row_mut(i * k + a);
                        for j in 0..d {
                            row[j] = x[[i, j]];
                        }
                        row[d + a] = 1.0;
                    }
                }
                model.predict_into(m.view(), out)
            }
            ActionEncoding::PerAction => {
                let mut col = vec![0.0; n];
                for (a, model) in self.models.iter().enumerate() {
                    model.predict_into(x, &mut col)?;
                    for (i, v) in col.iter().enumerate() {
                        out[i * k + a] = *v;
                    }
                }
                Ok(())
            }
        }
    }

    /// The value of every action in one context (`n_actions` values).
    pub fn action_values(&self, context: &[f64]) -> Result<Vec<f64>> {
        let x = ArrayView2::from_shape((1, context.len()), context)
            .map_err(|e| Error::shape("action_values", "one row", e))?;
        let mut out = vec![0.0; self.n_actions];
        self.predict_into(x, &mut out)?;
        Ok(out)
    }

    fn corrupt(&self) -> Error {
        Error::ModelCorrupt(format!(
            "an action-value model of {} actions holds {} regressors",
            self.n_actions,
            self.models.len()
        ))
    }

    /// Bounds-checks the state read from a file.
    pub fn validate(&self) -> Result<()> {
        let (expected, width) = match self.encoding {
            ActionEncoding::OneHot => (1, self.n_features.checked_add(self.n_actions)),
            ActionEncoding::PerAction => (self.n_actions, Some(self.n_features)),
        };
        if self.n_actions == 0 || self.models.len() != expected {
            return Err(self.corrupt());
        }
        for m in &self.models {
            m.validate()?;
            if Some(m.n_features()) != width {
                return Err(Error::ModelCorrupt(format!(
                    "an action-value regressor reads {} features, expected {}",
                    m.n_features(),
                    width.unwrap_or(usize::MAX)
                )));
            }
            if m.estimator() != Estimator::Regressor {
                return Err(Error::ModelCorrupt(format!(
                    "an action-value model holds a {}, not a regressor",
                    m.type_name()
                )));
            }
        }
        Ok(())
    }
}

/// Out-of-fold action values: `q(x_i, a)` for every row and action (`n * n_actions` values,
/// row-major), each row predicted by a model fitted on the other folds (`n_folds` >= 2,
/// rows shuffled with the context's seed), or in-sample by one model fitted on every row
/// (`n_folds` = 1).
#[allow(clippy::too_many_arguments)]
pub fn cross_fit_predict(
    x: ArrayView2<'_, f64>,
    actions: &[usize],
    targets: &[f64],
    n_actions: usize,
    encoding: ActionEncoding,
    config: &ModelConfig,
    n_folds: usize,
    ctx: &FitContext<'_>,
) -> Result<Vec<f64>> {
    use crate::data::split::{KFold, Splitter};
    use ndarray::Axis;

    let n = x.nrows();
    let len = n
        .checked_mul(n_actions)
        .ok_or_else(|| Error::shape("action values", "a representable size", "overflow"))?;
    let mut out = vec![0.0; len];
    if n_folds == 0 {
        return Err(Error::param("n_folds", 0, "at least 1"));
    }
    if n_folds == 1 {
        let model =
            ActionValueModel::fit(x, actions, targets, None, n_actions, encoding, config, ctx)?;
        model.predict_into(x, &mut out)?;
        return Ok(out);
    }
    let splits = KFold::new(n_folds)
        .shuffle(ctx.seed())
        .split_indices(n, None)?;
    for (fold, split) in splits.iter().enumerate() {
        let pick = |rows: &[usize]| -> (ndarray::Array2<f64>, Vec<usize>, Vec<f64>) {
            (
                x.select(Axis(0), rows),
                rows.iter().map(|&i| actions[i]).collect(),
                rows.iter().map(|&i| targets[i]).collect(),
            )
        };
        let (xt, at, yt) = pick(&split.train);
        let seed: u64 = rand::Rng::gen(&mut crate::common::rng::for_task(ctx.seed(), fold as u64));
        let fit_ctx = FitContext::new().random_state(seed);
        let model = ActionValueModel::fit(
            xt.view(),
            &at,
            &yt,
            None,
            n_actions,
            encoding,
            config,
            &fit_ctx,
        )?;
        let xs = x.select(Axis(0), &split.test);
        let mut q = vec![0.0; split.test.len() * n_actions];
        model.predict_into(xs.view(), &mut q)?;
        for (r, &i) in split.test.iter().enumerate() {
            if let (Some(dst), Some(src)) = (
                out.get_mut(i * n_actions..(i + 1) * n_actions),
                q.get(r * n_actions..(r + 1) * n_actions),
            ) {
                dst.copy_from_slice(src);
            }
        }
    }
    Ok(out)
}
