//! The Open Inference Protocol (V2) wire format: inference requests and responses as JSON,
//! with Triton's binary tensor extension.
//!
//! A request body is JSON, or — when the `Inference-Header-Content-Length: N` header is present
//! — N bytes of JSON followed by the raw bytes of the inputs whose `parameters` carry a
//! `binary_data_size`, in the order of the inputs. Binary elements are little-endian; a
//! `BYTES` element is a 4-byte little-endian length followed by its bytes. Outputs are sent
//! raw the same way when the request asks for it (`parameters.binary_data_output` for every
//! output, `outputs[i].parameters.binary_data` for one).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ServeError;

/// The header that announces a binary body and gives the length of its JSON part.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

/// The element types of V2 tensors this server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    /// 64-bit float.
    Fp64,
    /// 32-bit float.
    Fp32,
    /// Signed integers of 8, 16, 32 or 64 bits.
    Int(u8),
    /// Unsigned integers of 8, 16, 32 or 64 bits.
    Uint(u8),
    /// Booleans (one byte each in binary).
    Bool,
    /// Strings (UTF-8 text for categorical columns).
    Bytes,
}

impl Datatype {
    /// Parses a V2 datatype name (`"FP64"`, `"INT32"`, `"BYTES"`, ...).
    pub fn parse(name: &str) -> Result<Self, ServeError> {
        Ok(match name {
            "FP64" => Datatype::Fp64,
            "FP32" => Datatype::Fp32,
            "INT8" => Datatype::Int(8),
            "INT16" => Datatype::Int(16),
            "INT32" => Datatype::Int(32),
            "INT64" => Datatype::Int(64),
            "UINT8" => Datatype::Uint(8),
            "UINT16" => Datatype::Uint(16),
            "UINT32" => Datatype::Uint(32),
            "UINT64" => Datatype::Uint(64),
            "BOOL" => Datatype::Bool,
            "BYTES" => Datatype::Bytes,
            other => {
                return Err(ServeError::bad_request(format!(
                    "unsupported datatype `{other}` (expected FP64, FP32, INT8..INT64, \
                     UINT8..UINT64, BOOL or BYTES)"
                )))
            }
        })
    }

    /// The size of one element in the binary extension (`None` for variable-size `BYTES`).
    fn element_size(self) -> Option<usize> {
        match self {
            Datatype::Fp64 => Some(8),
            Datatype::Fp32 => Some(4),
            Datatype::Int(bits) | Datatype::Uint(bits) => Some(usize::from(bits / 8)),
            Datatype::Bool => Some(1),
            Datatype::Bytes => None,
        }
    }
}

/// The elements of one input tensor, flattened in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// Numeric elements (every numeric datatype is read as `f64`; JSON `null` is missing, `NaN`).
    Numbers(Vec<f64>),
    /// `BYTES` elements.
    Strings(Vec<String>),
    /// Non-negative integers read exactly (all 64 bits), for the inputs a caller names in
    /// [`InferRequest::parse_with_ids`] (event ids, action indices).
    Ids(Vec<u64>),
}

