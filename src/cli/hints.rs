//! The CLI's words for a library [`Hint`]: the flags and commands that get
//! the user out of an error. The library never names them (#18), so that the
//! dashboard can say the same thing with its own controls.

use crate::model::Hint;

/// What the user can do, in the CLI's words (flags and commands).
pub fn words(hint: &Hint) -> String {
    match hint {
        Hint::Overwrite => "pass --force to replace it".into(),
        Hint::ForceLogo => "pass --force to try more (the proof of scan still runs)".into(),
        Hint::ForceContrast => "pass --force to write it anyway".into(),
        Hint::ChooseLabelsLayout => "use --layout labels".into(),
        Hint::ChoosePaper(paper) => format!("use --paper {paper}"),
        Hint::ChoosePage(names) => format!("choose one with --page ({names})"),
        Hint::AddPage => "add one with `refboard page add USERNAME`".into(),
        Hint::AddRecord(what) => format!("add one with `refboard {what} add NAME`"),
        Hint::ListLinks => "list links with `refboard link list`".into(),
        Hint::ListAliases => "list aliases with `refboard link alias list`".into(),
        Hint::RemoveAliasFirst => "remove the alias first (refboard link alias remove)".into(),
        Hint::SeparateRelayFile => "give the relay a file of its own (e.g. --data /var/lib/refboard/relay.db), and pull its events into the dashboard with `refboard sync`".into(),
        Hint::SeparateDesktopFile => "give the dashboard a database of its own (--db), and pull the relay's events into it with `refboard sync --backend URL`".into(),
        Hint::Known { .. } | Hint::DidYouMean(_) => hint.plain_words().unwrap_or_default(),
    }
}
