//! Showing text that came from strangers (refs, sources, ad titles) on a
//! terminal or a GUI label without letting it act on the screen.
//!
//! Anyone can open `m.me/Page?ref=anything`, so a ref may carry ESC
//! sequences that recolour or rewrite a terminal, a CR that hides what came
//! before it, or a right-to-left override that makes `gpj.exe` read as
//! `exe.jpg`. [`safe_display`] turns every such character into a visible
//! escape and bounds the length. JSON output keeps the exact text; this is
//! only for people's eyes.

/// The longest text [`safe_text`] shows, in characters, ellipsis included.
pub const SAFE_TEXT_MAX_CHARS: usize = 200;

/// Why a character is shown as an escape instead of itself.
fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_bidi_control(c) || is_invisible_format(c)
}

/// Characters that change the direction of the text around them:
/// embeddings and overrides (U+202A–202E), isolates (U+2066–2069), the
/// left-to-right and right-to-left marks (U+200E/F) and the Arabic letter
/// mark (U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Invisible formatting characters (Unicode category Cf, plus the line and
/// paragraph separators and the invisible fillers that render as blanks): they
/// take no space, so two different refs could look the same.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Pushes the visible form of `c`: `\\` for a backslash (so an escape in the
/// output is never ambiguous), `\n`, `\r`, `\t`, `\0`, else `\u{XXXX}`.
fn push_escape(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => out.push_str(&format!("\\u{{{:04X}}}", u32::from(c))),
    }
}

/// `s` with control characters, bidi controls and invisible formatting
/// characters shown as visible escapes (`\u{202E}`, `\n`, `\\`), cut to at
/// most `max_chars` characters of output with a trailing `…` when cut.
///
/// Reads no further into `s` than it needs, so a huge input costs no more
/// than the bound. An escape is never cut in half.
pub fn safe_display(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(max_chars.min(s.len()).saturating_add(8));
    let mut shown = 0usize;
    let mut piece = String::new();
    for (i, c) in s.char_indices() {
        piece.clear();
        if needs_escape(c) {
            push_escape(&mut piece, c);
        } else {
            piece.push(c);
        }
        let width = piece.chars().count();
        // Room for this piece, and for the ellipsis if more text follows.
        let rest_follows = i + c.len_utf8() < s.len();
        let need = if rest_follows { width + 1 } else { width };
        if shown + need > max_chars {
            if max_chars > 0 {
                out.push('…');
            }
            return out;
        }
        out.push_str(&piece);
        shown += width;
    }
    out
}

/// Whether `c` can act on a terminal: every C0 control but the newline,
/// DEL, every C1 control (U+0080–U+009F, e.g. the 8-bit CSI U+009B) and the
/// bidi controls of [`is_bidi_control`].
pub fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\n') || is_bidi_control(c)
}

/// `s` with every character that [`acts_on_terminal`] shown as the same
/// visible escape [`safe_display`] uses (`\u{001B}`, `\r`, `\0`): the last
/// guard on the CLI's way to standard output and standard error, so nothing
/// reaches a terminal raw whatever a message quotes.
///
/// Unlike [`safe_display`] it leaves backslashes alone (text that already
/// went through [`safe_display`] is not escaped twice) and cuts nothing:
/// each character grows to at most 8, so the output stays within 8 times the
/// input. Borrows `s` when there is nothing to escape.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if acts_on_terminal(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`safe_display`] with the default bound, [`SAFE_TEXT_MAX_CHARS`].
pub fn safe_text(s: &str) -> String {
    safe_display(s, SAFE_TEXT_MAX_CHARS)
}

/// A channel kind as people say it, e.g. "Facebook ad" for `facebook_ad`.
pub fn channel_kind_label(kind: super::ChannelKind) -> &'static str {
    use super::ChannelKind as K;
    match kind {
        K::Website => "Website",
        K::App => "App",
        K::Flyer => "Flyer",
        K::Sms => "SMS",
        K::Email => "Email",
        K::FacebookAd => "Facebook ad",
        K::Social => "Social post",
        K::Print => "Print",
        K::Other => "Other",
    }
}

