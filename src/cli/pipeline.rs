//! `relay`, `sync`, `import`, `stats` and `simulate` subcommands.

use super::Db;
use super::output::{Terminal, cell, errln, outln, print_json, table};
use crate::csv_safe::SafeCsvWriter;
use crate::model::{ValidationError, parse_date, redact_url, safe_text};
use crate::relay::{RelayConfig, RelayError, RelayOptions, serve_with};
use crate::simulate::{SimulateConfig, generate, send};
use crate::stats::conversions::conversions_with;
use crate::stats::{
    DEFAULT_TOP, DEFAULT_UNTRACKED_LIMIT, Every, GroupBy, Report, StatsQuery, local_tz, parse_tz,
    query,
};
use crate::sync::SyncConfig;
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct RelayArgs {
    #[command(subcommand)]
    cmd: Option<RelayCmd>,
    /// Address to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// SQLite file for the relay's events (one relay)
    #[arg(long, value_name = "FILE.db")]
    data: Option<PathBuf>,
    /// PostgreSQL URL shared by several relays, instead of --data
    #[arg(
        long,
        value_name = "postgres://USER:PASS@HOST:PORT/DB",
        env = crate::relay::DATABASE_ENV,
        hide_env_values = true
    )]
    database: Option<String>,
    /// Close connections that have not sent their request headers within this many seconds (also the idle keep-alive timeout)
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    header_timeout_secs: u64,
    /// Answer 408 and close when a request body has not arrived in full within this many seconds of its headers
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    body_timeout_secs: u64,
    /// Answer 408 or 503 and close when a request is not answered within this many seconds of its headers
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    request_timeout_secs: u64,
    /// Most connections served at once; when all are taken, the one waiting longest without a complete request is closed
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_connections: u64,
    /// Most connections from one IP address, 0 for no limit (behind a reverse proxy, see docs/deploy.md)
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=65_536))]
    max_connections_per_ip: u64,
    /// Webhook body MiB buffered at once across all connections; past it, 503 with Retry-After
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(2..=4095))]
    body_memory_mib: u64,
    /// Pass every webhook on to this bot URL (unmodified body and signature)
    #[arg(long, value_name = "URL")]
    forward: Option<String>,
    /// Meta app secret, to check X-Hub-Signature-256
    #[arg(long, env = "REFBOARD_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,
    /// Token Meta sends when verifying the webhook
    #[arg(long, env = "REFBOARD_VERIFY_TOKEN", hide_env_values = true)]
    verify_token: Option<String>,
    /// Bearer token the dashboard syncs with
    #[arg(long, env = "REFBOARD_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    #[command(flatten)]
    conversions: super::relay_conversions::ConversionArgs,
    #[command(flatten)]
    https: super::https::HttpsArgs,
}

