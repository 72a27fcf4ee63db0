//! What model families share: class weights and the input checks every model makes.

pub(crate) mod class_weight;
pub mod validate;
