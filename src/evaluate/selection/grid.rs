//! Parameter grids, as scikit-learn's `ParameterGrid`: a map path → list of values (or a list
//! of such maps), expanded to every combination.
//!
//! Order as scikit-learn: the grids in order; within a grid, the paths sorted and the
//! cartesian product taken with the last path varying fastest.
//!
//! ```
//! use amlis::evaluate::selection::ParamGrid;
//! use serde_json::json;
//!
//! let grid = ParamGrid::from_json(r#"{"model.strategy": ["mean", "median"],
//!                                     "preprocess.0.strategy": ["mean", "median", "most_frequent"]}"#)?;
//! let candidates = grid.candidates()?;
//! assert_eq!(candidates.len(), 6);
//! assert_eq!(candidates[1]["preprocess.0.strategy"], json!("median"));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::evaluate::selection::param_path::Params;

/// One or more grids of parameter values by path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamGrid {
    /// The grids; the candidates are those of each grid in turn.
    pub grids: Vec<BTreeMap<String, Vec<Value>>>,
}

impl ParamGrid {
    /// An empty grid list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a grid: path → the values to try.
    pub fn grid(mut self, grid: BTreeMap<String, Vec<Value>>) -> Self {
        self.grids.push(grid);
        self
    }

    /// Adds one path with its values to the last grid (starting one if there is none).
    pub fn param(mut self, path: &str, values: Vec<Value>) -> Self {
        if self.grids.is_empty() {
            self.grids.push(BTreeMap::new());
        }
        if let Some(g) = self.grids.last_mut() {
            g.insert(path.to_string(), values);
        }
        self
    }

    /// Parses `{"path": [values]}` or `[{"path": [values]}, ...]`.
    pub fn from_json(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text).map_err(|e| Error::Config {
            key: "<param_grid>".into(),
            message: format!("not valid JSON: {e}"),
        })?;
        let maps = match v {
            Value::Array(items) => items,
            obj @ Value::Object(_) => vec![obj],
            other => {
                return Err(Error::Config {
                    key: "<param_grid>".into(),
                    message: format!("expected an object or a list of objects, found {other}"),
                })
            }
        };
        let mut grids = Vec::with_capacity(maps.len());
        for (i, m) in maps.into_iter().enumerate() {
            let Value::Object(m) = m else {
                return Err(Error::Config {
                    key: format!("<param_grid>.{i}"),
                    message: "expected an object of path → list of values".into(),
                });
            };
            let mut g = BTreeMap::new();
            for (path, values) in m {
                match values {
                    Value::Array(vs) => {
                        g.insert(path, vs);
                    }
                    other => {
                        return Err(Error::Config {
                            key: path,
                            message: format!("expected a list of values to try, found {other}"),
                        })
                    }
                }
            }
            grids.push(g);
        }
        Ok(Self { grids })
    }

    /// Every combination, in scikit-learn's order. An empty list of values is an error naming
    /// its path.
    pub fn candidates(&self) -> Result<Vec<Params>> {
        let mut out = Vec::new();
        for grid in &self.grids {
            if let Some((path, _)) = grid.iter().find(|(_, v)| v.is_empty()) {
                return Err(Error::Config {
                    key: path.clone(),
                    message: "the list of values to try is empty".into(),
                });
            }
            let mut combos: Vec<Params> = vec![Params::new()];
            for (path, values) in grid {
                let mut next = Vec::with_capacity(combos.len() * values.len());
                for c in &combos {
                    for v in values {
                        let mut c = c.clone();
                        c.insert(path.clone(), v.clone());
                        next.push(c);
                    }
                }
                combos = next;
            }
            out.extend(combos);
        }
        if out.is_empty() {
            return Err(Error::Empty("parameter grid".into()));
        }
        Ok(out)
    }
}
