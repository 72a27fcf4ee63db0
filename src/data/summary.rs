//! Summary statistics per column, as `pandas.DataFrame.describe` computes them.
//!
//! For a numeric column: the count of non-missing cells, the missing count, the mean, the
//! standard deviation with `ddof = 1`, the minimum, the 25 %, 50 % and 75 % quantiles (linear
//! interpolation between order statistics, numpy's default) and the maximum; statistics of a
//! column with no values are `NaN` (and the standard deviation of a single value too). For a
//! categorical column: the counts, the number of distinct values and each value's count, sorted
//! by count (descending) then by value, like `value_counts`.
//!
//! ```
//! use amlis::data::summary::{describe, SummaryStats, SummaryTable};
//! use amlis::data::{Column, Table};
//!
//! let table = Table::new(vec![
//!     ("x".to_string(), Column::numeric(vec![1.0, 2.0, f64::NAN, 4.0])),
//!     ("c".to_string(), Column::categorical_from(&[Some("b"), Some("a"), Some("b"), None])),
//! ])?;
//! let summaries = describe(&table)?;
//! let SummaryStats::Numeric(x) = &summaries[0].stats else { unreachable!() };
//! assert_eq!((summaries[0].count, summaries[0].missing), (3, 1));
//! assert_eq!((x.mean, x.median, x.q25), (7.0 / 3.0, 2.0, 1.5));
//! let SummaryStats::Categorical(c) = &summaries[1].stats else { unreachable!() };
//! assert_eq!(c.value_counts, vec![("b".to_string(), 2), ("a".to_string(), 1)]);
//! println!("{}", SummaryTable(&summaries));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::fmt;

use ndarray::ArrayView1;
use ndarray_stats::SummaryStatisticsExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::table::{CategoricalColumn, Column, ColumnKind, Table};
use crate::error::Result;

/// Summary of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Column kind.
    pub kind: ColumnKind,
    /// Number of non-missing cells.
    pub count: usize,
    /// Number of missing cells.
    pub missing: usize,
    /// The statistics of the column's kind.
    pub stats: SummaryStats,
}

/// The kind-specific part of a [`ColumnSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SummaryStats {
    /// Statistics of a numeric column.
    Numeric(NumericStats),
    /// Statistics of a categorical column.
    Categorical(CategoricalStats),
}

/// Statistics of the non-missing values of a numeric column (`NaN` when undefined).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (`ddof = 1`, as pandas).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// 25 % quantile (linear interpolation).
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// 75 % quantile (linear interpolation).
    pub q75: f64,
    /// Largest value.
    pub max: f64,
}

/// Statistics of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalStats {
    /// Number of distinct values present.
    pub n_distinct: usize,
    /// Each present value with its count, by count (descending) then value.
    pub value_counts: Vec<(String, usize)>,
}

/// Summarises every column of a table (columns in parallel, results in column order).
pub fn describe(table: &Table) -> Result<Vec<ColumnSummary>> {
    let columns: Vec<(&str, &Column)> = table.iter().collect();
    Ok(columns
        .par_iter()
        .map(|&(name, column)| summarize(name, column))
        .collect())
}

/// Summarises one column.
pub fn summarize(name: &str, column: &Column) -> ColumnSummary {
    let missing = column.n_missing();
    ColumnSummary {
        name: name.to_string(),
        kind: column.kind(),
        count: column.len().saturating_sub(missing),
        missing,
        stats: match column {
            Column::Numeric(values) => SummaryStats::Numeric(numeric_stats(values)),
            Column::Categorical(c) => SummaryStats::Categorical(categorical_stats(c)),
        },
    }
}

fn numeric_stats(values: &[f64]) -> NumericStats {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let view = ArrayView1::from(&sorted[..]);
    let mean = SummaryStatisticsExt::mean(&view).unwrap_or(f64::NAN);
    let std = if sorted.len() > 1 {
        // Two passes, as pandas' nanvar: the sum of squared deviations from the mean.
        let ss: f64 = view.iter().map(|x| (x - mean) * (x - mean)).sum();
        (ss / (sorted.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    NumericStats {
        mean,
        std,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        q25: quantile_sorted(&sorted, 0.25),
        median: quantile_sorted(&sorted, 0.5),
        q75: quantile_sorted(&sorted, 0.75),
        max: sorted.last().copied().unwrap_or(f64::NAN),
    }
}

/// The `q` quantile of sorted values with numpy's linear interpolation (`NaN` when empty).
///
/// (ndarray-stats' `quantile_mut` would need a `noisy_float` argument; one sort serves all
/// three quantiles and the extremes.)
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    crate::common::stats::quantile_linear_sorted(sorted, q).unwrap_or(f64::NAN)
}

fn categorical_stats(column: &CategoricalColumn) -> CategoricalStats {
    let mut value_counts: Vec<(String, usize)> = column
        .value_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    value_counts.sort_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.cmp(b)));
    CategoricalStats {
        n_distinct: value_counts.len(),
        value_counts,
    }
}

