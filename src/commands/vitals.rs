//! ACCOUNT.DAMAGE key amount [stat], ACCOUNT.HEAL key amount [stat],
//! ACCOUNT.SPEND key stat amount, ACCOUNT.APPLY key stat delta [stat delta ...],
//! ACCOUNT.REGEN key
//!
//! The combat hot path: each reads the vitals it needs, brings them up to date with the server
//! clock (`regen.rs`), computes with `vitals.rs`, and writes once. Replicas and the AOF receive
//! the resulting values (a root JSON.MERGE: `store::save_vitals`), never the time-dependent
//! command.

use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::store;
use crate::vitals::{parse_amount, parse_delta, vital_set, Change, Stat, Vital};
use crate::{regen, stats};

/// `[new cur, amount]`.
fn pair(cur: i64, amount: i64) -> Reply {
    Reply::Array(vec![Reply::Int(cur), Reply::Int(amount)])
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

/// One stored vital, brought up to the server clock: (as stored, up to date, now).
fn live_vital(ctx: Ctx, key: Arg, stat: Stat) -> Result<(Vital, Vital, f64)> {
    let stored = store::read_vital(ctx, key, stat)?;
    let now = rm::now();
    let (live, gained) = regen::catch_up(stored, now);
    stats::add(&stats::REGENS, (gained != 0) as u64);
    Ok((stored, live, now))
}

/// A death (the first vital, hp in the shipped schema, reaching 0) is announced on its own, for
/// services that react to it.
fn announce(ctx: Ctx, key: Arg, event: &'static std::ffi::CStr, stat: Stat, before: &Vital, after: &Vital) {
    rm::notify(ctx, event, key);
    if stat.index() == 0 && before.cur > 0 && after.cur == 0 {
        rm::notify(ctx, c"account.death", key);
    }
}

pub fn account_damage(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    clamped(ctx, args, Vital::damage, c"account.damage")
}

pub fn account_heal(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    clamped(ctx, args, Vital::heal, c"account.heal")
}

/// DAMAGE and HEAL: one clamped change after regeneration; the reply's amount is the
/// (positive) amount actually applied.
fn clamped(ctx: Ctx, args: &[Arg], change: fn(Vital, i64) -> Change, event: &'static std::ffi::CStr) -> Result<Reply> {
    let (amount, stat) = amount_and_stat(args)?;
    let key = args[1];
    let (stored, live, now) = live_vital(ctx, key, stat)?;
    let c = change(live, amount);
    let after = regen::settle(&live, c.after, now);
    stats::add(&stats::CLAMPS, (c.applied.abs() < amount) as u64);
    store::save_vital(ctx, key, stat, &stored, &after)?;
    if after != stored {
        announce(ctx, key, event, stat, &live, &after);
    }
    Ok(pair(after.cur, c.applied.abs()))
}

pub fn account_spend(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 4 {
        return Err(Error::WrongArity);
    }
    let (key, stat, amount) = (args[1], Stat::parse(args[2].bytes())?, parse_amount(args[3].bytes())?);
    let (stored, live, now) = live_vital(ctx, key, stat)?;
    let after = regen::settle(&live, live.spend(stat, amount)?, now);
    store::save_vital(ctx, key, stat, &stored, &after)?;
    announce(ctx, key, c"account.spend", stat, &live, &after);
    Ok(pair(after.cur, amount))
}

pub fn account_apply(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) || args.len() > 2 + 2 * 8 {
        return Err(Error::WrongArity);
    }
    let key = args[1];
    let mut deltas = Vec::with_capacity(3);
    for p in args[2..].chunks(2) {
        deltas.push((Stat::parse(p[0].bytes())?, parse_delta(p[1].bytes())?));
    }
    let stored = store::read_stats(ctx, key)?.ok_or(Error::NoAccount)?;
    let now = rm::now();
    let mut live = stored;
    for &(stat, _) in &deltas {
        let i = stat.index();
        let (caught_up, gained) = regen::catch_up(live.vitals[i], now);
        stats::add(&stats::REGENS, (gained != 0 && live.vitals[i] == stored.vitals[i]) as u64);
        live.vitals[i] = caught_up;
    }
    let mut after = live;
    let mut replies = Vec::with_capacity(deltas.len());
    for (stat, delta) in deltas {
        let change = after.vitals[stat.index()].apply(delta);
        stats::add(&stats::CLAMPS, (change.applied != delta) as u64);
        after.vitals[stat.index()] = change.after;
        replies.push(pair(change.after.cur, change.applied));
    }
    for i in 0..after.set.all.len() {
        after.vitals[i] = regen::settle(&live.vitals[i], after.vitals[i], now);
    }
    store::save_vitals(ctx, key, &stored, &after, None)?;
    let first = after.set.all[0];
    announce(ctx, key, c"account.apply", first, &live.vitals[0], &after.vitals[0]);
    Ok(Reply::Array(replies))
}

pub fn account_regen(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let mut s = store::read_stats(ctx, key)?.ok_or(Error::NoAccount)?;
    let stored = s;
    let now = rm::now();
    for v in s.each_mut() {
        let (live, gained) = regen::catch_up(*v, now);
        stats::add(&stats::REGENS, (gained != 0) as u64);
        *v = live;
    }
    s.last_update = Some(crate::vitals::Scalar::Float(now));
    store::save_vitals(ctx, key, &stored, &s, Some(now))?;
    rm::notify(ctx, c"account.regen", key);
    Ok(Reply::Text(s.to_json()))
}
