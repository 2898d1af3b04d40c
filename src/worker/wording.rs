//! Every sentence the worker says to the user, in one place, so the wording
//! stays consistent and can be reviewed (or translated) without reading the
//! lanes' logic.

use super::protocol::{Job, LongCommand, ShortCommand};
use crate::model::safe_text;
use std::path::Path;

/// What a short command is doing, for "Internal error while …".
pub fn short_doing(c: &ShortCommand) -> &'static str {
    match c {
        ShortCommand::Load { .. } => "loading",
        ShortCommand::AddPage(_) | ShortCommand::EditPage(..) => "saving the page",
        ShortCommand::AddChannel(..) => "adding the channel",
        ShortCommand::AddCampaign(..) => "adding the campaign",
        ShortCommand::AddLink(..) | ShortCommand::UpdateLink(..) => "saving the link",
        ShortCommand::ArchiveLink(..) => "archiving the link",
        ShortCommand::RemoveLink(_) => "removing the link",
        ShortCommand::AddAlias(..) => "adding the alias",
        ShortCommand::RemoveAlias(..) => "removing the alias",
        ShortCommand::WriteReport(_) => "writing the report",
        ShortCommand::ExportQr { .. } => "exporting the QR code",
        ShortCommand::PreviewSheet { .. } => "the sheet preview",
        ShortCommand::SaveBackend { .. } => "saving the backend",
        ShortCommand::SetAttribution(_) => "saving the attribution settings",
        ShortCommand::Stats(_) | ShortCommand::PreviousStats(_) => "the stats query",
        ShortCommand::LinkGlance(..) => "the link's figures",
        ShortCommand::UpdateCampaign(..) => "saving the campaign",
        ShortCommand::ArchiveCampaign(..) => "archiving the campaign",
        ShortCommand::UpdateChannel(..) => "saving the channel",
        ShortCommand::ArchiveChannel(..) => "archiving the channel",
        ShortCommand::WriteFile(..) | ShortCommand::WriteCsv { .. } => "writing the file",
        #[cfg(test)]
        ShortCommand::Panic => "the test panic",
    }
}

/// What a long command is doing, for "Internal error while …".
pub fn long_doing(c: &LongCommand) -> &'static str {
    match c {
        LongCommand::BulkExport { .. } => "the bulk export",
        LongCommand::Sync(_) => "the sync",
        LongCommand::TestConnection(_) => "the connection test",
        LongCommand::ReadHealth(_) => "reading the webhook health",
        LongCommand::Import(_) => "the import",
        LongCommand::Doctor { .. } => "the setup doctor",
    }
}

/// A caught panic, said so that the user knows refboard goes on.
pub fn panicked(doing: &str, why: &str) -> String {
    format!(
        "Internal error while {doing} ({why}); nothing was changed by it and refboard keeps working"
    )
}

/// A lane that could not open its database.
pub fn cannot_open(db: &Path, why: &str) -> String {
    format!("cannot open the database {} ({why})", db.display())
}

/// A lane whose thread could not be started.
pub fn cannot_start(why: &str) -> String {
    format!("cannot start a background thread ({why})")
}

/// A second long job of a kind already queued or running.
pub fn busy(job: Job) -> String {
    let what = match job {
        Job::Sync => "A sync",
        Job::Import => "An import",
        Job::Export => "A bulk export",
    };
    format!("{what} is already running; wait for it to finish or cancel it first")
}

/// A record added or saved: `what` is "page", "channel" or "campaign".
pub fn added(what: &str, name: &str) -> String {
    format!("Added {what} {name}")
}

/// A record saved: `what` is "page" or "campaign".
pub fn saved(what: &str, name: &str) -> String {
    format!("Saved {what} {name}")
}

/// The attribution settings saved, in words.
pub fn attribution_saved(a: &crate::model::Attribution) -> String {
    format!(
        "Conversions now go to the {} of the {} days before them",
        match a.model {
            crate::model::CreditModel::Last => "last referral",
            crate::model::CreditModel::First => "first referral",
        },
        a.window_days
    )
}

