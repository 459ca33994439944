//! The account document schema (`../shared/seed/NOTES.md`): its shape, its defaults, and the one
//! function that validates a document (or one part of it) and fills what is missing.
//!
//! Pure Rust on `serde_json::Value`; no Redis here.

use crate::error::{Error, Result};
use crate::limits;
use crate::vitals::{Source, Vital, VitalParts};
use serde_json::{Map, Value};

/// What a place in the document may hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `state`: a non-empty string of at most `MAX_STATE_BYTES`.
    State,
    /// A string or null of at most `MAX_STRING_BYTES` (bio, location, sessions, prev_state).
    TextOrNull,
    /// A non-negative integer (attributes).
    Count,
    /// Any signed 64-bit integer.
    Int,
    /// Any finite JSON number, integer or not (metrics: the game writes `arena_rating` 1200.7).
    Number,
    /// A number or null: unix seconds (stats.last_update).
    TimeOrNull,
    /// A vital `{cur, max, regen}` with its defaults.
    Vital { max: i64, regen: f64 },
    /// `cur` or `max` inside a vital: an integer in `[0, MAX_VITAL]`.
    VitalValue,
    /// `regen` inside a vital: a number in `[-MAX_REGEN, MAX_REGEN]`.
    Rate,
    /// An object with these fields (each optional, filled from its default), open: fields it
    /// does not name are kept and served as they are, after the named ones.
    Object(&'static [Field]),
    /// An object with exactly these fields: `stats`, the hot commands' fixed layout.
    Closed(&'static [Field]),
    /// Any JSON object (skills).
    Free,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    /// Only for `State` and `TextOrNull` fields: the default string (`None` = null).
    pub default: Option<&'static str>,
}

const fn f(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, default: None }
}
const fn fd(name: &'static str, shape: Shape, default: &'static str) -> Field {
    Field { name, shape, default: Some(default) }
}

pub const VITALS: [&str; 3] = ["hp", "mp", "stamina"];

const VITAL_FIELDS: &[Field] = &[
    f("cur", Shape::VitalValue),
    f("max", Shape::VitalValue),
    f("regen", Shape::Rate),
    f("since", Shape::TimeOrNull),
];

const STATS: &[Field] = &[
    f("hp", Shape::Vital { max: 100, regen: 1.0 }),
    f("mp", Shape::Vital { max: 50, regen: 1.0 }),
    f("stamina", Shape::Vital { max: 100, regen: 5.0 }),
    f("last_update", Shape::TimeOrNull),
];

const BIO: &[Field] =
    &[f("name", Shape::TextOrNull), f("gender", Shape::TextOrNull), f("created_at", Shape::TextOrNull)];

const LOCATION: &[Field] =
    &[fd("current", Shape::TextOrNull, "start_village"), f("prev", Shape::TextOrNull)];

pub const ATTRIBUTES: [&str; 9] = [
    "strength", "agility", "endurance", "intelligence", "wisdom", "men", "perception", "charisma",
    "luck",
];
const ATTRIBUTE_FIELDS: &[Field] = &[
    f("strength", Shape::Count),
    f("agility", Shape::Count),
    f("endurance", Shape::Count),
    f("intelligence", Shape::Count),
    f("wisdom", Shape::Count),
    f("men", Shape::Count),
    f("perception", Shape::Count),
    f("charisma", Shape::Count),
    f("luck", Shape::Count),
];
/// Default value of every attribute.
pub const ATTRIBUTE_DEFAULT: i64 = 8;

const SESSIONS: &[Field] = &[
    f("combat_id", Shape::TextOrNull),
    f("inventory_id", Shape::TextOrNull),
    f("scenario_id", Shape::TextOrNull),
];

const METRICS: &[Field] = &[
    f("gear_score", Shape::Number),
    f("arena_rating", Shape::Number),
    f("arena_wins", Shape::Number),
    f("arena_losses", Shape::Number),
    f("win_streak", Shape::Number),
];

/// The whole document. `stats` comes first: it is what the hot commands read.
pub const DOCUMENT: &[Field] = &[
    f("stats", Shape::Closed(STATS)),
    fd("state", Shape::State, "onboarding"),
    f("prev_state", Shape::TextOrNull),
    f("bio", Shape::Object(BIO)),
    f("location", Shape::Object(LOCATION)),
    f("attributes", Shape::Object(ATTRIBUTE_FIELDS)),
    f("sessions", Shape::Object(SESSIONS)),
    f("metrics", Shape::Object(METRICS)),
    f("skills", Shape::Free),
];

