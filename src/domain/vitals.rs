//! Vitals: the set the schema declares (any number, any names, in one section such as
//! `stats`), parsing of vital names and amounts, and every clamped change. Pure Rust: no Redis.

use crate::error::{Error, Result};
use crate::limits;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

/// Most vitals a schema may declare.
pub const MAX_VITALS: usize = 16;

/// One declared vital: where it lives and what a stored one lacking `max` or `regen` reads as.
#[derive(Debug, PartialEq)]
pub struct VitalDef {
    pub index: usize,
    /// `hp`.
    pub name: &'static str,
    /// `stats.hp`.
    pub path: &'static str,
    /// `$.stats.hp` and `$.stats.hp.cur`: the JSONPaths of the rare path writes.
    pub jsonpath: &'static str,
    pub cur_jsonpath: &'static str,
    pub default_max: i64,
    pub default_regen: f64,
}

/// The vitals in force: the section that holds them (`stats`) and each of them, in the
/// schema's order. Made once per schema load and never freed (a few hundred bytes; kept
/// reachable in `KEPT`), so a `Stat` is a plain pointer.
#[derive(Debug, PartialEq)]
pub struct VitalSet {
    pub section: &'static str,
    /// `$.stats.last_update`.
    pub last_update_jsonpath: &'static str,
    pub all: Vec<Stat>,
    /// `hp, mp or stamina`: for the error of a name that is none of them.
    names: String,
}

/// A vital of the set in force.
#[derive(Clone, Copy)]
pub struct Stat(&'static VitalDef);

impl PartialEq for Stat {
    fn eq(&self, other: &Stat) -> bool {
        std::ptr::eq(self.0, other.0) || self.0 == other.0
    }
}
impl Eq for Stat {}

impl std::fmt::Debug for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.path)
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

static CURRENT: AtomicPtr<VitalSet> = AtomicPtr::new(std::ptr::null_mut());
static KEPT: Mutex<Vec<&'static VitalSet>> = Mutex::new(Vec::new());

impl VitalSet {
    /// The set of `section.<name>` vitals, with their `(max, regen)` defaults.
    pub fn new(section: &str, vitals: &[(String, i64, f64)]) -> &'static VitalSet {
        // The same vitals again (a schema loaded again, or another with the same vitals) reuse
        // the set made before: memory grows only with the number of distinct vital sets.
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        let same = |set: &&&'static VitalSet| {
            set.section == section
                && set.all.len() == vitals.len()
                && set.all.iter().zip(vitals).all(|(s, (name, max, regen))| {
                    s.0.name == name
                        && s.0.default_max == *max
                        && s.0.default_regen.to_bits() == regen.to_bits()
                })
        };
        if let Some(set) = kept.iter().find(same) {
            return set;
        }
        let defs: Vec<VitalDef> = vitals
            .iter()
            .enumerate()
            .map(|(index, (name, max, regen))| VitalDef {
                index,
                name: leak(name.clone()),
                path: leak(format!("{section}.{name}")),
                jsonpath: leak(format!("$.{section}.{name}")),
                cur_jsonpath: leak(format!("$.{section}.{name}.cur")),
                default_max: *max,
                default_regen: *regen,
            })
            .collect();
        let defs: &'static [VitalDef] = Box::leak(defs.into_boxed_slice());
        let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
        let names = match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let set: &'static VitalSet = Box::leak(Box::new(VitalSet {
            section: leak(section.to_string()),
            last_update_jsonpath: leak(format!("$.{section}.last_update")),
            all: defs.iter().map(Stat).collect(),
            names,
        }));
        kept.push(set);
        set
    }

    /// The vital of this set named `text` (any case).
    pub fn parse(&self, text: &[u8]) -> Result<Stat> {
        self.all
            .iter()
            .copied()
            .find(|s| s.0.name.as_bytes().eq_ignore_ascii_case(text))
            .ok_or_else(|| Error::Syntax(format!("stat must be {}", self.names)))
    }

    /// The vital of this set named exactly `name`.
    pub fn named(&self, name: &[u8]) -> Option<Stat> {
        self.all
            .iter()
            .copied()
            .find(|s| s.0.name.as_bytes() == name)
    }
}

/// Puts a set in force (when its schema is).
pub fn install(set: &'static VitalSet) {
    CURRENT.store(set as *const VitalSet as *mut VitalSet, Ordering::Release);
}

