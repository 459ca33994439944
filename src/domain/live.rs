//! The whole document as a read shows it: as stored, with the members the schema gives a default
//! filled in, and the vitals brought up to date (nothing is written). Pure Rust over the stored
//! JSON text.
//!
//! The usual document (one the module wrote: complete, its stats section in the printed layout
//! of `printed.rs`) is answered from its text without parsing it: the stored text itself when no
//! vital regenerated, else the same text with the regenerated vitals printed anew. Any other
//! document is parsed, filled and printed again (`slow`); both give the same text (unit tests
//! compare them).

use crate::error::{Error, Result};
use crate::text::Text;
use crate::vitals::{self, Scalar, Source, Stats};
use crate::{printed, regen, schema};
use serde_json::Value;

/// The text a whole-document read answers for the stored `text` at time `now`.
pub fn document(text: &[u8], now: f64) -> Result<Vec<u8>> {
    match fast(text, now) {
        Some(out) => Ok(out),
        None => Ok(crate::json::to_vec(&slow(text, now)?)),
    }
}

/// The answer read from the text in place, when nothing needs filling and the stats section (if
/// any) is valid and printed; `None` otherwise.
fn fast(text: &[u8], now: f64) -> Option<Vec<u8>> {
    let doc = Text::new(text);
    if !doc.is_object() || schema::rules().schema.needs_fill(doc) {
        return None;
    }
    let Some(stats) = doc.field(vitals::vital_set().section) else {
        return Some(doc.bytes().to_vec());
    };
    let p = printed::read(stats.bytes())?;
    let live = regen::stats_at(p.stats, now);
    if live == p.stats {
        return Some(doc.bytes().to_vec());
    }
    let whole = doc.bytes();
    let start = stats.bytes().as_ptr() as usize - whole.as_ptr() as usize;
    let end = start + stats.bytes().len();
    let mut out = Vec::with_capacity(whole.len() + 32);
    out.extend_from_slice(&whole[..start]);
    out.extend_from_slice(&p.with(&live));
    out.extend_from_slice(&whole[end..]);
    Some(out)
}

/// Parsed, filled, the stats replaced by their live values when they are valid (as stored when
/// they are not: a read never refuses a document).
fn slow(text: &[u8], now: f64) -> Result<Value> {
    let mut doc: Value =
        serde_json::from_slice(text).map_err(|_| Error::Corrupt("not valid JSON".into()))?;
    schema::rules().schema.fill_defaults(&mut doc);
    let section = vitals::vital_set().section;
    if let Some(Ok(s)) = doc.get(section).map(vitals::stats_from) {
        doc[section] = stats_value(&regen::stats_at(s, now));
    }
    Ok(doc)
}

