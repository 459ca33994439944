//! The orchestration of the vitals commands (read, catch up, change, settle, write, announce),
//! written once over a `Store` and a `Clock`, as redis-cell writes its limiter: the Redis glue
//! implements them over the module API (`redis::store::RedisVitals`), and the unit tests below
//! over an in-memory store and a clock they move by hand.

use crate::error::Result;
use crate::regen;
use crate::vitals::{Change, Stat, Stats, Vital};

/// What the vitals commands need of where accounts are kept.
pub trait Store {
    /// One validated vital of an existing account (NOACCOUNT if none, CORRUPT if broken).
    fn vital(&mut self, stat: Stat) -> Result<Vital>;
    /// The validated vitals section of an existing account.
    fn stats(&mut self) -> Result<Stats>;
    /// Stores the vitals that changed (`before` to `after`) and, with `last_update`, the
    /// section's clock, in one write; nothing when nothing changed (the idle TTL is refreshed
    /// either way).
    fn save(&mut self, changes: &[(Stat, Vital, Vital)], last_update: Option<f64>) -> Result<()>;
    /// A keyspace event (`account.damage`, ..., `account.death`).
    fn announce(&mut self, event: Event);
    /// INFO counters: a clamp cut a change short; regeneration changed a vital.
    fn count(&mut self, what: Count);
}

/// The server clock, unix seconds.
pub trait Clock {
    fn now(&self) -> f64;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Damage,
    Heal,
    Spend,
    Apply,
    Regen,
    SetStat,
    /// The first vital (hp in the shipped schema) reached 0 from above.
    Death,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Clamp,
    Regen,
}

/// One vital brought up to the clock: (as stored, up to date, now).
fn live<S: Store, C: Clock>(store: &mut S, clock: &C, stat: Stat) -> Result<(Vital, Vital, f64)> {
    let stored = store.vital(stat)?;
    let now = clock.now();
    let (live, gained) = regen::catch_up(stored, now);
    if gained != 0 {
        store.count(Count::Regen);
    }
    Ok((stored, live, now))
}

fn announce<S: Store>(store: &mut S, event: Event, stat: Stat, before: &Vital, after: &Vital) {
    store.announce(event);
    if stat.index() == 0 && before.cur > 0 && after.cur == 0 {
        store.announce(Event::Death);
    }
}

/// ACCOUNT.DAMAGE / ACCOUNT.HEAL: one clamped change after regeneration. Returns the new `cur`
/// and the (positive) amount actually applied.
pub fn clamped<S: Store, C: Clock>(
    store: &mut S,
    clock: &C,
    stat: Stat,
    amount: i64,
    heal: bool,
) -> Result<(i64, i64)> {
    let (stored, live, now) = live(store, clock, stat)?;
    let c: Change = if heal {
        live.heal(amount)
    } else {
        live.damage(amount)
    };
    let after = regen::settle(&live, c.after, now);
    if c.applied.abs() < amount {
        store.count(Count::Clamp);
    }
    store.save(&[(stat, stored, after)], None)?;
    if after != stored {
        announce(
            store,
            if heal { Event::Heal } else { Event::Damage },
            stat,
            &live,
            &after,
        );
    }
    Ok((after.cur, c.applied.abs()))
}

/// ACCOUNT.SPEND: takes `amount` only if there is enough (after regeneration).
pub fn spend<S: Store, C: Clock>(
    store: &mut S,
    clock: &C,
    stat: Stat,
    amount: i64,
) -> Result<(i64, i64)> {
    let (stored, live, now) = live(store, clock, stat)?;
    let after = regen::settle(&live, live.spend(stat, amount)?, now);
    store.save(&[(stat, stored, after)], None)?;
    announce(store, Event::Spend, stat, &live, &after);
    Ok((after.cur, amount))
}

/// ACCOUNT.APPLY: signed deltas to several vitals in one step. Returns `[new cur, applied]`
/// per delta.
pub fn apply<S: Store, C: Clock>(
    store: &mut S,
    clock: &C,
    deltas: &[(Stat, i64)],
) -> Result<Vec<(i64, i64)>> {
    let stored = store.stats()?;
    let now = clock.now();
    let mut live = stored;
    for &(stat, _) in deltas {
        let i = stat.index();
        let (caught_up, gained) = regen::catch_up(live.vitals[i], now);
        if gained != 0 && live.vitals[i] == stored.vitals[i] {
            store.count(Count::Regen);
        }
        live.vitals[i] = caught_up;
    }
    let mut after = live;
    let mut out = Vec::with_capacity(deltas.len());
    for &(stat, delta) in deltas {
        let change = after.vitals[stat.index()].apply(delta);
        if change.applied != delta {
            store.count(Count::Clamp);
        }
        after.vitals[stat.index()] = change.after;
        out.push((change.after.cur, change.applied));
    }
    let changes: Vec<(Stat, Vital, Vital)> = after
        .set
        .all
        .iter()
        .map(|&s| {
            (
                s,
                stored.vitals[s.index()],
                regen::settle(&live.vitals[s.index()], after.vitals[s.index()], now),
            )
        })
        .collect();
    store.save(&changes, None)?;
    let first = after.set.all[0];
    announce(store, Event::Apply, first, &live.vitals[0], &changes[0].2);
    Ok(out)
}

