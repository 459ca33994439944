//! ACCOUNT.STATE key new_state [FROM expected]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema::{self, Shape};
use crate::store::{self, Put};
use serde_json::Value;

pub fn account_state(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, new) = (args[1], args[2]);
    let expected = match args.len() {
        3 => None,
        5 if args[3].is("FROM") => Some(args[4].text()?),
        5 => return Err(Error::Syntax("expected: ACCOUNT.STATE key new_state [FROM expected]".into())),
        _ => return Err(Error::WrongArity),
    };
    let new = schema::normalize(&Shape::State, None, Some(Value::from(new.text()?)), "state")?;
    let old = store::read_at(ctx, key, &DocPath::parse("state")?)?.unwrap_or(Value::Null);
    let old = old.as_str().unwrap_or_default().to_string();
    if let Some(expected) = expected {
        if expected != old {
            return Err(Error::StateConflict { expected: expected.to_string(), actual: old });
        }
    }
    store::put_all(
        ctx,
        &[
            Put { key, path: "$.prev_state", json: Value::from(old.as_str()).to_string() },
            Put { key, path: "$.state", json: new.to_string() },
        ],
    )?;
    rm::notify(ctx, c"account.state", key);
    Ok(Reply::Text(old))
}
