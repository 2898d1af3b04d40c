//! The command line: the same library as the dashboard, behind clap subcommands.
//!
//! Exit codes: 0 success, 2 usage or validation errors (bad input), 1 runtime
//! failures. A failing command writes nothing, to the database or to disk.

mod catalog;
mod conversions;
mod doctor;
mod hints;
mod https;
mod links;
mod output;
mod pipeline;
mod relay_conversions;
mod report;
mod sync_end;

use crate::model::{InternalError, ValidationError, Warning};
use crate::store::{Store, default_db_path};
use anyhow::Context;
use clap::{Parser, Subcommand};
use output::{errln, outln};
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
    Relay(Box<pipeline::RelayArgs>),
    /// Pull referral events from the backend into the local database.
    Sync(pipeline::SyncArgs),
    /// Import raw webhook bodies (NDJSON or one body per file).
    Import(pipeline::ImportArgs),
    /// Referral counts: totals, unique people, new vs returning, series.
    Stats(pipeline::StatsArgs),
    /// Write a one-page report (PDF or HTML): headline figures with their
    /// change, the chart and the table.
    Report(report::ReportArgs),
    /// Check the page's Messenger settings through Meta's Graph API, and the
    /// relay; --fix puts right what it can, asking first.
    Doctor(doctor::DoctorArgs),
    /// Send realistic signed webhook traffic to a relay (demos, load tests).
    Simulate(pipeline::SimulateArgs),
    /// Open the dashboard (the default when no command is given).
    Gui {
        /// Start in this look (light or dark), remembered from then on
        #[arg(long, value_enum, ignore_case = true)]
        theme: Option<crate::ui::ThemeChoice>,
    },
    /// Add refboard to the desktop's application menu for the current user
    /// (a .desktop entry and the icon under $XDG_DATA_HOME or ~/.local/share).
    InstallDesktop,
    /// Open the dashboard on a sample page with five months of simulated referrals.
    Demo {
        /// Simulated referrals
        #[arg(long, default_value_t = 4000)]
        events: usize,
        /// Start in this look (light or dark)
        #[arg(long, value_enum, ignore_case = true)]
        theme: Option<crate::ui::ThemeChoice>,
    },
}

