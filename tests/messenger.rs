//! Webhook parsing and signatures against every fixture in Meta's shapes.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use common::*;
use refboard::messenger::{Sender, parse_webhook, sign, verify_signature};

#[test]
fn every_fixture_parses_to_the_expected_referrals() {
    let expected = expected_referrals();
    let mut seen = 0;
    for (file, body) in fixture_bodies() {
        let got = parse_webhook(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want: Vec<&Expected> = expected.iter().filter(|e| e.file == file).collect();
        assert_eq!(got.len(), want.len(), "{file}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.platform.as_str(), w.platform, "{file}");
            assert_eq!(g.page_id, w.page_id, "{file}");
            assert_eq!(g.sender.value(), w.sender, "{file}");
            assert_eq!(g.timestamp_ms, w.timestamp_ms, "{file}");
            assert_eq!(g.kind.as_str(), w.kind, "{file}");
            assert_eq!(g.ref_code.as_deref(), Some(w.ref_code.as_str()), "{file}");
            assert_eq!(g.source.as_deref(), Some(w.source.as_str()), "{file}");
            seen += 1;
        }
    }
    assert_eq!(seen, expected.len());
}

#[test]
fn extra_fields_are_kept() {
    let body = std::fs::read(fixtures().join("messaging_referral_ads.json")).unwrap();
    let r = &parse_webhook(&body).unwrap()[0];
    assert_eq!(r.ad_id.as_deref(), Some("23851234567890123"));
    assert_eq!(r.ad_title.as_deref(), Some("Fresh peaches, delivered"));
    assert_eq!(r.ref_type.as_deref(), Some("OPEN_THREAD"));
    let body = std::fs::read(fixtures().join("chat_plugin_referral_user_ref.json")).unwrap();
    let r = &parse_webhook(&body).unwrap()[0];
    assert!(matches!(r.sender, Sender::UserRef(_)));
    assert_eq!(
        r.referer_uri.as_deref(),
        Some("https://jaspersmarket.example/checkout")
    );
}

#[test]
fn fixture_signatures_verify_and_tampering_fails() {
    let secret = FIXTURE_APP_SECRET.as_bytes();
    let sigs = fixture_signatures();
    assert_eq!(sigs.len(), 8);
    for (file, header) in sigs {
        let body = std::fs::read(fixtures().join(&file)).unwrap();
        assert_eq!(sign(secret, &body), header, "{file}");
        verify_signature(secret, &body, Some(&header)).unwrap();
        let mut tampered = body.clone();
        tampered[body.len() / 2] ^= 1;
        assert!(
            verify_signature(secret, &tampered, Some(&header)).is_err(),
            "{file}"
        );
        assert!(verify_signature(b"another-secret", &body, Some(&header)).is_err());
        assert!(verify_signature(secret, &body, None).is_err());
        assert!(
            verify_signature(secret, &body, Some(header.trim_start_matches("sha256="))).is_err()
        );
        assert!(verify_signature(secret, &body, Some("sha256=zz")).is_err());
    }
}

#[test]
fn redeliveries_share_an_event_id_and_senders_are_hashed() {
    let body = std::fs::read(fixtures().join("batch_mixed.json")).unwrap();
    let a: Vec<_> = parse_webhook(&body)
        .unwrap()
        .into_iter()
        .map(|r| r.into_event(b"k", 1))
        .collect();
    let b: Vec<_> = parse_webhook(&body)
        .unwrap()
        .into_iter()
        .map(|r| r.into_event(b"k", 2))
        .collect();
    let ids: Vec<&str> = a.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids,
        b.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>()
    );
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3);
    for e in &a {
        assert_eq!(e.sender.len(), 32);
        assert!(
            !body
                .windows(e.sender.len())
                .any(|w| w == e.sender.as_bytes())
        );
        assert!(!e.sender.contains("6111111111111111"));
    }
    // Another key gives other hashes.
    let c = parse_webhook(&body)
        .unwrap()
        .remove(0)
        .into_event(b"other", 1);
    assert_ne!(c.sender, a[0].sender);
}
