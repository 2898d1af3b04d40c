//! Records of the link model and the checks for creating them.

use super::{
    PageTarget, ValidationError, Warning, link_url, parse_ig_id, parse_page_id, parse_page_target,
};
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

const MAX_NAME_CHARS: usize = 100;
const MAX_NOTES_CHARS: usize = 5000;

/// Checks a display name (page, channel or campaign): not blank, one line, at most 100 characters.
pub fn validate_name(field: &'static str, name: &str) -> Result<String, ValidationError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, name, "a name cannot be blank"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            name,
            "a name is one line without control characters",
        ));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            field,
            name,
            format!("a name has at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Checks free-form notes.
pub fn validate_notes(notes: &str) -> Result<(), ValidationError> {
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ValidationError::new(
            "notes",
            notes,
            format!("notes have at most {MAX_NOTES_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A Facebook Page that links point at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Store id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// What follows `m.me/`: a username or a numeric Page ID.
    pub target: String,
    /// Numeric Page ID used to match webhook events (`recipient.id`).
    pub page_id: Option<String>,
    /// Instagram account id: Instagram events carry it as their `page_id`.
    pub ig_id: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

impl Page {
    /// The parsed link target.
    pub fn link_target(&self) -> PageTarget {
        PageTarget::from_stored(&self.target)
    }

    /// The numeric Page ID, whether given separately or as the link target.
    pub fn numeric_id(&self) -> Option<&str> {
        self.page_id.as_deref().or_else(|| {
            self.target
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then_some(self.target.as_str())
        })
    }
}

/// A page to be created, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPage {
    /// Display name.
    pub name: String,
    /// Link target.
    pub target: PageTarget,
    /// Numeric Page ID, if known.
    pub page_id: Option<String>,
    /// Instagram account id, if known.
    pub ig_id: Option<String>,
}

impl NewPage {
    /// Validates user input: the target in any accepted form, an optional
    /// display name (defaults to the target) and an optional numeric Page ID.
    pub fn parse(
        target: &str,
        name: Option<&str>,
        page_id: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let target = parse_page_target(target)?;
        let name = match name {
            Some(n) => validate_name("name", n)?,
            None => target.as_str().to_string(),
        };
        let page_id = page_id.map(parse_page_id).transpose()?;
        if let (PageTarget::PageId(t), Some(p)) = (&target, &page_id)
            && t != p
        {
            return Err(ValidationError::new(
                "page-id",
                p,
                format!("differs from the Page ID {t} given as the link target"),
            ));
        }
        Ok(Self {
            name,
            target,
            page_id,
            ig_id: None,
        })
    }

    /// Adds an optional Instagram account id, validated as digits.
    pub fn with_ig_id(mut self, ig_id: Option<&str>) -> Result<Self, ValidationError> {
        self.ig_id = ig_id.map(parse_ig_id).transpose()?;
        Ok(self)
    }

    /// The numeric Page ID, whether given separately or as the link target.
    pub fn numeric_id(&self) -> Option<&str> {
        match &self.target {
            PageTarget::PageId(id) => Some(id),
            PageTarget::Username(_) => self.page_id.as_deref(),
        }
    }

    /// Refuses a page that is already defined: same username ignoring case
    /// and periods, same numeric ID, or same display name.
    pub fn check_unique(&self, existing: &[Page]) -> Result<(), ValidationError> {
        let key = self.target.key();
        for page in existing {
            if page.link_target().key() == key {
                return Err(ValidationError::new(
                    "page",
                    self.target.as_str(),
                    format!(
                        "already defined as {:?}: usernames that differ only in letter case or periods are the same page",
                        page.target
                    ),
                ));
            }
            if let (Some(a), Some(b)) = (self.numeric_id(), page.numeric_id())
                && a == b
            {
                return Err(ValidationError::new(
                    "page-id",
                    a,
                    format!("already belongs to the page {:?}", page.name),
                ));
            }
            if let (Some(a), Some(b)) = (self.ig_id.as_deref(), page.ig_id.as_deref())
                && a == b
            {
                return Err(ValidationError::new(
                    "ig-id",
                    a,
                    format!("already belongs to the page {:?}", page.name),
                ));
            }
            if page.name.to_lowercase() == self.name.to_lowercase() {
                return Err(ValidationError::new(
                    "name",
                    &self.name,
                    "another page already has this name",
                ));
            }
        }
        Ok(())
    }
}

/// The kind of a promotional channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A web site, e.g. a button or banner.
    Website,
    /// A mobile app.
    App,
    /// A printed flyer.
    Flyer,
    /// A text message.
    Sms,
    /// An e-mail or newsletter.
    Email,
    /// A Facebook ad.
    FacebookAd,
    /// A social network post or bio.
    Social,
    /// Other print: posters, packaging, receipts.
    Print,
    /// Anything else.
    Other,
}

impl ChannelKind {
    /// Every kind, in display order.
    pub const ALL: [ChannelKind; 9] = [
        ChannelKind::Website,
        ChannelKind::App,
        ChannelKind::Flyer,
        ChannelKind::Sms,
        ChannelKind::Email,
        ChannelKind::FacebookAd,
        ChannelKind::Social,
        ChannelKind::Print,
        ChannelKind::Other,
    ];

    /// The stored and typed name, e.g. `facebook_ad`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Website => "website",
            ChannelKind::App => "app",
            ChannelKind::Flyer => "flyer",
            ChannelKind::Sms => "sms",
            ChannelKind::Email => "email",
            ChannelKind::FacebookAd => "facebook_ad",
            ChannelKind::Social => "social",
            ChannelKind::Print => "print",
            ChannelKind::Other => "other",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                ValidationError::new("kind", s, format!("use one of {}", names.join(", ")))
            })
    }
}

