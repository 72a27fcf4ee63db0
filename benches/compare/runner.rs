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
//! {"kind": "model" | "unsupervised" | "scaler" | "csv",
//!  "threads": 2, "seed": 0,
//!  "data": {"dir": "...", "n_train": 1, "n_test": 1, "n_batch": 0, "n_features": 1},
//!  "csv_path": "...", "config": {"model": {...}}, "metrics": ["accuracy"],
//!  "latency_rows": 10000, "output": "predict" | "labels" | "transform" | "score"}
//! ```
//!
//! Unsupervised tasks fit on the training rows without a target, then time one output on the
//! same rows (`predict` for "predict" and "labels", `transform`, `score`); their quality
//! measures (`UNSUPERVISED_QUALITY` in `tasks.py`) are computed outside the timed region,
//! from the outputs and from the fields the fitted model serializes (`inertia`, `n_iter`),
//! so that the runner names no model family and a type not registered in this build is
//! "not yet available".
//!
//! Times come from `std::time::Instant` around the library call only; data loading, metric
//! computation and JSON output are outside the timed region.
//!
//! Model rows also carry `fit_heap_mb`: the peak of heap bytes allocated during `fit` above
//! what was allocated when it started (the training data is already in memory), counted by a
//! global allocator wrapper. That is the fit's own working memory: for gradient boosting, the
//! binned copy of the data, gradients, histograms and the trees. It counts reservations that
//! are never touched, too: faer's matrix products (behind `linalg::gemm_abt`, QR, SVD...)
//! reserve a packing buffer of twice the L3 cache size per thread that calls them (a
//! thread-local of `private-gemm-x86`, allocated uninitialised, freed when the thread ends;
//! a fit's thread pool is new for each fit), so a model using them shows `2 × L3` per
//! thread (64 MB per thread on a 32 MB-L3 machine) of which only a few pages are resident.
//! Rows therefore also carry `fit_rss_mb`, the page-level peak measured as `worker.py` does
//! for the Python side.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use amlis::config::TrainConfig;
use amlis::data::{read_csv, Column, CsvOptions, DenseDataset, Table};
use amlis::evaluate::metrics::Silhouette;
use amlis::model::{AnyModel, ModelConfig};
use amlis::models::PredictKind;
use amlis::preprocess::{NumericScaler, StandardScaler};
use amlis::traits::{Dataset, FitContext, FittedTransformer, Prediction, Predictor, Transformer};
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

/// A `/proc/self/status` value in MB (`VmHWM:`, `VmRSS:`).
fn status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Peak resident set size of this process in MB (`VmHWM` of `/proc/self/status`).
fn vmhwm_mb() -> Option<f64> {
    status_mb("VmHWM:")
}

/// Runs `f`, returning its result and the peak resident set during `f` above the resident
/// set at its start, in MB (the kernel's peak is reset through `/proc/self/clear_refs` just
/// before): the page-level measure of `worker.py`'s `fit_rss_mb`, so that both sides of a
/// row are measured the same way. Unlike the heap count, it leaves out memory that is
/// reserved but never touched, such as the packing buffers that faer's matrix products
/// reserve per thread (twice the L3 cache size, see `fit_heap_mb`); `None` where `/proc` is
/// not writable.
fn rss_peak<R>(f: impl FnOnce() -> R) -> (R, Option<f64>) {
    let base = std::fs::write("/proc/self/clear_refs", "5")
        .ok()
        .and_then(|()| status_mb("VmRSS:"));
    let r = f();
    let grew = match (base, status_mb("VmHWM:")) {
        (Some(b), Some(peak)) => Some((peak - b).max(0.0)),
        _ => None,
    };
    (r, grew)
}

