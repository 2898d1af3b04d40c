//! Aliases: extra refs of a page that count for one of its links (see
//! [`crate::model::validate_alias`] for the rules).

use super::{Store, StoreError, now_secs};
use crate::model::{Alias, Hint, Warning, validate_alias};
use rusqlite::{Row, params};
use serde::Serialize;

/// An alias with the ref of the link it counts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasRow {
    /// The alias itself.
    #[serde(flatten)]
    pub alias: Alias,
    /// The ref of the link it counts for.
    pub link_ref: String,
}

const ALIAS_SELECT: &str = "SELECT a.id, a.page, a.alias, a.link, a.created_at, l.ref
    FROM link_aliases a JOIN links l ON l.id = a.link";

fn row_from(r: &Row<'_>) -> rusqlite::Result<AliasRow> {
    Ok(AliasRow {
        alias: Alias {
            id: r.get(0)?,
            page: r.get(1)?,
            ref_code: r.get(2)?,
            link: r.get(3)?,
            created_at: r.get(4)?,
        },
        link_ref: r.get(5)?,
    })
}

impl Store {
    /// Makes `alias` count for link `link`, on the link's page. Checked and
    /// written in one `BEGIN IMMEDIATE` transaction, so two writers cannot
    /// both take the same ref. Returns the alias with its ref's warnings.
    pub fn add_alias(
        &mut self,
        link: i64,
        alias: &str,
    ) -> Result<(AliasRow, Vec<Warning>), StoreError> {
        let page = self.link(link)?.link.page;
        let tx = self.conn.transaction()?;
        let column = |sql: &str| -> Result<Vec<String>, StoreError> {
            let mut stmt = tx.prepare_cached(sql)?;
            let rows = stmt.query_map([page], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let refs = column("SELECT ref FROM links WHERE page = ?1")?;
        let aliases = column("SELECT alias FROM link_aliases WHERE page = ?1")?;
        let warnings = validate_alias(
            alias,
            refs.iter().map(String::as_str),
            aliases.iter().map(String::as_str),
        )?;
        tx.execute(
            "INSERT INTO link_aliases (page, alias, link, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![page, alias, link, now_secs()],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        let row = self
            .conn
            .prepare_cached(&format!("{ALIAS_SELECT} WHERE a.id = ?1"))?
            .query_row([id], row_from)?;
        Ok((row, warnings))
    }

    /// Aliases, optionally of one page or one link, by page and alias.
    pub fn aliases(
        &self,
        page: Option<i64>,
        link: Option<i64>,
    ) -> Result<Vec<AliasRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ALIAS_SELECT} WHERE (?1 IS NULL OR a.page = ?1) AND (?2 IS NULL OR a.link = ?2)
             ORDER BY a.page, a.alias"
        ))?;
        let rows = stmt.query_map(params![page, link], row_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes the alias `alias` of `page` and returns what it was; its
    /// referrals show as untracked again.
    pub fn remove_alias(&mut self, page: i64, alias: &str) -> Result<AliasRow, StoreError> {
        let tx = self.conn.transaction()?;
        let found = tx
            .prepare_cached(&format!(
                "{ALIAS_SELECT} WHERE a.page = ?1 AND a.alias = ?2"
            ))?
            .query_row(params![page, alias], row_from);
        let row = match found {
            Ok(row) => row,
            Err(rusqlite::Error::QueryReturnedNoRows) => {
                return Err(StoreError::NotFound {
                    what: "alias",
                    value: alias.to_string(),
                    hint: Some(Hint::ListAliases),
                });
            }
            Err(e) => return Err(e.into()),
        };
        tx.execute("DELETE FROM link_aliases WHERE id = ?1", [row.alias.id])?;
        tx.commit()?;
        Ok(row)
    }
}

/// Refuses a link ref that is already an alias of the page (a ref counts
/// for one link only). Runs inside the caller's write transaction, so an
/// alias added meanwhile cannot slip in between the check and the insert.
pub(super) fn check_not_alias(
    conn: &rusqlite::Connection,
    page: i64,
    ref_code: &str,
) -> Result<(), StoreError> {
    use rusqlite::OptionalExtension;
    let found: Option<String> = conn
        .prepare_cached(
            "SELECT l.ref FROM link_aliases a JOIN links l ON l.id = a.link
             WHERE a.page = ?1 AND a.alias = ?2",
        )?
        .query_row(params![page, ref_code], |r| r.get(0))
        .optional()?;
    match found {
        Some(link_ref) => Err(StoreError::Invalid(
            crate::model::ValidationError::new(
                "ref",
                ref_code,
                format!("is an alias of link {link_ref:?} on this page"),
            )
            .with_hint(Hint::RemoveAliasFirst),
        )),
        None => Ok(()),
    }
}