/// Meta's `source` as people say it: "m.me link" for `SHORTLINK` and
/// `SHORT-URL`, "Ad" for `ADS`, "Chat plugin (retired by Meta in May 2024)"
/// for `CUSTOMER_CHAT_PLUGIN`. A source Meta adds later is returned as
/// sent: it comes from the webhook, so every caller shows it through
/// [`safe_display`] like any stranger's text (once, never twice).
pub fn source_label(source: &str) -> String {
    match source {
        "SHORTLINK" | "SHORT-URL" => "m.me link".into(),
        "ADS" => "Ad".into(),
        "CUSTOMER_CHAT_PLUGIN" => "Chat plugin (retired by Meta in May 2024)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_kinds_read_as_words() {
        assert_eq!(source_label("SHORTLINK"), "m.me link");
        assert_eq!(source_label("SHORT-URL"), "m.me link");
        assert_eq!(source_label("ADS"), "Ad");
        assert_eq!(
            source_label("CUSTOMER_CHAT_PLUGIN"),
            "Chat plugin (retired by Meta in May 2024)"
        );
        assert_eq!(source_label("NEW_SURFACE"), "NEW_SURFACE");
        // Shown as sent, then escaped once on its way to the screen.
        assert_eq!(safe_text(&source_label("X\u{202E}Y")), "X\\u{202E}Y");
        assert_eq!(
            safe_text(&source_label("evil\u{1b}[31m")),
            "evil\\u{001B}[31m"
        );
        use super::super::ChannelKind;
        assert_eq!(channel_kind_label(ChannelKind::FacebookAd), "Facebook ad");
        assert_eq!(channel_kind_label(ChannelKind::Email), "Email");
        for k in ChannelKind::ALL {
            assert!(!channel_kind_label(k).contains('_'), "{k}");
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(safe_text("jaspersmarket_FB-ad=1"), "jaspersmarket_FB-ad=1");
        assert_eq!(safe_text("café 日本 🎉"), "café 日本 🎉");
        assert_eq!(safe_text(""), "");
    }

    #[test]
    fn control_characters_become_escapes() {
        assert_eq!(safe_text("a\u{1b}[31mred"), "a\\u{001B}[31mred");
        assert_eq!(safe_text("a\0b"), "a\\0b");
        assert_eq!(safe_text("hidden\rshown"), "hidden\\rshown");
        assert_eq!(safe_text("two\nlines"), "two\\nlines");
        assert_eq!(safe_text("tab\there"), "tab\\there");
        assert_eq!(safe_text("del\u{7f}"), "del\\u{007F}");
        assert_eq!(safe_text("c1\u{9b}31m"), "c1\\u{009B}31m");
        assert_eq!(safe_text("bell\u{7}"), "bell\\u{0007}");
    }

    #[test]
    fn every_bidi_control_becomes_an_escape() {
        let bidi = [
            0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F,
            0x061C,
        ];
        for cp in bidi {
            let c = char::from_u32(cp).unwrap();
            assert!(is_bidi_control(c), "{cp:X}");
            let shown = safe_text(&format!("gpj{c}.exe"));
            assert_eq!(shown, format!("gpj\\u{{{cp:04X}}}.exe"));
        }
    }

    #[test]
    fn invisible_formatting_characters_become_escapes() {
        for cp in [
            0x200B, 0x200C, 0x200D, 0x2060, 0x2063, 0xFEFF, 0x00AD, 0x180E, 0x2028, 0x2029,
            0xE0041, 0xFFF9, 0x3164, 0xFE0F,
        ] {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(safe_text(&format!("a{c}b")), format!("a\\u{{{cp:04X}}}b"));
        }
    }

    #[test]
    fn terminal_safe_escapes_what_acts_on_a_terminal_and_nothing_else() {
        assert_eq!(
            terminal_safe("t\u{1b}]0;x\u{7}\u{9b}2J\u{7f}\r\0\u{202E}"),
            "t\\u{001B}]0;x\\u{0007}\\u{009B}2J\\u{007F}\\r\\0\\u{202E}"
        );
        // Newlines stay; backslashes and escapes already shown stay as they are.
        let plain = "two\nlines \\u{001B} café \u{200B}";
        assert!(matches!(
            terminal_safe(plain),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(terminal_safe(&safe_text("a\u{1b}b")), "a\\u{001B}b");
        for cp in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(acts_on_terminal(c), c != '\n', "{cp:X}");
        }
    }

    #[test]
    fn a_backslash_is_doubled_so_escapes_are_unambiguous() {
        assert_eq!(safe_text("a\\u{202E}b"), "a\\\\u{202E}b");
        assert_ne!(safe_text("a\\u{202E}b"), safe_text("a\u{202E}b"));
    }

    #[test]
    fn length_is_bounded_with_an_ellipsis() {
        let long = "x".repeat(10_000);
        let shown = safe_display(&long, 20);
        assert_eq!(shown.chars().count(), 20);
        assert!(shown.ends_with('…'));
        assert_eq!(safe_display("exactly5", 8), "exactly5");
        assert_eq!(safe_display("", 0), "");
        assert_eq!(safe_display("abc", 0), "");
        // Escapes count as what is shown and are never cut in half.
        let shown = safe_display(&"\u{1b}".repeat(100), 20);
        assert!(shown.chars().count() <= 20, "{shown}");
        assert!(shown.ends_with("}…"), "{shown}");
        assert_eq!(
            safe_text(&"é".repeat(1000)).chars().count(),
            SAFE_TEXT_MAX_CHARS
        );
    }
}
