//! Setting a hyperparameter by path in a training config: `model.C`, `model.max_iter`,
//! `preprocess.0.strategy`.
//!
//! The config is turned into JSON, the value is set at the path, and the result is parsed
//! again with [`TrainConfig::from_value`], so that a key the schema does not know is an
//! [`Error::Config`] naming it. A path whose parent does not exist (`preprocess.5.strategy`
//! with two steps) is an error naming the path.
//!
//! ```
//! use amlis::service::config::TrainConfig;
//! use amlis::evaluate::selection::set_params;
//!
//! let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_regressor"},
//!                                      "preprocess": [{"type": "simple_imputer"}]}"#)?;
//! let mut params = std::collections::BTreeMap::new();
//! params.insert("model.strategy".to_string(), serde_json::json!("median"));
//! params.insert("preprocess.0.strategy".to_string(), serde_json::json!("most_frequent"));
//! let config = set_params(&base, &params)?;
//! assert!(config.to_json()?.contains("most_frequent"));
//!
//! params.insert("preprocess.5.strategy".to_string(), serde_json::json!("median"));
//! assert!(set_params(&base, &params).unwrap_err().to_string().contains("preprocess.5"));
//! # Ok::<(), amlis::Error>(())
//! ```

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::service::config::TrainConfig;

/// One candidate's parameters: path → JSON value, sorted by path.
pub type Params = BTreeMap<String, Value>;

fn path_err(path: &str, message: impl Into<String>) -> Error {
    Error::Config {
        key: path.to_string(),
        message: message.into(),
    }
}

/// Sets `value` at the dotted `path` inside `root`. Every parent on the path must exist
/// (object keys, or list indices in range); the last key is inserted or replaced.
pub fn set_path(root: &mut Value, path: &str, value: Value) -> Result<()> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(path_err(
            path,
            "a parameter path is dot-separated keys, e.g. `model.C` or `preprocess.0.strategy`",
        ));
    }
    let Some((last, parents)) = parts.split_last() else {
        return Err(path_err(path, "empty parameter path"));
    };
    let mut node = root;
    for (depth, part) in parents.iter().enumerate() {
        let here = parts[..=depth].join(".");
        node = match node {
            Value::Object(map) => map
                .get_mut(*part)
                .ok_or_else(|| path_err(path, format!("`{here}` does not exist in the config")))?,
            Value::Array(items) => {
                let len = items.len();
                let i: usize = part.parse().map_err(|_| {
                    path_err(path, format!("`{here}`: `{part}` is not a list index"))
                })?;
                items.get_mut(i).ok_or_else(|| {
                    path_err(
                        path,
                        format!("`{here}` does not exist: the list has {len} items"),
                    )
                })?
            }
            _ => {
                return Err(path_err(
                    path,
                    format!("`{here}` does not exist: its parent is not an object or list"),
                ))
            }
        };
    }
    match node {
        Value::Object(map) => {
            map.insert((*last).to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            let len = items.len();
            let slot = last
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| {
                    path_err(path, format!("`{path}` is not an index of a list of {len}"))
                })?;
            *slot = value;
            Ok(())
        }
        _ => Err(path_err(
            path,
            "its parent is not an object or list".to_string(),
        )),
    }
}

/// The config `base` with every parameter of `params` set by path, validated by parsing.
pub fn set_params(base: &TrainConfig, params: &Params) -> Result<TrainConfig> {
    let mut root = serde_json::to_value(base)
        .map_err(|e| Error::InvalidArgument(format!("cannot serialize the config: {e}")))?;
    for (path, value) in params {
        set_path(&mut root, path, value.clone())?;
    }
    TrainConfig::from_value(root).map_err(|e| match e {
        // An unknown field is reported at its parent (`preprocess.0`); name the path set.
        Error::Config { key, message } => {
            let field = message
                .strip_prefix("unknown field `")
                .and_then(|m| m.split('`').next())
                .map(|f| format!("{key}.{f}"));
            let key = match field {
                Some(full) if params.contains_key(&full) => full,
                _ => key,
            };
            Error::Config { key, message }
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_nested_keys_and_names_bad_paths() {
        let mut v = json!({"model": {"type": "x", "C": 1.0}, "preprocess": [{"a": 1}]});
        set_path(&mut v, "model.C", json!(2.5)).unwrap();
        set_path(&mut v, "preprocess.0.a", json!(3)).unwrap();
        assert_eq!(v["model"]["C"], json!(2.5));
        assert_eq!(v["preprocess"][0]["a"], json!(3));
        let e = set_path(&mut v, "preprocess.1.a", json!(3)).unwrap_err();
        assert!(e.to_string().contains("the list has 1 items"), "{e}");
        let e = set_path(&mut v, "modl.C", json!(3)).unwrap_err();
        assert!(e.to_string().contains("`modl`"), "{e}");
        let e = set_path(&mut v, "model..C", json!(3)).unwrap_err();
        assert!(e.to_string().contains("model..C"), "{e}");
    }

    #[test]
    fn unknown_leaf_key_is_named_by_the_schema() {
        let base = TrainConfig::from_json(r#"{"model": {"type": "dummy_classifier"}}"#).unwrap();
        let mut p = Params::new();
        p.insert("model.C".into(), json!(1.0));
        let e = set_params(&base, &p).unwrap_err();
        match e {
            Error::Config { key, .. } => assert_eq!(key, "model.C"),
            other => panic!("{other}"),
        }
        let mut p = Params::new();
        p.insert("model.strategy".into(), json!("most_frequent"));
        let c = set_params(&base, &p).unwrap();
        assert_eq!(
            serde_json::to_value(&c).unwrap()["model"]["strategy"],
            json!("most_frequent")
        );
    }
}
