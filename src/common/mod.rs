//! Utilities every pillar uses: linear algebra ([`linalg`], the only door to faer), seeded
//! random streams ([`rng`]), order statistics and moments ([`stats`]), the block-parallel
//! driver, and serde adapters for non-finite floats.

pub(crate) mod json_float;
pub mod linalg;
pub(crate) mod pages;
pub mod parallel;
pub mod pca;
pub mod rng;
pub(crate) mod simd;
pub mod stats;
