//! SVG plots of an [`EvaluationReport`] with plotters: ROC and precision-recall curves, the
//! confusion-matrix heat map, predicted-vs-actual and residual scatter plots, cluster sizes.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
use crate::evaluate::report::{
    ClassificationDetails, ClusteringDetails, Details, EvaluationReport, RegressionDetails,
};

const SIZE: (u32, u32) = (640, 520);
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

fn draw_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("cannot draw the plot: {e}")),
    }
}

pub(super) fn write_all(report: &EvaluationReport, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    match &report.details {
        Details::Classification(d) => {
            if !d.curves.is_empty() {
                written.push(curves(d, &dir.join("roc.svg"), true)?);
                written.push(curves(d, &dir.join("precision_recall.svg"), false)?);
            }
            written.push(confusion(d, &dir.join("confusion_matrix.svg"))?);
        }
        Details::Regression(d) => {
            written.push(scatter(d, &dir.join("predicted_vs_actual.svg"), false)?);
            written.push(scatter(d, &dir.join("residuals.svg"), true)?);
        }
        Details::Clustering(d) => written.push(cluster_sizes(d, &dir.join("cluster_sizes.svg"))?),
    }
    Ok(written)
}

/// The rows of each cluster label as bars (noise, label -1, in grey).
fn cluster_sizes(d: &ClusteringDetails, path: &Path) -> Result<PathBuf> {
    let err = |e: &dyn std::fmt::Display| draw_err(path, e);
    let k = i32::try_from(d.cluster_sizes.len().max(1)).unwrap_or(i32::MAX);
    let top = d
        .cluster_sizes
        .iter()
        .map(|c| c.size)
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let label = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| d.cluster_sizes.get(i))
            .map(|c| format!("{}", c.label))
            .unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(&root)
        .caption("Cluster sizes", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((0..k).into_segmented(), 0.0..top)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("Cluster label")
        .y_desc("Rows")
        .x_labels(d.cluster_sizes.len())
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => label(*i),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| err(&e))?;
    for (i, c) in (0i32..).zip(&d.cluster_sizes) {
        let fill = if c.label == -1.0 {
            RGBColor(150, 150, 150)
        } else {
            color(0)
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), c.size as f64),
                ],
                fill.filled(),
            )))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}

/// Fills `root` white and builds on it a chart over `x` × `y` with `(title, x label,
/// y label)` and its mesh drawn; `y_label_area` is the width kept for the y tick labels.
fn xy_chart<'a, 'p>(
    root: &'a DrawingArea<SVGBackend<'p>, plotters::coord::Shift>,
    path: &Path,
    (title, xd, yd): (&str, &str, &str),
    y_label_area: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<
    ChartContext<
        'a,
        SVGBackend<'p>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
> {
    let err = |e: &dyn std::fmt::Display| draw_err(path, e);
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(xd)
        .y_desc(yd)
        .draw()
        .map_err(|e| err(&e))?;
    Ok(chart)
}

/// ROC curves (with the chance diagonal) or precision-recall curves, one line per class.
fn curves(d: &ClassificationDetails, path: &Path, roc: bool) -> Result<PathBuf> {
    let err = |e: &dyn std::fmt::Display| draw_err(path, e);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    let labels = if roc {
        ("ROC curve", "False positive rate", "True positive rate")
    } else {
        ("Precision-recall curve", "Recall", "Precision")
    };
    let mut chart = xy_chart(&root, path, labels, 55, 0f64..1f64, 0f64..1.02f64)?;
    if roc {
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
    }
    for (i, c) in d.curves.iter().enumerate() {
        let (xs, ys, label) = if roc {
            (
                &c.roc.fpr,
                &c.roc.tpr,
                format!("{} (AUC {:.3})", c.class, c.roc_auc),
            )
        } else {
            (
                &c.pr.recall,
                &c.pr.precision,
                format!("{} (AP {:.3})", c.class, c.average_precision),
            )
        };
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (*x, *y))
            .collect();
        let col = color(i);
        chart
            .draw_series(LineSeries::new(points, col.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(if roc {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::LowerLeft
        })
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}

/// The confusion matrix as a heat map with the count in each cell (true classes top to
/// bottom, predicted classes left to right).
fn confusion(d: &ClassificationDetails, path: &Path) -> Result<PathBuf> {
    let err = |e: &dyn std::fmt::Display| draw_err(path, e);
    let k = i32::try_from(d.classes.len().max(1)).unwrap_or(i32::MAX);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let name = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| d.classes.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(&root)
        .caption("Confusion matrix", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d((0..k).into_segmented(), (0..k).into_segmented())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("Predicted")
        .y_desc("True")
        .x_labels(d.classes.len())
        .y_labels(d.classes.len())
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => name(*i),
            _ => String::new(),
        })
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => name(k - 1 - *i),
            _ => String::new(),
        })
        .draw()
        .map_err(|e| err(&e))?;
    let max = d
        .confusion_matrix
        .iter()
        .flatten()
        .fold(0.0f64, |m, &v| m.max(v))
        .max(1.0);
    for (r, row) in (0i32..).zip(&d.confusion_matrix) {
        let y = k - 1 - r;
        for (c, &v) in (0i32..).zip(row) {
            let t = v / max;
            let fill = RGBColor(
                (255.0 - 224.0 * t) as u8,
                (255.0 - 136.0 * t) as u8,
                (255.0 - 75.0 * t) as u8,
            );
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
                    ],
                    fill.filled(),
                )))
                .map_err(|e| err(&e))?;
            let text_color = if t > 0.5 { WHITE } else { BLACK };
            let style = ("sans-serif", 18)
                .into_font()
                .color(&text_color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{v}"),
                    (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y)),
                    style,
                )))
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// Predicted against actual (with the identity line), or residuals against predicted (with
/// the zero line).
fn scatter(d: &RegressionDetails, path: &Path, residuals: bool) -> Result<PathBuf> {
    let err = |e: &dyn std::fmt::Display| draw_err(path, e);
    let points: Vec<(f64, f64)> = d
        .y_true
        .iter()
        .zip(&d.y_pred)
        .map(|(&t, &p)| if residuals { (p, t - p) } else { (t, p) })
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (x0, x1) = range(points.iter().map(|p| p.0));
    let (y0, y1) = if residuals {
        range(points.iter().map(|p| p.1).chain([0.0]))
    } else {
        let r = range(points.iter().flat_map(|p| [p.0, p.1]));
        (r.0.min(x0), r.1.max(x1))
    };
    let (x0, x1) = if residuals { (x0, x1) } else { (y0, y1) };
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    let labels = if residuals {
        ("Residuals", "Predicted", "True - predicted")
    } else {
        ("Predicted vs actual", "Actual", "Predicted")
    };
    let mut chart = xy_chart(&root, path, labels, 65, x0..x1, y0..y1)?;
    let reference = if residuals {
        vec![(x0, 0.0), (x1, 0.0)]
    } else {
        vec![(x0, x0), (x1, x1)]
    };
    chart
        .draw_series(LineSeries::new(reference, BLACK.mix(0.5).stroke_width(1)))
        .map_err(|e| err(&e))?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, color(0).mix(0.6).filled())),
        )
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}
