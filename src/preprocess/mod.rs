//! Preprocessing transformers (stub: being written).

mod scaler;

pub use scaler::StandardScaler;
