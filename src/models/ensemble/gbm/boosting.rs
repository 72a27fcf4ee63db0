//! The boosting loop: validation split, binning, gradients, trees, early stopping, callback.

use std::borrow::Cow;

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::binning::{fit_bin, BINNING_SUBSAMPLE};
use super::early_stopping::{
    metric_score, should_stop, stratified_sample, validation_split, RawOutputs, Scoring,
    SMALL_TRAINSET,
};
use super::grower::{Grower, GrowerConfig, Importance};
use super::histogram::GradView;
use super::loss::{LossKind, Targets};
use super::model::GradientBoostingModel;
use super::params::{CategoricalFeatures, EarlyStopping, FeatureRef, HistGradientBoosting};
use super::split::SplitConfig;
use super::tree::Tree;
use crate::data::FeatureKind;
use crate::error::{Error, Result};
use crate::traits::{Control, Dataset, FitContext, FitEvent};

/// RNG task ids (see [`crate::common::rng::for_task`]).
const TASK_VALIDATION: u64 = 0;
const TASK_BINNING: u64 = 1;
const TASK_SMALL_TRAINSET: u64 = 2;
fn task_features(tree: usize) -> u64 {
    10 + 3 * tree as u64
}
fn task_subsample(iteration: usize) -> u64 {
    11 + 3 * iteration as u64
}

/// Which features are categorical, from the parameter and the dataset's kinds.
fn categorical_mask(
    spec: &CategoricalFeatures,
    names: &[String],
    kinds: &[FeatureKind],
) -> Result<Vec<bool>> {
    let p = names.len();
    match spec {
        CategoricalFeatures::FromDtype => Ok((0..p)
            .map(|j| matches!(kinds.get(j), Some(FeatureKind::Categorical { .. })))
            .collect()),
        CategoricalFeatures::List(list) => {
            let mut mask = vec![false; p];
            for r in list {
                let j = match r {
                    FeatureRef::Index(j) if *j < p => *j,
                    FeatureRef::Index(j) => {
                        return Err(Error::param(
                            "categorical_features",
                            j,
                            &format!("column indices in 0..{p}"),
                        ))
                    }
                    FeatureRef::Name(name) => {
                        names.iter().position(|n| n == name).ok_or_else(|| {
                            Error::UnknownColumn {
                                name: name.clone(),
                                context: "categorical_features".into(),
                                available: names.to_vec(),
                            }
                        })?
                    }
                };
                mask[j] = true;
            }
            Ok(mask)
        }
    }
}

/// Row `i` of `x` as a slice (borrowed when contiguous).
#[inline]
fn row_of<'a>(x: &'a ArrayView2<'_, f64>, i: usize) -> Cow<'a, [f64]> {
    let r = x.row(i);
    match r.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(r.to_vec()),
    }
}

/// Adds `tree`'s predictions of the rows `positions` of `x` to `raw`.
fn add_tree_predictions(
    tree: &Tree,
    x: &ArrayView2<'_, f64>,
    positions: &[usize],
    raw: &mut [f64],
) {
    raw.par_iter_mut()
        .zip(positions.par_iter())
        .with_min_len(1024)
        .for_each(|(r, &i)| *r += tree.predict_row(&row_of(x, i)));
}

/// Class indices or targets of `data`, gathered, checked against the task.
fn targets_of(data: &dyn Dataset, classes: usize, what: &str) -> Result<Vec<f64>> {
    let y = data
        .targets()
        .ok_or_else(|| Error::InvalidArgument(format!("{what} has no targets")))?
        .to_vec();
    if classes > 0 {
        for (i, &v) in y.iter().enumerate() {
            if !(v >= 0.0 && (v as usize) < classes && v.fract() == 0.0) {
                return Err(Error::InvalidValue {
                    context: format!("{what} class labels"),
                    row: i,
                    column: None,
                    message: format!("{v} is not a class index in 0..{classes}"),
                });
            }
        }
    }
    Ok(y)
}

/// Early-stopping scores of one iteration.
struct Scores {
    /// The training score (negated loss, or the metric on the training subsample).
    train: f64,
    /// The validation loss, when there is a validation set.
    val_loss: Option<f64>,
    /// The validation score, when there is a validation set.
    val: Option<f64>,
}

