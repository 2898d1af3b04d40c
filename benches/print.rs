//! Bulk QR export against a `qrencode` shell loop, measured in the same run.
//!
//! ```text
//! cargo bench --bench print            # 1,000 links as 1,230 px PNGs, no captions
//! REFBOARD_BENCH_LINKS=200 REFBOARD_BENCH_ROUNDS=3 cargo bench --bench print
//! ```
//! Each round runs the baseline and both refboard exports, one after the
//! other; the figures are the medians over the rounds (5 by default).
//! The baseline is `qrencode -s 30 -m 4 -l M` over the same URLs, one process
//! a link, from a `sh` loop (what a user scripting qrencode would do). The
//! benchmark finds `qrencode` on PATH or installs Debian's package with
//! apt-get (as root); when it can do neither it says so and skips.
//! refboard runs twice: without the proof of scan (`--no-verify`), and with
//! it (every written PNG decoded again by rqrr).

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use refboard::codes::QrStyle;
use refboard::export::{BulkOptions, Format, export_bulk};
use refboard::model::ExportItem;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn links() -> usize {
    std::env::var("REFBOARD_BENCH_LINKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn has_qrencode() -> bool {
    Command::new("qrencode")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
}

/// Finds qrencode, or installs it with apt-get; returns why not otherwise.
fn ensure_qrencode() -> Result<(), String> {
    if has_qrencode() {
        return Ok(());
    }
    eprintln!("qrencode not found; installing Debian's package with apt-get …");
    let installed = Command::new("sh")
        .args([
            "-c",
            "apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qrencode >/dev/null",
        ])
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if installed.success() && has_qrencode() {
        Ok(())
    } else {
        Err(
            "qrencode is not installed and apt-get could not install it (not root, or no network)"
                .into(),
        )
    }
}

fn folder_bytes(dir: &Path, ext: &str) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == ext))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn items(n: usize) -> Vec<ExportItem> {
    (0..n)
        .map(|i| {
            let ref_code = format!("spring_sale-{i:04}");
            ExportItem {
                page_name: "Jasper's Market".into(),
                campaign: "Spring Sale".into(),
                channel: "Flyer".into(),
                url: format!("https://m.me/JaspersMarket?ref={ref_code}"),
                ref_code,
                cta: String::new(),
            }
        })
        .collect()
}

fn qrencode_loop(items: &[ExportItem], dir: &Path) -> Duration {
    let list = dir.join("urls.txt");
    let urls: String = items.iter().map(|i| format!("{}\n", i.url)).collect();
    std::fs::write(&list, urls).expect("write the URL list");
    let out = dir.join("qrencode");
    std::fs::create_dir_all(&out).expect("qrencode folder");
    let script = r#"i=0; while IFS= read -r u; do i=$((i+1)); qrencode -s 30 -m 4 -l M -o "$2/$i.png" "$u"; done < "$1""#;
    let start = Instant::now();
    let status = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(&list)
        .arg(&out)
        .status()
        .expect("run sh");
    let elapsed = start.elapsed();
    assert!(status.success(), "the qrencode loop failed");
    elapsed
}

fn refboard_export(items: &[ExportItem], dir: &Path, verify: bool) -> Duration {
    let options = BulkOptions {
        formats: vec![Format::Png],
        style: QrStyle {
            size_px: 1230,
            caption: false,
            ..QrStyle::default()
        },
        verify,
        ..BulkOptions::default()
    };
    let start = Instant::now();
    export_bulk(dir, items, &options, &mut |_, _| true).expect("the export succeeds");
    start.elapsed()
}

fn main() {
    // `cargo bench` passes --bench; a filter other than "print" skips this file.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"print".contains(a.as_str()))
    {
        return;
    }
    if let Err(why) = ensure_qrencode() {
        println!("print: skipped: {why}");
        return;
    }
    let n = links();
    let items = items(n);
    let rounds = rounds();
    // The baseline moved by 20% between runs minutes apart on this shared
    // machine, so the three are interleaved, round after round, and each
    // figure is the median of its rounds.
    let (mut base, mut fast, mut proven) = (Vec::new(), Vec::new(), Vec::new());
    let (mut base_bytes, mut ours_bytes) = (0, 0);
    for round in 0..rounds {
        let tmp = tempfile::tempdir().expect("temp dir");
        base.push(qrencode_loop(&items, tmp.path()));
        base_bytes = folder_bytes(&tmp.path().join("qrencode"), "png");
        fast.push(refboard_export(&items, &tmp.path().join("no-proof"), false));
        let proof_dir = tmp.path().join("proof");
        proven.push(refboard_export(&items, &proof_dir, true));
        ours_bytes = folder_bytes(&proof_dir, "png");
        eprintln!(
            "  round {}: qrencode {:.2} s, no proof {:.2} s ({:.2}x), with proof {:.2} s ({:.2}x)",
            round + 1,
            secs(&base[round]),
            secs(&fast[round]),
            secs(&fast[round]) / secs(&base[round]),
            secs(&proven[round]),
            secs(&proven[round]) / secs(&base[round]),
        );
    }
    let (base, fast, proven) = (median(base), median(fast), median(proven));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "print: {n} links as 1,230 px PNGs, no captions, {cores} core(s), median of {rounds} interleaved rounds"
    );
    println!(
        "  qrencode -s 30 -m 4 -l M, sh loop : {:>8.2} s   {:>6.2} MB",
        secs(&base),
        base_bytes as f64 / 1e6
    );
    println!(
        "  refboard export, no proof        : {:>8.2} s   ratio {:.2}x",
        secs(&fast),
        secs(&fast) / secs(&base)
    );
    println!(
        "  refboard export, with proof      : {:>8.2} s   ratio {:.2}x   {:>6.2} MB ({:.2}x qrencode's size)",
        secs(&proven),
        secs(&proven) / secs(&base),
        ours_bytes as f64 / 1e6,
        ours_bytes as f64 / base_bytes.max(1) as f64
    );
}

/// Rounds of the three runs (`REFBOARD_BENCH_ROUNDS`, default 5).
fn rounds() -> usize {
    std::env::var("REFBOARD_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5)
}

fn secs(d: &Duration) -> f64 {
    d.as_secs_f64()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
