//! The command table: every command's name, handler, flags, keys, arity and ACL categories, and
//! the one dispatcher that runs a handler with panics caught.
//!
//! Where each command lives: ACCOUNT.<NAME> in `<name>.rs` (ACCOUNT.CREATE in `create.rs`,
//! ...), except ACCOUNT.SESSION, LINK and UNLINK in `sessions.rs`, ACCOUNT.DAMAGE, HEAL, SPEND,
//! APPLY, REGEN and SETSTAT in `vitals.rs` (over the orchestration of `crate::ops`),
//! ACCOUNT.SCHEMA and CHECK in `schema.rs`, and LOBBY.* in `lobby.rs`. `write.rs` is the
//! read-change-check-write of the document writes; `args.rs` the argument specs.

mod args;
mod create;
mod del;
mod exists;
mod get;
mod incr;
mod lobby;
mod logout;
mod mget;
mod r#move;
mod schema;
mod sessions;
mod set;

mod state;
mod vitals;
mod write;

use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::stats;
use redis_module::commands::{BeginSearch, FindKeys, KeySpec, KeySpecFlags};
use redis_module::raw;
use std::ffi::CString;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};

type Handler = fn(Ctx, &[Arg]) -> Result<Reply>;
type RawHandler = extern "C" fn(Ctx, *mut *mut raw::RedisModuleString, c_int) -> c_int;

/// Which arguments are keys.
#[derive(Clone, Copy)]
pub enum Keys {
    /// One key at this position.
    One(i32),
    /// Found by the command itself (getkeys-api), at most from this position to the end.
    Movable(i32),
    /// ACCOUNT.LOGOUT: the account at the first position (read and deleted), a stream at the
    /// second (appended to).
    AccountThenStream(i32, i32),
    /// No key arguments (ACCOUNT.SCHEMA; ACCOUNT.CHECK finds its keys with SCAN).
    None,
}

pub struct Command {
    pub name: &'static str,
    /// The entry point, and its call counter (INFO account).
    handler: (RawHandler, &'static AtomicU64, &'static Meta),
    /// Redis command flags ("write deny-oom", "readonly fast", ...).
    pub flags: &'static str,
    /// As Redis counts it: exact if positive, at least -arity if negative (the name included).
    pub arity: i32,
    pub keys: Keys,
    key_flags: KeySpecFlags,
    /// ACL categories on servers that have them (7.2+); `account` is added to every command
    /// but the administration ones (`admin`).
    pub acl: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
}

impl Command {
    /// An administration command (ACL category `admin`): changes how the module behaves for
    /// every client, or walks the whole keyspace; never part of `@account`.
    pub fn is_admin(&self) -> bool {
        self.acl.split(' ').any(|a| a == "admin")
    }

    /// Every command that changes a document or the lobby cache (a `write` command) takes an
    /// optional trailing `IDMP <request-id>` (exactly once: `redis/idmp.rs`).
    pub fn takes_request_id(&self) -> bool {
        self.flags.split(' ').any(|f| f == "write")
    }

    /// The arity Redis checks: a command taking a request id may have two more arguments.
    fn registered_arity(&self) -> i32 {
        if self.takes_request_id() && self.arity > 0 {
            -self.arity
        } else {
            self.arity
        }
    }

    /// The position of the first key (the record of a request id is kept beside it).
    fn first_key(&self) -> i32 {
        match self.keys {
            Keys::One(p) | Keys::Movable(p) | Keys::AccountThenStream(p, _) => p,
            Keys::None => 0,
        }
    }
}

/// What the dispatcher knows of a command when it runs, set once from its table entry at
/// registration: whether it takes a request id (every `write` command), the arity Redis no
/// longer checks for it (the optional `IDMP <id>` loosens it), and where its first key is.
pub struct Meta {
    once: AtomicBool,
    arity: AtomicI32,
    first_key: AtomicI32,
}

impl Meta {
    pub const fn new() -> Meta {
        Meta {
            once: AtomicBool::new(false),
            arity: AtomicI32::new(0),
            first_key: AtomicI32::new(0),
        }
    }

    fn set(&self, c: &Command) {
        self.once.store(c.takes_request_id(), Relaxed);
        self.arity.store(c.arity, Relaxed);
        self.first_key.store(c.first_key(), Relaxed);
    }
}

/// A command's answer: run now, or replayed from its request id's record.
enum Answer {
    Ran(Result<Reply>),
    Replayed(crate::redis::idmp::Outcome),
}

