//! Untracked refs of the Analytics screen: refs that reached the page but
//! match no link, page by page, each with its likely typo ("Count as"),
//! "Create link", and the undo of the last alias made here.

use super::UNTRACKED_PER_PAGE;
use crate::model::{LinkId, PageId};
use crate::stats::{Report, UntrackedRef};
use crate::store::{AliasRow, LinkRow};
use crate::ui::widgets::display;
use crate::ui::{Action, Shared};
use crate::worker::ShortCommand;

/// The list's own state: the page shown, the alias to offer undoing, and
/// the closest link of each shown ref.
#[derive(Default)]
pub struct Untracked {
    /// Page of the list shown (each page is its own query).
    pub(super) page: usize,
    /// The alias the user just made from a typo, until undone or replaced.
    undo: Option<AliasRow>,
    /// The closest link of each shown untracked ref, kept while the refs
    /// and the links stay the same (not recomputed every frame).
    typos: TypoCache,
}

impl Untracked {
    /// An alias was made (typo rescue): offer to undo it.
    pub(super) fn alias_added(&mut self, row: AliasRow) {
        self.undo = Some(row);
    }

    /// An alias was removed: nothing is left to undo.
    pub(super) fn alias_removed(&mut self, row: &AliasRow) {
        if self
            .undo
            .as_ref()
            .is_some_and(|u| u.alias.id == row.alias.id)
        {
            self.undo = None;
        }
    }

    /// Draws the list of `report`'s untracked refs with its pager.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared<'_>,
        report: &Report,
        actions: &mut Vec<Action>,
    ) {
        // Before the early return: undoing the last rescued ref is offered
        // even when it was the only untracked one.
        self.undo_line(ui, actions);
        let total = report.untracked_total;
        if total == 0 {
            return;
        }
        ui.separator();
        ui.strong("Untracked refs");
        ui.label("Refs that reached the page but match no link: typos, old or unlisted links.");
        let near_ids = self.typos.near(report, shared).to_vec();
        egui::Grid::new("untracked").striped(true).show(ui, |ui| {
            for (u, near_id) in report.untracked_refs.iter().zip(near_ids) {
                let near =
                    near_id.and_then(|id| shared.snap.links.iter().find(|l| l.link.id == id));
                untracked_row(ui, u, near, actions);
                ui.end_row();
            }
        });
        self.pager(ui, report, actions);
    }

    /// Previous, "Page n of m", Next: each page is its own query, so only
    /// one page is ever in memory.
    fn pager(&mut self, ui: &mut egui::Ui, report: &Report, actions: &mut Vec<Action>) {
        let total = report.untracked_total;
        let pages = total.div_ceil(UNTRACKED_PER_PAGE);
        let page = report.untracked_offset / UNTRACKED_PER_PAGE;
        if pages <= 1 {
            return;
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(page > 0, egui::Button::new("Previous"))
                .clicked()
            {
                self.page = page.saturating_sub(1);
                actions.push(Action::RefreshStats);
            }
            ui.label(format!(
                "Page {} of {pages} ({total} untracked refs)",
                page + 1
            ));
            if ui
                .add_enabled(page + 1 < pages, egui::Button::new("Next"))
                .clicked()
            {
                self.page = page + 1;
                actions.push(Action::RefreshStats);
            }
        });
    }

    /// "Counting X as Y. Undo" after a typo rescue.
    fn undo_line(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let Some(row) = &self.undo else { return };
        let (alias, link) = (row.alias.ref_code.clone(), row.link_ref.clone());
        let page = PageId(row.alias.page);
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Referrals with ref {} count as {}.",
                crate::model::shorten_text(&display(&alias), 60),
                crate::model::shorten_text(&display(&link), 60)
            ));
            if ui.button("Undo").clicked() {
                actions.push(Action::Send(
                    ShortCommand::RemoveAlias(page, alias.clone()).into(),
                ));
            }
        });
    }
}

/// One untracked ref: the ref, its count, the link it looks like a typo of
/// with "Count as", and "Create link".
fn untracked_row(
    ui: &mut egui::Ui,
    u: &UntrackedRef,
    near: Option<&LinkRow>,
    actions: &mut Vec<Action>,
) {
    // A grid cell has no width to truncate into: shorten instead.
    ui.label(crate::model::shorten_text(&display(&u.ref_code), 60))
        .on_hover_text(display(&u.ref_code));
    ui.label(u.referrals.to_string());
    match near {
        Some(link) => {
            let name = crate::model::shorten_text(&display(&link.link.ref_code), 60);
            ui.label(format!("looks like a typo of {name}"));
            if ui
                .button(format!("Count as {name}"))
                .on_hover_text(
                    "Makes this ref an alias of the link: its referrals, past and future, count for the link",
                )
                .clicked()
            {
                actions.push(Action::Send(
                    ShortCommand::AddAlias(LinkId(link.link.id), u.ref_code.clone()).into(),
                ));
            }
        }
        None => {
            ui.label("");
            ui.label("");
        }
    }
    if ui
        .button("Create link")
        .on_hover_text(format!("Create link for {}", display(&u.ref_code)))
        .clicked()
    {
        actions.push(match near {
            Some(link) => Action::OpenNewLinkLike {
                ref_code: u.ref_code.clone(),
                like: LinkId(link.link.id),
            },
            None => Action::OpenNewLink(Some(u.ref_code.clone())),
        });
    }
}

/// [`typo_of`] for one page of untracked refs, with what it was computed from.
#[derive(Default)]
struct TypoCache {
    /// Hash of the untracked refs and the links (ids and refs).
    key: u64,
    /// The closest link's id per untracked ref, in report order.
    near: Vec<Option<i64>>,
}

impl TypoCache {
    /// The closest link of each untracked ref of `report`, recomputed only
    /// when the refs or the links changed.
    fn near(&mut self, report: &Report, shared: &Shared<'_>) -> &[Option<i64>] {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        shared.snap.page.map(|p| p.0).hash(&mut h);
        for u in &report.untracked_refs {
            (&u.ref_code, &u.page_id).hash(&mut h);
        }
        for l in &shared.snap.links {
            (l.link.id, &l.link.ref_code).hash(&mut h);
        }
        let key = h.finish();
        if key != self.key || self.near.len() != report.untracked_refs.len() {
            let page = shared
                .snap
                .pages
                .iter()
                .find(|p| Some(PageId(p.id)) == shared.snap.page);
            self.near = report
                .untracked_refs
                .iter()
                .map(|u| {
                    // Only the shown page's links can be the ref's intended link.
                    page.filter(|p| on_page(p, &u.page_id))
                        .and_then(|_| typo_of(&shared.snap.links, &u.ref_code))
                        .map(|l| l.link.id)
                })
                .collect();
            self.key = key;
        }
        &self.near
    }
}

/// Whether an event's page id is `page`'s ([`crate::model::Page::event_filter`]).
fn on_page(page: &crate::model::Page, event_page_id: &str) -> bool {
    page.event_filter().matches(event_page_id)
}

/// The link an untracked ref most likely meant (see [`crate::model::typo_candidates`]).
fn typo_of<'a>(links: &'a [LinkRow], untracked_ref: &str) -> Option<&'a LinkRow> {
    let near = crate::model::typo_candidates(
        untracked_ref,
        links.iter().map(|l| l.link.ref_code.as_str()),
    )?;
    links.iter().find(|l| l.link.ref_code == near)
}
