//! ACCOUNT.SESSION key combat|inventory|scenario id|NONE,
//! ACCOUNT.LINK combat|inventory|scenario id key [key ...],
//! ACCOUNT.UNLINK combat|inventory|scenario key [key ...]

use super::write;
use crate::error::{Error, Result};
use crate::limits;
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::store;
use serde_json::Value;

/// ACCOUNT.LINK's keys (getkeys-api): from the third argument on, a trailing `IDMP <id>` apart.
pub fn link_keys(args: &[Arg]) -> std::ops::Range<usize> {
    crate::redis::idmp::key_range(args, 3)
}

/// ACCOUNT.UNLINK's keys: from the second argument on, a trailing `IDMP <id>` apart.
pub fn unlink_keys(args: &[Arg]) -> std::ops::Range<usize> {
    crate::redis::idmp::key_range(args, 2)
}

/// The `sessions` place a session kind names.
fn field(kind: &Arg) -> Result<DocPath> {
    let name = match kind.bytes().to_ascii_lowercase().as_slice() {
        b"combat" => "sessions.combat_id",
        b"inventory" => "sessions.inventory_id",
        b"scenario" => "sessions.scenario_id",
        _ => {
            return Err(Error::Syntax(
                "session must be combat, inventory or scenario".into(),
            ))
        }
    };
    DocPath::parse(name)
}

/// A session id argument: NONE (any case) clears.
fn session_id(a: &Arg) -> Result<Value> {
    if a.is("NONE") {
        return Ok(Value::Null);
    }
    Ok(Value::from(a.text()?))
}

pub fn account_session(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 4 {
        return Err(Error::WrongArity);
    }
    let (key, field, id) = (&args[1], field(&args[2])?, session_id(&args[3])?);
    let stored = write::read(ctx, key, &[field.section()])?;
    let old = write::at(&stored.doc, &field)
        .cloned()
        .unwrap_or(Value::Null);
    write::change(ctx, key, stored, vec![(field, id)])?;
    rm::notify(ctx, c"account.session", key);
    Ok(match old {
        Value::String(s) => Reply::Text(s),
        _ => Reply::Nil,
    })
}

pub fn account_link(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (field, id) = (field(&args[1])?, session_id(&args[2])?);
    let keys = &args[3..];
    if keys.len() > limits::MAX_KEYS {
        return Err(Error::Limit(format!("more than {} keys", limits::MAX_KEYS)));
    }
    // Every account must exist and be valid before any is changed.
    let mut all = Vec::with_capacity(keys.len());
    for key in keys {
        let stored = write::read(ctx, key, &[field.section()])?;
        all.push(write::prepare(
            ctx,
            key,
            stored,
            vec![(field.clone(), id.clone())],
        )?);
    }
    write::write(ctx, &all, &[])?;
    for key in keys {
        rm::notify(ctx, c"account.link", key);
    }
    Ok(Reply::Int(keys.len() as i64))
}

pub fn account_unlink(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let field = field(&args[1])?;
    let keys = &args[2..];
    if keys.len() > limits::MAX_KEYS {
        return Err(Error::Limit(format!("more than {} keys", limits::MAX_KEYS)));
    }
    // Accounts already gone (logged out) are skipped; only linked ones are written.
    let mut all = Vec::new();
    let mut linked = Vec::new();
    let mut untouched = Vec::new();
    for key in keys {
        if !store::account(ctx, key)? {
            continue;
        }
        let stored = write::read(ctx, key, &[field.section()])?;
        if write::at(&stored.doc, &field).is_none_or(Value::is_null) {
            untouched.push(key);
        } else {
            all.push(write::prepare(
                ctx,
                key,
                stored,
                vec![(field.clone(), Value::Null)],
            )?);
            linked.push(key);
        }
    }
    // The untouched accounts' idle TTL is refreshed with the same all-or-nothing write.
    write::write(ctx, &all, &untouched)?;
    for key in &linked {
        rm::notify(ctx, c"account.unlink", key);
    }
    Ok(Reply::Int(linked.len() as i64))
}
