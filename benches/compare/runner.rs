//! The amlis side of `benches/compare/run.py`: runs one benchmark task through the library and
//! answers the harness over stdin/stdout, one JSON object per line.
//!
//! ```text
//! cargo build --release --example compare_runner
//! target/release/examples/compare_runner task.json      # then send "run" lines, then "quit"
//! ```
//!
//! Protocol (the Python workers of `worker.py` speak the same one):
//! 1. The runner loads the task's data (untimed) and prints `{"status": "ready"}`, or
//!    `{"status": "unavailable", "reason": ...}` when the task's model type is not registered
//!    in this build, or `{"status": "error", "reason": ...}`.
//! 2. For every `run` line on stdin it runs the task once and prints
//!    `{"status": "ok", "rows": {"main": {"fit": s, "predict": s, "quality": {...}}, ...}}`.
//! 3. On `quit` (or end of input) it prints `{"status": "done", "vmhwm_mb": peak RSS}`.
//!
//! The task JSON (written by `run.py`):
//!
//! ```json
//! {"kind": "model" | "scaler" | "csv",
//!  "threads": 2, "seed": 0,
//!  "data": {"dir": "...", "n_train": 1, "n_test": 1, "n_batch": 0, "n_features": 1},
//!  "csv_path": "...", "config": {"model": {...}}, "metrics": ["accuracy"],
//!  "latency_rows": 10000}
//! ```
//!
//! Times come from `std::time::Instant` around the library call only; data loading, metric
//! computation and JSON output are outside the timed region.
//!
//! Model rows also carry `fit_heap_mb`: the peak of heap bytes allocated during `fit` above
//! what was allocated when it started (the training data is already in memory), counted by a
//! global allocator wrapper. That is the fit's own working memory: for gradient boosting, the
//! binned copy of the data, gradients, histograms and the trees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use amlis::config::TrainConfig;
use amlis::data::{read_csv, Column, CsvOptions, DenseDataset, Table};
use amlis::model::{AnyModel, ModelConfig};
use amlis::preprocess::{NumericScaler, StandardScaler};
use amlis::traits::{FitContext, FittedTransformer, Prediction, Predictor, Transformer};
use ndarray::{s, Array1, Array2, ArrayView2};
use serde_json::{json, Map, Value};

type Res<T> = Result<T, String>;

/// The system allocator, counting live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as for `System`; the counters are plain atomics and
// never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; `ptr` was allocated by `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result and the peak heap it allocated above the live bytes at its
/// start, in MB.
fn heap_peak<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (r, peak as f64 / (1024.0 * 1024.0))
}

fn field<'a>(v: &'a Value, key: &str) -> Res<&'a Value> {
    v.get(key)
        .ok_or_else(|| format!("task JSON: missing key `{key}`"))
}

fn usize_field(v: &Value, key: &str) -> Res<usize> {
    field(v, key)?
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("task JSON: `{key}` must be a non-negative integer"))
}

fn str_field<'a>(v: &'a Value, key: &str) -> Res<&'a str> {
    field(v, key)?
        .as_str()
        .ok_or_else(|| format!("task JSON: `{key}` must be a string"))
}

