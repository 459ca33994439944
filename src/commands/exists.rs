//! ACCOUNT.EXISTS key

use crate::error::Result;
use crate::rm::{Arg, Ctx, KeyKind, Reply};
use crate::store;

pub fn account_exists(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    Ok(Reply::Int((store::expect_account_or_missing(ctx, args[1])? == KeyKind::Module) as i64))
}