/// The vitals in force.
pub fn vital_set() -> &'static VitalSet {
    let p = CURRENT.load(Ordering::Acquire);
    if p.is_null() {
        return crate::schema::rules().vitals;
    }
    // SAFETY: every pointer stored in CURRENT comes from a `&'static VitalSet` made by
    // `VitalSet::new`, which is never freed.
    unsafe { &*p }
}

impl Stat {
    /// The vital named `text` (any case) in the set in force.
    pub fn parse(text: &[u8]) -> Result<Stat> {
        vital_set().parse(text)
    }

    /// The vital named `name` in the set in force (tests and fixed names).
    pub fn named(name: &str) -> Stat {
        vital_set()
            .named(name.as_bytes())
            .unwrap_or_else(|| panic!("no vital {name}"))
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn index(self) -> usize {
        self.0.index
    }

    /// `stats.<name>`.
    pub fn path(self) -> &'static str {
        self.0.path
    }

    pub fn def(self) -> &'static VitalDef {
        self.0
    }
}

/// One vital as stored: `{cur, max, regen, since}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vital {
    pub cur: i64,
    pub max: i64,
    /// Units per second (negative: poison).
    pub regen: f64,
    /// The vital's regeneration clock, unix seconds: `regen.rs`.
    pub since: Option<f64>,
}

/// The result of a clamped change: the vital after it and the change actually applied
/// (signed: negative for damage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub after: Vital,
    pub applied: i64,
}

impl Vital {
    /// ACCOUNT.SETSTAT: `cur` clamped into `[0, max]`; `max` kept unless given.
    pub fn set(self, cur: i64, max: Option<i64>) -> Result<Vital> {
        let max = match max {
            None => self.max,
            Some(m) if (0..=limits::MAX_VITAL).contains(&m) => m,
            Some(_) => {
                return Err(Error::BadNumber(format!(
                    "max must be an integer from 0 to {}",
                    limits::MAX_VITAL
                )))
            }
        };
        Ok(Vital {
            cur: cur.clamp(0, max),
            max,
            ..self
        })
    }

    /// Adds a signed delta, clamped into `[0, max]`.
    pub fn apply(self, delta: i64) -> Change {
        let cur = self.cur.saturating_add(delta).clamp(0, self.max);
        Change {
            after: Vital { cur, ..self },
            applied: cur - self.cur,
        }
    }

    /// `amount` > 0 taken away, never below 0.
    pub fn damage(self, amount: i64) -> Change {
        self.apply(-amount)
    }

    /// `amount` > 0 added, never above max.
    pub fn heal(self, amount: i64) -> Change {
        self.apply(amount)
    }

    /// `amount` taken only if there is enough of it.
    pub fn spend(self, stat: Stat, amount: i64) -> Result<Vital> {
        if self.cur < amount {
            return Err(Error::Insufficient {
                stat: stat.name(),
                cur: self.cur,
                need: amount,
            });
        }
        Ok(Vital {
            cur: self.cur - amount,
            ..self
        })
    }
}

/// A scalar as stored, before validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Int(i64),
    Float(f64),
    Null,
    Other,
}

/// The fields of a stored vital object, before validation.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct VitalParts {
    pub cur: Option<Scalar>,
    pub max: Option<Scalar>,
    pub regen: Option<Scalar>,
    pub since: Option<Scalar>,
    /// The first field that is not cur, max, regen or since.
    pub unknown: Option<String>,
}

impl Vital {
    /// A stored vital: validated as `from_parts`, except that a `cur` above `max` (the original
    /// game's `update_stat_current` stores raw values) is read as `max` instead of refused: it
    /// is served, and changed, clamped.
    pub fn from_stored_parts(
        mut p: VitalParts,
        path: &str,
        default_max: i64,
        default_regen: f64,
    ) -> Result<Vital> {
        if let (Some(Scalar::Int(cur)), Some(Scalar::Int(max))) = (p.cur, p.max) {
            if cur > max {
                p.cur = Some(Scalar::Int(max));
            }
        }
        Vital::from_parts(&p, path, default_max, default_regen)
    }

