//! The long lane's work: sync, import, bulk export and the connection test.
//! Each reports progress and stops between steps when the cancel flag is set.

use super::Out;
use super::protocol::{Event, Failure, Job, LongCommand};
use super::short::{export_items, load_logo};
use super::wording;
use crate::export::export_bulk;
use crate::store::Store;
use crate::sync::{SyncConfig, WebhookHealth, sync, test_connection, webhook_health};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs one long command and returns the events that end it; the lane
/// sends them once the job's busy flag is cleared, so a user who reads
/// "done" can start the next one at once.
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
                Ok(export_bulk(&dir, &items, &options, &mut |done, total| {
                    out.send(Event::Progress(Job::Export, done, total));
                    !cancel.load(Ordering::SeqCst)
                })?)
            });
            vec![Event::Exported(result)]
        }
        LongCommand::Sync(config) => {
            let result = sync(store, &config, &mut |p| {
                out.send(Event::Progress(Job::Sync, p.events, 0));
                !cancel.load(Ordering::SeqCst)
            });
            let pulled = store
                .sync_source(&config.url)
                .map(|s| s.events_pulled)
                .unwrap_or_default();
            let message = result
                .map(|p| wording::synced(p.events, p.new_events, p.cursor_resets, pulled))
                .map_err(Failure::from);
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
        LongCommand::Import(paths) => {
            vec![Event::JobDone(
                Job::Import,
                import(store, &paths, out, cancel),
            )]
        }
    }
}

fn import(
    store: &mut Store,
    paths: &[PathBuf],
    out: &Out,
    cancel: &AtomicBool,
) -> Result<String, Failure> {
    let (mut new, mut total, mut bad) = (0, 0, 0);
    for (i, path) in paths.iter().enumerate() {
        if cancel.load(Ordering::SeqCst) {
            return Err(Failure::User(wording::import_cancelled(i, new)));
        }
        let input = std::fs::File::open(path)
            .map_err(|e| Failure::World(wording::cannot_read(path, &e.to_string())))?;
        let report =
            crate::import::import_reader(store, input, &mut || !cancel.load(Ordering::SeqCst))
                .map_err(|e| Failure::from(e).map_text(|t| wording::import_failed(path, t)))?;
        total += report.referrals;
        new += report.new;
        bad += report.bad_line_count;
        out.send(Event::Progress(Job::Import, i + 1, paths.len()));
    }
    Ok(wording::imported(total, new, bad))
}

/// Reads the backend's `/healthz` as a message the UI can show; called on a
/// worker thread, never the UI thread.
fn read_health(config: &SyncConfig) -> Result<WebhookHealth, String> {
    webhook_health(config).map_err(|e| wording::health_unavailable(&e.to_string()))
}
