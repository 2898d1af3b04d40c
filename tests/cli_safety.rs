//! The CLI's smaller safety promises (issue #17 section 4): no raw control or
//! bidi character from a stranger reaches a terminal, a read-only database
//! stays read-only, errors name the real cause, no URL password reaches a
//! message, the API token can stay out of argv, and a multi-file import says
//! which files failed. Real binary, real SQLite files, a real relay.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::cli::Env;
use std::path::Path;

/// Refs that act on a terminal: an OSC title, a bell, a clear-screen, NUL,
/// CR, DEL, an 8-bit CSI (C1) and a right-to-left override.
const TERMINAL_REFS: [&str; 6] = [
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}[2J\u{1b}[Hclear",
    "nul\0byte",
    "over\rwrite",
    "del\u{7f}c1\u{9b}31m",
    "gpj\u{202E}.exe",
];

/// A webhook body (one messaging_referral) with this ref from this sender.
fn body(ref_code: &str, sender: &str) -> String {
    serde_json::json!({
        "object": "page",
        "entry": [{
            "id": "104729178032417",
            "time": 1_764_201_600_000i64,
            "messaging": [{
                "sender": {"id": sender},
                "recipient": {"id": "104729178032417"},
                "timestamp": 1_764_201_600_000i64,
                "referral": {"ref": ref_code, "source": "SHORTLINK", "type": "OPEN_THREAD"}
            }]
        }]
    })
    .to_string()
}

/// Imports one referral per ref, each from its own sender.
fn import_refs(env: &Env, refs: &[&str]) {
    let ndjson: String = refs
        .iter()
        .enumerate()
        .map(|(i, r)| body(r, &format!("7000{i}")) + "\n")
        .collect();
    std::fs::write(env.path("refs.ndjson"), ndjson).unwrap();
    env.ok(&["import", "refs.ndjson"]);
}

/// No character in `text` can move the cursor, recolour, retitle or
/// reorder a terminal: C0 (but the newline), DEL, C1 and bidi controls.
fn assert_terminal_safe(what: &str, text: &str) {
    for c in text.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
        assert!(
            c == '\n' || !(c.is_control() || bidi),
            "raw {c:?} reached the terminal from {what}: {text:?}"
        );
    }
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

// ---------------------------------------------------------------- item 1

#[test]
fn stats_csv_shows_control_and_bidi_characters_as_escapes() {
    let env = Env::new();
    import_refs(&env, &TERMINAL_REFS);
    let out = env
        .cmd()
        .args([
            "stats", "--tz", "UTC", "--by", "ref", "--every", "day", "--csv",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_terminal_safe("stats --csv", &stdout);
    let keys: Vec<String> = read_csv(stdout.as_bytes())[1..]
        .iter()
        .map(|r| r[0].clone())
        .collect();
    // The same escapes as the table: reversible by eye, backslashes doubled.
    for shown in [
        "\\u{001B}]0;pwned\\u{0007}",
        "\\u{001B}[2J\\u{001B}[Hclear",
        "nul\\0byte",
        "over\\rwrite",
        "del\\u{007F}c1\\u{009B}31m",
        "gpj\\u{202E}.exe",
    ] {
        assert!(keys.iter().any(|k| k == shown), "{shown:?} not in {keys:?}");
    }
}

#[test]
fn every_text_output_of_the_cli_is_terminal_safe() {
    let env = Env::new();
    import_refs(&env, &TERMINAL_REFS);
    let hostile = "\u{1b}]0;pwned\u{7}\u{202E}x";
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("stats table", vec!["stats", "--tz", "UTC", "--by", "ref"]),
        (
            "stats csv by source",
            vec!["stats", "--tz", "UTC", "--by", "source", "--csv"],
        ),
        ("link show error", vec!["link", "show", hostile]),
        ("page error", vec!["stats", "--page", hostile]),
        ("date error", vec!["stats", "--from", hostile]),
        (
            "backend error",
            vec!["sync", "--backend", hostile, "--token", "t"],
        ),
        ("import of a hostile file name", vec!["import", hostile]),
        ("a usage error quoting the argument", vec!["stats", hostile]),
        ("a bad value for a flag", vec!["stats", "--by", hostile]),
    ];
    for (what, args) in runs {
        let out = env.cmd().args(&args).output().unwrap();
        assert_terminal_safe(what, &String::from_utf8_lossy(&out.stdout));
        assert_terminal_safe(what, &String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn the_relay_log_shows_a_hostile_refused_value_as_escapes() {
    use std::io::Read;
    let env = Env::new();
    let port = common::relay::free_port();
    let mut child = env
        .std_cmd()
        .args(["relay", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(env.path("relay.db"))
        .env("REFBOARD_APP_SECRET", common::FIXTURE_APP_SECRET)
        .env("REFBOARD_VERIFY_TOKEN", "v")
        .env("REFBOARD_API_TOKEN", API_TOKEN)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !client
        .get(format!("{url}/healthz"))
        .send()
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay never came up"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A referral whose timestamp cannot be read: refused, and logged with its value.
    let body = serde_json::json!({"object": "page", "entry": [{"id": "1", "messaging": [
        {"sender": {"id": "9"}, "timestamp": "\u{1b}]0;pwned\u{7}\u{202E}soon", "referral": {"ref": "x"}}]}]})
    .to_string()
    .into_bytes();
    assert_eq!(
        common::relay::post(&client, &url, &body, Some(&common::relay::signature(&body))),
        200
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("webhook item refused"), "{log}");
    assert_terminal_safe("the relay log", &log);
}

#[test]
fn stats_json_keeps_control_and_bidi_characters_exact() {
    let env = Env::new();
    import_refs(&env, &TERMINAL_REFS);
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--by", "ref", "--json"])).unwrap();
    let keys: Vec<&str> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    for r in TERMINAL_REFS {
        assert!(keys.contains(&r), "{r:?} not exact in {keys:?}");
    }
}

// ---------------------------------------------------------------- item 2

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn a_read_only_database_stays_read_only_and_is_refused_in_one_line() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.ok(&["page", "add", "Jaspers", "--page-id", "104729178032417"]);
    // Fold the WAL in, so the main file alone holds the data.
    drop(refboard::store::Store::open(&env.db).unwrap());
    for suffix in ["", "-wal", "-shm"] {
        let f = format!("{}{suffix}", env.db.display());
        if Path::new(&f).exists() {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
    let before = std::fs::read(&env.db).unwrap();
    let shown = env.db.display().to_string();
    env.refused(
        2,
        &["page", "add", "Other", "--page-id", "204729178032417"],
        &["read-only", &shown],
    );
    assert_eq!(mode(&env.db), 0o444, "the owner's write bit was added");
    assert_eq!(std::fs::read(&env.db).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn tightening_removes_group_and_other_bits_only() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    drop(refboard::store::Store::open(&env.db).unwrap());
    // The owner's own bits are the user's business: only group/other go.
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o764)).unwrap();
    drop(refboard::store::Store::open(&env.db).unwrap());
    assert_eq!(mode(&env.db), 0o700);
    std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o664)).unwrap();
    drop(refboard::store::Store::open(&env.db).unwrap());
    assert_eq!(mode(&env.db), 0o600);
}

// ---------------------------------------------------------------- item 4.4

#[test]
fn a_missing_directory_for_the_database_is_named() {
    let env = Env::new();
    // A directory that cannot be made: its parent is a file.
    std::fs::write(env.path("plain-file"), b"x").unwrap();
    let db = env.path("plain-file/sub/refboard.db");
    let env = Env::at(env.dir, db);
    let out = env.cmd().args(["page", "list"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("readable by its owner"), "{stderr}");
    assert!(stderr.contains("plain-file"), "{stderr}");
    assert!(
        stderr.contains("directory") || stderr.contains("folder"),
        "{stderr}"
    );
}

#[test]
fn a_relay_given_a_missing_directory_names_it() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["relay", "--listen", "127.0.0.1:0", "--data"])
        .arg(env.path("no-such-dir/relay.db"))
        .env("REFBOARD_APP_SECRET", "s")
        .env("REFBOARD_VERIFY_TOKEN", "v")
        .env("REFBOARD_API_TOKEN", "a")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("readable by its owner"), "{stderr}");
    assert!(
        stderr.contains("directory") && stderr.contains("no-such-dir"),
        "{stderr}"
    );
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn a_relay_pointed_at_a_desktop_database_says_so() {
    let env = Env::new();
    env.ok(&["page", "add", "Jaspers", "--page-id", "104729178032417"]);
    let before = std::fs::read(&env.db).unwrap();
    let out = env
        .cmd()
        .args(["relay", "--listen", "127.0.0.1:0", "--data"])
        .arg(&env.db)
        .env("REFBOARD_APP_SECRET", "s")
        .env("REFBOARD_VERIFY_TOKEN", "v")
        .env("REFBOARD_API_TOKEN", "a")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("desktop"), "{stderr}");
    assert!(!stderr.contains("upgrade refboard"), "{stderr}");
    assert_eq!(std::fs::read(&env.db).unwrap(), before);
}

// ---------------------------------------------------------------- item 5

const PASSWORD: &str = "s3cretPassw0rd";

#[test]
fn a_password_in_the_forward_url_never_reaches_stderr() {
    let env = Env::new();
    for forward in [
        // Not a URL at all (the port is out of range).
        format!("http://bot:{PASSWORD}@127.0.0.1:99999/hook"),
        format!("ftp://bot:{PASSWORD}@127.0.0.1/hook"),
    ] {
        let out = env
            .cmd()
            .args(["relay", "--listen", "127.0.0.1:0", "--forward", &forward])
            .arg("--data")
            .arg(env.path("relay.db"))
            .env("REFBOARD_APP_SECRET", "s")
            .env("REFBOARD_VERIFY_TOKEN", "v")
            .env("REFBOARD_API_TOKEN", "a")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{forward}: {stderr}");
        assert!(stderr.contains("forward"), "{stderr}");
        assert!(!stderr.contains(PASSWORD), "{stderr}");
    }
}

#[test]
fn a_password_in_the_backend_url_never_reaches_stderr() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let live = relay.addr.port();
    let closed = common::relay::free_port();
    // Every way of giving a secret in the URL, down every path that shows
    // the URL (sync, --check, --reset): each is refused, shown redacted.
    let cases: [(String, &[&str]); 6] = [
        (format!("http://user:{PASSWORD}@127.0.0.1:{live}"), &[]),
        (
            format!("http://127.0.0.1:{live}/?access_token={PASSWORD}"),
            &[],
        ),
        (
            format!("http://user:{PASSWORD}@127.0.0.1:{closed}"),
            &["--check"],
        ),
        (format!("ftp://user:{PASSWORD}@127.0.0.1:{closed}"), &[]),
        (format!("http://user:{PASSWORD}@127.0.0.1:99999"), &[]),
        (
            format!("http://user:{PASSWORD}@127.0.0.1:{live}"),
            &["--reset"],
        ),
    ];
    for (backend, extra) in cases {
        let out = env
            .cmd()
            .args(["sync", "--backend", &backend, "--token", "wrong-token"])
            .args(extra)
            .env("REFBOARD_SECRET_STORE", "file")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(PASSWORD), "{backend} {extra:?}: {all}");
        assert!(all.contains("***"), "the URL is shown, redacted: {all}");
    }
    relay.stop().unwrap();
}

#[test]
fn a_backend_url_with_a_password_is_refused_and_never_saved() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    let backend = format!("http://user:{PASSWORD}@127.0.0.1:{}", relay.addr.port());
    let out = env
        .cmd()
        .args(["sync", "--backend", &backend, "--token", API_TOKEN])
        .env("REFBOARD_SECRET_STORE", "file")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid backend"), "{stderr}");
    assert!(stderr.contains("user:password@"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    for f in ["", "-wal", "-shm"] {
        let file = format!("{}{f}", env.db.display());
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes
                    .windows(PASSWORD.len())
                    .any(|w| w == PASSWORD.as_bytes()),
                "the password is in {file}"
            );
        }
    }
    relay.stop().unwrap();
}

