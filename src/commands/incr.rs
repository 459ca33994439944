//! ACCOUNT.INCR key metrics.<field>|attributes.<field> delta

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema::{self, Shape};
use crate::store;
use crate::vitals::parse_i64;
use serde_json::Value;

pub fn account_incr(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let path = DocPath::parse(args[2].text().map_err(|_| Error::NoPath("?".into()))?)?;
    let Some((shape @ (Shape::Int | Shape::Count), dflt)) = path.shape else {
        return Err(Error::Schema(format!("{} is not an integer field", path.dotted())));
    };
    let delta = parse_i64(args[3].bytes()).ok_or_else(|| Error::BadNumber("delta must be an integer".into()))?;
    let cur = store::read_at(ctx, key, &path)?.and_then(|v| v.as_i64()).unwrap_or_default();
    let new = cur.checked_add(delta).ok_or(Error::Overflow)?;
    let new = schema::normalize(&shape, dflt, Some(Value::from(new)), &path.dotted())?;
    store::put_at(ctx, key, &path, &new.to_string())?;
    rm::notify(ctx, c"account.incr", key);
    Ok(Reply::Int(new.as_i64().unwrap_or_default()))
}
