//! What `refboard sync` keeps once a sync has ended, and which error it shows.

use super::output::{cell, errln, full};
use crate::ops::sync::{SyncFailed, Synced};
use crate::secrets::TokenPlace;
use crate::sync::Progress;

/// How `refboard sync` ended, as [`crate::ops::sync::sync`] reports it:
/// where a kept token went is a note, and the sync's own error comes first;
/// when keeping the source failed too (a full disk fails both), that is a
/// note.
pub(super) fn sync_end(done: Result<Synced, Box<SyncFailed>>) -> anyhow::Result<Progress> {
    match done.map_err(|f| *f) {
        Ok(synced) => {
            place_note(synced.token_place.as_ref());
            Ok(synced.progress)
        }
        Err(SyncFailed::Keep(e)) => Err(e.into()),
        Err(SyncFailed::Sync { error, kept }) => {
            match kept {
                Ok(place) => place_note(place.as_ref()),
                Err(also) => errln!(
                    "note: the backend and token were not saved either: {}",
                    full(&format!("{:#}", anyhow::Error::new(also)))
                ),
            }
            Err(error.into())
        }
    }
}

/// Says where a saved token went when it is not the keyring.
fn place_note(place: Option<&TokenPlace>) {
    if let Some(notice) = place.and_then(TokenPlace::notice) {
        errln!("note: {}", cell(&notice));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Platform, ReferralEvent};
    use crate::ops::sync::{Keep, sync};
    use crate::relay::{RelayConfig, start};
    use crate::store::Store;
    use crate::sync::{RetryPolicy, SyncConfig};

    fn events(n: usize) -> Vec<ReferralEvent> {
        let now = chrono::Utc::now().timestamp_millis() - 60_000;
        (0..n)
            .map(|i| ReferralEvent {
                event_id: format!("{i:032x}"),
                platform: Platform::Messenger,
                page_id: "104729178032417".into(),
                sender: format!("{:032x}", i * 7919),
                timestamp_ms: now + i as i64,
                kind: Kind::New,
                ref_code: Some(format!("campaign-{i}-{}", "x".repeat(200))),
                source: Some("SHORTLINK".into()),
                ref_type: Some("OPEN_THREAD".into()),
                ad_id: None,
                ad_title: None,
                referer_uri: None,
                received_at_ms: now + i as i64,
            })
            .collect()
    }

    /// A disk that fills during a sync fails the database and the token file
    /// alike: the database's error is the one shown, the token's is a note.
    #[test]
    fn a_store_that_fills_during_sync_reports_the_store_error_not_the_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let relay_db = dir.path().join("relay.db");
        crate::relay::import_events(&relay_db, &events(2_000), &[]).unwrap();
        let relay = start(
            RelayConfig::new(relay_db, "secret", "verify", "token-disk-full"),
            "127.0.0.1:0".parse().unwrap(),
        )
        .unwrap();
        let db = dir.path().join("local.db");
        let mut store = Store::open(&db).unwrap();
        // The database may grow by a few pages only: it fills part-way.
        let pages: i64 = store
            .connection()
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .unwrap();
        store
            .connection()
            .pragma_update(None, "max_page_count", pages + 40)
            .unwrap();
        // And the token file cannot be written either (a non-empty folder
        // stands in its place, whether the keyring or the file is used).
        let token_path = crate::secrets::token_file(&db);
        std::fs::create_dir(&token_path).unwrap();
        std::fs::write(token_path.join("x"), b"x").unwrap();
        let mut config = SyncConfig::new(&relay.url(), "token-disk-full");
        config.page_size = 20;
        config.retry = RetryPolicy {
            max_attempts: 2,
            base_delay_ms: 10,
            max_delay_ms: 100,
        };
        let keep = Keep {
            url: true,
            token: Some("token-disk-full"),
        };
        let done = sync(&mut store, &config, keep, &mut |_| true);
        assert!(
            store.sync_source(&config.url).unwrap().cursor.is_some(),
            "some pages committed before the store filled: {done:?}"
        );
        let err = sync_end(done).expect_err("the sync failed");
        let shown = super::super::one_line(&err);
        assert!(
            shown.contains("database or disk is full"),
            "the store's error is shown: {shown}"
        );
        assert_eq!(
            super::super::exit_code(&err),
            1,
            "a full disk is the world's failure"
        );
        let last_error = store.sync_source(&config.url).unwrap().last_error;
        assert!(
            last_error
                .as_deref()
                .is_some_and(|e| e.contains("database or disk is full")),
            "{last_error:?}"
        );
    }
}
