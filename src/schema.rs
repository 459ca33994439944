//! The document rules in force: the game's schema (a JSON Schema file, compiled by
//! `jsonschema.rs`), the validation level and action (`config.rs`), and what the commands take
//! from the schema — the vitals and their defaults. The schema is the one source of truth for
//! what fields, defaults and vitals exist; nothing else in the crate repeats them.
//!
//! Pure Rust on `serde_json::Value`; no Redis here (the loaded rules are kept in a process-wide
//! cell that only the main thread changes).

use crate::error::{Error, Result};
use crate::jsonschema::{NumberKind, Place, Schema};
use crate::path::DocPath;
use crate::vitals::{Source, Stat, Vital, VitalParts};
use serde_json::{Map, Value};
use std::sync::{Arc, RwLock};

/// The schema shipped with the module: today's document, open where the game is open.
pub const SHIPPED: &str = include_str!("../schema/account.schema.json");

/// A compiled schema and what the commands take from it.
#[derive(Debug)]
pub struct Rules {
    pub schema: Schema,
    /// Where it came from: `shipped`, a file path, or `inline` (ACCOUNT.SCHEMA SET).
    pub source: String,
    /// `(max, regen)` a stored vital lacking them reads as, per vital (`Stat` order), from the
    /// vital's `default` in the schema (0 and 0.0 when it gives none).
    pub vital_defaults: [(i64, f64); 3],
}

impl Rules {
    /// Compiles a schema and checks that it declares what the commands need.
    pub fn new(text: &[u8], source: &str) -> std::result::Result<Rules, String> {
        let schema = Schema::parse(text).map_err(|e| e.0)?;
        let vital_defaults = vital_defaults(&schema)?;
        Ok(Rules { schema, source: source.to_string(), vital_defaults })
    }

    /// A fresh document: every default of the schema (`{}` filled).
    pub fn new_document(&self) -> Value {
        let mut doc = Value::Object(Map::new());
        self.schema.fill_defaults(&mut doc);
        doc
    }

    /// NOPATH unless the schema lets the path name a place: one it describes, or one it leaves
    /// open. A place inside an object that forbids other members, or under a scalar, is not.
    pub fn check_path(&self, path: &DocPath) -> Result<()> {
        match self.schema.at(&path.segments) {
            Place::Node(_) | Place::Open => Ok(()),
            Place::Forbidden(_) | Place::NotAnObject(_) => Err(Error::NoPath(path.dotted())),
        }
    }

    /// The default the schema gives a place, if any.
    pub fn default_at(&self, path: &DocPath) -> Option<Value> {
        self.schema.default_at(&path.segments)
    }

    /// What ACCOUNT.INCR may add at a place.
    pub fn number_kind(&self, path: &DocPath) -> NumberKind {
        self.schema.number_kind(&path.segments)
    }

    /// Whether a change at `segments` reaches the vital `stat` (the vital, a place inside it, or
    /// a place that holds it).
    fn touches(segments: &[String], stat: Stat) -> bool {
        let vital: Vec<&str> = stat.path().split('.').collect();
        segments.iter().zip(&vital).all(|(a, b)| a == b)
    }

    /// Checks a write before it is made. `doc` is the whole document after the change, `before`
    /// the stored document it was made from (`None` for ACCOUNT.CREATE), `changed` the places the
    /// command changed (`None`: all of it). Fills defaults in what is new, then applies the
    /// validation level and action:
    /// - `strict`: the whole document must be valid;
    /// - `moderate`: the changed places must be valid (a document already invalid elsewhere can
    ///   still be changed in its valid parts);
    /// - `off`: no schema check.
    ///
    /// With the action `warn`, a violation is logged and counted (`warned` is called) and the
    /// write goes on; with `error` it is CORRUPT when the stored document already broke the same
    /// rule at the same place, SCHEMA otherwise. The vitals the command changed are always
    /// checked by the vital rules (`cur <= max`, ...), whatever the level and action: the vitals
    /// commands cannot work on anything else.
    pub fn check_write(&self, before: Option<&Value>, doc: &mut Value, changed: Option<&[DocPath]>, warned: &mut dyn FnMut(&str)) -> Result<()> {
        match changed {
            None => self.schema.fill_defaults(doc),
            Some(paths) => {
                for p in paths {
                    if let Some(v) = pointer_mut(doc, &p.segments) {
                        self.schema.fill_defaults_at(&p.segments, v);
                    }
                }
            }
        }
        for stat in Stat::ALL {
            let touched = changed.is_none_or(|paths| paths.iter().any(|p| Rules::touches(&p.segments, stat)));
            // A vital is stored whole: `cur` (default `max`), `max` and `regen` (the schema's
            // defaults), `since`.
            if touched {
                if let Some(v) = doc.get_mut("stats").and_then(|s| s.get_mut(stat.name())) {
                    let vital = self.vital(v, stat).map_err(|e| match before.and_then(|b| b.get("stats")?.get(stat.name())) {
                        Some(old) if self.vital(old, stat).is_err() => e.stored(),
                        _ => e,
                    })?;
                    *v = vital_value(&vital);
                }
            }
        }
        use crate::config::Level;
        let violation = match (crate::config::validation_level(), changed) {
            (Level::off, _) => None,
            (Level::strict, _) | (_, None) => self.schema.validate(doc).err(),
            (Level::moderate, Some(paths)) => paths.iter().find_map(|p| {
                let v = pointer(doc, &p.segments).unwrap_or(&Value::Null);
                self.schema.validate_at(&p.segments, v).err()
            }),
        };
        let Some(v) = violation else { return Ok(()) };
        let text = v.text();
        if crate::config::validation_warns() {
            warned(&text);
            return Ok(());
        }
        let place: Vec<String> = if v.place.is_empty() { Vec::new() } else { v.place.split('.').map(String::from).collect() };
        let already = before.is_some_and(|b| match pointer(b, &place) {
            Some(old) => self.schema.validate_at(&place, old).is_err_and(|w| w.text() == text),
            None => false,
        });
        Err(if already { Error::Corrupt(text) } else { Error::Schema(text) })
    }

