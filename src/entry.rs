//! The module's entry point: `--loadmodule libredis_account.so` registers the `account` module.
//! Unit tests do not build this file, so they keep the system allocator.

use redis_module::{alloc::RedisAlloc, redis_module, Context, RedisString, Status};

fn init(ctx: &Context, _args: &[RedisString]) -> Status {
    match crate::commands::register(ctx.ctx) {
        Ok(()) => Status::Ok,
        Err(e) => {
            ctx.log_warning(&format!("account: {e}"));
            Status::Err
        }
    }
}

redis_module! {
    name: "account",
    version: 1,
    allocator: (RedisAlloc, RedisAlloc),
    data_types: [],
    init: init,
}
