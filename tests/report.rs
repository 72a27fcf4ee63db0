//! The evaluation report: its numbers equal the metric functions, its SVG plots exist and
//! hold the expected curves.

use amlis::config::TrainConfig;
use amlis::metrics::{self, Average, KappaWeights, MultiClass, PrfOptions};
use amlis::pipeline::Pipeline;
use amlis::report::{evaluate, evaluate_metric, evaluate_model, Details};
use amlis::traits::{Dataset, FitContext};
use ndarray::Array1;

fn fit(table: &amlis::data::Table, target: &str, config: &str) -> Pipeline {
    Pipeline::fit(
        &TrainConfig::from_json(config).unwrap(),
        table,
        target,
        &FitContext::new().random_state(3),
    )
    .unwrap()
}

fn svg_dir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn read_svg(path: &std::path::Path) -> String {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(s.starts_with("<svg"), "{}", path.display());
    assert!(s.trim_end().ends_with("</svg>"), "{}", path.display());
    assert_eq!(s.matches("<svg").count(), 1);
    s
}

/// Curves are drawn with stroke width 2, once in the plot and once in the legend.
fn n_curves(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""))
        .count()
        / 2
}

#[test]
fn binary_report_equals_the_metric_functions() {
    let table = amlis::datasets::breast_cancer_table().unwrap();
    let p = fit(
        &table,
        "diagnosis",
        r#"{"model": {"type": "dummy_classifier", "strategy": "stratified"},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    );
    let r = evaluate(&p, &table).unwrap();
    let y = amlis::datasets::breast_cancer().unwrap().targets().unwrap();
    let pred = p.predict_table(&table).unwrap();
    let proba = p.predict_proba_table(&table).unwrap();
    let (yv, pv) = (y.view(), pred.view());
    let macro_ = PrfOptions {
        average: Some(Average::Macro),
        ..PrfOptions::default()
    };
    let weighted = PrfOptions {
        average: Some(Average::Weighted),
        ..PrfOptions::default()
    };
    let expected = [
        (
            "accuracy",
            metrics::accuracy_score(yv, pv, true, None).unwrap(),
        ),
        (
            "balanced_accuracy",
            metrics::balanced_accuracy_score(yv, pv, false, None).unwrap(),
        ),
        (
            "precision_macro",
            metrics::precision_score(yv, pv, &macro_, None).unwrap(),
        ),
        (
            "recall_macro",
            metrics::recall_score(yv, pv, &macro_, None).unwrap(),
        ),
        (
            "f1_macro",
            metrics::f1_score(yv, pv, &macro_, None).unwrap(),
        ),
        (
            "f1_weighted",
            metrics::f1_score(yv, pv, &weighted, None).unwrap(),
        ),
        (
            "log_loss",
            metrics::log_loss(yv, proba.view(), None, true, None).unwrap(),
        ),
        (
            "roc_auc",
            metrics::roc_auc_score(yv, proba.column(1), None, None).unwrap(),
        ),
        (
            "average_precision",
            metrics::average_precision_score(yv, proba.column(1), 1.0, None).unwrap(),
        ),
        (
            "matthews_corrcoef",
            metrics::matthews_corrcoef(yv, pv, None).unwrap(),
        ),
        (
            "cohen_kappa",
            metrics::cohen_kappa_score(yv, pv, None, KappaWeights::None, None).unwrap(),
        ),
    ];
    for (name, v) in expected {
        assert_eq!(r.metric(name), Some(v), "{name}");
    }
    // A stratified dummy is a coin weighted by the prior: accuracy well below 1, AUC near 0.5.
    let acc = r.metric("accuracy").unwrap();
    assert!(acc > 0.4 && acc < 0.7, "{acc}");
    assert!(r.metric("roc_auc_ovr").is_none());
    let Details::Classification(d) = &r.details else {
        panic!()
    };
    let cm = metrics::confusion_matrix(yv, pv, Some(&[0.0, 1.0]), None, None).unwrap();
    assert_eq!(
        d.confusion_matrix,
        vec![cm.row(0).to_vec(), cm.row(1).to_vec()]
    );
    assert_eq!(d.confusion_matrix.iter().flatten().sum::<f64>(), 569.0);
    assert_eq!(d.curves.len(), 1);
    assert_eq!(d.curves[0].class, "malignant");
    assert_eq!(Some(d.curves[0].roc_auc), r.metric("roc_auc"));
    let text = r.to_string();
    assert!(text.contains("malignant") && text.contains("f1-score") && text.contains("roc_auc"));
    // Serializable, and read back equal: the first ROC threshold, +inf, is written as "inf".
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["metrics"][0][0], "accuracy");
    assert_eq!(json["details"]["task"], "classification");
    assert_eq!(json["details"]["curves"][0]["roc"]["thresholds"][0], "inf");
    let back: amlis::report::EvaluationReport =
        serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);

    let dir = svg_dir("report_binary");
    let files = r.write_svg(&dir).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(n_curves(&read_svg(&dir.join("roc.svg"))), 1);
    assert_eq!(n_curves(&read_svg(&dir.join("precision_recall.svg"))), 1);
    let cm_svg = read_svg(&dir.join("confusion_matrix.svg"));
    for v in d.confusion_matrix.iter().flatten() {
        assert!(cm_svg.contains(&format!("\n{v}\n")), "count {v} missing");
    }
    assert!(cm_svg.contains("benign") && cm_svg.contains("malignant"));

    assert_eq!(
        evaluate_metric(&p, &table, "roc_auc").unwrap(),
        r.metric("roc_auc").unwrap()
    );
    assert_eq!(
        evaluate_metric(&p, &table, "neg_log_loss").unwrap(),
        -r.metric("log_loss").unwrap()
    );
    let e = evaluate_metric(&p, &table, "r2").unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
    assert!(evaluate_metric(&p, &table, "acuracy").is_err());
}

