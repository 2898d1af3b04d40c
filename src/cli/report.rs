//! `report`: the shareable one-page report, as PDF or HTML.

use super::Db;
use super::output::{full, outln};
use crate::model::{ValidationError, parse_date};
use crate::report::{ReportFormat, ReportRequest, write_report};
use crate::stats::{GroupBy, StatsQuery, local_tz, parse_tz};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub(super) struct ReportArgs {
    /// Only the links of this campaign (and their aliases)
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
    /// First day, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    from: String,
    /// Last day, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    to: String,
    /// IANA time zone [default: the local one]
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Grouping of the chart and the table
    #[arg(long, value_enum, ignore_case = true, default_value_t = GroupBy::Link)]
    by: GroupBy,
    /// The page (name, username or Page ID) [default: every page, or the only one]
    #[arg(long)]
    page: Option<String>,
    /// Output file: report.pdf or report.html
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Replace an existing file
    #[arg(long)]
    force: bool,
}

pub(super) fn report(db: &Db, args: ReportArgs) -> anyhow::Result<()> {
    // Everything that needs no database is checked first.
    ReportFormat::from_path(&args.output)?;
    let tz = match &args.tz {
        Some(z) => parse_tz(z)?,
        None => local_tz(),
    };
    let mut q = StatsQuery::new(args.by, tz);
    q.from = Some(parse_date("from", &args.from)?);
    q.to = Some(parse_date("to", &args.to)?);
    if !args.force && std::fs::symlink_metadata(&args.output).is_ok() {
        return Err(ValidationError::new(
            "output",
            &args.output.display().to_string(),
            "the file exists; pass --force to replace it",
        )
        .into());
    }
    let store = db.open()?;
    let pages = store.pages()?;
    let mut title = String::new();
    if args.page.is_some() || args.campaign.is_some() || pages.len() == 1 {
        let page = store.resolve_page(args.page.as_deref())?;
        title = page.name.clone();
        if let Some(name) = &args.campaign {
            q.campaign = Some(store.resolve_campaign(page.id, name)?.name);
        }
        // A page without a Page ID keeps every event: refused only when
        // named among several pages.
        if page.event_filter().is_every() && args.page.is_some() && pages.len() > 1 {
            return Err(ValidationError::new(
                "page",
                args.page.as_deref().unwrap_or_default(),
                "this page has no Page ID, so its referrals cannot be told apart; set one with `refboard page edit PAGE --page-id ID`",
            )
            .into());
        }
        q.set_page(&page);
    }
    let request = ReportRequest {
        path: args.output,
        query: q,
        title,
    };
    let written = write_report(&store, &request)?;
    outln!("Wrote {}", full(&written.display().to_string()));
    Ok(())
}
