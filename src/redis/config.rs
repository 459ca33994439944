//! Module configuration: `CONFIG SET account.<name> value`, `redis.conf`, or load arguments
//! (`--loadmodule libredis_account.so lobby-ttl 300`). docs/commands.md, "Configuration".

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// `account.shared-api`: read through RedisJSON's shared C API when its layout is verified for
/// the loaded RedisJSON (2.8.x); `no` always reads through `RM_Call` (JSON.GET).
pub static SHARED_API: AtomicBool = AtomicBool::new(true);
/// `account.lobby-ttl`: the TTL of LOBBY.SETCACHE without EX, seconds.
pub static LOBBY_TTL: AtomicI64 = AtomicI64::new(crate::limits::LOBBY_DEFAULT_TTL);
/// `account.lobby-max`: the most characters a lobby list may hold.
pub static LOBBY_MAX: AtomicI64 = AtomicI64::new(crate::limits::LOBBY_MAX_ENTRIES as i64);

/// `account.idle-ttl`: seconds of inactivity after which an account document expires; every
/// write command refreshes it. 0 = off.
pub static IDLE_TTL: AtomicI64 = AtomicI64::new(0);

/// `account.request-window`: seconds a request id's reply is kept (`IDMP`); 0 = ids are
/// accepted and nothing is recorded.
pub static REQUEST_WINDOW: AtomicI64 = AtomicI64::new(crate::limits::REQUEST_WINDOW_DEFAULT);

pub fn request_window() -> i64 {
    REQUEST_WINDOW.load(Ordering::Relaxed)
}

pub fn idle_ttl() -> i64 {
    IDLE_TTL.load(Ordering::Relaxed)
}

/// `account.json-merge`: write with RedisJSON 2.6's `JSON.MERGE` and `JSON.MSET` when the loaded
/// RedisJSON has them; `no` writes as for a RedisJSON before 2.6, one `JSON.SET` per path.
pub static JSON_MERGE: AtomicBool = AtomicBool::new(true);

pub fn json_merge() -> bool {
    JSON_MERGE.load(Ordering::Relaxed)
}

pub fn shared_api() -> bool {
    SHARED_API.load(Ordering::Relaxed)
}
pub fn lobby_ttl() -> i64 {
    LOBBY_TTL.load(Ordering::Relaxed)
}
pub fn lobby_max() -> usize {
    LOBBY_MAX.load(Ordering::Relaxed) as usize
}

// One module each: the macro imports a trait where it is called.
mod level {
    redis_module::enum_configuration! {
        /// `account.validation-level`: how much of a document a write must leave valid.
        #[allow(non_camel_case_types)]
        #[derive(Debug, PartialEq)]
        pub enum Level {
            strict = 0,
            moderate = 1,
            off = 2,
        }
    }
}
mod action {
    redis_module::enum_configuration! {
        /// `account.validation-action`: what a write that breaks the schema gets.
        #[allow(non_camel_case_types)]
        #[derive(Debug, PartialEq)]
        pub enum Action {
            error = 0,
            warn = 1,
        }
    }
}
pub use action::Action;
pub use level::Level;

/// Default `moderate`: a team moving a live game has documents the game already wrote; they
/// keep working (writes are checked where they change the document), new breakage is refused.
pub static VALIDATION_LEVEL: std::sync::Mutex<Level> = std::sync::Mutex::new(Level::moderate);
/// Default `error`: a write that breaks the schema is refused, which is the module's purpose;
/// `warn` is for trying a new schema on live traffic first.
pub static VALIDATION_ACTION: std::sync::Mutex<Action> = std::sync::Mutex::new(Action::error);

pub fn validation_level() -> Level {
    VALIDATION_LEVEL
        .lock()
        .map(|l| l.clone())
        .unwrap_or(Level::moderate)
}

pub fn validation_warns() -> bool {
    VALIDATION_ACTION
        .lock()
        .map(|a| *a == Action::warn)
        .unwrap_or(false)
}

