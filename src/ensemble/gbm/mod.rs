//! Histogram gradient boosting (being written).
