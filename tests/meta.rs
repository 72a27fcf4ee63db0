//! Automatic model selection (`auto_classifier`, `auto_regressor`): an ordinary pipeline
//! comes out, with its leaderboard; a fixed `max_trials` is reproducible bit for bit and
//! independent of the thread count; failing trials are recorded and skipped; nothing
//! fitted is an error that says why; the callback stops or cancels; meta-features are of
//! the training rows only.

use amlis::data::{Column, KFold, Table};
use amlis::evaluate::selection::{cross_validate, CvData, CvOptions, TableData};
use amlis::meta::{features, AutoModel, StoppedBy, TrialStatus};
use amlis::models::{AnyModel, Estimator, ModelConfig};
use amlis::persist::Encoding;
use amlis::pipeline::Pipeline;
use amlis::service::config::TrainConfig;
use amlis::traits::{Control, FitContext, FitEvent, Model, Predictor};

fn config(json: &str) -> TrainConfig {
    TrainConfig::from_json(json).unwrap()
}

fn penguins_auto(threads: usize) -> Pipeline {
    let table = amlis::datasets::penguins_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 6, "cv": 3,
            "families": ["logistic_regression", "gaussian_nb", "decision_tree_classifier"]},
            "random_state": 11}"#,
    );
    Pipeline::fit(&c, &table, "species", &FitContext::new().n_threads(threads)).unwrap()
}

#[test]
fn a_fixed_trial_count_is_reproducible_whatever_the_threads() {
    let one = penguins_auto(1);
    let two = penguins_auto(2);
    let report = one.meta().search.as_ref().unwrap();
    assert_eq!(report.trials.len(), 6);
    // Penguins is small: one rung of every row, then four repeats with new splits.
    assert_eq!(report.rungs, vec![344; 5]);
    assert_eq!(report.stopped_by, StoppedBy::MaxTrials);
    // Penguins has missing values and strings: the chosen pipeline imputes and encodes.
    let steps: Vec<&str> = one.steps().iter().map(|s| s.type_name()).collect();
    assert!(steps.contains(&"simple_imputer") && steps.contains(&"one_hot_encoder"));
    // The same trials, scores, choice and model bit for bit (fit times aside).
    let strip = |p: &Pipeline| {
        let mut r = (**p.meta().search.as_ref().unwrap()).clone();
        r.elapsed = 0.0;
        for t in &mut r.trials {
            t.fit_time = 0.0;
        }
        r
    };
    assert_eq!(strip(&one), strip(&two));
    assert_eq!(one.model(), two.model());
    assert_eq!(one.steps(), two.steps());
    let best = &report.trials[report.best_trial];
    assert_eq!(best.config.model, one.meta().config.model);
    // The one-standard-error rule: the chosen candidate is within one standard error of
    // the best mean on its rung, and no earlier candidate is.
    let on_rung: Vec<_> = report
        .trials
        .iter()
        .filter(|t| t.rung == best.rung && t.status == TrialStatus::Ok)
        .collect();
    let top = on_rung
        .iter()
        .max_by(|a, b| {
            a.repeated_score
                .unwrap()
                .total_cmp(&b.repeated_score.unwrap())
        })
        .unwrap();
    let bound = top.repeated_score.unwrap() - top.std_error.unwrap_or(0.0);
    assert!(best.repeated_score.unwrap() >= bound);
    assert!(on_rung
        .iter()
        .filter(|t| t.candidate < best.candidate)
        .all(|t| t.repeated_score.unwrap() < bound));
}

#[test]
fn the_chosen_pipeline_saves_reloads_and_predicts() {
    let p = penguins_auto(2);
    let table = amlis::datasets::penguins_table().unwrap();
    for encoding in [Encoding::Binary, Encoding::Json] {
        let back = Pipeline::from_bytes(&p.to_bytes(encoding).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            back.predict_table(&table).unwrap(),
            p.predict_table(&table).unwrap()
        );
    }
    let acc = p.meta().training_metrics["accuracy"];
    assert!(acc > 0.95, "training accuracy {acc}");
}

