//! The HTTP routes: Open Inference Protocol V2 (server and model metadata, health, readiness,
//! inference), Triton's repository extension, the V1 `:predict` route, `/metrics`, and the
//! contextual-bandit routes `choose`, `reward` and `save` (see [`bandit`]).
//!
//! Every handler runs in a task of its own, so that a panic becomes a 500 for its request
//! only; every error is `{"error": "..."}` with its status.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::auth::BearerToken;
use super::bandit;
use super::error::ServeError;
use super::inference::{self, ModelOutput};
use super::limits::{Gate, Limits};
use super::metrics::Metrics;
use super::protocol::{self, InferRequest, InputTensor, TensorData};
use super::repository::{Repository, Served};

/// Everything a handler needs.
#[derive(Debug)]
pub struct State {
    /// The models.
    pub repository: Arc<Repository>,
    /// The counters.
    pub metrics: Arc<Metrics>,
    /// The token every request must carry, when set.
    pub auth: Option<BearerToken>,
    /// Body size and read timeouts.
    pub limits: Limits,
    /// The bound on concurrent requests.
    pub gate: Gate,
    /// False once shutdown has begun.
    pub ready: AtomicBool,
}

/// The response type of every route.
pub type HttpResponse = Response<Full<Bytes>>;

/// A parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Server,
    Live,
    Ready,
    Metrics,
    ModelMeta(String, Option<String>),
    ModelReady(String, Option<String>),
    Infer(String, Option<String>),
    Choose(String, Option<String>),
    Reward(String, Option<String>),
    Save(String, Option<String>),
    V1Predict(String),
    RepositoryIndex,
    Load(String),
    Unload(String),
}

impl Route {
    /// The route for a method and path: 404 for an unknown path, 405 for a known path with
    /// another method, 400 for an invalid percent-escape. Each segment is percent-decoded
    /// (`/v2/models/my%20model/infer` is about the model `my model`).
    fn parse(method: &Method, path: &str) -> Result<Self, ServeError> {
        let decoded = path
            .trim_matches('/')
            .split('/')
            .map(percent_decode)
            .collect::<Result<Vec<_>, _>>()?;
        let segments: Vec<&str> = decoded.iter().map(|s| s.as_ref()).collect();
        let (route, allowed): (Route, &[Method]) = match segments[..] {
            ["v2"] => (Route::Server, &[Method::GET]),
            ["v2", "health", "live"] => (Route::Live, &[Method::GET]),
            ["v2", "health", "ready"] => (Route::Ready, &[Method::GET]),
            ["metrics"] => (Route::Metrics, &[Method::GET]),
            ["v2", "models", name, ref rest @ ..] => {
                let (version, rest) = match rest {
                    ["versions", v, ref tail @ ..] => (Some(v.to_string()), tail),
                    tail => (None, tail),
                };
                let name = name.to_string();
                match rest {
                    [] => (Route::ModelMeta(name, version), &[Method::GET]),
                    ["ready"] => (Route::ModelReady(name, version), &[Method::GET]),
                    ["infer"] => (Route::Infer(name, version), &[Method::POST]),
                    ["choose"] => (Route::Choose(name, version), &[Method::POST]),
                    ["reward"] => (Route::Reward(name, version), &[Method::POST]),
                    ["save"] => (Route::Save(name, version), &[Method::POST]),
                    _ => return Err(no_route(path)),
                }
            }
            ["v2", "repository", "index"] => (Route::RepositoryIndex, &[Method::GET, Method::POST]),
            ["v2", "repository", "models", name, "load"] => {
                (Route::Load(name.to_string()), &[Method::POST])
            }
            ["v2", "repository", "models", name, "unload"] => {
                (Route::Unload(name.to_string()), &[Method::POST])
            }
            ["v1", "models", last] => match last.strip_suffix(":predict") {
                Some(name) if !name.is_empty() => {
                    (Route::V1Predict(name.to_string()), &[Method::POST])
                }
                _ => return Err(no_route(path)),
            },
            _ => return Err(no_route(path)),
        };
        if !allowed.contains(method) {
            return Err(ServeError::new(
                405,
                format!("{method} is not allowed on {path}"),
            ));
        }
        Ok(route)
    }

