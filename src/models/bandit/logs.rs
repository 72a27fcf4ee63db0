//! Logged bandit feedback: rows of (context, action, reward, propensity), read from a table
//! or a CSV file like any data set, for warm-starting a policy (`partial_fit`).

use std::borrow::Cow;
use std::path::Path;

use crate::data::{read_csv, Column, CsvOptions, Table};
use crate::error::{Error, Result};
use crate::models::bandit::policy::BanditSpec;

/// Which columns of a log table hold what. The context is `context` when given, otherwise
/// every other column (in table order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogColumns {
    /// The chosen action's index (0-based).
    pub action: String,
    /// The observed reward.
    pub reward: String,
    /// The probability the logging policy chose the action with (`None`: every row 1).
    pub propensity: Option<String>,
    /// The context columns (`None`: every column not named above).
    pub context: Option<Vec<String>>,
}

impl Default for LogColumns {
    fn default() -> Self {
        Self {
            action: "action".into(),
            reward: "reward".into(),
            propensity: Some("propensity".into()),
            context: None,
        }
    }
}

/// Logged outcomes, one row each: a context of `n_features` numbers, the action taken, the
/// reward observed and the probability the action was chosen with. The columns are owned
/// ([`new`](Self::new), [`from_table`](Self::from_table)) or borrowed from the caller's
/// arrays ([`borrowed`](Self::borrowed): a batch from C is learned without a copy).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoggedFeedback<'a> {
    n_features: usize,
    contexts: Cow<'a, [f64]>,
    actions: Cow<'a, [usize]>,
    rewards: Cow<'a, [f64]>,
    propensities: Cow<'a, [f64]>,
    context_names: Vec<String>,
}

fn numeric<'t>(table: &'t Table, name: &str) -> Result<&'t [f64]> {
    match table.column(name)? {
        Column::Numeric(v) => Ok(v),
        other => Err(Error::ColumnKind {
            column: name.to_string(),
            context: "bandit log".into(),
            found: other.kind().to_string(),
            expected: "numeric".into(),
        }),
    }
}

impl LoggedFeedback<'static> {
    /// Logs from rows given directly: `contexts` row-major (`actions.len()` rows of
    /// `n_features`), with one action, reward and propensity per row.
    pub fn new(
        n_features: usize,
        contexts: Vec<f64>,
        actions: Vec<usize>,
        rewards: Vec<f64>,
        propensities: Vec<f64>,
    ) -> Result<Self> {
        LoggedFeedback::from_columns(
            n_features,
            Cow::Owned(contexts),
            Cow::Owned(actions),
            Cow::Owned(rewards),
            Cow::Owned(propensities),
        )
    }
}

impl<'a> LoggedFeedback<'a> {
    /// Logs borrowing the caller's columns (as [`new`](LoggedFeedback::new), without a copy).
    pub fn borrowed(
        n_features: usize,
        contexts: &'a [f64],
        actions: &'a [usize],
        rewards: &'a [f64],
        propensities: &'a [f64],
    ) -> Result<Self> {
        Self::from_columns(
            n_features,
            Cow::Borrowed(contexts),
            Cow::Borrowed(actions),
            Cow::Borrowed(rewards),
            Cow::Borrowed(propensities),
        )
    }

    /// Checks the columns' lengths and makes the logs.
    fn from_columns(
        n_features: usize,
        contexts: Cow<'a, [f64]>,
        actions: Cow<'a, [usize]>,
        rewards: Cow<'a, [f64]>,
        propensities: Cow<'a, [f64]>,
    ) -> Result<Self> {
        let n = actions.len();
        if contexts.len() != n.saturating_mul(n_features) {
            return Err(Error::shape(
                "logged contexts",
                format!(
                    "{n} rows x {n_features} features = {} values",
                    n * n_features
                ),
                contexts.len(),
            ));
        }
        for (name, len) in [
            ("rewards", rewards.len()),
            ("propensities", propensities.len()),
        ] {
            if len != n {
                return Err(Error::shape(
                    name,
                    format!("{n} values (one per action)"),
                    len,
                ));
            }
        }
        Ok(Self {
            n_features,
            contexts,
            actions,
            rewards,
            propensities,
            context_names: (0..n_features).map(|j| format!("x{j}")).collect(),
        })
    }

    /// Logs from a table: numeric action, reward, propensity and context columns.
    pub fn from_table(table: &Table, columns: &LogColumns) -> Result<Self> {
        let names: Vec<String> = match &columns.context {
            Some(c) => c.clone(),
            None => table
                .names()
                .iter()
                .filter(|n| {
                    **n != columns.action
                        && **n != columns.reward
                        && Some(n.as_str()) != columns.propensity.as_deref()
                })
                .cloned()
                .collect(),
        };
        let n = table.n_rows();
        let action_col = numeric(table, &columns.action)?;
        let actions = action_col
            .iter()
            .enumerate()
            .map(|(row, &a)| {
                if a >= 0.0 && a.fract() == 0.0 && a < usize::MAX as f64 {
                    Ok(a as usize)
                } else {
                    Err(Error::InvalidValue {
                        context: "bandit log".into(),
                        row,
                        column: Some(columns.action.clone()),
                        message: format!("action {a} is not an action index (0, 1, 2, ...)"),
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let rewards = numeric(table, &columns.reward)?.to_vec();
        let propensities = match &columns.propensity {
            Some(p) => numeric(table, p)?.to_vec(),
            None => vec![1.0; n],
        };
        let cols: Vec<&[f64]> = names
            .iter()
            .map(|c| numeric(table, c))
            .collect::<Result<_>>()?;
        let mut contexts = Vec::with_capacity(n * cols.len());
        for row in 0..n {
            contexts.extend(cols.iter().map(|c| c[row]));
        }
        let mut logs = LoggedFeedback::new(names.len(), contexts, actions, rewards, propensities)?;
        logs.context_names = names;
        Ok(logs)
    }

    /// Logs read from a CSV file (see [`from_table`](Self::from_table)).
    pub fn from_csv(path: impl AsRef<Path>, columns: &LogColumns) -> Result<Self> {
        Self::from_table(&read_csv(path, &CsvOptions::default())?, columns)
    }

    /// The number of logged rows.
    pub fn n_rows(&self) -> usize {
        self.actions.len()
    }

    /// The number of context features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The context column names (`x0, x1, ...` for logs given as rows).
    pub fn context_names(&self) -> &[String] {
        &self.context_names
    }

    /// Row `i`: (context, action, reward, propensity). Panics if `i >= n_rows()`.
    pub fn row(&self, i: usize) -> (&[f64], usize, f64, f64) {
        let d = self.n_features;
        (
            &self.contexts[i * d..(i + 1) * d],
            self.actions[i],
            self.rewards[i],
            self.propensities[i],
        )
    }

    /// Checks every row against a policy's spec (as `update` would), naming the first bad row.
    pub fn check_against(&self, spec: &BanditSpec) -> Result<()> {
        for i in 0..self.n_rows() {
            let (context, action, reward, probability) = self.row(i);
            spec.check_outcome(context, action, reward, probability)
                .map_err(|e| Error::InvalidValue {
                    context: "bandit log".into(),
                    row: i,
                    column: None,
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }
}
