//! Print-ready PDFs (moved from print.rs; split into files next).

mod page;

pub use page::*;
