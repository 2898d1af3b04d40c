//! `relay`, `sync`, `import`, `stats` and `simulate` subcommands.

use super::Db;
use super::output::{cell, print_json, table};
use crate::csv_safe::SafeCsvWriter;
use crate::model::{ValidationError, parse_date, safe_text};
use crate::relay::{RelayConfig, serve};
use crate::simulate::{SimulateConfig, generate, send};
use crate::stats::{Every, GroupBy, StatsQuery, local_tz, parse_tz, query};
use crate::sync::{SyncConfig, sync};
use anyhow::Context;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Settings keys for the saved backend.
const BACKEND_URL: &str = "backend_url";

#[derive(Debug, clap::Args)]
pub(super) struct RelayArgs {
    /// Address to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// SQLite file for the relay's events
    #[arg(long, value_name = "FILE.db")]
    data: PathBuf,
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
}

#[derive(Debug, clap::Args)]
pub(super) struct SyncArgs {
    /// Backend base URL (saved for next time)
    #[arg(long, value_name = "URL")]
    backend: Option<String>,
    /// API token (saved for next time)
    #[arg(long, env = "REFBOARD_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Only check that the backend answers and accepts the token
    #[arg(long)]
    check: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
    /// Files of webhook bodies: one JSON body per line (NDJSON) or per file; - reads standard input
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(super) struct StatsArgs {
    /// First day, YYYY-MM-DD [default: the first day with referrals]
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD [default: the last day with referrals]
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// IANA time zone [default: the local one]
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Group by link, ref, channel, campaign, source, kind or page
    #[arg(long, default_value = "link")]
    by: String,
    /// Bucket: hour, day, week or month [default: chosen from the range]
    #[arg(long)]
    every: Option<String>,
    /// Only this page (name, username or Page ID) [default: every page]
    #[arg(long)]
    page: Option<String>,
    /// Series as CSV: key,bucket,referrals,new,returning
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// The whole report as JSON
    #[arg(long)]
    json: bool,
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

pub(super) fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let missing = |name: &str| {
        ValidationError::new(
            "relay",
            name,
            format!("{name} is required (flag or environment variable)"),
        )
    };
    let config = RelayConfig {
        data: args.data,
        app_secret: args
            .app_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--app-secret / REFBOARD_APP_SECRET"))?,
        verify_token: args
            .verify_token
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--verify-token / REFBOARD_VERIFY_TOKEN"))?,
        api_token: args
            .api_token
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("--api-token / REFBOARD_API_TOKEN"))?,
        forward: args.forward,
    };
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        serve(config, listener, shutdown_signal()).await?;
        tracing::info!("relay stopped");
        Ok(())
    })
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

pub(super) fn sync_cmd(db: &Db, args: SyncArgs) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let url = match args.backend.clone().or(store.setting(BACKEND_URL)?) {
        Some(u) => u,
        None => {
            return Err(ValidationError::new(
                "backend",
                "",
                "no backend yet: pass --backend URL (and --token) once; it is saved",
            )
            .into());
        }
    };
    let token = match args.token.clone().or(store.backend_token()?) {
        Some(t) => t,
        None => {
            return Err(ValidationError::new(
                "token",
                "",
                "no API token yet: pass --token TOKEN or set REFBOARD_API_TOKEN",
            )
            .into());
        }
    };
    if reqwest::Url::parse(&url).is_err() {
        return Err(ValidationError::new("backend", &url, "use an http:// or https:// URL").into());
    }
    let config = SyncConfig::new(&url, &token);
    if args.check {
        crate::sync::test_connection(&config)?;
        println!("The backend answers and accepts the token: {url}");
        return Ok(());
    }
    let tty = std::io::stderr().is_terminal();
    let done = sync(&mut store, &config, &mut |p| {
        if tty {
            eprint!(
                "\rsynced {} events ({} new), {} page(s)",
                p.events, p.new_events, p.pages
            );
        }
        true
    });
    if tty {
        eprintln!();
    }
    let done = done?;
    if args.backend.is_some() {
        store.set_setting(BACKEND_URL, &url)?;
    }
    if args.token.is_some() {
        let place = store.set_backend_token(&token)?;
        if let Some(notice) = place.notice() {
            eprintln!("note: {}", cell(&notice));
        }
    }
    println!(
        "Synced {} event(s), {} new, in {} page(s) from {url}",
        done.events, done.new_events, done.pages
    );
    Ok(())
}

