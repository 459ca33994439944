//! The lobby cache: a JSON array of the user's characters (`CharacterReadDTO`). Each entry is
//! checked against the lobby schema in force (`schema/lobby.schema.json` unless another is
//! loaded: `account.lobby-schema`); the module adds the list's own rules: at most `lobby-max`
//! entries, one user, each character once, which need the integer places `character_id` and
//! `user_id` that every lobby schema must declare. Pure Rust.

use crate::error::{Error, Result};
use crate::jsonschema::{NumberKind, Schema};
use crate::limits;
use serde_json::Value;
use std::sync::{Arc, RwLock};

/// The lobby schema shipped with the module.
pub const SHIPPED: &str = include_str!("../../schema/lobby.schema.json");

/// Compiles a lobby entry schema and checks it declares the places the list rules need.
pub fn compile(text: &[u8]) -> std::result::Result<Schema, String> {
    let schema = Schema::parse(text).map_err(|e| e.0)?;
    for place in ["character_id", "user_id"] {
        if schema.number_kind(&[place.to_string()]) != NumberKind::Integer {
            return Err(format!(
                "the lobby schema must declare '{place}' as an integer"
            ));
        }
    }
    Ok(schema)
}

static LOBBY: RwLock<Option<(Arc<Schema>, String)>> = RwLock::new(None);

/// The lobby schema in force and where it came from (`shipped`, a file path).
pub fn lobby_schema() -> (Arc<Schema>, String) {
    if let Some((s, src)) = LOBBY.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return (s.clone(), src.clone());
    }
    let shipped = Arc::new(compile(SHIPPED.as_bytes()).expect("the shipped lobby schema compiles"));
    let mut cell = LOBBY.write().unwrap_or_else(|e| e.into_inner());
    let (s, src) = cell.get_or_insert((shipped, "shipped".into()));
    (s.clone(), src.clone())
}

/// Puts a lobby schema in force.
pub fn install(schema: Schema, source: &str) {
    *LOBBY.write().unwrap_or_else(|e| e.into_inner()) =
        Some((Arc::new(schema), source.to_string()));
}

/// Validates a lobby array and returns its compact text, the form that is stored.
pub fn validate(v: &Value, max_entries: usize) -> Result<String> {
    validate_with(&lobby_schema().0, v, max_entries)
}

/// `validate` against a given entry schema.
pub fn validate_with(schema: &Schema, v: &Value, max_entries: usize) -> Result<String> {
    let Value::Array(entries) = v else {
        return Err(Error::Lobby("value must be a JSON array".into()));
    };
    if entries.len() > max_entries {
        return Err(Error::Lobby(format!(
            "at most {max_entries} characters per user, got {}",
            entries.len()
        )));
    }
    let mut user: Option<i64> = None;
    let mut ids: Vec<i64> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        schema.validate(e).map_err(|why| {
            Error::Lobby(format!(
                "entry {i}: {}",
                why.text().replacen("the document", "the entry", 1)
            ))
        })?;
        let int = |name: &str| {
            e.get(name)
                .and_then(crate::schema::as_int)
                .unwrap_or_default()
        };
        let (cid, uid) = (int("character_id"), int("user_id"));
        if *user.get_or_insert(uid) != uid {
            return Err(Error::Lobby(
                "all entries must have the same user_id".into(),
            ));
        }
        if ids.contains(&cid) {
            return Err(Error::Lobby(format!("character_id {cid} appears twice")));
        }
        ids.push(cid);
    }
    let text = crate::json::to_string(v);
    if text.len() > limits::MAX_LOBBY_BYTES {
        return Err(Error::Limit(format!(
            "lobby array larger than {} bytes",
            limits::MAX_LOBBY_BYTES
        )));
    }
    Ok(text)
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
        assert_eq!(
            e(json!([entry(1), entry(2), entry(3), entry(4), entry(5)])),
            "LOBBY at most 4 characters per user, got 5"
        );
        assert_eq!(e(json!([1])), "LOBBY entry 0: the entry must be an object");
        assert_eq!(
            e(json!([{"user_id": 7}])),
            "LOBBY entry 0: character_id is required"
        );
        assert_eq!(
            e(json!([{"character_id": "1", "user_id": 7}])),
            "LOBBY entry 0: character_id must be an integer"
        );
        assert_eq!(
            e(json!([{"character_id": 1, "user_id": 7, "gender": "x"}])),
            "LOBBY entry 0: gender must be one of \"male\", \"female\", \"other\", null"
        );
        // Open where the game is open: a field the schema does not name is kept.
        assert!(validate(&json!([{"character_id": 1, "user_id": 7, "level": 3}]), 4).is_ok());
        assert_eq!(
            e(json!([entry(1), entry(1)])),
            "LOBBY character_id 1 appears twice"
        );
        let mut other = entry(2);
        other["user_id"] = json!(8);
        assert_eq!(
            e(json!([entry(1), other])),
            "LOBBY all entries must have the same user_id"
        );
    }

    #[test]
    fn a_lobby_schema_must_declare_the_places_the_list_rules_need() {
        assert_eq!(
            compile(br#"{"type":"object","properties":{"user_id":{"type":"integer"}}}"#)
                .unwrap_err(),
            "the lobby schema must declare 'character_id' as an integer"
        );
        let strict = compile(br#"{"type":"object","properties":{"character_id":{"type":"integer"},"user_id":{"type":"integer"}},"additionalProperties":false}"#).unwrap();
        assert_eq!(
            validate_with(
                &strict,
                &json!([{"character_id": 1, "user_id": 7, "level": 3}]),
                4
            )
            .unwrap_err()
            .to_string(),
            "LOBBY entry 0: unknown field 'level'"
        );
    }
}