#[test]
fn a_regressor_search_keeps_to_its_families() {
    let table = amlis::datasets::diabetes_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_regressor", "max_trials": 5, "metric": "neg_mean_absolute_error",
            "families": ["ridge", "k_neighbors_regressor"]}}"#,
    );
    let p = Pipeline::fit(&c, &table, "progression", &FitContext::new()).unwrap();
    let report = p.meta().search.as_ref().unwrap();
    assert_eq!(report.metric, "neg_mean_absolute_error");
    assert!(["ridge", "k_neighbors_regressor"].contains(&p.model().type_name()));
    assert!(report
        .trials
        .iter()
        .all(|t| ["ridge", "k_neighbors_regressor"].contains(&t.config.model.type_name())));
    // Both need scaled inputs.
    assert_eq!(p.steps().last().unwrap().type_name(), "standard_scaler");
}

#[test]
fn failing_trials_are_recorded_and_skipped_and_nothing_fitted_says_why() {
    let table = amlis::datasets::iris_table().unwrap();
    // Forests exceed the memory bound, naive Bayes does not.
    let c = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 4, "trial_memory_limit": 0.5,
            "families": ["random_forest_classifier", "gaussian_nb"]}}"#,
    );
    let p = Pipeline::fit(&c, &table, "species", &FitContext::new()).unwrap();
    assert_eq!(p.model().type_name(), "gaussian_nb");
    let report = p.meta().search.as_ref().unwrap();
    let skipped: Vec<_> = report
        .trials
        .iter()
        .filter(|t| t.status == TrialStatus::SkippedMemory)
        .collect();
    assert!(!skipped.is_empty());
    assert!(
        skipped
            .iter()
            .all(|t| t.score.is_none()
                && t.message.as_deref().unwrap().contains("trial_memory_limit"))
    );
    let none = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 3, "trial_memory_limit": 1e-9}}"#,
    );
    let err = Pipeline::fit(&none, &table, "species", &FitContext::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no model was fitted") && text.contains("3 skipped for memory"),
        "{text}"
    );
}

#[test]
fn settings_are_checked_by_name() {
    let table = amlis::datasets::iris_table().unwrap();
    for (json, name) in [
        (
            r#"{"type": "auto_classifier", "families": ["ridge"]}"#,
            "families",
        ),
        (
            r#"{"type": "auto_classifier", "families": ["no_such_model"]}"#,
            "families",
        ),
        (r#"{"type": "auto_classifier", "cv": 1}"#, "cv"),
        (r#"{"type": "auto_classifier", "cv": 0.9}"#, "cv"),
        (
            r#"{"type": "auto_classifier", "time_budget": 0}"#,
            "time_budget",
        ),
        (
            r#"{"type": "auto_classifier", "max_trials": 0}"#,
            "max_trials",
        ),
        (r#"{"type": "auto_classifier", "metric": "r3"}"#, "metric"),
    ] {
        let c = config(&format!(r#"{{"model": {json}}}"#));
        let err = Pipeline::fit(&c, &table, "species", &FitContext::new()).unwrap_err();
        assert!(err.to_string().contains(name), "{json}: {err}");
    }
    let err = TrainConfig::from_json(r#"{"model": {"type": "auto_regressor", "budget": 3}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("budget"));
}

#[test]
fn the_callback_sees_each_trial_and_can_stop_or_cancel() {
    let table = amlis::datasets::wine_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 12,
            "families": ["gaussian_nb", "logistic_regression"]}}"#,
    );
    let stop_after = |n: usize, answer: Control| {
        move |e: &FitEvent<'_>| {
            if e.stage == "auto_classifier" && e.iteration >= n {
                answer
            } else {
                Control::Continue
            }
        }
    };
    let stop = stop_after(4, Control::Stop);
    let p = Pipeline::fit(&c, &table, "cultivar", &FitContext::new().callback(&stop)).unwrap();
    let report = p.meta().search.as_ref().unwrap();
    assert_eq!(report.stopped_by, StoppedBy::Callback);
    assert_eq!(report.trials.len(), 4);
    let cancel = stop_after(2, Control::Cancel);
    let err =
        Pipeline::fit(&c, &table, "cultivar", &FitContext::new().callback(&cancel)).unwrap_err();
    assert!(matches!(err, amlis::Error::Cancelled(_)), "{err}");
}

#[test]
fn a_time_budget_stops_the_search() {
    let table = amlis::datasets::breast_cancer_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_classifier", "time_budget": 1.0,
            "families": ["gaussian_nb", "logistic_regression", "decision_tree_classifier"]}}"#,
    );
    let p = Pipeline::fit(&c, &table, "diagnosis", &FitContext::new()).unwrap();
    let report = p.meta().search.as_ref().unwrap();
    assert_eq!(report.stopped_by, StoppedBy::TimeBudget);
    assert!(report.trials.len() >= 3);
}

