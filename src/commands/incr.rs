//! ACCOUNT.INCR key path delta
//!
//! Adds `delta` to a number field: an integer field (`attributes.*`) takes integer deltas; a
//! number field (`metrics.*`) or a place the schema leaves to the game (`metrics.kills`) takes
//! integer or decimal deltas (`10.5`), and an absent one counts from 0.

use super::write;
use crate::error::{Error, Result};
use crate::jsonschema::NumberKind;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema;
use crate::vitals::parse_i64;
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

/// A delta: a canonical integer, or (where decimals are allowed) a finite decimal written with a
/// `.` or an exponent (`10.5`, `1e3`); never `+1`, `01`, `-0`, spaces or `inf`.
fn parse_delta(text: &[u8], decimals: bool) -> Result<Num> {
    if let Some(n) = parse_i64(text) {
        return Ok(Num::Int(n));
    }
    let decimal = decimals
        && text.iter().any(|b| matches!(b, b'.' | b'e' | b'E'))
        && text
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-'))
        && matches!(text.first(), Some(b'0'..=b'9' | b'-'));
    match std::str::from_utf8(text)
        .ok()
        .filter(|_| decimal)
        .and_then(|s| s.parse::<f64>().ok())
    {
        Some(x) if x.is_finite() => Ok(Num::Float(x)),
        _ if decimals => Err(Error::BadNumber("delta must be a number".into())),
        _ => Err(Error::BadNumber(format!(
            "delta must be an integer from {} to {}",
            i64::MIN,
            i64::MAX
        ))),
    }
}

pub fn account_incr(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    let path = write::parse_path(&args[2])?;
    let rules = schema::rules();
    rules.check_path(&path)?;
    let decimals = match rules.number_kind(&path) {
        NumberKind::Integer => false,
        NumberKind::Number => true,
        NumberKind::NotANumber => {
            return Err(Error::Schema(format!(
                "{} is not a number field",
                path.dotted()
            )))
        }
    };
    let delta = parse_delta(args[3].bytes(), decimals)?;
    let stored = write::read(ctx, key, &[path.section()])?;
    let cur = match write::at(&stored.doc, &path)
        .cloned()
        .or_else(|| rules.default_at(&path))
    {
        None | Some(Value::Null) => Num::Int(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .map_or_else(|| Num::Float(n.as_f64().unwrap_or_default()), Num::Int),
        Some(_) => return Err(Error::Schema(format!("{} must be a number", path.dotted()))),
    };
    let new = match (cur, delta) {
        (Num::Int(a), Num::Int(b)) => Value::from(a.checked_add(b).ok_or(Error::Overflow)?),
        (a, b) => {
            let sum = as_f64(a) + as_f64(b);
            if !sum.is_finite() {
                return Err(Error::Overflow);
            }
            Value::from(sum)
        }
    };
    write::change(ctx, key, stored, vec![(path, new.clone())])?;
    rm::notify(ctx, c"account.incr", key);
    Ok(match new.as_i64() {
        Some(n) => Reply::Int(n),
        // A decimal result is a bulk string, as INCRBYFLOAT answers.
        None => Reply::Text(crate::json::to_string(&new)),
    })
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(x) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas() {
        let int = |t: &str, d| match parse_delta(t.as_bytes(), d) {
            Ok(Num::Int(n)) => Some(n as f64),
            Ok(Num::Float(x)) => Some(x),
            Err(_) => None,
        };
        assert_eq!(int("10", false), Some(10.0));
        assert_eq!(int("10.5", false), None);
        assert_eq!(int("10.5", true), Some(10.5));
        assert_eq!(int("-2.5e1", true), Some(-25.0));
        for bad in [
            "+1", "01", "-0", " 1", "1 ", "inf", "nan", "1e999", ".", "e", "0x10", "",
        ] {
            assert_eq!(int(bad, true), None, "{bad}");
        }
        assert_eq!(
            parse_delta(b"x", false).unwrap_err().to_string(),
            "BADNUMBER delta must be an integer from -9223372036854775808 to 9223372036854775807"
        );
        assert_eq!(
            parse_delta(b"x", true).unwrap_err().to_string(),
            "BADNUMBER delta must be a number"
        );
    }
}
