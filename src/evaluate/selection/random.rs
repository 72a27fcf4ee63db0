//! Parameter distributions for random search: `uniform(low, high)`, `log_uniform(low, high)`,
//! `int_range(low, high)` (`high` excluded, as `scipy.stats.randint`) and `choice([...])`.
//!
//! Candidate `i` draws its parameters (paths in sorted order) from its own stream
//! `rng::for_task(random_state, i)`, so the candidates are the same on every machine and for
//! any thread count (not numpy's draws, which cannot be matched).
//!
//! ```
//! use amlis::evaluate::selection::{Distribution, ParamDistributions};
//! use serde_json::json;
//!
//! let d = ParamDistributions::new()
//!     .param("model.C", Distribution::LogUniform { low: 1e-3, high: 1e3 })
//!     .param("model.strategy", Distribution::Choice { values: vec![json!("mean"), json!("median")] });
//! let a = d.sample(10, 42)?;
//! assert_eq!(a, d.sample(10, 42)?);
//! assert!(a.iter().all(|p| (1e-3..=1e3).contains(&p["model.C"].as_f64().unwrap_or(0.0))));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::rng;
use crate::error::{Error, Result};
use crate::evaluate::selection::param_path::Params;

/// A distribution of one parameter's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// A real uniformly in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// A positive real whose logarithm is uniform in `[ln low, ln high)`.
    LogUniform {
        /// Lower bound (> 0).
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// An integer uniformly in `low..high` (`high` excluded).
    IntRange {
        /// Smallest value.
        low: i64,
        /// One past the largest value.
        high: i64,
    },
    /// One of the listed values, uniformly.
    Choice {
        /// The values.
        values: Vec<Value>,
    },
}

impl Distribution {
    /// Checks the bounds; `path` names the parameter in the error.
    pub fn validate(&self, path: &str) -> Result<()> {
        let bad = |expected: &str, value: String| Err(Error::param(path, value, expected));
        match self {
            Distribution::Uniform { low, high }
                if !(low.is_finite() && high.is_finite() && low < high) =>
            {
                bad("finite low < high", format!("uniform({low}, {high})"))
            }
            Distribution::LogUniform { low, high }
                if !(low.is_finite() && high.is_finite() && *low > 0.0 && low < high) =>
            {
                bad(
                    "0 < low < high, finite",
                    format!("log_uniform({low}, {high})"),
                )
            }
            Distribution::IntRange { low, high } if low >= high => bad(
                "low < high (high excluded)",
                format!("int_range({low}, {high})"),
            ),
            Distribution::Choice { values } if values.is_empty() => {
                bad("at least one value", "choice([])".to_string())
            }
            _ => Ok(()),
        }
    }

    /// Draws one value.
    pub fn sample(&self, rng: &mut impl Rng) -> Value {
        match self {
            Distribution::Uniform { low, high } => Value::from(rng.gen_range(*low..*high)),
            Distribution::LogUniform { low, high } => {
                Value::from(rng.gen_range(low.ln()..high.ln()).exp())
            }
            Distribution::IntRange { low, high } => Value::from(rng.gen_range(*low..*high)),
            Distribution::Choice { values } => {
                let i = rng.gen_range(0..values.len().max(1));
                values.get(i).cloned().unwrap_or(Value::Null)
            }
        }
    }
}

/// Distributions by parameter path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamDistributions {
    /// Path → distribution.
    pub params: BTreeMap<String, Distribution>,
}

impl ParamDistributions {
    /// No parameters yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter.
    pub fn param(mut self, path: &str, dist: Distribution) -> Self {
        self.params.insert(path.to_string(), dist);
        self
    }

    /// `n_iter` candidates drawn with seed `random_state`.
    pub fn sample(&self, n_iter: usize, random_state: u64) -> Result<Vec<Params>> {
        if n_iter == 0 {
            return Err(Error::param("n_iter", 0, "at least 1"));
        }
        if self.params.is_empty() {
            return Err(Error::Empty("parameter distributions".into()));
        }
        for (path, d) in &self.params {
            d.validate(path)?;
        }
        Ok((0..n_iter)
            .map(|i| {
                let mut r = rng::for_task(random_state, i as u64);
                self.params
                    .iter()
                    .map(|(path, d)| (path.clone(), d.sample(&mut r)))
                    .collect()
            })
            .collect())
    }
}
