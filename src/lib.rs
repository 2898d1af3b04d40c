//! refboard: a desktop dashboard for Messenger referral campaigns.
//!
//! Layers, dependencies pointing down only:
//! - [`model`]: pages, channels, campaigns, links and Messenger's rules (pure code);
//! - [`store`]: the SQLite store;
//! - [`codes`]: QR artwork (PNG, SVG, logos) and decoding every written
//!   code (proof of scan); [`print`]: PDF sheets, labels and flyers, on top
//!   of `codes`; [`export`]: files on disk, on top of both;
//! - [`stats`]: totals, series and unique people from the store;
//! - [`relay`], [`sync`], [`import`]: receiving and pulling events;
//!   [`graph`]: Meta's Graph API client (the setup doctor's calls);
//! - [`report`], [`worker`]: use cases on top of the layers above;
//! - [`ui`] and [`cli`]: the front ends.
//!
//! docs/architecture.md has the table (what each layer never imports) and
//! the worker's lanes; tests/architecture.rs fails on any import cycle.

pub mod cli;
pub mod codes;
pub mod csv_safe;
pub mod db;
pub mod demo;
pub mod desktop;
pub mod export;
pub mod graph;
pub mod import;
pub mod messenger;
pub mod model;
pub mod ops;
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
