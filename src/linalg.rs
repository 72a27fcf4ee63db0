//! The only module that talks to the linear-algebra crate (faer). (being written)
