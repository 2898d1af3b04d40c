//! Links: the m.me URLs with a ref code that people open.

use super::{Store, StoreError, flag, now_secs};
use crate::model::{ExportItem, Hint, Link, NewLink, PageTarget, Warning, link_url};
use rusqlite::{Row, params};
use serde::Serialize;

/// Which links to list.
#[derive(Debug, Clone, Default)]
pub struct LinkFilter {
    /// Only this page.
    pub page: Option<i64>,
    /// Only this campaign.
    pub campaign: Option<i64>,
    /// Only this channel.
    pub channel: Option<i64>,
    /// Include archived links.
    pub include_archived: bool,
}

/// A link with the names a table shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkRow {
    /// The link itself.
    #[serde(flatten)]
    pub link: Link,
    /// Campaign name.
    pub campaign_name: String,
    /// Channel name.
    pub channel_name: String,
    /// Page display name.
    pub page_name: String,
    /// Page link target.
    pub page_target: String,
    /// The m.me URL.
    pub url: String,
}

/// The names and URL a print sheet or an exported file shows for the link.
impl From<LinkRow> for ExportItem {
    fn from(r: LinkRow) -> Self {
        Self {
            page_name: r.page_name,
            campaign: r.campaign_name,
            channel: r.channel_name,
            ref_code: r.link.ref_code,
            url: r.url,
            cta: r.link.cta,
        }
    }
}

const LINK_SELECT: &str =
    "SELECT l.id, l.page, l.campaign, l.channel, l.ref, l.cta, l.prefill_text,
        l.notes, l.archived, l.created_at, cm.name, ch.name, p.name, p.target
    FROM links l
    JOIN campaigns cm ON cm.id = l.campaign
    JOIN channels ch ON ch.id = l.channel
    JOIN pages p ON p.id = l.page";

fn row_from(r: &Row<'_>) -> rusqlite::Result<LinkRow> {
    let link = Link {
        id: r.get(0)?,
        page: r.get(1)?,
        campaign: r.get(2)?,
        channel: r.get(3)?,
        ref_code: r.get(4)?,
        cta: r.get(5)?,
        prefill_text: r.get(6)?,
        notes: r.get(7)?,
        archived: flag(r.get(8)?),
        created_at: r.get(9)?,
    };
    let page_target: String = r.get(13)?;
    let url = link_url(
        &PageTarget::from_stored(&page_target),
        &link.ref_code,
        link.prefill_text.as_deref(),
    );
    Ok(LinkRow {
        link,
        campaign_name: r.get(10)?,
        channel_name: r.get(11)?,
        page_name: r.get(12)?,
        page_target,
        url,
    })
}

