//! `amlis-serve` end to end: the binary is started on `127.0.0.1:0` over a directory of model
//! files and spoken to over HTTP/1.1 with a small std::net client.
//!
//! Without the `serve` feature (the plain `cargo test`), the binary is first built with
//! `cargo build --features serve --bin amlis-serve` into `target/serve-test` (the outer cargo
//! holds the lock of the main target directory).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use amlis::config::TrainConfig;
use amlis::data::{Column, Table};
use amlis::models::PredictKind;
use amlis::persist::Encoding;
use amlis::pipeline::Pipeline;
use amlis::service::bandit::Bandit;
use amlis::traits::FitContext;
use ndarray::ArrayView2;
use serde_json::{json, Value};

/// The server binary (built once per test run when the feature is off).
fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = prebuilt() {
            return bin;
        }
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = manifest.join("target").join("serve-test");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--features",
                "serve",
                "--bin",
                "amlis-serve",
                "--target-dir",
            ])
            .arg(&target)
            .current_dir(manifest)
            .status()
            .expect("run cargo build for amlis-serve");
        assert!(status.success(), "building amlis-serve failed");
        target.join("debug").join("amlis-serve")
    })
    .clone()
}

/// The binary cargo built for this test run, with the `serve` feature on.
#[cfg(feature = "serve")]
fn prebuilt() -> Option<PathBuf> {
    Some(PathBuf::from(env!("CARGO_BIN_EXE_amlis-serve")))
}

/// Without the feature cargo builds no binary (a stale one may lie in the target directory).
#[cfg(not(feature = "serve"))]
fn prebuilt() -> Option<PathBuf> {
    None
}

/// A scratch directory of this test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("models")).unwrap();
    dir
}

fn fit(config: &str, table: &Table, target: &str) -> Pipeline {
    let config = TrainConfig::from_json(config).unwrap();
    Pipeline::fit(&config, table, target, &FitContext::new()).unwrap()
}

const IRIS: &str =
    r#"{"model": {"type": "logistic_regression"}, "preprocess": [{"type": "standard_scaler"}]}"#;
const PENGUINS: &str = r#"{"model": {"type": "logistic_regression", "max_iter": 200},
    "preprocess": [{"type": "simple_imputer", "strategy": "median"},
                   {"type": "simple_imputer", "strategy": "most_frequent"},
                   {"type": "one_hot_encoder", "handle_unknown": "ignore"},
                   {"type": "standard_scaler"}]}"#;

fn ridge(alpha: f64) -> Pipeline {
    let diabetes = amlis::datasets::diabetes_table().unwrap();
    fit(
        &format!(r#"{{"model": {{"type": "ridge", "alpha": {alpha}}}}}"#),
        &diabetes,
        "progression",
    )
}

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let port_file = dir.join("port");
        let log = dir.join("server.log");
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(binary())
            .arg("--model-dir")
            .arg(dir.join("models"))
            .args(["--addr", "127.0.0.1:0", "--port-file"])
            .arg(&port_file)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start amlis-serve");
        let start = Instant::now();
        let addr = loop {
            if let Ok(a) = std::fs::read_to_string(&port_file) {
                break a;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the server did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, addr, log }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut s = self.connect();
        s.write_all(&head(method, path, headers, body.len()))
            .unwrap();
        s.write_all(body).unwrap();
        read_reply(&mut s)
    }

    fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, &[], body.to_string().as_bytes())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn head(method: &str, path: &str, headers: &[(&str, &str)], len: usize) -> Vec<u8> {
    let mut h = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {len}\r\n"
    );
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `{"error": ...}` message of an error reply with `status`.
    fn error(&self, status: u16) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }
}

fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The raw numeric rows of a table's input columns (categorical cells as category indices).
fn raw_rows(p: &Pipeline, table: &Table) -> Vec<f64> {
    let n = table.n_rows();
    let k = p.inputs().len();
    let mut x = vec![0.0; n * k];
    for (j, input) in p.inputs().iter().enumerate() {
        match table.column(&input.name).unwrap() {
            Column::Numeric(v) => (0..n).for_each(|i| x[i * k + j] = v[i]),
            Column::Categorical(c) => {
                let amlis::data::FeatureKind::Categorical { categories } = &input.kind else {
                    panic!("kind")
                };
                for i in 0..n {
                    x[i * k + j] = c
                        .get(i)
                        .and_then(|s| categories.iter().position(|t| t == s))
                        .map_or(f64::NAN, |p| p as f64);
                }
            }
        }
    }
    x
}

fn expected(p: &Pipeline, kind: PredictKind, x: &[f64]) -> Vec<f64> {
    let k = p.inputs().len();
    let n = x.len() / k;
    let mut out = vec![0.0; n * p.output_width(kind).unwrap()];
    p.predict_rows_into(kind, ArrayView2::from_shape((n, k), x).unwrap(), &mut out)
        .unwrap();
    out
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn output<'a>(reply: &'a Value, name: &str) -> &'a Value {
    reply["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no output {name} in {reply}"))
}

