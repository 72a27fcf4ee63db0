//! placeholder
/// x
pub struct LocalOutlierFactor;
/// x
pub struct LocalOutlierFactorModel;
/// x
pub struct Contamination;