pub const ROOT: Shape = Shape::Object(DOCUMENT);

/// A fresh onboarding character: every default from NOTES.md.
pub fn new_document() -> Value {
    default_of(&ROOT, None)
}

/// Validates a whole document and fills every missing part with its default.
pub fn normalize_document(doc: Value) -> Result<Value> {
    normalize(&ROOT, None, Some(doc), "")
}

/// Validates the value for one place (`shape`, reached by `path` for messages) and fills what is
/// missing inside it. `None` means the place is absent: its default is returned.
pub fn normalize(shape: &Shape, dflt: Option<&'static str>, v: Option<Value>, path: &str) -> Result<Value> {
    let v = match v {
        None => return Ok(default_of(shape, dflt)),
        Some(v) => v,
    };
    let bad = |what: &str| Err(Error::Schema(format!("{} must be {what}", shown(path))));
    match *shape {
        Shape::State => match &v {
            Value::String(s) if !s.is_empty() && s.len() <= limits::MAX_STATE_BYTES => Ok(v),
            _ => bad(&format!("a non-empty string of at most {} bytes", limits::MAX_STATE_BYTES)),
        },
        Shape::TextOrNull => match &v {
            Value::Null => Ok(v),
            Value::String(s) if s.len() <= limits::MAX_STRING_BYTES => Ok(v),
            _ => bad(&format!("a string of at most {} bytes or null", limits::MAX_STRING_BYTES)),
        },
        Shape::Count => match as_int(&v) {
            Some(n) if n >= 0 => Ok(Value::from(n)),
            _ => bad("a non-negative integer"),
        },
        Shape::Int => match as_int(&v) {
            Some(n) => Ok(Value::from(n)),
            None => bad("an integer"),
        },
        Shape::Number => match &v {
            Value::Number(_) => Ok(v),
            _ => bad("a number"),
        },
        Shape::TimeOrNull => match &v {
            Value::Null => Ok(v),
            Value::Number(n) if n.as_f64().is_some_and(|t| t >= 0.0) => Ok(v),
            _ => bad("a non-negative number (unix seconds) or null"),
        },
        Shape::VitalValue => match as_int(&v) {
            Some(n) if (0..=limits::MAX_VITAL).contains(&n) => Ok(Value::from(n)),
            _ => bad(&format!("an integer from 0 to {}", limits::MAX_VITAL)),
        },
        Shape::Rate => match v.as_f64() {
            Some(r) if r.abs() <= limits::MAX_REGEN => Ok(v),
            _ => bad(&format!("a number from -{0:e} to {0:e}", limits::MAX_REGEN)),
        },
        Shape::Vital { max, regen } => {
            let Value::Object(m) = v else { return bad("an object") };
            let vital = Vital::from_parts(&vital_parts(&m), path, max, regen)?;
            Ok(vital_value(&vital))
        }
        Shape::Object(fields) | Shape::Closed(fields) => {
            let Value::Object(m) = v else { return bad("an object") };
            if let Shape::Closed(_) = shape {
                reject_unknown(&m, fields, path)?;
            }
            let mut out = Map::with_capacity(fields.len().max(m.len()));
            for fl in fields {
                let child = normalize(&fl.shape, fl.default, m.get(fl.name).cloned(), &join(path, fl.name))?;
                out.insert(fl.name.to_string(), child);
            }
            // What the schema does not name is the game's own: kept as it is, in its order.
            for (k, v) in m {
                if !out.contains_key(&k) {
                    out.insert(k, v);
                }
            }
            Ok(Value::Object(out))
        }
        Shape::Free => match &v {
            Value::Object(_) => Ok(v),
            _ => bad("an object"),
        },
    }
}

/// A JSON number as an integer, as JSON Schema counts integers: any number whose fraction is
/// zero (`3`, `3.0`, `-0`, `-0.0`) within the signed 64-bit range. Stored as the integer.
pub fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().and_then(crate::vitals::float_int))
}

/// A stored value read for `shape`: a vital whose `cur` exceeds its `max` is read clamped (see
/// `Vital::from_stored_parts`); everything else as it is.
pub fn clamp_stored(shape: &Shape, v: &mut Value) {
    match (shape, v) {
        (Shape::Vital { .. }, Value::Object(m)) => {
            if let (Some(cur), Some(max)) = (m.get("cur").and_then(Value::as_i64), m.get("max").and_then(Value::as_i64)) {
                if cur > max {
                    m.insert("cur".into(), Value::from(max));
                }
            }
        }
        (Shape::Object(fields) | Shape::Closed(fields), Value::Object(m)) => {
            for fl in *fields {
                if let Some(child) = m.get_mut(fl.name) {
                    clamp_stored(&fl.shape, child);
                }
            }
        }
        _ => {}
    }
}

