//! The dashboard's background work, on two lanes: a short lane for loads,
//! saves and stats ([`ShortCommand`]), and a long lane for sync, import,
//! bulk export and the connection test ([`LongCommand`]). The command's type
//! decides its lane. Each lane is a thread with its own store connection, so
//! a sync that is retrying never holds up a Save. Lanes send back [`Event`]s
//! and wake the UI.
//!
//! A failure is reported in one place per lane, as a [`Failure`] that keeps
//! the user's mistakes apart from the world's and refboard's own. A panic
//! inside one command is caught at the command boundary and reported as an
//! internal error; the lane goes on. A lane that cannot start (the database
//! cannot be opened) reports [`Event::Stopped`] with its reason.
//!
//! One long job of each kind runs at a time: the handle refuses a second
//! sync, import or export while one is queued or running.
//!
//! The UI thread never touches SQLite, the network or the file system; long
//! jobs report progress and stop when the shared cancel flag is set.

pub mod hints;
mod long;
mod protocol;
mod short;
pub mod wording;

pub use protocol::{
    Command, Event, Failure, Job, LongCommand, SheetPreview, ShortCommand, Snapshot,
};

use crate::store::Store;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

/// Per job, whether one is queued or running on the long lane.
type JobFlags = [AtomicBool; 3];

/// The UI's end of the worker: one sender per lane and the shared event queue.
pub struct WorkerHandle {
    lanes: Lanes,
    rx: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    /// `None` for a [`detached`] handle, which has no lane to clear them.
    busy: Option<Arc<JobFlags>>,
}

/// Where commands go: the two lanes, or one queue for a [`detached`] handle.
enum Lanes {
    Threads {
        short: Sender<ShortCommand>,
        long: Sender<LongCommand>,
    },
    Detached(Sender<Command>),
}

/// Why a command was not handed to its lane.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The lane's thread has ended.
    #[error("the background worker has stopped")]
    Gone,
    /// A long job of this kind is already queued or running.
    #[error("{}", wording::busy(*.0))]
    Busy(Job),
}

impl WorkerHandle {
    /// Hands a command to its lane; refuses a second long job of a kind
    /// already queued or running, and says when the lane has stopped.
    pub fn send(&self, command: impl Into<Command>) -> Result<(), SendError> {
        match (&self.lanes, command.into()) {
            (Lanes::Detached(tx), c) => tx.send(c).map_err(|_| SendError::Gone),
            (Lanes::Threads { short, .. }, Command::Short(c)) => {
                short.send(c).map_err(|_| SendError::Gone)
            }
            (Lanes::Threads { long, .. }, Command::Long(c)) => {
                let claimed = match (&self.busy, c.job()) {
                    (Some(busy), Some(job)) => {
                        if busy[job.index()].swap(true, Ordering::SeqCst) {
                            return Err(SendError::Busy(job));
                        }
                        Some(&busy[job.index()])
                    }
                    _ => None,
                };
                long.send(c).map_err(|_| {
                    if let Some(flag) = claimed {
                        flag.store(false, Ordering::SeqCst);
                    }
                    SendError::Gone
                })
            }
        }
    }

    /// Asks the running long job to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// The next queued event without blocking; the rest stay queued.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        self.rx.try_recv()
    }

    /// Waits for the next event (tests).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }
}

/// The far end of a [`detached`] handle: events to feed the UI, and the
/// commands it sent (both lanes, in order).
pub struct WorkerPeer {
    /// Events as a lane would send them.
    pub events: Sender<Event>,
    /// Commands the UI sent.
    pub commands: Receiver<Command>,
}

/// A handle with no threads behind it, for tests and benchmarks that drive
/// the UI with events of their own. It refuses no job as busy.
pub fn detached() -> (WorkerHandle, WorkerPeer) {
    let (tx, commands) = channel::<Command>();
    let (events, rx) = channel::<Event>();
    let handle = WorkerHandle {
        lanes: Lanes::Detached(tx),
        rx,
        cancel: Arc::new(AtomicBool::new(false)),
        busy: None,
    };
    (handle, WorkerPeer { events, commands })
}