impl TensorData {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::Numbers(v) => v.len(),
            TensorData::Strings(v) => v.len(),
            TensorData::Ids(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One input tensor of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTensor {
    /// The tensor's name.
    pub name: String,
    /// Its shape (the product of the dimensions equals the number of elements).
    pub shape: Vec<usize>,
    /// Its elements.
    pub data: TensorData,
}

/// One output a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedOutput {
    /// The output's name (`predict`, `predict_proba`, ...).
    pub name: String,
    /// Whether to send it in the binary extension.
    pub binary: bool,
}

/// A parsed inference request.
#[derive(Debug, Clone, PartialEq)]
pub struct InferRequest {
    /// The request id, echoed in the response.
    pub id: Option<String>,
    /// The inputs.
    pub inputs: Vec<InputTensor>,
    /// The outputs asked for (`None`: every output of the model).
    pub outputs: Option<Vec<RequestedOutput>>,
    /// Whether outputs not named in `outputs` go binary (`parameters.binary_data_output`).
    pub binary_default: bool,
}

#[derive(Deserialize)]
struct RawRequest {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    inputs: Vec<RawInput>,
    #[serde(default)]
    outputs: Option<Vec<RawOutput>>,
}

#[derive(Deserialize)]
struct RawInput {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize)]
struct RawOutput {
    name: String,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

fn flag(parameters: &Option<Map<String, Value>>, key: &str) -> bool {
    parameters
        .as_ref()
        .and_then(|p| p.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

impl InferRequest {
    /// Parses a request body; `json_len` is the `Inference-Header-Content-Length` header, when
    /// present (the JSON part's length; the rest of the body holds binary tensors).
    pub fn parse(body: &[u8], json_len: Option<usize>) -> Result<Self, ServeError> {
        Self::parse_with_ids(body, json_len, &[])
    }

    /// [`parse`](Self::parse), reading the inputs named in `ids` as exact non-negative
    /// integers ([`TensorData::Ids`]): in JSON, integer literals (or integral numbers up to
    /// 2^53); in binary, any integer datatype.
    pub fn parse_with_ids(
        body: &[u8],
        json_len: Option<usize>,
        ids: &[&str],
    ) -> Result<Self, ServeError> {
        let (json, mut binary) = match json_len {
            Some(n) => {
                let json = body.get(..n).ok_or_else(|| {
                    ServeError::bad_request(format!(
                        "{HEADER_LENGTH} is {n} but the body holds {} bytes",
                        body.len()
                    ))
                })?;
                (json, body.get(n..).unwrap_or(&[]))
            }
            None => (body, &[][..]),
        };
        let raw: RawRequest = serde_json::from_slice(json)
            .map_err(|e| ServeError::bad_request(format!("the request is not valid JSON: {e}")))?;
        let id = match raw.id {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        };
        let mut inputs = Vec::with_capacity(raw.inputs.len());
        for input in raw.inputs {
            let exact = ids.contains(&input.name.as_str());
            inputs.push(read_input(input, &mut binary, exact)?);
        }
        if !binary.is_empty() {
            return Err(ServeError::bad_request(format!(
                "{} bytes of binary data follow the JSON header but no input claims them \
                 (parameters.binary_data_size)",
                binary.len()
            )));
        }
        let binary_default = flag(&raw.parameters, "binary_data_output");
        let outputs = raw.outputs.map(|outs| {
            outs.into_iter()
                .map(|o| RequestedOutput {
                    binary: match o.parameters.as_ref().and_then(|p| p.get("binary_data")) {
                        Some(v) => v.as_bool().unwrap_or(false),
                        None => binary_default,
                    },
                    name: o.name,
                })
                .collect()
        });
        Ok(Self {
            id,
            inputs,
            outputs,
            binary_default,
        })
    }
}

/// The shape's element count, checked (no negative dimension, no overflow).
fn element_count(name: &str, shape: &[i64]) -> Result<(Vec<usize>, usize), ServeError> {
    let dims: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ServeError::bad_request(format!(
                "input `{name}`: shape {shape:?} has a negative dimension"
            ))
        })?;
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            ServeError::bad_request(format!("input `{name}`: shape {shape:?} overflows"))
        })?;
    Ok((dims, count))
}

fn read_input(input: RawInput, binary: &mut &[u8], exact: bool) -> Result<InputTensor, ServeError> {
    let name = input.name;
    let datatype = Datatype::parse(&input.datatype)
        .map_err(|e| ServeError::bad_request(format!("input `{name}`: {}", e.message)))?;
    let (shape, count) = element_count(&name, &input.shape)?;
    let binary_size = input
        .parameters
        .as_ref()
        .and_then(|p| p.get("binary_data_size"));
    let data = match (binary_size, input.data) {
        (Some(size), None) => {
            let size = size
                .as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or_else(|| {
                    ServeError::bad_request(format!(
                        "input `{name}`: binary_data_size must be a non-negative integer"
                    ))
                })?;
            if size > binary.len() {
                return Err(ServeError::bad_request(format!(
                    "input `{name}`: binary_data_size is {size} but only {} bytes remain",
                    binary.len()
                )));
            }
            let (mine, rest) = binary.split_at(size);
            *binary = rest;
            if exact {
                TensorData::Ids(decode_binary_ids(&name, datatype, mine)?)
            } else {
                decode_binary(&name, datatype, mine)?
            }
        }
        (None, Some(value)) if exact => TensorData::Ids(decode_json_ids(&name, datatype, value)?),
        (None, Some(value)) => decode_json(&name, datatype, value, count)?,
        (Some(_), Some(_)) => {
            return Err(ServeError::bad_request(format!(
                "input `{name}` has both `data` and parameters.binary_data_size"
            )))
        }
        (None, None) => {
            return Err(ServeError::bad_request(format!(
                "input `{name}` has no `data` (nor parameters.binary_data_size)"
            )))
        }
    };
    if data.len() != count {
        return Err(ServeError::bad_request(format!(
            "input `{name}`: shape {shape:?} holds {count} elements but `data` has {}",
            data.len()
        )));
    }
    Ok(InputTensor { name, shape, data })
}