/// The fields of a vital object as `VitalParts`.
pub fn vital_parts(m: &Map<String, Value>) -> VitalParts {
    let scalar = |v: &Value| Source::scalar(v);
    VitalParts {
        cur: m.get("cur").map(scalar),
        max: m.get("max").map(scalar),
        regen: m.get("regen").map(scalar),
        since: m.get("since").map(scalar),
        unknown: m.keys().find(|k| !matches!(k.as_str(), "cur" | "max" | "regen" | "since")).cloned(),
    }
}

/// A vital as its stored JSON object.
pub fn vital_value(v: &Vital) -> Value {
    let mut out = Map::with_capacity(4);
    out.insert("cur".into(), Value::from(v.cur));
    out.insert("max".into(), Value::from(v.max));
    out.insert("regen".into(), Value::from(v.regen));
    out.insert("since".into(), v.since.map_or(Value::Null, Value::from));
    Value::Object(out)
}

/// The default value of a place.
pub fn default_of(shape: &Shape, dflt: Option<&'static str>) -> Value {
    match *shape {
        Shape::State | Shape::TextOrNull => dflt.map_or(Value::Null, Value::from),
        Shape::Count => Value::from(ATTRIBUTE_DEFAULT),
        Shape::Int | Shape::Number | Shape::VitalValue => Value::from(0),
        Shape::TimeOrNull => Value::Null,
        Shape::Rate => Value::from(0.0),
        Shape::Vital { max, regen } => vital_value(&Vital { cur: max, max, regen, since: None }),
        Shape::Object(fields) | Shape::Closed(fields) => Value::Object(
            fields.iter().map(|fl| (fl.name.to_string(), default_of(&fl.shape, fl.default))).collect(),
        ),
        Shape::Free => Value::Object(Map::new()),
    }
}

fn reject_unknown(m: &Map<String, Value>, fields: &[Field], path: &str) -> Result<()> {
    match m.keys().find(|k| !fields.iter().any(|fl| fl.name == k.as_str())) {
        Some(k) => Err(Error::Schema(format!("unknown field '{}'", join(path, k)))),
        None => Ok(()),
    }
}

pub fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "the document"
    } else {
        path
    }
}

/// The shape of a named field of an object shape.
pub fn child(shape: &Shape, name: &str) -> Option<(Shape, Option<&'static str>)> {
    match shape {
        Shape::Object(fields) | Shape::Closed(fields) => {
            fields.iter().find(|fl| fl.name == name).map(|fl| (fl.shape, fl.default))
        }
        Shape::Vital { .. } => VITAL_FIELDS.iter().find(|fl| fl.name == name).map(|fl| (fl.shape, None)),
        _ => None,
    }
}

/// Starts the regeneration clock (`since` = now) of every vital of a normalized document that
/// does not rest and has no clock, so a document written now regenerates from now.
pub fn start_clocks(doc: &mut Value, now: f64) {
    for (i, name) in VITALS.iter().enumerate() {
        let stat = crate::vitals::Stat::ALL[i];
        let Some(slot) = doc.get_mut("stats").and_then(|s| s.get_mut(*name)) else { continue };
        if let Ok(v) = crate::vitals::vital_from(&*slot, stat) {
            let settled = crate::regen::settle(&v, v, now);
            if settled != v {
                *slot = vital_value(&settled);
            }
        }
    }
}

