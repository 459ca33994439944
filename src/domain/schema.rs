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
use crate::vitals::{Source, Stat, Vital, VitalParts, VitalSet, MAX_VITALS};
use serde_json::{Map, Value};
use std::sync::{Arc, RwLock};

/// The schema shipped with the module: today's document, open where the game is open.
pub const SHIPPED: &str = include_str!("../../schema/account.schema.json");

/// How much of a document a write must leave valid (`account.validation-level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Strict,
    Moderate,
    Off,
}

/// The validation level and action in force (`account.validation-level`, `-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub level: Level,
    /// `warn`: a write that breaks the schema goes on (logged and counted); else it is refused.
    pub warn: bool,
}

impl Default for Policy {
    /// `moderate` and `error` (docs/commands.md, "The schema", says why).
    fn default() -> Policy {
        Policy {
            level: Level::Moderate,
            warn: false,
        }
    }
}

/// A compiled schema and what the commands take from it.
#[derive(Debug)]
pub struct Rules {
    pub schema: Schema,
    /// Where it came from: `shipped`, a file path, or `inline` (ACCOUNT.SCHEMA SET).
    pub source: String,
    /// The vitals the schema declares, with the `(max, regen)` a stored vital lacking them reads
    /// as (from the vital's `default` in the schema; 0 and 0.0 when it gives none).
    pub vitals: &'static VitalSet,
}

impl Rules {
    /// Compiles a schema and checks that it declares what the commands need.
    pub fn new(text: &[u8], source: &str) -> std::result::Result<Rules, String> {
        let schema = Schema::parse(text).map_err(|e| e.0)?;
        let vitals = vital_set(&schema)?;
        Ok(Rules {
            schema,
            source: source.to_string(),
            vitals,
        })
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
    pub fn check_write(
        &self,
        policy: Policy,
        before: Option<&Value>,
        doc: &mut Value,
        changed: Option<&[DocPath]>,
        warned: &mut dyn FnMut(&str),
    ) -> Result<()> {
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
        for &stat in &self.vitals.all {
            let touched =
                changed.is_none_or(|paths| paths.iter().any(|p| Rules::touches(&p.segments, stat)));
            // A vital is stored whole: `cur` (default `max`), `max` and `regen` (the schema's
            // defaults), `since`.
            if touched {
                if let Some(v) = doc
                    .get_mut(self.vitals.section)
                    .and_then(|s| s.get_mut(stat.name()))
                {
                    let vital = self.vital(v, stat).map_err(|e| {
                        match before.and_then(|b| b.get(self.vitals.section)?.get(stat.name())) {
                            Some(old) if self.vital(old, stat).is_err() => e.stored(),
                            _ => e,
                        }
                    })?;
                    *v = vital_value(&vital);
                }
            }
        }
        let violation = match (policy.level, changed) {
            (Level::Off, _) => None,
            (Level::Strict, _) | (_, None) => self.schema.validate(doc).err(),
            (Level::Moderate, Some(paths)) => paths.iter().find_map(|p| {
                let v = pointer(doc, &p.segments).unwrap_or(&Value::Null);
                self.schema.validate_at(&p.segments, v).err()
            }),
        };
        let Some(v) = violation else { return Ok(()) };
        let text = v.text();
        if policy.warn {
            // The log line names the path (the key is added by the command).
            warned(&format!("at path '{}': {text}", v.place));
            return Ok(());
        }
        // A violation inside what the command wrote is the command's (SCHEMA); one elsewhere that
        // the stored document already had is the stored document's (CORRUPT).
        let place: Vec<String> = if v.place.is_empty() {
            Vec::new()
        } else {
            v.place.split('.').map(String::from).collect()
        };
        let written =
            changed.is_none_or(|paths| paths.iter().any(|p| place.starts_with(&p.segments)));
        let already = !written
            && before.is_some_and(|b| match pointer(b, &place) {
                Some(old) => self
                    .schema
                    .validate_at(&place, old)
                    .is_err_and(|w| w.text() == text),
                None => false,
            });
        Err(if already {
            Error::Corrupt(text)
        } else {
            Error::Schema(text)
        })
    }

    /// The first reason a stored document breaks the rules in force (the schema, then the vital
    /// rules), as ACCOUNT.CHECK reports it; `None` when it keeps them.
    pub fn first_problem(&self, doc: &Value) -> Option<String> {
        if let Err(v) = self.schema.validate(doc) {
            return Some(v.text());
        }
        self.vitals.all.iter().find_map(|&stat| {
            let v = doc.get(self.vitals.section)?.get(stat.name())?;
            self.vital(v, stat)
                .err()
                .map(|e| e.to_string().trim_start_matches("SCHEMA ").to_string())
        })
    }

    /// A vital object, by the vital rules, with the schema's defaults for what it lacks.
    fn vital(&self, v: &Value, stat: Stat) -> Result<Vital> {
        let parts = vital_parts_of(v)
            .ok_or_else(|| Error::Schema(format!("{} must be an object", stat.path())))?;
        Vital::from_parts(
            &parts,
            stat.path(),
            stat.def().default_max,
            stat.def().default_regen,
        )
    }
}

fn vital_parts_of(v: &Value) -> Option<VitalParts> {
    let m = v.as_object()?;
    Some(vital_parts(m))
}

/// The vitals the schema declares: at least one, at most `MAX_VITALS`, all members of one
/// object of the root (`stats`), where the hot commands read them.
fn vital_set(schema: &Schema) -> std::result::Result<&'static VitalSet, String> {
    let declared: Vec<String> = schema.vitals.iter().map(|v| v.path.join(".")).collect();
    let section = schema
        .vitals
        .first()
        .map(|v| v.path[0].clone())
        .unwrap_or_default();
    let in_one_section = schema
        .vitals
        .iter()
        .all(|v| v.path.len() == 2 && v.path[0] == section);
    if declared.is_empty() || declared.len() > MAX_VITALS || !in_one_section {
        return Err(format!(
            "the schema declares the vitals [{}]; the module needs 1 to {MAX_VITALS} vitals, all members of one object of the document (as stats.hp, stats.mp)",
            declared.join(", ")
        ));
    }
    if schema.vitals.iter().any(|v| v.name == "last_update") {
        return Err(format!(
            "the vital {section}.last_update would take the name of the section's clock"
        ));
    }
    let vitals: Vec<(String, i64, f64)> = schema
        .vitals
        .iter()
        .map(|v| {
            let d = v.default.as_ref();
            let max = d.and_then(|d| d.get("max")).and_then(as_int).unwrap_or(0);
            let regen = d
                .and_then(|d| d.get("regen"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            (v.name.clone(), max, regen)
        })
        .collect();
    Ok(VitalSet::new(&section, &vitals))
}

static RULES: RwLock<Option<Arc<Rules>>> = RwLock::new(None);

/// The rules in force (the shipped schema until another is loaded).
pub fn rules() -> Arc<Rules> {
    if let Some(r) = RULES.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return r.clone();
    }
    let shipped =
        Arc::new(Rules::new(SHIPPED.as_bytes(), "shipped").expect("the shipped schema compiles"));
    let mut cell = RULES.write().unwrap_or_else(|e| e.into_inner());
    let r = cell.get_or_insert(shipped).clone();
    crate::vitals::install(r.vitals);
    r
}

/// Puts new rules in force, all or nothing.
pub fn install(rules: Rules) {
    let vitals = rules.vitals;
    *RULES.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(rules));
    crate::vitals::install(vitals);
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
    v.as_i64()
        .or_else(|| v.as_f64().and_then(crate::vitals::float_int))
}