/// Fits a gradient-boosting model. `classes` is non-empty for classification; the fit
/// callback's stage is the trainer's `NAME`.
pub(crate) fn fit<L>(
    params: &HistGradientBoosting<L>,
    loss: LossKind,
    classes: Vec<String>,
    data: &dyn Dataset,
    validation: Option<&dyn Dataset>,
    ctx: &FitContext<'_>,
) -> Result<GradientBoostingModel>
where
    L: super::ResolveLoss + Sync,
{
    params.validate()?;
    let scoring = Scoring::resolve(&params.scoring, data.task())?;
    ctx.install(|| fit_inner(params, loss, classes, data, validation, &scoring, ctx))?
}

fn fit_inner<L: super::ResolveLoss>(
    params: &HistGradientBoosting<L>,
    loss: LossKind,
    classes: Vec<String>,
    data: &dyn Dataset,
    validation: Option<&dyn Dataset>,
    scoring: &Scoring,
    ctx: &FitContext<'_>,
) -> Result<GradientBoostingModel> {
    let n = data.n_samples();
    let p = data.n_features();
    if n == 0 || p == 0 {
        return Err(Error::Empty(format!(
            "gradient boosting fit ({n} rows x {p} features)"
        )));
    }
    let n_classes = classes.len();
    if matches!(loss, LossKind::LogLoss) && n_classes < 2 {
        return Err(Error::InvalidArgument(format!(
            "gradient boosting classification needs at least 2 classes, the task has {n_classes}"
        )));
    }
    let k = if n_classes > 2 { n_classes } else { 1 };
    let x_cow = data.features();
    let x = x_cow.view();
    let y_all = targets_of(data, n_classes, "training data")?;
    let w_all = data.weights().map(|w| w.to_vec());
    let names = data.feature_names().to_vec();
    let categorical = categorical_mask(&params.categorical_features, &names, data.feature_kinds())?;

    // Validation rows: a given set, or a held-out split of the training rows.
    let early_stopping = match params.early_stopping {
        EarlyStopping::Enabled(b) => b,
        EarlyStopping::Auto => validation.is_some() || n > 10_000,
    };
    let val_cow;
    let (train_pos, val_x, val_pos, val_y, val_w) = match validation {
        Some(v) => {
            if v.n_features() != p {
                return Err(Error::shape(
                    "gradient boosting validation set",
                    format!("{p} features"),
                    v.n_features(),
                ));
            }
            val_cow = v.features();
            let vy = targets_of(v, n_classes, "validation data")?;
            let vw = v.weights().map(|w| w.to_vec());
            let vn = v.n_samples();
            (
                (0..n).collect(),
                Some(val_cow.view()),
                (0..vn).collect(),
                vy,
                vw,
            )
        }
        None if early_stopping => {
            let mut rng = crate::common::rng::for_task(ctx.seed(), TASK_VALIDATION);
            let strat = (n_classes > 0).then_some((y_all.as_slice(), n_classes));
            let (tr, va) = validation_split(n, strat, params.validation_fraction, &mut rng)?;
            let vy = va.iter().map(|&i| y_all[i]).collect();
            let vw = w_all.as_ref().map(|w| va.iter().map(|&i| w[i]).collect());
            (tr, Some(x), va, vy, vw)
        }
        None => (
            (0..n).collect::<Vec<usize>>(),
            None,
            Vec::new(),
            Vec::new(),
            None,
        ),
    };
    let n_train = train_pos.len();
    if n_train > u32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "gradient boosting supports at most {} training rows, got {n_train}",
            u32::MAX
        )));
    }
    let y: Vec<f64> = train_pos.iter().map(|&i| y_all[i]).collect();
    let w: Option<Vec<f64>> = w_all.map(|w| train_pos.iter().map(|&i| w[i]).collect());
    let targets = Targets {
        y: &y,
        w: w.as_deref(),
        k,
    };
    let val_targets = Targets {
        y: &val_y,
        w: val_w.as_deref(),
        k,
    };
    loss.check_targets(&targets)?;
    loss.check_targets(&val_targets)?;
    // A metric scores at most SMALL_TRAINSET training rows (stratified for classifiers).
    let small_train: Option<Vec<usize>> = (scoring.metric().is_some() && n_train > SMALL_TRAINSET)
        .then(|| {
            let mut rng = crate::common::rng::for_task(ctx.seed(), TASK_SMALL_TRAINSET);
            let strat = (n_classes > 0).then_some((y.as_slice(), n_classes));
            stratified_sample(n_train, strat, SMALL_TRAINSET, &mut rng)
        });

    // Binning.
    let sample: Vec<usize> = if n_train > BINNING_SUBSAMPLE {
        let mut rng = crate::common::rng::for_task(ctx.seed(), TASK_BINNING);
        let mut s = rand::seq::index::sample(&mut rng, n_train, BINNING_SUBSAMPLE).into_vec();
        s.sort_unstable();
        s
    } else {
        (0..n_train).collect()
    };
    let binned = fit_bin(
        x,
        &train_pos,
        &categorical,
        &names,
        params.max_bins,
        &sample,
    )?;
    let has_missing: Vec<bool> = (0..p)
        .into_par_iter()
        .map(|f| {
            let nb = binned.features[f].n_bins_non_missing;
            binned.column(f).iter().any(|&c| c as usize == nb)
        })
        .collect();

    let const_hess = loss.constant_hessian(w.is_some());
    let cfg = GrowerConfig {
        max_leaf_nodes: params.max_leaf_nodes,
        max_depth: params.max_depth,
        split: SplitConfig {
            l2: params.l2_regularization,
            min_samples_leaf: params.min_samples_leaf as u64,
            min_sum_hessian: params.min_sum_hessian,
            const_hess,
        },
        features_per_node: ((params.max_features * p as f64) as usize).clamp(1, p),
        learning_rate: params.learning_rate,
    };
    let mut grower = Grower::new(&binned, &has_missing, cfg);

    let baseline = loss.baseline(&targets);
    let mut raw: Vec<f64> = baseline
        .iter()
        .flat_map(|&b| std::iter::repeat_n(b, n_train))
        .collect();
    let n_val = val_pos.len();
    let mut raw_val: Vec<f64> = baseline
        .iter()
        .flat_map(|&b| std::iter::repeat_n(b, n_val))
        .collect();
    let mut g = vec![0.0f32; n_train * k];
    let mut h = vec![if const_hess.is_some() { 1.0f32 } else { 0.0 }; n_train * k];
    let n_val_x = val_x.as_ref().map(|_| n_val);
    // (train score, validation loss, validation score) of the current raw predictions.
    let evaluate = |raw: &[f64], raw_val: &[f64], train_loss: f64| -> Result<Scores> {
        let val_loss = n_val_x.map(|_| loss.loss(&val_targets, raw_val));
        Ok(match scoring.metric() {
            None => Scores {
                train: -train_loss,
                val_loss,
                val: val_loss.map(|l| -l),
            },
            Some(m) => Scores {
                train: metric_score(
                    m,
                    loss,
                    n_classes,
                    RawOutputs { raw, n: n_train },
                    small_train.as_deref(),
                    &y,
                    w.as_deref(),
                )?,
                val_loss,
                val: match n_val_x {
                    Some(nv) => Some(metric_score(
                        m,
                        loss,
                        n_classes,
                        RawOutputs {
                            raw: raw_val,
                            n: nv,
                        },
                        None,
                        &val_y,
                        val_w.as_deref(),
                    )?),
                    None => None,
                },
            },
        })
    };
    let mut train_loss = loss.gradients(&targets, &raw, &mut g, &mut h, const_hess.is_some());
    let first = evaluate(&raw, &raw_val, train_loss)?;
    let mut train_score = vec![first.train];
    let mut validation_score: Vec<f64> = first.val.into_iter().collect();

    let mut importance = Importance {
        gain: vec![0.0; p],
        split: vec![0; p],
    };
    let mut trees: Vec<Tree> = Vec::with_capacity(params.max_iter * k);
    let mut rows: Vec<u32> = Vec::with_capacity(n_train);
    let mut n_iter = 0;
    for it in 0..params.max_iter {
        // Rows of this iteration.
        let (base_rows, oob): (Vec<u32>, Vec<usize>) = if params.subsample < 1.0 {
            let m = ((params.subsample * n_train as f64).round() as usize).clamp(1, n_train);
            let mut rng = crate::common::rng::for_task(ctx.seed(), task_subsample(it));
            let mut s: Vec<u32> = rand::seq::index::sample(&mut rng, n_train, m)
                .into_iter()
                .map(|i| i as u32)
                .collect();
            s.sort_unstable();
            let mut in_sample = vec![false; n_train];
            for &r in &s {
                in_sample[r as usize] = true;
            }
            let oob = (0..n_train).filter(|&i| !in_sample[i]).collect();
            (s, oob)
        } else {
            (Vec::new(), Vec::new())
        };
        let all_rows = params.subsample >= 1.0;
        for c in 0..k {
            rows.clear();
            if all_rows {
                rows.extend(0..n_train as u32);
            } else {
                rows.extend_from_slice(&base_rows);
            }
            let grad = GradView {
                g: &g[c * n_train..(c + 1) * n_train],
                h: const_hess
                    .is_none()
                    .then(|| &h[c * n_train..(c + 1) * n_train]),
            };
            let tree_index = it * k + c;
            let mut rng = crate::common::rng::for_task(ctx.seed(), task_features(tree_index));
            let (mut tree, leaves) =
                grower.grow(&mut rows, all_rows, grad, &mut rng, &mut importance);
            let raw_c = &mut raw[c * n_train..(c + 1) * n_train];
            if let Some(q) = loss.leaf_quantile() {
                for leaf in &leaves {
                    let mut res: Vec<(f64, f64)> = rows[leaf.start..leaf.start + leaf.len]
                        .iter()
                        .map(|&r| {
                            let r = r as usize;
                            (y[r] - raw_c[r], targets.w.map_or(1.0, |w| w[r]))
                        })
                        .collect();
                    let v = super::loss::quantile_of(&mut res, q, targets.w.is_some());
                    if let Some(node) = tree.nodes.get_mut(leaf.node) {
                        node.value = params.learning_rate * v;
                    }
                }
            }
            for leaf in &leaves {
                let v = tree.nodes.get(leaf.node).map_or(0.0, |nd| nd.value);
                for &r in &rows[leaf.start..leaf.start + leaf.len] {
                    raw_c[r as usize] += v;
                }
            }
            if !oob.is_empty() {
                let oob_x: Vec<usize> = oob.iter().map(|&i| train_pos[i]).collect();
                let mut add = vec![0.0; oob.len()];
                add_tree_predictions(&tree, &x, &oob_x, &mut add);
                for (&i, a) in oob.iter().zip(add) {
                    raw_c[i] += a;
                }
            }
            if let Some(vx) = &val_x {
                add_tree_predictions(
                    &tree,
                    vx,
                    &val_pos,
                    &mut raw_val[c * n_val..(c + 1) * n_val],
                );
            }
            trees.push(tree);
        }
        n_iter = it + 1;
        train_loss = loss.gradients(&targets, &raw, &mut g, &mut h, const_hess.is_some());
        let now = evaluate(&raw, &raw_val, train_loss)?;
        train_score.push(now.train);
        let mut values = vec![("train_loss", train_loss)];
        if let Some(vl) = now.val_loss {
            values.push(("validation_loss", vl));
        }
        if scoring.metric().is_some() {
            values.push(("train_score", now.train));
        }
        if let Some(vs) = now.val {
            validation_score.push(vs);
            if scoring.metric().is_some() {
                values.push(("validation_score", vs));
            }
        }
        let event = FitEvent {
            stage: L::NAME,
            iteration: n_iter,
            total: Some(params.max_iter),
            values: &values,
        };
        match ctx.report(&event) {
            Control::Continue => {}
            Control::Stop => break,
            Control::Cancel => {
                return Err(Error::Cancelled(format!("{} iteration {n_iter}", L::NAME)))
            }
        }
        if early_stopping {
            let scores = if val_x.is_some() {
                &validation_score
            } else {
                &train_score
            };
            if should_stop(scores, params.n_iter_no_change, params.tol) {
                break;
            }
        }
    }
    Ok(GradientBoostingModel {
        loss,
        n_features: p,
        feature_names: names,
        classes,
        baseline,
        trees,
        n_iter,
        train_score,
        validation_score,
        importance_gain: importance.gain,
        importance_split: importance.split,
        fast: Default::default(),
    })
}
