//! ACCOUNT.DAMAGE key amount [stat], ACCOUNT.HEAL key amount [stat],
//! ACCOUNT.SPEND key stat amount, ACCOUNT.APPLY key stat delta [stat delta ...],
//! ACCOUNT.REGEN key, ACCOUNT.SETSTAT key stat cur [max]
//!
//! The combat hot path. Each file here parses its arguments, runs the orchestration of
//! `ops` (read, catch up with the server clock, change, settle, write once, announce) over the
//! Redis store, and replies. Replicas and the AOF receive the resulting values (a root
//! JSON.MERGE), never the time-dependent command.

use crate::error::{Error, Result};
use crate::ops;
use crate::rm::{Arg, Ctx, Reply};
use crate::store::{RedisVitals, ServerClock};
use crate::vitals::{parse_amount, parse_delta, parse_i64, vital_set, Stat};

/// `[new cur, amount]`.
fn pair((cur, amount): (i64, i64)) -> Reply {
    Reply::Array(vec![Reply::Int(cur), Reply::Int(amount)])
}

fn store<'a>(ctx: Ctx, args: &'a [Arg<'a>]) -> RedisVitals<'a> {
    RedisVitals { ctx, key: &args[1] }
}

fn amount_and_stat(args: &[Arg]) -> Result<(i64, Stat)> {
    let stat = match args.len() {
        // The first vital the schema declares (hp in the shipped schema).
        3 => vital_set().all[0],
        4 => Stat::parse(args[3].bytes())?,
        _ => return Err(Error::WrongArity),
    };
    Ok((parse_amount(args[2].bytes())?, stat))
}

pub fn account_damage(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (amount, stat) = amount_and_stat(args)?;
    Ok(pair(ops::clamped(
        &mut store(ctx, args),
        &ServerClock,
        stat,
        amount,
        false,
    )?))
}

pub fn account_heal(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (amount, stat) = amount_and_stat(args)?;
    Ok(pair(ops::clamped(
        &mut store(ctx, args),
        &ServerClock,
        stat,
        amount,
        true,
    )?))
}

pub fn account_spend(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 4 {
        return Err(Error::WrongArity);
    }
    let (stat, amount) = (
        Stat::parse(args[2].bytes())?,
        parse_amount(args[3].bytes())?,
    );
    Ok(pair(ops::spend(
        &mut store(ctx, args),
        &ServerClock,
        stat,
        amount,
    )?))
}

pub fn account_apply(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) || args.len() > 2 + 2 * 8 {
        return Err(Error::WrongArity);
    }
    let mut deltas = Vec::with_capacity(3);
    for p in args[2..].chunks(2) {
        deltas.push((Stat::parse(p[0].bytes())?, parse_delta(p[1].bytes())?));
    }
    let applied = ops::apply(&mut store(ctx, args), &ServerClock, &deltas)?;
    Ok(Reply::Array(applied.into_iter().map(pair).collect()))
}

pub fn account_regen(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    Ok(Reply::Text(
        ops::regen_all(&mut store(ctx, args), &ServerClock)?.to_json(),
    ))
}

pub fn account_setstat(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let stat = Stat::parse(args[2].bytes())?;
    let cur = parse_i64(args[3].bytes())
        .ok_or_else(|| Error::BadNumber("cur must be an integer".into()))?;
    let max = match args.len() {
        4 => None,
        5 => Some(parse_i64(args[4].bytes()).ok_or_else(|| {
            Error::BadNumber("max must be an integer from 0 to 1000000000000000".into())
        })?),
        _ => return Err(Error::WrongArity),
    };
    let v = ops::setstat(&mut store(ctx, args), &ServerClock, stat, cur, max)?;
    Ok(Reply::Array(vec![Reply::Int(v.cur), Reply::Int(v.max)]))
}
