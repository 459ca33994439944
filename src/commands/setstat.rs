//! ACCOUNT.SETSTAT key hp|mp|stamina cur [max]

use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::vitals::{parse_i64, Stat, Vital};
use crate::{regen, stats, store};

pub fn account_setstat(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, stat) = (args[1], Stat::parse(args[2].bytes())?);
    let cur = parse_i64(args[3].bytes()).ok_or_else(|| Error::BadNumber("cur must be an integer".into()))?;
    let max = match args.len() {
        4 => None,
        5 => Some(parse_i64(args[4].bytes()).ok_or_else(|| Error::BadNumber("max must be an integer from 0 to 1000000000000000".into()))?),
        _ => return Err(Error::WrongArity),
    };
    let stored = store::read_vital(ctx, key, stat)?;
    // The value given is the value now: regeneration (if it does not rest) counts from here.
    let set = stored.set(cur, max)?;
    let vital = if regen::at_rest(&set) { set } else { Vital { since: Some(rm::now()), ..set } };
    stats::add(&stats::CLAMPS, (vital.cur != cur) as u64);
    store::save_vital(ctx, key, stat, &stored, &vital)?;
    rm::notify(ctx, c"account.setstat", key);
    Ok(Reply::Array(vec![Reply::Int(vital.cur), Reply::Int(vital.max)]))
}
