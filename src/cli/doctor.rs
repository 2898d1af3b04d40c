//! `refboard doctor`: the setup doctor on the command line.
//!
//! One line per check: colour word, title, what it means for referrals,
//! and the calls made in brackets. `--fix` shows each fix's exact call and
//! asks first (`--yes` answers for the user). `--save-token` reads the page
//! access token from standard input, so it never appears in a command line.
//!
//! Exit codes: 0 when no check is red (amber lines are advice), 2 when a red
//! check is the user's to fix (no token, a token for another page, a page id
//! that does not exist, a missing permission), 1 for the world's (Meta or
//! the relay unreachable, rate limits, timeouts). Settings given with the
//! command (token, Graph URL and version, payload) are saved only when the
//! token check is not red, so a failed run leaves them as they were.

use super::Db;
use super::output::{errln, full, outln};
use crate::graph::{GraphConfig, validate_page_token, validate_version};
use crate::model::{ValidationError, validate_backend_url};
use crate::ops::Blame;
use crate::ops::doctor::{self, Check, CheckId, Colour, DoctorInput, Report, validate_payload};
use crate::store::Store;
use std::io::{BufRead, Read};

/// Flags of `refboard doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The page to check (name, username or Page ID) [default: the only page]
    #[arg(long, value_name = "PAGE")]
    page: Option<String>,
    /// Offer the fixes: each shows the exact call and asks before sending
    #[arg(long)]
    fix: bool,
    /// Answer yes to every fix (with --fix)
    #[arg(long, requires = "fix")]
    yes: bool,
    /// Read the page access token from standard input and save it for this
    /// page (OS keyring, else a 0600 file); saved only if Meta accepts it for
    /// this page
    #[arg(long)]
    save_token: bool,
    /// Payload of the Get Started button a fix sets (saved) [default: GET_STARTED]
    #[arg(long, value_name = "TEXT")]
    payload: Option<String>,
    /// Graph API base URL (saved) [default: https://graph.facebook.com]
    #[arg(long, value_name = "URL")]
    graph_url: Option<String>,
    /// Graph API version (saved) [default: v26.0]
    #[arg(long, value_name = "VERSION")]
    graph_version: Option<String>,
}

/// A red report as an error, blamed as the report is.
#[derive(Debug, thiserror::Error)]
#[error("{summary}")]
pub struct RedChecks {
    /// e.g. `2 checks are red: Webhook fields, Get Started button`.
    pub summary: String,
    /// Whose to fix.
    pub blame: Blame,
}

/// Settings given on the command line, checked before anything runs.
struct Given {
    token: Option<String>,
    payload: Option<String>,
    graph_url: Option<String>,
    graph_version: Option<String>,
}

fn given(args: &DoctorArgs) -> anyhow::Result<Given> {
    if args.save_token && args.fix && !args.yes {
        return Err(ValidationError::new(
            "save-token",
            "",
            "standard input carries the token, so it cannot also answer the fixes' questions: add --yes, or save the token first",
        )
        .into());
    }
    let token = if args.save_token {
        let mut text = String::new();
        std::io::stdin().take(64 * 1024).read_to_string(&mut text)?;
        Some(validate_page_token(&text)?)
    } else {
        None
    };
    Ok(Given {
        token,
        payload: args.payload.as_deref().map(validate_payload).transpose()?,
        graph_url: args
            .graph_url
            .as_deref()
            .map(|u| {
                validate_backend_url(u)
                    .map_err(|e| ValidationError::new("graph-url", &e.value, &e.rule))
            })
            .transpose()?,
        graph_version: args
            .graph_version
            .as_deref()
            .map(validate_version)
            .transpose()?,
    })
}

/// Runs `refboard doctor`.
pub fn doctor(db: &Db, args: DoctorArgs) -> anyhow::Result<()> {
    let given = given(&args)?;
    let mut store = db.open()?;
    let page = store.resolve_page(args.page.as_deref())?;
    let key = page.id.to_string();
    let (saved_url, saved_version) = store.graph_settings()?;
    let input = DoctorInput {
        token: given.token.clone().or(store.page_token(&key)?),
        graph: GraphConfig {
            base_url: given.graph_url.clone().unwrap_or(saved_url),
            version: given.graph_version.clone().unwrap_or(saved_version),
            ..GraphConfig::default()
        },
        backend_url: store.backend_url()?,
        get_started_payload: given
            .payload
            .clone()
            .unwrap_or(store.get_started_payload()?),
        page,
    };
    outln!("Setup doctor for page {}", full(&input.page.name));
    let mut report = doctor::run(&input);
    print(&report)?;
    hints(&report);
    if report
        .check(CheckId::Token)
        .is_some_and(|c| c.colour != Colour::Red)
    {
        save(&mut store, &key, &given)?;
    } else if given.token.is_some() {
        errln!("note: the token was not saved, since Meta did not accept it for this page");
    }
    if args.fix {
        let user_refused = fix_all(&mut store, &input, &report, args.yes)?;
        let page = store.page(input.page.id)?;
        let input = DoctorInput { page, ..input };
        outln!("After the fixes:");
        report = doctor::run(&input);
        print(&report)?;
        if user_refused && report.blame().is_none() {
            return Err(RedChecks {
                summary: "a fix was refused; see above".into(),
                blame: Blame::User,
            }
            .into());
        }
    }
    verdict(&report)
}