    /// A vital object, by the vital rules, with the schema's defaults for what it lacks.
    fn vital(&self, v: &Value, stat: Stat) -> Result<Vital> {
        let (max, regen) = self.vital_defaults[stat.index()];
        let parts = vital_parts_of(v).ok_or_else(|| Error::Schema(format!("{} must be an object", stat.path())))?;
        Vital::from_parts(&parts, stat.path(), max, regen)
    }
}

fn vital_parts_of(v: &Value) -> Option<VitalParts> {
    let m = v.as_object()?;
    Some(vital_parts(m))
}

/// The vitals the commands know (`stats.hp`, `stats.mp`, `stats.stamina`) must be the ones the
/// schema declares; their defaults come from it.
fn vital_defaults(schema: &Schema) -> std::result::Result<[(i64, f64); 3], String> {
    let declared: Vec<String> = schema.vitals.iter().map(|v| v.path.join(".")).collect();
    let known: Vec<&str> = Stat::ALL.iter().map(|s| s.path()).collect();
    if declared.len() != known.len() || !known.iter().all(|k| declared.iter().any(|d| d == k)) {
        return Err(format!(
            "the schema declares the vitals [{}]; this version of the module needs exactly [{}]",
            declared.join(", "),
            known.join(", ")
        ));
    }
    let mut out = [(0, 0.0); 3];
    for stat in Stat::ALL {
        let decl = schema.vitals.iter().find(|v| v.path.join(".") == stat.path()).and_then(|v| v.default.as_ref());
        let max = decl.and_then(|d| d.get("max")).and_then(as_int).unwrap_or(0);
        let regen = decl.and_then(|d| d.get("regen")).and_then(Value::as_f64).unwrap_or(0.0);
        out[stat.index()] = (max, regen);
    }
    Ok(out)
}

static RULES: RwLock<Option<Arc<Rules>>> = RwLock::new(None);

/// The rules in force (the shipped schema until another is loaded).
pub fn rules() -> Arc<Rules> {
    if let Some(r) = RULES.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return r.clone();
    }
    let shipped = Arc::new(Rules::new(SHIPPED.as_bytes(), "shipped").expect("the shipped schema compiles"));
    let mut cell = RULES.write().unwrap_or_else(|e| e.into_inner());
    cell.get_or_insert(shipped).clone()
}

/// Puts new rules in force, all or nothing.
pub fn install(rules: Rules) {
    *RULES.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(rules));
}

/// `(max, regen)` a stored vital lacking them reads as.
pub fn vital_default(stat: Stat) -> (i64, f64) {
    rules().vital_defaults[stat.index()]
}

fn pointer<'v>(doc: &'v Value, segments: &[String]) -> Option<&'v Value> {
    segments.iter().try_fold(doc, |v, s| v.get(s.as_str()))
}

fn pointer_mut<'v>(doc: &'v mut Value, segments: &[String]) -> Option<&'v mut Value> {
    segments.iter().try_fold(doc, |v, s| v.get_mut(s.as_str()))
}

/// A JSON number as an integer, as JSON Schema counts integers: any number whose fraction is
/// zero (`3`, `3.0`, `-0`, `-0.0`) within the signed 64-bit range. Stored as the integer.
pub fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().and_then(crate::vitals::float_int))
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

