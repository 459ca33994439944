//! The module's entry point: `--loadmodule libredis_account.so` registers the `account` module.
//! Unit tests do not build this file, so they keep the system allocator.

use crate::config;
use redis_module::configuration::ConfigurationFlags;
use redis_module::{alloc::RedisAlloc, raw, redis_module, Context, RedisString, Status};
use std::ffi::CString;

fn init(ctx: &Context, args: &[RedisString]) -> Status {
    // Test-only fault injection (redis/fault.rs): only the exact pair `unsafe-test-faults yes`
    // among the load arguments turns it on, before the commands are registered.
    if args.chunks(2).any(|p| {
        p.len() == 2
            && p[0].as_slice() == crate::redis::fault::LOAD_ARGUMENT.as_bytes()
            && p[1].as_slice() == b"yes"
    }) {
        crate::redis::fault::enable();
        crate::rejson::log_at(ctx.ctx, c"warning", "unsafe-test-faults is on: ACCOUNT.TESTFAULT can make commands fail (for tests only, never in production)");
    }
    // Replaces the crate's default INFO callback (registered just before init runs).
    // SAFETY: ctx.ctx is the context of this module's OnLoad; the callback is a plain extern fn.
    unsafe { raw::RedisModule_RegisterInfoFunc.unwrap()(ctx.ctx, Some(info)) };
    match crate::commands::register(ctx.ctx) {
        Ok(()) => {
            if !crate::rejson::present(ctx.ctx) {
                crate::rejson::log_at(
                    ctx.ctx,
                    c"warning",
                    "RedisJSON is not loaded (yet): ACCOUNT.* commands answer NOJSON until it is (LOBBY.* work without it)",
                );
            }
            Status::Ok
        }
        Err(e) => {
            ctx.log_warning(&format!("account: {e}"));
            Status::Err
        }
    }
}

/// `INFO account`: section `account_stats`, counters since the server started.
extern "C" fn info(c: *mut raw::RedisModuleInfoCtx, _for_crash_report: std::os::raw::c_int) {
    use crate::stats;
    let field = |name: &str, v: u64| {
        let name = CString::new(name).unwrap_or_default();
        // SAFETY: c is the INFO context Redis passed to this callback; name outlives the call.
        unsafe { raw::RedisModule_InfoAddFieldULongLong.unwrap()(c, name.as_ptr(), v) };
    };
    // SAFETY: c is the INFO context Redis passed to this callback; the name is a literal.
    unsafe { raw::RedisModule_InfoAddSection.unwrap()(c, c"stats".as_ptr()) };
    for (name, n) in crate::commands::call_counts() {
        // Redis prefixes every field with the module name: account_calls_damage, ...
        field(
            &format!(
                "calls_{}",
                name.trim_start_matches("account.").replace('.', "_")
            ),
            n,
        );
    }
    for (code, n) in stats::CODES.iter().zip(stats::REJECTED.iter()) {
        field(&format!("rejected_{}", code.to_lowercase()), stats::get(n));
    }
    field("clamps", stats::get(&stats::CLAMPS));
    field("regen_applied", stats::get(&stats::REGENS));
    field("logouts", stats::get(&stats::LOGOUTS));
    field("request_replays", stats::get(&stats::REPLAYED));
    field("schema_warnings", stats::get(&stats::SCHEMA_WARNINGS));
    let (path, why) = crate::rejson::read_path();
    let text = |name: &str, v: &str| {
        let name = CString::new(name).unwrap_or_default();
        let v = CString::new(v).unwrap_or_default();
        // SAFETY: c is the INFO context Redis passed to this callback; both strings outlive the call.
        unsafe { raw::RedisModule_InfoAddFieldCString.unwrap()(c, name.as_ptr(), v.as_ptr()) };
    };
    text("read_path", path);
    text("read_path_reason", &why);
    text("write_path", crate::rejson::write_path());
    let rules = crate::schema::rules();
    text("schema_hash", &rules.schema.hash);
    text("schema_source", &rules.source);
    let (lobby, lobby_source) = crate::lobby::lobby_schema();
    text("lobby_schema_hash", &lobby.hash);
    text("lobby_schema_source", &lobby_source);
    text(
        "validation_level",
        &format!("{:?}", crate::config::validation_level()),
    );
    text(
        "validation_action",
        if crate::config::validation_warns() {
            "warn"
        } else {
            "error"
        },
    );
}

redis_module! {
    name: "account",
    version: crate::version::MODULE_VERSION,
    allocator: (RedisAlloc, RedisAlloc),
    data_types: [],
    init: init,
    configurations: [
        i64: [
            ["idle-ttl", &config::IDLE_TTL, 0, 0, 10 * 365 * 24 * 3600, ConfigurationFlags::DEFAULT, None],
            ["lobby-ttl", &config::LOBBY_TTL, crate::limits::LOBBY_DEFAULT_TTL, 1, 365 * 24 * 3600, ConfigurationFlags::DEFAULT, None],
            ["request-window", &config::REQUEST_WINDOW, crate::limits::REQUEST_WINDOW_DEFAULT, 0, 7 * 24 * 3600, ConfigurationFlags::DEFAULT, None],
            ["lobby-max", &config::LOBBY_MAX, crate::limits::LOBBY_MAX_ENTRIES as i64, 1, 1000, ConfigurationFlags::DEFAULT, None],
        ],
        string: [
            ["schema", &config::SCHEMA_FILE, "", ConfigurationFlags::DEFAULT, None],
            ["lobby-schema", &config::LOBBY_SCHEMA_FILE, "", ConfigurationFlags::DEFAULT, None],
        ],
        bool: [
            ["shared-api", &config::SHARED_API, true, ConfigurationFlags::DEFAULT, None],
            ["json-merge", &config::JSON_MERGE, true, ConfigurationFlags::DEFAULT, None],
        ],
        enum: [
            ["validation-level", &config::VALIDATION_LEVEL, config::Level::moderate, ConfigurationFlags::DEFAULT, None],
            ["validation-action", &config::VALIDATION_ACTION, config::Action::error, ConfigurationFlags::DEFAULT, None],
        ],
        module_args_as_configuration: true,
    ]
}
