//! The accept loop: TCP (or TLS) connections served by hyper's HTTP/1.1, each request through
//! [`routes::handle`]; the repository polled in the background; a graceful stop on SIGTERM or
//! SIGINT (stop accepting, let in-flight requests finish within the shutdown timeout).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

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

    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
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
                let builder = builder.clone();
                let state = state.clone();
                let tls = tls.clone();
                let header_timeout = limits.header_timeout;
                tokio::spawn(async move {
                    let service = service_fn(move |req| routes::handle(state.clone(), req));
                    let result = match tls {
                        None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
                        Some(acceptor) => {
                            match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                                Ok(Ok(s)) => watcher.watch(builder.serve_connection(TokioIo::new(s), service)).await,
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