#[test]
fn meta_features_are_of_the_training_rows_only() {
    let table = amlis::datasets::wine_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 2, "random_state": 5,
            "families": ["gaussian_nb"]}}"#,
    );
    let data = TableData::new(&table, "cultivar", Estimator::Classifier).unwrap();
    let full = features::compute(&data, 5).unwrap();
    let split = amlis::data::Splitter::split_indices(&KFold::new(2), data.n_rows(), None).unwrap();
    let train = table.take_rows(&split[0].train).unwrap();
    let p = Pipeline::fit(&c, &train, "cultivar", &FitContext::new()).unwrap();
    let seen = &p.meta().search.as_ref().unwrap().meta_features;
    let train_data = TableData::new(&train, "cultivar", Estimator::Classifier).unwrap();
    assert_eq!(seen, &features::compute(&train_data, 5).unwrap());
    assert_ne!(seen, &full);
    // Cross-validating the auto model itself works fold by fold.
    let cv = cross_validate(
        &data,
        &c,
        &KFold::new(2).shuffle(1),
        &CvOptions::metrics(&["accuracy"]),
        &FitContext::new(),
    )
    .unwrap();
    assert!(cv.metric("accuracy").unwrap().mean > 0.5);
}

#[test]
fn a_bare_auto_model_fits_a_dataset_and_predicts_its_classes() {
    let data = amlis::datasets::iris().unwrap();
    let config = ModelConfig::from_json_parts(
        "auto_classifier",
        serde_json::json!({"max_trials": 3, "families": ["logistic_regression"]}),
    )
    .unwrap();
    let model = config.fit(&data, &FitContext::new()).unwrap();
    let AnyModel::AutoClassifier(auto) = &model else {
        panic!("{}", model.type_name())
    };
    let auto: &AutoModel = auto;
    assert_eq!(auto.report().unwrap().trials.len(), 3);
    assert_eq!(model.n_classes(), 3);
    let x = amlis::traits::Dataset::features(&data).into_owned();
    let pred = model.predict(x.view()).unwrap();
    let y = amlis::traits::Dataset::targets(&data).unwrap();
    let hits = pred.iter().zip(y.iter()).filter(|(a, b)| a == b).count();
    assert!(hits > 140, "{hits} of 150");
    let mut row_out = [0.0];
    model
        .predict_row_into(x.row(70).as_slice().unwrap(), &mut row_out)
        .unwrap();
    assert_eq!(row_out[0], pred[70]);
    model.validate().unwrap();
}

fn diabetes_auto(threads: usize, ensemble_size: usize) -> Pipeline {
    diabetes_auto_of(
        threads,
        ensemble_size,
        r#"["ridge", "gradient_boosting_regressor"]"#,
    )
}

fn diabetes_auto_of(threads: usize, ensemble_size: usize, families: &str) -> Pipeline {
    let table = amlis::datasets::diabetes_table().unwrap();
    let c = config(&format!(
        r#"{{"model": {{"type": "auto_regressor", "max_trials": 16, "ensemble_size": {ensemble_size},
            "families": {families}}}}}"#
    ));
    Pipeline::fit(
        &c,
        &table,
        "progression",
        &FitContext::new().n_threads(threads),
    )
    .unwrap()
}

