//! ACCOUNT.MGET [PATH path] key [key ...]

use crate::error::{Error, Result};
use crate::limits;
use crate::rm::{self, Arg, Ctx, Reply};

/// The first key's position: after `PATH path` when it is given.
fn first_key(args: &[Arg]) -> usize {
    if args.len() > 3 && args[1].is("PATH") {
        3
    } else {
        1
    }
}

/// Key positions, for COMMAND GETKEYS, ACL and cluster routing (getkeys-api).
pub fn key_positions(args: &[Arg]) -> std::ops::Range<usize> {
    first_key(args)..args.len()
}

pub fn account_mget(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    // `PATH p` with no key after it: a syntax error, not two keys named PATH and p.
    if args.len() == 3 && args[1].is("PATH") {
        return Err(Error::Syntax(
            "expected: ACCOUNT.MGET [PATH path] key [key ...]".into(),
        ));
    }
    let start = first_key(args);
    let path = match start {
        3 => Some(super::get::parse_path(&args[2])?),
        _ => None,
    };
    let keys = &args[start..];
    if keys.len() > limits::MAX_KEYS {
        return Err(Error::Limit(format!("more than {} keys", limits::MAX_KEYS)));
    }
    let now = rm::now();
    let items = keys
        .iter()
        .map(|key| {
            match super::get::read_live(ctx, key, path.as_ref(), now) {
                Ok(None) => Reply::Nil,
                Ok(Some(v)) => Reply::Bulk(v),
                // One broken or wrong-typed key does not hide the others.
                Err(e) => Reply::Error(e.to_string()),
            }
        })
        .collect();
    Ok(Reply::Array(items))
}
