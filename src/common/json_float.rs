//! Serde adapters for `f64` fields that may hold `±inf` or `NaN` (a ROC curve's first
//! threshold is `+inf`, an undefined precision is `NaN`).
//!
//! JSON has no non-finite numbers: `serde_json` would write them all as `null` and then refuse
//! to read `null` back into an `f64`. In human-readable formats these adapters write `NaN` as
//! `null` (a missing value, as the model file has always written it) and `±inf` as the strings
//! `"inf"` and `"-inf"` (what Python's `float()` parses); they read back numbers, `null` (as
//! `NaN`) and the strings `"inf"`, `"-inf"`, `"infinity"`, `"nan"` in any case. Binary formats
//! keep the raw `f64`. Use with `#[serde(with = "crate::common::json_float::vec")]`.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// One float, serialized as described in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct F(f64);

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() || !s.is_human_readable() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_none()
        } else if v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

struct FVisitor;

impl Visitor<'_> for FVisitor {
    type Value = F;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number, or \"inf\", \"-inf\", \"nan\" or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<F, E> {
        Ok(F(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<F, E> {
        Ok(F(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<F, E> {
        Ok(F(v as f64))
    }

    fn visit_unit<E: de::Error>(self) -> Result<F, E> {
        Ok(F(f64::NAN))
    }

    fn visit_none<E: de::Error>(self) -> Result<F, E> {
        Ok(F(f64::NAN))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<F, E> {
        match v.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => Ok(F(f64::INFINITY)),
            "-inf" | "-infinity" => Ok(F(f64::NEG_INFINITY)),
            "nan" => Ok(F(f64::NAN)),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F, D::Error> {
        d.deserialize_any(FVisitor)
    }
}

/// For an `f64` field.
pub(crate) mod one {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        F(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        F::deserialize(d).map(|f| f.0)
    }
}

/// For a `Vec<f64>` field.
pub(crate) mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| F(x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<F>::deserialize(d).map(|v| v.into_iter().map(|f| f.0).collect())
    }
}

/// For an `Option<f64>` field.
pub(crate) mod option {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(F).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<F>::deserialize(d).map(|v| v.map(|f| f.0))
    }
}

/// For an `Option<Vec<f64>>` field.
pub(crate) mod option_vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| v.iter().map(|&x| F(x)).collect::<Vec<F>>())
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        Option::<Vec<F>>::deserialize(d).map(|v| v.map(|v| v.into_iter().map(|f| f.0).collect()))
    }
}

/// For a `Vec<(String, f64)>` field (named values in order).
pub(crate) mod pairs {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|(k, x)| (k, F(*x))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        Vec::<(String, F)>::deserialize(d).map(|v| v.into_iter().map(|(k, f)| (k, f.0)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Probe {
        #[serde(with = "vec")]
        v: Vec<f64>,
        #[serde(with = "one")]
        x: f64,
        #[serde(with = "option")]
        o: Option<f64>,
        #[serde(with = "pairs")]
        p: Vec<(String, f64)>,
    }

    #[test]
    fn non_finite_values_round_trip_through_json() {
        let probe = Probe {
            v: vec![f64::INFINITY, 0.5, f64::NEG_INFINITY, 2.0],
            x: 1.25,
            o: Some(f64::NEG_INFINITY),
            p: vec![("auc".into(), 0.75), ("inf".into(), f64::INFINITY)],
        };
        let text = serde_json::to_string(&probe).unwrap();
        assert_eq!(
            text,
            r#"{"v":["inf",0.5,"-inf",2.0],"x":1.25,"o":"-inf","p":[["auc",0.75],["inf","inf"]]}"#
        );
        assert_eq!(serde_json::from_str::<Probe>(&text).unwrap(), probe);
        let nan = Probe {
            v: vec![f64::NAN],
            x: f64::NAN,
            o: Some(f64::NAN),
            p: vec![],
        };
        let text = serde_json::to_string(&nan).unwrap();
        assert_eq!(text, r#"{"v":[null],"x":null,"o":null,"p":[]}"#);
        let nan: Probe = serde_json::from_str(
            r#"{"v":[null,"NaN",1],"x":"Infinity","o":null,"p":[["a","nan"]]}"#,
        )
        .unwrap();
        assert!(nan.v[0].is_nan() && nan.v[1].is_nan() && nan.v[2] == 1.0);
        assert_eq!(nan.x, f64::INFINITY);
        assert_eq!(nan.o, None);
        assert!(nan.p[0].1.is_nan());
        let bad = serde_json::from_str::<Probe>(r#"{"v":["big"],"x":1,"o":1,"p":[]}"#);
        assert!(bad.unwrap_err().to_string().contains("\"inf\""));
    }

    #[test]
    fn binary_formats_keep_raw_floats_and_read_old_nulls() {
        let probe = Probe {
            v: vec![f64::INFINITY, f64::NAN],
            x: f64::NEG_INFINITY,
            o: None,
            p: vec![],
        };
        let mut buf = Vec::new();
        ciborium::into_writer(&probe, &mut buf).unwrap();
        let back: Probe = ciborium::from_reader(buf.as_slice()).unwrap();
        assert_eq!(back.v[0], f64::INFINITY);
        assert!(back.v[1].is_nan());
        assert_eq!(back.x, f64::NEG_INFINITY);
        // Files written by `Option<f64>`-style adapters hold null for NaN.
        let mut old = Vec::new();
        ciborium::into_writer(&vec![None, Some(1.5)], &mut old).unwrap();
        #[derive(Deserialize)]
        struct V(#[serde(with = "vec")] Vec<f64>);
        let V(v) = ciborium::from_reader(old.as_slice()).unwrap();
        assert!(v[0].is_nan() && v[1] == 1.5);
    }
}
