//! ACCOUNT.SETSTAT key hp|mp|stamina cur [max]

use crate::error::{Error, Result};
use crate::rm::{Arg, Ctx, Reply};
use crate::store;
use crate::vitals::{parse_i64, Stat};

pub fn account_setstat(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, stat) = (args[1], Stat::parse(args[2].bytes())?);
    let cur = parse_i64(args[3].bytes()).ok_or_else(|| Error::BadNumber("cur must be an integer".into()))?;
    let max = match args.len() {
        4 => None,
        5 => Some(parse_i64(args[4].bytes()).ok_or_else(|| Error::BadNumber("max must be an integer from 0 to 1000000000000000".into()))?),
        _ => return Err(Error::WrongArity),
    };
    let vital = store::read_vital(ctx, key, stat)?.set(cur, max)?;
    store::write_vital(ctx, key, stat, &vital)?;
    Ok(Reply::Array(vec![Reply::Int(vital.cur), Reply::Int(vital.max)]))
}