/// Starts both lanes on `db`. `wake` is called after each event (the UI
/// passes `ctx.request_repaint`).
pub fn spawn(db: PathBuf, wake: impl Fn() + Send + Sync + 'static) -> WorkerHandle {
    let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(wake);
    let (events, rx) = channel::<Event>();
    let out = Out { events, wake };
    let cancel = Arc::new(AtomicBool::new(false));
    let busy: Arc<JobFlags> = Arc::new(Default::default());
    let short = start_lane("refboard-short", &out, {
        let db = db.clone();
        move |commands: Receiver<ShortCommand>, out: Out| run_short(&db, &commands, &out)
    });
    let long = start_lane("refboard-long", &out, {
        let (cancel, busy) = (cancel.clone(), busy.clone());
        move |commands: Receiver<LongCommand>, out: Out| {
            run_long(&db, &commands, &out, &cancel, &busy);
        }
    });
    WorkerHandle {
        lanes: Lanes::Threads { short, long },
        rx,
        cancel,
        busy: Some(busy),
    }
}

/// Starts a lane's thread running `run`; says so when it cannot start.
fn start_lane<C: Send + 'static>(
    name: &str,
    out: &Out,
    run: impl FnOnce(Receiver<C>, Out) + Send + 'static,
) -> Sender<C> {
    let (tx, commands) = channel::<C>();
    let lane_out = out.clone();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || run(commands, lane_out));
    if let Err(e) = spawned {
        out.send(Event::Stopped(wording::cannot_start(&e.to_string())));
    }
    tx
}

/// Opens the lane's own connection, or reports why the lane stops.
fn open_store(db: &std::path::Path, out: &Out) -> Option<Store> {
    match Store::open(db) {
        Ok(s) => Some(s),
        Err(e) => {
            out.send(Event::Stopped(wording::cannot_open(
                db,
                &hints::error_text(&e),
            )));
            None
        }
    }
}

/// Says what opening the store said. Both lanes open at once and only the
/// one that migrated has notices, so each lane passes on its own.
fn open_notices(store: &Store, out: &Out) {
    for notice in store.open_notices() {
        out.send(Event::Notice(notice.clone()));
    }
}

/// The short lane's loop: one command at a time, each behind a panic
/// boundary, its failure reported here.
fn run_short(db: &std::path::Path, commands: &Receiver<ShortCommand>, out: &Out) {
    let Some(mut store) = open_store(db, out) else {
        return;
    };
    open_notices(&store, out);
    let mut state = short::State::default();
    for command in commands {
        let doing = wording::short_doing(&command);
        let ran = catch_unwind(AssertUnwindSafe(|| {
            short::handle(&mut store, &mut state, command, out)
        }));
        match ran {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => out.send(Event::Error(failure)),
            Err(panic) => out.send(Event::Error(panicked(doing, panic.as_ref()))),
        }
    }
}

/// The long lane's loop: like the short one, and it clears the job's busy
/// flag when the job ends, however it ends.
fn run_long(
    db: &std::path::Path,
    commands: &Receiver<LongCommand>,
    out: &Out,
    cancel: &AtomicBool,
    busy: &JobFlags,
) {
    let Some(mut store) = open_store(db, out) else {
        return;
    };
    open_notices(&store, out);
    for command in commands {
        cancel.store(false, Ordering::SeqCst);
        let doing = wording::long_doing(&command);
        let job = command.job();
        let ran = catch_unwind(AssertUnwindSafe(|| {
            long::handle(&mut store, command, out, cancel)
        }));
        if let Some(job) = job {
            busy[job.index()].store(false, Ordering::SeqCst);
        }
        let ending = ran.unwrap_or_else(|panic| {
            let failure = panicked(doing, panic.as_ref());
            vec![match job {
                Some(job) => Event::JobDone(job, Err(failure)),
                None => Event::Error(failure),
            }]
        });
        for event in ending {
            out.send(event);
        }
    }
}

/// A caught panic as an internal failure, logged.
fn panicked(doing: &str, panic: &(dyn std::any::Any + Send)) -> Failure {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(doing, why, "command panicked");
    Failure::Internal(wording::panicked(doing, &why))
}