/// Runs a handler: the argument slice without copies, panics caught (the command then changed
/// nothing and answers INTERNAL), the reply or error written. A command that needs RedisJSON
/// answers NOJSON, without running, while RedisJSON is not loaded. A write command's trailing
/// `IDMP <request-id>` is taken off here: a call seen before answers its recorded reply and
/// runs nothing; a first call runs and its reply is recorded in the same command.
fn dispatch(
    ctx: Ctx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    handler: Handler,
    needs_json: bool,
    meta: &Meta,
) -> c_int {
    use crate::redis::idmp;
    // SAFETY: Redis passes argc valid string pointers at argv, alive and unchanged for the
    // duration of the call, which the borrow ends within.
    let all: &[Arg] = unsafe { Arg::slice(argv, argc) };
    let run = || -> Answer {
        if needs_json && !crate::rejson::present(ctx) {
            return Answer::Ran(Err(Error::NoJson));
        }
        if !meta.once.load(Relaxed) {
            return Answer::Ran(handler(ctx, all));
        }
        let (args, id) = match idmp::split(all) {
            Ok(split) => split,
            Err(e) => return Answer::Ran(Err(e)),
        };
        let arity = meta.arity.load(Relaxed);
        let n = args.len() as i32;
        if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
            return Answer::Ran(Err(Error::WrongArity));
        }
        let Some(id) = id else {
            return Answer::Ran(handler(ctx, args));
        };
        let Some(key) = args.get(meta.first_key.load(Relaxed) as usize) else {
            return Answer::Ran(Err(Error::WrongArity));
        };
        match idmp::before(ctx, key, id) {
            Err(e) => Answer::Ran(Err(e)),
            Ok(idmp::Before::Off) => Answer::Ran(handler(ctx, args)),
            Ok(idmp::Before::Replay(o)) => Answer::Replayed(o),
            Ok(idmp::Before::Fresh(rec)) => {
                let result = handler(ctx, args);
                idmp::record(ctx, rec, &result);
                Answer::Ran(result)
            }
        }
    };
    crate::redis::fault::begin();
    let answer = catch_unwind(AssertUnwindSafe(run)).unwrap_or(Answer::Ran(Err(Error::Internal)));
    crate::redis::fault::end();
    match answer {
        Answer::Ran(Ok(r)) => rm::reply(ctx, &r),
        Answer::Ran(Err(Error::WrongArity)) => {
            stats::rejected("ERR");
            rm::wrong_arity(ctx)
        }
        Answer::Ran(Err(e)) => {
            stats::rejected(e.code());
            rm::reply_error(ctx, &e)
        }
        Answer::Replayed(o) => {
            stats::add(&stats::REPLAYED, 1);
            match o {
                idmp::Outcome::Reply(r) => rm::reply(ctx, &r),
                idmp::Outcome::Error(text) => rm::reply(ctx, &Reply::Error(text)),
            }
        }
    }
    raw::REDISMODULE_OK as c_int
}

macro_rules! handler {
    ($f:path) => {{
        static CALLS: AtomicU64 = AtomicU64::new(0);
        static META: Meta = Meta::new();
        extern "C" fn h(ctx: Ctx, argv: *mut *mut raw::RedisModuleString, argc: c_int) -> c_int {
            CALLS.fetch_add(1, Relaxed);
            dispatch(ctx, argv, argc, $f, true, &META)
        }
        (h as RawHandler, &CALLS, &META)
    }};
    // A command that works without RedisJSON (LOBBY.*: plain strings).
    ($f:path, without_json) => {{
        static CALLS: AtomicU64 = AtomicU64::new(0);
        static META: Meta = Meta::new();
        extern "C" fn h(ctx: Ctx, argv: *mut *mut raw::RedisModuleString, argc: c_int) -> c_int {
            CALLS.fetch_add(1, Relaxed);
            dispatch(ctx, argv, argc, $f, false, &META)
        }
        (h as RawHandler, &CALLS, &META)
    }};
    // A getkeys-api command: `$keys` tells the key positions when Redis asks for them.
    ($f:path, keys = $keys:path, flags = $flags:expr) => {{
        static CALLS: AtomicU64 = AtomicU64::new(0);
        static META: Meta = Meta::new();
        extern "C" fn h(ctx: Ctx, argv: *mut *mut raw::RedisModuleString, argc: c_int) -> c_int {
            if rm::is_keys_position_request(ctx) {
                // SAFETY: as in `dispatch`: argc valid string pointers at argv for the call.
                let args: &[Arg] = unsafe { Arg::slice(argv, argc) };
                for pos in $keys(args) {
                    rm::key_at_pos(ctx, pos, $flags);
                }
                return raw::REDISMODULE_OK as c_int;
            }
            CALLS.fetch_add(1, Relaxed);
            dispatch(ctx, argv, argc, $f, true, &META)
        }
        (h as RawHandler, &CALLS, &META)
    }};
}

