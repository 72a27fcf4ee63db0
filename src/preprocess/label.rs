//! [`LabelEncoder`]: target labels to class indices, sorted as scikit-learn sorts `classes_`.

use serde::{Deserialize, Serialize};

use crate::data::CategoricalColumn;
use crate::error::{Error, Result};

/// Maps labels to class indices `0..n_classes`, with the classes sorted as scikit-learn's
/// `LabelEncoder` sorts `classes_` (Python string order, i.e. by code point).
///
/// ```
/// use amlis::preprocess::LabelEncoder;
///
/// let enc = LabelEncoder::fit(&["dog", "cat", "dog", "emu"])?;
/// assert_eq!(enc.classes(), &["cat", "dog", "emu"]);
/// assert_eq!(enc.transform(&["emu", "cat"])?, vec![2, 0]);
/// assert_eq!(enc.inverse_transform(&[1])?, vec!["dog"]);
/// assert!(enc.transform(&["cow"]).is_err());
/// # Ok::<(), amlis::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelEncoder {
    classes: Vec<String>,
}

impl LabelEncoder {
    /// Learns the sorted distinct labels; an empty list is an error.
    pub fn fit<S: AsRef<str>>(labels: &[S]) -> Result<Self> {
        if labels.is_empty() {
            return Err(Error::Empty("label_encoder fit: no labels".into()));
        }
        let mut classes: Vec<String> = labels.iter().map(|s| s.as_ref().to_string()).collect();
        classes.sort_unstable();
        classes.dedup();
        Ok(Self { classes })
    }

    /// Learns the labels of a categorical column; a missing label is an error naming its row.
    pub fn fit_column(column: &CategoricalColumn) -> Result<Self> {
        let labels = column
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| Error::InvalidValue {
                    context: "label_encoder fit".into(),
                    row,
                    column: None,
                    message: "missing label; every row needs a label".into(),
                })
            })
            .collect::<Result<Vec<&str>>>()?;
        Self::fit(&labels)
    }

    /// The classes, sorted; class `i` is `classes()[i]`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The class index of each label; an unseen label is an error naming its row.
    pub fn transform<S: AsRef<str>>(&self, labels: &[S]) -> Result<Vec<usize>> {
        labels
            .iter()
            .enumerate()
            .map(|(row, s)| {
                self.classes
                    .binary_search_by(|c| c.as_str().cmp(s.as_ref()))
                    .map_err(|_| Error::InvalidValue {
                        context: "label_encoder transform".into(),
                        row,
                        column: None,
                        message: format!(
                            "unseen label `{}`; known classes: {}",
                            s.as_ref(),
                            self.classes.join(", ")
                        ),
                    })
            })
            .collect()
    }

    /// The label of each class index; an index out of range is an error naming its position.
    pub fn inverse_transform(&self, codes: &[usize]) -> Result<Vec<&str>> {
        codes
            .iter()
            .enumerate()
            .map(|(row, &k)| {
                self.classes
                    .get(k)
                    .map(String::as_str)
                    .ok_or_else(|| Error::InvalidValue {
                        context: "label_encoder inverse_transform".into(),
                        row,
                        column: None,
                        message: format!("class index {k} out of range 0..{}", self.classes.len()),
                    })
            })
            .collect()
    }
}