/// Where a lane sends its events, and how it wakes the UI.
#[derive(Clone)]
struct Out {
    events: Sender<Event>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Out {
    fn send(&self, e: Event) {
        let _ = self.events.send(e);
        (self.wake)();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::StatsQuery;
    use std::time::Duration;

    fn next(handle: &WorkerHandle, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match handle.recv_timeout(left) {
                Some(e) if want(&e) => return e,
                // A stopped lane will never answer: say why at once.
                Some(Event::Stopped(why)) => {
                    panic!("a lane stopped while waiting for {what}: {why}")
                }
                Some(e) => seen.push(format!("{e:?}").chars().take(120).collect::<String>()),
                None => panic!("no {what} within 30 s; other events: {seen:?}"),
            }
        }
    }

    /// A database already created, so the two lanes do not race to migrate
    /// a new file in the test (a test of that race would name it).
    fn migrated(dir: &std::path::Path) -> PathBuf {
        let db = dir.join("w.db");
        drop(Store::open(&db).unwrap());
        db
    }

    #[test]
    fn a_panicking_command_is_reported_and_the_lane_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let handle = spawn(migrated(dir.path()), || {});
        handle.send(ShortCommand::Panic).unwrap();
        let e = next(&handle, "internal error", |e| matches!(e, Event::Error(_)));
        let Event::Error(Failure::Internal(text)) = e else {
            panic!("not an internal failure: {e:?}")
        };
        assert!(
            text.contains("Internal error while the test panic"),
            "{text}"
        );
        assert!(text.contains("a test panic"), "{text}");
        // The same lane still answers.
        handle.send(ShortCommand::Load { page: None }).unwrap();
        next(&handle, "a snapshot after the panic", |e| {
            matches!(e, Event::Loaded(_))
        });
    }