/// `refboard relay init`.
#[derive(Debug, clap::Subcommand)]
enum RelayCmd {
    /// Write DIR/relay.env (mode 0600) with a generated verify token and API token
    Init {
        /// Directory for relay.env (created if needed)
        dir: PathBuf,
        /// Meta app secret to copy into the file [default: left empty to fill in]
        #[arg(long, env = "REFBOARD_APP_SECRET", hide_env_values = true)]
        app_secret: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct SyncArgs {
    /// Backend base URL (saved for next time)
    #[arg(long, value_name = "URL")]
    backend: Option<String>,
    /// File holding the API token (saved for next time); - reads it from
    /// standard input. [default: REFBOARD_API_TOKEN, else the saved token]
    #[arg(long, value_name = "PATH", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// API token on the command line (discouraged: other local users can
    /// read a command line while it runs; use --token-file or REFBOARD_API_TOKEN)
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Only check that the backend answers and accepts the token
    #[arg(long)]
    check: bool,
    /// Start the backend's source again from the beginning (forgets its cursor; removes no events)
    #[arg(long, conflicts_with = "check")]
    reset: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    /// Files of webhook bodies: one JSON body per line (NDJSON) or per file; - reads standard input.
    /// A file that cannot be read is reported and the others are still
    /// imported; the command then exits 1 and names every such file
    /// (importing again is safe: referrals already stored are not counted twice)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Postback and quick-reply payloads matching PATTERN count as conversion NAME, as with relay --goal (repeatable)
    #[arg(long = "goal", value_name = "NAME=PATTERN")]
    goals: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct StatsArgs {
    /// First day, YYYY-MM-DD, from 2004-01-01 on [default: the first day with referrals]
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD; a range covers at most 36525 days [default: the last day with referrals]
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// IANA time zone [default: the local one]
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Grouping
    #[arg(long, value_enum, ignore_case = true, default_value_t = GroupBy::Link)]
    by: GroupBy,
    /// Bucket size; at most 10000 buckets [default: chosen from the range]
    #[arg(long, value_enum, ignore_case = true)]
    every: Option<Every>,
    /// Groups shown, most referrals first; the rest are summed into one "Other (k ...)" row
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TOP)]
    top: usize,
    /// Untracked refs to skip (paging)
    #[arg(long, value_name = "N", default_value_t = 0)]
    untracked_offset: usize,
    /// Untracked refs to list at most (paging)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_UNTRACKED_LIMIT)]
    untracked_limit: usize,
    /// Only this page (name, username or Page ID) [default: every page]
    #[arg(long)]
    page: Option<String>,
    /// Series as CSV, one row per group and bucket (the Other row last):
    /// the group column named by --by (e.g. Link), Bucket, Referrals, New,
    /// Returning, then From, To and Time zone of the range
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// The whole report as JSON, conversions under "conversions"
    #[arg(long)]
    json: bool,
    /// The conversions table as CSV, one row per group (then Other, no
    /// referral in window, Total), one value column per currency
    #[arg(long, conflicts_with_all = ["json", "csv"])]
    conversions_csv: bool,
    /// Attribution window in days, 1 to 90, for this run [default: the saved one, else 7]
    #[arg(long, value_name = "DAYS")]
    window: Option<String>,
    /// Which referral in the window gets a conversion, last or first, for this run [default: the saved one, else last]
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct SimulateArgs {
    /// Relay base URL, e.g. http://127.0.0.1:8080
    #[arg(long, value_name = "URL")]
    relay: String,
    /// App secret the relay checks signatures with
    #[arg(long, env = "REFBOARD_APP_SECRET", hide_env_values = true)]
    app_secret: String,
    /// Distinct referrals to send
    #[arg(long, default_value_t = 1000)]
    events: usize,
    /// Spread over the last D days
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Refs, comma-separated, most popular first
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "jaspersmarketnewsletter,jaspersmarketFBad,freeshipping,exclusiveinvite"
    )]
    refs: Vec<String>,
    /// Random seed: the same seed sends the same traffic
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Page ID the events are for
    #[arg(long, default_value = "104729178032417")]
    page_id: String,
    /// Parallel senders
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

/// Logs go to standard error; RUST_LOG tunes them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Log lines quote refused values from strangers: they go through the
    // same escaping as every other line, so they carry no colour codes either.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Terminal::new(std::io::stderr()))
        .with_ansi(false)
        .try_init();
}

pub(super) fn relay(args: RelayArgs) -> anyhow::Result<()> {
    if let Some(RelayCmd::Init { dir, app_secret }) = args.cmd {
        return relay_init(&dir, app_secret.as_deref());
    }
    let (config, options) = relay_config(&args)?;
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // The error names the address and the cause (exit 1).
        let listener = crate::relay::bind_listener(&args.listen).await?;
        match serve_with(config, options, listener, shutdown_signal()).await {
            Ok(()) => {}
            // Bad input keeps its field, value and rule (exit 2); the
            // library names the database field, the CLI its flag.
            Err(RelayError::Invalid(v)) => return Err(super::https::with_flag(v).into()),
            // So is a store error the user can fix (a read-only file, a
            // dashboard database given to the relay): exit 2.
            Err(RelayError::Store(s)) => return Err(s.into()),
            Err(e) => return Err(e.into()),
        }
        tracing::info!("relay stopped");
        Ok(())
    })
}

