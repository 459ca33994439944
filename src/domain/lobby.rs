//! The lobby cache: a JSON array of the user's characters (`CharacterReadDTO`). Pure Rust.

use crate::error::{Error, Result};
use crate::limits;
use serde_json::Value;

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    TextOrNull,
    Gender,
    ObjectOrNull,
}

/// The entry fields: (name, kind, required).
const FIELDS: &[(&str, Kind, bool)] = &[
    ("character_id", Kind::Int, true),
    ("user_id", Kind::Int, true),
    ("name", Kind::TextOrNull, false),
    ("gender", Kind::Gender, false),
    ("game_stage", Kind::TextOrNull, false),
    ("prev_game_stage", Kind::TextOrNull, false),
    ("location_id", Kind::Text, false),
    ("prev_location_id", Kind::TextOrNull, false),
    ("vitals_snapshot", Kind::ObjectOrNull, false),
    ("active_sessions", Kind::ObjectOrNull, false),
    ("created_at", Kind::TextOrNull, false),
    ("updated_at", Kind::TextOrNull, false),
];

/// Validates a lobby array and returns its compact text, the form that is stored.
pub fn validate(v: &Value, max_entries: usize) -> Result<String> {
    let Value::Array(entries) = v else { return Err(Error::Lobby("value must be a JSON array".into())) };
    if entries.len() > max_entries {
        return Err(Error::Lobby(format!("at most {max_entries} characters per user, got {}", entries.len())));
    }
    let mut user: Option<i64> = None;
    let mut ids: Vec<i64> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let Value::Object(m) = e else { return Err(Error::Lobby(format!("entry {i} must be an object"))) };
        if let Some(k) = m.keys().find(|k| !FIELDS.iter().any(|(n, _, _)| n == k)) {
            return Err(Error::Lobby(format!("entry {i} has unknown field '{k}'")));
        }
        for (name, kind, required) in FIELDS {
            match m.get(*name) {
                None if *required => return Err(Error::Lobby(format!("entry {i} lacks '{name}'"))),
                None => {}
                Some(x) if !fits(*kind, x) => {
                    return Err(Error::Lobby(format!("entry {i} field '{name}' must be {}", describe(*kind))))
                }
                Some(_) => {}
            }
        }
        let cid = m["character_id"].as_i64().unwrap_or_default();
        let uid = m["user_id"].as_i64().unwrap_or_default();
        if *user.get_or_insert(uid) != uid {
            return Err(Error::Lobby("all entries must have the same user_id".into()));
        }
        if ids.contains(&cid) {
            return Err(Error::Lobby(format!("character_id {cid} appears twice")));
        }
        ids.push(cid);
    }
    let text = serde_json::to_string(v).map_err(|_| Error::Internal)?;
    if text.len() > limits::MAX_LOBBY_BYTES {
        return Err(Error::Limit(format!("lobby array larger than {} bytes", limits::MAX_LOBBY_BYTES)));
    }
    Ok(text)
}

fn fits(kind: Kind, v: &Value) -> bool {
    let short = |s: &str| s.len() <= limits::MAX_STRING_BYTES;
    match kind {
        Kind::Int => v.is_i64(),
        Kind::Text => v.as_str().is_some_and(short),
        Kind::TextOrNull => v.is_null() || v.as_str().is_some_and(short),
        Kind::Gender => v.is_null() || matches!(v.as_str(), Some("male" | "female" | "other")),
        Kind::ObjectOrNull => v.is_null() || v.is_object(),
    }
}

fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "an integer",
        Kind::Text => "a string",
        Kind::TextOrNull => "a string or null",
        Kind::Gender => "\"male\", \"female\", \"other\" or null",
        Kind::ObjectOrNull => "an object or null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(cid: i64) -> Value {
        json!({"character_id": cid, "user_id": 7, "name": "A", "gender": "male", "location_id": "52_52",
               "vitals_snapshot": {"hp": 1}, "created_at": "2025-01-20T10:30:00Z"})
    }

    #[test]
    fn valid_arrays_are_stored_compact() {
        assert_eq!(validate(&json!([]), 4).unwrap(), "[]");
        let v = json!([entry(1), entry(2)]);
        assert_eq!(validate(&v, 4).unwrap(), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn rule_breaks_are_named() {
        let e = |v: Value| validate(&v, 4).unwrap_err().to_string();
        assert_eq!(e(json!({})), "LOBBY value must be a JSON array");
        assert_eq!(e(json!([entry(1), entry(2), entry(3), entry(4), entry(5)])), "LOBBY at most 4 characters per user, got 5");
        assert_eq!(e(json!([1])), "LOBBY entry 0 must be an object");
        assert_eq!(e(json!([{"user_id": 7}])), "LOBBY entry 0 lacks 'character_id'");
        assert_eq!(e(json!([{"character_id": "1", "user_id": 7}])), "LOBBY entry 0 field 'character_id' must be an integer");
        assert_eq!(e(json!([{"character_id": 1, "user_id": 7, "gender": "x"}])), "LOBBY entry 0 field 'gender' must be \"male\", \"female\", \"other\" or null");
        assert_eq!(e(json!([{"character_id": 1, "user_id": 7, "level": 3}])), "LOBBY entry 0 has unknown field 'level'");
        assert_eq!(e(json!([entry(1), entry(1)])), "LOBBY character_id 1 appears twice");
        let mut other = entry(2);
        other["user_id"] = json!(8);
        assert_eq!(e(json!([entry(1), other])), "LOBBY all entries must have the same user_id");
    }
}