/// Reads a raw little-endian f64 file of exactly `len` values.
fn read_f64(path: &Path, len: usize) -> Res<Vec<f64>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() != len * 8 {
        return Err(format!(
            "{}: expected {len} f64 values ({} bytes), found {} bytes",
            path.display(),
            len * 8,
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

fn read_matrix(dir: &Path, name: &str, rows: usize, cols: usize) -> Res<Array2<f64>> {
    let v = read_f64(&dir.join(format!("{name}.f64")), rows * cols)?;
    Array2::from_shape_vec((rows, cols), v).map_err(|e| e.to_string())
}

fn read_vector(dir: &Path, name: &str, rows: usize) -> Res<Array1<f64>> {
    Ok(Array1::from(read_f64(
        &dir.join(format!("{name}.f64")),
        rows,
    )?))
}

/// Peak resident set size of this process in MB (`VmHWM` of `/proc/self/status`).
fn vmhwm_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The loaded state of one task.
enum Task {
    Model(Box<ModelTask>),
    Scaler { table: Table, x: Array2<f64> },
    Csv { path: PathBuf },
}

struct ModelTask {
    config: TrainConfig,
    train: DenseDataset,
    x_test: Array2<f64>,
    y_test: Array1<f64>,
    x_batch: Option<Array2<f64>>,
    metrics: Vec<String>,
    latency_rows: usize,
}

enum Loaded {
    Ready(Task),
    Unavailable(String),
}

fn load(task: &Value) -> Res<Loaded> {
    let kind = str_field(task, "kind")?;
    match kind {
        "csv" => Ok(Loaded::Ready(Task::Csv {
            path: PathBuf::from(str_field(task, "csv_path")?),
        })),
        "scaler" => {
            let data = field(task, "data")?;
            let dir = PathBuf::from(str_field(data, "dir")?);
            let (n, p) = (
                usize_field(data, "n_train")?,
                usize_field(data, "n_features")?,
            );
            let x = read_matrix(&dir, "x_train", n, p)?;
            let columns = (0..p)
                .map(|j| (format!("x{j}"), Column::numeric(x.column(j).to_vec())))
                .collect();
            let table = Table::new(columns).map_err(|e| e.to_string())?;
            Ok(Loaded::Ready(Task::Scaler { table, x }))
        }
        "model" => {
            let config_value = field(task, "config")?;
            let model_type = config_value
                .get("model")
                .and_then(|m| m.get("type"))
                .and_then(Value::as_str)
                .ok_or("task JSON: `config.model.type` must be a string")?;
            if !ModelConfig::type_names().contains(&model_type) {
                return Ok(Loaded::Unavailable(format!(
                    "model type `{model_type}` is not registered in this build"
                )));
            }
            let config =
                TrainConfig::from_value(config_value.clone()).map_err(|e| e.to_string())?;
            if !config.preprocess.is_empty() {
                return Err(
                    "the runner fits bare models: `config.preprocess` must be empty".into(),
                );
            }
            let data = field(task, "data")?;
            let dir = PathBuf::from(str_field(data, "dir")?);
            let p = usize_field(data, "n_features")?;
            let (n_train, n_test) = (usize_field(data, "n_train")?, usize_field(data, "n_test")?);
            let n_batch = data.get("n_batch").and_then(Value::as_u64).unwrap_or(0) as usize;
            let x = read_matrix(&dir, "x_train", n_train, p)?;
            let y = read_vector(&dir, "y_train", n_train)?;
            let train = if str_field(data, "task")? == "classification" {
                DenseDataset::classification(x, y)
            } else {
                DenseDataset::regression(x, y)
            }
            .map_err(|e| e.to_string())?;
            let x_batch = if n_batch > 0 && task.get("batch").and_then(Value::as_bool) == Some(true)
            {
                Some(read_matrix(&dir, "x_batch", n_batch, p)?)
            } else {
                None
            };
            let metrics = field(task, "metrics")?
                .as_array()
                .ok_or("task JSON: `metrics` must be a list")?
                .iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect();
            Ok(Loaded::Ready(Task::Model(Box::new(ModelTask {
                config,
                train,
                x_test: read_matrix(&dir, "x_test", n_test, p)?,
                y_test: read_vector(&dir, "y_test", n_test)?,
                x_batch,
                metrics,
                latency_rows: task
                    .get("latency_rows")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize,
            }))))
        }
        other => Err(format!("task JSON: unknown kind `{other}`")),
    }
}

fn time<R>(f: impl FnOnce() -> R) -> (f64, R) {
    let start = Instant::now();
    let r = f();
    (start.elapsed().as_secs_f64(), r)
}

fn quality(t: &ModelTask, model: &AnyModel, pred: &[f64]) -> Res<Map<String, Value>> {
    let mut out = Map::new();
    let y = t.y_test.view();
    for name in &t.metrics {
        let metric = amlis::metrics::get(name).map_err(|e| e.to_string())?;
        let score = match metric.input() {
            amlis::traits::MetricInput::Values => metric
                .score(y, Prediction::Values(ndarray::ArrayView1::from(pred)), None)
                .map_err(|e| e.to_string())?,
            amlis::traits::MetricInput::Scores => {
                let k = model.n_classes();
                let mut proba = vec![0.0; t.x_test.nrows() * k];
                model
                    .predict_proba_into(t.x_test.view(), &mut proba)
                    .map_err(|e| e.to_string())?;
                let proba = ArrayView2::from_shape((t.x_test.nrows(), k), &proba)
                    .map_err(|e| e.to_string())?;
                metric
                    .score(y, Prediction::Scores(proba), None)
                    .map_err(|e| e.to_string())?
            }
        };
        out.insert(name.clone(), json!(score));
    }
    Ok(out)
}

fn run_model(t: &ModelTask, threads: usize, seed: u64) -> Res<Value> {
    let ctx = FitContext::new()
        .random_state(t.config.random_state.unwrap_or(seed))
        .n_threads(t.config.n_threads.unwrap_or(threads));
    let ((fit_s, model), fit_heap_mb) = heap_peak(|| time(|| t.config.model.fit(&t.train, &ctx)));
    let model = model.map_err(|e| e.to_string())?;
    let mut pred = vec![0.0; t.x_test.nrows()];
    let (predict_s, r) = time(|| model.predict_into(t.x_test.view(), &mut pred));
    r.map_err(|e| e.to_string())?;
    let mut rows = Map::new();
    rows.insert(
        "main".into(),
        json!({
            "fit": fit_s,
            "predict": predict_s,
            "quality": quality(t, &model, &pred)?,
            "fit_heap_mb": fit_heap_mb,
        }),
    );
    if let Some(xb) = &t.x_batch {
        let mut out = vec![0.0; xb.nrows()];
        let (s, r) = time(|| model.predict_into(xb.view(), &mut out));
        r.map_err(|e| e.to_string())?;
        rows.insert("batch".into(), json!({"predict": s}));
    }
    let n = t.latency_rows.min(t.x_test.nrows());
    if n > 0 {
        let mut one = [0.0f64; 1];
        let (s, r) = time(|| -> amlis::Result<()> {
            for i in 0..n {
                model.predict_into(t.x_test.slice(s![i..i + 1, ..]), &mut one)?;
            }
            Ok(())
        });
        r.map_err(|e| e.to_string())?;
        rows.insert("latency".into(), json!({"predict_us": s / n as f64 * 1e6}));
    }
    Ok(Value::Object(rows))
}

fn run_once(task: &Task, threads: usize, seed: u64) -> Res<Value> {
    match task {
        Task::Model(t) => run_model(t, threads, seed),
        Task::Scaler { table, x } => {
            let (fit_s, r) = time(|| StandardScaler::default().fit_transform(table));
            let (fitted, out) = r.map_err(|e| e.to_string())?;
            let (transform_s, r) = time(|| fitted.transform(table));
            r.map_err(|e| e.to_string())?;
            // The array fast path (what a pipeline's predict uses), on a copy.
            let mut xc = x.clone();
            let (array_s, r) = time(|| fitted.transform_array(xc.view_mut()));
            r.map_err(|e| e.to_string())?;
            let first = out
                .columns()
                .first()
                .and_then(Column::as_numeric)
                .ok_or("scaler output has no numeric column")?;
            let n = first.len() as f64;
            let mean = first.iter().sum::<f64>() / n;
            let std = (first.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            Ok(json!({
                "main": {"fit": fit_s, "predict": transform_s, "quality": {"std_col0": std}},
                "array": {"predict": array_s},
            }))
        }
        Task::Csv { path } => {
            let (s, r) = time(|| read_csv(path, &CsvOptions::default()));
            let table = r.map_err(|e| e.to_string())?;
            Ok(json!({"main": {"fit": s, "quality": {"rows": table.n_rows()}}}))
        }
    }
}

fn say(v: Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{v}");
    let _ = stdout.flush();
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        say(json!({"status": "error", "reason": "usage: compare_runner TASK.json"}));
        std::process::exit(2);
    };
    let task: Value = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            say(json!({"status": "error", "reason": format!("{path}: {e}")}));
            std::process::exit(2);
        }
    };
    let threads = task.get("threads").and_then(Value::as_u64).unwrap_or(2) as usize;
    let seed = task.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let loaded = match load(&task) {
        Ok(Loaded::Ready(t)) => {
            say(json!({"status": "ready"}));
            t
        }
        Ok(Loaded::Unavailable(reason)) => {
            say(json!({"status": "unavailable", "reason": reason}));
            return;
        }
        Err(reason) => {
            say(json!({"status": "error", "reason": reason}));
            std::process::exit(1);
        }
    };
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("run") => match run_once(&loaded, threads, seed) {
                Ok(rows) => say(json!({"status": "ok", "rows": rows})),
                Err(reason) => say(json!({"status": "error", "reason": reason})),
            },
            Ok("quit") | Err(_) => break,
            Ok(_) => say(json!({"status": "error", "reason": "expected `run` or `quit`"})),
        }
    }
    say(json!({"status": "done", "vmhwm_mb": vmhwm_mb()}));
}
