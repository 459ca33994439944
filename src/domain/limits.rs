//! Every size limit the module enforces, in one place (docs/commands.md, "Limits").

/// Largest JSON argument accepted by any command, in bytes, checked before parsing.
pub const MAX_JSON_BYTES: usize = 1 << 20;
/// Deepest nesting of arrays and objects accepted in any JSON argument (the whole document).
pub const MAX_DEPTH: usize = 32;
/// Largest serialized account document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
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
/// Longest request id (`IDMP <request-id>`), in bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 64;
/// Most request ids recorded per key at a time: past it the expired ones, then the oldest, go
/// (down to three quarters). Small, as every write with an id looks its id up in the record.
pub const MAX_REQUEST_IDS: usize = 32;
/// Default `account.request-window`, seconds: how long a request id's reply is kept.
pub const REQUEST_WINDOW_DEFAULT: i64 = 120;

/// A schema, whichever way it is loaded (ACCOUNT.SCHEMA SET, `account.schema`, the `schema`
/// load argument): at most `MAX_JSON_BYTES` of JSON text, at most `MAX_SCHEMA_NODES` schema
/// objects, and at most `MAX_SCHEMA_CHAIN` references and applicators (`$ref`, `allOf`, `anyOf`,
/// `oneOf`, `not`) in a row at one place of a document. Loading is linear in the schema's size.
pub const MAX_SCHEMA_NODES: usize = 20_000;
pub const MAX_SCHEMA_CHAIN: usize = 64;
/// Most values the schema's defaults make when filled in (at load, once).
pub const MAX_SCHEMA_DEFAULT_VALUES: usize = 200_000;
/// A walk of a value against the schema (validation, default filling) goes at most this deep
/// (schema levels, counting each reference) and takes at most this many steps; past them the
/// value is refused (`SCHEMA <place> cannot be checked within ...`), never a crash or a hang.
pub const MAX_WALK_DEPTH: usize = 1024;
pub const MAX_WALK_STEPS: usize = 1_000_000;