    /// The route's name in metrics.
    fn name(&self) -> &'static str {
        match self {
            Route::Server => "server",
            Route::Live | Route::Ready => "health",
            Route::Metrics => "metrics",
            Route::ModelMeta(..) => "model_metadata",
            Route::ModelReady(..) => "model_ready",
            Route::Infer(..) => "infer",
            Route::Choose(..) => "choose",
            Route::Reward(..) => "reward",
            Route::Save(..) => "save",
            Route::V1Predict(_) => "v1_predict",
            Route::RepositoryIndex => "repository_index",
            Route::Load(_) => "repository_load",
            Route::Unload(_) => "repository_unload",
        }
    }

    /// The model a route is about ("" for none).
    fn model(&self) -> &str {
        match self {
            Route::ModelMeta(n, _)
            | Route::ModelReady(n, _)
            | Route::Infer(n, _)
            | Route::Choose(n, _)
            | Route::Reward(n, _)
            | Route::Save(n, _)
            | Route::V1Predict(n)
            | Route::Load(n)
            | Route::Unload(n) => n,
            _ => "",
        }
    }

    /// Whether the route answers without a token and outside the concurrency bound (probes
    /// and scrapes must work under load).
    fn is_probe(&self) -> bool {
        matches!(self, Route::Live | Route::Ready)
    }
}

/// A path segment with its percent-escapes (`%20`, `%C3%A9`) decoded; an escape that is not
/// `%` and two hex digits, or bytes that are not UTF-8 once decoded, are 400.
fn percent_decode(segment: &str) -> Result<Cow<'_, str>, ServeError> {
    if !segment.contains('%') {
        return Ok(Cow::Borrowed(segment));
    }
    let invalid = || {
        ServeError::bad_request(format!(
            "invalid percent-escape in the path segment `{segment}` (expected % and two hex \
             digits, decoding to UTF-8)"
        ))
    };
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes.get(i + 1..i + 3).ok_or_else(invalid)?;
        let digit = |h: u8| char::from(h).to_digit(16).ok_or_else(invalid);
        out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
        i += 3;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| invalid())
}

fn no_route(path: &str) -> ServeError {
    ServeError::not_found(format!("no route {path}"))
}

/// Answers one request. Never fails: every error, a panic included, is a response.
pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<HttpResponse, Infallible> {
    let start = Instant::now();
    let _in_flight = state.metrics.enter();
    let route = Route::parse(req.method(), req.uri().path());
    let (model, route_name) = match &route {
        Ok(r) => (r.model().to_string(), r.name()),
        Err(_) => (String::new(), "unknown"),
    };
    let task_state = state.clone();
    let result = match route {
        Err(e) => Err(e),
        Ok(route) => isolate(async move { dispatch(&task_state, route, req).await }).await,
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            if e.status >= 500 && e.status != 503 {
                tracing::error!(status = e.status, error = %e.message, "request failed");
            } else {
                tracing::debug!(status = e.status, error = %e.message, "request refused");
            }
            error_response(&e)
        }
    };
    // Names the repository does not know are counted under "" (a client cannot grow the
    // metrics without bound by inventing names).
    let model = if state.repository.contains(&model) {
        model
    } else {
        String::new()
    };
    state.metrics.request(
        &model,
        route_name,
        response.status().as_u16(),
        start.elapsed(),
    );
    Ok(response)
}

/// Runs a handler in a task of its own: a panic in it becomes a 500 for this request only.
async fn isolate<F>(handler: F) -> Result<HttpResponse, ServeError>
where
    F: std::future::Future<Output = Result<HttpResponse, ServeError>> + Send + 'static,
{
    tokio::spawn(handler).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "a request handler panicked");
        Err(ServeError::internal(
            "internal error (the handler failed; the server goes on)",
        ))
    })
}

