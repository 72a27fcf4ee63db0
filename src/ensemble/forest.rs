//! Random forests and extra trees (being written).
