//! The local side under hostile input (issue #11): refs from strangers in
//! every CSV and terminal line, locks that wait, secrets at rest, and
//! streaming import. Real binaries, real SQLite files, a real relay.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Refs a stranger can put in `m.me/Page?ref=…` that a spreadsheet would run.
const FORMULA_REFS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "@SUM(1)",
    "+A1",
    "-2+3",
    "\tTAB",
    "\rCR",
];

/// Refs that act on a terminal: ESC sequences, NUL, CR, right-to-left override.
const TERMINAL_REFS: [&str; 4] = [
    "\u{1b}[31mred\u{1b}[0m",
    "nul\0byte",
    "over\rwrite",
    "gpj\u{202E}.exe",
];

use common::cli::Env;

/// Imports one messaging_referral body per ref, each from its own sender.
fn import_refs(env: &Env, refs: &[&str]) {
    let mut ndjson = String::new();
    for (i, r) in refs.iter().enumerate() {
        ndjson.push_str(&body(
            r,
            "SHORTLINK",
            &format!("7000{i}"),
            1_764_201_600_000,
        ));
        ndjson.push('\n');
    }
    std::fs::write(env.path("refs.ndjson"), ndjson).unwrap();
    env.ok(&["import", "refs.ndjson"]);
}

/// A webhook body (one messaging_referral) with this ref and source.
fn body(ref_code: &str, source: &str, sender: &str, ts_ms: i64) -> String {
    serde_json::json!({
        "object": "page",
        "entry": [{
            "id": "104729178032417",
            "time": ts_ms,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": "104729178032417"},
                "timestamp": ts_ms,
                "referral": {"ref": ref_code, "source": source, "type": "OPEN_THREAD"}
            }]
        }]
    })
    .to_string()
}

/// A formula ref as every CSV shows it: quoted, with its tab or CR as an
/// escape (see `csv_safe`).
fn csv_shown(r: &str) -> String {
    format!("'{}", r.replace('\t', "\\t").replace('\r', "\\r"))
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// No character in `text` can move the cursor, recolour or reorder a terminal.
fn assert_terminal_safe(text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || !(c.is_control() || is_bidi(c)),
            "raw {c:?} reached the terminal: {text:?}"
        );
    }
}

/// Bidi embeddings, overrides, isolates and marks.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[test]
fn stats_csv_neutralises_every_formula_prefix() {
    let env = Env::new();
    import_refs(&env, &FORMULA_REFS);
    let out = env
        .cmd()
        .args([
            "stats", "--tz", "UTC", "--by", "ref", "--every", "day", "--csv",
        ])
        .assert()
        .success();
    let rows = read_csv(&out.get_output().stdout);
    let keys: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for r in FORMULA_REFS {
        let safe = csv_shown(r);
        assert!(keys.contains(&safe.as_str()), "{safe:?} not in {keys:?}");
    }
    assert!(keys.iter().all(|k| k.starts_with('\'')), "{keys:?}");
}

#[test]
fn stats_json_keeps_refs_exact() {
    let env = Env::new();
    import_refs(&env, &FORMULA_REFS);
    import_refs(&env, &TERMINAL_REFS);
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--by", "ref", "--json"])).unwrap();
    let keys: Vec<&str> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    for r in FORMULA_REFS.iter().chain(&TERMINAL_REFS) {
        assert!(keys.contains(r), "{r:?} not exact in {keys:?}");
    }
}

#[test]
fn stats_text_shows_control_and_bidi_characters_as_escapes() {
    let env = Env::new();
    import_refs(&env, &TERMINAL_REFS);
    for by in ["ref", "link", "source"] {
        let text = env.ok(&["stats", "--tz", "UTC", "--by", by]);
        assert_terminal_safe(&text);
        if by != "source" {
            assert!(text.contains("gpj\\u{202E}.exe"), "{text}");
            assert!(text.contains("\\u{001B}[31mred"), "{text}");
            assert!(text.contains("nul\\0byte"), "{text}");
            assert!(text.contains("over\\rwrite"), "{text}");
        }
    }
}

#[test]
fn stats_text_shows_hostile_sources_as_escapes() {
    let env = Env::new();
    let ndjson = body(
        "ok",
        "ADS\u{1b}]0;pwned\u{7}\u{202E}",
        "1",
        1_764_201_600_000,
    );
    std::fs::write(env.path("b.ndjson"), ndjson).unwrap();
    env.ok(&["import", "b.ndjson"]);
    let text = env.ok(&["stats", "--tz", "UTC", "--by", "source"]);
    assert_terminal_safe(&text);
    assert!(
        text.contains("ADS\\u{001B}]0;pwned\\u{0007}\\u{202E}"),
        "{text}"
    );
}