/// ACCOUNT.SET: validates `v` for the place `path` names and puts it into `doc` (a normalized
/// document). Inside `skills`, missing intermediate objects are created. The caller checks the
/// whole document again afterwards (cross-field rules such as `cur <= max`).
pub fn set_at(doc: &mut Value, path: &crate::path::DocPath, v: Value) -> Result<()> {
    let v = match path.shape {
        Some((shape, dflt)) => normalize(&shape, dflt, Some(v), &path.dotted())?,
        None => v,
    };
    let (last, parents) = path.segments.split_last().expect("a path has a segment");
    let mut here = doc;
    for (i, seg) in parents.iter().enumerate() {
        let Value::Object(m) = here else {
            return Err(Error::Schema(format!("{} must be an object", path.segments[..i].join("."))));
        };
        here = m.entry(seg.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
    match here {
        Value::Object(m) => {
            m.insert(last.clone(), v);
            Ok(())
        }
        _ => Err(Error::Schema(format!("{} must be an object", parents.join(".")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        normalize_document(v).unwrap_err().to_string()
    }

    #[test]
    fn new_document_has_the_notes_defaults() {
        let d = new_document();
        assert_eq!(d["state"], "onboarding");
        assert_eq!(d["prev_state"], Value::Null);
        assert_eq!(d["stats"]["hp"], json!({"cur": 100, "max": 100, "regen": 1.0, "since": null}));
        assert_eq!(d["stats"]["mp"], json!({"cur": 50, "max": 50, "regen": 1.0, "since": null}));
        assert_eq!(d["stats"]["stamina"], json!({"cur": 100, "max": 100, "regen": 5.0, "since": null}));
        assert_eq!(d["stats"]["last_update"], Value::Null);
        for a in ATTRIBUTES {
            assert_eq!(d["attributes"][a], 8);
        }
        assert_eq!(d["location"], json!({"current": "start_village", "prev": null}));
        assert_eq!(d["sessions"], json!({"combat_id": null, "inventory_id": null, "scenario_id": null}));
        assert_eq!(d["metrics"]["gear_score"], 0);
        assert_eq!(d["skills"], json!({}));
        // A default document is itself valid and normalizes to itself.
        assert_eq!(normalize_document(d.clone()).unwrap(), d);
    }

    #[test]
    fn missing_parts_are_filled_and_given_parts_kept() {
        let d = normalize_document(json!({
            "state": "COMBAT",
            "bio": {"name": "Aragorn"},
            "stats": {"hp": {"cur": 75, "max": 120}, "mp": {"max": 10}},
            "skills": {"fire": {"lvl": 2}}
        }))
        .unwrap();
        assert_eq!(d["state"], "COMBAT");
        assert_eq!(d["bio"], json!({"name": "Aragorn", "gender": null, "created_at": null}));
        assert_eq!(d["stats"]["hp"], json!({"cur": 75, "max": 120, "regen": 1.0, "since": null}));
        assert_eq!(d["stats"]["mp"], json!({"cur": 10, "max": 10, "regen": 1.0, "since": null}));
        assert_eq!(d["skills"], json!({"fire": {"lvl": 2}}));
        let keys: Vec<_> = d.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, DOCUMENT.iter().map(|f| f.name).collect::<Vec<_>>());
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named() {
        assert_eq!(err(json!([])), "SCHEMA the document must be an object");
        assert_eq!(err(json!({"state": ""})), "SCHEMA state must be a non-empty string of at most 64 bytes");
        assert_eq!(err(json!({"bio": {"name": 5}})), "SCHEMA bio.name must be a string of at most 1024 bytes or null");
        assert_eq!(err(json!({"attributes": {"luck": -1}})), "SCHEMA attributes.luck must be a non-negative integer");
        assert_eq!(err(json!({"attributes": {"luck": 1.5}})), "SCHEMA attributes.luck must be a non-negative integer");
        assert_eq!(err(json!({"metrics": {"gear_score": "x"}})), "SCHEMA metrics.gear_score must be a number");
        assert_eq!(err(json!({"stats": {"hp": {"cur": 1.5}}})), "SCHEMA stats.hp.cur must be an integer from 0 to 1000000000000000");
        assert_eq!(err(json!({"stats": {"hp": {"cur": 101}}})), "SCHEMA stats.hp.cur must not exceed stats.hp.max");
        assert_eq!(err(json!({"stats": {"hp": {"max": -1}}})), "SCHEMA stats.hp.max must be an integer from 0 to 1000000000000000");
        assert_eq!(err(json!({"stats": {"hp": {"regen": "x"}}})), "SCHEMA stats.hp.regen must be a number from -1e12 to 1e12");
        assert_eq!(err(json!({"stats": {"last_update": -1}})), "SCHEMA stats.last_update must be a non-negative number (unix seconds) or null");
        assert_eq!(err(json!({"skills": []})), "SCHEMA skills must be an object");
        assert_eq!(err(json!({"stats": {"xp": {}}})), "SCHEMA unknown field 'stats.xp'");
        assert_eq!(err(json!({"stats": {"hp": {"rate": 1}}})), "SCHEMA unknown field 'stats.hp.rate'");
    }

    #[test]
    fn fields_the_schema_does_not_name_are_kept_in_their_order() {
        // As the original game writes them: enter_scenario's active_quest, rewards' tokens, ...
        let d = normalize_document(json!({
            "active_quest": "tutorial_quest", "bio": {"title": "Scout", "name": "A"},
            "location": {"previous": "52_52", "current": "53_52"}, "location_id": "53_52",
            "tokens": {"gold": 5}, "metrics": {"kills": 3, "arena_rating": 1200.7}, "state": "SCENARIO"
        }))
        .unwrap();
        assert_eq!(d["active_quest"], "tutorial_quest");
        assert_eq!(d["bio"], json!({"name": "A", "gender": null, "created_at": null, "title": "Scout"}));
        assert_eq!(d["location"], json!({"current": "53_52", "prev": null, "previous": "52_52"}));
        assert_eq!(d["metrics"]["kills"], 3);
        assert_eq!(d["metrics"]["arena_rating"], 1200.7);
        assert_eq!(d["state"], "SCENARIO");
        let keys: Vec<_> = d.as_object().unwrap().keys().cloned().collect();
        let mut want: Vec<String> = DOCUMENT.iter().map(|f| f.name.to_string()).collect();
        want.extend(["active_quest", "location_id", "tokens"].map(String::from));
        assert_eq!(keys, want);
        // A named field still has its type.
        assert_eq!(err(json!({"bio": {"title": 1, "name": 5}})), "SCHEMA bio.name must be a string of at most 1024 bytes or null");
    }

    #[test]
    fn set_at_validates_and_creates_skill_parents() {
        use crate::path::DocPath;
        let mut d = new_document();
        set_at(&mut d, &DocPath::parse("bio.name").unwrap(), json!("Legolas")).unwrap();
        assert_eq!(d["bio"]["name"], "Legolas");
        set_at(&mut d, &DocPath::parse("skills.fire.lvl").unwrap(), json!(3)).unwrap();
        assert_eq!(d["skills"], json!({"fire": {"lvl": 3}}));
        let e = set_at(&mut d, &DocPath::parse("skills.fire.lvl.x").unwrap(), json!(1)).unwrap_err();
        assert_eq!(e.to_string(), "SCHEMA skills.fire.lvl must be an object");
        let e = set_at(&mut d, &DocPath::parse("attributes.luck").unwrap(), json!(-1)).unwrap_err();
        assert_eq!(e.to_string(), "SCHEMA attributes.luck must be a non-negative integer");
        set_at(&mut d, &DocPath::parse("stats.hp").unwrap(), json!({"max": 10})).unwrap();
        assert_eq!(d["stats"]["hp"], json!({"cur": 10, "max": 10, "regen": 1.0, "since": null}));
        // A cross-field break is found by checking the whole document afterwards.
        set_at(&mut d, &DocPath::parse("stats.hp.cur").unwrap(), json!(50)).unwrap();
        assert_eq!(normalize_document(d).unwrap_err().to_string(), "SCHEMA stats.hp.cur must not exceed stats.hp.max");
    }

    #[test]
    fn integers_beyond_i64_are_rejected() {
        assert_eq!(
            err(json!({"attributes": {"luck": 18446744073709551615u64}})),
            "SCHEMA attributes.luck must be a non-negative integer"
        );
        assert!(normalize_document(json!({"metrics": {"gear_score": i64::MIN}})).is_ok());
    }

    #[test]
    fn integers_are_counted_as_json_schema_counts_them() {
        // `-0` parses as the double -0.0: both are the integer 0, as `2.0` is 2.
        for text in [r#"{"luck": -0}"#, r#"{"luck": -0.0}"#, r#"{"luck": 0.0}"#] {
            let v: Value = serde_json::from_str(text).unwrap();
            let d = normalize_document(json!({"attributes": v, "stats": {"hp": {"cur": -0.0}}})).unwrap();
            assert_eq!(d["attributes"]["luck"].to_string(), "0", "{text}");
            assert_eq!(d["stats"]["hp"]["cur"].to_string(), "0", "{text}");
        }
        let d = normalize_document(json!({"attributes": {"luck": 2.0, "men": 1e3}})).unwrap();
        assert_eq!(d["attributes"]["luck"].to_string(), "2");
        assert_eq!(d["attributes"]["men"].to_string(), "1000");
        assert_eq!(err(json!({"attributes": {"luck": 9.3e18}})), "SCHEMA attributes.luck must be a non-negative integer");
        assert_eq!(err(json!({"attributes": {"luck": 0.5}})), "SCHEMA attributes.luck must be a non-negative integer");
        assert_eq!(as_int(&json!(-9.223372036854775808e18)), Some(i64::MIN));
    }
}