/// The fields of a vital object as `VitalParts`.
pub fn vital_parts(m: &Map<String, Value>) -> VitalParts {
    let scalar = |v: &Value| Source::scalar(v);
    VitalParts {
        cur: m.get("cur").map(scalar),
        max: m.get("max").map(scalar),
        regen: m.get("regen").map(scalar),
        since: m.get("since").map(scalar),
        unknown: m
            .keys()
            .find(|k| !matches!(k.as_str(), "cur" | "max" | "regen" | "since"))
            .cloned(),
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
    let set = crate::vitals::vital_set();
    for &stat in &set.all {
        let Some(slot) = doc
            .get_mut(set.section)
            .and_then(|s| s.get_mut(stat.name()))
        else {
            continue;
        };
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
            return Err(Error::Schema(format!(
                "{} must be an object",
                path.segments[..i].join(".")
            )));
        };
        here = m
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match here {
        Value::Object(m) => {
            m.insert(last.clone(), v);
            Ok(())
        }
        _ => Err(Error::Schema(format!(
            "{} must be an object",
            parents.join(".")
        ))),
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
        shipped()
            .check_write(Policy::default(), None, &mut doc, None, &mut |_| {})
            .map_err(|e| e.to_string())?;
        Ok(doc)
    }

    #[test]
    fn the_shipped_schema_gives_the_notes_defaults() {
        let r = shipped();
        let d = r.new_document();
        assert_eq!(d["state"], "onboarding");
        assert_eq!(d["prev_state"], Value::Null);
        assert_eq!(
            d["stats"]["hp"],
            json!({"cur": 100, "max": 100, "regen": 1.0, "since": null})
        );
        assert_eq!(
            d["stats"]["mp"],
            json!({"cur": 50, "max": 50, "regen": 1.0, "since": null})
        );
        assert_eq!(
            d["stats"]["stamina"],
            json!({"cur": 100, "max": 100, "regen": 5.0, "since": null})
        );
        assert_eq!(d["stats"]["last_update"], Value::Null);
        assert_eq!(d["attributes"]["luck"], 8);
        assert_eq!(
            d["location"],
            json!({"current": "start_village", "prev": null})
        );
        assert_eq!(
            d["sessions"],
            json!({"combat_id": null, "inventory_id": null, "scenario_id": null})
        );
        assert_eq!(d["metrics"]["gear_score"], 0);
        assert_eq!(d["skills"], json!({}));
        let keys: Vec<_> = d.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "stats",
                "state",
                "prev_state",
                "bio",
                "location",
                "attributes",
                "sessions",
                "metrics",
                "skills"
            ]
        );
        let defaults: Vec<_> = r
            .vitals
            .all
            .iter()
            .map(|s| (s.path(), s.def().default_max, s.def().default_regen))
            .collect();
        assert_eq!(
            defaults,
            [
                ("stats.hp", 100, 1.0),
                ("stats.mp", 50, 1.0),
                ("stats.stamina", 100, 5.0)
            ]
        );
        assert_eq!(check(d.clone()).unwrap(), d);
    }

    #[test]
    fn writes_are_checked_against_the_shipped_schema() {
        assert_eq!(
            check(json!([])).unwrap_err(),
            "SCHEMA the document must be an object"
        );
        assert_eq!(
            check(json!({"state": ""})).unwrap_err(),
            "SCHEMA state must be a string of at least 1 character"
        );
        assert_eq!(
            check(json!({"bio": {"name": 5}})).unwrap_err(),
            "SCHEMA bio.name must be a string or null"
        );
        assert_eq!(
            check(json!({"attributes": {"luck": -1}})).unwrap_err(),
            "SCHEMA attributes.luck must be at least 0"
        );
        assert_eq!(
            check(json!({"attributes": {"luck": 1.5}})).unwrap_err(),
            "SCHEMA attributes.luck must be an integer"
        );
        assert_eq!(
            check(json!({"stats": {"hp": {"cur": 101}}})).unwrap_err(),
            "SCHEMA stats.hp.cur must not exceed stats.hp.max"
        );
        assert_eq!(
            check(json!({"stats": {"xp": {}}})).unwrap_err(),
            "SCHEMA unknown field 'stats.xp'"
        );
        assert_eq!(
            check(json!({"stats": {"hp": {"regen": "x"}}})).unwrap_err(),
            "SCHEMA stats.hp.regen must be a number from -1e12 to 1e12"
        );
        assert_eq!(
            check(json!({"skills": []})).unwrap_err(),
            "SCHEMA skills must be an object"
        );
        // Open where the game is open.
        let d = check(json!({"active_quest": "q", "bio": {"title": "Scout"}, "metrics": {"kills": 3, "arena_rating": 1200.7}, "state": "SCENARIO"})).unwrap();
        assert_eq!(
            (
                d["active_quest"].clone(),
                d["bio"]["title"].clone(),
                d["bio"]["name"].clone()
            ),
            (json!("q"), json!("Scout"), Value::Null)
        );
        // Integral numbers in integer places are stored as integers.
        assert_eq!(
            check(json!({"attributes": {"luck": -0.0}})).unwrap()["attributes"]["luck"].to_string(),
            "0"
        );
    }

    #[test]
    fn vitals_live_in_one_section() {
        let v = r#"{"type": "object", "properties": {"cur": {"type": "integer"}, "max": {"type": "integer"}}}"#;
        let e = Rules::new(
            format!(r#"{{"type": "object", "properties": {{"hp": {v}}}}}"#).as_bytes(),
            "x",
        )
        .unwrap_err();
        assert_eq!(e, "the schema declares the vitals [hp]; the module needs 1 to 16 vitals, all members of one object of the document (as stats.hp, stats.mp)");
        let e = Rules::new(format!(r#"{{"type": "object", "properties": {{"a": {{"properties": {{"hp": {v}}}}}, "b": {{"properties": {{"mp": {v}}}}}}}}}"#).as_bytes(), "x").unwrap_err();
        assert!(
            e.starts_with("the schema declares the vitals [a.hp, b.mp]"),
            "{e}"
        );
        assert!(Rules::new(br#"{"type": "object"}"#, "x")
            .unwrap_err()
            .starts_with("the schema declares the vitals []"));
        let r = Rules::new(format!(r#"{{"type": "object", "properties": {{"pool": {{"properties": {{"rage": {v}, "focus": {v}}}}}}}}}"#).as_bytes(), "x").unwrap();
        assert_eq!(r.vitals.section, "pool");
        assert_eq!(
            r.vitals.all.iter().map(|s| s.path()).collect::<Vec<_>>(),
            ["pool.rage", "pool.focus"]
        );
    }
}
