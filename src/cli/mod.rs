//! The command line: the same library as the dashboard, behind clap subcommands.
//!
//! Exit codes: 0 success, 2 usage or validation errors (bad input), 1 runtime
//! failures. A failing command writes nothing, to the database or to disk.

mod catalog;
mod links;
mod output;
mod pipeline;

use crate::export::ExportError;
use crate::model::{ValidationError, Warning};
use crate::qr::QrError;
use crate::store::{Store, StoreError, default_db_path};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// refboard: m.me referral links, QR codes and referral charts for Messenger campaigns.
#[derive(Debug, Parser)]
#[command(name = "refboard", version, about, long_about = None)]
pub struct Cli {
    /// SQLite database file [default: the platform data directory, e.g. ~/.local/share/refboard/refboard.db]
    #[arg(long, global = true, env = crate::store::DB_ENV, value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Facebook Pages that links point at.
    #[command(subcommand)]
    Page(catalog::PageCmd),
    /// Promotional channels: website, flyer, sms, email, ads, ….
    #[command(subcommand)]
    Channel(catalog::ChannelCmd),
    /// Campaigns: named groups of links.
    #[command(subcommand)]
    Campaign(catalog::CampaignCmd),
    /// m.me links with ref codes.
    #[command(subcommand)]
    Link(links::LinkCmd),
    /// Write one link's QR code to a PNG or SVG file.
    Qr(links::QrArgs),
    /// Export the QR codes of a campaign or a whole page into a folder.
    Export(links::ExportArgs),
    /// Run the bot-backend side: receive Meta's webhooks and serve them to dashboards.
    Relay(pipeline::RelayArgs),
    /// Pull referral events from the backend into the local database.
    Sync(pipeline::SyncArgs),
    /// Import raw webhook bodies (NDJSON or one body per file).
    Import(pipeline::ImportArgs),
    /// Referral counts: totals, unique people, new vs returning, series.
    Stats(pipeline::StatsArgs),
    /// Send realistic signed webhook traffic to a relay (demos, load tests).
    Simulate(pipeline::SimulateArgs),
    /// Open the dashboard (the default when no command is given).
    Gui,
    /// Open the dashboard on a sample page with a month of simulated referrals.
    Demo {
        /// Simulated referrals
        #[arg(long, default_value_t = 4000)]
        events: usize,
    },
}

/// Runs the CLI with the process's arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(if is_user_error(&e) { 2 } else { 1 })
        }
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db = Db { path: cli.db };
    let Some(command) = cli.command else {
        return gui(&db);
    };
    match command {
        Command::Page(cmd) => catalog::page(&db, cmd),
        Command::Channel(cmd) => catalog::channel(&db, cmd),
        Command::Campaign(cmd) => catalog::campaign(&db, cmd),
        Command::Link(cmd) => links::link(&db, cmd),
        Command::Qr(args) => links::qr(&db, args),
        Command::Export(args) => links::export(&db, args),
        Command::Relay(args) => pipeline::relay(args),
        Command::Sync(args) => pipeline::sync_cmd(&db, args),
        Command::Import(args) => pipeline::import(&db, args),
        Command::Stats(args) => pipeline::stats(&db, args),
        Command::Simulate(args) => pipeline::simulate(args),
        Command::Gui => gui(&db),
        Command::Demo { events } => demo(events),
    }
}

/// Opens the dashboard on the chosen database.
fn gui(db: &Db) -> anyhow::Result<()> {
    let path = db.path()?;
    // Open once here so a bad or too-new database fails with a clear message.
    drop(db.open()?);
    crate::ui::run(path, "refboard").map_err(|e| {
        anyhow::anyhow!("cannot open the dashboard window ({e}); is a display available? The CLI works without one: refboard --help")
    })
}

/// Runs the demo: relay, sample data, dashboard; everything in a temp dir.
fn demo(events: usize) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("refboard-demo-")
        .tempdir()?;
    eprintln!("Preparing the demo in {} …", dir.path().display());
    let demo = crate::demo::prepare(dir.path(), events)?;
    eprintln!(
        "Demo relay on {} (API token {}…)",
        demo.relay.url(),
        &demo.api_token[..6]
    );
    let result = crate::ui::run(dir.path().join("demo.db"), "refboard demo");
    drop(demo);
    result.map_err(|e| {
        anyhow::anyhow!("cannot open the dashboard window ({e}); is a display available?")
    })
}

/// Where the database is; opened only once a command's own input is valid.
struct Db {
    path: Option<PathBuf>,
}

impl Db {
    fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.path {
            Some(p) => Ok(p.clone()),
            None => default_db_path()
                .context("cannot find a data directory for the default database; pass --db PATH"),
        }
    }

    fn open(&self) -> anyhow::Result<Store> {
        let path = self.path()?;
        let store = Store::open(&path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        if let Some(notice) = store.token_moved().and_then(|p| p.notice()) {
            eprintln!("note: {}", output::full(&notice));
        }
        Ok(store)
    }
}

/// Whether an error was caused by the user's input (exit code 2).
fn is_user_error(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<ValidationError>()
            || c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_user_error)
            || c.downcast_ref::<ExportError>()
                .is_some_and(ExportError::is_user_error)
            || c.downcast_ref::<crate::stats::StatsError>()
                .is_some_and(|e| matches!(e, crate::stats::StatsError::Invalid { .. }))
            || c.downcast_ref::<crate::sync::SyncError>()
                .is_some_and(|e| matches!(e, crate::sync::SyncError::Config(_)))
            || c.downcast_ref::<QrError>()
                .is_some_and(|q| matches!(q, QrError::Invalid { .. } | QrError::TooLong { .. }))
    })
}

/// Prints warnings to standard error.
fn warn(warnings: &[Warning]) {
    for w in warnings {
        eprintln!("warning: {}", output::full(&w.to_string()));
    }
}
