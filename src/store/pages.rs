//! Pages: add, list, pick, edit, remove.

use super::{Store, StoreError, now_secs};
use crate::model::{Hint, NewPage, Page, ValidationError, parse_page_target};
use rusqlite::{Connection, Row};

const PAGE_COLUMNS: &str = "id, name, target, page_id, created_at, ig_id";

fn page_from_row(r: &Row<'_>) -> rusqlite::Result<Page> {
    Ok(Page {
        id: r.get(0)?,
        name: r.get(1)?,
        target: r.get(2)?,
        page_id: r.get(3)?,
        created_at: r.get(4)?,
        ig_id: r.get(5)?,
    })
}

fn all_pages(conn: &Connection) -> Result<Vec<Page>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PAGE_COLUMNS} FROM pages ORDER BY name COLLATE NOCASE, id"
    ))?;
    let rows = stmt.query_map([], page_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// Adds a page, refusing a second spelling of an existing one.
    pub fn add_page(&mut self, new: &NewPage) -> Result<Page, StoreError> {
        let tx = self.conn.transaction()?;
        new.check_unique(&all_pages(&tx)?)?;
        tx.execute(
            "INSERT INTO pages (name, target, target_key, page_id, created_at, ig_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                new.name,
                new.target.as_str(),
                new.target.key(),
                new.page_id,
                now_secs(),
                new.ig_id
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        self.page(id)
    }

    /// Every page, sorted by name.
    pub fn pages(&self) -> Result<Vec<Page>, StoreError> {
        all_pages(&self.conn)
    }

    /// One page by store id.
    pub fn page(&self, id: i64) -> Result<Page, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id = ?1"))?
            .query_row([id], page_from_row)
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound {
                    what: "page",
                    value: id.to_string(),
                    hint: None,
                },
                e => e.into(),
            })
    }

    /// Picks the page a command works on.
    ///
    /// `selector` may be the display name, the username in any accepted form
    /// (case and periods ignored) or the numeric Page ID. Without a selector,
    /// the database must hold exactly one page.
    pub fn resolve_page(&self, selector: Option<&str>) -> Result<Page, StoreError> {
        let pages = self.pages()?;
        let names = || {
            pages
                .iter()
                .map(|p| format!("{:?}", p.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(sel) = selector else {
            return match pages.len() {
                1 => Ok(pages[0].clone()),
                0 => Err(StoreError::Invalid(
                    ValidationError::new("page", "", "the database has no page yet")
                        .with_hint(Hint::AddPage),
                )),
                _ => Err(StoreError::Invalid(
                    ValidationError::new("page", "", "the database has several pages")
                        .with_hint(Hint::ChoosePage(names())),
                )),
            };
        };
        let key = parse_page_target(sel).ok().map(|t| t.key());
        let found = pages.iter().find(|p| {
            p.name.to_lowercase() == sel.trim().to_lowercase()
                || Some(p.link_target().key()) == key
                || p.numeric_id() == Some(sel.trim())
        });
        found.cloned().ok_or_else(|| StoreError::NotFound {
            what: "page",
            value: sel.to_string(),
            hint: Some(if pages.is_empty() {
                Hint::AddPage
            } else {
                Hint::Known {
                    what: "page",
                    names: names(),
                }
            }),
        })
    }

    /// Replaces a page's name, target, Page ID and Instagram account id
    /// (validated as for a new page).
    pub fn update_page(&mut self, id: i64, new: &NewPage) -> Result<Page, StoreError> {
        let tx = self.conn.transaction()?;
        let others: Vec<Page> = all_pages(&tx)?.into_iter().filter(|p| p.id != id).collect();
        new.check_unique(&others)?;
        let changed = tx.execute(
            "UPDATE pages SET name = ?1, target = ?2, target_key = ?3, page_id = ?4, ig_id = ?5
             WHERE id = ?6",
            rusqlite::params![
                new.name,
                new.target.as_str(),
                new.target.key(),
                new.page_id,
                new.ig_id,
                id
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "page",
                value: id.to_string(),
                hint: None,
            });
        }
        tx.commit()?;
        self.page(id)
    }

    /// Removes a page with its channels and campaigns; refused while it has links.
    pub fn remove_page(&mut self, id: i64) -> Result<(), StoreError> {
        let page = self.page(id)?;
        let tx = self.conn.transaction()?;
        let links: i64 = tx.query_row("SELECT count(*) FROM links WHERE page = ?1", [id], |r| {
            r.get(0)
        })?;
        if links > 0 {
            return Err(StoreError::Conflict(format!(
                "cannot remove page {:?}: it has {links} link(s); remove or archive them first",
                page.name
            )));
        }
        tx.execute("DELETE FROM channels WHERE page = ?1", [id])?;
        tx.execute("DELETE FROM campaigns WHERE page = ?1", [id])?;
        tx.execute("DELETE FROM pages WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }
}
