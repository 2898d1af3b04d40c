//! Every subcommand that prints ends quietly when its reader has gone, as in
//! `refboard link list | head -c1` or `refboard sync --reset | true`: exit 0,
//! nothing on standard error, no panic. Standard output is a real pipe whose
//! read end is closed before the command starts, so every write fails.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;
use common::cli::Env;

/// A page with a channel, a campaign and a link, and a few referrals.
fn seeded() -> Env {
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "JaspersMarket",
        "--name",
        "Jasper's Market",
        "--page-id",
        "104729178032417",
    ]);
    env.ok(&["channel", "add", "Newsletter", "--kind", "email"]);
    env.ok(&["campaign", "add", "Spring Sale"]);
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
        "--ref",
        "spring",
    ]);
    env.ok(&["link", "alias", "add", "--link", "spring", "sprnig"]);
    env
}

/// `sync --reset` needs a token (it names the source by URL and token).
const TOKEN: &str = "pipe-test-token-0123456789";

/// Runs `args` with standard output closed at the far end; returns the exit
/// code and what went to standard error.
fn into_closed_pipe(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = env
        .std_cmd()
        .env("REFBOARD_API_TOKEN", TOKEN)
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_printing_subcommand_ends_quietly_on_a_closed_pipe() {
    let env = seeded();
    let commands: &[&[&str]] = &[
        &["page", "list"],
        &["channel", "list"],
        &["campaign", "list"],
        &["link", "list"],
        &["link", "show", "spring"],
        &["link", "alias", "list"],
        &["stats"],
        &["stats", "--csv"],
        &["stats", "--json"],
        &["stats", "--by", "campaign"],
        &["sync", "--reset", "--backend", "http://127.0.0.1:9"],
        &["--version"],
        &["help"],
    ];
    for args in commands {
        // The command must print something at all, or the test proves nothing.
        let printed = env
            .cmd()
            .env("REFBOARD_API_TOKEN", TOKEN)
            .args(*args)
            .output()
            .unwrap();
        assert!(
            !printed.stdout.is_empty(),
            "{args:?} printed nothing: {}",
            String::from_utf8_lossy(&printed.stderr)
        );
        let (code, stderr) = into_closed_pipe(&env, args);
        assert_eq!(code, Some(0), "{args:?} exit; stderr: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    }
}
