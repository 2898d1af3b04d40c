//! Referral statistics (moved from stats.rs; split into files next).

mod engine;

pub use engine::*;
