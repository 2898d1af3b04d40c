//! refboard: a desktop dashboard for Messenger referral campaigns.
//!
//! Layers, dependencies pointing down only:
//! - [`model`]: pages, channels, campaigns, links and Messenger's rules (pure code);
//! - [`store`]: the SQLite store;
//! - [`codes`]: QR artwork (PNG, SVG, logos) and decoding every written
//!   code (proof of scan); [`print`]: PDF sheets, labels and flyers, on top
//!   of `codes`; [`export`]: files on disk, on top of both;
//! - [`cli`]: the command line, on top of the layers above.

pub mod cli;
pub mod codes;
pub mod csv_safe;
pub mod demo;
pub mod desktop;
pub mod export;
pub mod import;
pub mod messenger;
pub mod model;
pub mod print;
pub mod relay;
pub mod report;
pub mod secrets;
pub mod simulate;
pub mod stats;
pub mod store;
pub mod sync;
pub mod ui;
pub mod worker;
