//! ACCOUNT.MOVE key location

use crate::error::Result;
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema::{self, Shape};
use crate::store;
use serde_json::{json, Value};

pub fn account_move(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let to = schema::normalize(&Shape::TextOrNull, None, Some(Value::from(args[2].text()?)), "location.current")?;
    let location = store::read_at(ctx, key, &DocPath::parse("location")?)?.unwrap_or_default();
    let from = location["current"].clone();
    store::put(ctx, key, "$.location", &json!({"current": to, "prev": from}).to_string())?;
    rm::notify(ctx, c"account.move", key);
    Ok(match from {
        Value::String(s) => Reply::Text(s),
        _ => Reply::Nil,
    })
}
