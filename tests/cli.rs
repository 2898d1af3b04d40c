//! End-to-end CLI tests: the built binary on a real database in a temp dir.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

use common::cli::Env;

/// Jasper's Market with a channel, a campaign and the seed's links.
fn seeded() -> Env {
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "https://www.facebook.com/JaspersMarket/",
        "--name",
        "Jasper's Market",
        "--page-id",
        "104729178032417",
    ]);
    env.ok(&["channel", "add", "Newsletter", "--kind", "email"]);
    env.ok(&["channel", "add", "FB ad", "--kind", "facebook_ad"]);
    env.ok(&[
        "campaign",
        "add",
        "Spring Sale",
        "--starts",
        "2026-03-01",
        "--ends",
        "2026-03-31",
    ]);
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
        "--ref",
        "jaspersmarketnewsletter",
        "--cta",
        "Get our weekly deals in Messenger",
    ]);
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "FB ad",
        "--ref",
        "jaspersmarketFBad",
    ]);
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
        "--ref",
        "freeshipping",
        "--cta",
        "Get free shipping",
    ]);
    env
}

#[test]
fn page_to_png_and_svg_end_to_end() {
    let env = Env::new();
    env.ok(&["page", "add", "@JaspersMarket"]);
    env.ok(&["channel", "add", "Newsletter", "--kind", "email"]);
    env.ok(&["campaign", "add", "Spring Sale"]);
    let out = env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
        "--cta",
        "Get free coupon in Messenger",
    ]);
    assert!(
        out.contains("https://m.me/JaspersMarket?ref=spring_sale-newsletter"),
        "{out}"
    );
    // The suggestion skips a taken code.
    let out = env.ok(&[
        "link",
        "add",
        "--campaign",
        "Spring Sale",
        "--channel",
        "Newsletter",
    ]);
    assert!(out.contains("ref=spring_sale-newsletter-2"), "{out}");

    env.ok(&[
        "qr",
        "spring_sale-newsletter",
        "-o",
        "code.png",
        "--size",
        "512",
    ]);
    env.ok(&[
        "qr",
        "spring_sale-newsletter",
        "-o",
        "code.svg",
        "--no-caption",
    ]);
    assert_eq!(
        common::decode_one(&env.path("code.png")),
        "https://m.me/JaspersMarket?ref=spring_sale-newsletter"
    );
    let svg = std::fs::read_to_string(env.path("code.svg")).unwrap();
    assert!(svg.contains("<svg") && !svg.contains("<text"));
    for ecc in ["L", "Q", "H"] {
        env.ok(&[
            "qr",
            "spring_sale-newsletter-2",
            "-o",
            "e.png",
            "--force",
            "--ecc",
            ecc,
            "--fg",
            "#0d47a1",
            "--bg",
            "#ffffff",
        ]);
        assert_eq!(
            common::decode_one(&env.path("e.png")),
            "https://m.me/JaspersMarket?ref=spring_sale-newsletter-2"
        );
    }
}