fn decode_binary(name: &str, datatype: Datatype, bytes: &[u8]) -> Result<TensorData, ServeError> {
    let Some(size) = datatype.element_size() else {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (len, tail) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| truncated_bytes(name))?;
            let len = u32::from_le_bytes(*len) as usize;
            let s = tail.get(..len).ok_or_else(|| truncated_bytes(name))?;
            let s = std::str::from_utf8(s).map_err(|_| {
                ServeError::bad_request(format!("input `{name}`: a BYTES element is not UTF-8"))
            })?;
            out.push(s.to_string());
            rest = tail.get(len..).unwrap_or(&[]);
        }
        return Ok(TensorData::Strings(out));
    };
    if bytes.len() % size != 0 {
        return Err(ServeError::bad_request(format!(
            "input `{name}`: {} binary bytes are not a whole number of {size}-byte elements",
            bytes.len()
        )));
    }
    let chunks = bytes.chunks_exact(size);
    let values: Vec<f64> = match datatype {
        Datatype::Fp64 => chunks.map(|c| f64::from_le_bytes(le::<8>(c))).collect(),
        Datatype::Fp32 => chunks
            .map(|c| f64::from(f32::from_le_bytes(le::<4>(c))))
            .collect(),
        Datatype::Int(8) => chunks.map(|c| f64::from(c[0] as i8)).collect(),
        Datatype::Int(16) => chunks
            .map(|c| f64::from(i16::from_le_bytes(le::<2>(c))))
            .collect(),
        Datatype::Int(32) => chunks
            .map(|c| f64::from(i32::from_le_bytes(le::<4>(c))))
            .collect(),
        Datatype::Int(_) => chunks
            .map(|c| i64::from_le_bytes(le::<8>(c)) as f64)
            .collect(),
        Datatype::Uint(8) | Datatype::Bool => chunks.map(|c| f64::from(c[0])).collect(),
        Datatype::Uint(16) => chunks
            .map(|c| f64::from(u16::from_le_bytes(le::<2>(c))))
            .collect(),
        Datatype::Uint(32) => chunks
            .map(|c| f64::from(u32::from_le_bytes(le::<4>(c))))
            .collect(),
        Datatype::Uint(_) => chunks
            .map(|c| u64::from_le_bytes(le::<8>(c)) as f64)
            .collect(),
        Datatype::Bytes => Vec::new(),
    };
    Ok(TensorData::Numbers(values))
}

/// The first `N` bytes of a chunk of exactly `N` bytes (`chunks_exact` guarantees the size).
fn le<const N: usize>(chunk: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&chunk[..N]);
    a
}

/// The integers of a binary input read exactly (`ids`): any integer datatype, no negative value.
fn decode_binary_ids(name: &str, datatype: Datatype, bytes: &[u8]) -> Result<Vec<u64>, ServeError> {
    let (size, signed) = match datatype {
        Datatype::Uint(bits) => (usize::from(bits / 8), false),
        Datatype::Int(bits) => (usize::from(bits / 8), true),
        other => {
            return Err(ServeError::bad_request(format!(
                "input `{name}` is {other:?}; send it as UINT64 (or another integer datatype)"
            )))
        }
    };
    if bytes.len() % size != 0 {
        return Err(ServeError::bad_request(format!(
            "input `{name}`: {} binary bytes are not a whole number of {size}-byte elements",
            bytes.len()
        )));
    }
    bytes
        .chunks_exact(size)
        .map(|c| {
            let mut le = [0u8; 8];
            le[..size].copy_from_slice(c);
            let negative = signed && c[size - 1] & 0x80 != 0;
            if negative {
                return Err(ServeError::bad_request(format!(
                    "input `{name}` holds a negative value; expected integers >= 0"
                )));
            }
            Ok(u64::from_le_bytes(le))
        })
        .collect()
}

