//! Which events belong to a page: the one definition that the stats, the
//! person counts, the untracked list and the store's SQL all use (#18).

/// The page ids an event's `page_id` may carry to belong to a page: its
/// Facebook Page ID and, for Instagram events, its Instagram account id.
/// Empty for a page without a Page ID, whose events are matched by ref
/// alone: then every event passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    page_ids: Vec<String>,
}

impl EventFilter {
    /// Every event, of any page.
    pub fn every() -> Self {
        Self::default()
    }

    /// Events carrying one of `page_ids`; none given means every event.
    pub fn of<S: Into<String>>(page_ids: impl IntoIterator<Item = S>) -> Self {
        Self {
            page_ids: page_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether an event with this `page_id` belongs.
    pub fn matches(&self, event_page_id: &str) -> bool {
        self.page_ids.is_empty() || self.page_ids.iter().any(|id| id == event_page_id)
    }

    /// True when every event passes (no page chosen, or a page without a Page ID).
    pub fn is_every(&self) -> bool {
        self.page_ids.is_empty()
    }

    /// The ids an event may carry, for SQL (`page_id IN (…)`); empty when
    /// every event passes.
    pub fn page_ids(&self) -> &[String] {
        &self.page_ids
    }
}

impl super::Page {
    /// Which events belong to this page: those carrying its numeric Page ID
    /// or its Instagram account id. A page without a Page ID takes every
    /// event (its links are matched by ref alone), as the stats always did.
    pub fn event_filter(&self) -> EventFilter {
        match self.numeric_id() {
            None => EventFilter::every(),
            Some(id) => EventFilter::of(std::iter::once(id).chain(self.ig_id.as_deref())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Page;

    fn page(target: &str, page_id: Option<&str>, ig_id: Option<&str>) -> Page {
        Page {
            id: 1,
            name: "Jasper's Market".into(),
            target: target.into(),
            page_id: page_id.map(Into::into),
            ig_id: ig_id.map(Into::into),
            created_at: 0,
        }
    }

    #[test]
    fn a_page_owns_its_page_id_and_its_instagram_id_only() {
        let p = page(
            "JaspersMarket",
            Some("104729178032417"),
            Some("17841400008460056"),
        );
        let f = p.event_filter();
        assert!(f.matches("104729178032417"));
        assert!(f.matches("17841400008460056"));
        assert!(!f.matches("104729178032418"), "one digit off");
        assert!(!f.matches(""), "an event without a page id");
        assert!(!f.matches("10472917803241"), "a prefix");
        assert_eq!(f.page_ids(), ["104729178032417", "17841400008460056"]);
        assert!(!f.is_every());
    }

    #[test]
    fn a_numeric_target_is_the_page_id() {
        let f = page("104729178032417", None, None).event_filter();
        assert_eq!(f.page_ids(), ["104729178032417"]);
        assert!(!f.matches("17841400008460056"));
    }

    #[test]
    fn a_page_without_a_page_id_takes_every_event() {
        // Its links are matched by ref alone, so no event is left out, even
        // when an Instagram id is known.
        let f = page("JaspersMarket", None, Some("17841400008460056")).event_filter();
        assert!(f.is_every());
        assert!(f.matches("205839201948372") && f.matches(""));
        assert!(EventFilter::of(Vec::<String>::new()).is_every());
    }
}