async fn dispatch(
    state: &State,
    route: Route,
    req: Request<Incoming>,
) -> Result<HttpResponse, ServeError> {
    if !route.is_probe() {
        if let Some(token) = &state.auth {
            token.check(req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()))?;
        }
    }
    let _permit = if route.is_probe() || route == Route::Metrics {
        None
    } else {
        Some(state.gate.enter().await?)
    };
    let repo = &state.repository;
    match route {
        Route::Server => json_response(&json!({
            "name": "amlis",
            "version": crate::VERSION,
            "extensions": ["binary_tensor_data", "model_repository", "contextual_bandits"],
        })),
        Route::Live => json_response(&json!({"live": true})),
        Route::Ready => {
            if state.ready.load(Ordering::Acquire) {
                json_response(&json!({"ready": true}))
            } else {
                Err(ServeError::new(503, "the server is shutting down"))
            }
        }
        Route::Metrics => {
            let mut r = Response::new(Full::new(Bytes::from(state.metrics.render())));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            Ok(r)
        }
        Route::ModelMeta(name, version) => {
            let m = repo.require(&name, version.as_deref())?;
            json_response(&match &m.served {
                Served::Pipeline(p) => inference::metadata(&m.name, &m.version, p),
                Served::Bandit(b) => bandit::metadata(&m.name, &m.version, b),
            })
        }
        Route::ModelReady(name, version) => {
            let m = repo.require(&name, version.as_deref())?;
            json_response(&json!({"name": m.name, "version": m.version, "ready": true}))
        }
        Route::Infer(name, version) => infer(state, &name, version.as_deref(), req).await,
        Route::Choose(name, version) => choose(state, &name, version.as_deref(), req).await,
        Route::Reward(name, version) => reward(state, &name, version.as_deref(), req).await,
        Route::Save(name, version) => {
            repo.require(&name, version.as_deref())?.bandit()?;
            let repo = repo.clone();
            let (m, bytes) = tokio::task::spawn_blocking(move || repo.save(&name))
                .await
                .map_err(|e| ServeError::internal(format!("the save failed: {e}")))??;
            json_response(&json!({"name": m.name, "version": m.version, "saved_bytes": bytes}))
        }
        Route::V1Predict(name) => v1_predict(state, &name, req).await,
        Route::RepositoryIndex => {
            json_response(&serde_json::to_value(repo.index()).unwrap_or(Value::Null))
        }
        Route::Load(name) => {
            let repo = repo.clone();
            let m = tokio::task::spawn_blocking(move || repo.load(&name))
                .await
                .map_err(|e| ServeError::internal(format!("the load failed: {e}")))??;
            json_response(&json!({"name": m.name, "version": m.version, "state": "READY"}))
        }
        Route::Unload(name) => {
            repo.unload(&name)?;
            json_response(&json!({"name": name, "state": "UNAVAILABLE"}))
        }
    }
}

