//! Property tests: random and mutated input through every parser a stranger
//! can reach. No panic, allocation bounded by the input, and every refusal a
//! clear error.
//!
//! `cargo test` runs a fast subset (256 cases a property). The benchmark run
//! sets `PROPTEST_CASES=100000`; see docs/benchmarks.md.

// Test and bench code: a panic is a failed test, and printing is its report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use proptest::prelude::*;
use refboard::import::{LineReader, ReadLine};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---------------------------------------------------------------- allocation meter

/// Counts this thread's live heap bytes and their peak, so that a property can
/// bound what one call allocates.
struct Meter;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(delta);
        live.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now)
            }
        });
    });
}

// SAFETY: every call is passed straight to the system allocator; the meter
// only adds and subtracts sizes in const-initialised thread-locals.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static METER: Meter = Meter;

/// Runs `f` and returns its result with the most heap it held at once, in bytes.
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, usize::try_from(peak - base).unwrap_or(0))
}

/// The heap one parse may use: a fixed allowance plus a multiple of the input.
fn heap_bound(input_len: usize) -> usize {
    256 * 1024 + 32 * input_len
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- webhook bodies

fn fixtures() -> Vec<Vec<u8>> {
    common::fixture_bodies()
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

/// One byte-level edit of a body.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn apply(mut body: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = body.len().max(1);
        match *e {
            Edit::Flip(i, b) => {
                if let Some(x) = body.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Edit::Insert(i, b) => body.insert((i % len).min(body.len()), b),
            Edit::Delete(i) => {
                if !body.is_empty() {
                    body.remove(i % len);
                }
            }
            Edit::Truncate(i) => body.truncate(i % len),
            Edit::Duplicate(i, n) => {
                let start = (i % len).min(body.len());
                let end = (start + n % 64).min(body.len());
                let piece = body[start..end].to_vec();
                body.splice(start..start, piece);
            }
        }
    }
    body
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

/// A JSON value a stranger might put anywhere in a body.
fn hostile_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-9.9e300)),
        ".{0,40}".prop_map(Value::String),
        "[=+@\\-\t\r\u{1b}\u{202e}\0a-z]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the node at `path` (indices taken modulo each container's size).
fn replace_at(v: &mut serde_json::Value, path: &[usize], with: serde_json::Value) {
    let Some((&first, rest)) = path.split_first() else {
        *v = with;
        return;
    };
    let child = match v {
        serde_json::Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            a.get_mut(first % n)
        }
        serde_json::Value::Object(o) if !o.is_empty() => {
            let n = o.len();
            o.values_mut().nth(first % n)
        }
        _ => None,
    };
    match child {
        Some(c) => replace_at(c, rest, with),
        None => *v = with,
    }
}

