//! #18 item 4: no library error speaks the CLI's language. Each error that
//! used to name a flag or a command is made here through the library, and
//! its whole chain of messages must name none; its way out is a [`Hint`].

use super::hint;
use crate::model::Hint;
use std::error::Error;

/// The error's messages, outermost first, as a front end joins them before
/// it adds the hint in its own words.
fn chain_text<'a>(e: &'a (dyn Error + 'static)) -> String {
    std::iter::successors(Some(e), |c: &&'a (dyn Error + 'static)| (*c).source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Checks that `e` names no flag and no command, and carries `want`.
fn check(e: &(dyn Error + 'static), want: &Hint) {
    let text = chain_text(e);
    assert!(!text.contains("--"), "a flag in a library error: {text}");
    let commands = [
        "page", "link", "channel", "campaign", "sync", "qr", "export",
    ];
    assert!(
        !text.contains('`')
            && !commands
                .iter()
                .any(|c| text.contains(&format!("refboard {c}"))),
        "a command in a library error: {text}"
    );
    assert_eq!(hint(e), Some(want), "{text}");
}

fn store(dir: &std::path::Path, name: &str) -> crate::store::Store {
    crate::store::Store::open(&dir.join(name)).unwrap()
}

#[test]
fn export_codes_and_print_errors_name_no_flag() {
    use crate::codes::{Color, QrStyle};
    use crate::print::{PrintLayout, PrintOptions};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("code.png");
    std::fs::write(&file, b"x").unwrap();
    let e = crate::export::write_atomic_with(&file, b"y", false).unwrap_err();
    check(&e, &Hint::Overwrite);
    let e = crate::codes::logo::check_share(0.2, false).unwrap_err();
    check(&e, &Hint::ForceLogo);
    let faint = QrStyle {
        fg: Color::parse("fg", "#cccccc").unwrap(),
        ..QrStyle::default()
    };
    check(&faint.check().unwrap_err(), &Hint::ForceContrast);
    let offset = PrintOptions {
        layout: PrintLayout::Grid,
        offset_x_mm: 1.0,
        ..PrintOptions::default()
    };
    check(&offset.check().unwrap_err(), &Hint::ChooseLabelsLayout);
    let letter_labels = PrintOptions {
        layout: PrintLayout::Labels,
        label: crate::print::LabelPreset::Avery5160,
        paper: crate::print::Paper::A4,
        ..PrintOptions::default()
    };
    let item = crate::model::ExportItem {
        url: "https://m.me/JaspersMarket?ref=a".into(),
        ..crate::model::ExportItem::default()
    };
    let e = crate::print::render_pdf(&[item], &letter_labels, &QrStyle::default()).unwrap_err();
    check(&e, &Hint::ChoosePaper("letter"));
}

#[test]
fn store_errors_name_no_command() {
    use crate::model::{ChannelKind, NewCampaign, NewLink, NewPage};
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "a.db");
    check(&s.resolve_page(None).unwrap_err(), &Hint::AddPage);
    check(&s.resolve_page(Some("Nope")).unwrap_err(), &Hint::AddPage);
    let page = s
        .add_page(&NewPage::parse("JaspersMarket", None, None).unwrap())
        .unwrap();
    check(
        &s.resolve_page(Some("Nope")).unwrap_err(),
        &Hint::Known {
            what: "page",
            names: "\"JaspersMarket\"".into(),
        },
    );
    s.add_page(&NewPage::parse("OtherShop", None, None).unwrap())
        .unwrap();
    check(
        &s.resolve_page(None).unwrap_err(),
        &Hint::ChoosePage("\"JaspersMarket\", \"OtherShop\"".into()),
    );
    check(
        &s.link_by_ref(page.id, "nope").unwrap_err(),
        &Hint::ListLinks,
    );
    check(
        &s.resolve_channel(page.id, "Mail").unwrap_err(),
        &Hint::AddRecord("channel"),
    );
    let channel = s
        .add_channel(page.id, "Mail", ChannelKind::Email)
        .unwrap()
        .id;
    check(
        &s.resolve_channel(page.id, "Post").unwrap_err(),
        &Hint::Known {
            what: "channel",
            names: "Mail".into(),
        },
    );
    let campaign = s
        .add_campaign(
            page.id,
            &NewCampaign::parse("May", None, None, None).unwrap(),
        )
        .unwrap()
        .id;
    let (link, _) = NewLink::parse("Spring", None, None, None).unwrap();
    let (row, _) = s.add_link(page.id, campaign, channel, &link).unwrap();
    check(
        &s.link_by_ref(page.id, "spring").unwrap_err(),
        &Hint::DidYouMean("Spring".into()),
    );
    check(
        &s.remove_alias(page.id, "nope").unwrap_err(),
        &Hint::ListAliases,
    );
    s.add_alias(row.link.id, "sprng").unwrap();
    let (taken, _) = NewLink::parse("sprng", None, None, None).unwrap();
    check(
        &s.add_link(page.id, campaign, channel, &taken).unwrap_err(),
        &Hint::RemoveAliasFirst,
    );
}

#[test]
fn a_database_of_the_other_kind_names_no_flag() {
    let dir = tempfile::tempdir().unwrap();
    let relay_file = dir.path().join("relay.db");
    let conn = rusqlite::Connection::open(&relay_file).unwrap();
    conn.execute_batch("CREATE TABLE events (id INTEGER); CREATE TABLE meta (k TEXT);")
        .unwrap();
    drop(conn);
    let Err(e) = crate::store::Store::open(&relay_file) else {
        panic!("a relay file opened as the dashboard's");
    };
    check(&e, &Hint::SeparateDesktopFile);
    drop(store(dir.path(), "desk.db"));
    let config = crate::relay::RelayConfig::new(dir.path().join("desk.db"), "s", "v", "a");
    let Err(e) = crate::relay::start(config, "127.0.0.1:0".parse().unwrap()) else {
        panic!("a dashboard file served by the relay");
    };
    // The relay wraps the store's error as is; its CLI shows the store's.
    let crate::relay::RelayError::Store(e) = e else {
        panic!("not the store's refusal: {e}");
    };
    assert_eq!(hint(&e), Some(&Hint::SeparateRelayFile), "{e}");
    assert!(!chain_text(&e).contains("--"), "{e}");
}

#[test]
fn a_missing_relay_secret_names_no_flag() {
    let config = crate::relay::RelayConfig::new("relay.db".into(), "", "v", "a");
    let Err(e) = crate::relay::start(config, "127.0.0.1:0".parse().unwrap()) else {
        panic!("started without an app secret");
    };
    let text = chain_text(&e);
    assert!(
        text.contains("app secret") && !text.contains("--"),
        "{text}"
    );
}

/// Files outside `cli/` that may name a flag in a string, each with why:
/// none of them is an error.
const FLAGS_ALLOWED_IN: [(&str, &str); 3] = [
    (
        "src/ui/backend.rs",
        "the dashboard shows how to run the relay from a shell",
    ),
    (
        "src/relay/init.rs",
        "the env file's comment says how the dashboard syncs",
    ),
    (
        "src/relay/metrics.rs",
        "a metric's help text names the setting it reports",
    ),
];

/// Keeps the property: no string literal outside `cli/` and `main.rs`
/// names a CLI flag (` --word`), test code and comments aside.
#[test]
fn no_library_string_names_a_cli_flag() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("src")];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if !rel.ends_with(".rs")
                || rel.starts_with("src/cli/")
                || rel == "src/main.rs"
                || rel.ends_with("_tests.rs")
                || FLAGS_ALLOWED_IN.iter().any(|(f, _)| *f == rel)
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                let flag = code.match_indices("--").any(|(i, _)| {
                    code[i + 2..].starts_with(|c: char| c.is_ascii_lowercase())
                        && code[..i].matches('"').count() % 2 == 1
                });
                if flag {
                    found.push(format!("{rel}:{}: {}", n + 1, code));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "CLI flags in library strings:\n{}",
        found.join("\n")
    );
}
