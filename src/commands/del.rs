//! ACCOUNT.DEL key

use crate::error::Result;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::store;

pub fn account_del(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    if !store::account(ctx, key)? {
        return Ok(Reply::Int(0));
    }
    let n = store::delete(ctx, key)?;
    rm::notify(ctx, c"account.del", key);
    Ok(Reply::Int(n))
}
