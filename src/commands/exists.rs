//! ACCOUNT.EXISTS key

use crate::error::Result;
use crate::rm::{Arg, Ctx, Reply};
use crate::store;

pub fn account_exists(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    Ok(Reply::Int(store::account(ctx, &args[1])? as i64))
}