/// The integers of a JSON input read exactly (`ids`): integer literals in `0..2^64`, or
/// integral numbers up to 2^53.
fn decode_json_ids(name: &str, datatype: Datatype, value: Value) -> Result<Vec<u64>, ServeError> {
    if datatype == Datatype::Bytes {
        return Err(ServeError::bad_request(format!(
            "input `{name}` is BYTES; send integers (UINT64)"
        )));
    }
    let mut leaves = Vec::new();
    flatten(value, &mut leaves, 0)
        .map_err(|m| ServeError::bad_request(format!("input `{name}`: {m}")))?;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    leaves
        .into_iter()
        .map(|v| {
            let n = match &v {
                Value::Number(n) => n.as_u64().or_else(|| {
                    n.as_f64()
                        .filter(|x| x.fract() == 0.0 && (0.0..=EXACT).contains(x))
                        .map(|x| x as u64)
                }),
                _ => None,
            };
            n.ok_or_else(|| {
                ServeError::bad_request(format!(
                    "input `{name}` holds {v}; expected integers in 0..2^64"
                ))
            })
        })
        .collect()
}

fn truncated_bytes(name: &str) -> ServeError {
    ServeError::bad_request(format!(
        "input `{name}`: truncated BYTES element (each is a 4-byte little-endian length, then \
         that many bytes)"
    ))
}

fn decode_json(
    name: &str,
    datatype: Datatype,
    value: Value,
    count: usize,
) -> Result<TensorData, ServeError> {
    // The shape is the client's word: it bounds nothing until checked against the data.
    let mut leaves = Vec::with_capacity(count.min(1 << 16));
    flatten(value, &mut leaves, 0)
        .map_err(|m| ServeError::bad_request(format!("input `{name}`: {m}")))?;
    if datatype == Datatype::Bytes {
        let strings = leaves
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(ServeError::bad_request(format!(
                    "input `{name}` is BYTES but holds {other}; give strings"
                ))),
            })
            .collect::<Result<_, _>>()?;
        return Ok(TensorData::Strings(strings));
    }
    let numbers = leaves
        .into_iter()
        .map(|v| match v {
            Value::Number(ref n) => n.as_f64().ok_or(v),
            Value::Null => Ok(f64::NAN),
            Value::Bool(b) => Ok(if b { 1.0 } else { 0.0 }),
            other => Err(other),
        })
        .collect::<Result<_, _>>()
        .map_err(|v| {
            ServeError::bad_request(format!(
                "input `{name}` is {datatype:?} but holds {v}; give numbers (null for a missing \
                 value)"
            ))
        })?;
    Ok(TensorData::Numbers(numbers))
}

/// Flattens nested JSON arrays into their leaves, in row-major order.
fn flatten(value: Value, out: &mut Vec<Value>, depth: usize) -> Result<(), String> {
    if depth > 32 {
        return Err("`data` is nested more than 32 levels deep".into());
    }
    match value {
        Value::Array(items) => {
            for item in items {
                flatten(item, out, depth + 1)?;
            }
            Ok(())
        }
        Value::Object(_) => Err("`data` holds an object; give a flat or nested array".into()),
        leaf => {
            out.push(leaf);
            Ok(())
        }
    }
}

/// The elements of one output tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputData {
    /// FP64 values.
    Fp64(Vec<f64>),
    /// INT64 values (a bandit's chosen actions).
    Int64(Vec<i64>),
    /// BYTES values (class labels).
    Bytes(Vec<String>),
}

/// One output tensor of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    /// The output's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its elements.
    pub data: OutputData,
    /// Whether it is sent in the binary extension.
    pub binary: bool,
}

#[derive(Serialize)]
struct WireResponse<'a> {
    model_name: &'a str,
    model_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    outputs: Vec<WireOutput<'a>>,
}

#[derive(Serialize)]
struct WireOutput<'a> {
    name: &'a str,
    datatype: &'static str,
    shape: &'a [usize],
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<WireParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<WireData<'a>>,
}