/// The loaded state of one task.
enum Task {
    Model(Box<ModelTask>),
    Unsupervised(Box<UnsupervisedTask>),
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

struct UnsupervisedTask {
    config: TrainConfig,
    /// The training rows, without a target.
    train: DenseDataset,
    /// What was planted (blob, moon, outlier flag): for quality only.
    planted: Array1<f64>,
    output: String,
    metrics: Vec<String>,
}

/// Silhouette subsample (rows), as `SILHOUETTE_SAMPLE` in `tasks.py`.
const SILHOUETTE_SAMPLE: usize = 10_000;

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
        "model" | "unsupervised" => {
            let config = match bare_config(task)? {
                Ok(c) => c,
                Err(unavailable) => return Ok(Loaded::Unavailable(unavailable)),
            };
            let data = field(task, "data")?;
            if kind == "unsupervised" {
                let dir = PathBuf::from(str_field(data, "dir")?);
                let (n, p) = (
                    usize_field(data, "n_train")?,
                    usize_field(data, "n_features")?,
                );
                let x = read_matrix(&dir, "x_train", n, p)?;
                return Ok(Loaded::Ready(Task::Unsupervised(Box::new(
                    UnsupervisedTask {
                        config,
                        train: DenseDataset::unsupervised(x).map_err(|e| e.to_string())?,
                        planted: read_vector(&dir, "y_train", n)?,
                        output: str_field(task, "output")?.to_string(),
                        metrics: string_list(task, "metrics")?,
                    },
                ))));
            }
            let dir = PathBuf::from(str_field(data, "dir")?);
            let p = usize_field(data, "n_features")?;
            let (n_train, n_test) = (usize_field(data, "n_train")?, usize_field(data, "n_test")?);
            let n_batch = data.get("n_batch").and_then(Value::as_u64).unwrap_or(0) as usize;
            let x = read_matrix(&dir, "x_train", n_train, p)?;
            let y = read_vector(&dir, "y_train", n_train)?;
            let train = if matches!(str_field(data, "task")?, "classification" | "counts") {
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
            let metrics = string_list(task, "metrics")?;
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

/// The task's training config, or why its model type is not available in this build.
fn bare_config(task: &Value) -> Res<Result<TrainConfig, String>> {
    let config_value = field(task, "config")?;
    let model_type = config_value
        .get("model")
        .and_then(|m| m.get("type"))
        .and_then(Value::as_str)
        .ok_or("task JSON: `config.model.type` must be a string")?;
    if !ModelConfig::type_names().contains(&model_type) {
        return Ok(Err(format!(
            "model type `{model_type}` is not registered in this build"
        )));
    }
    let config = TrainConfig::from_value(config_value.clone()).map_err(|e| e.to_string())?;
    if !config.preprocess.is_empty() {
        return Err("the runner fits bare models: `config.preprocess` must be empty".into());
    }
    Ok(Ok(config))
}

fn string_list(task: &Value, key: &str) -> Res<Vec<String>> {
    Ok(field(task, key)?
        .as_array()
        .ok_or_else(|| format!("task JSON: `{key}` must be a list"))?
        .iter()
        .filter_map(|m| m.as_str().map(String::from))
        .collect())
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
    let (((fit_s, model), fit_heap_mb), fit_rss_mb) =
        rss_peak(|| heap_peak(|| time(|| t.config.model.fit(&t.train, &ctx))));
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
            "fit_rss_mb": fit_rss_mb,
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

/// The first number stored under `key` anywhere in the model's serialized form (`inertia`,
/// `n_iter`): read without naming the model's type.
fn model_number(model: &AnyModel, key: &str) -> Option<f64> {
    fn find(v: &Value, key: &str) -> Option<f64> {
        match v {
            Value::Object(m) => m
                .get(key)
                .and_then(Value::as_f64)
                .or_else(|| m.values().find_map(|v| find(v, key))),
            _ => None,
        }
    }
    find(&serde_json::to_value(model).ok()?, key)
}

/// The `kind` output of `model` on `x`, as a row-major matrix.
fn output(model: &AnyModel, kind: PredictKind, x: ArrayView2<'_, f64>) -> Res<Array2<f64>> {
    let width = model.output_width(kind).map_err(|e| e.to_string())?;
    let mut out = vec![0.0; x.nrows() * width];
    model
        .predict_kind_into(kind, x, &mut out)
        .map_err(|e| e.to_string())?;
    Array2::from_shape_vec((x.nrows(), width), out).map_err(|e| e.to_string())
}

/// Population variances of the columns, summed.
fn total_variance(x: ArrayView2<'_, f64>) -> f64 {
    x.columns()
        .into_iter()
        .map(|c| {
            let n = c.len() as f64;
            let mean = c.sum() / n;
            c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
        })
        .sum()
}

fn run_unsupervised(t: &UnsupervisedTask, threads: usize, seed: u64) -> Res<Value> {
    let ctx = FitContext::new()
        .random_state(t.config.random_state.unwrap_or(seed))
        .n_threads(t.config.n_threads.unwrap_or(threads));
    let (((fit_s, model), fit_heap_mb), fit_rss_mb) =
        rss_peak(|| heap_peak(|| time(|| t.config.model.fit(&t.train, &ctx))));
    let model = model.map_err(|e| e.to_string())?;
    let x = t.train.features();
    let x = x.view();
    let kind = match t.output.as_str() {
        "predict" | "labels" => PredictKind::Value,
        "transform" => PredictKind::Transform,
        "score" => PredictKind::Score,
        other => return Err(format!("task JSON: unknown output `{other}`")),
    };
    let (predict_s, out) = time(|| output(&model, kind, x));
    let out = out?;
    let labels = || -> Res<Array1<f64>> {
        match kind {
            PredictKind::Value => Ok(out.column(0).to_owned()),
            _ => Ok(output(&model, PredictKind::Value, x)?.column(0).to_owned()),
        }
    };
    let mut q = Map::new();
    for name in &t.metrics {
        let n_iter =
            || model_number(&model, "n_iter").ok_or("the fitted model has no `n_iter`".to_string());
        let v = match name.as_str() {
            "inertia" => {
                json!(model_number(&model, "inertia").ok_or("the fitted model has no `inertia`")?)
            }
            "n_iter" => json!(n_iter()?),
            "ms_per_iter" => json!(fit_s * 1000.0 / n_iter()?.max(1.0)),
            "silhouette" => json!(Silhouette::default()
                .sample_size(SILHOUETTE_SAMPLE.min(x.nrows()))
                .random_state(0)
                .score(x, labels()?.view())
                .map_err(|e| e.to_string())?),
            "ari" => json!(
                amlis::metrics::adjusted_rand_score(t.planted.view(), labels()?.view())
                    .map_err(|e| e.to_string())?
            ),
            "n_clusters" => {
                let mut l: Vec<i64> = labels()?.iter().map(|v| *v as i64).collect();
                l.sort_unstable();
                l.dedup();
                json!(l.iter().filter(|v| **v != -1).count())
            }
            "noise_frac" => {
                let l = labels()?;
                json!(l.iter().filter(|v| **v == -1.0).count() as f64 / l.len() as f64)
            }
            "explained_variance" => json!(total_variance(out.view()) / total_variance(x)),
            "mean_log_likelihood" => {
                let s = output(&model, PredictKind::Score, x)?;
                json!(s.sum() / s.len() as f64)
            }
            "roc_auc" => {
                let neg = out.column(0).mapv(|v| -v);
                json!(
                    amlis::metrics::roc_auc_score(t.planted.view(), neg.view(), None, None)
                        .map_err(|e| e.to_string())?
                )
            }
            other => return Err(format!("unknown quality measure `{other}`")),
        };
        q.insert(name.clone(), v);
    }
    Ok(json!({"main": {
        "fit": fit_s,
        "predict": predict_s,
        "quality": q,
        "fit_heap_mb": fit_heap_mb,
        "fit_rss_mb": fit_rss_mb,
    }}))
}

fn run_once(task: &Task, threads: usize, seed: u64) -> Res<Value> {
    match task {
        Task::Model(t) => run_model(t, threads, seed),
        Task::Unsupervised(t) => run_unsupervised(t, threads, seed),
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