#[test]
fn links_csv_neutralises_formula_cells() {
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "JaspersMarket",
        "--page-id",
        "104729178032417",
    ]);
    env.ok(&["channel", "add", "Flyer", "--kind", "flyer"]);
    env.ok(&["campaign", "add", "--", "-2+3"]);
    let cta = "=HYPERLINK(\"http://evil.example\",\"click\")";
    env.ok(&[
        "link",
        "add",
        "--campaign=-2+3",
        "--channel",
        "Flyer",
        "--ref=-2=3",
        &format!("--cta={cta}"),
    ]);
    env.ok(&[
        "link",
        "add",
        "--campaign=-2+3",
        "--channel",
        "Flyer",
        "--ref==A1",
    ]);
    env.ok(&[
        "export",
        "--campaign=-2+3",
        "--dir",
        "out",
        "--format",
        "png",
    ]);
    let rows = read_csv(&std::fs::read(env.path("out/links.csv")).unwrap());
    assert_eq!(
        rows[0],
        [
            "campaign", "channel", "ref", "url", "cta", "files", "verified"
        ]
    );
    for row in &rows[1..] {
        assert_eq!(row[0], "'-2+3", "{row:?}");
        assert!(row[2] == "'-2=3" || row[2] == "'=A1", "{row:?}");
        assert!(row[4].is_empty() || row[4] == format!("'{cta}"), "{row:?}");
    }
}

#[test]
fn gui_csv_export_neutralises_formula_cells() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ui.db");
    {
        let mut store = refboard::store::Store::open(&db).unwrap();
        store
            .add_page(
                &refboard::model::NewPage::parse("JaspersMarket", None, Some("104729178032417"))
                    .unwrap(),
            )
            .unwrap();
        let events: Vec<refboard::model::ReferralEvent> = FORMULA_REFS
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let b = body("ok", s, &format!("9{i}"), 1_764_201_600_000 + i as i64);
                refboard::messenger::parse_webhook(b.as_bytes())
                    .unwrap()
                    .into_iter()
                    .map(|r| r.into_event(b"k", 0))
                    .collect::<Vec<_>>()
            })
            .collect();
        store.ingest(&events, None).unwrap();
    }
    let state = refboard::ui::UiState {
        tab: refboard::ui::Tab::Analytics,
        range: refboard::ui::Range::All,
        by: refboard::stats::GroupBy::Source,
        ..refboard::ui::UiState::default()
    };
    let db2 = db.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| refboard::ui::App::new(&cc.egui_ctx, db2, state));
    let out = dir.path().join("table.csv");
    wait(&mut h, "the report", |a| {
        a.report
            .as_ref()
            .is_some_and(|r| r.groups.len() == FORMULA_REFS.len())
    });
    // The chart is half the window tall: the export row is below the fold.
    h.get_by_label("CSV file").scroll_to_me();
    h.run_steps(3);
    h.get_by_label("CSV file").focus();
    h.run_steps(3);
    h.get_by_label("CSV file").type_text(out.to_str().unwrap());
    h.run_steps(3);
    h.get_by_label("Export CSV").click();
    wait(&mut h, "the CSV file", |_| out.exists());
    let rows = read_csv(&std::fs::read(&out).unwrap());
    // Columns named by what they group, and every row says its range and zone.
    assert_eq!(
        rows[0],
        [
            "Source",
            "Referrals",
            "Unique people",
            "New",
            "Returning",
            "From",
            "To",
            "Time zone"
        ]
    );
    let report = h.state().report.clone().unwrap();
    let range = [
        report.from.unwrap().to_string(),
        report.to.unwrap().to_string(),
        report.tz,
    ];
    for row in &rows[1..] {
        assert_eq!(row[row.len() - 3..], range, "{row:?}");
    }
    let keys: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for s in FORMULA_REFS {
        let safe = csv_shown(s);
        assert!(keys.contains(&safe.as_str()), "{safe:?} not in {keys:?}");
    }
}

