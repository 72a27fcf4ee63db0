//! The accept loop: TCP (or TLS) connections served by hyper's HTTP/1.1 or HTTP/2, each
//! request through [`routes::handle`]; the repository polled in the background; a graceful
//! stop on SIGTERM or SIGINT (stop accepting, let in-flight requests finish within the
//! shutdown timeout).
//!
//! Which HTTP: over TLS, the protocol ALPN agreed on (`h2`, else HTTP/1.1); over plain TCP,
//! HTTP/2 with prior knowledge (h2c) when the client's first bytes are the HTTP/2 connection
//! preface, else HTTP/1.1. A client that sends too little to tell within the header timeout
//! is disconnected.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use super::auth::BearerToken;
use super::limits::Gate;
use super::metrics::Metrics;
use super::options::Options;
use super::repository::Repository;
use super::routes::{self, State};
use super::{shutdown, tls};

/// Loads the models, listens, and serves until `stop` resolves (then drains).
pub async fn serve(options: Options, stop: impl Future<Output = ()>) -> Result<(), String> {
    let limits = options.limits();
    let metrics = Arc::new(Metrics::default());
    let repository = Arc::new(Repository::new(&options.model_dir, metrics.clone()));
    if !options.model_dir.is_dir() {
        return Err(format!(
            "the model directory `{}` does not exist",
            options.model_dir.display()
        ));
    }
    {
        let repo = repository.clone();
        tokio::task::spawn_blocking(move || repo.poll())
            .await
            .map_err(|e| format!("the first scan failed: {e}"))?;
    }
    let auth = match &options.auth_token_file {
        Some(path) => Some(BearerToken::from_file(path)?),
        None => None,
    };
    let tls = match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let state = Arc::new(State {
        repository: repository.clone(),
        metrics,
        auth,
        gate: Gate::new(&limits),
        limits: limits.clone(),
        ready: AtomicBool::new(true),
    });

    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(addr = %local, %scheme, models = repository.index().len(), "listening");
    if let Some(path) = &options.port_file {
        crate::service::persist::write_atomic(path, local.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
    }

    let poller = (options.poll_interval_ms > 0).then(|| {
        let repo = repository.clone();
        let every = Duration::from_millis(options.poll_interval_ms);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let repo = repo.clone();
                let _ = tokio::task::spawn_blocking(move || repo.poll()).await;
            }
        })
    });

    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        // Streams beyond the concurrency bound wait in the gate's queue or get a 503, as
        // HTTP/1.1 connections do; a dead peer is found by pings.
        .max_concurrent_streams(
            u32::try_from(limits.max_concurrency.saturating_add(limits.queue)).unwrap_or(u32::MAX),
        )
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
    let builders = Arc::new(Builders { h1, h2 });
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let watcher = graceful.watcher();
                let builders = builders.clone();
                let state = state.clone();
                let tls = tls.clone();
                let header_timeout = limits.header_timeout;
                tokio::spawn(async move {
                    let result = match tls {
                        None => match speaks_h2c(&stream, header_timeout).await {
                            Some(h2) => builders.serve(stream, h2, state, watcher).await,
                            None => return,
                        },
                        Some(acceptor) => {
                            match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                                Ok(Ok(s)) => {
                                    let h2 = s.get_ref().1.alpn_protocol() == Some(b"h2");
                                    builders.serve(s, h2, state, watcher).await
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => return,
                            }
                        }
                    };
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = &mut stop => break,
        }
    }
    state.ready.store(false, Ordering::Release);
    drop(listener);
    if let Some(p) = poller {
        p.abort();
    }
    let timeout = Duration::from_millis(options.shutdown_timeout_ms);
    match tokio::time::timeout(timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed; bye"),
        Err(_) => tracing::warn!(
            timeout_ms = options.shutdown_timeout_ms,
            "requests still in flight at the shutdown timeout: closing"
        ),
    }
    Ok(())
}

/// The connection settings of each HTTP version.
struct Builders {
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
}

impl Builders {
    /// Serves one connection in HTTP/2 (`h2`) or HTTP/1.1 until it closes, or until a
    /// graceful shutdown has let its in-flight requests finish.
    async fn serve<I>(
        &self,
        io: I,
        h2: bool,
        state: Arc<State>,
        watcher: Watcher,
    ) -> Result<(), hyper::Error>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |req: Request<Incoming>| routes::handle(state.clone(), req));
        let io = TokioIo::new(io);
        if h2 {
            watcher.watch(self.h2.serve_connection(io, service)).await
        } else {
            watcher.watch(self.h1.serve_connection(io, service)).await
        }
    }
}

/// The connection preface every HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a plain-TCP client speaks HTTP/2 with prior knowledge: its first bytes are the
/// HTTP/2 preface (peeked, left in the stream). `None` when it sends too little to tell
/// within `timeout`, or the connection fails.
async fn speaks_h2c(stream: &TcpStream, timeout: Duration) -> Option<bool> {
    let sniff = async {
        let mut buf = [0u8; H2_PREFACE.len()];
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            let seen = buf.get(..n)?;
            if n == 0 || !H2_PREFACE.starts_with(seen) {
                // An HTTP/1.1 request (or an empty connection, which HTTP/1.1 closes).
                return Some(false);
            }
            if n == H2_PREFACE.len() {
                return Some(true);
            }
            // Part of the preface: peek returns at once while those bytes wait, so wait a
            // little for the rest.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(timeout, sniff).await.ok().flatten()
}

/// The binary's main: logging, the runtime, then [`serve`] until SIGTERM or SIGINT.
pub fn main(options: Options) -> std::process::ExitCode {
    init_logging(options.log_json);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(n) = options.threads {
        runtime.worker_threads(n.max(1));
    }
    let runtime = match runtime.build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options, shutdown::signal())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "amlis-serve failed");
            eprintln!("amlis-serve: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
