//! The long lane's work: sync, import, bulk export and the connection test.
//! Each reports progress and stops between steps when the cancel flag is set.

use super::Out;
use super::protocol::{Event, Failure, Job, LongCommand};
use super::short::{export_items, load_logo};
use super::wording;
use crate::ops;
use crate::store::Store;
use crate::sync::{SyncConfig, WebhookHealth, test_connection, webhook_health};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs one long command and returns the events that end it; the lane
/// sends them once the job's busy flag is cleared, so a user who reads
/// "done" can start the next one at once. Long on purpose: one arm per
/// command, like the short lane's dispatch.
pub(super) fn handle(
    store: &mut Store,
    command: LongCommand,
    out: &Out,
    cancel: &AtomicBool,
) -> Vec<Event> {
    match command {
        LongCommand::BulkExport {
            dir,
            page,
            campaign,
            mut options,
            logo,
        } => {
            let result = load_logo(&mut options.style, logo.as_ref()).and_then(|()| {
                let items = export_items(store, page, campaign)?;
                Ok(ops::export::bulk(
                    &dir,
                    &items,
                    &options,
                    &mut |done, total| {
                        out.send(Event::Progress(Job::Export, done, total));
                        !cancel.load(Ordering::SeqCst)
                    },
                )?)
            });
            // The setup checklist's "first export"; the UI reloads on success.
            if result.is_ok()
                && let Err(e) = store.mark_exported()
            {
                out.send(Event::Error(e.into()));
            }
            vec![Event::Exported(result)]
        }
        LongCommand::Sync(config) => {
            // The Backend form saved the URL and token already: nothing to keep.
            let keep = ops::sync::Keep::default();
            let result = ops::sync::sync(store, &config, keep, &mut |p| {
                out.send(Event::Progress(Job::Sync, p.events, 0));
                !cancel.load(Ordering::SeqCst)
            });
            let message = match result.map_err(|f| *f) {
                Ok(s) => Ok(wording::synced(
                    s.progress.events,
                    s.progress.new_events,
                    s.progress.cursor_resets,
                    s.events_pulled,
                )),
                Err(ops::sync::SyncFailed::Sync { error, .. }) => Err(Failure::from(error)),
                Err(ops::sync::SyncFailed::Keep(e)) => Err(Failure::from(e)),
            };
            // The UI reloads on JobDone, on the short lane that knows the page.
            // Manual and auto-sync alike: the health read follows each sync.
            vec![
                Event::JobDone(Job::Sync, message),
                Event::Health(read_health(&config)),
            ]
        }
        LongCommand::TestConnection(config) => {
            let r = test_connection(&config)
                .map(|()| wording::connected(&config.url))
                .map_err(Failure::from);
            vec![Event::Connection(r), Event::Health(read_health(&config))]
        }
        LongCommand::Doctor { page, token, fix } => {
            let r = ops::doctor::session(store, page.0, token.as_ref(), fix.as_deref())
                .map_err(Failure::from);
            // The setup checklist's "check Meta's settings": nothing red.
            if let Ok(outcome) = &r
                && outcome.report.blame().is_none()
                && let Err(e) = store.mark_doctor_passed(outcome.page)
            {
                out.send(Event::Error(e.into()));
            }
            vec![Event::Doctor(Box::new(r))]
        }
        LongCommand::ReadHealth(config) => vec![Event::Health(read_health(&config))],
        LongCommand::Import(paths) => {
            vec![Event::JobDone(
                Job::Import,
                import(store, &paths, out, cancel),
            )]
        }
    }
}

/// Imports the files in turn, going on past one that cannot be read, as
/// the CLI does; the store failing stops the import.
fn import(
    store: &mut Store,
    paths: &[PathBuf],
    out: &Out,
    cancel: &AtomicBool,
) -> Result<String, Failure> {
    let done = ops::import::import_files(
        store,
        paths,
        &mut |i, _, _| out.send(Event::Progress(Job::Import, i + 1, paths.len())),
        &mut || !cancel.load(Ordering::SeqCst),
    )
    .map_err(|stopped| {
        let path = stopped.path;
        Failure::from(stopped.error).map_text(|t| wording::import_failed(&path, t))
    })?;
    let total = &done.total;
    if done.cancelled {
        return Err(Failure::User(wording::import_cancelled(
            done.files_done,
            total.new,
        )));
    }
    let summary = wording::imported(total.referrals, total.new, total.bad_line_count);
    if done.failed.is_empty() {
        return Ok(summary);
    }
    let failed: Vec<String> = done
        .failed
        .iter()
        .map(|(path, e)| match e {
            ops::import::FileError::Open(e) => wording::cannot_read(path, &e.to_string()),
            ops::import::FileError::Import(e) => wording::import_failed(path, &e.to_string()),
        })
        .collect();
    Err(Failure::World(wording::import_partly_failed(
        &summary,
        &failed,
        paths.len(),
    )))
}

/// Reads the backend's `/healthz` as a message the UI can show; called on a
/// worker thread, never the UI thread.
fn read_health(config: &SyncConfig) -> Result<WebhookHealth, String> {
    webhook_health(config).map_err(|e| wording::health_unavailable(&e.to_string()))
}