#[test]
fn bulk_export_of_a_campaign() {
    let env = seeded();
    env.ok(&["campaign", "add", "Other"]);
    env.ok(&[
        "link",
        "add",
        "--campaign",
        "Other",
        "--channel",
        "FB ad",
        "--ref",
        "exclusiveinvite",
    ]);
    let out = env.ok(&[
        "export",
        "--campaign",
        "spring sale",
        "--dir",
        "out",
        "--format",
        "png,svg",
        "--sheet",
        "--size",
        "300",
    ]);
    assert!(out.contains("Exported 3 link(s), 8 file(s)"), "{out}");
    let mut csv = csv::Reader::from_path(env.path("out/links.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let refs: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
    assert_eq!(
        refs,
        [
            "jaspersmarketFBad",
            "freeshipping",
            "jaspersmarketnewsletter"
        ]
    );
    for r in &rows {
        let png = r[5].split(';').find(|f| f.ends_with(".png")).unwrap();
        assert_eq!(common::decode_one(&env.path("out").join(png)), &r[3]);
    }
    assert!(env.path("out/sheet.svg").exists());
    assert!(
        !env.path("out/exclusiveinvite.png").exists(),
        "other campaign not exported"
    );
}

#[test]
fn lists_show_and_json() {
    let env = seeded();
    let out = env.ok(&["link", "list"]);
    for r in [
        "jaspersmarketnewsletter",
        "jaspersmarketFBad",
        "freeshipping",
        "https://m.me/JaspersMarket?ref=freeshipping",
    ] {
        assert!(out.contains(r), "{out}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["link", "list", "--json"])).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["ref_code"], "jaspersmarketFBad");
    assert_eq!(
        rows[0]["url"],
        "https://m.me/JaspersMarket?ref=jaspersmarketFBad"
    );
    assert_eq!(rows[0]["channel_name"], "FB ad");
    let pages: serde_json::Value =
        serde_json::from_str(&env.ok(&["page", "list", "--json"])).unwrap();
    assert_eq!(pages[0]["page_id"], "104729178032417");
    let show = env.ok(&["link", "show", "freeshipping"]);
    assert!(
        show.contains("Get free shipping") && show.contains("Spring Sale"),
        "{show}"
    );
    let filtered = env.ok(&["link", "list", "--channel", "fb ad", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&filtered)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn edit_archive_remove() {
    let env = seeded();
    let out = env.ok(&[
        "link",
        "edit",
        "freeshipping",
        "--ref",
        "freeship",
        "--text",
        "Ship it!",
    ]);
    assert!(
        out.contains("https://m.me/JaspersMarket?ref=freeship&text=Ship%20it%21"),
        "{out}"
    );
    env.ok(&["link", "archive", "freeship"]);
    assert!(!env.ok(&["link", "list"]).contains("freeship\n"));
    assert!(env.ok(&["link", "list", "--all"]).contains("freeship"));
    env.ok(&["link", "unarchive", "freeship"]);
    env.ok(&["link", "remove", "freeship"]);
    env.ok(&["channel", "archive", "FB ad"]);
    assert!(!env.ok(&["channel", "list"]).contains("FB ad"));
    env.ok(&[
        "campaign",
        "edit",
        "Spring Sale",
        "--rename",
        "Spring Sale 2026",
        "--ends",
        "",
    ]);
    let c: serde_json::Value =
        serde_json::from_str(&env.ok(&["campaign", "list", "--json"])).unwrap();
    assert_eq!(c[0]["name"], "Spring Sale 2026");
    assert!(c[0]["ends_on"].is_null());
    env.ok(&["page", "edit", "jaspersmarket", "--name", "Jasper's"]);
    assert!(env.ok(&["page", "list"]).contains("Jasper's"));
}

#[test]
fn a_page_keeps_an_instagram_account_id_from_add_and_edit() {
    let env = Env::new();
    env.ok(&[
        "page",
        "add",
        "JaspersMarket",
        "--page-id",
        "104729178032417",
        "--ig-id",
        "17841400008460056",
    ]);
    let pages: serde_json::Value =
        serde_json::from_str(&env.ok(&["page", "list", "--json"])).unwrap();
    assert_eq!(pages[0]["ig_id"], "17841400008460056");
    assert!(env.ok(&["page", "list"]).contains("17841400008460056"));
    env.ok(&[
        "page",
        "edit",
        "JaspersMarket",
        "--ig-id",
        "17841400000000001",
    ]);
    let pages: serde_json::Value =
        serde_json::from_str(&env.ok(&["page", "list", "--json"])).unwrap();
    assert_eq!(pages[0]["ig_id"], "17841400000000001");
    assert_eq!(
        pages[0]["page_id"], "104729178032417",
        "edit keeps the Page ID"
    );
    env.refused(
        2,
        &["page", "edit", "JaspersMarket", "--ig-id", "17841x"],
        &["ig-id", "17841x", "digits"],
    );
    env.refused(
        2,
        &["page", "add", "OtherPage", "--ig-id", "abc"],
        &["ig-id", "abc", "digits"],
    );
}

#[test]
fn stats_for_a_page_count_its_instagram_events_by_the_instagram_account_id() {
    let env = seeded();
    let fixtures = common::fixtures();
    for name in [
        "messaging_referral_shortlink.json",
        "instagram_igme_referral.json",
    ] {
        env.ok(&["import", fixtures.join(name).to_str().unwrap()]);
    }
    let referrals = |env: &Env| -> u64 {
        let json: serde_json::Value = serde_json::from_str(&env.ok(&[
            "stats",
            "--page",
            "Jasper's Market",
            "--tz",
            "UTC",
            "--json",
        ]))
        .unwrap();
        json["totals"]["referrals"].as_u64().unwrap()
    };
    let all: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--json"])).unwrap();
    assert_eq!(all["totals"]["referrals"], 3, "1 Messenger + 2 Instagram");
    assert_eq!(
        referrals(&env),
        1,
        "without the Instagram id only Messenger"
    );
    env.ok(&[
        "page",
        "edit",
        "Jasper's Market",
        "--ig-id",
        "17841400000000001",
    ]);
    assert_eq!(
        referrals(&env),
        3,
        "the Instagram events count under the page"
    );
}

#[test]
fn every_bad_input_exits_2_and_changes_nothing() {
    let env = seeded();
    env.ok(&["page", "add", "JaspersBakery"]);
    let p = ["--page", "JaspersMarket"];
    let link_add = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "link",
            "add",
            "--campaign",
            "Spring Sale",
            "--channel",
            "Newsletter",
            "--page",
            "JaspersMarket",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        // Page rules.
        (
            strs(&["page", "add", "Jasp"]),
            vec!["page", "\"Jasp\"", "at least 5"],
        ),
        (
            strs(&["page", "add", "jaspers_market"]),
            vec!["'_' at position 8"],
        ),
        (strs(&["page", "add", "jaspersmarket.com"]), vec![".com"]),
        (strs(&["page", "add", "jaspers.market"]), vec!["same page"]),
        (strs(&["page", "add", "JASPERSMARKET"]), vec!["same page"]),
        (
            strs(&["page", "add", "https://example.org/JaspersMarket"]),
            vec!["not a page"],
        ),
        (
            strs(&["page", "add", "OtherPage", "--page-id", "12ab"]),
            vec!["page-id", "digits"],
        ),
        (
            strs(&["page", "add", "OtherPage", "--page-id", "104729178032417"]),
            vec!["already belongs"],
        ),
        // Which page.
        (
            strs(&["channel", "add", "SMS"]),
            vec!["several pages", "--page"],
        ),
        (
            strs(&["channel", "add", "SMS", "--page", "Nobody"]),
            vec!["no page matches \"Nobody\""],
        ),
        // Channel and campaign rules.
        (
            strs(&[
                "channel",
                "add",
                "SMS",
                "--kind",
                "billboard",
                "--page",
                "JaspersMarket",
            ]),
            vec!["kind", "billboard", "facebook_ad"],
        ),
        (
            strs(&["channel", "add", "newsletter", "--page", "JaspersMarket"]),
            vec!["already has a channel"],
        ),
        (
            strs(&["channel", "add", "   ", "--page", "JaspersMarket"]),
            vec!["blank"],
        ),
        (
            strs(&[
                "campaign",
                "add",
                "X",
                "--starts",
                "2026-03-31",
                "--ends",
                "2026-03-01",
                "--page",
                "JaspersMarket",
            ]),
            vec!["ends", "before it starts"],
        ),
        (
            strs(&[
                "campaign",
                "add",
                "X",
                "--starts",
                "31/03/2026",
                "--page",
                "JaspersMarket",
            ]),
            vec!["starts", "YYYY-MM-DD"],
        ),
        (
            strs(&["campaign", "add", "spring sale", "--page", "JaspersMarket"]),
            vec!["already has a campaign"],
        ),
        (
            strs(&["channel", "remove", "Newsletter", "--page", "JaspersMarket"]),
            vec!["archive it instead"],
        ),
        (
            strs(&[
                "campaign",
                "remove",
                "Spring Sale",
                "--page",
                "JaspersMarket",
            ]),
            vec!["archive it instead"],
        ),
        (
            strs(&["page", "remove", "JaspersMarket"]),
            vec!["has 3 link(s)"],
        ),
        // Ref rules.
        (
            link_add(&["--ref", "free shipping"]),
            vec!["ref", "\"free shipping\"", "' ' at position 5"],
        ),
        (link_add(&["--ref", "a&b"]), vec!["'&' at position 2"]),
        (link_add(&["--ref", ""]), vec!["empty"]),
        (
            link_add(&["--ref", &"a".repeat(2084)]),
            vec!["2084", "2083"],
        ),
        (
            link_add(&["--ref", "freeshipping"]),
            vec!["already has a link with this ref"],
        ),
        (
            link_add(&["--ref", "ok", "--text", "  "]),
            vec!["text", "blank"],
        ),
        (
            link_add(&["--ref", "ok", "--cta", &"x".repeat(201)]),
            vec!["cta", "at most 200"],
        ),
        (
            strs(&[
                "link",
                "add",
                "--campaign",
                "Nope",
                "--channel",
                "Newsletter",
                "--page",
                "JaspersMarket",
            ]),
            vec!["no campaign matches \"Nope\"", "Spring Sale"],
        ),
        (
            strs(&[
                "link",
                "add",
                "--campaign",
                "Spring Sale",
                "--channel",
                "Nope",
                "--page",
                "JaspersMarket",
            ]),
            vec!["no channel matches"],
        ),
        (
            strs(&["link", "show", "FREESHIPPING", "--page", "JaspersMarket"]),
            vec!["case-sensitive", "freeshipping"],
        ),
        (
            strs(&[
                "link",
                "edit",
                "freeshipping",
                "--ref",
                "jaspersmarketnewsletter",
                "--page",
                "JaspersMarket",
            ]),
            vec!["already has a link"],
        ),
        // QR and export options.
        (
            strs(&[
                "qr",
                "freeshipping",
                "-o",
                "x.png",
                "--size",
                "100",
                "--page",
                "JaspersMarket",
            ]),
            vec!["size", "100", "256 to 4096"],
        ),
        (
            strs(&[
                "qr",
                "freeshipping",
                "-o",
                "x.png",
                "--ecc",
                "Z",
                "--page",
                "JaspersMarket",
            ]),
            vec!["ecc", "L, M, Q or H"],
        ),
        (
            strs(&[
                "qr",
                "freeshipping",
                "-o",
                "x.png",
                "--fg",
                "#12345g",
                "--page",
                "JaspersMarket",
            ]),
            vec!["fg", "#12345g", "hex colour"],
        ),
        (
            strs(&[
                "qr",
                "freeshipping",
                "-o",
                "x.jpg",
                "--page",
                "JaspersMarket",
            ]),
            vec!["output", ".png, .svg or .pdf"],
        ),
        (
            strs(&[
                "qr",
                "freeshipping",
                "-o",
                "no/such/dir/x.png",
                "--page",
                "JaspersMarket",
            ]),
            vec!["does not exist"],
        ),
        (
            strs(&["qr", "nosuchref", "-o", "x.png", "--page", "JaspersMarket"]),
            vec!["no link matches"],
        ),
        (
            strs(&[
                "export",
                "--dir",
                "out",
                "--format",
                "gif",
                "--page",
                "JaspersMarket",
            ]),
            vec!["format", "gif"],
        ),
        (
            strs(&[
                "export",
                "--dir",
                "out",
                "--campaign",
                "Nope",
                "--page",
                "JaspersMarket",
            ]),
            vec!["no campaign"],
        ),
        // Usage errors from the parser.
        (strs(&["link", "add"]), vec!["--campaign"]),
        (strs(&["frobnicate"]), vec!["unrecognized subcommand"]),
        (
            strs(&["qr", "freeshipping", "-o", "x.png", "--size", "big"]),
            vec!["--size"],
        ),
        (p.iter().map(|s| s.to_string()).collect(), vec!["error"]),
    ];
    for (args, expect) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.refused(2, &args, &expect);
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn warnings_are_printed_but_the_link_is_created() {
    let env = seeded();
    env.cmd()
        .args([
            "link",
            "add",
            "--campaign",
            "Spring Sale",
            "--channel",
            "FB ad",
            "--ref",
            "JaspersMarketFBad",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("differs only in letter case"));
    env.cmd()
        .args([
            "link",
            "add",
            "--campaign",
            "Spring Sale",
            "--channel",
            "FB ad",
            "--ref",
            "summer/2024.v1",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("ref=summer%2F2024.v1"))
        .stderr(predicate::str::contains("older Messenger surfaces"));
    env.cmd()
        .args(["qr", "freeshipping", "-o", "pale.png", "--fg", "#999999"])
        .assert()
        .success()
        .stderr(predicate::str::contains("contrast"));
}

#[test]
fn newer_database_is_refused_with_exit_1() {
    let env = Env::new();
    env.ok(&["page", "list"]);
    rusqlite::Connection::open(&env.db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    env.cmd()
        .args(["page", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("schema version 99"));
}

#[test]
fn help_and_env_sets_the_database() {
    let env = Env::new();
    env.cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: refboard"))
        .stdout(predicate::str::contains("demo"));
    // Without a display the dashboard cannot open: a clear message, exit 1.
    env.cmd()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot open the dashboard window"));
    let other = env.path("from-env.db");
    Command::new(env!("CARGO_BIN_EXE_refboard"))
        .env("REFBOARD_DB", &other)
        .args(["page", "add", "JaspersMarket"])
        .assert()
        .success();
    assert!(other.exists());
}

#[test]
fn import_ndjson_and_stats_output() {
    let env = seeded();
    let fixtures = common::fixtures();
    let mut ndjson = String::new();
    for name in [
        "messaging_referral_shortlink.json",
        "postback_get_started_referral.json",
        "messaging_referral_ads.json",
    ] {
        ndjson.push_str(std::fs::read_to_string(fixtures.join(name)).unwrap().trim());
        ndjson.push('\n');
    }
    ndjson.push_str("{oops not json\n");
    std::fs::write(env.path("bodies.ndjson"), &ndjson).unwrap();
    let out = env
        .cmd()
        .args(["import", "bodies.ndjson"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("bodies.ndjson:4"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("Imported 3 referral(s)") && stdout.contains("3 new"),
        "{stdout}"
    );
    // Again: nothing new. One body per file, and standard input, work too.
    let again = env.ok(&["import", "bodies.ndjson"]);
    assert!(again.contains("0 new"), "{again}");
    let single = fixtures.join("batch_mixed.json");
    let out = env.ok(&["import", single.to_str().unwrap()]);
    assert!(out.contains("Imported 3 referral(s)"), "{out}");
    let stdin_body = std::fs::read(fixtures.join("postback_string_timestamps.json")).unwrap();
    let out = env
        .cmd()
        .args(["import", "-"])
        .write_stdin(stdin_body)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("1 new"));

    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--by", "link", "--json"])).unwrap();
    assert_eq!(json["tz"], "UTC");
    assert_eq!(json["by"], "link");
    let groups = json["groups"].as_array().unwrap();
    let find = |k: &str| groups.iter().find(|g| g["key"] == k).unwrap().clone();
    assert_eq!(find("jaspersmarketnewsletter")["referrals"], 2);
    assert_eq!(find("jaspersmarketFBad")["referrals"], 2);
    assert_eq!(find("freeshipping")["new"], 1);
    let untracked: Vec<&str> = json["untracked_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["ref"].as_str().unwrap())
        .collect();
    assert_eq!(untracked, ["exclusiveinvite", "spring_sale-flyer"]);
    let csv = env.ok(&[
        "stats", "--tz", "UTC", "--by", "kind", "--every", "day", "--csv",
    ]);
    assert!(
        csv.starts_with("New or returning,Bucket,Referrals,New,Returning,From,To,Time zone\n"),
        "{csv}"
    );
    assert!(csv.contains("new,2025-11-27,"), "{csv}");
    let table = env.ok(&["stats", "--tz", "UTC"]);
    assert!(
        table.contains("7 referrals") && table.contains("Untracked refs"),
        "{table}"
    );
    env.refused(
        2,
        &["stats", "--tz", "Mars/Base"],
        &["tz", "Mars/Base", "IANA"],
    );
    env.refused(2, &["stats", "--by", "colour"], &["by", "colour"]);
    env.refused(
        2,
        &["stats", "--from", "yesterday"],
        &["from", "YYYY-MM-DD"],
    );
    env.refused(2, &["sync"], &["backend", "--backend URL"]);
}

#[test]
fn relay_refuses_to_start_without_secrets() {
    let env = Env::new();
    env.cmd()
        .env_remove("REFBOARD_APP_SECRET")
        .env_remove("REFBOARD_VERIFY_TOKEN")
        .env_remove("REFBOARD_API_TOKEN")
        .args([
            "relay",
            "--data",
            "relay.db",
            "--listen",
            "127.0.0.1:0",
            "--app-secret",
            "x",
            "--verify-token",
            "y",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--api-token"));
}

#[test]
fn stats_over_a_range_past_the_limit_exits_2() {
    let env = seeded();
    env.refused(
        2,
        &["stats", "--from", "0001-01-01", "--to", "9999-12-31"],
        &["from", "0001-01-01", "2004-01-01"],
    );
    env.refused(
        2,
        &[
            "stats",
            "--from",
            "2004-01-01",
            "--to",
            "9999-12-31",
            "--json",
        ],
        &["to", "9999-12-31", "36525"],
    );
    env.refused(2, &["stats", "--top", "0"], &["top", "0"]);
}

/// A webhook body with one referral, as a bot might have logged it.
fn body_at(sender: &str, timestamp: &str) -> String {
    format!(
        r#"{{"object":"page","entry":[{{"id":"104729178032417","time":1764219600000,"messaging":[{{"sender":{{"id":"{sender}"}},"recipient":{{"id":"104729178032417"}},"timestamp":{timestamp},"referral":{{"ref":"freeshipping","source":"SHORTLINK"}}}}]}}]}}"#
    )
}

#[test]
fn an_import_in_microseconds_is_refused_with_its_line_number() {
    let env = seeded();
    let lines = [
        body_at("111", "1764219590000"),
        body_at("222", "1764219590000000"),
        body_at("333", "1764219591"),
    ];
    std::fs::write(env.path("bodies.ndjson"), lines.join("\n")).unwrap();
    let out = env
        .cmd()
        .args(["import", "bodies.ndjson"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("bodies.ndjson:2")
            && stderr.contains("timestamp")
            && stderr.contains("1764219590000000")
            && stderr.contains("2004-01-01"),
        "{stderr}"
    );
    assert!(!stderr.contains("bodies.ndjson:1") && !stderr.contains("bodies.ndjson:3"));
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("Imported 2 referral(s)") && stdout.contains("1 referral(s) refused"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["stats", "--tz", "UTC", "--json"])).unwrap();
    assert_eq!(json["totals"]["referrals"], 2);
    assert_eq!(json["from"], "2025-11-27");
    assert_eq!(json["to"], "2025-11-27");
}

#[test]
fn sync_checks_backend_url_and_token_with_the_model_rules() {
    let t = Env::new();
    let out = t
        .cmd()
        .args(["sync", "--backend", "ftp://bot.example.com", "--token", "t"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("invalid backend \"ftp://bot.example.com\""),
        "{err}"
    );
    let out = t
        .cmd()
        .args(["sync", "--backend", "http://127.0.0.1:9", "--token", "a b"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("an API token has no spaces"), "{err}");
    assert!(!err.contains("a b"), "the token is never echoed: {err}");
}

/// Runs `args` with standard output on a pipe whose reader is already gone,
/// as in `refboard link list | head -0`; returns the exit code and stderr.
fn run_into_closed_pipe(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_refboard"))
        .env_remove("REFBOARD_DB")
        .arg("--db")
        .arg(&env.db)
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
fn a_closed_pipe_ends_output_quietly() {
    let env = seeded();
    for args in [
        &["link", "list"][..],
        &["link", "list", "--json"],
        &["link", "show", "freeshipping"],
        &["stats", "--tz", "UTC"],
        &["stats", "--tz", "UTC", "--csv"],
        &["page", "list"],
    ] {
        let (code, stderr) = run_into_closed_pipe(&env, args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} said: {stderr}");
    }
}

#[test]
fn bad_input_exits_2_and_a_runtime_failure_exits_1() {
    let env = seeded();
    // A module error (simulate, export) wrapping a ValidationError: exit 2, printed once.
    let out = env
        .cmd()
        .args([
            "simulate",
            "--relay",
            "http://127.0.0.1:9",
            "--app-secret",
            "s",
            "--days",
            "0",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("days") && stderr.contains("at least 1"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("invalid days").count(), 1, "{stderr}");
    env.refused(
        2,
        &["export", "--dir", "out", "--format", "gif"],
        &["format", "gif"],
    );
    // The database is a folder: a runtime failure, not the user's input.
    let folder = env.path("a-folder.db");
    std::fs::create_dir(&folder).unwrap();
    Command::new(env!("CARGO_BIN_EXE_refboard"))
        .env_remove("REFBOARD_DB")
        .arg("--db")
        .arg(&folder)
        .args(["link", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot open the database"));
}

/// #18 item 4: the library's errors carry a hint value, and the CLI words it
/// with its own flags and commands (the dashboard words the same hints with
/// its controls; see tests/ui.rs).
#[test]
fn cli_words_the_librarys_hints_with_its_flags() {
    let env = seeded();
    env.ok(&["qr", "jaspersmarketnewsletter", "-o", "code.png"]);
    env.refused(
        2,
        &["qr", "jaspersmarketnewsletter", "-o", "code.png"],
        &[
            "invalid output",
            "code.png",
            "the file exists; pass --force to replace it",
        ],
    );
    env.refused(
        2,
        &["qr", "no-such-ref", "-o", "other.png"],
        &["no link matches \"no-such-ref\"; list links with `refboard link list`"],
    );
    env.ok(&["page", "add", "OtherShop", "--page-id", "204729178032417"]);
    env.refused(
        2,
        &["qr", "jaspersmarketnewsletter", "-o", "third.png"],
        &["the database has several pages; choose one with --page (\"Jasper's Market\", \"OtherShop\")"],
    );
}

/// The relay's library names its database URL field "database"; the CLI
/// names its flag (#18 item 4).
#[test]
fn cli_names_the_database_flag_of_a_bad_relay_url() {
    Command::cargo_bin("refboard")
        .unwrap()
        .env("REFBOARD_APP_SECRET", "a")
        .env("REFBOARD_VERIFY_TOKEN", "b")
        .env("REFBOARD_API_TOKEN", "c")
        .env_remove("REFBOARD_RELAY_DATABASE")
        .args([
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "mysql://a:s3cret@h/db",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: invalid --database \"mysql://a:***@h/db\": a postgres://",
        ))
        .stderr(predicate::str::contains("s3cret").not());
}
