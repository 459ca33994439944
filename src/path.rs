//! Dotted paths into an account document (`bio`, `stats.hp.cur`, `skills.fire.lvl`), resolved
//! against the schema. Pure Rust.

use crate::error::{Error, Result};
use crate::limits;
use crate::schema::{self, Shape};

/// A path that names a place the schema knows, or a place the schema leaves to the game: any
/// name inside an open object (the document's root, `bio`, `metrics`, ...) and anything inside
/// `skills`. Places inside a closed shape (`stats`, a vital, a scalar) must be known.
#[derive(Debug, Clone, PartialEq)]
pub struct DocPath {
    pub segments: Vec<String>,
    /// The shape at the path and its default; `None` at a place the schema does not name.
    pub shape: Option<(Shape, Option<&'static str>)>,
}

impl DocPath {
    pub fn parse(text: &str) -> Result<DocPath> {
        let nopath = || Error::NoPath(printable(text));
        if text.is_empty() || text.len() > limits::MAX_PATH_BYTES {
            return Err(nopath());
        }
        let mut segments = Vec::new();
        let mut shape = Some((schema::ROOT, None));
        for seg in text.split('.') {
            let valid = !seg.is_empty()
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid || segments.len() == limits::MAX_PATH_SEGMENTS {
                return Err(nopath());
            }
            shape = match shape {
                Some((Shape::Free, _)) | None => None,
                Some((s @ Shape::Object(_), _)) => schema::child(&s, seg),
                Some((s, _)) => Some(schema::child(&s, seg).ok_or_else(nopath)?),
            };
            segments.push(seg.to_string());
        }
        Ok(DocPath { segments, shape })
    }

    /// The path as a RedisJSON JSONPath (`$.stats.hp.cur`; names that are not identifiers, such
    /// as `fire-ball` or `2nd`, in brackets: `$.skills["fire-ball"]`).
    pub fn jsonpath(&self) -> String {
        let mut out = String::from("$");
        for seg in &self.segments {
            let identifier = seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !seg.as_bytes()[0].is_ascii_digit();
            if !identifier {
                out.push_str("[\"");
                out.push_str(seg); // segments are [A-Za-z0-9_-]: nothing to escape
                out.push_str("\"]");
            } else {
                out.push('.');
                out.push_str(seg);
            }
        }
        out
    }

    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }

    /// The first segment: the section.
    pub fn section(&self) -> &str {
        &self.segments[0]
    }
}

/// A path for an error message: invalid UTF-8 and control characters shown as '?'.
pub fn printable(text: &str) -> String {
    text.chars().take(64).map(|c| if c.is_control() || c == '\'' { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_paths_resolve_to_their_shapes() {
        let p = DocPath::parse("stats.hp.cur").unwrap();
        assert_eq!(p.shape.unwrap().0, Shape::VitalValue);
        assert_eq!(p.jsonpath(), "$.stats.hp.cur");
        assert_eq!(DocPath::parse("bio").unwrap().jsonpath(), "$.bio");
        assert_eq!(DocPath::parse("state").unwrap().shape.unwrap().0, Shape::State);
        assert_eq!(DocPath::parse("attributes.luck").unwrap().shape.unwrap().0, Shape::Count);
    }

    #[test]
    fn skills_are_free_form_below_their_root() {
        let p = DocPath::parse("skills.fire-ball.lvl").unwrap();
        assert_eq!(p.shape, None);
        assert_eq!(p.jsonpath(), "$.skills[\"fire-ball\"].lvl");
        assert_eq!(DocPath::parse("skills.2nd").unwrap().jsonpath(), "$.skills[\"2nd\"]");
        assert_eq!(DocPath::parse("skills").unwrap().shape.unwrap().0, Shape::Free);
    }

    #[test]
    fn places_the_schema_leaves_open_are_free() {
        for open in ["active_quest", "location_id", "bio.title", "location.previous", "metrics.kills", "sessions.trade_id", "tokens.gold"] {
            let p = DocPath::parse(open).unwrap();
            assert_eq!(p.shape, None, "{open}");
            assert_eq!(p.jsonpath(), format!("$.{open}"));
        }
    }

    #[test]
    fn unknown_or_malformed_paths_are_nopath() {
        for bad in ["", "stats.xp", "stats..hp", "stats.hp.cur.x", "stats.hp.rate", "state.x", "$.bio", "bio.", "a b", "stats.hp[0]"] {
            let e = DocPath::parse(bad).unwrap_err();
            assert_eq!(e.to_string(), format!("NOPATH no such path '{bad}'"), "{bad}");
        }
        let deep = vec!["skills"; 17].join(".");
        assert!(DocPath::parse(&deep).is_err());
    }
}
