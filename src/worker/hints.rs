//! The dashboard's words for a library [`Hint`]: the controls that get the
//! user out of an error (the CLI says the same with its flags, in
//! `cli::hints`). A leaf beside `wording.rs`, not in it: the protocol's
//! `Failure` words its errors with it, and `wording.rs` uses the protocol.

use crate::model::Hint;

/// An error as the dashboard shows it: its text, then the library's hint
/// (if any) in the dashboard's words.
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let text = e.to_string();
    match crate::ops::hint(e) {
        Some(h) => format!("{text}; {}", hint(h)),
        None => text,
    }
}

/// What the user can do, in the dashboard's words: the controls it has
/// (the CLI says the same with its flags, in `cli::hints`).
pub fn hint(hint: &Hint) -> String {
    match hint {
        Hint::Overwrite => "export again and choose Replace file when asked".into(),
        Hint::ForceLogo => "the dashboard places logos within this share only".into(),
        Hint::ForceContrast => "choose a darker Code colour or a lighter Background colour".into(),
        Hint::ChooseLabelsLayout => "choose labels under Layout".into(),
        Hint::ChoosePaper(paper) => format!("choose {paper} under Paper"),
        Hint::ChoosePage(names) => format!("choose one under Page ({names})"),
        Hint::AddPage => "add one with Add page".into(),
        Hint::AddRecord(what) => format!("add one with Add {what} on the Links screen"),
        Hint::ListLinks => "the Links screen lists them".into(),
        Hint::ListAliases => "the link's detail lists its aliases".into(),
        Hint::RemoveAliasFirst => "remove the alias first (Remove alias in the link's detail)".into(),
        Hint::SeparateRelayFile => "give the relay a file of its own, and pull its events into the dashboard with Sync now".into(),
        Hint::SeparateDesktopFile => "give the dashboard a database of its own, enter the relay under Backend, and pull its events with Sync now".into(),
        Hint::Known { .. } | Hint::DidYouMean(_) => hint.plain_words().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dashboard asks before replacing a file, so the real App never
    /// shows this refusal; its words still name the dashboard's button.
    #[test]
    fn an_existing_file_is_worded_with_the_replace_button() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("code.png");
        std::fs::write(&file, b"x").unwrap();
        let e = crate::export::write_atomic_with(&file, b"y", false).unwrap_err();
        let text = error_text(&e);
        assert!(
            text.ends_with("the file exists; export again and choose Replace file when asked"),
            "{text}"
        );
        assert!(!text.contains("--"), "{text}");
    }
}
