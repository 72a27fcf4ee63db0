//! The classification report: per-class precision, recall, F1 and support with accuracy and
//! the macro / weighted averages, as a struct and as scikit-learn's text table.

use std::fmt;

use ndarray::ArrayView1;

use crate::data::format_label;
use crate::error::{Error, Result};
use crate::evaluate::metrics::classification::{
    precision_recall_fscore_support, Average, PrfOptions,
};
use crate::evaluate::metrics::confusion::targets;

/// One line of a [`ClassificationReport`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportRow {
    /// The class name, or the average's heading (`"macro avg"`).
    pub name: String,
    /// Precision.
    #[serde(with = "crate::common::json_float::one")]
    pub precision: f64,
    /// Recall.
    #[serde(with = "crate::common::json_float::one")]
    pub recall: f64,
    /// F1 score.
    #[serde(with = "crate::common::json_float::one")]
    pub f1: f64,
    /// The (weighted) number of true samples.
    pub support: f64,
}

/// scikit-learn's `classification_report`: one [`ReportRow`] per class, accuracy, and the
/// averages. `Display` prints the text table with `digits` decimals.
///
/// ```
/// use ndarray::arr1;
/// let r = amlis::evaluate::metrics::classification_report(
///     arr1(&[0., 1., 2., 2., 2.]).view(), arr1(&[0., 0., 2., 2., 1.]).view(),
///     None, None, None, 2, 0.0)?;
/// assert_eq!(r.accuracy, Some(0.6));
/// assert!(r.to_string().contains("weighted avg       0.70      0.60      0.61         5"));
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassificationReport {
    /// One row per class (label order).
    pub classes: Vec<ReportRow>,
    /// Accuracy, when the report covers every label present (else `micro_avg` is given).
    #[serde(with = "crate::common::json_float::option")]
    pub accuracy: Option<f64>,
    /// The micro average, when some present label is left out of the report.
    pub micro_avg: Option<ReportRow>,
    /// The unweighted mean over classes.
    pub macro_avg: ReportRow,
    /// The support-weighted mean over classes.
    pub weighted_avg: ReportRow,
    /// Decimals in the text form.
    pub digits: usize,
    /// Whether sample weights were given (supports are then printed as decimals).
    pub weighted_support: bool,
}

/// Builds the [`ClassificationReport`] of predicted labels.
///
/// `labels` selects and orders the classes (default: every label present, sorted);
/// `target_names` names them (default: the labels printed as integers) and must have one name
/// per label. `zero_division` is the value of undefined ratios (0 is scikit-learn's "warn").
pub fn classification_report(
    y_true: ArrayView1<'_, f64>,
    y_pred: ArrayView1<'_, f64>,
    labels: Option<&[f64]>,
    target_names: Option<&[String]>,
    sample_weight: Option<ArrayView1<'_, f64>>,
    digits: usize,
    zero_division: f64,
) -> Result<ClassificationReport> {
    const CTX: &str = "classification_report";
    let t = targets(CTX, y_true, y_pred, sample_weight)?;
    let labels: Vec<f64> = labels.map_or_else(|| t.present.clone(), <[f64]>::to_vec);
    let micro_is_accuracy = t.present.iter().all(|p| labels.contains(p));
    let names: Vec<String> = match target_names {
        Some(n) if n.len() != labels.len() => {
            return Err(Error::shape(
                CTX,
                format!("one target name per label ({} labels)", labels.len()),
                format!("{} target names", n.len()),
            ))
        }
        Some(n) => n.to_vec(),
        None => labels.iter().map(|l| format_label(*l)).collect(),
    };
    let opts = |average| PrfOptions {
        average,
        labels: Some(labels.clone()),
        zero_division,
        ..PrfOptions::default()
    };
    let per = precision_recall_fscore_support(y_true, y_pred, 1.0, &opts(None), sample_weight)?;
    let support = per.support.clone().unwrap_or_default();
    let total: f64 = crate::evaluate::metrics::check::np_sum(&support);
    let classes = (0..names.len())
        .map(|i| ReportRow {
            name: names[i].clone(),
            precision: per.precision[i],
            recall: per.recall[i],
            f1: per.fscore[i],
            support: support[i],
        })
        .collect();
    let avg = |a: Average, name: &str| -> Result<ReportRow> {
        let r =
            precision_recall_fscore_support(y_true, y_pred, 1.0, &opts(Some(a)), sample_weight)?;
        Ok(ReportRow {
            name: name.to_string(),
            precision: r.precision[0],
            recall: r.recall[0],
            f1: r.fscore[0],
            support: total,
        })
    };
    let micro = avg(Average::Micro, "micro avg")?;
    Ok(ClassificationReport {
        classes,
        accuracy: micro_is_accuracy.then_some(micro.f1),
        micro_avg: (!micro_is_accuracy).then_some(micro),
        macro_avg: avg(Average::Macro, "macro avg")?,
        weighted_avg: avg(Average::Weighted, "weighted avg")?,
        digits,
        weighted_support: sample_weight.is_some(),
    })
}

impl ClassificationReport {
    fn support_text(&self, s: f64) -> String {
        if !self.weighted_support {
            format!("{}", s as i64)
        } else if s.fract() == 0.0 && s.abs() < 1e16 {
            format!("{s:.1}")
        } else {
            format!("{s}")
        }
    }
}

impl fmt::Display for ClassificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self
            .classes
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        let w = name_width.max("weighted avg".len()).max(self.digits);
        let d = self.digits;
        writeln!(
            f,
            "{:>w$}  {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, r: &ReportRow| {
            writeln!(
                f,
                "{:>w$}  {:>9} {:>9} {:>9} {:>9}",
                r.name,
                fixed(r.precision, d),
                fixed(r.recall, d),
                fixed(r.f1, d),
                self.support_text(r.support)
            )
        };
        for r in &self.classes {
            row(f, r)?;
        }
        writeln!(f)?;
        if let Some(acc) = self.accuracy {
            writeln!(
                f,
                "{:>w$}  {:>9} {:>9} {:>9} {:>9}",
                "accuracy",
                "",
                "",
                fixed(acc, d),
                self.support_text(self.weighted_avg.support)
            )?;
        }
        if let Some(m) = &self.micro_avg {
            row(f, m)?;
        }
        row(f, &self.macro_avg)?;
        row(f, &self.weighted_avg)
    }
}

/// `x` with `d` decimals, rounding half to even on exact ties as Python's `format` does.
fn fixed(x: f64, d: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    format!("{x:.d$}")
}