    #[test]
    fn stats_come_first_without_people_then_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut store = Store::open(&db).unwrap();
        let event = |i: i64, who: &str| crate::model::ReferralEvent {
            event_id: format!("e{i}"),
            platform: crate::model::Platform::Messenger,
            page_id: "1".into(),
            sender: who.into(),
            timestamp_ms: 1_780_000_000_000 + i * 60_000,
            kind: crate::model::Kind::New,
            ref_code: Some("spring".into()),
            source: None,
            ref_type: None,
            ad_id: None,
            ad_title: None,
            referer_uri: None,
            received_at_ms: 1_780_000_000_000,
        };
        store
            .ingest(&[event(1, "a"), event(2, "b"), event(3, "a")], None)
            .unwrap();
        drop(store);
        let handle = spawn(db, || {});
        let q = StatsQuery::new(crate::stats::GroupBy::Ref, chrono_tz::UTC);
        handle.send(ShortCommand::Stats(q)).unwrap();
        let is_stats = |e: &Event| matches!(e, Event::Stats(_));
        let Event::Stats(first) = next(&handle, "the rollup report", is_stats) else {
            unreachable!()
        };
        assert!(!first.unique_people_counted);
        assert_eq!(first.totals.referrals, 3);
        let Event::Stats(second) = next(&handle, "the report with people", is_stats) else {
            unreachable!()
        };
        assert!(second.unique_people_counted);
        assert_eq!(second.totals.referrals, 3);
        assert_eq!(second.totals.unique_people, 2);
        assert_eq!(second.groups[0].unique_people, 2);
    }

    #[test]
    fn a_lane_that_cannot_open_the_database_says_so() {
        let dir = tempfile::tempdir().unwrap();
        // A folder is not a database file.
        let handle = spawn(dir.path().to_path_buf(), || {});
        let e = next(&handle, "a stop", |e| matches!(e, Event::Stopped(_)));
        let Event::Stopped(why) = e else {
            unreachable!()
        };
        assert!(why.contains("cannot open the database"), "{why}");
    }

    #[test]
    fn a_second_long_job_of_a_kind_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let handle = spawn(migrated(dir.path()), || {});
        // A backend that accepts but never answers keeps the first sync
        // running until its (short) timeout.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = crate::sync::SyncConfig::new(&url, "t0ken-for-the-test");
        config.timeout_secs = 2;
        config.retry.max_attempts = 1;
        handle.send(LongCommand::Sync(config.clone())).unwrap();
        // Refused at once: the flag is set when the first is handed over.
        assert_eq!(
            handle.send(LongCommand::Sync(config.clone())),
            Err(SendError::Busy(Job::Sync))
        );
        assert!(
            SendError::Busy(Job::Sync)
                .to_string()
                .contains("A sync is already running")
        );
        // The short lane is not held up meanwhile.
        handle.send(ShortCommand::Load { page: None }).unwrap();
        next(&handle, "a snapshot during the sync", |e| {
            matches!(e, Event::Loaded(_))
        });
        // Once the sync has ended, a new one is taken.
        next(&handle, "the end of the sync", |e| {
            matches!(e, Event::JobDone(Job::Sync, Err(_)))
        });
        handle.send(LongCommand::Sync(config)).unwrap();
        drop(listener);
    }

    #[test]
    fn failures_keep_the_users_mistakes_apart_from_the_worlds() {
        let dir = tempfile::tempdir().unwrap();
        let handle = spawn(migrated(dir.path()), || {});
        // A link that does not exist is the user's to correct.
        handle
            .send(ShortCommand::AddAlias(
                crate::model::LinkId(4242),
                "spring".into(),
            ))
            .unwrap();
        let e = next(&handle, "an error", |e| matches!(e, Event::Error(_)));
        assert!(matches!(e, Event::Error(Failure::User(_))), "{e:?}");
        // A folder that does not exist is the world's.
        // /proc takes no new files, even from root.
        let path = PathBuf::from("/proc/refboard-test.csv");
        handle
            .send(ShortCommand::WriteFile(path, b"x".to_vec()))
            .unwrap();
        let e = next(&handle, "an error", |e| matches!(e, Event::Error(_)));
        assert!(matches!(e, Event::Error(Failure::World(_))), "{e:?}");
    }

    #[test]
    fn an_import_goes_on_past_a_file_it_cannot_read_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let good = dir.path().join("good.ndjson");
        let ts = chrono::Utc::now().timestamp_millis() - 60_000;
        let body = |sender: &str| {
            serde_json::json!({"object":"page","entry":[{"id":"1","time":ts,"messaging":[
                {"sender":{"id":sender},"recipient":{"id":"1"},"timestamp":ts,
                 "referral":{"ref":"spring","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]})
            .to_string()
        };
        std::fs::write(&good, format!("{}\n{}\n", body("a"), body("b"))).unwrap();
        let missing = dir.path().join("missing.ndjson");
        let handle = spawn(db, || {});
        handle
            .send(LongCommand::Import(vec![missing, good]))
            .unwrap();
        let e = next(&handle, "the end of the import", |e| {
            matches!(e, Event::JobDone(Job::Import, _))
        });
        let Event::JobDone(_, Err(Failure::World(text))) = e else {
            panic!("not a world failure: {e:?}")
        };
        assert!(text.contains("Imported 2 referral(s), 2 new"), "{text}");
        assert!(text.contains("1 of 2 file(s)"), "{text}");
        assert!(text.contains("missing.ndjson"), "{text}");
        handle.send(ShortCommand::Load { page: None }).unwrap();
        let Event::Loaded(snap) = next(&handle, "a snapshot", |e| matches!(e, Event::Loaded(_)))
        else {
            unreachable!()
        };
        assert_eq!(snap.events_total, 2, "the readable file was imported");
    }

    #[test]
    fn renaming_a_link_warns_after_saving_as_the_cli_does() {
        use crate::model::{ChannelKind, NewCampaign, NewLink, NewPage};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut store = Store::open(&db).unwrap();
        let page = store
            .add_page(&NewPage::parse("JaspersMarket", None, None).unwrap())
            .unwrap();
        let campaign = store
            .add_campaign(
                page.id,
                &NewCampaign::parse("Spring", None, None, None).unwrap(),
            )
            .unwrap();
        let channel = store
            .add_channel(page.id, "Flyer", ChannelKind::Flyer)
            .unwrap();
        let new = |r: &str| NewLink::parse(r, None, None, None).unwrap().0;
        let (row, _) = store
            .add_link(page.id, campaign.id, channel.id, &new("spring"))
            .unwrap();
        drop(store);
        let handle = spawn(db, || {});
        handle
            .send(ShortCommand::UpdateLink(
                crate::model::LinkId(row.link.id),
                crate::model::CampaignId(campaign.id),
                crate::model::ChannelId(channel.id),
                new("spring2"),
            ))
            .unwrap();
        let Event::Warnings(ws) = next(&handle, "warnings", |e| matches!(e, Event::Warnings(_)))
        else {
            unreachable!()
        };
        assert_eq!(ws.len(), 1, "{ws:?}");
        assert_eq!(ws[0].field, "ref");
        assert!(ws[0].message.contains("\"spring\""), "{}", ws[0].message);
        next(&handle, "the saved link", |e| {
            matches!(e, Event::LinkSaved(_))
        });
    }

    #[test]
    fn a_snapshot_never_prints_its_token() {
        let snap = Snapshot {
            backend_token: "s3cret-token-value".into(),
            ..Snapshot::default()
        };
        let shown = format!("{snap:?}");
        assert!(!shown.contains("s3cret-token-value"), "{shown}");
        assert!(shown.contains("backend_token_set: true"), "{shown}");
    }
}
