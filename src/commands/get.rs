//! ACCOUNT.GET key [path]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::vitals::{self, Stats};
use crate::{regen, store};
use serde_json::Value;

pub fn account_get(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let path = match args.len() {
        2 => None,
        3 => Some(DocPath::parse(args[2].text().map_err(|_| Error::NoPath("?".into()))?)?),
        _ => return Err(Error::WrongArity),
    };
    let now = rm::now();
    if let Some(p) = &path {
        if p.segments.len() == 1 && p.section() == "stats" {
            // The hot read: straight from the stored values, brought up to date, printed by us.
            return Ok(match store::read_stats(ctx, key)? {
                None => Reply::Nil,
                Some(s) => Reply::Text(live(s, now).to_json()),
            });
        }
    }
    Ok(match read_live(ctx, key, path.as_ref(), now)? {
        None => Reply::Nil,
        Some(v) => Reply::Text(v.to_string()),
    })
}

/// The stats with every vital brought up to `now` (nothing is written).
fn live(mut s: Stats, now: f64) -> Stats {
    for v in s.vitals.iter_mut() {
        *v = regen::catch_up(*v, now).0;
    }
    s
}

/// The document, or the part at `path`, as a read shows it: validated, and with the vitals
/// brought up to `now` (nothing is written). `None`: no such key (or no such place in `skills`).
pub fn read_live(ctx: Ctx, key: Arg, path: Option<&DocPath>, now: f64) -> Result<Option<Value>> {
    let Some(path) = path else {
        let Some(mut doc) = store::read_document(ctx, key)? else { return Ok(None) };
        let s = vitals::stats_from(&doc["stats"]).map_err(Error::stored)?;
        doc["stats"] = stats_value(&live(s, now));
        return Ok(Some(doc));
    };
    if path.section() != "stats" {
        return match store::read_at(ctx, key, path) {
            Err(Error::NoAccount) => Ok(None),
            other => other,
        };
    }
    let Some(s) = store::read_stats(ctx, key)? else { return Ok(None) };
    let mut v = stats_value(&live(s, now));
    for seg in &path.segments[1..] {
        v = v.get(seg.as_str()).cloned().unwrap_or(Value::Null);
    }
    Ok(Some(v))
}

fn stats_value(s: &Stats) -> Value {
    serde_json::from_str(&s.to_json()).unwrap_or_default()
}