pub(super) fn import(db: &Db, args: ImportArgs) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let mut total = crate::import::ImportReport::default();
    for file in &args.files {
        let name = file.display().to_string();
        let report = if name == "-" {
            crate::import::import_reader(&mut store, std::io::stdin().lock(), &mut || true)
                .context("cannot import standard input")?
        } else {
            let input = std::fs::File::open(file).with_context(|| format!("cannot read {name}"))?;
            crate::import::import_reader(&mut store, input, &mut || true)
                .with_context(|| format!("cannot import {name}"))?
        };
        let shown = safe_text(&name);
        for (line, reason) in &report.bad_lines {
            eprintln!("warning: {shown}:{line}: skipped: {}", safe_text(reason));
        }
        let unlisted = report.bad_line_count - report.bad_lines.len();
        if unlisted > 0 {
            eprintln!("warning: {shown}: {unlisted} more bad line(s) skipped");
        }
        total.add(report);
    }
    println!(
        "Imported {} referral(s) from {} body(ies): {} new, {} already known; {} bad line(s) skipped",
        total.referrals,
        total.bodies,
        total.new,
        total.referrals - total.new,
        total.bad_line_count
    );
    Ok(())
}

pub(super) fn stats(db: &Db, args: StatsArgs) -> anyhow::Result<()> {
    let tz = match &args.tz {
        Some(z) => parse_tz(z)?,
        None => local_tz(),
    };
    let q = StatsQuery {
        from: args
            .from
            .as_deref()
            .map(|d| parse_date("from", d))
            .transpose()?,
        to: args
            .to
            .as_deref()
            .map(|d| parse_date("to", d))
            .transpose()?,
        tz,
        by: args.by.parse::<GroupBy>()?,
        every: args.every.as_deref().map(str::parse::<Every>).transpose()?,
        unique_people: true,
        page_id: None,
    };
    let store = db.open()?;
    let mut q = q;
    if let Some(sel) = &args.page {
        let page = store.resolve_page(Some(sel))?;
        q.page_id = Some(page.numeric_id().map(str::to_string).ok_or_else(|| {
            ValidationError::new(
                "page",
                sel,
                "this page has no Page ID, so its referrals cannot be told apart; set one with `refboard page edit PAGE --page-id ID`",
            )
        })?);
    }
    let report = query(&store, &q)?;
    if args.json {
        return print_json(&report);
    }
    if args.csv {
        let mut w = SafeCsvWriter::new(std::io::stdout().lock());
        w.write_row(["key", "bucket", "referrals", "new", "returning"])?;
        for g in &report.groups {
            for p in &g.series {
                w.write_row([
                    &g.key,
                    &p.bucket,
                    &p.referrals.to_string(),
                    &p.new.to_string(),
                    &p.returning.to_string(),
                ])?;
            }
        }
        w.flush()?;
        return Ok(());
    }
    let t = &report.totals;
    println!(
        "{} to {} ({}), by {}, per {}",
        report.from.as_deref().unwrap_or("-"),
        report.to.as_deref().unwrap_or("-"),
        report.tz,
        args.by,
        report.every
    );
    println!(
        "{} referrals from {} people: {} new, {} returning",
        t.referrals, t.unique_people, t.new, t.returning
    );
    if report.groups.is_empty() {
        println!(
            "No referrals in this range. Sync from your backend: refboard sync --backend URL --token TOKEN"
        );
    } else {
        let mut tab = table(&[args.by.as_str(), "referrals", "people", "new", "returning"]);
        for g in &report.groups {
            tab.add_row(vec![
                cell(&g.key),
                g.referrals.to_string(),
                g.unique_people.to_string(),
                g.new.to_string(),
                g.returning.to_string(),
            ]);
        }
        println!("{tab}");
    }
    if !report.untracked_refs.is_empty() {
        println!("\nUntracked refs (seen in referrals, defined as no link):");
        let mut tab = table(&["ref", "page id", "referrals"]);
        for u in &report.untracked_refs {
            tab.add_row(vec![
                cell(&u.ref_code),
                cell(&u.page_id),
                u.referrals.to_string(),
            ]);
        }
        println!("{tab}");
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
    let (bodies, report) =
        generate(&config).map_err(|e| ValidationError::new("simulate", "", e.to_string()))?;
    send(&config, &bodies)?;
    if args.json {
        return print_json(&report);
    }
    println!(
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
    println!("{tab}");
    Ok(())
}
