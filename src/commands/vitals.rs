//! ACCOUNT.DAMAGE key amount [stat], ACCOUNT.HEAL key amount [stat],
//! ACCOUNT.SPEND key stat amount, ACCOUNT.APPLY key stat delta [stat delta ...]
//!
//! The combat hot path: each reads the vitals it needs, computes with `vitals.rs`, and writes
//! once.

use crate::error::{Error, Result};
use crate::rm::{Arg, Ctx, Reply};
use crate::store;
use crate::vitals::{parse_amount, parse_delta, Change, Stat, Vital};

/// `[new cur, amount]`.
fn pair(cur: i64, amount: i64) -> Reply {
    Reply::Array(vec![Reply::Int(cur), Reply::Int(amount)])
}

fn amount_and_stat(args: &[Arg]) -> Result<(i64, Stat)> {
    let stat = match args.len() {
        3 => Stat::Hp,
        4 => Stat::parse(args[3].bytes())?,
        _ => return Err(Error::WrongArity),
    };
    Ok((parse_amount(args[2].bytes())?, stat))
}

pub fn account_damage(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    clamped(ctx, args, Vital::damage)
}

pub fn account_heal(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    clamped(ctx, args, Vital::heal)
}

/// DAMAGE and HEAL: one clamped change, written only if it changed something; the reply's
/// amount is the (positive) amount actually applied.
fn clamped(ctx: Ctx, args: &[Arg], change: fn(Vital, i64) -> Change) -> Result<Reply> {
    let (amount, stat) = amount_and_stat(args)?;
    let key = args[1];
    let c = change(store::read_vital(ctx, key, stat)?, amount);
    if c.applied != 0 {
        store::write_cur(ctx, key, stat, c.after.cur)?;
    }
    Ok(pair(c.after.cur, c.applied.abs()))
}

pub fn account_spend(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 4 {
        return Err(Error::WrongArity);
    }
    let (key, stat, amount) = (args[1], Stat::parse(args[2].bytes())?, parse_amount(args[3].bytes())?);
    let after = store::read_vital(ctx, key, stat)?.spend(stat, amount)?;
    store::write_cur(ctx, key, stat, after.cur)?;
    Ok(pair(after.cur, amount))
}

pub fn account_apply(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || args.len() % 2 != 0 || args.len() > 2 + 2 * 8 {
        return Err(Error::WrongArity);
    }
    let key = args[1];
    let mut deltas = Vec::with_capacity(3);
    for p in args[2..].chunks(2) {
        deltas.push((Stat::parse(p[0].bytes())?, parse_delta(p[1].bytes())?));
    }
    let mut vitals = store::read_vitals(ctx, key)?;
    let mut replies = Vec::with_capacity(deltas.len());
    for (stat, delta) in deltas {
        let change = vitals[stat.index()].apply(delta);
        vitals[stat.index()] = change.after;
        replies.push(pair(change.after.cur, change.applied));
    }
    store::write_curs(ctx, key, &vitals)?;
    Ok(Reply::Array(replies))
}