fn wait(
    h: &mut egui_kittest::Harness<'static, refboard::ui::App>,
    what: &str,
    done: impl Fn(&refboard::ui::App) -> bool,
) {
    let start = Instant::now();
    loop {
        h.run_steps(3);
        if done(h.state()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------- locks

const API_TOKEN: &str = "hostile-test-api-token-5b1e";

/// A real relay on a random port whose database holds `n` events, written
/// straight into its events table so that big syncs are cheap to set up.
fn relay_with_events(dir: &Path, n: usize) -> refboard::relay::RelayHandle {
    let data = dir.join("relay.db");
    let relay = refboard::relay::start(
        refboard::relay::RelayConfig {
            data: data.clone(),
            app_secret: common::FIXTURE_APP_SECRET.into(),
            verify_token: "v".into(),
            api_token: API_TOKEN.into(),
            forward: None,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let mut conn = rusqlite::Connection::open(&data).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO events (event_id, json) VALUES (?1, ?2)")
            .unwrap();
        let start_ms = 1_764_201_600_000i64;
        for i in 0..n {
            let e = refboard::model::ReferralEvent {
                event_id: format!("{:016x}-{i:08}", start_ms + i as i64),
                platform: refboard::model::Platform::Messenger,
                page_id: "104729178032417".into(),
                sender: format!("{:064x}", i % 5000),
                timestamp_ms: start_ms + (i as i64) * 7_000,
                kind: if i % 3 == 0 {
                    refboard::model::Kind::Returning
                } else {
                    refboard::model::Kind::New
                },
                ref_code: Some(format!("ref{}", i % 400)),
                source: Some("SHORTLINK".into()),
                ref_type: Some("OPEN_THREAD".into()),
                ad_id: None,
                ad_title: None,
                referer_uri: None,
                received_at_ms: start_ms + (i as i64) * 7_000,
            };
            stmt.execute(rusqlite::params![
                e.event_id,
                serde_json::to_string(&e).unwrap()
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    relay
}

/// Events pulled so far by the sync of `url`, read without taking a write lock.
fn events_pulled(db: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(
        "SELECT coalesce(sum(events_pulled), 0) FROM sync_sources",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

fn sync_cmd(env: &Env, relay: &refboard::relay::RelayHandle) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"));
    c.env_remove("REFBOARD_DB")
        .env("REFBOARD_SECRET_STORE", "file")
        .arg("--db")
        .arg(&env.db)
        .args(["sync", "--backend", &relay.url(), "--token", API_TOKEN])
        .current_dir(env.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

#[test]
fn fifteen_writes_during_a_large_sync_all_succeed() {
    const EVENTS: usize = 80_000;
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "JaspersMarket",
        "--page-id",
        "104729178032417",
    ]);
    env.ok(&["channel", "add", "Flyer", "--kind", "flyer"]);
    env.ok(&["campaign", "add", "Spring"]);
    let relay = relay_with_events(env.dir.path(), EVENTS);
    let mut sync = sync_cmd(&env, &relay).spawn().unwrap();
    // Start the writers once the sync is committing pages.
    let start = Instant::now();
    while events_pulled(&env.db) == 0 {
        if sync.try_wait().unwrap().is_some() {
            let out = sync.wait_with_output().unwrap();
            panic!(
                "the sync ended before it pulled anything: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sync never committed a page"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let writers: Vec<_> = (0..15)
        .map(|i| {
            let args: Vec<String> = if i % 2 == 0 {
                [
                    "link",
                    "add",
                    "--campaign",
                    "Spring",
                    "--channel",
                    "Flyer",
                    "--ref",
                ]
                .iter()
                .map(|s| s.to_string())
                .chain([format!("during_sync_{i}")])
                .collect()
            } else {
                vec!["campaign".into(), "add".into(), format!("During sync {i}")]
            };
            let mut c = env.cmd();
            c.env("REFBOARD_SECRET_STORE", "file").args(&args);
            std::thread::spawn(move || c.output().unwrap())
        })
        .collect();
    assert!(
        sync.try_wait().unwrap().is_none(),
        "the sync finished before the writers started; the test proves nothing"
    );
    let mut failures = Vec::new();
    for (i, w) in writers.into_iter().enumerate() {
        let out = w.join().unwrap();
        if !out.status.success() {
            failures.push(format!(
                "writer {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let out = sync.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(failures.is_empty(), "{failures:#?}");
    let store = refboard::store::Store::open(&env.db).unwrap();
    assert_eq!(store.event_count().unwrap(), EVENTS as i64);
    assert_eq!(events_pulled(&env.db), EVENTS as i64);
    let links = store
        .links(&refboard::store::LinkFilter::default())
        .unwrap();
    assert_eq!(links.len(), 8);
    relay.stop().unwrap();
}

#[test]
fn two_syncs_at_once_on_a_new_file_both_succeed_with_exact_totals() {
    const EVENTS: usize = 12_000;
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(dir.path(), EVENTS);
    for round in 0..4 {
        let env = Env::new();
        let a = sync_cmd(&env, &relay).spawn().unwrap();
        let b = sync_cmd(&env, &relay).spawn().unwrap();
        for (name, child) in [("first", a), ("second", b)] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: the {name} sync failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let store = refboard::store::Store::open(&env.db).unwrap();
        assert_eq!(store.event_count().unwrap(), EVENTS as i64, "round {round}");
        assert_eq!(
            events_pulled(&env.db),
            EVENTS as i64,
            "round {round}: events_pulled"
        );
    }
    relay.stop().unwrap();
}

// ---------------------------------------------------------------- secrets at rest

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The file and its -wal and -shm companions, those that exist.
fn with_companions(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

#[cfg(unix)]
#[test]
fn the_local_database_and_its_wal_and_shm_are_created_0600() {
    let env = Env::new();
    let mut store = refboard::store::Store::open(&env.db).unwrap();
    store.set_setting("probe", "x").unwrap();
    let files = with_companions(&env.db);
    assert_eq!(files.len(), 3, "{files:?}");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[cfg(unix)]
#[test]
fn the_relay_database_and_its_wal_and_shm_are_created_0600() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(dir.path(), 10);
    // The relay opens its storage on its own thread after `start` returns;
    // once /healthz counts the 10 events, its connections hold the WAL open
    // (the test's own connection is closed by then).
    let health = format!("http://{}/healthz", relay.addr);
    let counted = (0..200).any(|_| {
        let body = reqwest::blocking::get(&health).and_then(|r| r.text());
        if body.is_ok_and(|b| b.contains("\"events\":10")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
        false
    });
    assert!(counted, "the relay never counted its 10 events");
    let files = with_companions(&dir.path().join("relay.db"));
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    relay.stop().unwrap();
}

#[cfg(unix)]
#[test]
fn an_existing_world_readable_database_is_tightened_to_0600() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    drop(refboard::store::Store::open(&env.db).unwrap());
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(refboard::store::Store::open(&env.db).unwrap());
    assert_eq!(mode(&env.db), 0o600);
}

fn assert_no_token_in_database(db: &Path, token: &str) {
    for f in with_companions(db) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is in {}",
            f.display()
        );
    }
}

#[test]
fn the_api_token_never_reaches_the_database_file() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(dir.path(), 30);
    let out = sync_cmd(&env, &relay).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("no OS keyring").count(), 1, "{stderr}");
    assert_no_token_in_database(&env.db, API_TOKEN);
    #[cfg(unix)]
    {
        let file = PathBuf::from(format!("{}.token", env.db.display()));
        assert_eq!(mode(&file), 0o600);
    }
    // The saved token is used next time, and the notice is not repeated.
    let mut again = env.cmd();
    again.env("REFBOARD_SECRET_STORE", "file").arg("sync");
    let out = again.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("no OS keyring"));
    assert_no_token_in_database(&env.db, API_TOKEN);
    relay.stop().unwrap();
}

#[test]
fn a_token_left_in_settings_is_moved_out_of_the_database() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_with_events(dir.path(), 30);
    {
        // What older refboards wrote: the token in plain text in `settings`.
        drop(refboard::store::Store::open(&env.db).unwrap());
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ('backend_url', ?1), ('backend_token', ?2)",
            [relay.url(), API_TOKEN.to_string()],
        )
        .unwrap();
        // Older refboards stopped at schema version 7.
        conn.execute_batch("DROP TABLE conversion_events; DROP TABLE credit_people; DROP TABLE credit_names; DROP TABLE credit_keys; DROP TABLE credit_days;").unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
    }
    let mut c = env.cmd();
    c.env("REFBOARD_SECRET_STORE", "file").arg("sync");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_token_in_database(&env.db, API_TOKEN);
    relay.stop().unwrap();
}

// ---------------------------------------------------------------- streaming import

/// Peak resident memory of a child, from /proc, polled until it exits (Linux).
fn peak_rss_kib(mut child: std::process::Child) -> (std::process::ExitStatus, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn import_names_the_line_that_breaks_the_body_cap_and_keeps_the_rest() {
    let env = Env::new();
    let mut text = body("first", "SHORTLINK", "1", 1_764_201_600_000);
    text.push('\n');
    text.push_str(&"x".repeat(refboard::relay::MAX_BODY_BYTES + 10));
    text.push('\n');
    text.push_str(&body("third", "SHORTLINK", "3", 1_764_201_600_000));
    text.push('\n');
    std::fs::write(env.path("big.ndjson"), text).unwrap();
    let out = env.cmd().args(["import", "big.ndjson"]).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("big.ndjson:2"), "{stderr}");
    assert!(
        stderr.contains(&refboard::relay::MAX_BODY_BYTES.to_string()),
        "names the cap: {stderr}"
    );
    assert!(
        stderr.len() < 1000,
        "the long line is not echoed: {} bytes",
        stderr.len()
    );
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("Imported 2 referral(s)"), "{stdout}");
}

#[cfg(target_os = "linux")]
#[test]
fn import_of_100_mb_of_nul_bytes_keeps_memory_flat() {
    let env = Env::new();
    let path = env.path("nul.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
    }
    drop(refboard::store::Store::open(&env.db).unwrap());
    let child = env
        .std_cmd()
        .env("REFBOARD_SECRET_STORE", "file")
        .args(["import", path.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (status, peak_kib) = peak_rss_kib(child);
    assert!(status.success());
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB for 100 MB of input"
    );
}
