//! Pulling events from the backend, and what is kept once a sync has ended.

use crate::secrets::TokenPlace;
use crate::store::{Store, StoreError};
use crate::sync::{Progress, SyncConfig, SyncError};

/// What a sync saves once it has succeeded or a page has committed, so a
/// plain sync resumes from there. The dashboard saves its backend first
/// and passes [`Keep::default`]; the CLI saves what the user just gave.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keep<'a> {
    /// Save the config's URL as the backend.
    pub url: bool,
    /// Save this token.
    pub token: Option<&'a str>,
}

/// A sync that ended well.
#[derive(Debug, Clone)]
pub struct Synced {
    /// What this sync pulled.
    pub progress: Progress,
    /// Events pulled from this backend over all syncs.
    pub events_pulled: i64,
    /// Where the kept token went, when [`Keep::token`] was given.
    pub token_place: Option<TokenPlace>,
}

/// A sync that failed, or whose source could not be kept.
#[derive(Debug)]
pub enum SyncFailed {
    /// The sync failed; pages committed before it stay.
    Sync {
        /// The sync's error: the one to show.
        error: SyncError,
        /// What keeping the source did: where the token went, or why
        /// saving failed as well (a full disk fails both).
        kept: Result<Option<TokenPlace>, StoreError>,
    },
    /// The sync succeeded but its source could not be saved.
    Keep(StoreError),
}

/// Syncs `store` from `config`'s backend. `progress` is called after each
/// page and stops the sync when it returns false. Once a page has committed
/// (even if a later one failed), what `keep` names is saved.
pub fn sync(
    store: &mut Store,
    config: &SyncConfig,
    keep: Keep<'_>,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Synced, Box<SyncFailed>> {
    let done = crate::sync::sync(store, config, progress);
    let kept = keep_source(store, &config.url, keep, done.is_ok());
    match (done, kept) {
        (Ok(progress), Ok(token_place)) => Ok(Synced {
            progress,
            events_pulled: store
                .sync_source(&config.url)
                .map(|s| s.events_pulled)
                .unwrap_or_default(),
            token_place,
        }),
        (Ok(_), Err(e)) => Err(Box::new(SyncFailed::Keep(e))),
        (Err(error), kept) => Err(Box::new(SyncFailed::Sync { error, kept })),
    }
}

/// Saves what `keep` names if the sync succeeded or a page committed.
fn keep_source(
    store: &mut Store,
    url: &str,
    keep: Keep<'_>,
    succeeded: bool,
) -> Result<Option<TokenPlace>, StoreError> {
    let nothing_to_keep = !keep.url && keep.token.is_none();
    if nothing_to_keep || !(succeeded || store.sync_source(url)?.cursor.is_some()) {
        return Ok(None);
    }
    if keep.url {
        store.set_backend_url(url)?;
    }
    keep.token.map(|t| store.set_backend_token(t)).transpose()
}