#[test]
fn multiclass_report_has_one_curve_per_class() {
    let table = amlis::datasets::penguins_table().unwrap();
    let p = fit(
        &table,
        "species",
        r#"{"model": {"type": "dummy_classifier", "strategy": "stratified"},
            "preprocess": [{"type": "simple_imputer", "strategy": "most_frequent"}, {"type": "one_hot_encoder"}]}"#,
    );
    let r = evaluate(&p, &table).unwrap();
    let y = amlis::datasets::penguins().unwrap().targets().unwrap();
    let proba = p.predict_proba_table(&table).unwrap();
    let ovr = metrics::roc_auc_score_multiclass(
        y.view(),
        proba.view(),
        MultiClass::Ovr,
        Average::Macro,
        None,
        None,
    )
    .unwrap();
    assert_eq!(r.metric("roc_auc_ovr"), Some(ovr));
    assert!(r.metric("roc_auc").is_none() && r.metric("average_precision").is_none());
    let Details::Classification(d) = &r.details else {
        panic!()
    };
    assert_eq!(d.curves.len(), 3);
    assert_eq!(d.confusion_matrix.len(), 3);
    let dir = svg_dir("report_multiclass");
    r.write_svg(&dir).unwrap();
    assert_eq!(n_curves(&read_svg(&dir.join("roc.svg"))), 3);
    assert_eq!(n_curves(&read_svg(&dir.join("precision_recall.svg"))), 3);
    let cm = read_svg(&dir.join("confusion_matrix.svg"));
    assert_eq!(
        cm.matches("<rect").count() - 1,
        9,
        "one cell per pair, plus the background"
    );
}

