//! Prometheus metrics in the text exposition format (`GET /metrics`).
//!
//! - `amlis_requests_total{model, route, status}`: requests answered;
//! - `amlis_outputs_total{model, output}`: outputs computed by inference requests;
//! - `amlis_bandit_rows_total{model, route = choose | reward}`: decisions made and outcomes
//!   learned by bandits (the requests themselves are counted in `amlis_requests_total` under
//!   the routes `choose`, `reward` and `save`);
//! - `amlis_request_duration_seconds`: a histogram of request latency, by route;
//! - `amlis_requests_in_flight`: requests being handled;
//! - `amlis_model_loads_total{kind = load | reload, result = ok | error}`;
//! - `amlis_models_ready`: models that can serve.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Tables {
    requests: BTreeMap<(String, &'static str, u16), u64>,
    outputs: BTreeMap<(String, &'static str), u64>,
    bandit_rows: BTreeMap<(String, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    loads: BTreeMap<(&'static str, &'static str), u64>,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
    in_flight: AtomicUsize,
    models_ready: AtomicUsize,
}

/// Counts a request in flight while it lives.
#[derive(Debug)]
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request as in flight until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Records a finished request.
    pub fn request(&self, model: &str, route: &'static str, status: u16, elapsed: Duration) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        *t.requests
            .entry((model.to_string(), route, status))
            .or_default() += 1;
        let h = t.latency.entry(route).or_default();
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            h.counts[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records the outputs an inference request computed.
    pub fn outputs<'a>(&self, model: &str, names: impl Iterator<Item = &'static str> + 'a) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            *t.outputs.entry((model.to_string(), name)).or_default() += 1;
        }
    }

    /// Records the rows a bandit request decided (`choose`) or learned (`reward`).
    pub fn bandit_rows(&self, model: &str, route: &'static str, rows: usize) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        *t.bandit_rows.entry((model.to_string(), route)).or_default() += rows as u64;
    }

    /// Records a model load (`reload` when a model was already serving) and its result.
    pub fn model_loaded(&self, reload: bool, ok: bool) {
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let kind = if reload { "reload" } else { "load" };
        let result = if ok { "ok" } else { "error" };
        *t.loads.entry((kind, result)).or_default() += 1;
    }

    /// Sets the number of models that can serve.
    pub fn set_models_ready(&self, n: usize) {
        self.models_ready.store(n, Ordering::Relaxed);
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::new();
        let _ = writeln!(s, "# HELP amlis_requests_total Requests answered.");
        let _ = writeln!(s, "# TYPE amlis_requests_total counter");
        for ((model, route, status), n) in &t.requests {
            let _ = writeln!(
                s,
                "amlis_requests_total{{model=\"{}\",route=\"{route}\",status=\"{status}\"}} {n}",
                escape(model)
            );
        }
        let _ = writeln!(
            s,
            "# HELP amlis_outputs_total Outputs computed by inference requests."
        );
        let _ = writeln!(s, "# TYPE amlis_outputs_total counter");
        for ((model, output), n) in &t.outputs {
            let _ = writeln!(
                s,
                "amlis_outputs_total{{model=\"{}\",output=\"{output}\"}} {n}",
                escape(model)
            );
        }
        let _ = writeln!(
            s,
            "# HELP amlis_bandit_rows_total Decisions made and outcomes learned by bandits."
        );
        let _ = writeln!(s, "# TYPE amlis_bandit_rows_total counter");
        for ((model, route), n) in &t.bandit_rows {
            let _ = writeln!(
                s,
                "amlis_bandit_rows_total{{model=\"{}\",route=\"{route}\"}} {n}",
                escape(model)
            );
        }
        let _ = writeln!(s, "# HELP amlis_request_duration_seconds Request latency.");
        let _ = writeln!(s, "# TYPE amlis_request_duration_seconds histogram");
        for (route, h) in &t.latency {
            let mut cumulative = 0;
            for (b, c) in BUCKETS.iter().zip(h.counts) {
                cumulative += c;
                let _ = writeln!(
                    s,
                    "amlis_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                s,
                "amlis_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                s,
                "amlis_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                s,
                "amlis_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(s, "# HELP amlis_requests_in_flight Requests being handled.");
        let _ = writeln!(s, "# TYPE amlis_requests_in_flight gauge");
        let _ = writeln!(
            s,
            "amlis_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            s,
            "# HELP amlis_model_loads_total Model file loads and reloads."
        );
        let _ = writeln!(s, "# TYPE amlis_model_loads_total counter");
        for ((kind, result), n) in &t.loads {
            let _ = writeln!(
                s,
                "amlis_model_loads_total{{kind=\"{kind}\",result=\"{result}\"}} {n}"
            );
        }
        let _ = writeln!(s, "# HELP amlis_models_ready Models that can serve.");
        let _ = writeln!(s, "# TYPE amlis_models_ready gauge");
        let _ = writeln!(
            s,
            "amlis_models_ready {}",
            self.models_ready.load(Ordering::Relaxed)
        );
        s
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.request("iris", "infer", 200, Duration::from_micros(80));
        m.request("iris", "infer", 400, Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains("amlis_requests_total{model=\"iris\",route=\"infer\",status=\"200\"} 1")
        );
        assert!(
            text.contains("amlis_request_duration_seconds_bucket{route=\"infer\",le=\"0.0001\"} 1")
        );
        assert!(
            text.contains("amlis_request_duration_seconds_bucket{route=\"infer\",le=\"0.005\"} 2")
        );
        assert!(text.contains("amlis_request_duration_seconds_count{route=\"infer\"} 2"));
    }
}