    /// The one validation of a vital object (`path` names it in messages): `cur` and `max`
    /// integers in `[0, MAX_VITAL]` with `cur <= max`, `regen` a number within `MAX_REGEN`;
    /// a missing `max` is `default_max`, a missing `cur` is `max`, a missing `regen` is
    /// `default_regen`.
    pub fn from_parts(
        p: &VitalParts,
        path: &str,
        default_max: i64,
        default_regen: f64,
    ) -> Result<Vital> {
        if let Some(k) = &p.unknown {
            return Err(Error::Schema(format!("unknown field '{path}.{k}'")));
        }
        let count = |v: Option<Scalar>, name: &str, dflt: i64| match v {
            None => Ok(dflt),
            Some(Scalar::Int(n)) if (0..=limits::MAX_VITAL).contains(&n) => Ok(n),
            Some(Scalar::Float(x))
                if float_int(x).is_some_and(|n| (0..=limits::MAX_VITAL).contains(&n)) =>
            {
                Ok(x as i64)
            }
            Some(_) => Err(Error::Schema(format!(
                "{path}.{name} must be an integer from 0 to {}",
                limits::MAX_VITAL
            ))),
        };
        let max = count(p.max, "max", default_max)?;
        let cur = count(p.cur, "cur", max)?;
        let regen = match p.regen {
            None => default_regen,
            Some(Scalar::Int(n)) if (n as f64).abs() <= limits::MAX_REGEN => n as f64,
            Some(Scalar::Float(r)) if r.abs() <= limits::MAX_REGEN => r,
            Some(_) => {
                return Err(Error::Schema(format!(
                    "{path}.regen must be a number from -{0:e} to {0:e}",
                    limits::MAX_REGEN
                )))
            }
        };
        let since = match p.since {
            None | Some(Scalar::Null) => None,
            Some(Scalar::Int(n)) if n >= 0 => Some(n as f64),
            Some(Scalar::Float(t)) if t >= 0.0 => Some(t),
            Some(_) => {
                return Err(Error::Schema(format!(
                    "{path}.since must be a non-negative number (unix seconds) or null"
                )))
            }
        };
        if cur > max {
            return Err(Error::Schema(format!(
                "{path}.cur must not exceed {path}.max"
            )));
        }
        Ok(Vital {
            cur,
            max,
            regen,
            since,
        })
    }
}

/// A read-only view of a stored JSON value: a `serde_json::Value` parsed from `JSON.GET`, or a
/// node reached through RedisJSON's shared API. The stats parsing below is written once for both.
pub trait Source: Copy {
    fn scalar(self) -> Scalar;
    fn is_object(self) -> bool;
    fn is_null(self) -> bool;
    /// Calls `f` with each field of an object until it returns false.
    fn each(self, f: &mut dyn FnMut(&[u8], Self) -> bool);

    fn field(self, name: &str) -> Option<Self> {
        let mut found = None;
        self.each(&mut |k, v| {
            if k == name.as_bytes() {
                found = Some(v);
            }
            found.is_none()
        });
        found
    }
}

impl Source for &serde_json::Value {
    fn scalar(self) -> Scalar {
        match self {
            serde_json::Value::Number(n) if n.is_i64() => {
                Scalar::Int(n.as_i64().unwrap_or_default())
            }
            serde_json::Value::Number(n) if n.is_f64() => {
                Scalar::Float(n.as_f64().unwrap_or_default())
            }
            serde_json::Value::Null => Scalar::Null,
            _ => Scalar::Other,
        }
    }
    fn is_object(self) -> bool {
        self.is_object()
    }
    fn is_null(self) -> bool {
        self.is_null()
    }
    fn each(self, f: &mut dyn FnMut(&[u8], Self) -> bool) {
        if let serde_json::Value::Object(m) = self {
            for (k, v) in m {
                if !f(k.as_bytes(), v) {
                    break;
                }
            }
        }
    }
}

/// One vital object, validated. `at` is its path (`stats.hp`).
pub fn vital_from<S: Source>(v: S, stat: Stat) -> Result<Vital> {
    let at = stat.path();
    if !v.is_object() {
        return Err(Error::Schema(format!("{at} must be an object")));
    }
    let mut parts = VitalParts::default();
    v.each(&mut |k, x| {
        match k {
            b"cur" => parts.cur = Some(x.scalar()),
            b"max" => parts.max = Some(x.scalar()),
            b"regen" => parts.regen = Some(x.scalar()),
            b"since" => parts.since = Some(x.scalar()),
            _ => parts.unknown = Some(String::from_utf8_lossy(k).into_owned()),
        }
        parts.unknown.is_none()
    });
    Vital::from_stored_parts(parts, at, stat.0.default_max, stat.0.default_regen)
}