const RO: KeySpecFlags = KeySpecFlags::READ_ONLY.union(KeySpecFlags::ACCESS);
const PROBE: KeySpecFlags = KeySpecFlags::READ_ONLY;
const OVERWRITE: KeySpecFlags = KeySpecFlags::OVERWRITE.union(KeySpecFlags::UPDATE);
const REMOVE: KeySpecFlags = KeySpecFlags::REMOVE.union(KeySpecFlags::DELETE);
const UPDATE: KeySpecFlags = KeySpecFlags::READ_WRITE.union(KeySpecFlags::UPDATE);
const UPDATE_RETURN: KeySpecFlags = UPDATE.union(KeySpecFlags::ACCESS);

pub fn table() -> Vec<Command> {
    vec![
        Command {
            name: "account.create",
            handler: handler!(create::account_create),
            flags: "write deny-oom",
            arity: -2,
            keys: Keys::One(1),
            key_flags: OVERWRITE,
            acl: "write",
            summary: "Creates (or with NX, only creates) a validated account document",
            complexity: "O(N) where N is the size of the document",
        },
        Command {
            name: "account.get",
            handler: handler!(get::account_get),
            flags: "readonly",
            arity: -2,
            keys: Keys::One(1),
            key_flags: RO,
            acl: "read",
            summary: "Returns the account document, or one part of it by dotted path, as JSON",
            complexity: "O(N) where N is the size of the returned part",
        },
        Command {
            name: "account.exists",
            handler: handler!(exists::account_exists),
            flags: "readonly fast",
            arity: 2,
            keys: Keys::One(1),
            key_flags: PROBE,
            acl: "read fast",
            summary: "Returns 1 if the account document exists, else 0",
            complexity: "O(1)",
        },
        Command {
            name: "account.del",
            handler: handler!(del::account_del),
            flags: "write fast",
            arity: 2,
            keys: Keys::One(1),
            key_flags: REMOVE,
            acl: "write fast",
            summary: "Deletes the account document",
            complexity: "O(N) where N is the size of the document",
        },
        Command {
            name: "account.set",
            handler: handler!(set::account_set),
            flags: "write deny-oom",
            arity: -4,
            keys: Keys::One(1),
            key_flags: UPDATE,
            acl: "write",
            summary: "Replaces one or more sections or fields, validated, all or nothing",
            complexity: "O(M) where M is the size of the top-level members written; O(N), N the document's size, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.state",
            handler: handler!(state::account_state),
            flags: "write deny-oom",
            arity: -3,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write",
            summary: "Sets state and moves the old one to prev_state; with FROM, only from that state",
            complexity: "O(M) where M is the size of the top-level members written; O(N), N the document's size, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.move",
            handler: handler!(r#move::account_move),
            flags: "write deny-oom",
            arity: 3,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write",
            summary: "Moves the character: location.prev becomes the old location.current",
            complexity: "O(M) where M is the size of the top-level members written; O(N), N the document's size, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.session",
            handler: handler!(sessions::account_session),
            flags: "write deny-oom",
            arity: 4,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write",
            summary: "Links (or with NONE clears) a combat, inventory or scenario session id",
            complexity: "O(M) where M is the size of the top-level members written; O(N), N the document's size, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.setstat",
            handler: handler!(vitals::account_setstat),
            flags: "write deny-oom fast",
            arity: -4,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Sets a vital's cur (clamped into [0, max]) and optionally its max",
            complexity: "O(1)",
        },
        Command {
            name: "account.incr",
            handler: handler!(incr::account_incr),
            flags: "write deny-oom",
            arity: 4,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write",
            summary: "Atomically adds to an integer metric or attribute; overflow is an error",
            complexity: "O(M) where M is the size of the top-level members written; O(N), N the document's size, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.damage",
            handler: handler!(vitals::account_damage),
            flags: "write deny-oom fast",
            arity: -3,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Takes amount from a vital (hp by default), never below 0",
            complexity: "O(1)",
        },
        Command {
            name: "account.heal",
            handler: handler!(vitals::account_heal),
            flags: "write deny-oom fast",
            arity: -3,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Adds amount to a vital (hp by default), never above max",
            complexity: "O(1)",
        },
        Command {
            name: "account.spend",
            handler: handler!(vitals::account_spend),
            flags: "write deny-oom fast",
            arity: 4,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Takes amount from a vital only if there is enough of it",
            complexity: "O(1)",
        },
        Command {
            name: "account.apply",
            handler: handler!(vitals::account_apply),
            flags: "write deny-oom fast",
            arity: -4,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Changes several vitals by signed deltas in one step, each clamped into [0, max]",
            complexity: "O(1)",
        },
        Command {
            name: "account.regen",
            handler: handler!(vitals::account_regen),
            flags: "write deny-oom fast",
            arity: 2,
            keys: Keys::One(1),
            key_flags: UPDATE_RETURN,
            acl: "write fast",
            summary: "Brings the vitals up to date with the server clock, writes them, and returns the stats",
            complexity: "O(1)",
        },
        Command {
            name: "account.logout",
            handler: handler!(logout::account_logout),
            flags: "write deny-oom",
            arity: 3,
            keys: Keys::AccountThenStream(1, 2),
            key_flags: KeySpecFlags::REMOVE.union(KeySpecFlags::ACCESS).union(KeySpecFlags::DELETE),
            acl: "write",
            summary: "Appends the document to a stream for a persistence worker and deletes the key, atomically",
            complexity: "O(N) where N is the size of the document",
        },
        Command {
            name: "account.mget",
            handler: handler!(mget::account_mget, keys = mget::key_positions, flags = raw::REDISMODULE_CMD_KEY_RO | raw::REDISMODULE_CMD_KEY_ACCESS),
            flags: "readonly getkeys-api",
            arity: -2,
            keys: Keys::Movable(1),
            key_flags: RO,
            acl: "read",
            summary: "Returns several documents, or one path of each, nil for missing ones",
            complexity: "O(N) where N is the total size of the returned parts",
        },
        Command {
            name: "account.link",
            handler: handler!(sessions::account_link, keys = sessions::link_keys, flags = raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_UPDATE),
            flags: "write deny-oom getkeys-api",
            arity: -4,
            keys: Keys::Movable(3),
            key_flags: UPDATE,
            acl: "write",
            summary: "Sets a session id on many characters at once, all or nothing",
            complexity: "O(M) where M is the total size of the members written; O(N), N the total size of the documents, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "account.unlink",
            handler: handler!(sessions::account_unlink, keys = sessions::unlink_keys, flags = raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_UPDATE),
            flags: "write deny-oom getkeys-api",
            arity: -3,
            keys: Keys::Movable(2),
            key_flags: UPDATE,
            acl: "write",
            summary: "Clears a session id on many characters at once; missing ones are skipped",
            complexity: "O(M) where M is the total size of the members written; O(N), N the total size of the documents, when the write lengthens them or under validation-level strict",
        },
        Command {
            name: "lobby.setcache",
            handler: handler!(lobby::lobby_setcache, without_json),
            flags: "write deny-oom",
            arity: -3,
            keys: Keys::One(1),
            key_flags: OVERWRITE,
            acl: "write",
            summary: "Validates and caches the user's character list with a TTL",
            complexity: "O(N) where N is the size of the list",
        },
        Command {
            name: "lobby.getcache",
            handler: handler!(lobby::lobby_getcache, without_json),
            flags: "readonly",
            arity: 2,
            keys: Keys::One(1),
            key_flags: RO,
            acl: "read",
            summary: "Returns the cached character list, nil on a miss",
            complexity: "O(N) where N is the size of the list",
        },
        Command {
            name: "lobby.delcache",
            handler: handler!(lobby::lobby_delcache, without_json),
            flags: "write fast",
            arity: 2,
            keys: Keys::One(1),
            key_flags: REMOVE,
            acl: "write fast",
            summary: "Invalidates the cached character list",
            complexity: "O(1)",
        },
        Command {
            name: "account.schema",
            handler: handler!(schema::account_schema, without_json),
            flags: "admin deny-script",
            arity: -2,
            keys: Keys::None,
            key_flags: KeySpecFlags::empty(),
            acl: "admin slow dangerous",
            summary: "Shows the schema in force and its hash (GET), or puts a new one in force, all or nothing (SET)",
            complexity: "O(N) where N is the size of the schema",
        },
        Command {
            name: "account.check",
            handler: handler!(schema::account_check),
            flags: "readonly admin",
            arity: -2,
            keys: Keys::None,
            key_flags: KeySpecFlags::empty(),
            acl: "admin slow dangerous",
            summary: "Reports which stored documents break the schema in force, and the first reason for each, a SCAN step at a time",
            complexity: "O(N) for each call, N the documents the step visits times their size",
        },
    ]
}

/// (command name, calls) for INFO account.
pub fn call_counts() -> Vec<(&'static str, u64)> {
    table()
        .into_iter()
        .map(|c| (c.name, c.handler.1.load(Relaxed)))
        .collect()
}

/// Registers every command with its key specs and docs, and with ACL categories where the
/// server has them (7.2+; the module's own category `account` from 7.4, for every command but
/// the administration ones).
pub(crate) fn register(ctx: Ctx) -> std::result::Result<(), String> {
    // SAFETY: called from the module's OnLoad with its context (the only place
    // RM_AddACLCategory may be called), the API pointers set by RedisModule_Init; the name is a
    // NUL-terminated literal.
    let module_category = unsafe {
        match raw::RedisModule_AddACLCategory {
            Some(add) => add(ctx, c"account".as_ptr()) == raw::REDISMODULE_OK as c_int,
            None => false,
        }
    };
    for c in table() {
        c.handler.2.set(&c);
        let name = CString::new(c.name).unwrap();
        let flags = CString::new(c.flags).unwrap();
        let (first, last) = match c.keys {
            Keys::None => (0, 0),
            Keys::One(p) => (p, p),
            Keys::Movable(p) => (p, -1),
            Keys::AccountThenStream(a, b) => (a, b),
        };
        // SAFETY: OnLoad context; name and flags are NUL-terminated and outlive the call (Redis
        // copies them); the handler is an extern "C" fn of the expected signature.
        let ok = unsafe {
            raw::RedisModule_CreateCommand.unwrap()(
                ctx,
                name.as_ptr(),
                Some(c.handler.0),
                flags.as_ptr(),
                first,
                last,
                (first > 0) as c_int,
            )
        };
        if ok != raw::REDISMODULE_OK as c_int {
            return Err(format!("cannot create command {}", c.name));
        }
        // SAFETY: the command was just created by this module; name is NUL-terminated.
        let cmd = unsafe { raw::RedisModule_GetCommand.unwrap()(ctx, name.as_ptr()) };
        if cmd.is_null() {
            return Err(format!("cannot find command {}", c.name));
        }
        set_info(cmd, &c)?;
        // SAFETY: reads a function pointer that RedisModule_Init set (None on servers without it).
        if let Some(set_acl) = unsafe { raw::RedisModule_SetCommandACLCategories } {
            // The administration commands (`@admin`: ACCOUNT.SCHEMA, ACCOUNT.CHECK) stay out of
            // `@account`, the category an application's user is granted (README).
            let cats = if module_category && !c.is_admin() {
                format!("{} account", c.acl)
            } else {
                c.acl.to_string()
            };
            let cats = CString::new(cats).unwrap();
            // SAFETY: cmd is this module's command, cats a NUL-terminated string alive for the call.
            if unsafe { set_acl(cmd, cats.as_ptr()) } != raw::REDISMODULE_OK as c_int {
                return Err(format!("cannot set ACL categories of {}", c.name));
            }
        }
    }
    if crate::redis::fault::enabled() {
        register_testfault(ctx)?;
    }
    Ok(())
}

/// ACCOUNT.TESTFAULT n (tests only: registered only under the load argument
/// `unsafe-test-faults yes`, see `redis/fault.rs`): arms a failure of the n-th inner call of
/// the next module command; answers `[calls, fired]` of the module command before it.
fn testfault(_ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() != 2 {
        return Err(Error::WrongArity);
    }
    let n = args[1]
        .text()?
        .parse::<u32>()
        .map_err(|_| Error::BadNumber("n must be an unsigned integer".into()))?;
    let (calls, fired) = crate::redis::fault::arm(n);
    Ok(Reply::Array(vec![
        Reply::Int(calls.into()),
        Reply::Int(fired.into()),
    ]))
}

fn register_testfault(ctx: Ctx) -> std::result::Result<(), String> {
    let h = handler!(testfault, without_json);
    // SAFETY: OnLoad context; the name and flags are NUL-terminated literals (Redis copies
    // them); the handler is an extern "C" fn of the expected signature.
    let ok = unsafe {
        raw::RedisModule_CreateCommand.unwrap()(
            ctx,
            c"account.testfault".as_ptr(),
            Some(h.0),
            c"fast".as_ptr(),
            0,
            0,
            0,
        )
    };
    if ok != raw::REDISMODULE_OK as c_int {
        return Err("cannot create command account.testfault".into());
    }
    Ok(())
}

fn set_info(cmd: *mut raw::RedisModuleCommand, c: &Command) -> std::result::Result<(), String> {
    // SAFETY: reads a function pointer that RedisModule_Init set (None on servers before 7.0).
    let Some(set_info) = (unsafe { raw::RedisModule_SetCommandInfo }) else {
        return Ok(());
    };
    let version = raw::RedisModuleCommandInfoVersion {
        version: 1,
        sizeof_historyentry: std::mem::size_of::<raw::RedisModuleCommandHistoryEntry>(),
        sizeof_keyspec: std::mem::size_of::<raw::RedisModuleCommandKeySpec>(),
        sizeof_arg: std::mem::size_of::<raw::RedisModuleCommandArg>(),
    };
    let spec = |p: i32, flags: u32| {
        KeySpec::new(
            None,
            KeySpecFlags::from_bits_truncate(flags),
            BeginSearch::new_index(p),
            FindKeys::new_range(0, 1, 0),
        )
    };
    let (begin, find, flags) = match c.keys {
        Keys::None => {
            let specs = redis_module::commands::get_redis_key_spec(Vec::new());
            return set_info_with(set_info, cmd, c, &version, &specs);
        }
        Keys::AccountThenStream(a, b) => {
            let append = KeySpecFlags::READ_WRITE.bits() | KeySpecFlags::INSERT.bits();
            let specs = redis_module::commands::get_redis_key_spec(vec![
                spec(a, c.key_flags.bits()),
                spec(b, append),
            ]);
            return set_info_with(set_info, cmd, c, &version, &specs);
        }
        Keys::One(p) => (
            BeginSearch::new_index(p),
            FindKeys::new_range(0, 1, 0),
            c.key_flags.bits(),
        ),
        // An incomplete spec makes Redis ask the command itself (getkeys-api).
        Keys::Movable(p) => (
            BeginSearch::new_index(p),
            FindKeys::new_range(-1, 1, 0),
            c.key_flags.bits() | KeySpecFlags::INCOMPLETE.bits(),
        ),
    };
    let specs = redis_module::commands::get_redis_key_spec(vec![KeySpec::new(
        None,
        KeySpecFlags::from_bits_truncate(flags),
        begin,
        find,
    )]);
    set_info_with(set_info, cmd, c, &version, &specs)
}

type SetInfo =
    unsafe extern "C" fn(*mut raw::RedisModuleCommand, *const raw::RedisModuleCommandInfo) -> c_int;

fn set_info_with(
    set_info: SetInfo,
    cmd: *mut raw::RedisModuleCommand,
    c: &Command,
    version: &raw::RedisModuleCommandInfoVersion,
    specs: &[raw::RedisModuleCommandKeySpec],
) -> std::result::Result<(), String> {
    let summary = CString::new(c.summary).unwrap();
    let complexity = CString::new(c.complexity).unwrap();
    let since = CString::new(crate::version::FIRST).unwrap();
    // Alive until set_info has copied them.
    let mut args = args::CArgs::new(&args::documented(c.name, c.takes_request_id()));
    let info = raw::RedisModuleCommandInfo {
        version,
        summary: summary.as_ptr(),
        complexity: complexity.as_ptr(),
        since: since.as_ptr(),
        history: std::ptr::null_mut(),
        tips: std::ptr::null(),
        arity: c.registered_arity(),
        key_specs: specs.as_ptr() as *mut raw::RedisModuleCommandKeySpec,
        args: args.as_ptr(),
    };
    // SAFETY: every pointer in `info` (strings, key specs, argument specs and their sub-arrays,
    // each array ending with its zeroed entry) stays alive until this call returns, and Redis
    // copies what it keeps; `version` gives the sizes of the structs as this crate lays them out.
    if unsafe { set_info(cmd, &info) } != raw::REDISMODULE_OK as c_int {
        return Err(format!("cannot set command info of {}", c.name));
    }
    Ok(())
}