/// The relay's settings from its flags, each missing or conflicting one
/// named with its flag.
fn relay_config(args: &RelayArgs) -> anyhow::Result<(RelayConfig, RelayOptions)> {
    let data = match (&args.data, &args.database) {
        (Some(d), Some(_)) => {
            return Err(ValidationError::new(
                "--data",
                &d.display().to_string(),
                "give either --data FILE.db (SQLite, one relay) or --database URL / REFBOARD_RELAY_DATABASE (PostgreSQL, several relays), not both",
            )
            .into());
        }
        (Some(d), None) => d.clone(),
        (None, Some(_)) => PathBuf::new(),
        (None, None) => {
            return Err(ValidationError::new(
                "--data",
                "",
                "the relay needs --data FILE.db (SQLite) or --database URL (PostgreSQL)",
            )
            .into());
        }
    };
    let missing = |name: &str| {
        ValidationError::new(
            "relay",
            name,
            format!("{name} is required (flag or environment variable)"),
        )
    };
    let config = RelayConfig {
        data,
        app_secret: args
            .app_secret
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--app-secret / REFBOARD_APP_SECRET"))?,
        verify_token: args
            .verify_token
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--verify-token / REFBOARD_VERIFY_TOKEN"))?,
        api_token: args
            .api_token
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--api-token / REFBOARD_API_TOKEN"))?,
        forward: args.forward.clone(),
    };
    let options = RelayOptions {
        database: args.database.clone(),
        header_timeout_secs: args.header_timeout_secs,
        body_timeout_secs: args.body_timeout_secs,
        request_timeout_secs: args.request_timeout_secs,
        max_connections: usize::try_from(args.max_connections).unwrap_or(1024),
        max_connections_per_ip: usize::try_from(args.max_connections_per_ip).unwrap_or(256),
        body_memory_bytes: usize::try_from(args.body_memory_mib << 20).unwrap_or(64 << 20),
        conversions: args.conversions.options()?,
        tls: args.https.options(&config.data)?,
    };
    Ok((config, options))
}

fn relay_init(dir: &std::path::Path, app_secret: Option<&str>) -> anyhow::Result<()> {
    let secret = app_secret.filter(|s| !s.is_empty());
    let path = match crate::relay::init_env_file(dir, secret) {
        Ok(p) => p,
        Err(crate::relay::InitError::Invalid(v)) => return Err(v.into()),
        Err(e) => return Err(e.into()),
    };
    outln!("Wrote {} (mode 0600).", path.display());
    if secret.is_none() {
        outln!(
            "Fill in REFBOARD_APP_SECRET from Meta's App Dashboard (App settings -> Basic) before starting the relay."
        );
    }
    outln!(
        "Start it with the variables of that file, e.g. the systemd unit in deploy/ (see docs/deploy.md)."
    );
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}

/// The API token given for this run: `--token-file` (a file, or `-` for
/// standard input), else `--token`, else `REFBOARD_API_TOKEN`; `None` when
/// none is given (the saved token is used then).
fn given_token(args: &SyncArgs) -> anyhow::Result<Option<String>> {
    if let Some(path) = &args.token_file {
        let shown = path.display().to_string();
        let read = if shown == "-" {
            std::io::read_to_string(std::io::stdin().lock())
        } else {
            std::fs::read_to_string(path)
        };
        let text = read.map_err(|e| {
            ValidationError::new(
                "token-file",
                &shown,
                format!("cannot read the API token from it ({e})"),
            )
        })?;
        warn_if_shared(path);
        // Files end with a newline; `validate_api_token` trims the rest.
        return Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()));
    }
    if let Some(t) = &args.token {
        return Ok(Some(t.clone()));
    }
    Ok(std::env::var(API_TOKEN_ENV).ok().filter(|t| !t.is_empty()))
}

