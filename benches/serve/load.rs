//! A bounded loopback load generator for V2 inference servers (amlis-serve, MLServer, ...).
//!
//! ```text
//! cargo run --release --example serve_load -- --addr 127.0.0.1:8080 --model iris \
//!     --features 4 --batch 1 --connections 8 --requests 20000 --max-seconds 30
//! ```
//!
//! Each connection is a thread with one keep-alive HTTP/1.1 connection sending the same
//! JSON request (`--batch` rows of `--features` values, the `predict` output) until the
//! request count or the time bound is reached. Only loopback addresses are accepted. One
//! request is sent first, alone, and its answer's `outputs` part is the reference: every 200
//! answer under load whose `outputs` part differs is counted as `wrong` (an error, so a model
//! swapped in under load must answer exactly as before). Prints one JSON line: requests,
//! errors, wrong answers, throughput (requests and rows per second), p50/p99/max latency in
//! microseconds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    addr: SocketAddr,
    model: String,
    features: usize,
    batch: usize,
    connections: usize,
    requests: usize,
    max_seconds: f64,
    output: String,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?,
        model: "iris".into(),
        features: 4,
        batch: 1,
        connections: 8,
        requests: 10_000,
        max_seconds: 30.0,
        output: "predict".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [k, v] = pair else {
            return Err(format!("`{}` has no value", pair[0]));
        };
        let bad = |e: &dyn std::fmt::Display| format!("{k} {v}: {e}");
        match k.as_str() {
            "--addr" => a.addr = v.parse().map_err(|e| bad(&e))?,
            "--model" => a.model = v.clone(),
            "--features" => a.features = v.parse().map_err(|e| bad(&e))?,
            "--batch" => a.batch = v.parse().map_err(|e| bad(&e))?,
            "--connections" => a.connections = v.parse().map_err(|e| bad(&e))?,
            "--requests" => a.requests = v.parse().map_err(|e| bad(&e))?,
            "--max-seconds" => a.max_seconds = v.parse().map_err(|e| bad(&e))?,
            "--output" => a.output = v.clone(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !a.addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", a.addr));
    }
    if a.requests > 10_000_000 || a.max_seconds > 600.0 || a.connections > 256 {
        return Err("at most 10,000,000 requests, 600 s and 256 connections".into());
    }
    Ok(a)
}

/// The request body: `batch` rows of deterministic values.
fn body(a: &Args) -> Vec<u8> {
    let data: Vec<String> = (0..a.batch * a.features)
        .map(|i| format!("{:.3}", 0.5 + ((i * 7919) % 97) as f64 / 20.0))
        .collect();
    format!(
        r#"{{"inputs": [{{"name": "input", "shape": [{}, {}], "datatype": "FP64", "data": [{}]}}], "outputs": [{{"name": "{}"}}]}}"#,
        a.batch,
        a.features,
        data.join(", "),
        a.output
    )
    .into_bytes()
}

/// The `outputs` part of a V2 answer (from the key on), which does not depend on the
/// request id or the model version.
fn outputs_part(body: &[u8]) -> &[u8] {
    let key = b"\"outputs\"";
    body.windows(key.len())
        .position(|w| w == key)
        .map_or(body, |i| &body[i..])
}

/// Sends one request on a keep-alive connection and reads the response: the status code and
/// the body.
fn call(r: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    r.get_mut().write_all(request)?;
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok((status, body))
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("serve_load: {e}");
            std::process::exit(2);
        }
    };
    let body = body(&a);
    let mut request = format!(
        "POST /v2/models/{}/infer HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        a.model,
        a.addr,
        body.len()
    )
    .into_bytes();
    request.extend(&body);
    let reference =
        match TcpStream::connect(a.addr).and_then(|s| call(&mut BufReader::new(s), &request)) {
            Ok((200, body)) => outputs_part(&body).to_vec(),
            Ok((status, body)) => {
                eprintln!(
                    "serve_load: the reference request answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("serve_load: the reference request failed: {e}");
                std::process::exit(1);
            }
        };
    let reference = Arc::new(reference);
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(a.max_seconds);
    let start = Instant::now();
    let workers: Vec<_> = (0..a.connections)
        .map(|_| {
            let (request, reference, next, addr, total) = (
                request.clone(),
                reference.clone(),
                next.clone(),
                a.addr,
                a.requests,
            );
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let (mut errors, mut wrong) = (0usize, 0usize);
                let mut conn: Option<BufReader<TcpStream>> = None;
                while next.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                    let t = Instant::now();
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match TcpStream::connect(addr) {
                            Ok(s) => {
                                let _ = s.set_nodelay(true);
                                conn.insert(BufReader::new(s))
                            }
                            Err(_) => {
                                errors += 1;
                                continue;
                            }
                        },
                    };
                    match call(c, &request) {
                        Ok((200, body)) if outputs_part(&body) == reference.as_slice() => {
                            latencies.push(t.elapsed().as_micros() as u64)
                        }
                        Ok((200, _)) => {
                            errors += 1;
                            wrong += 1;
                        }
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (latencies, errors, wrong)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut wrong) = (0, 0);
    for w in workers {
        if let Ok((l, e, x)) = w.join() {
            latencies.extend(l);
            errors += e;
            wrong += x;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let ok = latencies.len();
    println!(
        "{{\"model\": \"{}\", \"batch\": {}, \"connections\": {}, \"ok\": {ok}, \"errors\": {errors}, \"wrong\": {wrong}, \"seconds\": {secs:.3}, \"requests_per_s\": {:.1}, \"rows_per_s\": {:.1}, \"p50_us\": {}, \"p99_us\": {}, \"max_us\": {}}}",
        a.model,
        a.batch,
        a.connections,
        ok as f64 / secs,
        (ok * a.batch) as f64 / secs,
        q(0.50),
        q(0.99),
        latencies.last().copied().unwrap_or(0)
    );
}
