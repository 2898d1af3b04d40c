//! What the user can do about an error, as a value: each front end says it
//! in its own words (the CLI names its flags and commands, the dashboard its
//! controls), so no library error speaks the language of one front end.

/// A way out of an error, rendered by the front end that shows the error.
///
/// The library attaches one to a [`super::ValidationError`] (or to the
/// store's `NotFound` and `WrongKind`); its own `Display` never includes
/// it. The CLI renders it in `cli`, the dashboard in `worker::wording`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// The output file exists; replacing it must be asked for.
    Overwrite,
    /// The logo is larger than error correction H can carry; allowing more is a choice.
    ForceLogo,
    /// The colours' contrast is below the hard floor; writing it anyway is a choice.
    ForceContrast,
    /// Printer offsets apply to the label-sheet layout only.
    ChooseLabelsLayout,
    /// The label sheet needs this paper (its display name, e.g. "A4").
    ChoosePaper(&'static str),
    /// Several pages exist and none was chosen; the list of their names, quoted.
    ChoosePage(String),
    /// The database has no page yet.
    AddPage,
    /// The named link does not exist; the list of links helps.
    ListLinks,
    /// The named alias does not exist; the list of aliases helps.
    ListAliases,
    /// The ref is an alias of another link; the alias must go first.
    RemoveAliasFirst,
    /// A dashboard database was given to the relay: the relay needs a file of its own.
    SeparateRelayFile,
    /// A relay database was given to the dashboard: the dashboard needs one of its own.
    SeparateDesktopFile,
    /// No channel or campaign yet (`what` says which); add one first.
    AddRecord(&'static str),
    /// The names that would have matched (`what` is page, channel or
    /// campaign; `names` comma-separated); the same words in every front end.
    Known {
        /// page, channel or campaign.
        what: &'static str,
        /// The names, comma-separated.
        names: String,
    },
    /// Refs that differ only in case from what was typed; the same words
    /// in every front end.
    DidYouMean(String),
}

impl Hint {
    /// The words for hints that name no control of any front end, or `None`
    /// when the front end must say it in its own words.
    pub fn plain_words(&self) -> Option<String> {
        match self {
            Hint::Known { what, names } => Some(format!("{what}s: {names}")),
            Hint::DidYouMean(near) => {
                Some(format!("refs are case-sensitive, did you mean {near}?"))
            }
            _ => None,
        }
    }
}