/// A link saved without warnings.
pub fn saved_link(ref_code: &str) -> String {
    format!("Saved link {ref_code}")
}

/// A link archived or restored.
pub fn archived(archived: bool) -> String {
    let done = if archived { "Archived" } else { "Restored" };
    format!("{done} the link")
}

/// A campaign or channel archived or restored (its links stay).
pub fn archived_group(what: &str, archived: bool) -> String {
    if archived {
        format!("Archived the {what}: its links keep counting")
    } else {
        format!("Restored the {what}")
    }
}

/// A link removed.
pub fn removed_link() -> String {
    "Removed the link".into()
}

/// An alias added for a link.
pub fn alias_added(alias: &str, link_ref: &str) -> String {
    format!(
        "Referrals with ref {} now count for {}",
        safe_text(alias),
        safe_text(link_ref)
    )
}

/// An alias removed (the undo of [`alias_added`]).
pub fn alias_removed(alias: &str) -> String {
    format!(
        "Undone: referrals with ref {} show as untracked again",
        safe_text(alias)
    )
}

/// A file written.
pub fn wrote(path: &Path) -> String {
    format!("Wrote {}", path.display())
}

/// The report written.
pub fn wrote_report(path: &Path) -> String {
    format!("Wrote the report {}", path.display())
}

/// One code written and decoded.
pub fn wrote_verified(path: &Path) -> String {
    format!("Wrote {} (scan verified)", path.display())
}

/// The backend saved, when the token's place needs no notice of its own.
pub fn saved_backend(url: &str) -> String {
    format!("Saved the backend {}", crate::model::redact_url(url))
}

/// A sync finished: this sync's count beside the running total the top bar
/// shows, so the two never seem to disagree. A cursor reset is worth
/// saying: the count then includes a re-pull.
pub fn synced(events: usize, new_events: usize, cursor_resets: usize, pulled: i64) -> String {
    let reset = if cursor_resets > 0 {
        "; the backend started again from the beginning (an older cursor format could skip events), nothing counted twice"
    } else {
        ""
    };
    format!(
        "Synced {events} events this time ({new_events} new){reset}; {pulled} events pulled in all"
    )
}

/// A sync the user asked for while another kind of job runs.
pub fn sync_queued() -> String {
    "The sync starts when the running job is done".into()
}

/// The connection test passed.
pub fn connected(url: &str) -> String {
    format!(
        "Connected: the backend accepts the token ({})",
        crate::model::redact_url(url)
    )
}

/// The webhook health could not be read.
pub fn health_unavailable(why: &str) -> String {
    format!("webhook health unavailable: {why}")
}

/// An import cancelled between files.
pub fn import_cancelled(files_done: usize, new: usize) -> String {
    format!("Import cancelled after {files_done} file(s); {new} new referral(s) kept")
}

/// A file of an import could not be opened.
pub fn cannot_read(path: &Path, why: &str) -> String {
    format!("cannot read ({why}): {}", path.display())
}

/// A file of an import failed.
pub fn import_failed(path: &Path, why: &str) -> String {
    format!("{why}: {}", path.display())
}

/// An import finished.
pub fn imported(total: usize, new: usize, bad_lines: usize) -> String {
    format!("Imported {total} referral(s), {new} new; {bad_lines} bad line(s) skipped")
}

/// An import that went on past files it could not import: its summary,
/// then the first few failures (`failed`, each worded), out of `files`.
pub fn import_partly_failed(summary: &str, failed: &[String], files: usize) -> String {
    const SHOWN: usize = 3;
    let mut listed = failed
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if failed.len() > SHOWN {
        listed.push_str(&format!("; and {} more", failed.len() - SHOWN));
    }
    format!(
        "{summary}. {} of {files} file(s) could not be imported ({listed}); the other files were imported",
        failed.len()
    )
}

/// The worker stopped, so a command was not run.
pub fn worker_stopped(why: &str) -> String {
    format!("Nothing was done: the background worker stopped ({why}). Restart refboard.")
}