#[test]
fn an_ensemble_whose_gain_is_within_its_standard_error_is_not_used() {
    let p = diabetes_auto_of(2, 25, r#"["ridge", "k_neighbors_regressor"]"#);
    let report = p.meta().search.as_ref().unwrap();
    let ensemble = report.ensemble.as_ref().unwrap();
    assert!(!ensemble.used);
    assert!(ensemble.score > ensemble.best_single_score, "{ensemble:?}");
    assert!(ensemble.score - ensemble.best_single_score <= ensemble.gain_std_error);
    assert!(ensemble
        .why_not
        .as_deref()
        .unwrap()
        .contains("standard error"));
    assert_eq!(
        p.meta().config.model,
        report.trials[report.best_trial].config.model
    );
}

#[test]
fn an_ensemble_of_the_best_candidates_is_chosen_when_it_scores_better_out_of_fold() {
    let p = diabetes_auto(2, 25);
    let report = p.meta().search.as_ref().unwrap();
    let ensemble = report.ensemble.as_ref().unwrap();
    assert!(ensemble.used, "{ensemble:?}");
    assert!(ensemble.members.len() >= 2);
    // Ridge and gradient boosting err differently on diabetes: their average gains more
    // than the gain's standard error (ridge with k-NN gains 0.0004 r2 against an error of
    // 0.0015, and is refused).
    assert!(ensemble.score - ensemble.best_single_score > ensemble.gain_std_error);
    assert!(ensemble.cross_fitted_gain.unwrap() > ensemble.gain_std_error);
    assert!(ensemble.gain_std_error > 0.0);
    assert!(ensemble.rounds >= 2 && ensemble.rounds <= 25);
    let families: std::collections::BTreeSet<&str> = ensemble
        .members
        .iter()
        .map(|m| report.trials[m.trial].config.model.type_name())
        .collect();
    assert_eq!(
        families.len(),
        ensemble.members.len(),
        "one member per family"
    );
    // The model is a soft voting ensemble of the selected candidates' whole pipelines,
    // weighted by how often each was selected.
    let ModelConfig::VotingRegressor(voting) = &p.meta().config.model else {
        panic!("{:?}", p.meta().config.model)
    };
    let weights: Vec<f64> = ensemble.members.iter().map(|m| m.weight).collect();
    assert_eq!(voting.weights.as_ref(), Some(&weights));
    for (member, selected) in voting.estimators.iter().zip(&ensemble.members) {
        assert_eq!(member.0, report.trials[selected.trial].config);
    }
    assert_eq!(p.model().type_name(), "voting_regressor");
    // Reproducible whatever the threads, saved and reloaded bit for bit.
    let one = diabetes_auto(1, 25);
    assert_eq!(one.model(), p.model());
    let table = amlis::datasets::diabetes_table().unwrap();
    let back = Pipeline::from_bytes(&p.to_bytes(Encoding::Binary).unwrap()).unwrap();
    assert_eq!(
        back.predict_table(&table).unwrap(),
        p.predict_table(&table).unwrap()
    );
    // Without ensemble selection the same search gives the one-SE single candidate.
    let single = diabetes_auto(2, 0);
    let r = single.meta().search.as_ref().unwrap();
    assert!(r.ensemble.is_none());
    assert_eq!(
        single.meta().config.model,
        r.trials[r.best_trial].config.model
    );
    assert_eq!(r.best_trial, report.best_trial);
}

#[test]
fn a_chosen_pipeline_takes_a_missing_cell_that_training_never_had() {
    // Iris has no missing cell; the served model must still take one in any numeric
    // column (a median imputer over every column for the families that need one).
    let table = amlis::datasets::iris_table().unwrap();
    let c = config(
        r#"{"model": {"type": "auto_classifier", "max_trials": 3,
            "families": ["logistic_regression"]}}"#,
    );
    let p = Pipeline::fit(&c, &table, "species", &FitContext::new()).unwrap();
    let steps: Vec<&str> = p
        .meta()
        .config
        .preprocess
        .iter()
        .map(|s| s.type_name())
        .collect();
    assert_eq!(steps.first(), Some(&"simple_imputer"), "{steps:?}");
    let columns: Vec<(String, Column)> = table
        .iter()
        .map(|(name, col)| {
            let col = match col {
                Column::Numeric(v) => {
                    let mut v = v.to_vec();
                    v[0] = f64::NAN;
                    Column::numeric(v)
                }
                other => other.clone(),
            };
            (name.to_string(), col)
        })
        .collect();
    let holed = Table::new(columns).unwrap();
    let pred = p.predict_table(&holed).unwrap();
    let full = p.predict_table(&table).unwrap();
    assert_eq!(pred.len(), full.len());
}

