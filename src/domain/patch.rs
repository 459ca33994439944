//! Writes as one JSON merge patch (RFC 7396), sent as `JSON.MERGE key $ <patch>`: the changes
//! of vitals, and a single value at a path (ACCOUNT.INCR).
//!
//! Why a merge patch: RedisJSON applies a merge at the root `$` without compiling a JSONPath,
//! and compiling the path is most of what `JSON.SET key $.stats.hp.cur 5` costs (measured:
//! `JSON.MERGE key $ {"stats":{"hp":{"cur":5}}}` runs at about 1.6x the rate of that JSON.SET).
//! What a merge patch cannot do is write a null: a null member deletes the field. So a change
//! that stores a null (a vital coming to rest, its clock `since` back to null) is written with
//! paths instead (`Patch::NeedsNull`).
//!
//! The policy is the same as for path writes: only `cur` when nothing else of the vital
//! changed (the hot case), else the whole vital object, so that a document written by older
//! code gains every field of the vitals it changes.

use crate::vitals::{push_i64, Stat, Vital};

/// How to store a set of vital changes.
#[derive(Debug, PartialEq)]
pub enum Patch {
    /// Nothing changed: no write.
    Unchanged,
    /// One merge patch at the root that makes the stored document the wanted one.
    Merge(String),
    /// A field would become null, which a merge patch cannot store: write with paths.
    NeedsNull,
}

