//! Dotted paths into an account document (`bio`, `stats.hp.cur`, `skills.fire.lvl`): their
//! syntax only. Whether the schema lets a path name a place is the schema's to say
//! (`schema::Rules::check_path`). Pure Rust.

use crate::error::{Error, Result};
use crate::limits;

/// A dotted path: one to 16 segments of `[A-Za-z0-9_-]`, at most 256 bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct DocPath {
    pub segments: Vec<String>,
}

impl DocPath {
    pub fn parse(text: &str) -> Result<DocPath> {
        let nopath = || Error::NoPath(printable(text));
        if text.is_empty() || text.len() > limits::MAX_PATH_BYTES {
            return Err(nopath());
        }
        let mut segments = Vec::new();
        for seg in text.split('.') {
            let valid = !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid || segments.len() == limits::MAX_PATH_SEGMENTS {
                return Err(nopath());
            }
            segments.push(seg.to_string());
        }
        Ok(DocPath { segments })
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
    text.chars()
        .take(64)
        .map(|c| if c.is_control() || c == '\'' { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_jsonpaths() {
        assert_eq!(
            DocPath::parse("stats.hp.cur").unwrap().jsonpath(),
            "$.stats.hp.cur"
        );
        assert_eq!(DocPath::parse("bio").unwrap().jsonpath(), "$.bio");
        assert_eq!(
            DocPath::parse("skills.fire-ball.lvl").unwrap().jsonpath(),
            "$.skills[\"fire-ball\"].lvl"
        );
        assert_eq!(
            DocPath::parse("skills.2nd").unwrap().jsonpath(),
            "$.skills[\"2nd\"]"
        );
        assert_eq!(
            DocPath::parse("active_quest").unwrap().dotted(),
            "active_quest"
        );
    }

    #[test]
    fn malformed_paths_are_nopath() {
        for bad in [
            "",
            "stats..hp",
            "$.bio",
            "bio.",
            ".bio",
            "a b",
            "stats.hp[0]",
            "é",
        ] {
            let e = DocPath::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("NOPATH no such path '{bad}'"),
                "{bad}"
            );
        }
        let deep = vec!["skills"; 17].join(".");
        assert!(DocPath::parse(&deep).is_err());
        assert!(DocPath::parse(&vec!["a"; 16].join(".")).is_ok());
    }
}
