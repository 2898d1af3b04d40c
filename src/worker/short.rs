//! The short lane's work: loads, saves, stats and single files. Each command
//! returns `Err(Failure)` on failure; the lane reports it in one place.

use super::Out;
use super::protocol::{Event, Failure, SheetPreview, ShortCommand, Snapshot};
use super::wording;
use crate::codes::QrStyle;
use crate::export::{BulkOptions, OneOptions};
use crate::model::{ExportItem, LinkId, Page, PageId};
use crate::ops::link::{LinkTarget, SavedLink, save_link};
use crate::stats::StatsQuery;
use crate::store::{LinkFilter, LinkRow, Store, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;

/// What the short lane remembers between commands.
#[derive(Default)]
pub(super) struct State {
    page: Option<PageId>,
    /// The saved API token, read from the keyring once rather than per reload.
    token: Option<String>,
}

/// Most links a first page can hold in any layout (6 grid columns or the
/// 5160 sheet's 30 labels); the preview lays out only these.
const PREVIEW_LINKS: usize = 30;

/// Runs one short command. Long on purpose: one arm per command, each a
/// few lines that call the store or `ops`; splitting it would scatter the
/// protocol's one dispatch.
pub(super) fn handle(
    store: &mut Store,
    state: &mut State,
    command: ShortCommand,
    out: &Out,
) -> Result<(), Failure> {
    match command {
        ShortCommand::Load { page } => {
            if page.is_some() {
                state.page = page;
            }
            reload(store, state, out)
        }
        ShortCommand::AddPage(new) => {
            let p = store.add_page(&new)?;
            state.page = Some(PageId(p.id));
            out.send(Event::PageSaved(PageId(p.id)));
            done(store, state, out, wording::added("page", &p.name))
        }
        ShortCommand::EditPage(id, new) => {
            let p = store.update_page(id.0, &new)?;
            out.send(Event::PageSaved(PageId(p.id)));
            done(store, state, out, wording::saved("page", &p.name))
        }
        ShortCommand::AddChannel(page, name, kind) => {
            let c = store.add_channel(page.0, &name, kind)?;
            done(store, state, out, wording::added("channel", &c.name))
        }
        ShortCommand::AddCampaign(page, new) => {
            let c = store.add_campaign(page.0, &new)?;
            done(store, state, out, wording::added("campaign", &c.name))
        }
        ShortCommand::UpdateCampaign(id, new) => {
            let c = store.update_campaign(id.0, &new)?;
            done(store, state, out, wording::saved("campaign", &c.name))
        }
        ShortCommand::ArchiveCampaign(id, archived) => {
            store.set_campaign_archived(id.0, archived)?;
            done(
                store,
                state,
                out,
                wording::archived_group("campaign", archived),
            )
        }
        ShortCommand::UpdateChannel(id, name, kind) => {
            let c = store.update_channel(id.0, Some(&name), Some(kind))?;
            done(store, state, out, wording::saved("channel", &c.name))
        }
        ShortCommand::ArchiveChannel(id, archived) => {
            store.set_channel_archived(id.0, archived)?;
            done(
                store,
                state,
                out,
                wording::archived_group("channel", archived),
            )
        }
        ShortCommand::ExportQr {
            path,
            item,
            style,
            replace,
            logo,
            paper,
        } => {
            let print = crate::print::PrintOptions {
                paper,
                ..crate::print::PrintOptions::default()
            };
            let request = (path, item, style, print);
            // The first export ticks the setup checklist: reload once then.
            if export_qr(request, replace, logo, out) && store.mark_exported()? {
                reload(store, state, out)?;
            }
            Ok(())
        }
        ShortCommand::AddLink(page, campaign, channel, new) => {
            let target = LinkTarget::New { page: page.0 };
            let saved = save_link(store, target, campaign.0, channel.0, &new)?;
            link_saved(store, state, out, saved)
        }
        ShortCommand::UpdateLink(id, campaign, channel, new) => {
            let target = LinkTarget::Existing(id.0);
            let saved = save_link(store, target, campaign.0, channel.0, &new)?;
            link_saved(store, state, out, saved)
        }
        ShortCommand::ArchiveLink(id, archived) => {
            store.set_link_archived(id.0, archived)?;
            done(store, state, out, wording::archived(archived))
        }
        ShortCommand::RemoveLink(id) => {
            store.remove_link(id.0)?;
            done(store, state, out, wording::removed_link())
        }
        ShortCommand::AddAlias(link, alias) => {
            let added = store.add_alias(link.0, &alias)?;
            alias_added(store, state, out, added)
        }
        ShortCommand::RemoveAlias(page, alias) => {
            let row = store.remove_alias(page.0, &alias)?;
            out.send(Event::Notice(wording::alias_removed(&row.alias.ref_code)));
            out.send(Event::AliasRemoved(row));
            reload(store, state, out)
        }
        ShortCommand::SetAttribution(a) => {
            store.set_attribution(&a)?;
            done(store, state, out, wording::attribution_saved(&a))
        }
        ShortCommand::SaveBackend { url, token } => save_backend(store, state, out, url, token),
        other => files_and_figures(store, other, out),
    }
}

/// The commands that write files or compute figures; none reloads.
fn files_and_figures(store: &mut Store, command: ShortCommand, out: &Out) -> Result<(), Failure> {
    match command {
        ShortCommand::WriteReport(request) => {
            let path = crate::report::write_report(store, &request)?;
            out.send(Event::Notice(wording::wrote_report(&path)));
        }
        ShortCommand::PreviewSheet {
            page,
            campaign,
            mut options,
            logo,
        } => {
            let result = load_logo(&mut options.style, logo.as_ref()).and_then(|()| {
                let items = export_items(store, page, campaign)?;
                preview_sheet(&items, &options)
            });
            out.send(Event::SheetPreview(result.map(Box::new)));
        }
        ShortCommand::WriteFile(path, bytes) => {
            crate::export::write_atomic(&path, &bytes)?;
            out.send(Event::Notice(wording::wrote(&path)));
        }
        ShortCommand::WriteCsv { path, header, rows } => {
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let bytes = crate::csv_safe::to_bytes(&header, &rows)?;
            crate::export::write_atomic(&path, &bytes)?;
            out.send(Event::Notice(wording::wrote(&path)));
        }
        ShortCommand::Stats(q) => {
            // The chart never waits for unique people: the rollup figures go
            // out first, then the same report with people counted.
            if q.unique_people {
                let rollups_only = StatsQuery {
                    unique_people: false,
                    ..q.clone()
                };
                let r = crate::stats::query(store, &rollups_only)?;
                out.send(Event::Stats(Box::new(r)));
            }
            let r = crate::stats::query(store, &q)?;
            // Nor for conversions: crediting may refresh the kept credit
            // first (a write), so the report goes out before it.
            out.send(Event::Stats(Box::new(r.clone())));
            let c = crate::stats::conversions::conversions(store, &q, &r)?;
            out.send(Event::Conversions(Box::new(c)));
        }
        ShortCommand::PreviousStats(q) => {
            let r = crate::stats::query(store, &q)?;
            out.send(Event::PreviousStats(Box::new(r.clone())));
            let c = crate::stats::conversions::conversions(store, &q, &r)?;
            out.send(Event::PreviousConversions(Box::new(c)));
        }
        ShortCommand::LinkGlance(id, tz) => {
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let g = crate::stats::link_glance(store, id.0, tz, today)?;
            out.send(Event::Glance(id, g));
        }
        #[cfg(test)]
        ShortCommand::Panic => panic!("a test panic"),
        // The record-changing commands are all handled by `handle`.
        _ => {}
    }
    Ok(())
}

/// Writes one code unless a file is in the way and the user has not
/// confirmed; reports the outcome for the link detail as well. Returns
/// whether the file was written.
fn export_qr(
    (path, item, mut style, print): (PathBuf, ExportItem, QrStyle, crate::print::PrintOptions),
    replace: bool,
    logo: Option<PathBuf>,
    out: &Out,
) -> bool {
    // Checked here, not in the UI: the UI touches no files.
    if !replace && crate::ops::export::in_the_way(&path) {
        out.send(Event::ExportExists(path));
        return false;
    }
    let written = load_logo(&mut style, logo.as_ref()).and_then(|()| {
        // The user has confirmed a replacement, or nothing is in the way.
        let options = OneOptions {
            replace: true,
            print,
            ..OneOptions::default()
        };
        Ok(crate::ops::export::one_code(
            &path, &item, &style, &options,
        )?)
    });
    match written {
        Ok(w) => {
            if !w.is_empty() {
                out.send(Event::Warnings(w));
            }
            out.send(Event::Notice(wording::wrote_verified(&path)));
            out.send(Event::QrWritten(path, Ok(())));
            true
        }
        Err(e) => {
            out.send(Event::Error(e.clone()));
            out.send(Event::QrWritten(path, Err(e)));
            false
        }
    }
}

/// The page's links (one campaign's, if given; archived ones left out) as
/// export items.
pub(super) fn export_items(
    store: &Store,
    page: PageId,
    campaign: Option<crate::model::CampaignId>,
) -> Result<Vec<ExportItem>, Failure> {
    let selection = crate::ops::export::Selection {
        page: page.0,
        campaign: campaign.map(|c| c.0),
        include_archived: false,
    };
    Ok(crate::ops::export::items(store, &selection)?)
}

/// Reads the logo file into the style (the UI never reads files), its pad
/// at most the default share.
pub(super) fn load_logo(style: &mut QrStyle, logo: Option<&PathBuf>) -> Result<(), Failure> {
    let share = crate::codes::logo::MAX_LOGO_SHARE;
    crate::ops::export::load_logo(style, logo.map(PathBuf::as_path), share, false)?;
    Ok(())
}

/// Lays out the first page of `items` as `options` asks and proves it.
fn preview_sheet(items: &[ExportItem], options: &BulkOptions) -> Result<SheetPreview, Failure> {
    let print = options.pdf.clone().unwrap_or_default();
    let first = &items[..items.len().min(PREVIEW_LINKS)];
    let pdf = crate::print::render_pdf(first, &print, &options.style)?;
    let verified = crate::export::verify_pdf(&pdf, "the preview").map_err(|e| e.to_string());
    let paper = match print.layout {
        crate::print::PrintLayout::Labels => print.label.spec().paper,
        _ => print.paper,
    };
    let (w, h) = paper.size_mm();
    let pt = 72.0 / 25.4;
    Ok(SheetPreview {
        paper_pt: (w * pt, h * pt),
        codes: pdf.codes.into_iter().filter(|c| c.page == 0).collect(),
        texts: pdf.texts.into_iter().filter(|t| t.page == 0).collect(),
        links: items.len(),
        verified,
    })
}

/// Reports an added alias, with its warnings, and reloads.
fn alias_added(
    store: &mut Store,
    state: &mut State,
    out: &Out,
    (row, warnings): (crate::store::AliasRow, Vec<crate::model::Warning>),
) -> Result<(), Failure> {
    if !warnings.is_empty() {
        out.send(Event::Warnings(warnings));
    }
    out.send(Event::Notice(wording::alias_added(
        &row.alias.ref_code,
        &row.link_ref,
    )));
    out.send(Event::AliasAdded(row));
    reload(store, state, out)
}

/// Saves the backend's URL and token and says where the token went.
fn save_backend(
    store: &mut Store,
    state: &mut State,
    out: &Out,
    url: String,
    token: String,
) -> Result<(), Failure> {
    store.set_backend_url(&url)?;
    let place = store.set_backend_token(&token)?;
    state.token = Some(token);
    let notice = place
        .notice()
        .unwrap_or_else(|| wording::saved_backend(&url));
    done(store, state, out, notice)
}

/// Says `notice` and sends fresh data.
fn done(store: &mut Store, state: &mut State, out: &Out, notice: String) -> Result<(), Failure> {
    out.send(Event::Notice(notice));
    reload(store, state, out)
}

/// Reports a created or updated link, with its warnings, and reloads.
fn link_saved(
    store: &mut Store,
    state: &mut State,
    out: &Out,
    SavedLink { row, warnings }: SavedLink,
) -> Result<(), Failure> {
    if warnings.is_empty() {
        out.send(Event::Notice(wording::saved_link(&row.link.ref_code)));
    } else {
        out.send(Event::Warnings(warnings));
    }
    out.send(Event::LinkSaved(LinkId(row.link.id)));
    reload(store, state, out)
}

/// Sends a fresh snapshot.
pub(super) fn reload(store: &mut Store, state: &mut State, out: &Out) -> Result<(), Failure> {
    let s = snapshot(store, state)?;
    out.send(Event::Loaded(Box::new(s)));
    Ok(())
}

/// The saved API token ("" when none), cached in `state`.
fn saved_token(store: &Store, state: &mut State) -> Result<String, StoreError> {
    if state.token.is_none() {
        state.token = Some(store.backend_token()?.unwrap_or_default());
    }
    Ok(state.token.clone().unwrap_or_default())
}

fn snapshot(store: &mut Store, state: &mut State) -> Result<Snapshot, StoreError> {
    let pages = store.pages()?;
    let page = state
        .page
        .filter(|p| pages.iter().any(|x| x.id == p.0))
        .or_else(|| pages.first().map(|p| PageId(p.id)));
    state.page = page;
    let mut snap = Snapshot {
        backend_url: store.backend_url()?.unwrap_or_default(),
        backend_token: saved_token(store, state)?,
        events_total: store.event_count()?,
        exported: store.exported()?,
        doctor_passed: match page {
            Some(p) => store.doctor_passed(p.0)?,
            None => false,
        },
        // Settings edited by hand past the rules show as the defaults
        // here; the stats query names the bad value.
        attribution: store.attribution().unwrap_or_default(),
        goals: store.conversion_goals()?,
        ..Snapshot::default()
    };
    if !snap.backend_url.is_empty() {
        let src = store.sync_source(&snap.backend_url)?;
        snap.last_sync_at = src.last_sync_at;
        snap.last_sync_error = src.last_error;
        snap.events_pulled = src.events_pulled;
    }
    if let Some(PageId(p)) = page {
        snap.channels = store.channels(p, true)?;
        snap.campaigns = store.campaigns(p, true)?;
        snap.links = store.links(&LinkFilter {
            page: Some(p),
            include_archived: true,
            ..LinkFilter::default()
        })?;
        snap.last_7_days = last_7_days(store, &pages, p, &snap.links);
        snap.aliases = store.aliases(Some(p), None)?;
    }
    snap.pages = pages;
    snap.page = page;
    Ok(snap)
}

/// Referrals per link over the last 7 days (rollups, so it stays cheap).
fn last_7_days(
    store: &Store,
    pages: &[Page],
    page: i64,
    links: &[LinkRow],
) -> HashMap<LinkId, u64> {
    let mut out = HashMap::new();
    let Some(p) = pages.iter().find(|x| x.id == page) else {
        return out;
    };
    let now = chrono::Utc::now();
    // By link, so an alias's referrals count for its link here too.
    let mut q = StatsQuery::new(crate::stats::GroupBy::Link, chrono_tz::UTC);
    q.from = Some((now - chrono::Duration::days(6)).date_naive());
    q.to = Some(now.date_naive());
    q.every = Some(crate::stats::Every::Day);
    q.unique_people = false;
    // Every ref's count is needed here, not only the top ones.
    q.top = usize::MAX;
    q.set_page(p);
    let Ok(report) = crate::stats::query(store, &q) else {
        return out;
    };
    let counts: HashMap<&str, u64> = report
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.referrals))
        .collect();
    for l in links {
        if let Some(n) = counts.get(l.link.ref_code.as_str()) {
            out.insert(LinkId(l.link.id), *n);
        }
    }
    out
}