/// The vital `stat` of its section (the document root is `root`).
pub fn stored_vital<S: Source>(root: S, stat: Stat) -> Result<Vital> {
    let section = vital_set().section;
    let stats = root.field(section).ok_or_else(|| missing(stat))?;
    if !stats.is_object() {
        return Err(Error::Schema(format!("{section} must be an object")));
    }
    vital_from(stats.field(stat.name()).ok_or_else(|| missing(stat))?, stat)
}

fn missing(stat: Stat) -> Error {
    Error::Schema(format!("no {} object", stat.path()))
}

/// The whole vitals section (`stats`) as stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// The set's vitals, by `Stat::index` (the first `set.all.len()`).
    pub vitals: [Vital; MAX_VITALS],
    pub set: &'static VitalSet,
    /// Unix seconds as stored (an integer or a double), or null.
    pub last_update: Option<Scalar>,
}

const NO_VITAL: Vital = Vital {
    cur: 0,
    max: 0,
    regen: 0.0,
    since: None,
};

impl Stats {
    /// The vitals of the set, in its order.
    pub fn each(&self) -> &[Vital] {
        &self.vitals[..self.set.all.len()]
    }

    pub fn each_mut(&mut self) -> &mut [Vital] {
        let n = self.set.all.len();
        &mut self.vitals[..n]
    }
}

/// The vitals section, validated: every vital of the set in force present, `last_update`, and
/// nothing else.
pub fn stats_from<S: Source>(stats: S) -> Result<Stats> {
    let set = vital_set();
    if !stats.is_object() {
        return Err(Error::Schema(format!("{} must be an object", set.section)));
    }
    let mut found: [Option<S>; MAX_VITALS] = [None; MAX_VITALS];
    let mut last_update = None;
    let mut bad = None;
    stats.each(&mut |k, v| {
        match (k, set.named(k)) {
            (_, Some(stat)) => found[stat.index()] = Some(v),
            (b"last_update", None) => match v.scalar() {
                _ if v.is_null() => {}
                Scalar::Int(n) if n >= 0 => last_update = Some(Scalar::Int(n)),
                Scalar::Float(t) if t >= 0.0 => last_update = Some(Scalar::Float(t)),
                _ => {
                    bad = Some(Error::Schema(format!(
                        "{}.last_update must be a non-negative number (unix seconds) or null",
                        set.section
                    )))
                }
            },
            _ => {
                bad = Some(Error::Schema(format!(
                    "unknown field '{}.{}'",
                    set.section,
                    String::from_utf8_lossy(k)
                )))
            }
        }
        bad.is_none()
    });
    if let Some(e) = bad {
        return Err(e);
    }
    let mut vitals = [NO_VITAL; MAX_VITALS];
    for &stat in &set.all {
        vitals[stat.index()] = vital_from(found[stat.index()].ok_or_else(|| missing(stat))?, stat)?;
    }
    Ok(Stats {
        vitals,
        set,
        last_update,
    })
}

impl Stats {
    /// The section's JSON text, as `JSON.GET key $.stats` would print it (without the array).
    /// Written into one buffer: this is the hot read's reply.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(64 + 72 * self.set.all.len());
        out.push(b'{');
        for &stat in &self.set.all {
            out.push(b'"');
            out.extend_from_slice(stat.name().as_bytes());
            out.extend_from_slice(b"\":");
            self.vitals[stat.index()].write_json(&mut out);
            out.push(b',');
        }
        out.extend_from_slice(b"\"last_update\":");
        match self.last_update {
            Some(Scalar::Int(n)) => push_i64(&mut out, n),
            Some(Scalar::Float(t)) => push_f64(&mut out, t),
            _ => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_default()
    }
}

/// An integer in decimal (without the formatting machinery: this is on the hot read's path).
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

/// A double as RedisJSON prints it (serde_json's shortest form: `1.0`, `0.25`, `1e20`).
fn push_f64(out: &mut Vec<u8>, x: f64) {
    crate::json::write(&mut *out, &x);
}

/// Unix seconds as JSON: a number or null.
pub fn time_json(t: Option<f64>) -> String {
    t.map_or_else(
        || "null".to_string(),
        |t| crate::json::to_string(&serde_json::Value::from(t)),
    )
}

