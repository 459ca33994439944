//! ACCOUNT.DEL key

use crate::error::Result;
use crate::rm::{self, Arg, Ctx, KeyKind, Reply};
use crate::store;

pub fn account_del(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    if store::expect_account_or_missing(ctx, key)? == KeyKind::Missing {
        return Ok(Reply::Int(0));
    }
    let n = store::delete(ctx, key)?;
    rm::notify(ctx, c"account.del", key);
    Ok(Reply::Int(n))
}
