//! The command line of `amlis-serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::limits::Limits;

/// `amlis-serve`: serves every model file of a directory over the Open Inference Protocol
/// (V2) REST API.
#[derive(Debug, Clone, Parser)]
#[command(name = "amlis-serve", version, about)]
pub struct Options {
    /// The directory of model files (`NAME.amlis` or `NAME.json`, served as `NAME`).
    #[arg(long)]
    pub model_dir: PathBuf,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// A file to write the bound address to once listening (for port 0).
    #[arg(long)]
    pub port_file: Option<PathBuf>,
    /// A file holding the bearer token every request (but the health probes) must carry.
    #[arg(long)]
    pub auth_token_file: Option<PathBuf>,
    /// The TLS certificate chain (PEM); with `--tls-key`, the server speaks HTTPS only.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// How long a client may take to send its request headers, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// How long a client may take to send its request body, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub body_timeout_ms: u64,
    /// Requests handled at once (a request holds its slot from its headers to its response).
    #[arg(long, default_value_t = 256)]
    pub max_concurrency: usize,
    /// Requests that may wait for a slot; beyond, 503 with `Retry-After`.
    #[arg(long, default_value_t = 1024)]
    pub queue: usize,
    /// How long a request may wait for a slot, in milliseconds, before a 503.
    #[arg(long, default_value_t = 5_000)]
    pub queue_timeout_ms: u64,
    /// How often the model directory is rescanned for new, changed and removed files, in
    /// milliseconds (0: never).
    #[arg(long, default_value_t = 1_000)]
    pub poll_interval_ms: u64,
    /// How long in-flight requests may take to finish after SIGTERM or SIGINT, in
    /// milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub shutdown_timeout_ms: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Logs as JSON lines instead of text (the level is set by `RUST_LOG`, default `info`).
    #[arg(long)]
    pub log_json: bool,
}

impl Options {
    /// Parses the process's command line (exits with the usage on error).
    pub fn from_args() -> Self {
        Self::parse()
    }

    /// The limits the options give.
    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(self.body_timeout_ms.max(1)),
            max_concurrency: self.max_concurrency.max(1),
            queue: self.queue,
            queue_timeout: Duration::from_millis(self.queue_timeout_ms),
        }
    }
}