/// ACCOUNT.REGEN: every vital brought up to the clock and stored, with the section's clock.
pub fn regen_all<S: Store, C: Clock>(store: &mut S, clock: &C) -> Result<Stats> {
    let mut s = store.stats()?;
    let stored = s;
    let now = clock.now();
    for v in s.each_mut() {
        let (live, gained) = regen::catch_up(*v, now);
        if gained != 0 {
            store.count(Count::Regen);
        }
        *v = live;
    }
    s.last_update = Some(crate::vitals::Scalar::Float(now));
    let changes: Vec<(Stat, Vital, Vital)> = s
        .set
        .all
        .iter()
        .map(|&st| (st, stored.vitals[st.index()], s.vitals[st.index()]))
        .collect();
    store.save(&changes, Some(now))?;
    store.announce(Event::Regen);
    Ok(s)
}

/// ACCOUNT.SETSTAT: `cur` clamped into `[0, max]`, `max` kept unless given; the value given is
/// the value now (regeneration, if it does not rest, counts from here).
pub fn setstat<S: Store, C: Clock>(
    store: &mut S,
    clock: &C,
    stat: Stat,
    cur: i64,
    max: Option<i64>,
) -> Result<Vital> {
    let stored = store.vital(stat)?;
    let set = stored.set(cur, max)?;
    let vital = if regen::at_rest(&set) {
        set
    } else {
        Vital {
            since: Some(clock.now()),
            ..set
        }
    };
    if vital.cur != cur {
        store.count(Count::Clamp);
    }
    store.save(&[(stat, stored, vital)], None)?;
    store.announce(Event::SetStat);
    Ok(vital)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::vitals::{stats_from, stored_vital};
    use serde_json::{json, Value};
    use std::cell::Cell;

    /// A document in memory, and what the commands did to it.
    struct Memory {
        doc: Option<Value>,
        writes: usize,
        events: Vec<Event>,
        counts: Vec<Count>,
    }

    impl Memory {
        fn with(stats: Value) -> Memory {
            Memory {
                doc: Some(json!({"stats": stats})),
                writes: 0,
                events: Vec::new(),
                counts: Vec::new(),
            }
        }
        fn vital_json(&self, name: &str) -> Value {
            self.doc.as_ref().unwrap()["stats"][name].clone()
        }
    }

    impl Store for Memory {
        fn vital(&mut self, stat: Stat) -> Result<Vital> {
            let doc = self.doc.as_ref().ok_or(Error::NoAccount)?;
            stored_vital(doc, stat).map_err(Error::stored)
        }
        fn stats(&mut self) -> Result<Stats> {
            let doc = self.doc.as_ref().ok_or(Error::NoAccount)?;
            stats_from(&doc["stats"]).map_err(Error::stored)
        }
        fn save(
            &mut self,
            changes: &[(Stat, Vital, Vital)],
            last_update: Option<f64>,
        ) -> Result<()> {
            let doc = self.doc.as_mut().ok_or(Error::NoAccount)?;
            let mut wrote = false;
            for (stat, before, after) in changes {
                if before != after {
                    doc["stats"][stat.name()] = crate::schema::vital_value(after);
                    wrote = true;
                }
            }
            if let Some(t) = last_update {
                doc["stats"]["last_update"] = json!(t);
                wrote = true;
            }
            self.writes += wrote as usize;
            Ok(())
        }
        fn announce(&mut self, event: Event) {
            self.events.push(event);
        }
        fn count(&mut self, what: Count) {
            self.counts.push(what);
        }
    }

    struct Fixed(Cell<f64>);
    impl Clock for Fixed {
        fn now(&self) -> f64 {
            self.0.get()
        }
    }

    fn hp() -> Stat {
        Stat::named("hp")
    }

    fn resting() -> Value {
        let v = json!({"cur": 100, "max": 100, "regen": 0.0, "since": null});
        json!({"hp": v, "mp": {"cur": 50, "max": 50, "regen": 0.0, "since": null}, "stamina": v, "last_update": null})
    }

    #[test]
    fn damage_and_heal_clamp_write_once_and_announce() {
        // (stored hp, heal?, amount) -> (reply, events, counts, writes)
        type Case = (
            i64,
            bool,
            i64,
            (i64, i64),
            &'static [Event],
            &'static [Count],
            usize,
        );
        let cases: &[Case] = &[
            (100, false, 30, (70, 30), &[Event::Damage], &[], 1),
            (
                20,
                false,
                500,
                (0, 20),
                &[Event::Damage, Event::Death],
                &[Count::Clamp],
                1,
            ),
            (0, false, 5, (0, 0), &[], &[Count::Clamp], 0),
            (95, true, 10, (100, 5), &[Event::Heal], &[Count::Clamp], 1),
            (100, true, 1, (100, 0), &[], &[Count::Clamp], 0),
        ];
        for &(cur, heal, amount, reply, events, counts, writes) in cases {
            let mut stats = resting();
            stats["hp"]["cur"] = json!(cur);
            let mut m = Memory::with(stats);
            let clock = Fixed(Cell::new(1_700_000_000.0));
            assert_eq!(
                clamped(&mut m, &clock, hp(), amount, heal).unwrap(),
                reply,
                "{cur} {heal} {amount}"
            );
            assert_eq!(
                (m.events.as_slice(), m.counts.as_slice(), m.writes),
                (events, counts, writes),
                "{cur} {heal} {amount}"
            );
            assert_eq!(m.vital_json("hp")["cur"], reply.0);
        }
    }

    #[test]
    fn regeneration_catches_up_by_the_clock_and_keeps_the_fraction() {
        let mut stats = resting();
        stats["hp"] = json!({"cur": 50, "max": 100, "regen": 0.5, "since": 1000.0});
        let mut m = Memory::with(stats);
        let clock = Fixed(Cell::new(1003.0));
        // 3 s at 0.5/s: 1 whole unit (the half left is kept by moving the clock only 2 s).
        assert_eq!(clamped(&mut m, &clock, hp(), 10, false).unwrap(), (41, 10));
        assert_eq!(
            m.vital_json("hp"),
            json!({"cur": 41, "max": 100, "regen": 0.5, "since": 1002.0})
        );
        assert_eq!(m.counts, [Count::Regen]);
        clock.0.set(1010.0);
        // 8 s more: 4 units.
        assert_eq!(spend(&mut m, &clock, hp(), 45).unwrap(), (0, 45));
        assert_eq!(m.events, [Event::Damage, Event::Spend, Event::Death]);
        assert_eq!(
            spend(&mut m, &clock, hp(), 1).unwrap_err().to_string(),
            "INSUFFICIENT hp is 0, needs 1"
        );
        assert_eq!(m.writes, 2, "a refused SPEND writes nothing");
    }

    #[test]
    fn apply_changes_several_vitals_in_one_write() {
        let mut m = Memory::with(resting());
        let clock = Fixed(Cell::new(5.0));
        let mp = Stat::named("mp");
        let got = apply(&mut m, &clock, &[(hp(), -30), (mp, -60), (hp(), 5)]).unwrap();
        assert_eq!(got, [(70, -30), (0, -50), (75, 5)]);
        assert_eq!(
            (
                m.writes,
                m.vital_json("hp")["cur"].clone(),
                m.vital_json("mp")["cur"].clone()
            ),
            (1, json!(75), json!(0))
        );
        assert_eq!(
            (m.events.as_slice(), m.counts.as_slice()),
            (&[Event::Apply][..], &[Count::Clamp][..])
        );
    }

    #[test]
    fn regen_all_stores_every_vital_and_the_clock() {
        let mut stats = resting();
        stats["stamina"] = json!({"cur": 10, "max": 100, "regen": 5.0, "since": 100.0});
        let mut m = Memory::with(stats);
        let s = regen_all(&mut m, &Fixed(Cell::new(110.0))).unwrap();
        assert_eq!(s.vitals[2].cur, 60);
        assert_eq!(m.vital_json("stamina")["cur"], 60);
        assert_eq!(m.doc.as_ref().unwrap()["stats"]["last_update"], 110.0);
        assert_eq!(m.writes, 1);
    }

    #[test]
    fn setstat_clamps_and_starts_the_clock_off_rest() {
        let mut stats = resting();
        stats["hp"]["regen"] = json!(1.0);
        let mut m = Memory::with(stats);
        let v = setstat(&mut m, &Fixed(Cell::new(42.0)), hp(), 150, None).unwrap();
        assert_eq!((v.cur, v.max, v.since), (100, 100, None));
        assert_eq!(m.counts, [Count::Clamp]);
        let v = setstat(&mut m, &Fixed(Cell::new(42.0)), hp(), 40, Some(80)).unwrap();
        assert_eq!(
            (v.cur, v.max, v.since),
            (40, 80, Some(42.0)),
            "off its rest point: the clock starts now"
        );
    }

    #[test]
    fn a_missing_or_broken_account_is_an_error_and_nothing_is_written() {
        let mut m = Memory {
            doc: None,
            writes: 0,
            events: Vec::new(),
            counts: Vec::new(),
        };
        let clock = Fixed(Cell::new(0.0));
        assert_eq!(
            clamped(&mut m, &clock, hp(), 1, false).unwrap_err(),
            Error::NoAccount
        );
        let mut m = Memory::with(json!({"hp": {"cur": "x"}}));
        let e = apply(&mut m, &clock, &[(hp(), 1)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CORRUPT stored document: stats.hp.cur must be an integer from 0 to 1000000000000000"
        );
        assert_eq!((m.writes, m.events.len()), (0, 0));
    }
}
