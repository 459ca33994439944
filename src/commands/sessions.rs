//! ACCOUNT.SESSION key combat|inventory|scenario id|NONE,
//! ACCOUNT.LINK combat|inventory|scenario id key [key ...],
//! ACCOUNT.UNLINK combat|inventory|scenario key [key ...]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema::{self, Shape};
use crate::store::{self, Put};
use crate::limits;
use serde_json::Value;

/// The `sessions` field a session kind names.
fn field(kind: Arg) -> Result<&'static str> {
    match kind.bytes().to_ascii_lowercase().as_slice() {
        b"combat" => Ok("combat_id"),
        b"inventory" => Ok("inventory_id"),
        b"scenario" => Ok("scenario_id"),
        _ => Err(Error::Syntax("session must be combat, inventory or scenario".into())),
    }
}

/// A session id argument: NONE (any case) clears; anything else must be a valid string field.
fn session_id(a: Arg) -> Result<Value> {
    if a.is("NONE") {
        return Ok(Value::Null);
    }
    schema::normalize(&Shape::TextOrNull, None, Some(Value::from(a.text()?)), "session id")
}

/// Reads a validated `sessions` section and returns it with `field` set to `id`, and the old id.
fn relink(ctx: Ctx, key: Arg, field: &str, id: &Value) -> Result<(Value, Value)> {
    let mut sessions = store::read_at(ctx, key, &DocPath::parse("sessions")?)?.unwrap_or_default();
    let old = std::mem::replace(&mut sessions[field], id.clone());
    Ok((sessions, old))
}

pub fn account_session(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 4 {
        return Err(Error::WrongArity);
    }
    let (key, field, id) = (args[1], field(args[2])?, session_id(args[3])?);
    let (sessions, old) = relink(ctx, key, field, &id)?;
    store::put(ctx, key, "$.sessions", &sessions.to_string())?;
    rm::notify(ctx, c"account.session", key);
    Ok(match old {
        Value::String(s) => Reply::Text(s),
        _ => Reply::Nil,
    })
}

pub fn account_link(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (field, id) = (field(args[1])?, session_id(args[2])?);
    let keys = &args[3..];
    if keys.len() > limits::MAX_KEYS {
        return Err(Error::Limit(format!("more than {} keys", limits::MAX_KEYS)));
    }
    // Every account must exist and be valid before any is changed.
    let mut bodies = Vec::with_capacity(keys.len());
    for &key in keys {
        bodies.push(relink(ctx, key, field, &id)?.0.to_string());
    }
    let puts: Vec<Put> = keys.iter().zip(bodies).map(|(&key, json)| Put { key, path: "$.sessions", json }).collect();
    store::put_all(ctx, &puts)?;
    for &key in keys {
        rm::notify(ctx, c"account.link", key);
    }
    Ok(Reply::Int(keys.len() as i64))
}

pub fn account_unlink(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let field = field(args[1])?;
    let keys = &args[2..];
    if keys.len() > limits::MAX_KEYS {
        return Err(Error::Limit(format!("more than {} keys", limits::MAX_KEYS)));
    }
    // Accounts already gone (logged out) are skipped; only linked ones are written.
    let mut puts = Vec::new();
    let mut untouched = Vec::new();
    for &key in keys {
        if !store::account(ctx, key)? {
            continue;
        }
        let (sessions, old) = relink(ctx, key, field, &Value::Null)?;
        if old.is_null() {
            untouched.push(key);
        } else {
            puts.push(Put { key, path: "$.sessions", json: sessions.to_string() });
        }
    }
    if !puts.is_empty() {
        store::put_all(ctx, &puts)?;
    }
    for key in untouched {
        store::refresh_idle(ctx, key)?;
    }
    for p in &puts {
        rm::notify(ctx, c"account.unlink", p.key);
    }
    Ok(Reply::Int(puts.len() as i64))
}