/// The vitals section as a value, built directly (not printed and parsed again).
pub fn stats_value(s: &Stats) -> Value {
    let mut m = serde_json::Map::with_capacity(s.set.all.len() + 1);
    for &stat in &s.set.all {
        m.insert(
            stat.name().into(),
            schema::vital_value(&s.vitals[stat.index()]),
        );
    }
    let last = match s.last_update {
        Some(Scalar::Int(n)) => Value::from(n),
        Some(Scalar::Float(t)) => Value::from(t),
        _ => Value::Null,
    };
    m.insert("last_update".into(), last);
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A document as the module stores it: ACCOUNT.CREATE's defaults, then `change`.
    fn stored(change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut doc = json!({});
        schema::rules().schema.fill_defaults(&mut doc);
        schema::start_clocks(&mut doc, 1_000.0);
        change(&mut doc);
        serde_json::to_vec(&doc).unwrap()
    }

    fn slow_text(text: &[u8], now: f64) -> Vec<u8> {
        serde_json::to_vec(&slow(text, now).unwrap()).unwrap()
    }

    #[test]
    fn the_fast_answer_is_the_slow_one() {
        type Case = (&'static str, Box<dyn FnOnce(&mut Value)>, bool);
        let cases: Vec<Case> = vec![
            ("as created", Box::new(|_| {}), true),
            (
                "hp regenerating",
                Box::new(|d| {
                    d["stats"]["hp"] = json!({"cur": 10, "max": 100, "regen": 1.5, "since": 990.25})
                }),
                true,
            ),
            (
                "all three regenerating",
                Box::new(|d| {
                    for v in ["hp", "mp", "stamina"] {
                        d["stats"][v] = json!({"cur": 1, "max": 50, "regen": 0.3, "since": 900.0});
                    }
                }),
                true,
            ),
            (
                "poison",
                Box::new(|d| {
                    d["stats"]["mp"] = json!({"cur": 40, "max": 50, "regen": -2.0, "since": 995.5})
                }),
                true,
            ),
            (
                "a clock in the future",
                Box::new(|d| {
                    d["stats"]["hp"] = json!({"cur": 10, "max": 100, "regen": 1.0, "since": 5000.0})
                }),
                true,
            ),
            (
                "last_update set",
                Box::new(|d| d["stats"]["last_update"] = json!(1733000000.123)),
                true,
            ),
            (
                "fields the schema does not name",
                Box::new(|d| {
                    d["active_quest"] = json!("awakening_rift");
                    d["tokens"] = json!({"gold": 3, "rate": 0.1, "big": 1e300, "neg": -0.5});
                    d["bio"]["title"] = json!("Ünïcødé \"quoted\" \\ \u{1}");
                    d["skills"] = json!({"fire": {"lvl": 3, "xp": [1, 2.5, null, true, "x"]}});
                }),
                true,
            ),
            (
                "a default missing",
                Box::new(|d| {
                    d.as_object_mut().unwrap().remove("sessions");
                }),
                false,
            ),
            (
                "a nested default missing",
                Box::new(|d| {
                    d["bio"].as_object_mut().unwrap().remove("gender");
                }),
                false,
            ),
            (
                "an integral float in an integer place",
                Box::new(|d| d["attributes"]["luck"] = json!(9.0)),
                false,
            ),
            (
                "stats without since (the original's)",
                Box::new(|d| d["stats"]["hp"] = json!({"cur": 10, "max": 100, "regen": 1.0})),
                false,
            ),
            (
                "stats broken",
                Box::new(|d| d["stats"]["hp"] = json!({"cur": 10})),
                false,
            ),
            (
                "no stats",
                Box::new(|d| {
                    d.as_object_mut().unwrap().remove("stats");
                }),
                false,
            ),
        ];
        for (name, change, fast_expected) in cases {
            let text = stored(change);
            for now in [1_000.0, 1_003.7, 2_000.0, 100_000.0] {
                let f = fast(&text, now);
                assert_eq!(f.is_some(), fast_expected, "{name}");
                let want = slow_text(&text, now);
                assert_eq!(document(&text, now).unwrap(), want, "{name} at {now}");
                if let Some(f) = f {
                    assert_eq!(
                        String::from_utf8(f).unwrap(),
                        String::from_utf8(want).unwrap(),
                        "{name} at {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn anything_else_is_answered_the_slow_way_or_refused() {
        assert_eq!(document(b"[1,2]", 0.0).unwrap(), b"[1,2]");
        assert_eq!(
            document(b"{\"stats\":", 0.0).unwrap_err().to_string(),
            "CORRUPT stored document: not valid JSON"
        );
        // Spaces (not RedisJSON's output) and escaped member names only ever take the slow way.
        let spaced = stored(|_| {});
        let spaced =
            serde_json::to_string_pretty(&serde_json::from_slice::<Value>(&spaced).unwrap())
                .unwrap();
        assert_eq!(
            document(spaced.as_bytes(), 5.0).unwrap(),
            slow_text(spaced.as_bytes(), 5.0)
        );
        let escaped =
            String::from_utf8(stored(|_| {}))
                .unwrap()
                .replacen("\"bio\"", "\"b\\u0069o\"", 1);
        assert!(fast(escaped.as_bytes(), 5.0).is_none());
        assert_eq!(
            document(escaped.as_bytes(), 5.0).unwrap(),
            slow_text(escaped.as_bytes(), 5.0)
        );
    }
}
