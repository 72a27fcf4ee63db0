//! Test-side loading of the shipped CSV files for the logistic and SGD tests (independent of
//! the crate's CSV reader), and the same standardization as scikit-learn's StandardScaler.
#![allow(dead_code)]

use amlis::data::{Column, DenseDataset, Table, TaskKind};
use amlis::traits::Dataset;
use ndarray::{Array2, Axis};

/// Reads `data/<file>` into a table: columns that parse as numbers are numeric, the others
/// categorical.
pub fn table(file: &str) -> Table {
    let path = amlis::datasets::data_path(file);
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let names: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for rec in rdr.records() {
        for (c, v) in cols.iter_mut().zip(rec.unwrap().iter()) {
            c.push(v.to_string());
        }
    }
    let columns = names
        .into_iter()
        .zip(cols)
        .map(|(name, vals)| {
            let nums: Option<Vec<f64>> = vals
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        Some(f64::NAN)
                    } else {
                        v.parse().ok()
                    }
                })
                .collect();
            let col = match nums {
                Some(n) => Column::numeric(n),
                None => Column::categorical_from(
                    &vals
                        .iter()
                        .map(|v| (!v.is_empty()).then_some(v.as_str()))
                        .collect::<Vec<_>>(),
                ),
            };
            (name, col)
        })
        .collect();
    Table::new(columns).unwrap()
}

/// A classification dataset from a shipped CSV file.
pub fn classification(file: &str, target: &str) -> DenseDataset {
    DenseDataset::from_table(&table(file), target, TaskKind::Classification).unwrap()
}

/// Column-wise standardization with the population standard deviation (StandardScaler);
/// constant columns are only centred.
pub fn standardize(x: &Array2<f64>) -> Array2<f64> {
    let n = x.nrows() as f64;
    let mean = x.mean_axis(Axis(0)).unwrap();
    let mut out = x - &mean;
    for mut col in out.columns_mut() {
        let sd = (col.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
        if sd > 0.0 {
            col.mapv_inplace(|v| v / sd);
        }
    }
    out
}

/// The same dataset with its features replaced.
pub fn rebuild(data: &DenseDataset, x: Array2<f64>) -> DenseDataset {
    DenseDataset::new(x, data.targets(), data.task().clone()).unwrap()
}

/// A shipped classification data set with standardized features.
pub fn standardized(file: &str, target: &str) -> DenseDataset {
    let d = classification(file, target);
    rebuild(&d, standardize(&d.features().to_owned()))
}