/// The merge patch that turns each vital `before` into `after` (each stat at most once) and,
/// with `last_update`, sets the section's `last_update`.
pub fn vitals(changes: &[(Stat, Vital, Vital)], last_update: Option<f64>) -> Patch {
    let mut out = Vec::with_capacity(48);
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(crate::vitals::vital_set().section.as_bytes());
    out.extend_from_slice(b"\":{");
    let mut members = 0;
    for &(stat, before, after) in changes {
        if after == before {
            continue;
        }
        if members > 0 {
            out.push(b',');
        }
        members += 1;
        out.push(b'"');
        out.extend_from_slice(stat.name().as_bytes());
        out.extend_from_slice(b"\":");
        if (Vital {
            cur: before.cur,
            ..after
        }) == before
        {
            out.extend_from_slice(b"{\"cur\":");
            push_i64(&mut out, after.cur);
            out.push(b'}');
        } else if after.since.is_none() {
            return Patch::NeedsNull;
        } else {
            out.extend_from_slice(after.to_json().as_bytes());
        }
    }
    if let Some(t) = last_update {
        if members > 0 {
            out.push(b',');
        }
        members += 1;
        out.extend_from_slice(b"\"last_update\":");
        out.extend_from_slice(crate::vitals::time_json(Some(t)).as_bytes());
    }
    if members == 0 {
        return Patch::Unchanged;
    }
    out.extend_from_slice(b"}}");
    Patch::Merge(String::from_utf8(out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// RFC 7396 MergePatch(target, patch), as RedisJSON's JSON.MERGE applies it.
    fn merge(target: &mut Value, patch: &Value) {
        let Value::Object(p) = patch else {
            *target = patch.clone();
            return;
        };
        if !target.is_object() {
            *target = json!({});
        }
        let t = target.as_object_mut().unwrap();
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }

    const HP: Vital = Vital {
        cur: 80,
        max: 100,
        regen: 1.0,
        since: Some(1_700_000_000.5),
    };

    fn applied(doc: &Value, p: &Patch) -> Value {
        let Patch::Merge(text) = p else {
            panic!("{p:?}")
        };
        let mut d = doc.clone();
        merge(&mut d, &serde_json::from_str(text).unwrap());
        d
    }

    #[test]
    fn a_cur_change_writes_only_cur() {
        let p = vitals(&[(Stat::named("hp"), HP, Vital { cur: 70, ..HP })], None);
        assert_eq!(p, Patch::Merge(r#"{"stats":{"hp":{"cur":70}}}"#.into()));
    }

    #[test]
    fn other_changes_write_the_whole_vital_and_nulls_need_paths() {
        let rest = Vital { since: None, ..HP };
        assert_eq!(
            vitals(
                &[(
                    Stat::named("mp"),
                    rest,
                    Vital {
                        cur: 10,
                        since: Some(5.25),
                        ..rest
                    }
                )],
                None
            ),
            Patch::Merge(
                r#"{"stats":{"mp":{"cur":10,"max":100,"regen":1.0,"since":5.25}}}"#.into()
            )
        );
        assert_eq!(
            vitals(
                &[(
                    Stat::named("hp"),
                    HP,
                    Vital {
                        cur: 100,
                        since: None,
                        ..HP
                    }
                )],
                None
            ),
            Patch::NeedsNull
        );
        assert_eq!(
            vitals(
                &[(Stat::named("hp"), HP, HP), (Stat::named("mp"), HP, HP)],
                None
            ),
            Patch::Unchanged
        );
    }

    #[test]
    fn several_vitals_and_the_clock_in_one_patch() {
        let p = vitals(
            &[
                (Stat::named("hp"), HP, HP),
                (Stat::named("mp"), HP, Vital { cur: 1, ..HP }),
                (Stat::named("stamina"), HP, Vital { cur: 2, ..HP }),
            ],
            Some(9.5),
        );
        assert_eq!(
            p,
            Patch::Merge(
                r#"{"stats":{"mp":{"cur":1},"stamina":{"cur":2},"last_update":9.5}}"#.into()
            )
        );
        assert_eq!(
            vitals(&[], Some(9.5)),
            Patch::Merge(r#"{"stats":{"last_update":9.5}}"#.into())
        );
    }

    /// Applying the patch to the stored document gives exactly the document a path write
    /// of the changed vitals gives, for random changes.
    #[test]
    fn the_patch_makes_the_stored_document_the_wanted_one() {
        let mut r = crate::fuzz::Rng(0x2545_f491_4f6c_dd1du64);
        let mut rnd = |n: u64| r.next() % n;
        fn vital(r: &mut dyn FnMut(u64) -> u64) -> Vital {
            Vital {
                cur: r(5) as i64,
                max: 4 + r(2) as i64,
                regen: [0.0, 1.0, 0.25][r(3) as usize],
                since: [None, Some(1.5), Some(7.0)][r(3) as usize],
            }
        }
        let mut seen = [0; 3];
        for _ in 0..2000 {
            let mut doc = crate::schema::rules().new_document();
            let mut changes = Vec::new();
            for &stat in &crate::vitals::vital_set().all {
                let before = vital(&mut rnd);
                doc["stats"][stat.name()] = serde_json::from_str(&before.to_json()).unwrap();
                if rnd(2) == 0 {
                    let after = if rnd(2) == 0 {
                        Vital {
                            cur: rnd(5) as i64,
                            ..before
                        }
                    } else {
                        vital(&mut rnd)
                    };
                    changes.push((stat, before, after));
                }
            }
            let clock = if rnd(3) == 0 { Some(11.75) } else { None };
            let mut wanted = doc.clone();
            for &(stat, _, after) in &changes {
                wanted["stats"][stat.name()] = serde_json::from_str(&after.to_json()).unwrap();
            }
            if let Some(t) = clock {
                wanted["stats"]["last_update"] = json!(t);
            }
            let kind = match vitals(&changes, clock) {
                Patch::Unchanged => {
                    assert_eq!(wanted, doc);
                    0
                }
                Patch::NeedsNull => {
                    assert!(changes
                        .iter()
                        .any(|(_, b, a)| Vital { cur: b.cur, ..*a } != *b && a.since.is_none()));
                    1
                }
                p => {
                    assert_eq!(applied(&doc, &p), wanted);
                    2
                }
            };
            seen[kind] += 1;
        }
        assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
    }
}