impl Vital {
    /// The vital's stored JSON object.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(64);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"cur\":");
        push_i64(out, self.cur);
        out.extend_from_slice(b",\"max\":");
        push_i64(out, self.max);
        out.extend_from_slice(b",\"regen\":");
        push_f64(out, self.regen);
        out.extend_from_slice(b",\"since\":");
        match self.since {
            Some(t) => push_f64(out, t),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
}

/// A double with no fraction, in the signed 64-bit range, as that integer (`-0.0` is 0).
pub fn float_int(x: f64) -> Option<i64> {
    // 2^63 is exactly representable; every double below it with no fraction fits an i64.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    (x.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&x)).then_some(x as i64)
}

/// A positive integer amount (DAMAGE, HEAL, SPEND).
pub fn parse_amount(text: &[u8]) -> Result<i64> {
    match parse_i64(text) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(Error::BadNumber(format!(
            "amount must be an integer from 1 to {}",
            i64::MAX
        ))),
    }
}

/// A non-zero signed integer delta (APPLY).
pub fn parse_delta(text: &[u8]) -> Result<i64> {
    match parse_i64(text) {
        Some(n) if n != 0 => Ok(n),
        _ => Err(Error::BadNumber(format!(
            "delta must be a non-zero integer from {} to {}",
            i64::MIN,
            i64::MAX
        ))),
    }
}