/// A promotional channel of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    /// Store id.
    pub id: i64,
    /// Owning page's store id.
    pub page: i64,
    /// Name, unique per page ignoring case.
    pub name: String,
    /// Kind of channel.
    pub kind: ChannelKind,
    /// Archived channels are hidden from pickers but keep their links.
    pub archived: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

/// A named group of links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    /// Store id.
    pub id: i64,
    /// Owning page's store id.
    pub page: i64,
    /// Name, unique per page ignoring case.
    pub name: String,
    /// First day, if set.
    pub starts_on: Option<NaiveDate>,
    /// Last day, if set.
    pub ends_on: Option<NaiveDate>,
    /// Free-form notes.
    pub notes: String,
    /// Archived campaigns are hidden from pickers but keep their links.
    pub archived: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

/// A campaign to be created or the new values of an edited one, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    /// Name.
    pub name: String,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// Notes.
    pub notes: String,
}

/// Parses a `YYYY-MM-DD` date for `field`.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ValidationError::new(field, s, "use a date written as YYYY-MM-DD"))
}

impl NewCampaign {
    /// Validates name, dates (start not after end) and notes.
    pub fn parse(
        name: &str,
        starts: Option<&str>,
        ends: Option<&str>,
        notes: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let name = validate_name("name", name)?;
        let starts_on = starts.map(|s| parse_date("starts", s)).transpose()?;
        let ends_on = ends.map(|s| parse_date("ends", s)).transpose()?;
        Self::check_dates(starts_on, ends_on)?;
        let notes = notes.unwrap_or_default().to_string();
        validate_notes(&notes)?;
        Ok(Self {
            name,
            starts_on,
            ends_on,
            notes,
        })
    }

    /// Refuses an end date before the start date.
    pub fn check_dates(
        starts_on: Option<NaiveDate>,
        ends_on: Option<NaiveDate>,
    ) -> Result<(), ValidationError> {
        if let (Some(s), Some(e)) = (starts_on, ends_on)
            && e < s
        {
            return Err(ValidationError::new(
                "ends",
                &e.to_string(),
                format!("a campaign cannot end before it starts ({s})"),
            ));
        }
        Ok(())
    }
}

/// A trackable m.me link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Store id.
    pub id: i64,
    /// Owning page's store id.
    pub page: i64,
    /// Campaign's store id.
    pub campaign: i64,
    /// Channel's store id.
    pub channel: i64,
    /// The `ref` value.
    pub ref_code: String,
    /// Call-to-action text shown beside the link.
    pub cta: String,
    /// Optional prefilled message (`text=`).
    pub prefill_text: Option<String>,
    /// Free-form notes.
    pub notes: String,
    /// Archived links stay countable but are hidden by default.
    pub archived: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: i64,
}

impl Link {
    /// The link's m.me URL on `page`.
    pub fn url(&self, page: &Page) -> String {
        link_url(
            &page.link_target(),
            &self.ref_code,
            self.prefill_text.as_deref(),
        )
    }
}

/// A link to be created or the new values of an edited one, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// The `ref` value.
    pub ref_code: String,
    /// Call-to-action text.
    pub cta: String,
    /// Optional prefilled message.
    pub prefill_text: Option<String>,
    /// Notes.
    pub notes: String,
}

