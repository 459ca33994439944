//! The module's entry point: `--loadmodule libredis_account.so` registers the `account` module.
//! Unit tests do not build this file, so they keep the system allocator.

use crate::config;
use redis_module::configuration::ConfigurationFlags;
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
    configurations: [
        i64: [
            ["lobby-ttl", &config::LOBBY_TTL, crate::limits::LOBBY_DEFAULT_TTL, 1, 365 * 24 * 3600, ConfigurationFlags::DEFAULT, None],
            ["lobby-max", &config::LOBBY_MAX, crate::limits::LOBBY_MAX_ENTRIES as i64, 1, 1000, ConfigurationFlags::DEFAULT, None],
        ],
        string: [],
        bool: [
            ["shared-api", &config::SHARED_API, true, ConfigurationFlags::DEFAULT, None],
        ],
        enum: [],
        module_args_as_configuration: true,
    ]
}
