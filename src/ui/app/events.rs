//! The worker's events, drained under a time budget and applied to the app.

use super::App;
use crate::export::ExportReport;
use crate::stats::Report;
use crate::worker::{Event, Failure, ShortCommand, Snapshot};
use std::path::Path;
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

impl App {
    /// Sets how long one frame may spend applying events (tests and benchmarks).
    pub fn set_drain_budget(&mut self, budget: Duration) {
        self.drain_budget = budget;
    }

    /// Applies queued worker events until the budget is spent; the rest stay
    /// queued and a repaint is requested so the next frame goes on.
    pub fn drain(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        loop {
            if started.elapsed() >= self.drain_budget {
                ctx.request_repaint();
                return;
            }
            match self.worker.try_recv() {
                Ok(event) => {
                    self.apply(event);
                    self.events_applied += 1;
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    if self.worker_stopped.is_none() {
                        self.worker_stopped = Some("its threads ended".into());
                    }
                    return;
                }
            }
        }
    }

    /// Applies one worker event.
    pub(super) fn apply(&mut self, event: Event) {
        match event {
            Event::Loaded(snap) => self.loaded(*snap),
            Event::Notice(text) => self.say(false, text),
            Event::Error(failure) => self.say(true, failure.to_string()),
            Event::Warnings(ws) => {
                let text = ws
                    .iter()
                    .map(|w| format!("Warning: {w}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.say(false, text);
            }
            Event::PageSaved(_) => self.dialogs.page_saved(),
            Event::LinkSaved(id) => {
                self.dialogs.link_saved();
                self.selected = Some(id);
            }
            Event::Progress(job, done, total) => self.job = Some((job, done, total)),
            Event::JobDone(_, result) => {
                self.job = None;
                match result {
                    Ok(t) => self.say(false, t),
                    Err(f) => self.say(true, f.to_string()),
                }
                // Long jobs change data; the short lane knows the page shown.
                self.send(ShortCommand::Load { page: None }.into());
            }
            Event::Exported(result) => self.exported(result),
            Event::Connection(result) => self
                .backend
                .connection_result(result.map_err(|f| f.to_string())),
            Event::Health(result) => self.snap.webhook_health = Some(result),
            Event::Doctor(result) => {
                let passed = matches!(&*result, Ok(o) if o.report.blame().is_none());
                self.setup.result(*result);
                // A fix to refboard's own page (username, Instagram id,
                // Page ID) shows in the rest of the dashboard at once, and
                // a first pass ticks the checklist's step.
                if self.setup.changed_page() || (passed && !self.snap.doctor_passed) {
                    self.send(ShortCommand::Load { page: None }.into());
                }
            }
            Event::Stats(report) => {
                self.ask_previous(&report);
                self.report = Some(*report);
            }
            Event::PreviousStats(report) => self.previous = Some(*report),
            Event::Conversions(c) => self.conversions = Some(*c),
            Event::PreviousConversions(c) => self.previous_conversions = Some(*c),
            Event::Glance(id, glance) => self.detail.set_glance(id, glance),
            Event::ExportExists(path) => self.export_exists(&path),
            Event::QrWritten(path, result) => {
                self.detail.written(path, result.map_err(|f| f.to_string()))
            }
            Event::SheetPreview(result) => self
                .dialogs
                .sheet_preview(result.map_err(|f| f.to_string())),
            Event::Stopped(why) => {
                self.say(true, format!("The background worker stopped: {why}"));
                self.worker_stopped.get_or_insert(why);
            }
            Event::AliasAdded(row) => self.analytics.alias_added(row),
            Event::AliasRemoved(row) => self.analytics.alias_removed(&row),
        }
    }

    /// A fresh snapshot: keeps the webhook health (it comes from its own
    /// event), drops a selection that is gone, and refreshes the chart.
    fn loaded(&mut self, snap: Snapshot) {
        let health = self.snap.webhook_health.take();
        self.snap = snap;
        self.snap.webhook_health = health;
        self.ask_health_once();
        self.loaded = true;
        if self.selected.is_some_and(|id| self.row(id).is_none()) {
            self.selected = None;
        }
        // Counts may have changed: refresh the chart.
        self.stats_requested = false;
        self.detail.refresh_glance();
    }

    /// A bulk export ended: say so in the status strip and in its window.
    fn exported(&mut self, result: Result<ExportReport, Failure>) {
        self.job = None;
        if result.is_ok() && !self.snap.exported {
            // The worker recorded the first export: tick the checklist.
            self.send(ShortCommand::Load { page: None }.into());
        }
        let text = result.map_err(|f| f.to_string()).map(|r| {
            format!(
                "Exported {} link(s): {} file(s) written{}",
                r.links,
                r.files.len(),
                if r.warnings.is_empty() {
                    String::new()
                } else {
                    format!("; {}", r.warnings.join("; "))
                }
            )
        });
        match &text {
            Ok(t) => self.say(false, t.clone()),
            Err(e) => self.say(true, e.clone()),
        }
        self.dialogs.bulk_done(text);
    }

    /// A single-code export found its file: ask before replacing it.
    fn export_exists(&mut self, path: &Path) {
        let Some(pending) = self.detail.take_pending(path) else {
            return;
        };
        if self.dialogs.is_open() {
            // One dialog at a time: the file is kept, as if the user said so.
            self.message = Some(crate::ui::dialogs::kept(&pending));
        } else {
            self.dialogs.confirm_overwrite(pending);
        }
    }

    /// Asks for the period before `report`'s, with the same query otherwise
    /// (the range is the resolved one, so "All time" has a previous period too).
    ///
    /// A report of an older query (the user kept typing a date while it was
    /// counted) is not asked about: its previous period would stand beside
    /// the newer report.
    pub(super) fn ask_previous(&mut self, report: &Report) {
        if self.previous_asked {
            return;
        }
        let Some((from, to)) = report.from.zip(report.to) else {
            return;
        };
        let Some(q) = self.last_query.clone() else {
            return;
        };
        let asked =
            |want: Option<chrono::NaiveDate>, got: chrono::NaiveDate| want.is_none_or(|w| w == got);
        if !asked(q.from, from) || !asked(q.to, to) || q.by != report.by {
            return;
        }
        let Some((pf, pt)) = q.compare.previous(from, to) else {
            return;
        };
        let q = crate::stats::StatsQuery {
            from: Some(pf),
            to: Some(pt),
            every: Some(report.every),
            untracked_offset: 0,
            untracked_limit: 0,
            ..q
        };
        self.previous_asked = true;
        self.send(ShortCommand::PreviousStats(q).into());
    }
}