fn save(store: &mut Store, key: &str, given: &Given) -> anyhow::Result<()> {
    if let Some(t) = &given.token {
        let place = store.set_page_token(key, t)?;
        outln!("Saved the page access token.");
        if let Some(n) = place.notice() {
            errln!("note: {}", n.replace("API token", "page access token"));
        }
    }
    if let Some(u) = &given.graph_url {
        store.set_graph_base_url(u)?;
    }
    if let Some(v) = &given.graph_version {
        store.set_graph_version(v)?;
    }
    if let Some(p) = &given.payload {
        store.set_get_started_payload(p)?;
    }
    Ok(())
}

/// One line per check: `red    Webhook fields: … [GET /v26.0/…]`.
fn print(report: &Report) -> anyhow::Result<()> {
    for c in &report.checks {
        outln!("{}", line(c));
    }
    Ok(())
}

/// The command line's way out for what the library words for every front
/// end ("save one first", "set the backend URL once").
fn hints(report: &Report) {
    let token = report.check(CheckId::Token);
    if token.is_some_and(|c| c.colour == Colour::Red && c.blame == Some(Blame::User)) {
        errln!(
            "hint: save the page's access token from standard input: refboard doctor --page PAGE --save-token"
        );
    }
    if report
        .check(CheckId::Relay)
        .is_some_and(|c| c.calls.is_empty())
    {
        errln!("hint: set the relay once: refboard sync --backend URL --token-file FILE");
    }
}

/// A check's line, made safe for the terminal (page names come from Meta).
pub fn line(c: &Check) -> String {
    let calls = if c.calls.is_empty() {
        String::new()
    } else {
        format!(" [{}]", c.calls.join("; "))
    };
    format!(
        "{:<5}  {}: {}{}",
        c.colour.word(),
        c.id.title(),
        full(&c.meaning),
        full(&calls)
    )
}

/// Offers each fix in turn; returns whether one was refused for a permission.
fn fix_all(
    store: &mut Store,
    input: &DoctorInput,
    report: &Report,
    yes: bool,
) -> anyhow::Result<bool> {
    let mut refused = false;
    let mut offered = 0;
    for check in report.checks.iter().filter(|c| c.colour != Colour::Green) {
        if let Some(p) = &check.missing_permission {
            errln!(
                "fix refused for {}, nothing was sent: the page access token lacks the {p} permission",
                check.id.title()
            );
            refused = true;
            continue;
        }
        let Some(fix) = &check.fix else { continue };
        offered += 1;
        outln!(
            "Fix for {}: {}",
            check.id.title(),
            full(&fix.preview(input))
        );
        if !yes && !ask()? {
            outln!("  skipped");
            continue;
        }
        match doctor::apply(store, input, check, fix) {
            Ok(done) => outln!("  done: {}", full(&done.done)),
            Err(e) => {
                refused |= e.is_user_error();
                errln!("  fix failed: {}", full(&e.to_string()));
            }
        }
    }
    if offered == 0 && !refused {
        outln!("No fix to offer.");
    }
    Ok(refused)
}

/// Asks on standard error, reads one line from standard input; yes only for `y`/`yes`.
fn ask() -> anyhow::Result<bool> {
    errln!("  Send it? [y/N]");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn verdict(report: &Report) -> anyhow::Result<()> {
    let Some(blame) = report.blame() else {
        if report.all_green() {
            outln!("All green: referrals of this page can arrive and be counted.");
        }
        return Ok(());
    };
    let reds: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.colour == Colour::Red)
        .map(|c| c.id.title())
        .collect();
    Err(RedChecks {
        summary: format!("{} check(s) are red: {}", reds.len(), reds.join(", ")),
        blame,
    }
    .into())
}
