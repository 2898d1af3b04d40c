//! Channels and campaigns: the two ways links of a page are grouped.
//!
//! Both are named per page (unique ignoring case), can be archived, and
//! cannot be removed while links use them.

use super::{Store, StoreError, flag, now_secs};
use crate::model::{
    Campaign, Channel, ChannelKind, Hint, NewCampaign, ValidationError, parse_date, validate_name,
};
use rusqlite::{Connection, Row, params};

/// The two grouping tables; their names are fixed strings, never user input.
#[derive(Clone, Copy)]
enum Group {
    Channel,
    Campaign,
}

impl Group {
    fn table(self) -> &'static str {
        match self {
            Group::Channel => "channels",
            Group::Campaign => "campaigns",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Group::Channel => "channel",
            Group::Campaign => "campaign",
        }
    }
}

/// Finds a record of `group` on `page` by name (ignoring case) and returns its id.
fn find_id(conn: &Connection, group: Group, page: i64, name: &str) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT id FROM {} WHERE page = ?1 AND name = ?2 COLLATE NOCASE",
        group.table()
    );
    match conn
        .prepare_cached(&sql)?
        .query_row(params![page, name.trim()], |r| r.get(0))
    {
        Ok(id) => Ok(id),
        Err(rusqlite::Error::QueryReturnedNoRows) => {
            let sql = format!(
                "SELECT name FROM {} WHERE page = ?1 ORDER BY name COLLATE NOCASE",
                group.table()
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let names: Vec<String> = stmt
                .query_map([page], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?;
            let hint = Some(if names.is_empty() {
                Hint::AddRecord(group.what())
            } else {
                Hint::Known {
                    what: group.what(),
                    names: names.join(", "),
                }
            });
            Err(StoreError::NotFound {
                what: group.what(),
                value: name.to_string(),
                hint,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses a name already used on `page` by another record than `except`.
fn check_name_free(
    conn: &Connection,
    group: Group,
    page: i64,
    name: &str,
    except: Option<i64>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT count(*) FROM {} WHERE page = ?1 AND name = ?2 COLLATE NOCASE AND id IS NOT ?3",
        group.table()
    );
    let taken: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params![page, name, except], |r| r.get(0))?;
    if taken > 0 {
        return Err(ValidationError::new(
            "name",
            name,
            format!("this page already has a {} with this name", group.what()),
        )
        .into());
    }
    Ok(())
}

fn set_archived(
    conn: &Connection,
    group: Group,
    id: i64,
    archived: bool,
) -> Result<(), StoreError> {
    let sql = format!("UPDATE {} SET archived = ?1 WHERE id = ?2", group.table());
    conn.execute(&sql, params![archived, id])?;
    Ok(())
}

fn remove(conn: &mut Connection, group: Group, id: i64, name: &str) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let sql = format!("SELECT count(*) FROM links WHERE {} = ?1", group.what());
    let used: i64 = tx.query_row(&sql, [id], |r| r.get(0))?;
    if used > 0 {
        return Err(StoreError::Conflict(format!(
            "cannot remove {} {name:?}: {used} link(s) use it; archive it instead",
            group.what()
        )));
    }
    tx.execute(
        &format!("DELETE FROM {} WHERE id = ?1", group.table()),
        [id],
    )?;
    tx.commit()?;
    Ok(())
}

fn channel_from_row(r: &Row<'_>) -> rusqlite::Result<Channel> {
    let kind: String = r.get(3)?;
    Ok(Channel {
        id: r.get(0)?,
        page: r.get(1)?,
        name: r.get(2)?,
        kind: kind.parse().unwrap_or(ChannelKind::Other),
        archived: flag(r.get(4)?),
        created_at: r.get(5)?,
    })
}

fn campaign_from_row(r: &Row<'_>) -> rusqlite::Result<Campaign> {
    let date = |i: usize| -> rusqlite::Result<Option<chrono::NaiveDate>> {
        let s: Option<String> = r.get(i)?;
        Ok(s.and_then(|s| parse_date("date", &s).ok()))
    };
    Ok(Campaign {
        id: r.get(0)?,
        page: r.get(1)?,
        name: r.get(2)?,
        starts_on: date(3)?,
        ends_on: date(4)?,
        notes: r.get(5)?,
        archived: flag(r.get(6)?),
        created_at: r.get(7)?,
    })
}

const CHANNEL_COLUMNS: &str = "id, page, name, kind, archived, created_at";
const CAMPAIGN_COLUMNS: &str = "id, page, name, starts_on, ends_on, notes, archived, created_at";

impl Store {
    /// Adds a channel to a page.
    pub fn add_channel(
        &mut self,
        page: i64,
        name: &str,
        kind: ChannelKind,
    ) -> Result<Channel, StoreError> {
        let name = validate_name("name", name)?;
        let tx = self.conn.transaction()?;
        check_name_free(&tx, Group::Channel, page, &name, None)?;
        tx.execute(
            "INSERT INTO channels (page, name, kind, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![page, name, kind.as_str(), now_secs()],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        self.channel(id)
    }

    /// One channel by store id.
    pub fn channel(&self, id: i64) -> Result<Channel, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = ?1"
            ))?
            .query_row([id], channel_from_row)?)
    }

    /// A page's channels by name; archived ones only when asked.
    pub fn channels(&self, page: i64, include_archived: bool) -> Result<Vec<Channel>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE page = ?1 AND (?2 OR archived = 0)
             ORDER BY name COLLATE NOCASE"
        ))?;
        let rows = stmt.query_map(params![page, include_archived], channel_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finds a channel of `page` by name, ignoring case.
    pub fn resolve_channel(&self, page: i64, name: &str) -> Result<Channel, StoreError> {
        self.channel(find_id(&self.conn, Group::Channel, page, name)?)
    }

    /// Renames a channel and/or changes its kind.
    pub fn update_channel(
        &mut self,
        id: i64,
        name: Option<&str>,
        kind: Option<ChannelKind>,
    ) -> Result<Channel, StoreError> {
        let current = self.channel(id)?;
        let name = match name {
            Some(n) => validate_name("name", n)?,
            None => current.name.clone(),
        };
        let tx = self.conn.transaction()?;
        check_name_free(&tx, Group::Channel, current.page, &name, Some(id))?;
        tx.execute(
            "UPDATE channels SET name = ?1, kind = ?2 WHERE id = ?3",
            params![name, kind.unwrap_or(current.kind).as_str(), id],
        )?;
        tx.commit()?;
        self.channel(id)
    }

    /// Archives or restores a channel.
    pub fn set_channel_archived(&mut self, id: i64, archived: bool) -> Result<(), StoreError> {
        set_archived(&self.conn, Group::Channel, id, archived)
    }

    /// Removes a channel; refused while links use it.
    pub fn remove_channel(&mut self, id: i64) -> Result<(), StoreError> {
        let name = self.channel(id)?.name;
        remove(&mut self.conn, Group::Channel, id, &name)
    }

    /// Adds a campaign to a page.
    pub fn add_campaign(&mut self, page: i64, new: &NewCampaign) -> Result<Campaign, StoreError> {
        let tx = self.conn.transaction()?;
        check_name_free(&tx, Group::Campaign, page, &new.name, None)?;
        tx.execute(
            "INSERT INTO campaigns (page, name, starts_on, ends_on, notes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                page,
                new.name,
                new.starts_on.map(|d| d.to_string()),
                new.ends_on.map(|d| d.to_string()),
                new.notes,
                now_secs()
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        self.campaign(id)
    }

    /// One campaign by store id.
    pub fn campaign(&self, id: i64) -> Result<Campaign, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?1"
            ))?
            .query_row([id], campaign_from_row)?)
    }

    /// A page's campaigns by name; archived ones only when asked.
    pub fn campaigns(
        &self,
        page: i64,
        include_archived: bool,
    ) -> Result<Vec<Campaign>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE page = ?1 AND (?2 OR archived = 0)
             ORDER BY name COLLATE NOCASE"
        ))?;
        let rows = stmt.query_map(params![page, include_archived], campaign_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Finds a campaign of `page` by name, ignoring case.
    pub fn resolve_campaign(&self, page: i64, name: &str) -> Result<Campaign, StoreError> {
        self.campaign(find_id(&self.conn, Group::Campaign, page, name)?)
    }

    /// Replaces a campaign's name, dates and notes.
    pub fn update_campaign(&mut self, id: i64, new: &NewCampaign) -> Result<Campaign, StoreError> {
        let current = self.campaign(id)?;
        let tx = self.conn.transaction()?;
        check_name_free(&tx, Group::Campaign, current.page, &new.name, Some(id))?;
        tx.execute(
            "UPDATE campaigns SET name = ?1, starts_on = ?2, ends_on = ?3, notes = ?4 WHERE id = ?5",
            params![
                new.name,
                new.starts_on.map(|d| d.to_string()),
                new.ends_on.map(|d| d.to_string()),
                new.notes,
                id
            ],
        )?;
        tx.commit()?;
        self.campaign(id)
    }

    /// Archives or restores a campaign.
    pub fn set_campaign_archived(&mut self, id: i64, archived: bool) -> Result<(), StoreError> {
        set_archived(&self.conn, Group::Campaign, id, archived)
    }

    /// Removes a campaign; refused while links use it.
    pub fn remove_campaign(&mut self, id: i64) -> Result<(), StoreError> {
        let name = self.campaign(id)?.name;
        remove(&mut self.conn, Group::Campaign, id, &name)
    }
}
