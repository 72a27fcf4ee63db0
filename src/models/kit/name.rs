//! The config `type` name of a model ([`Trainer::NAME`](crate::traits::Trainer::NAME)) in
//! the errors and fit-callback stages of its family: [`context!`](crate::models::kit::context)
//! makes `"{NAME} {what}"` at compile time, so that the prediction paths name the model
//! without allocating.

/// The bytes of `a` followed by `b`, `N = a.len() + b.len()` (for
/// [`context!`](crate::models::kit::context)).
pub(crate) const fn concat_bytes<const N: usize>(a: &str, b: &str) -> [u8; N] {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() {
            a[i]
        } else if i - a.len() < b.len() {
            b[i - a.len()]
        } else {
            b' '
        };
        i += 1;
    }
    out
}

/// `"{name} {what}"` as a `&'static str` computed at compile time, from a constant `name`
/// (usually a trainer's [`NAME`](crate::traits::Trainer::NAME)) and a literal `what`:
///
/// ```ignore
/// check_predict_shapes(context!(Ridge::NAME, "predict"), x, n_features, out.len(), 1)?;
/// // "ridge predict", with no allocation on the prediction path
/// ```
///
/// `name` must not depend on a generic parameter (a constant item cannot); generic code
/// formats `Self::NAME` at run time instead, outside the prediction paths.
macro_rules! context {
    // The constants' names are unlikely ones: item names are not hygienic, and `$name` may
    // itself be a constant called `NAME`.
    ($name:expr, $what:literal) => {{
        const CONTEXT_NAME_: &str = $name;
        const CONTEXT_WHAT_: &str = concat!(" ", $what);
        const CONTEXT_BYTES_: [u8; CONTEXT_NAME_.len() + CONTEXT_WHAT_.len()] =
            $crate::models::kit::name::concat_bytes(CONTEXT_NAME_, CONTEXT_WHAT_);
        const CONTEXT_TEXT_: &str = match ::std::str::from_utf8(&CONTEXT_BYTES_) {
            Ok(text) => text,
            Err(_) => CONTEXT_NAME_,
        };
        CONTEXT_TEXT_
    }};
}
pub(crate) use context;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use crate::models::dummy::{DummyClassifier, DummyRegressor};
    use crate::models::ensemble::forest::{
        ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor,
    };
    use crate::models::ensemble::gbm::{GradientBoostingClassifier, GradientBoostingRegressor};
    use crate::models::linear::logistic::LogisticRegression;
    use crate::models::linear::sgd::{SgdClassifier, SgdRegressor};
    use crate::models::linear::{ElasticNet, Lasso, LinearRegression, Ridge};
    use crate::models::tree::{DecisionTreeClassifier, DecisionTreeRegressor};
    use crate::models::ModelConfig;
    use crate::traits::Trainer;

    /// The `NAME` of `T`, checked to be the `type_name()` of the config parsed from it with
    /// default parameters (and to parse as `T`'s own defaults).
    fn round_trip<T>() -> &'static str
    where
        T: Trainer + Default + serde::Serialize,
    {
        let config = ModelConfig::from_json_parts(T::NAME, json!({}))
            .unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
        assert_eq!(config.type_name(), T::NAME);
        // The parsed config is `T` with its defaults: same parameters as `T::default()`.
        let mut params = serde_json::to_value(&config).unwrap();
        params.as_object_mut().unwrap().remove("type");
        assert_eq!(
            params,
            serde_json::to_value(T::default()).unwrap(),
            "{}",
            T::NAME
        );
        T::NAME
    }

    #[test]
    fn every_trainer_name_is_its_config_type_name() {
        let names: Vec<&str> = vec![
            round_trip::<DummyClassifier>(),
            round_trip::<DummyRegressor>(),
            round_trip::<LogisticRegression>(),
            round_trip::<SgdClassifier>(),
            round_trip::<SgdRegressor>(),
            round_trip::<LinearRegression>(),
            round_trip::<Ridge>(),
            round_trip::<Lasso>(),
            round_trip::<ElasticNet>(),
            round_trip::<DecisionTreeClassifier>(),
            round_trip::<DecisionTreeRegressor>(),
            round_trip::<RandomForestClassifier>(),
            round_trip::<RandomForestRegressor>(),
            round_trip::<ExtraTreesClassifier>(),
            round_trip::<ExtraTreesRegressor>(),
            round_trip::<GradientBoostingClassifier>(),
            round_trip::<GradientBoostingRegressor>(),
        ];
        // Every registered type is covered (a new family adds its trainer above).
        let covered: BTreeSet<&str> = names.iter().copied().collect();
        let registered: BTreeSet<&str> = ModelConfig::type_names().iter().copied().collect();
        assert_eq!(covered, registered);
        assert_eq!(covered.len(), names.len(), "two trainers share a NAME");
    }

    #[test]
    fn context_is_name_space_what() {
        const NAME: &str = "ridge";
        assert_eq!(context!(NAME, "predict"), "ridge predict");
        assert_eq!(context!(Ridge::NAME, "predict_row"), "ridge predict_row");
        assert_eq!(context!("", "x"), " x");
    }
}