/// Starts the regeneration clock (`since` = now) of every vital of a document that does not
/// rest and has no clock, so a document written now regenerates from now.
pub fn start_clocks(doc: &mut Value, now: f64) {
    for stat in Stat::ALL {
        let Some(slot) = doc.get_mut("stats").and_then(|s| s.get_mut(stat.name())) else { continue };
        if let Ok(v) = crate::vitals::vital_from(&*slot, stat) {
            let settled = crate::regen::settle(&v, v, now);
            if settled != v || slot.get("since").is_none() {
                *slot = vital_value(&settled);
            }
        }
    }
}

/// Puts `v` at `path` in `doc`, creating the objects on the way that are missing. A place on
/// the way that holds something else than an object is refused (`SCHEMA <place> must be an
/// object`): a write never replaces a value to reach inside it.
pub fn set_at(doc: &mut Value, path: &DocPath, v: Value) -> Result<()> {
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

    fn shipped() -> Rules {
        Rules::new(SHIPPED.as_bytes(), "shipped").unwrap()
    }

    fn check(doc: Value) -> std::result::Result<Value, String> {
        let mut doc = doc;
        shipped().check_write(None, &mut doc, None, &mut |_| {}).map_err(|e| e.to_string())?;
        Ok(doc)
    }

    #[test]
    fn the_shipped_schema_gives_the_notes_defaults() {
        let r = shipped();
        let d = r.new_document();
        assert_eq!(d["state"], "onboarding");
        assert_eq!(d["prev_state"], Value::Null);
        assert_eq!(d["stats"]["hp"], json!({"cur": 100, "max": 100, "regen": 1.0, "since": null}));
        assert_eq!(d["stats"]["mp"], json!({"cur": 50, "max": 50, "regen": 1.0, "since": null}));
        assert_eq!(d["stats"]["stamina"], json!({"cur": 100, "max": 100, "regen": 5.0, "since": null}));
        assert_eq!(d["stats"]["last_update"], Value::Null);
        assert_eq!(d["attributes"]["luck"], 8);
        assert_eq!(d["location"], json!({"current": "start_village", "prev": null}));
        assert_eq!(d["sessions"], json!({"combat_id": null, "inventory_id": null, "scenario_id": null}));
        assert_eq!(d["metrics"]["gear_score"], 0);
        assert_eq!(d["skills"], json!({}));
        let keys: Vec<_> = d.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["stats", "state", "prev_state", "bio", "location", "attributes", "sessions", "metrics", "skills"]);
        assert_eq!(r.vital_defaults, [(100, 1.0), (50, 1.0), (100, 5.0)]);
        assert_eq!(check(d.clone()).unwrap(), d);
    }

    #[test]
    fn writes_are_checked_against_the_shipped_schema() {
        assert_eq!(check(json!([])).unwrap_err(), "SCHEMA the document must be an object");
        assert_eq!(check(json!({"state": ""})).unwrap_err(), "SCHEMA state must be a string of at least 1 character");
        assert_eq!(check(json!({"bio": {"name": 5}})).unwrap_err(), "SCHEMA bio.name must be a string or null");
        assert_eq!(check(json!({"attributes": {"luck": -1}})).unwrap_err(), "SCHEMA attributes.luck must be at least 0");
        assert_eq!(check(json!({"attributes": {"luck": 1.5}})).unwrap_err(), "SCHEMA attributes.luck must be an integer");
        assert_eq!(check(json!({"stats": {"hp": {"cur": 101}}})).unwrap_err(), "SCHEMA stats.hp.cur must not exceed stats.hp.max");
        assert_eq!(check(json!({"stats": {"xp": {}}})).unwrap_err(), "SCHEMA unknown field 'stats.xp'");
        assert_eq!(
            check(json!({"stats": {"hp": {"regen": "x"}}})).unwrap_err(),
            "SCHEMA stats.hp.regen must be a number from -1e12 to 1e12"
        );
        assert_eq!(check(json!({"skills": []})).unwrap_err(), "SCHEMA skills must be an object");
        // Open where the game is open.
        let d = check(json!({"active_quest": "q", "bio": {"title": "Scout"}, "metrics": {"kills": 3, "arena_rating": 1200.7}, "state": "SCENARIO"})).unwrap();
        assert_eq!((d["active_quest"].clone(), d["bio"]["title"].clone(), d["bio"]["name"].clone()), (json!("q"), json!("Scout"), Value::Null));
        // Integral numbers in integer places are stored as integers.
        assert_eq!(check(json!({"attributes": {"luck": -0.0}})).unwrap()["attributes"]["luck"].to_string(), "0");
    }

    #[test]
    fn a_schema_must_declare_the_vitals_the_commands_know() {
        let e = Rules::new(br#"{"type": "object", "properties": {"hp": {"type": "object", "properties": {"cur": {"type": "integer"}, "max": {"type": "integer"}}}}}"#, "x").unwrap_err();
        assert_eq!(e, "the schema declares the vitals [hp]; this version of the module needs exactly [stats.hp, stats.mp, stats.stamina]");
    }
}
