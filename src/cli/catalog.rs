//! `page`, `channel` and `campaign` subcommands.

use super::Db;
use super::output::{archived_mark, outln, print_json, table};
use crate::model::{ChannelKind, NewCampaign, NewPage, parse_date};
use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub(super) enum PageCmd {
    /// Add a page by username, m.me or facebook.com URL, or numeric Page ID.
    Add {
        /// e.g. JaspersMarket, @JaspersMarket, https://m.me/JaspersMarket, 104729178032417
        #[arg(value_name = "USERNAME|URL|PAGE_ID")]
        target: String,
        /// Display name [default: the username]
        #[arg(long)]
        name: Option<String>,
        /// Numeric Page ID, to match webhook events (recipient.id)
        #[arg(long, value_name = "ID")]
        page_id: Option<String>,
        /// Instagram account ID, to match Instagram events (their page_id)
        #[arg(long, value_name = "ID")]
        ig_id: Option<String>,
    },
    /// List pages.
    List {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Change a page's name, link target or Page ID.
    Edit {
        /// The page: name, username or Page ID
        page: String,
        /// New display name
        #[arg(long)]
        name: Option<String>,
        /// New link target (username, URL or Page ID)
        #[arg(long, value_name = "USERNAME|URL|PAGE_ID")]
        target: Option<String>,
        /// New numeric Page ID
        #[arg(long, value_name = "ID", conflicts_with = "clear_page_id")]
        page_id: Option<String>,
        /// Forget the numeric Page ID
        #[arg(long)]
        clear_page_id: bool,
        /// New Instagram account ID
        #[arg(long, value_name = "ID", conflicts_with = "clear_ig_id")]
        ig_id: Option<String>,
        /// Forget the Instagram account ID
        #[arg(long)]
        clear_ig_id: bool,
    },
    /// Remove a page with its channels and campaigns (refused while it has links).
    Remove {
        /// The page: name, username or Page ID
        page: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum ChannelCmd {
    /// Add a channel.
    Add {
        /// Name, e.g. Newsletter
        name: String,
        /// website, app, flyer, sms, email, facebook_ad, social, print or other
        #[arg(long, default_value = "other")]
        kind: String,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// List channels.
    List {
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
        /// Include archived channels
        #[arg(long)]
        all: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Rename a channel or change its kind.
    Edit {
        /// The channel's current name
        name: String,
        /// New name
        #[arg(long)]
        rename: Option<String>,
        /// New kind
        #[arg(long)]
        kind: Option<String>,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// Hide a channel from pickers; its links keep working and counting.
    Archive(GroupRef),
    /// Bring back an archived channel.
    Unarchive(GroupRef),
    /// Remove a channel (refused while links use it; archive it instead).
    Remove(GroupRef),
}

#[derive(Debug, clap::Args)]
pub(super) struct GroupRef {
    /// The name
    name: String,
    /// The page [default: the only page]
    #[arg(long)]
    page: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(super) enum CampaignCmd {
    /// Add a campaign.
    Add {
        /// Name, e.g. "Spring Sale"
        name: String,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
        /// First day, YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        starts: Option<String>,
        /// Last day, YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        ends: Option<String>,
        /// Notes
        #[arg(long)]
        notes: Option<String>,
    },
    /// List campaigns.
    List {
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
        /// Include archived campaigns
        #[arg(long)]
        all: bool,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Change a campaign's name, dates or notes.
    Edit {
        /// The campaign's current name
        name: String,
        /// New name
        #[arg(long)]
        rename: Option<String>,
        /// New first day, YYYY-MM-DD ("" clears it)
        #[arg(long, value_name = "DATE")]
        starts: Option<String>,
        /// New last day, YYYY-MM-DD ("" clears it)
        #[arg(long, value_name = "DATE")]
        ends: Option<String>,
        /// New notes
        #[arg(long)]
        notes: Option<String>,
        /// The page [default: the only page]
        #[arg(long)]
        page: Option<String>,
    },
    /// Hide a campaign from pickers; its links keep working and counting.
    Archive(GroupRef),
    /// Bring back an archived campaign.
    Unarchive(GroupRef),
    /// Remove a campaign (refused while links use it; archive it instead).
    Remove(GroupRef),
}

#[derive(Serialize)]
struct PageJson<'a> {
    #[serde(flatten)]
    page: &'a crate::model::Page,
    url: String,
}

pub(super) fn page(db: &Db, cmd: PageCmd) -> anyhow::Result<()> {
    match cmd {
        PageCmd::Add {
            target,
            name,
            page_id,
            ig_id,
        } => {
            let new = NewPage::parse(&target, name.as_deref(), page_id.as_deref())?
                .with_ig_id(ig_id.as_deref())?;
            let page = db.open()?.add_page(&new)?;
            outln!("Added page {:?}: https://m.me/{}", page.name, page.target);
        }
        PageCmd::List { json } => {
            let pages = db.open()?.pages()?;
            if json {
                let rows: Vec<PageJson<'_>> = pages
                    .iter()
                    .map(|p| PageJson {
                        page: p,
                        url: format!("https://m.me/{}", p.target),
                    })
                    .collect();
                return print_json(&rows);
            }
            if pages.is_empty() {
                outln!("No pages yet. Add one: refboard page add JaspersMarket");
                return Ok(());
            }
            let mut t = table(&["name", "m.me target", "page id", "instagram id"]);
            for p in &pages {
                t.add_row(vec![
                    p.name.clone(),
                    p.target.clone(),
                    p.page_id.clone().unwrap_or_default(),
                    p.ig_id.clone().unwrap_or_default(),
                ]);
            }
            outln!("{t}");
        }
        PageCmd::Edit {
            page,
            name,
            target,
            page_id,
            clear_page_id,
            ig_id,
            clear_ig_id,
        } => {
            let mut store = db.open()?;
            let current = store.resolve_page(Some(&page))?;
            let target = target.unwrap_or_else(|| current.target.clone());
            let page_id = if clear_page_id {
                None
            } else {
                page_id.or_else(|| current.page_id.clone())
            };
            let ig_id = if clear_ig_id {
                None
            } else {
                ig_id.or_else(|| current.ig_id.clone())
            };
            let new = NewPage::parse(
                &target,
                Some(name.as_deref().unwrap_or(&current.name)),
                page_id.as_deref(),
            )?
            .with_ig_id(ig_id.as_deref())?;
            let page = store.update_page(current.id, &new)?;
            outln!("Updated page {:?}: https://m.me/{}", page.name, page.target);
        }
        PageCmd::Remove { page } => {
            let mut store = db.open()?;
            let p = store.resolve_page(Some(&page))?;
            store.remove_page(p.id)?;
            outln!("Removed page {:?}", p.name);
        }
    }
    Ok(())
}

pub(super) fn channel(db: &Db, cmd: ChannelCmd) -> anyhow::Result<()> {
    match cmd {
        ChannelCmd::Add { name, kind, page } => {
            let kind: ChannelKind = kind.parse()?;
            crate::model::validate_name("name", &name)?;
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let ch = store.add_channel(page.id, &name, kind)?;
            outln!(
                "Added channel {:?} ({}) to {:?}",
                ch.name,
                ch.kind,
                page.name
            );
        }
        ChannelCmd::List { page, all, json } => {
            let store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let channels = store.channels(page.id, all)?;
            if json {
                return print_json(&channels);
            }
            if channels.is_empty() {
                outln!("No channels yet. Add one: refboard channel add Newsletter --kind email");
                return Ok(());
            }
            let mut t = table(&["channel", "kind", ""]);
            for c in &channels {
                t.add_row(vec![
                    c.name.clone(),
                    c.kind.to_string(),
                    archived_mark(c.archived).into(),
                ]);
            }
            outln!("{t}");
        }
        ChannelCmd::Edit {
            name,
            rename,
            kind,
            page,
        } => {
            let kind: Option<ChannelKind> = kind.map(|k| k.parse()).transpose()?;
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let ch = store.resolve_channel(page.id, &name)?;
            let ch = store.update_channel(ch.id, rename.as_deref(), kind)?;
            outln!("Updated channel {:?} ({})", ch.name, ch.kind);
        }
        ChannelCmd::Archive(g) => set_channel_archived(db, g, true)?,
        ChannelCmd::Unarchive(g) => set_channel_archived(db, g, false)?,
        ChannelCmd::Remove(g) => {
            let mut store = db.open()?;
            let page = store.resolve_page(g.page.as_deref())?;
            let ch = store.resolve_channel(page.id, &g.name)?;
            store.remove_channel(ch.id)?;
            outln!("Removed channel {:?}", ch.name);
        }
    }
    Ok(())
}

fn set_channel_archived(db: &Db, g: GroupRef, archived: bool) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let page = store.resolve_page(g.page.as_deref())?;
    let ch = store.resolve_channel(page.id, &g.name)?;
    store.set_channel_archived(ch.id, archived)?;
    outln!(
        "{} channel {:?}",
        if archived { "Archived" } else { "Restored" },
        ch.name
    );
    Ok(())
}

fn set_campaign_archived(db: &Db, g: GroupRef, archived: bool) -> anyhow::Result<()> {
    let mut store = db.open()?;
    let page = store.resolve_page(g.page.as_deref())?;
    let c = store.resolve_campaign(page.id, &g.name)?;
    store.set_campaign_archived(c.id, archived)?;
    outln!(
        "{} campaign {:?}",
        if archived { "Archived" } else { "Restored" },
        c.name
    );
    Ok(())
}

/// A date option where "" clears the value: None = unchanged.
fn date_edit(
    field: &'static str,
    given: Option<&str>,
    current: Option<chrono::NaiveDate>,
) -> Result<Option<chrono::NaiveDate>, crate::model::ValidationError> {
    match given {
        None => Ok(current),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

pub(super) fn campaign(db: &Db, cmd: CampaignCmd) -> anyhow::Result<()> {
    match cmd {
        CampaignCmd::Add {
            name,
            page,
            starts,
            ends,
            notes,
        } => {
            let new =
                NewCampaign::parse(&name, starts.as_deref(), ends.as_deref(), notes.as_deref())?;
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let c = store.add_campaign(page.id, &new)?;
            outln!("Added campaign {:?} to {:?}", c.name, page.name);
        }
        CampaignCmd::List { page, all, json } => {
            let store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let campaigns = store.campaigns(page.id, all)?;
            if json {
                return print_json(&campaigns);
            }
            if campaigns.is_empty() {
                outln!("No campaigns yet. Add one: refboard campaign add \"Spring Sale\"");
                return Ok(());
            }
            let mut t = table(&["campaign", "starts", "ends", "notes", ""]);
            let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            for c in &campaigns {
                t.add_row(vec![
                    c.name.clone(),
                    day(c.starts_on),
                    day(c.ends_on),
                    c.notes.clone(),
                    archived_mark(c.archived).into(),
                ]);
            }
            outln!("{t}");
        }
        CampaignCmd::Edit {
            name,
            rename,
            starts,
            ends,
            notes,
            page,
        } => {
            let mut store = db.open()?;
            let page = store.resolve_page(page.as_deref())?;
            let current = store.resolve_campaign(page.id, &name)?;
            let starts_on = date_edit("starts", starts.as_deref(), current.starts_on)?;
            let ends_on = date_edit("ends", ends.as_deref(), current.ends_on)?;
            NewCampaign::check_dates(starts_on, ends_on)?;
            let new_name =
                crate::model::validate_name("name", rename.as_deref().unwrap_or(&current.name))?;
            let notes = notes.unwrap_or(current.notes);
            crate::model::validate_notes(&notes)?;
            let new = NewCampaign {
                name: new_name,
                starts_on,
                ends_on,
                notes,
            };
            let c = store.update_campaign(current.id, &new)?;
            outln!("Updated campaign {:?}", c.name);
        }
        CampaignCmd::Archive(g) => set_campaign_archived(db, g, true)?,
        CampaignCmd::Unarchive(g) => set_campaign_archived(db, g, false)?,
        CampaignCmd::Remove(g) => {
            let mut store = db.open()?;
            let page = store.resolve_page(g.page.as_deref())?;
            let c = store.resolve_campaign(page.id, &g.name)?;
            store.remove_campaign(c.id)?;
            outln!("Removed campaign {:?}", c.name);
        }
    }
    Ok(())
}