const API_TOKEN: &str = "cli-safety-api-token-7f3a";

fn relay(dir: &Path) -> refboard::relay::RelayHandle {
    refboard::relay::start(
        refboard::relay::RelayConfig::new(
            dir.join("relay.db"),
            common::FIXTURE_APP_SECRET,
            "v",
            API_TOKEN,
        ),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

#[test]
fn the_token_can_come_from_a_file_or_standard_input() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay(dir.path());
    std::fs::write(env.path("token.txt"), format!("{API_TOKEN}\n")).unwrap();
    std::fs::write(env.path("wrong.txt"), "not-the-token\n").unwrap();
    let sync = || {
        let mut c = env.cmd();
        c.env("REFBOARD_SECRET_STORE", "file")
            .env_remove("REFBOARD_API_TOKEN")
            .args(["sync", "--check", "--backend", &relay.url()]);
        c
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(env.path("token.txt"), private).unwrap();
    }
    let out = sync()
        .args(["--token-file", "token.txt"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!stderr.contains("warning"), "{stderr}");
    // A token file others can read still works, with a warning.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shared = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(env.path("token.txt"), shared).unwrap();
        let out = sync()
            .args(["--token-file", "token.txt"])
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            stderr.contains(
                "warning: the token file token.txt can be read by other users (mode 0644)"
            ),
            "{stderr}"
        );
    }
    sync()
        .args(["--token-file", "-"])
        .write_stdin(format!("{API_TOKEN}\n"))
        .assert()
        .success();
    // A wrong token is refused, so the two above really authenticated.
    let out = sync().args(["--token-file", "wrong.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A missing file is named; --token and --token-file together are refused.
    let out = sync()
        .args(["--token-file", "missing.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.txt"));
    let out = sync()
        .args(["--token-file", "token.txt", "--token", API_TOKEN])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A real sync with the token from standard input saves it for next time.
    let mut c = env.cmd();
    c.env("REFBOARD_SECRET_STORE", "file")
        .env_remove("REFBOARD_API_TOKEN")
        .args(["sync", "--backend", &relay.url(), "--token-file", "-"])
        .write_stdin(API_TOKEN)
        .assert()
        .success();
    let mut c = env.cmd();
    c.env("REFBOARD_SECRET_STORE", "file")
        .env_remove("REFBOARD_API_TOKEN")
        .arg("sync")
        .assert()
        .success();
    relay.stop().unwrap();
}

// ---------------------------------------------------------------- item 6

#[test]
fn import_goes_on_past_a_file_it_cannot_read_names_it_and_exits_1() {
    let env = Env::new();
    std::fs::write(
        env.path("a.ndjson"),
        body("alpha", "1") + "\n" + &body("alpha", "2"),
    )
    .unwrap();
    std::fs::create_dir(env.path("b.ndjson")).unwrap();
    std::fs::write(env.path("c.ndjson"), body("gamma", "3")).unwrap();
    let out = env
        .cmd()
        .args([
            "import",
            "a.ndjson",
            "b.ndjson",
            "missing.ndjson",
            "c.ndjson",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(errors[0].contains("b.ndjson"), "{stderr}");
    assert!(errors[1].contains("missing.ndjson"), "{stderr}");
    assert!(
        errors[2].contains("2 of 4 file(s)")
            && errors[2].contains("b.ndjson")
            && errors[2].contains("missing.ndjson"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Imported 3 referral(s) from 3 body(ies) in 2 file(s)"),
        "{stdout}"
    );
    // Exactly the readable files' referrals are stored.
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--by", "ref", "--json"])).unwrap();
    let mut got: Vec<(String, u64)> = json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["referrals"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, [("alpha".to_string(), 2), ("gamma".to_string(), 1)]);
    // Running it again once fixed counts nothing twice.
    std::fs::remove_dir(env.path("b.ndjson")).unwrap();
    std::fs::write(env.path("b.ndjson"), body("beta", "4")).unwrap();
    let again = env.ok(&["import", "a.ndjson", "b.ndjson", "c.ndjson"]);
    assert!(again.contains("1 new, 3 already known"), "{again}");
}