/// The trimmed mean and corrected standard error of the paired fold differences (`a` − `b`)
/// on the repeated rungs of all the rows, recomputed from the leaderboard.
fn paired_gain(report: &amlis::meta::SearchReport, a: usize, b: usize) -> (f64, f64) {
    let n = *report.rungs.iter().max().unwrap();
    // The repeated rungs: after the first rung of every row.
    let first = report.rungs.iter().position(|&r| r == n).unwrap();
    let folds = |c: usize, rung: usize| {
        report
            .trials
            .iter()
            .find(|t| t.candidate == c && t.rung == rung && t.status == TrialStatus::Ok)
            .map(|t| t.fold_scores.clone())
    };
    let mut d = Vec::new();
    for (rung, &rows) in report.rungs.iter().enumerate() {
        if rows != n || rung == first {
            continue;
        }
        if let (Some(x), Some(y)) = (folds(a, rung), folds(b, rung)) {
            d.extend(x.iter().zip(&y).map(|(x, y)| x - y));
        }
    }
    // Yuen's 20% trimmed mean and winsorized error, with Nadeau and Bengio's correction for
    // 3 folds (1/3 of the rows tested, 2/3 trained on).
    d.sort_by(f64::total_cmp);
    let m = d.len();
    let g = m / 5;
    let gain = d[g..m - g].iter().sum::<f64>() / (m - 2 * g) as f64;
    let w: Vec<f64> = d.iter().map(|v| v.clamp(d[g], d[m - 1 - g])).collect();
    let wm = w.iter().sum::<f64>() / m as f64;
    let wv = w.iter().map(|v| (v - wm) * (v - wm)).sum::<f64>() / (m - 1) as f64;
    let kept = (m - 2 * g) as f64 / m as f64;
    (gain, (wv * (1.0 / m as f64 + 0.5)).sqrt() / kept)
}

/// Logistic regression, Gaussian naive Bayes and a decision tree: the portfolio ranks the
/// first two defaults best of the three.
const LINEAR_NB_TREE: [&str; 3] = [
    "logistic_regression",
    "gaussian_nb",
    "decision_tree_classifier",
];

/// An auto classifier of 24 trials on `table` over three `families`.
fn three_family_auto(
    table: &Table,
    target: &str,
    families: [&str; 3],
    seed: u64,
    keep: bool,
) -> Pipeline {
    let c = config(&format!(
        r#"{{"model": {{"type": "auto_classifier", "max_trials": 24, "cv": 3,
            "keep_prior_default": {keep}, "ensemble_size": 0,
            "families": {}}}, "random_state": {seed}}}"#,
        serde_json::json!(families)
    ));
    Pipeline::fit(&c, table, target, &FitContext::new().n_threads(2)).unwrap()
}

/// The candidate of the better prior default: by the highest rung reached, then by the
/// mean score there.
fn better_prior(report: &amlis::meta::SearchReport) -> usize {
    let last = |c: usize| {
        report
            .trials
            .iter()
            .filter(|t| t.candidate == c && t.status == TrialStatus::Ok)
            .max_by_key(|t| (t.rung, t.id))
            .map(|t| (t.rung, t.repeated_score.unwrap()))
            .unwrap()
    };
    let mut best = report.prior_defaults[0];
    for &c in &report.prior_defaults[1..] {
        let (r, s) = last(c);
        let (rb, sb) = last(best);
        if r > rb || (r == rb && s > sb) {
            best = c;
        }
    }
    best
}