/// Reads a request body within the size limit (413) and the body timeout (408).
async fn read_body(limits: &Limits, req: Request<Incoming>) -> Result<Bytes, ServeError> {
    let too_large = || {
        ServeError::new(
            413,
            format!(
                "the request body is larger than the limit of {} bytes",
                limits.max_body_bytes
            ),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), limits.max_body_bytes);
    match tokio::time::timeout(limits.body_timeout, body.collect()).await {
        Err(_) => Err(ServeError::new(
            408,
            format!(
                "the request body did not arrive within {} ms",
                limits.body_timeout.as_millis()
            ),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(ServeError::bad_request(format!(
            "cannot read the request body: {e}"
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Batches of more values than this predict outside the async workers' cooperative time.
const BLOCKING_VALUES: usize = 1 << 16;

/// Runs a prediction: inline for small batches, in a blocking section for large ones.
fn run_prediction<T>(n_values: usize, f: impl FnOnce() -> T) -> T {
    if n_values > BLOCKING_VALUES {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

async fn infer(
    state: &State,
    name: &str,
    version: Option<&str>,
    req: Request<Incoming>,
) -> Result<HttpResponse, ServeError> {
    // The model is taken before the body is read: a reload during the request does not
    // change the model this request runs on.
    let model = state.repository.require(name, version)?;
    let p = model.pipeline()?;
    let request = read_request(state, req, &[]).await?;
    let outputs = inference::select_outputs(p, request.outputs.as_deref(), request.binary_default)?;
    let rows = inference::rows_of(p, request.inputs)?;
    let tensors = run_prediction(rows.n_values(), || inference::predict(p, &rows, &outputs))?;
    state
        .metrics
        .outputs(name, outputs.iter().map(|(o, _)| o.name()));
    tensor_response(&model.name, &model.version, request.id.as_deref(), &tensors)
}

/// Reads and parses a V2 request (JSON, or JSON then binary tensors as the
/// `Inference-Header-Content-Length` header says), reading the inputs named in `ids` as
/// exact integers; the body is dropped once parsed.
async fn read_request(
    state: &State,
    req: Request<Incoming>,
    ids: &[&str],
) -> Result<InferRequest, ServeError> {
    let json_len = binary_header_len(&req)?;
    let body = read_body(&state.limits, req).await?;
    InferRequest::parse_with_ids(&body, json_len, ids)
}

/// The `Inference-Header-Content-Length` of a request with binary tensors.
fn binary_header_len(req: &Request<Incoming>) -> Result<Option<usize>, ServeError> {
    let Some(v) = req.headers().get(protocol::HEADER_LENGTH) else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map(Some)
        .ok_or_else(|| {
            ServeError::bad_request(format!(
                "{} must be a non-negative integer",
                protocol::HEADER_LENGTH
            ))
        })
}

/// A V2 answer of output tensors (binary ones after the JSON, announced by the header).
fn tensor_response(
    model_name: &str,
    model_version: &str,
    id: Option<&str>,
    tensors: &[protocol::OutputTensor],
) -> Result<HttpResponse, ServeError> {
    let encoded = protocol::encode_response(model_name, model_version, id, tensors)?;
    let mut response = Response::new(Full::new(Bytes::from(encoded.body)));
    let headers = response.headers_mut();
    match encoded.json_len {
        Some(n) => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(protocol::HEADER_LENGTH, HeaderValue::from(n));
        }
        None => {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
    }
    Ok(response)
}

/// `POST /v2/models/{name}/choose`: a decision per context row (see [`bandit`]).
async fn choose(
    state: &State,
    name: &str,
    version: Option<&str>,
    req: Request<Incoming>,
) -> Result<HttpResponse, ServeError> {
    let model = state.repository.require(name, version)?;
    let b = model.bandit()?;
    let request = read_request(state, req, &bandit::ID_INPUTS).await?;
    let n_values = request.inputs.iter().map(|t| t.data.len()).sum();
    let decisions = run_prediction(n_values, || bandit::choose(b, request.inputs))?;
    state.metrics.bandit_rows(name, "choose", decisions.n);
    let tensors = bandit::choose_outputs(
        decisions,
        b.spec().n_actions,
        request.outputs.as_deref(),
        request.binary_default,
    )?;
    tensor_response(&model.name, &model.version, request.id.as_deref(), &tensors)
}

/// `POST /v2/models/{name}/reward`: learns the outcome rows in order, as one batch (see
/// [`bandit`]); answers how many rows were learned.
async fn reward(
    state: &State,
    name: &str,
    version: Option<&str>,
    req: Request<Incoming>,
) -> Result<HttpResponse, ServeError> {
    let model = state.repository.require(name, version)?;
    let b = model.bandit()?;
    if b.greedy().is_some() {
        return Err(ServeError::bad_request(format!(
            "model `{name}` serves a greedy policy learned from logs (fitted Q iteration or the \
             offline IPS/DM/DR reductions), which decides but does not learn online: /reward \
             is not supported"
        )));
    }
    let request = read_request(state, req, &bandit::ID_INPUTS).await?;
    let n_values = request.inputs.iter().map(|t| t.data.len()).sum();
    let logs = bandit::outcomes(b, request.inputs)?;
    let n = logs.n_rows();
    run_prediction(n_values, || b.partial_fit(&logs))?;
    state.metrics.bandit_rows(name, "reward", n);
    let mut answer =
        json!({"model_name": model.name, "model_version": model.version, "learned": n});
    if let Some(id) = request.id {
        answer["id"] = json!(id);
    }
    json_response(&answer)
}

/// `POST /v1/models/{name}:predict` with `{"instances": [[...], ...]}` (one array per row in
/// the input order; labels or category indices for categorical columns): answers
/// `{"predictions": [...]}`, the `predict` output.
async fn v1_predict(
    state: &State,
    name: &str,
    req: Request<Incoming>,
) -> Result<HttpResponse, ServeError> {
    let model = state.repository.require(name, None)?;
    let p = model.pipeline()?;
    let body = read_body(&state.limits, req).await?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ServeError::bad_request(format!("the request is not valid JSON: {e}")))?;
    let instances = value
        .get("instances")
        .and_then(Value::as_array)
        .ok_or_else(|| ServeError::bad_request("expected {\"instances\": [[...], ...]}"))?;
    let columns = p.inputs();
    let n = instances.len();
    let mut tensors: Vec<InputTensor> = columns
        .iter()
        .map(|c| InputTensor {
            name: c.name.clone(),
            shape: vec![n],
            data: TensorData::Numbers(Vec::with_capacity(n)),
        })
        .collect();
    for (i, row) in instances.iter().enumerate() {
        let row = row
            .as_array()
            .filter(|r| r.len() == columns.len())
            .ok_or_else(|| {
                ServeError::bad_request(format!(
                    "instance {i} is not an array of {} values",
                    columns.len()
                ))
            })?;
        for (j, (cell, tensor)) in row.iter().zip(tensors.iter_mut()).enumerate() {
            push_cell(&mut tensor.data, cell, i, j, n)?;
        }
    }
    let rows = inference::rows_of(p, tensors)?;
    let predict = [(ModelOutput::Predict, false)];
    let out = run_prediction(rows.n_values(), || inference::predict(p, &rows, &predict))?;
    let predictions = match out.into_iter().next().map(|t| t.data) {
        Some(protocol::OutputData::Fp64(v)) => v,
        _ => Vec::new(),
    };
    state.metrics.outputs(name, std::iter::once("predict"));
    json_response(&json!({ "predictions": predictions }))
}

/// Appends one V1 cell to a column: numbers (null for missing), or strings for a
/// categorical column (a column's first string turns it into a BYTES column).
fn push_cell(
    data: &mut TensorData,
    cell: &Value,
    row: usize,
    column: usize,
    n: usize,
) -> Result<(), ServeError> {
    match (cell, &mut *data) {
        (Value::Number(x), TensorData::Numbers(v)) => v.push(x.as_f64().unwrap_or(f64::NAN)),
        (Value::Null, TensorData::Numbers(v)) => v.push(f64::NAN),
        (Value::String(s), TensorData::Strings(v)) => v.push(s.clone()),
        (Value::String(s), TensorData::Numbers(v)) if v.is_empty() => {
            let mut strings = Vec::with_capacity(n);
            strings.push(s.clone());
            *data = TensorData::Strings(strings);
        }
        _ => {
            return Err(ServeError::bad_request(format!(
                "instance {row}, column {column}: {cell} does not fit the column (numbers, or \
                 strings in every row of a categorical column)"
            )))
        }
    }
    Ok(())
}

fn json_response(value: &Value) -> Result<HttpResponse, ServeError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| ServeError::internal(format!("cannot encode the response: {e}")))?;
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// `{"error": ...}` with the error's status (and `Retry-After` for a 503).
pub fn error_response(e: &ServeError) -> HttpResponse {
    let mut r = Response::new(Full::new(Bytes::from(e.body())));
    *r.status_mut() = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(s) = e.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(s));
    }
    if e.status == 401 {
        headers.insert(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_a_500() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt
            .block_on(isolate(async {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                json_response(&Value::Null)
            }))
            .unwrap_err();
        assert_eq!(e.status, 500);
        // The runtime goes on.
        assert!(rt
            .block_on(isolate(async { json_response(&Value::Null) }))
            .is_ok());
    }

    #[test]
    fn routes_parse() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(Route::parse(&get, "/v2").unwrap(), Route::Server);
        assert_eq!(
            Route::parse(&post, "/v2/models/iris/versions/3/infer").unwrap(),
            Route::Infer("iris".into(), Some("3".into()))
        );
        assert_eq!(
            Route::parse(&get, "/v2/models/iris/ready").unwrap(),
            Route::ModelReady("iris".into(), None)
        );
        assert_eq!(
            Route::parse(&post, "/v1/models/iris:predict").unwrap(),
            Route::V1Predict("iris".into())
        );
        assert_eq!(
            Route::parse(&get, "/v2/models/iris/infer")
                .unwrap_err()
                .status,
            405
        );
        assert_eq!(Route::parse(&get, "/v3").unwrap_err().status, 404);
        // Percent-escapes are decoded per segment; invalid ones are 400.
        assert_eq!(
            Route::parse(&post, "/v2/models/my%20model/infer").unwrap(),
            Route::Infer("my model".into(), None)
        );
        assert_eq!(
            Route::parse(&get, "/v2/models/caf%C3%A9%2Fx%25").unwrap(),
            Route::ModelMeta("café/x%".into(), None)
        );
        assert_eq!(
            Route::parse(&post, "/v1/models/my%20model:predict").unwrap(),
            Route::V1Predict("my model".into())
        );
        for bad in [
            "/v2/models/a%2/infer",
            "/v2/models/a%/infer",
            "/v2/models/a%zz/infer",
            "/v2/models/a%C3/infer",
            "/v2/models/%+1x/infer",
        ] {
            assert_eq!(Route::parse(&post, bad).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(
            Route::parse(&post, "/v1/models/:predict")
                .unwrap_err()
                .status,
            404
        );
    }
}