/// Warns when a token file can be read by others than its owner, as ssh
/// does for keys (the token is used all the same).
fn warn_if_shared(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            errln!(
                "warning: the token file {} can be read by other users (mode {:04o}); make it private: chmod 600",
                safe_text(&path.display().to_string()),
                meta.permissions().mode() & 0o777
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The environment variable `sync` reads the API token from.
const API_TOKEN_ENV: &str = "REFBOARD_API_TOKEN";

/// The backend URL and API token to sync with, checked: given for this
/// run, else saved. The bool says whether the token was given (and is to
/// be saved).
fn backend_and_token(
    args: &SyncArgs,
    given: Option<String>,
    store: &crate::store::Store,
) -> anyhow::Result<(String, String, bool)> {
    let url = match args.backend.clone().or(store.backend_url()?) {
        Some(u) => u,
        None => {
            return Err(ValidationError::new(
                "backend",
                "",
                "no backend yet: pass --backend URL (and --token-file PATH) once; it is saved",
            )
            .into());
        }
    };
    let given_now = given.is_some();
    let token = match given.or(store.backend_token()?) {
        Some(t) => t,
        None => {
            return Err(ValidationError::new(
                "token",
                "",
                "no API token yet: pass --token-file PATH (- reads standard input) or set REFBOARD_API_TOKEN",
            )
            .into());
        }
    };
    // The dashboard's Backend form checks with the same two rules.
    let url = crate::model::validate_backend_url(&url)?;
    let token = crate::model::validate_api_token(&token)?;
    Ok((url, token, given_now))
}

pub(super) fn sync_cmd(db: &Db, args: SyncArgs) -> anyhow::Result<()> {
    let given = given_token(&args)?;
    let mut store = db.open()?;
    let (url, token, token_given) = backend_and_token(&args, given, &store)?;
    let config = SyncConfig::new(&url, &token);
    // URLs are shown without a password they may carry.
    let shown_url = redact_url(&url);
    if args.reset {
        if crate::sync::reset_source(&mut store, &config.url)? {
            outln!("The next sync starts {shown_url} from the beginning; no event was removed.");
        } else {
            outln!("{shown_url} has not been synced yet; nothing to reset.");
        }
        return Ok(());
    }
    if args.check {
        crate::sync::test_connection(&config)?;
        outln!("The backend answers and accepts the token: {shown_url}");
        return Ok(());
    }
    let tty = std::io::stderr().is_terminal();
    let keep = crate::ops::sync::Keep {
        url: args.backend.is_some(),
        token: token_given.then_some(token.as_str()),
    };
    let done = crate::ops::sync::sync(&mut store, &config, keep, &mut |p| {
        if tty {
            // Our own carriage return, numbers only: nothing from a stranger.
            let _ = write!(
                std::io::stderr().lock(),
                "\rsynced {} events ({} new), {} page(s)",
                p.events,
                p.new_events,
                p.pages
            );
        }
        true
    });
    if tty {
        errln!();
    }
    let done = super::sync_end::sync_end(done)?;
    if done.skipped > 0 {
        errln!(
            "warning: skipped {} event(s) this refboard cannot use (a new platform or kind, a missing field, or a conversion whose goal, value or currency breaks a rule); upgrade refboard to count new kinds",
            done.skipped
        );
    }
    if done.cursor_resets > 0 {
        errln!(
            "warning: the backend no longer accepts the saved cursor (an older format that could skip events), so this sync pulled again from the beginning; events already stored were not counted twice"
        );
    }
    outln!(
        "Synced {} event(s), {} new, in {} page(s) from {shown_url}",
        done.events,
        done.new_events,
        done.pages
    );
    if done.conversions > 0 {
        outln!(
            "Of these, {} conversion event(s), {} new",
            done.conversions,
            done.new_conversions
        );
    }
    if done.refused > 0 {
        errln!(
            "warning: {} event(s) refused: {}",
            done.refused,
            crate::model::EVENT_WINDOW_RULE
        );
    }
    Ok(())
}

/// Imports every file in turn. A file that cannot be opened or read is
/// reported on its own error line and the next file is imported anyway, as
/// ripgrep does; the summary then names the failed files and the command
/// fails (exit 1). Each file's referrals are committed as they are read, so
/// a file that fails half-way keeps the bodies before the failing line;
/// importing it again counts nothing twice (event ids deduplicate).
pub(super) fn import(db: &Db, args: ImportArgs) -> anyhow::Result<()> {
    use crate::ops::import::{ImportStopped, import_files_with_goals};
    let goals = args
        .goals
        .iter()
        .map(|g| {
            crate::relay::Goal::parse(g).map_err(|e| ValidationError {
                field: "--goal",
                ..e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut store = db.open()?;
    let done = import_files_with_goals(
        &mut store,
        &args.files,
        &goals,
        &mut |_, file, outcome| match outcome {
            Ok(report) => report_lines(&shown_file(file), report),
            Err(e) => errln!("error: {}", file_error_line(file, e)),
        },
        &mut || true,
    );
    let done = match done {
        Ok(done) => done,
        // The database itself failing is no reason to try the next file.
        Err(stopped) => {
            let ImportStopped { path, error, .. } = *stopped;
            return Err(anyhow::Error::new(error).context(import_context(&path)));
        }
    };
    let total = &done.total;
    let imported_files = args.files.len() - done.failed.len();
    outln!(
        "Imported {} referral(s) from {} body(ies) in {imported_files} file(s): {} new, {} already known; {} bad line(s) skipped; {} referral(s) refused",
        total.referrals,
        total.bodies,
        total.new,
        total.referrals - total.new,
        total.bad_line_count,
        total.refused_count
    );
    if total.conversions > 0 {
        outln!(
            "Imported {} conversion event(s): {} new, {} already known",
            total.conversions,
            total.new_conversions,
            total.conversions - total.new_conversions
        );
    }
    if done.failed.is_empty() {
        return Ok(());
    }
    let failed: Vec<String> = done.failed.iter().map(|(f, _)| shown_file(f)).collect();
    Err(anyhow::anyhow!(
        "{} of {} file(s) could not be imported: {}; the other files were imported",
        failed.len(),
        args.files.len(),
        failed.join(", ")
    ))
}

/// A file's name as shown: safe to print whoever named it.
fn shown_file(file: &std::path::Path) -> String {
    safe_text(&file.display().to_string())
}

/// What failed while importing `file`, as the error line's head.
fn import_context(file: &std::path::Path) -> String {
    if file.as_os_str() == crate::ops::import::STDIN {
        "cannot import standard input".to_string()
    } else {
        format!("cannot import {}", shown_file(file))
    }
}

/// One file's failure as one line: what failed, then each cause in turn.
fn file_error_line(file: &std::path::Path, e: &crate::ops::import::FileError) -> String {
    use crate::ops::import::FileError;
    let (head, cause): (String, &(dyn std::error::Error + 'static)) = match e {
        FileError::Open(io) => (format!("cannot read {}", shown_file(file)), io),
        FileError::Import(i) => (import_context(file), i),
    };
    let mut parts = vec![head];
    let mut next = Some(cause);
    while let Some(c) = next {
        let text = c.to_string();
        // As `one_line` does: a cause its parent already quoted is left out.
        if !parts.last().is_some_and(|p| p.ends_with(&text)) {
            parts.push(text);
        }
        next = c.source();
    }
    parts.join(": ")
}

/// The warnings of one file's import: bad lines and refused referrals.
fn report_lines(shown: &str, report: &crate::import::ImportReport) {
    for (line, reason) in &report.bad_lines {
        errln!("warning: {shown}:{line}: skipped: {}", safe_text(reason));
    }
    let unlisted = report.bad_line_count - report.bad_lines.len();
    if unlisted > 0 {
        errln!("warning: {shown}: {unlisted} more bad line(s) skipped");
    }
    for (line, reason) in &report.refused {
        errln!(
            "warning: {shown}:{line}: referral refused: {}",
            safe_text(reason)
        );
    }
    let unlisted = report.refused_count - report.refused.len();
    if unlisted > 0 {
        errln!("warning: {shown}: {unlisted} more referral(s) refused");
    }
}

pub(super) fn stats(db: &Db, args: StatsArgs) -> anyhow::Result<()> {
    let tz = match &args.tz {
        Some(z) => parse_tz(z)?,
        None => local_tz(),
    };
    let mut q = StatsQuery::new(args.by, tz);
    q.from = args
        .from
        .as_deref()
        .map(|d| parse_date("from", d))
        .transpose()?;
    q.to = args
        .to
        .as_deref()
        .map(|d| parse_date("to", d))
        .transpose()?;
    q.every = args.every;
    q.top = args.top;
    q.untracked_offset = args.untracked_offset;
    q.untracked_limit = args.untracked_limit;
    let store = db.open()?;
    if let Some(sel) = &args.page {
        let page = store.resolve_page(Some(sel))?;
        if page.event_filter().is_every() {
            return Err(ValidationError::new(
                "page",
                sel,
                "this page has no Page ID, so its referrals cannot be told apart; set one with `refboard page edit PAGE --page-id ID`",
            )
            .into());
        }
        q.set_page(&page);
    }
    let attribution =
        super::conversions::attribution(&store, args.window.as_deref(), args.model.as_deref())?;
    let report = query(&store, &q)?;
    let conv = conversions_with(&store, &q, &report, &attribution)?;
    if args.json {
        return super::conversions::json(&report, &conv);
    }
    let mut out = std::io::BufWriter::new(Terminal::new(std::io::stdout().lock()));
    if args.csv {
        stats_csv(&mut out, &report)?;
    } else if args.conversions_csv {
        super::conversions::csv(&mut out, &report, &conv)?;
    } else {
        stats_table(&mut out, &report)?;
        super::conversions::text(&mut out, &report, &conv)?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the series as CSV, row by row (cells neutralised, see `csv_safe`).
fn stats_csv(out: &mut dyn Write, report: &Report) -> anyhow::Result<()> {
    let mut w = SafeCsvWriter::new(out);
    w.write_row(crate::stats::series_csv_header(report.by))?;
    let [from, to, tz] = crate::stats::range_cells(report);
    let other = report
        .other
        .as_ref()
        .map(|o| (o.label(report.by), &o.series));
    let rows = report
        .groups
        .iter()
        .map(|g| (g.key.clone(), &g.series))
        .chain(other);
    for (key, series) in rows {
        for p in series {
            w.write_row([
                key.as_str(),
                &p.bucket,
                &p.referrals.to_string(),
                &p.new.to_string(),
                &p.returning.to_string(),
                &from,
                &to,
                &tz,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes the totals, the group table and one page of untracked refs.
fn stats_table(out: &mut dyn Write, report: &Report) -> anyhow::Result<()> {
    let t = &report.totals;
    writeln!(
        out,
        "{} to {} ({}), by {}, per {}",
        report.from.map_or_else(|| "-".into(), |d| d.to_string()),
        report.to.map_or_else(|| "-".into(), |d| d.to_string()),
        report.tz,
        report.by,
        report.every
    )?;
    writeln!(
        out,
        "{} referrals from {} people: {} new, {} returning",
        t.referrals, t.unique_people, t.new, t.returning
    )?;
    if report.groups.is_empty() {
        writeln!(
            out,
            "No referrals in this range. Sync from your backend: refboard sync --backend URL --token-file FILE"
        )?;
    } else {
        let mut tab = table(&[
            report.by.column_name(),
            "Referrals",
            "Unique people",
            "New",
            "Returning",
        ]);
        for g in &report.groups {
            tab.add_row(vec![
                cell(&report.by.key_label(&g.key)),
                g.referrals.to_string(),
                g.unique_people.to_string(),
                g.new.to_string(),
                g.returning.to_string(),
            ]);
        }
        if let Some(o) = &report.other {
            tab.add_row(vec![
                o.label(report.by),
                o.referrals.to_string(),
                o.unique_people.to_string(),
                o.new.to_string(),
                o.returning.to_string(),
            ]);
        }
        writeln!(out, "{tab}")?;
    }
    if !report.untracked_refs.is_empty() {
        let first = report.untracked_offset + 1;
        let last = report.untracked_offset + report.untracked_refs.len();
        writeln!(
            out,
            "\nUntracked refs (seen in referrals, defined as no link), {first} to {last} of {}:",
            report.untracked_total
        )?;
        let mut tab = table(&["ref", "page id", "referrals"]);
        for u in &report.untracked_refs {
            tab.add_row(vec![
                cell(&u.ref_code),
                cell(&u.page_id),
                u.referrals.to_string(),
            ]);
        }
        writeln!(out, "{tab}")?;
    }
    Ok(())
}

pub(super) fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let config = SimulateConfig {
        relay_url: args.relay,
        app_secret: args.app_secret,
        events: args.events,
        days: args.days,
        refs: args.refs.into_iter().filter(|r| !r.is_empty()).collect(),
        seed: args.seed,
        page_id: args.page_id,
        end_ms: chrono::Utc::now().timestamp_millis(),
        concurrency: args.concurrency,
    };
    let (bodies, report) = generate(&config)?;
    send(&config, &bodies)?;
    if args.json {
        return print_json(&report);
    }
    outln!(
        "Sent {} request(s) ({} redelivered, {} non-referral item(s)): {} distinct referral(s) from {} people",
        report.requests,
        report.redelivered,
        report.non_referral_items,
        report.referrals,
        report.people
    );
    let mut tab = table(&["ref", "new", "returning", "total"]);
    for (r, kinds) in &report.per_ref {
        let n = kinds.get("new").copied().unwrap_or(0);
        let ret = kinds.get("returning").copied().unwrap_or(0);
        tab.add_row(vec![
            cell(r),
            n.to_string(),
            ret.to_string(),
            (n + ret).to_string(),
        ]);
    }
    outln!("{tab}");
    Ok(())
}
