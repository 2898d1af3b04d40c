//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod backend;
pub mod cli;
pub mod conversions;
pub mod graph;
pub mod relay;
pub mod seed;
pub mod ui;

/// Decodes every QR code in a PNG with a real decoder (rqrr) and returns the texts.
pub fn decode_png(bytes: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(bytes).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("a readable code").1)
        .collect()
}

/// Decodes a PNG file that must hold exactly one code.
pub fn decode_one(path: &std::path::Path) -> String {
    let texts = decode_png(&std::fs::read(path).expect("the PNG exists"));
    assert_eq!(texts.len(), 1, "one code in {}", path.display());
    texts.into_iter().next().unwrap_or_default()
}

/// The fixtures folder (copied from Meta's documented shapes).
pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messenger")
}

/// The app secret the fixture signatures were made with.
pub const FIXTURE_APP_SECRET: &str = "refboard-fixture-app-secret";

/// One row of `expected_referrals.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub file: String,
    pub platform: String,
    pub page_id: String,
    pub sender: String,
    pub timestamp_ms: i64,
    pub kind: String,
    pub ref_code: String,
    pub source: String,
}

/// Every expected referral, in file order.
pub fn expected_referrals() -> Vec<Expected> {
    std::fs::read_to_string(fixtures().join("expected_referrals.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Expected {
                file: f[0].into(),
                platform: f[1].into(),
                page_id: f[2].into(),
                sender: f[3].into(),
                timestamp_ms: f[4].parse().unwrap(),
                kind: f[5].into(),
                ref_code: f[6].into(),
                source: f[7].into(),
            }
        })
        .collect()
}

/// Fixture file name → its X-Hub-Signature-256 header.
pub fn fixture_signatures() -> Vec<(String, String)> {
    std::fs::read_to_string(fixtures().join("signatures.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (f, s) = l.split_once('\t').unwrap();
            (f.to_string(), s.to_string())
        })
        .collect()
}

/// The fixture bodies, sorted by name.
pub fn fixture_bodies() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}