#[test]
fn regression_report_and_plots() {
    let table = amlis::datasets::diabetes_table().unwrap();
    let p = fit(
        &table,
        "progression",
        r#"{"model": {"type": "dummy_regressor", "strategy": "median"}}"#,
    );
    let r = evaluate(&p, &table).unwrap();
    let y: Array1<f64> = amlis::datasets::diabetes().unwrap().targets().unwrap();
    let pred = p.predict_table(&table).unwrap();
    let (yv, pv) = (y.view(), pred.view());
    let expected = [
        ("r2", metrics::r2_score(yv, pv, None, true).unwrap()),
        (
            "mean_squared_error",
            metrics::mean_squared_error(yv, pv, None).unwrap(),
        ),
        (
            "root_mean_squared_error",
            metrics::root_mean_squared_error(yv, pv, None).unwrap(),
        ),
        (
            "mean_absolute_error",
            metrics::mean_absolute_error(yv, pv, None).unwrap(),
        ),
        (
            "median_absolute_error",
            metrics::median_absolute_error(yv, pv, None).unwrap(),
        ),
        (
            "mean_absolute_percentage_error",
            metrics::mean_absolute_percentage_error(yv, pv, None).unwrap(),
        ),
        ("max_error", metrics::max_error(yv, pv).unwrap()),
    ];
    for (name, v) in expected {
        assert_eq!(r.metric(name), Some(v), "{name}");
    }
    assert!(r.metric("explained_variance").is_some());
    assert!(r.metric("accuracy").is_none());
    let Details::Regression(d) = &r.details else {
        panic!()
    };
    assert_eq!(d.y_true.len(), 442);
    let dir = svg_dir("report_regression");
    let files = r.write_svg(&dir).unwrap();
    assert_eq!(files.len(), 2);
    for f in ["predicted_vs_actual.svg", "residuals.svg"] {
        let s = read_svg(&dir.join(f));
        assert_eq!(s.matches("<circle").count(), 442, "{f}");
    }
    assert_eq!(
        evaluate_metric(&p, &table, "neg_mean_squared_error").unwrap(),
        -r.metric("mean_squared_error").unwrap()
    );
    assert!(evaluate_metric(&p, &table, "roc_auc").is_err());
    // The same model through a dataset gives the same numbers.
    let data = amlis::datasets::diabetes().unwrap();
    let r2 = evaluate_model(p.model(), &data).unwrap();
    assert_eq!(r2.metrics, r.metrics);
}

#[test]
fn clustering_report_scores_the_features_the_clusterer_saw() {
    let iris = amlis::datasets::iris_table().unwrap();
    let features = iris.drop(&["species"]).unwrap();
    let config = TrainConfig::from_json(
        r#"{"model": {"type": "k_means", "n_clusters": 3, "n_init": 4, "random_state": 0},
            "preprocess": [{"type": "standard_scaler"}]}"#,
    )
    .unwrap();
    let ctx = FitContext::new();
    // Without a target: the scores of the features alone.
    let p = Pipeline::fit(&config, &features, None, &ctx).unwrap();
    let r = evaluate(&p, &features).unwrap();
    let x = p.transform_table(&features).unwrap();
    let labels = p.predict_table(&features).unwrap();
    let names: Vec<&str> = r.metrics.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "silhouette_score",
            "calinski_harabasz_score",
            "davies_bouldin_score"
        ]
    );
    assert_eq!(
        r.metric("silhouette_score"),
        Some(metrics::silhouette_score(x.view(), labels.view()).unwrap())
    );
    assert_eq!(
        r.metric("davies_bouldin_score"),
        Some(metrics::davies_bouldin_score(x.view(), labels.view()).unwrap())
    );
    assert_eq!(
        evaluate_metric(&p, &features, "calinski_harabasz").unwrap(),
        metrics::calinski_harabasz_score(x.view(), labels.view()).unwrap()
    );
    let Details::Clustering(d) = &r.details else {
        panic!("{r}")
    };
    assert_eq!((d.n_clusters, d.n_noise, d.labelled), (3, 0, false));
    assert_eq!(d.cluster_sizes.iter().map(|c| c.size).sum::<usize>(), 150);
    let text = r.to_string();
    assert!(text.contains("3 clusters, 0 noise rows"), "{text}");
    let dir = svg_dir("report_clustering");
    let written = r.write_svg(&dir).unwrap();
    assert_eq!(written, vec![dir.join("cluster_sizes.svg")]);
    read_svg(&written[0]);

    // Fitted naming the truth: the agreement scores too, the same partition scores.
    let q = Pipeline::fit(&config, &iris, "species", &ctx).unwrap();
    let r2 = evaluate(&q, &iris).unwrap();
    for name in [
        "adjusted_rand_score",
        "normalized_mutual_info_score",
        "homogeneity_score",
        "completeness_score",
        "v_measure_score",
    ] {
        let v = r2.metric(name).unwrap_or_else(|| panic!("{name}: {r2}"));
        assert_eq!(v, evaluate_metric(&q, &iris, name).unwrap());
    }
    assert_eq!(r2.metric("silhouette_score"), r.metric("silhouette_score"));
    // The same model on a dense dataset.
    let data = amlis::datasets::iris().unwrap();
    let r3 = evaluate_model(q.model(), &data).unwrap();
    assert!(r3.metric("adjusted_rand_score").is_some());
}
