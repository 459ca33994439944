//! Lazy regeneration, exact: a vital gains `regen * elapsed` units (loses them, for negative
//! regen), capped into `[0, max]`, computed from the server clock when a command touches it.
//!
//! `cur` stays an integer. The vital's clock `since` moves forward only by the time the whole
//! units took (`units / regen`), so the fraction of a unit already earned is kept for the next
//! computation: a rate of 0.3/s read every second still gains 3 units in 10 s (the original
//! truncated and reset its clock, so it never advanced). While the vital rests (full, or empty
//! for poison) time does not accumulate: `settle` starts the clock when a write moves it off its
//! rest point. A clock that went backwards gives no elapsed time and keeps `since`. Reads change
//! nothing but `cur` and `since` of a vital that regenerated. Pure Rust.

use crate::vitals::{Stats, Vital};

/// A vital brought up to `now`, and the signed change regeneration made to `cur`.
pub fn catch_up(v: Vital, now: f64) -> (Vital, i64) {
    if v.regen == 0.0 || v.max == 0 {
        return (v, 0);
    }
    // No clock yet (a document from before clocks): nothing to count from.
    let Some(since) = v.since else { return (v, 0) };
    let elapsed = now - since;
    let rate = v.regen.abs();
    let (room, full) = if v.regen > 0.0 {
        (v.max - v.cur, v.max)
    } else {
        (v.cur, 0)
    };
    if room <= 0 {
        return (v, 0);
    }
    if elapsed.is_nan() || elapsed <= 0.0 {
        return (v, 0);
    }
    // The epsilon absorbs rounding at exact unit boundaries (0.3 * 3.333... = 0.99999...).
    let units = (rate * elapsed + 1e-9).floor();
    if units >= room as f64 {
        let delta = full - v.cur;
        return (
            Vital {
                cur: full,
                since: Some(now),
                ..v
            },
            delta,
        );
    }
    let units = units as i64;
    if units == 0 {
        return (v, 0);
    }
    let delta = if v.regen > 0.0 { units } else { -units };
    let since = (since + units as f64 / rate).min(now);
    (
        Vital {
            cur: v.cur + delta,
            since: Some(since),
            ..v
        },
        delta,
    )
}

/// Every vital of the stats brought up to `now`, as a read shows them (nothing is stored).
pub fn stats_at(mut s: Stats, now: f64) -> Stats {
    for v in s.each_mut() {
        *v = catch_up(*v, now).0;
    }
    s
}

/// Whether the vital rests: nothing to regenerate (full, or empty for poison, or no rate).
pub fn at_rest(v: &Vital) -> bool {
    v.regen == 0.0
        || v.max == 0
        || (v.regen > 0.0 && v.cur >= v.max)
        || (v.regen < 0.0 && v.cur <= 0)
}

