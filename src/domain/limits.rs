//! Every size limit the module enforces, in one place (docs/commands.md, "Limits").

/// Largest JSON argument accepted by any command, in bytes, checked before parsing.
pub const MAX_JSON_BYTES: usize = 1 << 20;
/// Deepest nesting of arrays and objects accepted in any JSON argument (the whole document).
pub const MAX_DEPTH: usize = 32;
/// Largest serialized account document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Longest string field in the account schema, in bytes (bio.name, location.current, ...).
pub const MAX_STRING_BYTES: usize = 1024;
/// Longest `state` value, in bytes.
pub const MAX_STATE_BYTES: usize = 64;
/// Largest `max` of a vital; keeps every vital exactly representable as a double (< 2^53).
pub const MAX_VITAL: i64 = 1_000_000_000_000_000;
/// Largest absolute regeneration rate, units per second.
pub const MAX_REGEN: f64 = 1e12;
/// Longest dotted path, in bytes, and its most segments.
pub const MAX_PATH_BYTES: usize = 256;
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Default and largest number of entries in a lobby array.
pub const LOBBY_MAX_ENTRIES: usize = 4;
/// Largest lobby array, in bytes.
pub const MAX_LOBBY_BYTES: usize = 64 * 1024;
/// Default TTL of the lobby cache, seconds.
pub const LOBBY_DEFAULT_TTL: i64 = 600;
/// Largest number of keys in one multi-key command.
pub const MAX_KEYS: usize = 1000;
