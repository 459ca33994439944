//! ACCOUNT.MOVE key location

use super::write;
use crate::error::Result;
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use serde_json::Value;

pub fn account_move(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    let to = Value::from(args[2].text()?);
    let (current, prev) = (
        DocPath::parse("location.current")?,
        DocPath::parse("location.prev")?,
    );
    let stored = write::read(ctx, key, &[current.section()])?;
    let from = write::at(&stored.doc, &current)
        .cloned()
        .unwrap_or(Value::Null);
    write::change(ctx, key, stored, vec![(current, to), (prev, from.clone())])?;
    rm::notify(ctx, c"account.move", key);
    Ok(match from {
        Value::String(s) => Reply::Text(s),
        _ => Reply::Nil,
    })
}