/// After a write changed a vital from `before` (already caught up) to `after`: if it left its
/// rest point, or it has no clock and does not rest, regeneration counts from `now`.
pub fn settle(before: &Vital, after: Vital, now: f64) -> Vital {
    if !at_rest(&after) && (at_rest(before) || after.since.is_none()) {
        Vital {
            since: Some(now),
            ..after
        }
    } else {
        after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(cur: i64, max: i64, regen: f64, since: Option<f64>) -> Vital {
        Vital {
            cur,
            max,
            regen,
            since,
        }
    }

    #[test]
    fn whole_units_are_gained_and_the_fraction_is_kept() {
        let (after, d) = catch_up(v(10, 100, 0.3, Some(1000.0)), 1010.0);
        assert_eq!((after.cur, d), (13, 3));
        assert!((after.since.unwrap() - 1010.0).abs() < 1e-9);
        // Read every second: the original truncated 0.3 to 0 each time and never advanced.
        let mut x = v(10, 100, 0.3, Some(0.0));
        for t in 1..=10 {
            x = catch_up(x, t as f64).0;
        }
        assert_eq!(x.cur, 13);
        // 2.5 s at 1/s: 2 units, and half a second is carried.
        let (after, _) = catch_up(v(0, 100, 1.0, Some(0.0)), 2.5);
        assert_eq!((after.cur, after.since), (2, Some(2.0)));
        let (after, _) = catch_up(after, 3.0);
        assert_eq!(after.cur, 3);
    }

    #[test]
    fn capped_at_max_and_no_accumulation_while_full() {
        assert_eq!(
            catch_up(v(90, 100, 5.0, Some(0.0)), 1e9),
            (v(100, 100, 5.0, Some(1e9)), 10)
        );
        // Full: a read changes nothing.
        assert_eq!(
            catch_up(v(100, 100, 5.0, Some(0.0)), 50.0),
            (v(100, 100, 5.0, Some(0.0)), 0)
        );
        // Damage taken while full starts the clock then, not at the old `since`.
        let hit = settle(
            &v(100, 100, 5.0, Some(0.0)),
            v(60, 100, 5.0, Some(0.0)),
            50.0,
        );
        assert_eq!(hit, v(60, 100, 5.0, Some(50.0)));
        assert_eq!(catch_up(hit, 52.0).0.cur, 70);
        // Already regenerating: the clock (and its fraction) is kept.
        assert_eq!(
            settle(
                &v(60, 100, 5.0, Some(49.9)),
                v(50, 100, 5.0, Some(49.9)),
                50.0
            )
            .since,
            Some(49.9)
        );
        // No clock yet and not resting: starts now.
        assert_eq!(
            settle(&v(60, 100, 5.0, None), v(50, 100, 5.0, None), 50.0).since,
            Some(50.0)
        );
        assert_eq!(
            settle(&v(100, 100, 0.0, None), v(50, 100, 0.0, None), 50.0).since,
            None
        );
    }

    #[test]
    fn long_idle_times_and_huge_rates_do_not_overflow() {
        let (after, d) = catch_up(v(0, 1_000_000_000_000_000, 1e12, Some(0.0)), 1e10);
        assert_eq!(
            (after.cur, d),
            (1_000_000_000_000_000, 1_000_000_000_000_000)
        );
        let (after, _) = catch_up(v(0, 10, 1e-12, Some(0.0)), 1e9);
        assert_eq!(after.cur, 0);
    }

    #[test]
    fn poison_drains_to_zero_and_no_further() {
        assert_eq!(catch_up(v(10, 100, -2.0, Some(0.0)), 3.0).0.cur, 4);
        assert_eq!(
            catch_up(v(10, 100, -2.0, Some(0.0)), 300.0),
            (v(0, 100, -2.0, Some(300.0)), -10)
        );
        assert_eq!(
            catch_up(v(0, 100, -2.0, Some(0.0)), 300.0),
            (v(0, 100, -2.0, Some(0.0)), 0)
        );
    }

    #[test]
    fn max_zero_no_rate_and_no_clock() {
        assert_eq!(
            catch_up(v(0, 0, 5.0, Some(0.0)), 100.0),
            (v(0, 0, 5.0, Some(0.0)), 0)
        );
        assert_eq!(
            catch_up(v(5, 10, 0.0, None), 100.0),
            (v(5, 10, 0.0, None), 0)
        );
        assert_eq!(
            catch_up(v(5, 10, 1.0, None), 100.0),
            (v(5, 10, 1.0, None), 0)
        );
    }

    #[test]
    fn a_clock_going_backwards_gives_no_negative_elapsed_time() {
        assert_eq!(
            catch_up(v(5, 10, 1.0, Some(100.0)), 50.0),
            (v(5, 10, 1.0, Some(100.0)), 0)
        );
        assert_eq!(
            catch_up(v(5, 10, -1.0, Some(100.0)), 50.0),
            (v(5, 10, -1.0, Some(100.0)), 0)
        );
        assert_eq!(catch_up(v(5, 10, 1.0, Some(100.0)), 105.0).0.cur, 10);
    }
}
