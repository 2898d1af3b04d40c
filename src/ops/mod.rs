//! Use cases shared by the command line and the dashboard's worker.
//!
//! Both front ends must agree on what a failure means: the CLI turns it into
//! an exit status (2 for the user's mistakes, 1 for the world's and for
//! refboard's own), the dashboard into an error it shows and, for internal
//! failures, logs. [`blame`] is that one decision.
//!
//! Each use case returns a typed result plus warnings and says nothing: the
//! front ends word it. Files, in order: `link` (save a link with its rename
//! warning), `export` (the logo, the links chosen, one code, bulk), `sync`
//! (pull, then keep the source once a page has committed), `import` (files
//! in turn, going on past unreadable ones), `doctor` (the setup doctor:
//! Graph API and relay checks, and the fixes it offers).

pub mod doctor;
pub mod export;
pub mod import;
pub mod link;
pub mod sync;

use crate::codes::QrError;
use crate::export::ExportError;
use crate::model::{Hint, InternalError, ValidationError};
use crate::store::StoreError;
use crate::sync::SyncError;
use std::error::Error;

/// Who a failure is down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The user's input or choice; they can correct it (CLI exit 2).
    User,
    /// The world: disk, network, database, a backend (CLI exit 1).
    World,
    /// refboard itself; never blamed on the user (CLI exit 1).
    Internal,
}

/// Blames an error by looking through its chain of causes.
pub fn blame(e: &(dyn Error + 'static)) -> Blame {
    let mut chain = Vec::new();
    let mut next = Some(e);
    while let Some(c) = next {
        chain.push(c);
        next = c.source();
    }
    blame_chain(chain.into_iter())
}

/// Blames a chain of causes, outermost first.
///
/// Every module wraps a [`ValidationError`] as the source of its error, so
/// one look through the chain finds it. Three user errors carry no rule and
/// are named here: a name that matches nothing or a conflicting record
/// (store), a link too long for a QR code, and a backend that refuses the
/// URL or token (sync). An [`InternalError`] anywhere wins.
pub fn blame_chain<'a>(chain: impl Iterator<Item = &'a (dyn Error + 'static)>) -> Blame {
    let mut user = false;
    for c in chain {
        if c.is::<InternalError>() {
            return Blame::Internal;
        }
        user = user
            || c.is::<ValidationError>()
            || c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_user_error)
            || c.downcast_ref::<ExportError>()
                .is_some_and(ExportError::is_user_error)
            || c.downcast_ref::<QrError>()
                .is_some_and(|q| matches!(q, QrError::TooLong { .. }))
            || c.downcast_ref::<SyncError>()
                .is_some_and(|e| matches!(e, SyncError::Config(_)))
            || c.downcast_ref::<crate::graph::GraphError>()
                .is_some_and(crate::graph::GraphError::is_user_error)
            || c.downcast_ref::<doctor::DoctorError>()
                .is_some_and(doctor::DoctorError::is_user_error);
    }
    if user { Blame::User } else { Blame::World }
}

/// The way out that the library attached to an error, found through its
/// chain of causes (outermost first); each front end words it itself.
///
/// Hints ride on a [`ValidationError`] or on the store's `NotFound` and
/// `WrongKind`; the innermost one is the most specific.
pub fn hint_in<'a>(chain: impl Iterator<Item = &'a (dyn Error + 'static)>) -> Option<&'a Hint> {
    let mut found = None;
    for c in chain {
        let hint = if let Some(v) = c.downcast_ref::<ValidationError>() {
            v.hint.as_ref()
        } else {
            match c.downcast_ref::<StoreError>() {
                Some(StoreError::NotFound { hint, .. }) => hint.as_ref(),
                Some(StoreError::WrongKind { hint, .. }) => Some(hint),
                _ => None,
            }
        };
        found = hint.or(found);
    }
    found
}

/// [`hint_in`] for one error and its sources.
pub fn hint<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a Hint> {
    hint_in(std::iter::successors(
        Some(e),
        |c: &&'a (dyn Error + 'static)| (*c).source(),
    ))
}

#[cfg(test)]
mod hint_tests;