#[test]
fn the_better_prior_default_is_kept_unless_clearly_beaten() {
    let table = amlis::datasets::penguins_table().unwrap();
    let p = three_family_auto(&table, "species", LINEAR_NB_TREE, 3, true);
    let report = p.meta().search.as_ref().unwrap();
    // The two prior defaults are the portfolio's best ranked defaults of the three families,
    // and each was scored on every rung up to the top one.
    let types: Vec<&str> = report
        .prior_defaults
        .iter()
        .map(|&c| {
            let t = report.trials.iter().find(|t| t.candidate == c).unwrap();
            t.config.model.type_name()
        })
        .collect();
    assert_eq!(types, ["logistic_regression", "gaussian_nb"]);
    let top = report.trials.iter().map(|t| t.rung).max().unwrap();
    for &c in &report.prior_defaults {
        for rung in 0..top {
            assert!(
                report
                    .trials
                    .iter()
                    .any(|t| t.candidate == c && t.rung == rung),
                "prior candidate {c} missing on rung {rung}"
            );
        }
    }
    let chosen = report.trials[report.best_trial].candidate;
    let prior = better_prior(report);
    let why = report.choice.as_deref().unwrap();
    if chosen == prior {
        assert!(why.contains("prior default"), "{why}");
    } else {
        let (gain, se) = paired_gain(report, chosen, prior);
        assert!(gain > se, "{gain} {se}: {why}");
        assert!(why.contains("clearly better"), "{why}");
    }
    // On wine (133 training rows) extra trees scores best over 3-fold cross-validation
    // repeated four times, but by less than the corrected standard error of its paired gain
    // over the better prior default (the naive error, without Nadeau and Bengio's term for
    // the shared training rows, would have let it through): the prior default is kept.
    let wine = amlis::datasets::wine_table().unwrap();
    let families = ["logistic_regression", "svc", "extra_trees_classifier"];
    let p = three_family_auto(&wine, "cultivar", families, 1, true);
    let report = p.meta().search.as_ref().unwrap();
    let why = report.choice.as_deref().unwrap();
    assert!(why.ends_with("the prior default is kept"), "{why}");
    let chosen = report.trials[report.best_trial].candidate;
    assert_eq!(chosen, better_prior(report));
    let challenger = report
        .trials
        .iter()
        .filter(|t| t.rung == report.trials[report.best_trial].rung && t.status == TrialStatus::Ok)
        .max_by(|a, b| {
            a.repeated_score
                .unwrap()
                .total_cmp(&b.repeated_score.unwrap())
        })
        .unwrap();
    assert_eq!(
        challenger.config.model.type_name(),
        "extra_trees_classifier"
    );
    let (gain, se) = paired_gain(report, challenger.candidate, chosen);
    assert!(gain > 0.0 && gain <= se, "{gain} {se}");
    // Without the rule, extra trees is chosen.
    let off = three_family_auto(&wine, "cultivar", families, 1, false);
    assert_eq!(off.model().type_name(), "extra_trees_classifier");
}

#[test]
fn a_challenger_clearly_better_than_the_prior_defaults_is_chosen() {
    // XOR of two signs: neither a linear model nor naive Bayes can separate it; a tree can.
    let n = 300;
    let mut rng = amlis::common::rng::for_task(9, 0);
    let (mut a, mut b, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let (u, v): (f64, f64) = (
            rand::Rng::gen_range(&mut rng, -1.0..1.0),
            rand::Rng::gen_range(&mut rng, -1.0..1.0),
        );
        a.push(u);
        b.push(v);
        y.push(Some(if u * v > 0.0 { "same" } else { "other" }));
    }
    let table = Table::new(vec![
        ("a".to_string(), Column::numeric(a)),
        ("b".to_string(), Column::numeric(b)),
        ("y".to_string(), Column::categorical_from(&y)),
    ])
    .unwrap();
    let p = three_family_auto(&table, "y", LINEAR_NB_TREE, 3, true);
    let report = p.meta().search.as_ref().unwrap();
    assert_eq!(p.model().type_name(), "decision_tree_classifier");
    let chosen = report.trials[report.best_trial].candidate;
    let (gain, se) = paired_gain(report, chosen, better_prior(report));
    assert!(gain > 0.2 && gain > se, "{gain} {se}");
    // Without the rule the same search has no prior defaults and gives no reason.
    let off = three_family_auto(&table, "y", LINEAR_NB_TREE, 3, false);
    let r = off.meta().search.as_ref().unwrap();
    assert!(r.prior_defaults.is_empty() && r.choice.is_none());
}
