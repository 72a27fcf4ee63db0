//! The service pillar: what turns a trained model into something deployed.
//!
//! - [`config`]: the JSON training config;
//! - [`pipeline`]: fitted preprocessing steps plus one fitted model, the deployable unit;
//! - [`persist`]: the versioned, checksummed model file;
//! - [`ffi`]: the C ABI (`libamlis`, `include/amlis.h`);
//! - `serve` (with the `serve` feature): `amlis-serve`, the Open Inference Protocol server.

pub mod bandit;
pub mod config;
pub mod ffi;
pub mod persist;
pub mod pipeline;
#[cfg(feature = "serve")]
pub mod serve;
