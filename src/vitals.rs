//! Vitals (hp, mp, stamina): parsing of stat names and amounts, and every clamped change.
//! Pure Rust: no Redis.

use crate::error::{Error, Result};
use crate::limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Hp,
    Mp,
    Stamina,
}

impl Stat {
    pub const ALL: [Stat; 3] = [Stat::Hp, Stat::Mp, Stat::Stamina];

    pub fn parse(text: &[u8]) -> Result<Stat> {
        match text.to_ascii_lowercase().as_slice() {
            b"hp" => Ok(Stat::Hp),
            b"mp" => Ok(Stat::Mp),
            b"stamina" => Ok(Stat::Stamina),
            _ => Err(Error::Syntax("stat must be hp, mp or stamina".into())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stat::Hp => "hp",
            Stat::Mp => "mp",
            Stat::Stamina => "stamina",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One vital as stored: `{cur, max, regen}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vital {
    pub cur: i64,
    pub max: i64,
    pub regen: f64,
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
            Some(_) => return Err(Error::BadNumber(format!("max must be an integer from 0 to {}", limits::MAX_VITAL))),
        };
        Ok(Vital { cur: cur.clamp(0, max), max, regen: self.regen })
    }

    /// Adds a signed delta, clamped into `[0, max]`.
    pub fn apply(self, delta: i64) -> Change {
        let cur = self.cur.saturating_add(delta).clamp(0, self.max);
        Change { after: Vital { cur, ..self }, applied: cur - self.cur }
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
            return Err(Error::Insufficient { stat: stat.name(), cur: self.cur, need: amount });
        }
        Ok(Vital { cur: self.cur - amount, ..self })
    }
}

/// A positive integer amount (DAMAGE, HEAL, SPEND).
pub fn parse_amount(text: &[u8]) -> Result<i64> {
    match parse_i64(text) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(Error::BadNumber("amount must be a positive integer".into())),
    }
}

/// A non-zero signed integer delta (APPLY).
pub fn parse_delta(text: &[u8]) -> Result<i64> {
    match parse_i64(text) {
        Some(n) if n != 0 && n != i64::MIN => Ok(n),
        _ => Err(Error::BadNumber("delta must be a non-zero integer".into())),
    }
}

/// A plain decimal integer: optional '-', digits, no spaces, no '+', no leading zeros rules.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HP: Vital = Vital { cur: 80, max: 100, regen: 1.0 };

    #[test]
    fn damage_never_goes_below_zero_and_reports_what_it_took() {
        assert_eq!(HP.damage(30), Change { after: Vital { cur: 50, ..HP }, applied: -30 });
        assert_eq!(HP.damage(500), Change { after: Vital { cur: 0, ..HP }, applied: -80 });
        assert_eq!(HP.damage(i64::MAX), Change { after: Vital { cur: 0, ..HP }, applied: -80 });
    }

    #[test]
    fn heal_never_goes_above_max() {
        assert_eq!(HP.heal(5), Change { after: Vital { cur: 85, ..HP }, applied: 5 });
        assert_eq!(HP.heal(i64::MAX), Change { after: Vital { cur: 100, ..HP }, applied: 20 });
    }

    #[test]
    fn spend_takes_only_when_enough() {
        assert_eq!(HP.spend(Stat::Mp, 80).unwrap().cur, 0);
        assert_eq!(HP.spend(Stat::Mp, 81).unwrap_err().to_string(), "INSUFFICIENT mp is 80, needs 81");
    }

    #[test]
    fn set_clamps_cur_and_checks_max() {
        assert_eq!(HP.set(150, None).unwrap(), Vital { cur: 100, ..HP });
        assert_eq!(HP.set(-5, None).unwrap(), Vital { cur: 0, ..HP });
        assert_eq!(HP.set(150, Some(200)).unwrap(), Vital { cur: 150, max: 200, regen: 1.0 });
        assert_eq!(HP.set(50, Some(10)).unwrap(), Vital { cur: 10, max: 10, regen: 1.0 });
        assert_eq!(HP.set(1, Some(-1)).unwrap_err().to_string(), "BADNUMBER max must be an integer from 0 to 1000000000000000");
    }

    #[test]
    fn amounts_are_strict_integers() {
        assert_eq!(parse_amount(b"15").unwrap(), 15);
        for bad in [&b"0"[..], b"-3", b"1.5", b"", b"abc", b" 5", b"+5", b"99999999999999999999", b"1e3"] {
            assert_eq!(parse_amount(bad).unwrap_err().to_string(), "BADNUMBER amount must be a positive integer");
        }
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775807"), Some(-i64::MAX));
        assert_eq!(parse_delta(b"-7").unwrap(), -7);
        assert!(parse_delta(b"0").is_err());
    }

    #[test]
    fn stat_names() {
        assert_eq!(Stat::parse(b"HP").unwrap(), Stat::Hp);
        assert_eq!(Stat::parse(b"xp").unwrap_err().to_string(), "SYNTAX stat must be hp, mp or stamina");
    }
}