fn wait_for(what: &str, server: &Server, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn endpoints_outputs_errors_repository_and_hot_reload() {
    let dir = scratch("main");
    let models = dir.join("models");
    let iris_table = amlis::datasets::iris_table().unwrap();
    let iris = fit(IRIS, &iris_table, "species");
    iris.save(models.join("iris.amlis"), Encoding::Binary)
        .unwrap();
    let penguins_table = amlis::datasets::penguins_table().unwrap();
    let penguins = fit(PENGUINS, &penguins_table, "species");
    penguins
        .save(models.join("penguins.json"), Encoding::Json)
        .unwrap();
    let diabetes = ridge(1.0);
    diabetes
        .save(models.join("diabetes.amlis"), Encoding::Binary)
        .unwrap();
    std::fs::write(models.join("README.md"), "not a model").unwrap();
    let server = Server::start(&dir, &["--poll-interval-ms", "100"]);

    // Server metadata and health.
    let r = server.get("/v2").json();
    assert_eq!(r["name"], "amlis");
    assert!(r["extensions"]
        .as_array()
        .unwrap()
        .contains(&json!("binary_tensor_data")));
    assert_eq!(server.get("/v2/health/live").status, 200);
    assert_eq!(server.get("/v2/health/ready").status, 200);

    // Model metadata: -1 for the batch dimension, datatypes, every output.
    let meta = server.get("/v2/models/iris").json();
    assert_eq!(meta["versions"], json!(["1"]));
    assert_eq!(
        meta["inputs"],
        json!([{"name": "input", "datatype": "FP64", "shape": [-1, 4]}])
    );
    let outputs: Vec<_> = meta["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["predict", "label", "predict_proba", "score"]);
    assert_eq!(output(&meta, "predict_proba")["shape"], json!([-1, 3]));
    assert_eq!(output(&meta, "label")["datatype"], "BYTES");
    assert_eq!(server.get("/v2/models/iris/versions/1").json(), meta);
    server.get("/v2/models/iris/versions/7").error(404);
    let pmeta = server.get("/v2/models/penguins").json();
    let island = pmeta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "island")
        .unwrap();
    assert_eq!(island["datatype"], "BYTES");
    assert_eq!(server.get("/v2/models/iris/ready").json()["ready"], true);
    assert_eq!(server.get("/v2/models/iris/versions/1/ready").status, 200);
    server.get("/v2/models/nope/ready").error(404);
    server.get("/v2/models/nope").error(404);

    // Inference: every output by default, bit for bit with the library, id echoed.
    let x = raw_rows(&iris, &iris_table);
    let n = x.len() / 4;
    let request = json!({"id": "req-1", "inputs": [{"name": "input", "shape": [n, 4], "datatype": "FP64", "data": x}]});
    let r = server.post("/v2/models/iris/infer", &request);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = r.json();
    assert_eq!(
        (
            r["id"].as_str(),
            r["model_name"].as_str(),
            r["model_version"].as_str()
        ),
        (Some("req-1"), Some("iris"), Some("1"))
    );
    let predicted = expected(&iris, PredictKind::Value, &x);
    assert!(same_bits(
        &floats(&output(&r, "predict")["data"]),
        &predicted
    ));
    assert_eq!(output(&r, "predict")["shape"], json!([n]));
    assert!(same_bits(
        &floats(&output(&r, "predict_proba")["data"]),
        &expected(&iris, PredictKind::Proba, &x)
    ));
    assert_eq!(output(&r, "predict_proba")["shape"], json!([n, 3]));
    assert!(same_bits(
        &floats(&output(&r, "score")["data"]),
        &expected(&iris, PredictKind::Score, &x)
    ));
    let labels: Vec<&str> = output(&r, "label")["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let want: Vec<&str> = predicted
        .iter()
        .map(|&c| iris.classes()[c as usize].as_str())
        .collect();
    assert_eq!(labels, want);

    // Nested data, a version path, and the outputs asked for only; FP32 and INT inputs.
    let nested: Vec<Vec<f64>> = x.chunks(4).take(3).map(|r| r.to_vec()).collect();
    let r = server
        .post("/v2/models/iris/versions/1/infer", &json!({"inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": nested}], "outputs": [{"name": "predict_proba"}]}))
        .json();
    assert_eq!(r["outputs"].as_array().unwrap().len(), 1);
    assert!(same_bits(
        &floats(&output(&r, "predict_proba")["data"]),
        &expected(&iris, PredictKind::Proba, &x[..12])
    ));
    assert!(r.get("id").is_none());
    let r = server
        .post("/v2/models/iris/infer", &json!({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT32", "data": [5, 3, 1, 0]}], "outputs": [{"name": "predict"}]}))
        .json();
    assert!(same_bits(
        &floats(&output(&r, "predict")["data"]),
        &expected(&iris, PredictKind::Value, &[5.0, 3.0, 1.0, 0.0])
    ));

    // The binary tensor extension: FP64 rows in, binary outputs back.
    let header = json!({"inputs": [{"name": "input", "shape": [n, 4], "datatype": "FP64", "parameters": {"binary_data_size": x.len() * 8}}],
        "outputs": [{"name": "predict_proba", "parameters": {"binary_data": true}}, {"name": "label"}]}).to_string();
    let mut body = header.clone().into_bytes();
    x.iter().for_each(|v| body.extend(v.to_le_bytes()));
    let len = header.len().to_string();
    let r = server.request(
        "POST",
        "/v2/models/iris/infer",
        &[
            ("Inference-Header-Content-Length", &len),
            ("Content-Type", "application/octet-stream"),
        ],
        &body,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let json_len: usize = r
        .header("inference-header-content-length")
        .unwrap()
        .parse()
        .unwrap();
    let json_head: Value = serde_json::from_slice(&r.body[..json_len]).unwrap();
    assert_eq!(
        output(&json_head, "predict_proba")["parameters"]["binary_data_size"],
        n * 3 * 8
    );
    let proba: Vec<f64> = r.body[json_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(same_bits(&proba, &expected(&iris, PredictKind::Proba, &x)));
    assert_eq!(
        output(&json_head, "label")["data"]
            .as_array()
            .unwrap()
            .len(),
        n
    );

    // One tensor per named column, BYTES for the categorical ones (JSON, then binary).
    let rows = penguins_table
        .take_rows(&(0..40).collect::<Vec<_>>())
        .unwrap();
    let px = raw_rows(&penguins, &rows);
    let mut inputs = Vec::new();
    for (name, column) in rows.iter().filter(|(name, _)| *name != "species") {
        inputs.push(match column {
            Column::Numeric(v) => json!({"name": name, "shape": [40], "datatype": "FP64", "data": v.iter().map(|x| if x.is_nan() { Value::Null } else { json!(x) }).collect::<Vec<_>>()}),
            Column::Categorical(c) => json!({"name": name, "shape": [40, 1], "datatype": "BYTES", "data": c.iter().map(|s| s.unwrap_or("")).collect::<Vec<_>>()}),
        });
    }
    // Rows with a missing category are sent as "" (unknown to the encoder, which ignores it);
    // compare against the table path, which handles it the same way.
    let mut with_blank = rows.clone();
    for (name, column) in rows.iter() {
        if let Column::Categorical(c) = column {
            let values: Vec<Option<&str>> = c.iter().map(|s| Some(s.unwrap_or(""))).collect();
            with_blank
                .replace_column(name, Column::categorical_from(&values))
                .unwrap();
        }
    }
    let mut want = vec![0.0; 40 * 3];
    penguins
        .predict_table_into(
            PredictKind::Proba,
            &with_blank.drop(&["species"]).unwrap(),
            &mut want,
        )
        .unwrap();
    let r = server.post(
        "/v2/models/penguins/infer",
        &json!({"inputs": inputs, "outputs": [{"name": "predict_proba"}]}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(same_bits(
        &floats(&output(&r.json(), "predict_proba")["data"]),
        &want
    ));
    // Known labels only: the row path, bit for bit with amlis_predict on category indices.
    let known: Vec<usize> = (0..40)
        .filter(|&i| {
            (0..7).all(|j| {
                !px[i * 7 + j].is_nan()
                    || !matches!(
                        penguins.inputs()[j].kind,
                        amlis::data::FeatureKind::Categorical { .. }
                    )
            })
        })
        .collect();
    let krows = rows.take_rows(&known).unwrap();
    let kx = raw_rows(&penguins, &krows);
    let m = known.len();
    let island: Vec<&str> = krows
        .column("island")
        .unwrap()
        .as_categorical()
        .unwrap()
        .iter()
        .map(|s| s.unwrap())
        .collect();
    let sex: Vec<&str> = krows
        .column("sex")
        .unwrap()
        .as_categorical()
        .unwrap()
        .iter()
        .map(|s| s.unwrap())
        .collect();
    let mut bin_inputs = Vec::new();
    let mut binary = Vec::new();
    for (j, input) in penguins.inputs().iter().enumerate() {
        let start = binary.len();
        let datatype = match input.name.as_str() {
            "island" | "sex" => {
                for s in if input.name == "island" {
                    &island
                } else {
                    &sex
                } {
                    binary.extend((s.len() as u32).to_le_bytes());
                    binary.extend(s.as_bytes());
                }
                "BYTES"
            }
            _ => {
                (0..m).for_each(|i| binary.extend(kx[i * 7 + j].to_le_bytes()));
                "FP64"
            }
        };
        bin_inputs.push(json!({"name": input.name, "shape": [m], "datatype": datatype, "parameters": {"binary_data_size": binary.len() - start}}));
    }
    let header = json!({"inputs": bin_inputs, "outputs": [{"name": "predict"}]}).to_string();
    let mut body = header.clone().into_bytes();
    body.extend(binary);
    let len = header.len().to_string();
    let r = server.request(
        "POST",
        "/v2/models/penguins/infer",
        &[("Inference-Header-Content-Length", &len)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(same_bits(
        &floats(&output(&r.json(), "predict")["data"]),
        &expected(&penguins, PredictKind::Value, &kx)
    ));

    // V1: {"instances": rows} -> {"predictions": the predict output}.
    let dtable = amlis::datasets::diabetes_table().unwrap();
    let dx = raw_rows(&diabetes, &dtable);
    let instances: Vec<Vec<f64>> = dx.chunks(10).take(5).map(|r| r.to_vec()).collect();
    let r = server.post(
        "/v1/models/diabetes:predict",
        &json!({"instances": instances}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(same_bits(
        &floats(&r.json()["predictions"]),
        &expected(&diabetes, PredictKind::Value, &dx[..50])
    ));

    // Errors: 400 and 404 with {"error": ...}.
    let one = |data: Value, shape: Value, datatype: &str| json!({"inputs": [{"name": "input", "shape": shape, "datatype": datatype, "data": data}]});
    // (model, data, shape, datatype, status, what the message names)
    let cases = [
        (
            "nope",
            json!([1, 2, 3, 4]),
            json!([1, 4]),
            "FP64",
            404,
            "nope",
        ),
        (
            "iris",
            json!([1, 2, 3]),
            json!([1, 4]),
            "FP64",
            400,
            "4 elements",
        ),
        (
            "iris",
            json!([1, 2, 3]),
            json!([1, 3]),
            "FP64",
            400,
            "[n, 4]",
        ),
        (
            "iris",
            json!(["a", "b", "c", "d"]),
            json!([1, 4]),
            "BYTES",
            400,
            "BYTES",
        ),
        (
            "iris",
            json!([1, "x", 3, 4]),
            json!([1, 4]),
            "FP64",
            400,
            "numbers",
        ),
        (
            "iris",
            json!([1, 2, 3, 4]),
            json!([1, 4]),
            "COMPLEX",
            400,
            "COMPLEX",
        ),
    ];
    for (model, data, shape, datatype, status, names) in cases {
        let e = server
            .post(
                &format!("/v2/models/{model}/infer"),
                &one(data, shape, datatype),
            )
            .error(status);
        assert!(e.contains(names), "{model} {datatype}: {e}");
    }
    let e = server
        .post("/v2/models/diabetes/infer", &json!({"inputs": [{"name": "input", "shape": [1, 10], "datatype": "FP64", "data": dx[..10]}], "outputs": [{"name": "predict_proba"}]}))
        .error(400);
    assert!(e.contains("unknown output `predict_proba`"), "{e}");
    let e = server
        .request("POST", "/v2/models/iris/infer", &[], b"{not json")
        .error(400);
    assert!(e.contains("JSON"), "{e}");
    server
        .request(
            "POST",
            "/v2/models/iris/infer",
            &[("Inference-Header-Content-Length", "999")],
            b"{}",
        )
        .error(400);
    server
        .post("/v1/models/diabetes:predict", &json!({"rows": []}))
        .error(400);
    server.get("/v2/nothing/here").error(404);
    server.get("/v2/models/iris/infer").error(405);
    // An unknown category index in a single tensor.
    let mut bad = px[..7].to_vec();
    bad[0] = 99.0;
    server.post("/v2/models/penguins/infer", &json!({"inputs": [{"name": "input", "shape": [1, 7], "datatype": "FP64", "data": bad}]})).error(400);
    // A body over the 16 MiB default limit is refused from its Content-Length.
    let mut s = server.connect();
    s.write_all(&head("POST", "/v2/models/iris/infer", &[], 17 << 20))
        .unwrap();
    assert_eq!(read_reply(&mut s).status, 413);

    // Repository extension: index, unload, load.
    let index = server.get("/v2/repository/index").json();
    let names: Vec<_> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("diabetes", "READY"),
            ("iris", "READY"),
            ("penguins", "READY")
        ]
    );
    assert_eq!(
        server
            .request("POST", "/v2/repository/index", &[], b"{}")
            .status,
        200
    );
    assert_eq!(
        server
            .request("POST", "/v2/repository/models/iris/unload", &[], b"")
            .status,
        200
    );
    let e = server.post("/v2/models/iris/infer", &request).error(404);
    assert!(e.contains("unloaded"), "{e}");
    server.get("/v2/models/iris/ready").error(404);
    let index = server.get("/v2/repository/index").json();
    assert_eq!(index[1]["state"], "UNAVAILABLE");
    let r = server
        .request("POST", "/v2/repository/models/iris/load", &[], b"")
        .json();
    assert_eq!(r["version"], "2");
    assert_eq!(server.post("/v2/models/iris/infer", &request).status, 200);
    server
        .request("POST", "/v2/repository/models/nope/load", &[], b"")
        .error(404);
    server
        .request("POST", "/v2/repository/models/nope/unload", &[], b"")
        .error(404);

    // Hot reload: a new file is swapped in; a corrupt one keeps the old model serving.
    let version = |s: &Server| {
        s.get("/v2/models/diabetes").json()["versions"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(version(&server), "1");
    let stronger = ridge(50.0);
    stronger
        .save(models.join("diabetes.amlis"), Encoding::Binary)
        .unwrap();
    wait_for("the reload", &server, || version(&server) == "2");
    let v1 = json!({"instances": instances});
    let r = server.post("/v1/models/diabetes:predict", &v1).json();
    assert!(same_bits(
        &floats(&r["predictions"]),
        &expected(&stronger, PredictKind::Value, &dx[..50])
    ));
    assert!(!same_bits(
        &floats(&r["predictions"]),
        &expected(&diabetes, PredictKind::Value, &dx[..50])
    ));
    let mut corrupt = stronger.to_bytes(Encoding::Binary).unwrap();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x55;
    std::fs::write(models.join("diabetes.amlis"), &corrupt).unwrap();
    wait_for("the failed reload", &server, || {
        server.get("/v2/repository/index").json()[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("checksum"))
    });
    assert_eq!(version(&server), "2");
    let r = server.post("/v1/models/diabetes:predict", &v1).json();
    assert!(same_bits(
        &floats(&r["predictions"]),
        &expected(&stronger, PredictKind::Value, &dx[..50])
    ));
    // A new file appears, a removed one goes.
    iris.save(models.join("iris2.amlis"), Encoding::Binary)
        .unwrap();
    wait_for("the new model", &server, || {
        server.get("/v2/models/iris2/ready").status == 200
    });
    std::fs::remove_file(models.join("iris2.amlis")).unwrap();
    wait_for("the removal", &server, || {
        server.get("/v2/models/iris2/ready").status == 404
    });

    // Metrics.
    let r = server.get("/metrics");
    assert_eq!(r.status, 200);
    let text = String::from_utf8(r.body).unwrap();
    for line in [
        "amlis_requests_total{model=\"iris\",route=\"infer\",status=\"200\"}",
        "amlis_requests_total{model=\"iris\",route=\"infer\",status=\"404\"} 1",
        "amlis_outputs_total{model=\"iris\",output=\"predict_proba\"}",
        "amlis_request_duration_seconds_bucket{route=\"infer\",le=\"+Inf\"}",
        "amlis_requests_in_flight 1",
        "amlis_model_loads_total{kind=\"reload\",result=\"ok\"}",
        "amlis_model_loads_total{kind=\"reload\",result=\"error\"} 1",
        "amlis_models_ready 3",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    assert!(
        !text.contains("model=\"nope\""),
        "unknown names are not labels:\n{text}"
    );
    assert!(server.log().contains("reload failed"), "{}", server.log());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends the headers of an inference request and part of its body: the request holds a
/// slot of the concurrency bound until its body arrives or times out.
fn hold(server: &Server, path: &str, body: &[u8]) -> TcpStream {
    let mut s = server.connect();
    s.write_all(&head(
        "POST",
        path,
        &[("Authorization", "Bearer s3cret")],
        body.len(),
    ))
    .unwrap();
    s.write_all(&body[..10]).unwrap();
    s.flush().unwrap();
    s
}

fn iris_request() -> Vec<u8> {
    json!({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}], "outputs": [{"name": "predict"}]})
        .to_string()
        .into_bytes()
}

#[test]
fn auth_limits_and_overload() {
    let dir = scratch("limits");
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(dir.join("models").join("iris.amlis"), Encoding::Binary)
        .unwrap();
    std::fs::write(dir.join("token"), "s3cret\n").unwrap();
    let token = dir.join("token").display().to_string();
    let server = Server::start(
        &dir,
        &[
            "--auth-token-file",
            &token,
            "--max-concurrency",
            "1",
            "--queue",
            "0",
            "--body-timeout-ms",
            "1500",
            "--header-timeout-ms",
            "1500",
            "--max-body-bytes",
            "4096",
        ],
    );
    let body = iris_request();
    let auth = [("Authorization", "Bearer s3cret")];

    // Bearer token.
    server
        .request("POST", "/v2/models/iris/infer", &[], &body)
        .error(401);
    let r = server.request(
        "POST",
        "/v2/models/iris/infer",
        &[("Authorization", "Bearer s3creT")],
        &body,
    );
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    r.error(401);
    server.get("/v2/models/iris").error(401);
    assert_eq!(
        server
            .request("POST", "/v2/models/iris/infer", &auth, &body)
            .status,
        200
    );
    assert_eq!(server.get("/v2/health/live").status, 200);
    assert_eq!(server.get("/v2/health/ready").status, 200);

    // Body limit, on what is actually sent.
    let big = vec![b' '; 5000];
    let mut s = server.connect();
    s.write_all(&head("POST", "/v2/models/iris/infer", &auth, big.len()))
        .unwrap();
    let _ = s.write_all(&big);
    assert_eq!(read_reply(&mut s).status, 413);

    // Concurrency bound: one request holds the only slot, the next is refused with 503 and
    // Retry-After; the slow body times out (408) and frees the slot.
    let mut slow = hold(&server, "/v2/models/iris/infer", &body);
    std::thread::sleep(Duration::from_millis(200));
    let r = server.request("POST", "/v2/models/iris/infer", &auth, &body);
    assert_eq!(r.header("retry-after"), Some("1"));
    r.error(503);
    assert_eq!(read_reply(&mut slow).status, 408);
    assert_eq!(
        server
            .request("POST", "/v2/models/iris/infer", &auth, &body)
            .status,
        200
    );

    // A client that never finishes its headers is disconnected.
    let mut s = server.connect();
    s.write_all(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(start.elapsed() < Duration::from_secs(20));
    // Nor does a client that sends nothing, or only part of the HTTP/2 preface.
    for first in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let mut s = server.connect();
        s.write_all(first).unwrap();
        let start = Instant::now();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        assert!(buf.is_empty() && start.elapsed() < Duration::from_secs(20));
    }
    assert_eq!(
        server
            .request("POST", "/v2/models/iris/infer", &auth, &body)
            .status,
        200
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graceful_shutdown_on_sigterm() {
    let dir = scratch("shutdown");
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(dir.join("models").join("iris.amlis"), Encoding::Binary)
        .unwrap();
    let mut server = Server::start(&dir, &[]);
    let body = iris_request();
    // A request in flight: headers sent, body not yet.
    let mut s = server.connect();
    s.write_all(&head("POST", "/v2/models/iris/infer", &[], body.len()))
        .unwrap();
    s.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    // New connections are refused once the listener is closed.
    wait_for("the listener to close", &server, || {
        TcpStream::connect(&server.addr).is_err()
    });
    // The request in flight finishes.
    s.write_all(&body[10..]).unwrap();
    let r = read_reply(&mut s);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let want = expected(&iris, PredictKind::Value, &[5.1, 3.5, 1.4, 0.2]);
    assert!(same_bits(
        &floats(&output(&r.json(), "predict")["data"]),
        &want
    ));
    // Then the server exits cleanly.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}\n{}", server.log());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls_with_rustls() {
    let have = |tool: &str, arg: &str| {
        Command::new(tool)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("openssl", "version") || !have("curl", "--version") {
        eprintln!("tls_with_rustls skipped: openssl or curl is not installed");
        return;
    }
    let dir = scratch("tls");
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(dir.join("models").join("iris.amlis"), Encoding::Binary)
        .unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let server = Server::start(
        &dir,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let out = Command::new("curl")
        .args(["-s", "--cacert"])
        .arg(&cert)
        .arg(format!("https://{}/v2/models/iris/infer", server.addr))
        .arg("--data-binary")
        .arg(String::from_utf8(iris_request()).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = expected(&iris, PredictKind::Value, &[5.1, 3.5, 1.4, 0.2]);
    assert!(same_bits(&floats(&output(&r, "predict")["data"]), &want));
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut s = server.connect();
    s.write_all(&head("GET", "/v2/health/live", &[], 0))
        .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(!buf.starts_with(b"HTTP/1.1 200"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A context of `d` features for event `t` (deterministic, in [-1, 1]).
fn bandit_context(t: u64, d: usize) -> Vec<f64> {
    (0..d)
        .map(|j| (((t * 31 + j as u64 * 17) % 23) as f64) / 11.0 - 1.0)
        .collect()
}

/// The decisions of `b` on `contexts` (row-major) with `event_ids` and one exclusion list
/// for every row: the actions and the pmf bits.
fn rust_choose(
    b: &Bandit,
    contexts: &[f64],
    event_ids: &[u64],
    excluded: &[usize],
) -> (Vec<i64>, Vec<f64>) {
    let (k, d) = (b.spec().n_actions, b.spec().n_features);
    let mut actions = Vec::new();
    let mut pmf = vec![0.0; event_ids.len() * k];
    for (i, &e) in event_ids.iter().enumerate() {
        let a = b
            .choose(
                &contexts[i * d..(i + 1) * d],
                e,
                excluded,
                &mut pmf[i * k..(i + 1) * k],
            )
            .unwrap();
        actions.push(a as i64);
    }
    (actions, pmf)
}

fn choose_request(contexts: &[f64], d: usize, event_ids: &[u64]) -> Value {
    json!({"id": "c1", "inputs": [
        {"name": "context", "shape": [event_ids.len(), d], "datatype": "FP64", "data": contexts},
        {"name": "event_id", "shape": [event_ids.len()], "datatype": "UINT64", "data": event_ids}]})
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

/// The actions and pmf of a `choose` answer.
fn decisions_of(r: &Reply) -> (Vec<i64>, Vec<f64>) {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = r.json();
    (
        ints(&output(&r, "action")["data"]),
        floats(&output(&r, "pmf")["data"]),
    )
}

#[test]
fn bandit_choose_reward_save_reload_and_errors() {
    let dir = scratch("bandit");
    let models = dir.join("models");
    let (k, d) = (4, 3);
    // A LinTS bandit that has learned a little (its draws depend on the event id).
    let fresh = Bandit::from_json(
        r#"{"policy": {"type": "lin_ts", "alpha": 0.3, "pmf_samples": 16}, "random_state": 5}"#,
        k,
        d,
    )
    .unwrap();
    for t in 0..30u64 {
        let x = bandit_context(t, d);
        let mut pmf = vec![0.0; k];
        let a = fresh.choose(&x, t, &[], &mut pmf).unwrap();
        fresh
            .update(&x, a, f64::from((t as usize + a) % 3 == 0), pmf[a])
            .unwrap();
    }
    fresh
        .save(models.join("lin.amlis"), Encoding::Binary)
        .unwrap();
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v1.3/greedy_policy.amlis");
    std::fs::copy(&golden, models.join("greedy.amlis")).unwrap();
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(models.join("iris.amlis"), Encoding::Binary)
        .unwrap();
    // A bandit with a preprocessing step, fitted by its first batch of outcomes.
    let scaled_config = r#"{"policy": {"type": "lin_ucb", "alpha": 0.4}, "random_state": 1,
        "preprocess": [{"type": "standard_scaler"}]}"#;
    Bandit::from_json(scaled_config, k, d)
        .unwrap()
        .save(models.join("scaled.json"), Encoding::Json)
        .unwrap();
    let server = Server::start(&dir, &["--poll-interval-ms", "100"]);
    // The server's bandit and a local copy of the same file.
    let local = Bandit::load(models.join("lin.amlis")).unwrap();

    // Metadata: the platform, the sizes, the policy.
    let meta = server.get("/v2/models/lin").json();
    assert_eq!(meta["platform"], "amlis-bandit");
    assert_eq!(
        meta["inputs"][0],
        json!({"name": "context", "datatype": "FP64", "shape": [-1, 3]})
    );
    assert_eq!(output(&meta, "pmf")["shape"], json!([-1, 4]));
    let p = &meta["parameters"];
    assert_eq!(
        (
            &p["kind"],
            &p["policy"],
            &p["n_actions"],
            &p["n_features"],
            &p["learns"]
        ),
        (
            &json!("bandit"),
            &json!("lin_ts"),
            &json!(4),
            &json!(3),
            &json!(true)
        )
    );
    let g = server.get("/v2/models/greedy").json();
    assert_eq!(g["parameters"]["kind"], "greedy_policy");
    assert_eq!(g["parameters"]["learns"], false);
    assert_eq!(server.get("/v2/models/lin/ready").status, 200);

    // choose: bit for bit with Bandit::choose for the same event ids (all 64 bits of them).
    let n = 12;
    let event_ids: Vec<u64> = (0..n as u64)
        .map(|i| match i {
            0 => u64::MAX,
            1 => (1 << 60) + 1,
            _ => 1000 + i,
        })
        .collect();
    let x: Vec<f64> = (0..n as u64)
        .flat_map(|t| bandit_context(t + 100, d))
        .collect();
    let r = server.post("/v2/models/lin/choose", &choose_request(&x, d, &event_ids));
    assert_eq!(r.json()["id"], "c1");
    let (actions, pmf) = decisions_of(&r);
    let (want_actions, want_pmf) = rust_choose(&local, &x, &event_ids, &[]);
    assert_eq!(actions, want_actions);
    assert!(same_bits(&pmf, &want_pmf));
    // One row, [1, d], and excluded actions as a BOOL mask.
    let mask: Vec<bool> = (0..k).map(|a| a == 0 || a == 2).collect();
    let r = server.post(
        "/v2/models/lin/choose",
        &json!({"inputs": [
        {"name": "context", "shape": [1, d], "datatype": "FP64", "data": [x[..d]]},
        {"name": "event_id", "shape": [1], "datatype": "UINT64", "data": [7]},
        {"name": "excluded", "shape": [1, k], "datatype": "BOOL", "data": mask}]}),
    );
    let (a1, p1) = decisions_of(&r);
    let (wa, wp) = rust_choose(&local, &x[..d], &[7], &[0, 2]);
    assert_eq!(a1, wa);
    assert!(same_bits(&p1, &wp));
    assert!(a1[0] == 1 || a1[0] == 3);
    // The binary extension: contexts and event ids raw, the pmf back raw.
    let header = json!({"inputs": [
        {"name": "context", "shape": [n, d], "datatype": "FP64", "parameters": {"binary_data_size": n * d * 8}},
        {"name": "event_id", "shape": [n], "datatype": "UINT64", "parameters": {"binary_data_size": n * 8}}],
        "outputs": [{"name": "pmf", "parameters": {"binary_data": true}}, {"name": "action"}]})
    .to_string();
    let mut body = header.clone().into_bytes();
    x.iter().for_each(|v| body.extend(v.to_le_bytes()));
    event_ids.iter().for_each(|v| body.extend(v.to_le_bytes()));
    let len = header.len().to_string();
    let r = server.request(
        "POST",
        "/v2/models/lin/choose",
        &[("Inference-Header-Content-Length", &len)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let json_len: usize = r
        .header("inference-header-content-length")
        .unwrap()
        .parse()
        .unwrap();
    let head: Value = serde_json::from_slice(&r.body[..json_len]).unwrap();
    assert_eq!(ints(&output(&head, "action")["data"]), want_actions);
    let raw: Vec<f64> = r.body[json_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(same_bits(&raw, &want_pmf));

    // reward: a batch learned in order, then every later choose reflects it.
    let outcomes: Vec<(usize, f64, f64)> = (0..n)
        .map(|i| {
            let a = actions[i] as usize;
            (a, f64::from((i + a) % 2 == 0), pmf[i * k + a])
        })
        .collect();
    let reward_request = |rows: &[(usize, f64, f64)], x: &[f64]| {
        json!({"id": "r1", "inputs": [
            {"name": "context", "shape": [rows.len(), d], "datatype": "FP64", "data": x},
            {"name": "action", "shape": [rows.len()], "datatype": "INT64", "data": rows.iter().map(|o| o.0).collect::<Vec<_>>()},
            {"name": "reward", "shape": [rows.len()], "datatype": "FP64", "data": rows.iter().map(|o| o.1).collect::<Vec<_>>()},
            {"name": "probability", "shape": [rows.len()], "datatype": "FP64", "data": rows.iter().map(|o| o.2).collect::<Vec<_>>()}]})
    };
    let r = server.post("/v2/models/lin/reward", &reward_request(&outcomes, &x));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["learned"], n);
    assert_eq!(r.json()["id"], "r1");
    for (i, &(a, reward, prob)) in outcomes.iter().enumerate() {
        local
            .update(&x[i * d..(i + 1) * d], a, reward, prob)
            .unwrap();
    }
    let (after_actions, after_pmf) =
        decisions_of(&server.post("/v2/models/lin/choose", &choose_request(&x, d, &event_ids)));
    let (want_actions, want_pmf) = rust_choose(&local, &x, &event_ids, &[]);
    assert_eq!(after_actions, want_actions);
    assert!(same_bits(&after_pmf, &want_pmf));
    assert!(
        !same_bits(&after_pmf, &pmf),
        "the update changed no decision"
    );

    // Errors: 400 with a JSON message, and nothing learned from a bad batch.
    let e = server
        .post("/v2/models/lin/choose", &choose_request(&x[..2], 2, &[1]))
        .error(400);
    assert!(e.contains("[n, 3]"), "{e}");
    let bad_rows = |rows: &[(usize, f64, f64)]| {
        let mut all = outcomes[..2].to_vec();
        all.extend_from_slice(rows);
        server.post(
            "/v2/models/lin/reward",
            &reward_request(&all, &x[..all.len() * d]),
        )
    };
    let e = bad_rows(&[(9, 1.0, 0.5)]).error(400);
    assert!(e.contains("action") && e.contains("row 2"), "{e}");
    for p in [0.0, 1.5, -0.1] {
        let e = bad_rows(&[(1, 1.0, p)]).error(400);
        assert!(e.contains("probability"), "{e}");
    }
    let e = server
        .post(
            "/v2/models/lin/choose",
            &json!({"inputs": [{"name": "context", "shape": [1, 3], "datatype": "FP64", "data": [0, 0, 0]}]}),
        )
        .error(400);
    assert!(e.contains("event_id"), "{e}");
    let e = server
        .post(
            "/v2/models/lin/choose",
            &json!({"inputs": [
            {"name": "context", "shape": [1, 3], "datatype": "FP64", "data": [0, 0, 0]},
            {"name": "event_id", "shape": [1], "datatype": "INT64", "data": [-3]}]}),
        )
        .error(400);
    assert!(e.contains("event_id"), "{e}");
    let e = server
        .post("/v2/models/lin/choose", &json!({"inputs": [
            {"name": "context", "shape": [1, 3], "datatype": "FP64", "data": [0, 0, 0]},
            {"name": "event_id", "shape": [1], "datatype": "UINT64", "data": [1]},
            {"name": "excluded", "shape": [1, 4], "datatype": "BOOL", "data": [true, true, true, true]}]}))
        .error(400);
    assert!(e.contains("excluded"), "{e}");
    server
        .post("/v2/models/lin/choose", &json!({"inputs": [
            {"name": "context", "shape": [1, 3], "datatype": "FP64", "data": [0, 0, 0]},
            {"name": "event_id", "shape": [1], "datatype": "UINT64", "data": [1]},
            {"name": "excluded", "shape": [4], "datatype": "BOOL", "data": [true, false, false, false]}]}))
        .error(400);
    let e = server
        .post("/v2/models/nope/choose", &choose_request(&x, d, &event_ids))
        .error(404);
    assert!(e.contains("nope"), "{e}");
    let e = server
        .post("/v2/models/iris/choose", &choose_request(&x, d, &event_ids))
        .error(400);
    assert!(e.contains("not a bandit"), "{e}");
    server
        .post("/v2/models/iris/reward", &reward_request(&outcomes, &x))
        .error(400);
    let e = server
        .post("/v2/models/lin/infer", &json!({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": [0, 0, 0]}]}))
        .error(400);
    assert!(e.contains("bandit"), "{e}");
    server.get("/v2/models/lin/choose").error(405);
    // After the refused batches the state is still that of the good one.
    let (a2, p2) =
        decisions_of(&server.post("/v2/models/lin/choose", &choose_request(&x, d, &event_ids)));
    assert_eq!(a2, want_actions);
    assert!(same_bits(&p2, &want_pmf));

    // Preprocessing steps: no decision before they are fitted; the first reward batch fits
    // them (as Bandit::partial_fit does), then decisions go through them.
    let e = server
        .post(
            "/v2/models/scaled/choose",
            &choose_request(&x[..d], d, &[1]),
        )
        .error(400);
    assert!(e.contains("not fitted"), "{e}");
    let logs: Vec<(usize, f64, f64)> = (0..n).map(|i| (i % k, (i % 3) as f64, 0.25)).collect();
    let r = server.post("/v2/models/scaled/reward", &reward_request(&logs, &x));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let scaled = Bandit::from_json(scaled_config, k, d).unwrap();
    scaled
        .partial_fit(
            &amlis::models::bandit::LoggedFeedback::new(
                d,
                x.clone(),
                logs.iter().map(|o| o.0).collect(),
                logs.iter().map(|o| o.1).collect(),
                logs.iter().map(|o| o.2).collect(),
            )
            .unwrap(),
        )
        .unwrap();
    let (sa, sp) = decisions_of(&server.post(
        "/v2/models/scaled/choose",
        &choose_request(&x, d, &event_ids),
    ));
    let (wa, wp) = rust_choose(&scaled, &x, &event_ids, &[]);
    assert_eq!(sa, wa);
    assert!(same_bits(&sp, &wp));

    // A greedy policy learned from logs decides like the Rust handle; reward is 400.
    let greedy = Bandit::load(models.join("greedy.amlis")).unwrap();
    let gd = greedy.spec().n_features;
    let gx: Vec<f64> = (0..5).flat_map(|t| bandit_context(t, gd)).collect();
    let gids = [1, 2, 3, 4, 5];
    let (ga, gp) =
        decisions_of(&server.post("/v2/models/greedy/choose", &choose_request(&gx, gd, &gids)));
    let (wa, wp) = rust_choose(&greedy, &gx, &gids, &[]);
    assert_eq!(ga, wa);
    assert!(same_bits(&gp, &wp));
    let e = server
        .post(
            "/v2/models/greedy/reward",
            &json!({"inputs": [
            {"name": "context", "shape": [1, gd], "datatype": "FP64", "data": gx[..gd]},
            {"name": "action", "shape": [1], "datatype": "INT64", "data": [0]},
            {"name": "reward", "shape": [1], "datatype": "FP64", "data": [1.0]},
            {"name": "probability", "shape": [1], "datatype": "FP64", "data": [1.0]}]}),
        )
        .error(400);
    assert!(e.contains("greedy policy"), "{e}");

    // save: the learned state goes to the file; the server does not reload its own save.
    let r = server.request("POST", "/v2/models/lin/save", &[], b"");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["version"], "1");
    let saved = Bandit::load(models.join("lin.amlis")).unwrap();
    let (sa, sp) = rust_choose(&saved, &x, &event_ids, &[]);
    assert_eq!(sa, want_actions);
    assert!(same_bits(&sp, &want_pmf));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        server.get("/v2/models/lin").json()["versions"],
        json!(["1"])
    );
    server
        .request("POST", "/v2/models/greedy/save", &[], b"")
        .error(400);
    server
        .request("POST", "/v2/models/iris/save", &[], b"")
        .error(400);

    // Hot reload: a new file replaces the in-memory learned state.
    fresh
        .save(models.join("lin.amlis"), Encoding::Binary)
        .unwrap();
    wait_for("the bandit reload", &server, || {
        server.get("/v2/models/lin").json()["versions"] == json!(["2"])
    });
    let (ra, rp) =
        decisions_of(&server.post("/v2/models/lin/choose", &choose_request(&x, d, &event_ids)));
    let (wa, wp) = rust_choose(&fresh, &x, &event_ids, &[]);
    assert_eq!(ra, wa);
    assert!(same_bits(&rp, &wp));

    // Many clients at once: every choose and reward answers, and every outcome is learned.
    std::thread::scope(|scope| {
        for c in 0..8u64 {
            let server = &server;
            scope.spawn(move || {
                for t in 0..10u64 {
                    let e = c * 1000 + t;
                    let ctx = bandit_context(e, d);
                    let (a, p) = decisions_of(
                        &server.post("/v2/models/lin/choose", &choose_request(&ctx, d, &[e])),
                    );
                    let r = server.post("/v2/models/lin/reward", &json!({"inputs": [
                        {"name": "context", "shape": [1, d], "datatype": "FP64", "data": ctx},
                        {"name": "action", "shape": [1], "datatype": "INT64", "data": a},
                        {"name": "reward", "shape": [1], "datatype": "FP64", "data": [1.0]},
                        {"name": "probability", "shape": [1], "datatype": "FP64", "data": [p[a[0] as usize]]}]}));
                    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                }
            });
        }
    });

    // Metrics count the requests by route and the rows decided and learned.
    let text = String::from_utf8(server.get("/metrics").body).unwrap();
    for line in [
        "amlis_requests_total{model=\"lin\",route=\"choose\",status=\"200\"}",
        "amlis_requests_total{model=\"lin\",route=\"reward\",status=\"200\"} 81",
        "amlis_requests_total{model=\"lin\",route=\"reward\",status=\"400\"} 4",
        "amlis_requests_total{model=\"lin\",route=\"save\",status=\"200\"} 1",
        "amlis_bandit_rows_total{model=\"lin\",route=\"reward\"} 92",
        "amlis_bandit_rows_total{model=\"greedy\",route=\"choose\"} 5",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn model_names_in_paths_are_percent_decoded() {
    let dir = scratch("names");
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(dir.join("models").join("my model.amlis"), Encoding::Binary)
        .unwrap();
    iris.save(dir.join("models").join("café.amlis"), Encoding::Binary)
        .unwrap();
    let server = Server::start(&dir, &[]);
    let body = iris_request();
    let want = expected(&iris, PredictKind::Value, &[5.1, 3.5, 1.4, 0.2]);
    for (path, name) in [
        ("/v2/models/my%20model/infer", "my model"),
        ("/v2/models/my%20model/versions/1/infer", "my model"),
        ("/v2/models/caf%C3%A9/infer", "café"),
        ("/v2/models/caf%c3%a9/infer", "café"),
    ] {
        let r = server.request("POST", path, &[], &body);
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let r = r.json();
        assert_eq!(r["model_name"], name);
        assert!(same_bits(&floats(&output(&r, "predict")["data"]), &want));
    }
    assert_eq!(
        server.get("/v2/models/my%20model").json()["name"],
        "my model"
    );
    let r = server.request(
        "POST",
        "/v1/models/my%20model:predict",
        &[],
        br#"{"instances": [[5.1, 3.5, 1.4, 0.2]]}"#,
    );
    assert!(same_bits(&floats(&r.json()["predictions"]), &want));
    // Undecoded, the name is unknown; invalid escapes are 400 with a JSON error.
    server.get("/v2/models/my%2520model").error(404);
    for bad in [
        "/v2/models/my%2model/infer",
        "/v2/models/my%zzmodel/infer",
        "/v2/models/my%C3/infer",
        "/v2/models/my%",
    ] {
        let e = server.request("POST", bad, &[], &body).error(400);
        assert!(e.contains("percent-escape"), "{bad}: {e}");
    }
    // A decoded `/` cannot reach outside the model directory.
    server
        .request(
            "POST",
            "/v2/repository/models/..%2Fmodels%2Fmy%20model/load",
            &[],
            b"",
        )
        .error(404);
    let r = server.request("POST", "/v2/repository/models/my%20model/load", &[], b"");
    assert_eq!(r.json()["version"], "2");
    let text = String::from_utf8(server.get("/metrics").body).unwrap();
    assert!(
        text.contains("amlis_requests_total{model=\"my model\",route=\"infer\",status=\"200\"} 2"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A test CA and a leaf certificate for 127.0.0.1 signed by it (webpki refuses a self-signed
/// CA certificate as a server's own): `(ca, cert, key)`, or `None` without openssl.
fn test_certificates(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ok = openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=amlis test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    ) && openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "leaf.csr",
            ],
        ]
        .concat(),
    ) && std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .is_ok()
        && openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ]);
    ok.then(|| {
        (
            dir.join("ca.pem"),
            dir.join("cert.pem"),
            dir.join("key.pem"),
        )
    })
}

/// One request through a hyper client connection: status, HTTP version and body.
async fn hyper_request<S>(sender: S, uri: String, body: Vec<u8>) -> (u16, hyper::Version, Vec<u8>)
where
    S: HyperSender,
{
    use http_body_util::BodyExt;
    let request = hyper::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = sender.send(request).await;
    let status = response.status().as_u16();
    let version = response.version();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, version, body.to_vec())
}

type HyperBody = http_body_util::Full<bytes::Bytes>;

/// hyper's HTTP/1.1 and HTTP/2 client senders, behind one call.
trait HyperSender {
    fn send(
        self,
        request: hyper::Request<HyperBody>,
    ) -> impl std::future::Future<Output = hyper::Response<hyper::body::Incoming>>;
}

impl HyperSender for hyper::client::conn::http2::SendRequest<HyperBody> {
    async fn send(
        mut self,
        request: hyper::Request<HyperBody>,
    ) -> hyper::Response<hyper::body::Incoming> {
        self.ready().await.unwrap();
        self.send_request(request).await.unwrap()
    }
}

impl HyperSender for &mut hyper::client::conn::http1::SendRequest<HyperBody> {
    async fn send(
        self,
        request: hyper::Request<HyperBody>,
    ) -> hyper::Response<hyper::body::Incoming> {
        self.ready().await.unwrap();
        self.send_request(request).await.unwrap()
    }
}

/// A TLS connection to `addr` that trusts `ca` and offers `alpn`.
#[allow(deprecated)] // rustls' ring provider, as the server uses (see src/service/serve/tls.rs)
async fn tls_connect(
    addr: &str,
    ca: &Path,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{crypto, ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let mut config =
        ClientConfig::builder_with_provider(std::sync::Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    connector
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap()
}

#[test]
fn http2_with_prior_knowledge_and_over_tls_by_alpn() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let dir = scratch("h2");
    let iris = fit(IRIS, &amlis::datasets::iris_table().unwrap(), "species");
    iris.save(dir.join("models").join("iris.amlis"), Encoding::Binary)
        .unwrap();
    let plain = Server::start(&dir, &[]);
    let x = raw_rows(&iris, &amlis::datasets::iris_table().unwrap());
    let rows = |i: usize| x[i * 4..(i + 1) * 4].to_vec();
    let request = |i: usize| {
        json!({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64", "data": rows(i)}], "outputs": [{"name": "predict_proba"}]})
            .to_string()
            .into_bytes()
    };
    let check = |i: usize,
                 (status, version, body): (u16, hyper::Version, Vec<u8>),
                 http: hyper::Version| {
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(version, http);
        let r: Value = serde_json::from_slice(&body).unwrap();
        assert!(same_bits(
            &floats(&output(&r, "predict_proba")["data"]),
            &expected(&iris, PredictKind::Proba, &rows(i))
        ));
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // h2c: 32 requests multiplexed on one connection, each bit for bit; errors as JSON.
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(&plain.addr).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let uri = |path: &str| format!("http://{}{path}", plain.addr);
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                tokio::spawn(hyper_request(
                    sender.clone(),
                    uri("/v2/models/iris/infer"),
                    request(i),
                ))
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            check(i, t.await.unwrap(), hyper::Version::HTTP_2);
        }
        let (status, version, body) =
            hyper_request(sender.clone(), uri("/v2/models/nope/infer"), request(0)).await;
        assert_eq!((status, version), (404, hyper::Version::HTTP_2));
        let e: Value = serde_json::from_slice(&body).unwrap();
        assert!(e["error"].as_str().unwrap().contains("nope"));
    });
    // HTTP/1.1 on the same port still works (every other test speaks it too).
    assert_eq!(plain.get("/v2/health/ready").status, 200);

    // TLS: h2 when ALPN offers it, HTTP/1.1 when the client offers only that.
    let Some((ca, cert, key)) = test_certificates(&dir) else {
        eprintln!(
            "the TLS part of http2_with_prior_knowledge_and_over_tls_by_alpn skipped: no openssl"
        );
        return;
    };
    let tls = Server::start(
        &dir,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let uri = |path: &str| format!("https://{}{path}", tls.addr);
    rt.block_on(async {
        let stream = tls_connect(&tls.addr, &ca, &[b"h2", b"http/1.1"]).await;
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                tokio::spawn(hyper_request(
                    sender.clone(),
                    uri("/v2/models/iris/infer"),
                    request(i),
                ))
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            check(i, t.await.unwrap(), hyper::Version::HTTP_2);
        }

        let stream = tls_connect(&tls.addr, &ca, &[b"http/1.1"]).await;
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        for i in 0..3 {
            let reply = hyper_request(&mut sender, uri("/v2/models/iris/infer"), request(i)).await;
            check(i, reply, hyper::Version::HTTP_11);
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