fn check_webhook(body: &[u8]) -> Result<(), TestCaseError> {
    let (result, heap) = peak_heap(|| refboard::messenger::parse_webhook(body));
    prop_assert!(
        heap <= heap_bound(body.len()),
        "{heap} bytes for a {}-byte body",
        body.len()
    );
    match result {
        Ok(refs) => {
            for r in refs {
                prop_assert!(!r.page_id.is_empty());
                let _ = r.into_event(b"key", 0);
            }
        }
        Err(e) => prop_assert!(!e.to_string().trim().is_empty()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn webhook_parser_survives_byte_mutations_of_the_fixtures(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let bodies = fixtures();
        let body = apply(which.get(&bodies).clone(), &edits);
        check_webhook(&body)?;
    }

    #[test]
    fn webhook_parser_survives_hostile_values_anywhere_in_the_fixtures(
        which in any::<prop::sample::Index>(),
        path in prop::collection::vec(any::<usize>(), 0..7),
        value in hostile_json(),
    ) {
        let bodies = fixtures();
        let mut v: serde_json::Value = serde_json::from_slice(which.get(&bodies).as_slice()).unwrap();
        replace_at(&mut v, &path, value);
        check_webhook(&serde_json::to_vec(&v).unwrap())?;
    }

    #[test]
    fn webhook_parser_survives_random_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_webhook(&body)?;
    }

    #[test]
    fn ref_validator_accepts_or_names_the_rule(code in ".{0,80}|[a-zA-Z0-9_=+/.:\\-]{0,2200}") {
        let (result, heap) = peak_heap(|| refboard::model::validate_ref(&code));
        prop_assert!(heap <= heap_bound(code.len()) * 4);
        match result {
            Ok(_) => {
                prop_assert!(!code.is_empty());
                let encoded = refboard::model::percent_encode_component(&code);
                prop_assert!(encoded.len() <= refboard::model::MAX_REF_ENCODED_LEN);
            }
            Err(e) => {
                prop_assert_eq!(e.field, "ref");
                prop_assert!(!e.rule.is_empty());
                prop_assert!(e.value.chars().count() <= 80);
            }
        }
    }

    #[test]
    fn page_validators_accept_or_name_the_rule(
        input in ".{0,60}|(https?://)?(www\\.|m\\.)?(facebook\\.com|m\\.me|fb\\.com)/[a-zA-Z0-9.\\-_/?=&%]{0,60}|@?[a-zA-Z0-9.]{0,60}|[0-9]{0,25}",
    ) {
        let (result, heap) = peak_heap(|| refboard::model::parse_page_target(&input));
        prop_assert!(heap <= heap_bound(input.len()) * 4);
        if let Err(e) = result {
            prop_assert!(!e.field.is_empty() && !e.rule.is_empty());
        }
        if let Err(e) = refboard::model::parse_page_id(&input) {
            prop_assert!(!e.field.is_empty() && !e.rule.is_empty());
        }
        if let Err(e) = refboard::model::NewPage::parse(&input, None, None) {
            prop_assert!(!e.field.is_empty() && !e.rule.is_empty());
        }
    }

    #[test]
    fn safe_display_is_bounded_and_shows_no_control_character(
        text in ".{0,300}",
        max in 0usize..100,
    ) {
        let shown = refboard::model::safe_display(&text, max);
        prop_assert!(shown.chars().count() <= max);
        for c in shown.chars() {
            prop_assert!(
                !c.is_control()
                    && !refboard::model::is_bidi_control(c)
                    && !refboard::model::is_invisible_format(c),
                "{c:?} in {shown:?}"
            );
        }
    }

    #[test]
    fn import_line_reader_accounts_for_every_line_within_its_cap(
        lines in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..40),
                (0usize..200).prop_map(|n| vec![b'x'; n]),
            ],
            0..20,
        ),
        cap in 1usize..64,
        final_newline in any::<bool>(),
    ) {
        let mut input = lines.join(&b'\n');
        if final_newline && !lines.is_empty() {
            input.push(b'\n');
        }
        let mut reader = LineReader::new(&input[..], cap);
        let (seen, heap) = peak_heap(|| {
            let mut seen = Vec::new();
            while let Some(line) = reader.next_line().unwrap() {
                seen.push(match line {
                    ReadLine::Body(n, bytes) => (n, Some(bytes.to_vec())),
                    ReadLine::TooLong(n) => (n, None),
                });
            }
            seen
        });
        prop_assert!(heap <= 64 * 1024 + 16 * cap + 48 * lines.len());
        // An empty piece after the last newline is not a line.
        let mut lines = lines;
        if !final_newline && lines.last().is_some_and(Vec::is_empty) {
            lines.pop();
        }
        let expected: Vec<(usize, Option<Vec<u8>>)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i + 1, (l.len() <= cap).then(|| l.clone())))
            .collect();
        prop_assert_eq!(seen, expected);
    }

    #[test]
    fn sync_page_decoder_accepts_pages_or_says_why(
        edits in prop::collection::vec(edit(), 0..6),
        raw in prop::collection::vec(any::<u8>(), 0..256),
        use_raw in any::<bool>(),
    ) {
        let page = serde_json::json!({
            "events": [{
                "event_id": "0000019ac2f1e000-1", "platform": "messenger", "page_id": "104729178032417",
                "sender": "ab", "timestamp_ms": 1764201600000i64, "kind": "new", "ref": "=x",
                "source": "SHORTLINK", "type": "OPEN_THREAD", "received_at_ms": 1764201600000i64
            }],
            "next_cursor": "1",
            "has_more": false
        });
        let body = if use_raw { raw } else { apply(serde_json::to_vec(&page).unwrap(), &edits) };
        let (result, heap) = peak_heap(|| refboard::sync::decode_page(&body));
        prop_assert!(heap <= heap_bound(body.len()));
        match result {
            Ok(p) => prop_assert!(p.events.len() <= body.len()),
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("not a page of events"), "{}", msg);
            }
        }
    }
}

#[test]
fn the_untouched_fixtures_parse() {
    for body in fixtures() {
        check_webhook(&body).unwrap();
    }
}
