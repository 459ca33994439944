//! ACCOUNT.SET key path json [path json ...]

use super::write;
use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};

pub fn account_set(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(Error::WrongArity);
    }
    let key = &args[1];
    let changes = write::parse_pairs(&args[2..])?;
    let stored = write::read(ctx, key, &write::sections(&changes, &[]))?;
    write::change(ctx, key, stored, changes)?;
    rm::notify(ctx, c"account.set", key);
    Ok(Reply::Ok)
}