impl NewLink {
    /// Validates the fields of a link on their own; uniqueness needs the
    /// page's existing refs, see [`NewLink::check_unique`].
    pub fn parse(
        ref_code: &str,
        cta: Option<&str>,
        prefill_text: Option<&str>,
        notes: Option<&str>,
    ) -> Result<(Self, Vec<Warning>), ValidationError> {
        let mut warnings = super::validate_ref(ref_code)?;
        let cta = cta.unwrap_or_default().trim().to_string();
        warnings.extend(super::validate_cta(&cta)?);
        let prefill_text = match prefill_text {
            Some(t) => {
                super::validate_prefill_text(t)?;
                Some(t.to_string())
            }
            None => None,
        };
        let notes = notes.unwrap_or_default().to_string();
        validate_notes(&notes)?;
        Ok((
            Self {
                ref_code: ref_code.to_string(),
                cta,
                prefill_text,
                notes,
            },
            warnings,
        ))
    }

    /// Checks the ref against the page's other refs.
    pub fn check_unique<'a>(
        &self,
        existing: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Warning>, ValidationError> {
        super::check_ref_unique(&self.ref_code, existing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: i64, name: &str, target: &str, page_id: Option<&str>) -> Page {
        Page {
            id,
            name: name.into(),
            target: target.into(),
            page_id: page_id.map(str::to_string),
            ig_id: None,
            created_at: 0,
        }
    }

    #[test]
    fn second_spelling_of_a_page_is_refused() {
        let existing = [page(1, "Jasper's Market", "JaspersMarket", None)];
        let new = NewPage::parse("@jaspers.market", Some("Other name"), None).unwrap();
        let e = new.check_unique(&existing).unwrap_err();
        assert_eq!(e.field, "page");
        assert!(e.rule.contains("same page"), "{e}");
        let other = NewPage::parse("JaspersBakery", None, None).unwrap();
        assert!(other.check_unique(&existing).is_ok());
        assert_eq!(other.name, "JaspersBakery");
    }

    #[test]
    fn page_ids_must_agree_and_be_unique() {
        assert!(NewPage::parse("104729178032417", None, Some("999999")).is_err());
        let existing = [page(1, "A page", "apage", Some("104729178032417"))];
        let new = NewPage::parse("otherpage", None, Some("104729178032417")).unwrap();
        assert_eq!(new.check_unique(&existing).unwrap_err().field, "page-id");
        let by_target = NewPage::parse("104729178032417", Some("x"), None).unwrap();
        // A numeric link target is the same Page ID as the existing page's.
        assert_eq!(
            by_target.check_unique(&existing).unwrap_err().field,
            "page-id"
        );
    }

    #[test]
    fn channel_kinds_parse_loosely_and_refuse_unknowns() {
        assert_eq!(
            "Facebook-Ad".parse::<ChannelKind>().unwrap(),
            ChannelKind::FacebookAd
        );
        assert_eq!("SMS".parse::<ChannelKind>().unwrap(), ChannelKind::Sms);
        let e = "billboard".parse::<ChannelKind>().unwrap_err();
        assert_eq!(e.field, "kind");
        assert!(e.rule.contains("facebook_ad"));
    }

    #[test]
    fn campaign_dates() {
        let c = NewCampaign::parse("Spring Sale", Some("2026-03-01"), Some("2026-03-31"), None)
            .unwrap();
        assert_eq!(c.starts_on.unwrap().to_string(), "2026-03-01");
        let e = NewCampaign::parse("x", Some("2026-03-31"), Some("2026-03-01"), None).unwrap_err();
        assert_eq!(e.field, "ends");
        let e = NewCampaign::parse("x", Some("31/03/2026"), None, None).unwrap_err();
        assert_eq!(e.field, "starts");
        assert!(e.rule.contains("YYYY-MM-DD"));
        assert_eq!(validate_name("name", "   ").unwrap_err().field, "name");
    }

    #[test]
    fn new_link_validates_every_field() {
        let (l, w) = NewLink::parse(
            "freeshipping",
            Some(" Get free coupon in Messenger "),
            None,
            None,
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!(l.cta, "Get free coupon in Messenger");
        assert!(NewLink::parse("free shipping", None, None, None).is_err());
        assert_eq!(
            NewLink::parse("ok", None, Some(" "), None)
                .unwrap_err()
                .field,
            "text"
        );
    }
}
