//! LOBBY.SETCACHE key json [EX seconds] [IDMP request-id], LOBBY.GETCACHE key, LOBBY.DELCACHE key

use crate::error::{Error, Result};
use crate::rm::{Arg, Ctx, KeyKind, Reply};
use crate::{config, json, lobby, store};

/// Longest TTL accepted by EX: one year.
const MAX_TTL: i64 = 365 * 24 * 3600;

pub fn lobby_setcache(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, body) = (&args[1], &args[2]);
    let ttl = match args.len() {
        3 => config::lobby_ttl(),
        5 if args[3].is("EX") => parse_ttl(&args[4])?,
        5 => {
            return Err(Error::Syntax(
                "expected: LOBBY.SETCACHE key json [EX seconds] [IDMP request-id]".into(),
            ))
        }
        _ => return Err(Error::WrongArity),
    };
    let text = lobby::validate(&json::parse(body.bytes())?, config::lobby_max())?;
    store::expect_string_or_missing(ctx, key)?;
    store::write_lobby(ctx, key, &text, ttl)?;
    Ok(Reply::Ok)
}

fn parse_ttl(a: &Arg) -> Result<i64> {
    match std::str::from_utf8(a.bytes())
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(n) if (1..=MAX_TTL).contains(&n) => Ok(n),
        _ => Err(Error::BadNumber(format!(
            "EX must be an integer from 1 to {MAX_TTL}"
        ))),
    }
}

pub fn lobby_getcache(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    store::expect_string_or_missing(ctx, key)?;
    match store::read_lobby(ctx, key)? {
        None => Ok(Reply::Nil),
        Some(text) => {
            // A cache somebody overwrote with something else is reported, not served.
            let v = serde_json::from_slice(&text)
                .map_err(|_| Error::Corrupt("lobby cache is not valid JSON".into()))?;
            lobby::validate(&v, config::lobby_max()).map_err(|e| Error::Corrupt(e.to_string()))?;
            Ok(Reply::Bulk(text))
        }
    }
}

pub fn lobby_delcache(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    if store::expect_string_or_missing(ctx, key)? == KeyKind::Missing {
        return Ok(Reply::Int(0));
    }
    Ok(Reply::Int(store::delete(ctx, key)?))
}
