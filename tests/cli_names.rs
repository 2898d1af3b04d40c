//! Issue 19, delivery 5: names are accepted in any letter case on the CLI,
//! as people and Avery print them (`--label L7160`, `--paper A4`,
//! `--kind Email`); an unknown name is still refused with exit 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::cli::Env;

fn seeded() -> Env {
    let env = Env::new();
    env.ok(&["page", "add", "JaspersMarket", "--name", "Jasper's Market"]);
    env.ok(&["channel", "add", "Newsletter", "--kind", "Email"]);
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
        "--cta",
        "Get 10% off in Messenger",
    ]);
    env
}

#[test]
fn label_paper_and_layout_names_are_accepted_in_any_letter_case() {
    let env = seeded();
    env.ok(&[
        "export", "--dir", "out", "--sheet", "PDF", "--layout", "Labels", "--label", "L7160",
        "--paper", "A4",
    ]);
    let sheet = std::fs::read_dir(env.path("out"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "pdf"));
    assert!(sheet, "the label sheet was written");
    env.refused(
        2,
        &[
            "export", "--dir", "out2", "--sheet", "pdf", "--layout", "labels", "--label", "L9999",
        ],
        &["L9999", "l7160"],
    );
}

/// `--theme` takes light or dark in any case; anything else is refused
/// with exit 2 naming the value and the choices. With no display, an
/// accepted theme gets as far as opening the window (exit 1, the world's
/// failure), which shows the name was taken.
#[test]
fn the_theme_is_named_in_any_letter_case() {
    let env = seeded();
    env.refused(
        2,
        &["gui", "--theme", "purple"],
        &["purple", "light", "dark"],
    );
    env.refused(
        2,
        &["demo", "--theme", "sepia"],
        &["sepia", "light", "dark"],
    );
    let out = env
        .cmd()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["gui", "--theme", "DARK"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("is a display available?"), "{stderr}");
}