/// The validation policy in force, for the pure rules (`schema::Rules::check_write`).
pub fn policy() -> crate::schema::Policy {
    use crate::schema::Level as L;
    let level = match validation_level() {
        Level::strict => L::Strict,
        Level::moderate => L::Moderate,
        Level::off => L::Off,
    };
    crate::schema::Policy {
        level,
        warn: validation_warns(),
    }
}

/// `account.schema`: the path of the schema file in force; empty = the shipped schema. Setting
/// it (load argument, redis.conf, CONFIG SET) compiles the file first: a schema that does not
/// load leaves the one in force and the setting answers why. An inline schema (ACCOUNT.SCHEMA
/// SET) reads as the file it was kept in (`set_inline_file`), so that CONFIG REWRITE writes a
/// config the server starts again from, with the same schema.
pub struct SchemaFile;

/// (hash, path) of the inline schema last kept by ACCOUNT.SCHEMA SET.
static INLINE_FILE: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);

pub fn set_inline_file(hash: &str, path: &str) {
    *INLINE_FILE.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((hash.to_string(), path.to_string()));
}

pub static SCHEMA_FILE: SchemaFile = SchemaFile;

impl redis_module::ConfigurationValue<redis_module::RedisString> for SchemaFile {
    fn get(
        &self,
        _ctx: &redis_module::configuration::ConfigurationContext,
    ) -> redis_module::RedisString {
        let rules = crate::schema::rules();
        let kept = INLINE_FILE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let shown = match (rules.source.as_str(), kept) {
            ("shipped", _) => String::new(),
            ("inline", Some((hash, path))) if hash == rules.schema.hash => path,
            (source, _) => source.to_string(),
        };
        redis_module::RedisString::create(None, shown.as_str())
    }

    fn set(
        &self,
        _ctx: &redis_module::configuration::ConfigurationContext,
        val: redis_module::RedisString,
    ) -> Result<(), redis_module::RedisError> {
        let path = val.to_string_lossy();
        let rules = load_schema_file(&path).map_err(redis_module::RedisError::String)?;
        crate::schema::install(rules);
        Ok(())
    }
}

/// Compiles the schema at `path` (empty: the shipped one).
pub fn load_schema_file(path: &str) -> Result<crate::schema::Rules, String> {
    if path.is_empty() {
        return crate::schema::Rules::new(crate::schema::SHIPPED.as_bytes(), "shipped");
    }
    let text = std::fs::read(path).map_err(|e| format!("SCHEMA cannot read {path}: {e}"))?;
    crate::schema::Rules::new(&text, path).map_err(|e| format!("SCHEMA {path}: {e}"))
}

/// `account.lobby-schema`: the path of the lobby entry schema in force; empty = the shipped
/// `schema/lobby.schema.json`. All or nothing, as `account.schema`.
pub struct LobbySchemaFile;

pub static LOBBY_SCHEMA_FILE: LobbySchemaFile = LobbySchemaFile;

impl redis_module::ConfigurationValue<redis_module::RedisString> for LobbySchemaFile {
    fn get(
        &self,
        _ctx: &redis_module::configuration::ConfigurationContext,
    ) -> redis_module::RedisString {
        let (_, source) = crate::lobby::lobby_schema();
        redis_module::RedisString::create(
            None,
            if source == "shipped" {
                ""
            } else {
                source.as_str()
            },
        )
    }

    fn set(
        &self,
        _ctx: &redis_module::configuration::ConfigurationContext,
        val: redis_module::RedisString,
    ) -> Result<(), redis_module::RedisError> {
        let path = val.to_string_lossy();
        let (text, source) = if path.is_empty() {
            (
                crate::lobby::SHIPPED.as_bytes().to_vec(),
                "shipped".to_string(),
            )
        } else {
            (
                std::fs::read(&path).map_err(|e| {
                    redis_module::RedisError::String(format!("LOBBY cannot read {path}: {e}"))
                })?,
                path.clone(),
            )
        };
        let schema = crate::lobby::compile(&text)
            .map_err(|e| redis_module::RedisError::String(format!("LOBBY {source}: {e}")))?;
        crate::lobby::install(schema, &source);
        Ok(())
    }
}
