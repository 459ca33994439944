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
use crate::vitals::{parse_amount, parse_delta, Change, Stat, Vital};
use crate::{regen, stats};

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

/// One stored vital, brought up to the server clock: (as stored, up to date, now).
fn live_vital(ctx: Ctx, key: Arg, stat: Stat) -> Result<(Vital, Vital, f64)> {
    let stored = store::read_vital(ctx, key, stat)?;
    let now = rm::now();
    let (live, gained) = regen::catch_up(stored, now);
    stats::add(&stats::REGENS, (gained != 0) as u64);
    Ok((stored, live, now))
}

/// A death (hp reaching 0) is announced on its own, for services that react to it.
fn announce(ctx: Ctx, key: Arg, event: &'static std::ffi::CStr, stat: Stat, before: &Vital, after: &Vital) {
    rm::notify(ctx, event, key);
    if stat == Stat::Hp && before.cur > 0 && after.cur == 0 {
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
    let stored = store::read_vitals(ctx, key)?;
    let now = rm::now();
    let mut vitals = stored;
    for &(stat, _) in &deltas {
        let (live, gained) = regen::catch_up(vitals[stat.index()], now);
        stats::add(&stats::REGENS, (gained != 0 && vitals[stat.index()] == stored[stat.index()]) as u64);
        vitals[stat.index()] = live;
    }
    let live = vitals;
    let mut replies = Vec::with_capacity(deltas.len());
    for (stat, delta) in deltas {
        let change = vitals[stat.index()].apply(delta);
        stats::add(&stats::CLAMPS, (change.applied != delta) as u64);
        vitals[stat.index()] = change.after;
        replies.push(pair(change.after.cur, change.applied));
    }
    for s in Stat::ALL {
        vitals[s.index()] = regen::settle(&live[s.index()], vitals[s.index()], now);
    }
    let hp_before = live[Stat::Hp.index()];
    store::save_vitals(ctx, key, &stored, &vitals, None)?;
    announce(ctx, key, c"account.apply", Stat::Hp, &hp_before, &vitals[Stat::Hp.index()]);
    Ok(Reply::Array(replies))
}

pub fn account_regen(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let mut s = store::read_stats(ctx, key)?.ok_or(Error::NoAccount)?;
    let stored = s.vitals;
    let now = rm::now();
    for v in s.vitals.iter_mut() {
        let (live, gained) = regen::catch_up(*v, now);
        stats::add(&stats::REGENS, (gained != 0) as u64);
        *v = live;
    }
    s.last_update = Some(crate::vitals::Scalar::Float(now));
    store::save_vitals(ctx, key, &stored, &s.vitals, Some(now))?;
    rm::notify(ctx, c"account.regen", key);
    Ok(Reply::Text(s.to_json()))
}
