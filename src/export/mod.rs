//! Files on disk (moved from export.rs; split into files next).

mod bulk;

pub use bulk::*;