impl Store {
    /// Every ref code of a page, for uniqueness checks and suggestions.
    pub fn refs(&self, page: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ref FROM links WHERE page = ?1 ORDER BY ref")?;
        let rows = stmt.query_map([page], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates a link; the campaign and channel must belong to `page`.
    /// Returns the link with any warnings its ref raised.
    pub fn add_link(
        &mut self,
        page: i64,
        campaign: i64,
        channel: i64,
        new: &NewLink,
    ) -> Result<(LinkRow, Vec<Warning>), StoreError> {
        self.check_belongs(page, campaign, channel)?;
        let tx = self.conn.transaction()?;
        super::aliases::check_not_alias(&tx, page, &new.ref_code)?;
        let existing: Vec<String> = {
            let mut stmt = tx.prepare_cached("SELECT ref FROM links WHERE page = ?1")?;
            stmt.query_map([page], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let warning = new.check_unique(existing.iter().map(String::as_str))?;
        tx.execute(
            "INSERT INTO links (page, campaign, channel, ref, cta, prefill_text, notes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                page,
                campaign,
                channel,
                new.ref_code,
                new.cta,
                new.prefill_text,
                new.notes,
                now_secs()
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok((self.link(id)?, warning.into_iter().collect()))
    }

    fn check_belongs(&self, page: i64, campaign: i64, channel: i64) -> Result<(), StoreError> {
        let campaign = self.campaign(campaign)?;
        let channel = self.channel(channel)?;
        if campaign.page != page || channel.page != page {
            return Err(StoreError::Conflict(format!(
                "campaign {:?} and channel {:?} must belong to the link's page",
                campaign.name, channel.name
            )));
        }
        Ok(())
    }

    /// One link by store id.
    pub fn link(&self, id: i64) -> Result<LinkRow, StoreError> {
        self.conn
            .prepare_cached(&format!("{LINK_SELECT} WHERE l.id = ?1"))?
            .query_row([id], row_from)
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound {
                    what: "link",
                    value: id.to_string(),
                    hint: None,
                },
                e => e.into(),
            })
    }

    /// Finds a link of `page` by its exact ref code.
    pub fn link_by_ref(&self, page: i64, ref_code: &str) -> Result<LinkRow, StoreError> {
        match self
            .conn
            .prepare_cached(&format!("{LINK_SELECT} WHERE l.page = ?1 AND l.ref = ?2"))?
            .query_row(params![page, ref_code], row_from)
        {
            Ok(row) => Ok(row),
            Err(rusqlite::Error::QueryReturnedNoRows) => {
                let near: Vec<String> = self
                    .refs(page)?
                    .into_iter()
                    .filter(|r| r.eq_ignore_ascii_case(ref_code))
                    .collect();
                Err(StoreError::NotFound {
                    what: "link",
                    value: ref_code.to_string(),
                    hint: Some(if near.is_empty() {
                        Hint::ListLinks
                    } else {
                        Hint::DidYouMean(near.join(", "))
                    }),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Links matching `filter`, by campaign, channel and ref.
    pub fn links(&self, filter: &LinkFilter) -> Result<Vec<LinkRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{LINK_SELECT}
             WHERE (?1 IS NULL OR l.page = ?1) AND (?2 IS NULL OR l.campaign = ?2)
               AND (?3 IS NULL OR l.channel = ?3) AND (?4 OR l.archived = 0)
             ORDER BY p.name COLLATE NOCASE, cm.name COLLATE NOCASE, ch.name COLLATE NOCASE, l.ref"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.page,
                filter.campaign,
                filter.channel,
                filter.include_archived
            ],
            row_from,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces a link's campaign, channel and fields, re-checking the ref.
    pub fn update_link(
        &mut self,
        id: i64,
        campaign: i64,
        channel: i64,
        new: &NewLink,
    ) -> Result<(LinkRow, Vec<Warning>), StoreError> {
        let current = self.link(id)?;
        let page = current.link.page;
        self.check_belongs(page, campaign, channel)?;
        let tx = self.conn.transaction()?;
        super::aliases::check_not_alias(&tx, page, &new.ref_code)?;
        let existing: Vec<String> = {
            let mut stmt =
                tx.prepare_cached("SELECT ref FROM links WHERE page = ?1 AND id != ?2")?;
            stmt.query_map(params![page, id], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let warning = new.check_unique(existing.iter().map(String::as_str))?;
        tx.execute(
            "UPDATE links SET campaign = ?1, channel = ?2, ref = ?3, cta = ?4, prefill_text = ?5,
                notes = ?6 WHERE id = ?7",
            params![
                campaign,
                channel,
                new.ref_code,
                new.cta,
                new.prefill_text,
                new.notes,
                id
            ],
        )?;
        tx.commit()?;
        Ok((self.link(id)?, warning.into_iter().collect()))
    }

    /// Archives or restores a link.
    pub fn set_link_archived(&mut self, id: i64, archived: bool) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE links SET archived = ?1 WHERE id = ?2",
            params![archived, id],
        )?;
        Ok(())
    }

    /// Removes a link. Referral events that carry its ref are kept; they then
    /// show up as untracked refs.
    pub fn remove_link(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM links WHERE id = ?1", [id])?;
        Ok(())
    }
}