/// Formats a number in at most `width` characters, like pandas' compact display.
fn compact(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e9).contains(&a) {
        format!("{x:.4e}")
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').to_string()
    }
}

/// Writes one summary row, the name padded to `name_width` characters.
fn write_row(f: &mut fmt::Formatter<'_>, s: &ColumnSummary, name_width: usize) -> fmt::Result {
    write!(
        f,
        "{:<name_width$} {:<11} {:>8} {:>7}",
        s.name,
        s.kind.to_string(),
        s.count,
        s.missing
    )?;
    match &s.stats {
        SummaryStats::Numeric(n) => {
            for v in [n.mean, n.std, n.min, n.q25, n.median, n.q75, n.max] {
                write!(f, " {:>11}", compact(v))?;
            }
            Ok(())
        }
        SummaryStats::Categorical(c) => {
            write!(f, "  {} distinct:", c.n_distinct)?;
            const SHOWN: usize = 4;
            for (value, n) in c.value_counts.iter().take(SHOWN) {
                write!(f, " {value} ({n})")?;
            }
            if c.value_counts.len() > SHOWN {
                write!(f, " …")?;
            }
            Ok(())
        }
    }
}

impl fmt::Display for ColumnSummary {
    /// One line: name, kind, count, missing, then the statistics of the kind (at most four
    /// values of a categorical column).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_row(f, self, 16)
    }
}

/// Displays summaries as a compact table, one row per column, like pandas' `describe`
/// transposed (`describe().T`).
///
/// ```text
/// column           kind           count missing        mean         std         min         25%         50%         75%         max
/// bill_length_mm   numeric          342       2   43.921930    5.459584        32.1      39.225       44.45        48.5        59.6
/// species          categorical      344       0  3 distinct: Adelie (152) Gentoo (124) Chinstrap (68)
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SummaryTable<'a>(pub &'a [ColumnSummary]);

impl fmt::Display for SummaryTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .0
            .iter()
            .map(|s| s.name.chars().count())
            .fold(16, usize::max);
        write!(
            f,
            "{:<width$} {:<11} {:>8} {:>7}",
            "column", "kind", "count", "missing"
        )?;
        for h in ["mean", "std", "min", "25%", "50%", "75%", "max"] {
            write!(f, " {h:>11}")?;
        }
        for s in self.0 {
            writeln!(f)?;
            write_row(f, s, width)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([1, 2, 4, 8], [0, .25, .5, .75, 1]) = [1, 1.75, 3, 5, 8]
        let v = [1.0, 2.0, 4.0, 8.0];
        let got: Vec<f64> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&q| quantile_sorted(&v, q))
            .collect();
        assert_eq!(got, vec![1.0, 1.75, 3.0, 5.0, 8.0]);
        assert_eq!(quantile_sorted(&[3.0], 0.25), 3.0);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn empty_and_single_value_columns() {
        let s = summarize("x", &Column::numeric(vec![f64::NAN, f64::NAN]));
        assert_eq!((s.count, s.missing), (0, 2));
        let SummaryStats::Numeric(n) = s.stats else {
            panic!("numeric")
        };
        assert!(n.mean.is_nan() && n.std.is_nan() && n.min.is_nan() && n.max.is_nan());
        let s = summarize("x", &Column::numeric(vec![5.0]));
        let SummaryStats::Numeric(n) = s.stats else {
            panic!("numeric")
        };
        assert_eq!((n.mean, n.min, n.median, n.max), (5.0, 5.0, 5.0, 5.0));
        assert!(n.std.is_nan());
    }

    #[test]
    fn categorical_counts_sorted_by_count_then_value() {
        let c = Column::categorical_from(&[Some("b"), Some("c"), None, Some("a"), Some("c")]);
        let s = summarize("c", &c);
        assert_eq!((s.count, s.missing), (4, 1));
        let SummaryStats::Categorical(cs) = &s.stats else {
            panic!("categorical")
        };
        assert_eq!(cs.n_distinct, 3);
        assert_eq!(
            cs.value_counts,
            vec![("c".into(), 2), ("a".into(), 1), ("b".into(), 1)]
        );
        assert_eq!(
            s.to_string(),
            "c                categorical        4       1  3 distinct: c (2) a (1) b (1)"
        );
    }

    #[test]
    fn numeric_line_is_compact() {
        let s = summarize("x", &Column::numeric(vec![1.0, 2.0, 4.0, 8.0]));
        let line = s.to_string();
        assert!(line.starts_with("x                numeric            4       0"));
        assert!(line.contains(" 3.75 ") && line.contains(" 1.75 "), "{line}");
    }
}
