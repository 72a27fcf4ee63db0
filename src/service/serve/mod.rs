//! `amlis-serve`: the online deployment, a network prediction service over the model file
//! that speaks KServe's Open Inference Protocol (V2) REST API (the `serve` feature).
//!
//! ```text
//! cargo run --release --features serve --bin amlis-serve -- --model-dir models/ --addr 127.0.0.1:8080
//! curl -s localhost:8080/v2/models/iris/infer -d '{"inputs": [{"name": "input",
//!   "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}'
//! ```
//!
//! - [`protocol`]: V2 requests and responses, tensors, Triton's binary tensor extension;
//! - [`inference`]: tensors to raw rows, the model's outputs, model metadata;
//! - [`repository`]: the model directory, hot reload with an atomic swap;
//! - [`bandit`]: contextual bandits' `choose` and `reward` over V2 tensors;
//! - [`routes`]: the HTTP routes;
//! - [`auth`], [`limits`], [`metrics`], [`tls`], [`shutdown`]: security, robustness,
//!   observability;
//! - [`server`]: the accept loop and the binary's main; [`options`]: its command line.

pub mod auth;
pub mod bandit;
pub mod error;
pub mod inference;
pub mod limits;
pub mod metrics;
pub mod options;
pub mod protocol;
pub mod repository;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod tls;

pub use error::ServeError;
pub use options::Options;
pub use server::{main, serve};