/// A canonical decimal integer, as Redis's own `string2ll` accepts it: an optional '-' and
/// digits, no '+', no spaces, no leading zeros, no "-0".
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    // Accumulated on the negative side, which holds one more value: i64::MIN parses.
    let mut v: i64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_sub((d - b'0') as i64)?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HP: Vital = Vital {
        cur: 80,
        max: 100,
        regen: 1.0,
        since: None,
    };

    #[test]
    fn damage_never_goes_below_zero_and_reports_what_it_took() {
        assert_eq!(
            HP.damage(30),
            Change {
                after: Vital { cur: 50, ..HP },
                applied: -30
            }
        );
        assert_eq!(
            HP.damage(500),
            Change {
                after: Vital { cur: 0, ..HP },
                applied: -80
            }
        );
        assert_eq!(
            HP.damage(i64::MAX),
            Change {
                after: Vital { cur: 0, ..HP },
                applied: -80
            }
        );
    }

    #[test]
    fn heal_never_goes_above_max() {
        assert_eq!(
            HP.heal(5),
            Change {
                after: Vital { cur: 85, ..HP },
                applied: 5
            }
        );
        assert_eq!(
            HP.heal(i64::MAX),
            Change {
                after: Vital { cur: 100, ..HP },
                applied: 20
            }
        );
    }

    #[test]
    fn spend_takes_only_when_enough() {
        assert_eq!(HP.spend(Stat::named("mp"), 80).unwrap().cur, 0);
        assert_eq!(
            HP.spend(Stat::named("mp"), 81).unwrap_err().to_string(),
            "INSUFFICIENT mp is 80, needs 81"
        );
    }

    #[test]
    fn set_clamps_cur_and_checks_max() {
        assert_eq!(HP.set(150, None).unwrap(), Vital { cur: 100, ..HP });
        assert_eq!(HP.set(-5, None).unwrap(), Vital { cur: 0, ..HP });
        assert_eq!(
            HP.set(150, Some(200)).unwrap(),
            Vital {
                cur: 150,
                max: 200,
                ..HP
            }
        );
        assert_eq!(
            HP.set(50, Some(10)).unwrap(),
            Vital {
                cur: 10,
                max: 10,
                ..HP
            }
        );
        assert_eq!(
            HP.set(1, Some(-1)).unwrap_err().to_string(),
            "BADNUMBER max must be an integer from 0 to 1000000000000000"
        );
    }

    #[test]
    fn amounts_are_strict_integers() {
        assert_eq!(parse_amount(b"15").unwrap(), 15);
        for bad in [
            &b"0"[..],
            b"-3",
            b"1.5",
            b"",
            b"abc",
            b" 5",
            b"+5",
            b"99999999999999999999",
            b"1e3",
        ] {
            assert_eq!(
                parse_amount(bad).unwrap_err().to_string(),
                "BADNUMBER amount must be an integer from 1 to 9223372036854775807"
            );
        }
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775807"), Some(-i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_delta(b"-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(
            HP.apply(i64::MIN),
            Change {
                after: Vital { cur: 0, ..HP },
                applied: -80
            }
        );
        assert_eq!(
            HP.apply(i64::MAX),
            Change {
                after: Vital { cur: 100, ..HP },
                applied: 20
            }
        );
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"007"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_delta(b"-7").unwrap(), -7);
        assert!(parse_delta(b"0").is_err());
    }

    #[test]
    fn stats_are_read_and_printed_like_json_get() {
        use serde_json::json;
        let doc = crate::schema::rules().new_document();
        let stats = stats_from(&doc["stats"]).unwrap();
        assert_eq!(stats.to_json(), doc["stats"].to_string());
        assert_eq!(
            stored_vital(&doc, Stat::named("mp")).unwrap(),
            Vital {
                cur: 50,
                max: 50,
                regen: 1.0,
                since: None
            }
        );
        let odd = json!({"hp": {"cur": 1, "max": 2, "regen": 0.25, "since": 1700000000.25}, "mp": {"max": 3}, "stamina": {"cur": 0, "regen": -2},
                         "last_update": 1700000000.5});
        let s = stats_from(&odd).unwrap();
        assert_eq!(
            s.to_json(),
            r#"{"hp":{"cur":1,"max":2,"regen":0.25,"since":1700000000.25},"mp":{"cur":3,"max":3,"regen":1.0,"since":null},"stamina":{"cur":0,"max":100,"regen":-2.0,"since":null},"last_update":1700000000.5}"#
        );
    }

    #[test]
    fn broken_stats_are_named() {
        use serde_json::json;
        let e = |v: serde_json::Value| stats_from(&v).unwrap_err().to_string();
        assert_eq!(e(json!([])), "SCHEMA stats must be an object");
        assert_eq!(
            e(json!({"hp": {}, "mp": {}})),
            "SCHEMA no stats.stamina object"
        );
        assert_eq!(
            e(json!({"hp": 5, "mp": {}, "stamina": {}})),
            "SCHEMA stats.hp must be an object"
        );
        assert_eq!(
            e(json!({"hp": {"cur": 1.5}, "mp": {}, "stamina": {}})),
            "SCHEMA stats.hp.cur must be an integer from 0 to 1000000000000000"
        );
        assert_eq!(
            e(json!({"hp": {"cur": "1"}, "mp": {}, "stamina": {}})),
            "SCHEMA stats.hp.cur must be an integer from 0 to 1000000000000000"
        );
        assert_eq!(
            e(json!({"hp": {"x": 1}, "mp": {}, "stamina": {}})),
            "SCHEMA unknown field 'stats.hp.x'"
        );
        assert_eq!(
            e(json!({"hp": {}, "mp": {}, "stamina": {}, "xp": 1})),
            "SCHEMA unknown field 'stats.xp'"
        );
        assert_eq!(
            e(json!({"hp": {}, "mp": {}, "stamina": {}, "last_update": "now"})),
            "SCHEMA stats.last_update must be a non-negative number (unix seconds) or null"
        );
        assert_eq!(
            stored_vital(&json!({"state": "x"}), Stat::named("hp"))
                .unwrap_err()
                .to_string(),
            "SCHEMA no stats.hp object"
        );
        assert_eq!(
            stored_vital(&json!([1]), Stat::named("hp"))
                .unwrap_err()
                .to_string(),
            "SCHEMA no stats.hp object"
        );
    }

    #[test]
    fn integers_are_printed_in_decimal() {
        for n in [0, 7, -7, 10, 1_000_000_000_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn stat_names() {
        assert_eq!(Stat::parse(b"HP").unwrap(), Stat::named("hp"));
        let five = VitalSet::new(
            "stats",
            &[
                ("hp".into(), 100, 1.0),
                ("mp".into(), 50, 1.0),
                ("stamina".into(), 100, 5.0),
                ("rage".into(), 0, -1.0),
                ("energy".into(), 10, 0.5),
            ],
        );
        assert_eq!(five.parse(b"Rage").unwrap().path(), "stats.rage");
        assert_eq!(
            five.parse(b"xp").unwrap_err().to_string(),
            "SYNTAX stat must be hp, mp, stamina, rage or energy"
        );
        assert_eq!(five.all[4].def().cur_jsonpath, "$.stats.energy.cur");
        let again = VitalSet::new(
            "stats",
            &[
                ("hp".into(), 100, 1.0),
                ("mp".into(), 50, 1.0),
                ("stamina".into(), 100, 5.0),
                ("rage".into(), 0, -1.0),
                ("energy".into(), 10, 0.5),
            ],
        );
        assert!(std::ptr::eq(five, again), "the same vitals reuse one set");
        assert_eq!(
            Stat::parse(b"xp").unwrap_err().to_string(),
            "SYNTAX stat must be hp, mp or stamina"
        );
    }
}