/// Runs the CLI with the process's arguments and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            print_clap(&e);
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head -1`): nothing left to say, as ripgrep does.
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("error: {}", output::error_text(&one_line(&e)));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Prints clap's usage error, help or version. An argument that clap quotes
/// back may hold anything typed or pasted, so when the text has a character
/// that acts on a terminal it goes out plain, through [`output::Terminal`]
/// (clap's colours would be escaped too); otherwise clap prints it as usual.
fn print_clap(e: &clap::Error) {
    let plain = e.render().to_string();
    if !plain.chars().any(crate::model::acts_on_terminal) {
        let _ = e.print();
    } else if e.use_stderr() {
        errln!("{}", plain.trim_end_matches('\n'));
    } else {
        use std::io::Write as _;
        let _ = writeln!(
            output::Terminal::new(std::io::stdout().lock()),
            "{}",
            plain.trim_end_matches('\n')
        );
    }
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let db = Db { path: cli.db };
    let Some(command) = cli.command else {
        return gui(&db, None);
    };
    match command {
        Command::Page(cmd) => catalog::page(&db, cmd),
        Command::Channel(cmd) => catalog::channel(&db, cmd),
        Command::Campaign(cmd) => catalog::campaign(&db, cmd),
        Command::Link(cmd) => links::link(&db, cmd),
        Command::Qr(args) => links::qr(&db, args),
        Command::Export(args) => links::export(&db, args),
        Command::Relay(args) => pipeline::relay(*args),
        Command::Sync(args) => pipeline::sync_cmd(&db, args),
        Command::Import(args) => pipeline::import(&db, args),
        Command::Stats(args) => pipeline::stats(&db, args),
        Command::Report(args) => report::report(&db, args),
        Command::Simulate(args) => pipeline::simulate(args),
        Command::Doctor(args) => doctor::doctor(&db, args),
        Command::Gui { theme } => gui(&db, theme),
        Command::InstallDesktop => install_desktop(),
        Command::Demo { events, theme } => demo(events, theme),
    }
}

/// Installs the .desktop entry and icon for the current user.
fn install_desktop() -> anyhow::Result<()> {
    let data = crate::desktop::data_home().ok_or_else(|| {
        anyhow::anyhow!(
            "cannot find your data folder: set XDG_DATA_HOME or HOME to an absolute path"
        )
    })?;
    let program = std::env::current_exe().context("cannot find the refboard program's path")?;
    let done = crate::desktop::install(&data, &program)?;
    outln!("Installed {}", done.entry.display());
    outln!("Installed {}", done.icon.display());
    Ok(())
}

/// Opens the dashboard on the chosen database.
fn gui(db: &Db, theme: Option<crate::ui::ThemeChoice>) -> anyhow::Result<()> {
    let path = db.path()?;
    // Open once here so a bad or too-new database fails with a clear message.
    drop(db.open()?);
    crate::ui::run(path, "refboard", theme).map_err(|e| {
        anyhow::anyhow!("cannot open the dashboard window ({e}); is a display available? The CLI works without one: refboard --help")
    })
}

/// Runs the demo: relay, sample data, dashboard; everything in a temp dir.
fn demo(events: usize, theme: Option<crate::ui::ThemeChoice>) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("refboard-demo-")
        .tempdir()?;
    errln!("Preparing the demo in {} …", dir.path().display());
    let demo = crate::demo::prepare(dir.path(), events)?;
    errln!(
        "Demo relay on {} (API token {}…)",
        demo.relay.url(),
        &demo.api_token[..6]
    );
    let result = crate::ui::run(dir.path().join("demo.db"), "refboard demo", theme);
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
        for notice in store.open_notices() {
            errln!("note: {}", output::full(notice));
        }
        Ok(store)
    }
}

/// The exit code of a failed command: 2 when the user's input caused it, 1
/// for runtime failures, and always 1 for an [`InternalError`], which is
/// never blamed on the user.
///
/// The blame itself is [`crate::ops::blame_chain`], shared with the dashboard.
fn exit_code(e: &anyhow::Error) -> u8 {
    // anyhow finds a context value by downcasting the error itself, and a
    // source by walking the chain: look both ways.
    if e.downcast_ref::<InternalError>().is_some() {
        return 1;
    }
    if let Some(red) = e.downcast_ref::<doctor::RedChecks>() {
        return if red.blame == crate::ops::Blame::User {
            2
        } else {
            1
        };
    }
    match crate::ops::blame_chain(e.chain()) {
        crate::ops::Blame::Internal => 1,
        crate::ops::Blame::User => 2,
        crate::ops::Blame::World if e.downcast_ref::<ValidationError>().is_some() => 2,
        crate::ops::Blame::World => 1,
    }
}

/// The error and its causes on one line, then the library's hint in the
/// CLI's words. A module error that shows its ValidationError and also has
/// it as its source is printed once.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|p| p.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    let mut line = parts.join(": ");
    if let Some(hint) = crate::ops::hint_in(e.chain()) {
        line.push_str("; ");
        line.push_str(&hints::words(hint));
    }
    line
}

/// Prints warnings to standard error.
fn warn(warnings: &[Warning]) {
    for w in warnings {
        errln!("warning: {}", output::full(&w.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::QrError;
    use crate::export::ExportError;
    use crate::stats::StatsError;
    use crate::store::StoreError;

    #[test]
    fn validation_errors_exit_2_and_internal_errors_exit_1() {
        let invalid = ValidationError::new("to", "9999-12-31", "a range covers at most 36525 days");
        let wrapped = anyhow::Error::from(StatsError::Invalid(invalid.clone()))
            .context("cannot compute the stats");
        assert_eq!(exit_code(&wrapped), 2);
        assert_eq!(
            one_line(&wrapped),
            format!("cannot compute the stats: {invalid}"),
            "the validation error is printed once"
        );
        let qr = anyhow::Error::from(ExportError::Qr(QrError::Invalid(invalid.clone())));
        assert_eq!(exit_code(&qr), 2);
        let store = anyhow::Error::from(StoreError::Invalid(invalid.clone()));
        assert_eq!(exit_code(&store), 2);
        // Internal failures exit 1, even when an input error is also in the chain.
        let poisoned = anyhow::Error::from(StoreError::Internal(InternalError::new(
            "writer lock poisoned",
        )));
        assert_eq!(exit_code(&poisoned), 1);
        let serialise = anyhow::Error::from(crate::simulate::SimulateError::Internal(
            InternalError::new("cannot serialise a webhook body"),
        ));
        assert_eq!(exit_code(&serialise), 1);
        let both = anyhow::Error::from(invalid).context(InternalError::new("lost track"));
        assert_eq!(exit_code(&both), 1);
        // Runtime failures exit 1.
        let io = anyhow::Error::from(std::io::Error::other("disk full"));
        assert_eq!(exit_code(&io), 1);
    }
}