#[derive(Serialize)]
struct WireParameters {
    binary_data_size: usize,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireData<'a> {
    Fp64(&'a [f64]),
    Int64(&'a [i64]),
    Bytes(&'a [String]),
}

/// An encoded response body: the bytes, and the JSON part's length when binary outputs follow
/// it (for the `Inference-Header-Content-Length` header).
#[derive(Debug)]
pub struct EncodedResponse {
    /// The whole body.
    pub body: Vec<u8>,
    /// The JSON part's length, when binary data follows.
    pub json_len: Option<usize>,
}

/// Encodes an inference response.
pub fn encode_response(
    model_name: &str,
    model_version: &str,
    id: Option<&str>,
    outputs: &[OutputTensor],
) -> Result<EncodedResponse, ServeError> {
    let mut binary = Vec::new();
    let mut wire = Vec::with_capacity(outputs.len());
    for o in outputs {
        let datatype = match o.data {
            OutputData::Fp64(_) => "FP64",
            OutputData::Int64(_) => "INT64",
            OutputData::Bytes(_) => "BYTES",
        };
        let (parameters, data) = if o.binary {
            let start = binary.len();
            match &o.data {
                OutputData::Fp64(v) => v.iter().for_each(|x| binary.extend(x.to_le_bytes())),
                OutputData::Int64(v) => v.iter().for_each(|x| binary.extend(x.to_le_bytes())),
                OutputData::Bytes(v) => v.iter().for_each(|s| {
                    binary.extend((s.len() as u32).to_le_bytes());
                    binary.extend(s.as_bytes());
                }),
            }
            let binary_data_size = binary.len() - start;
            (Some(WireParameters { binary_data_size }), None)
        } else {
            let data = match &o.data {
                OutputData::Fp64(v) => WireData::Fp64(v),
                OutputData::Int64(v) => WireData::Int64(v),
                OutputData::Bytes(v) => WireData::Bytes(v),
            };
            (None, Some(data))
        };
        wire.push(WireOutput {
            name: &o.name,
            datatype,
            shape: &o.shape,
            parameters,
            data,
        });
    }
    let response = WireResponse {
        model_name,
        model_version,
        id,
        outputs: wire,
    };
    let mut body = serde_json::to_vec(&response)
        .map_err(|e| ServeError::internal(format!("cannot encode the response: {e}")))?;
    let json_len = (!binary.is_empty() || outputs.iter().any(|o| o.binary)).then_some(body.len());
    body.extend(binary);
    Ok(EncodedResponse { body, json_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_flat_data_agree() {
        let flat = br#"{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","data":[1,2,3,4]}]}"#;
        let nested =
            br#"{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","data":[[1,2],[3,4]]}]}"#;
        let a = InferRequest::parse(flat, None).unwrap();
        let b = InferRequest::parse(nested, None).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.inputs[0].data,
            TensorData::Numbers(vec![1.0, 2.0, 3.0, 4.0])
        );
    }

    #[test]
    fn shape_product_is_checked() {
        let body = br#"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP64","data":[1,2,3,4]}]}"#;
        let e = InferRequest::parse(body, None).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("6 elements"), "{}", e.message);
        let neg = br#"{"inputs":[{"name":"x","shape":[-1,4],"datatype":"FP64","data":[1,2,3,4]}]}"#;
        assert!(InferRequest::parse(neg, None).is_err());
    }

    #[test]
    fn binary_inputs_and_outputs_round_trip() {
        let json = br#"{"id":"7","inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},{"name":"c","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":13}}],"parameters":{"binary_data_output":true}}"#;
        let mut body = json.to_vec();
        body.extend(1.5f32.to_le_bytes());
        body.extend((-2.0f32).to_le_bytes());
        for s in ["ab", "cde"] {
            body.extend((s.len() as u32).to_le_bytes());
            body.extend(s.as_bytes());
        }
        let r = InferRequest::parse(&body, Some(json.len())).unwrap();
        assert_eq!(r.id.as_deref(), Some("7"));
        assert!(r.binary_default);
        assert_eq!(r.inputs[0].data, TensorData::Numbers(vec![1.5, -2.0]));
        assert_eq!(
            r.inputs[1].data,
            TensorData::Strings(vec!["ab".into(), "cde".into()])
        );
        // A byte too many, or too few, is an error.
        let mut longer = body.clone();
        longer.push(0);
        assert!(InferRequest::parse(&longer, Some(json.len())).is_err());
        assert!(InferRequest::parse(&body[..body.len() - 1], Some(json.len())).is_err());

        let out = OutputTensor {
            name: "predict".into(),
            shape: vec![2],
            data: OutputData::Fp64(vec![0.25, 1.0]),
            binary: true,
        };
        let enc = encode_response("m", "1", Some("7"), &[out]).unwrap();
        let n = enc.json_len.unwrap();
        let head: Value = serde_json::from_slice(&enc.body[..n]).unwrap();
        assert_eq!(head["outputs"][0]["parameters"]["binary_data_size"], 16);
        assert_eq!(&enc.body[n..n + 8], &0.25f64.to_le_bytes());
    }
}
