//! The domain: pure Rust on `serde_json::Value` and byte slices, unit-tested without Redis.
//!
//! - `jsonschema`: the JSON Schema compiler and validator; `schema`: the rules in force (the
//!   loaded schema, the validation policy, the vitals it declares); `path`: dotted paths.
//! - `vitals`: the vital set, clamped changes, argument numbers; `regen`: exact lazy
//!   regeneration; `patch`: the merge patch of vital changes; `text`, `printed`: reading stored
//!   JSON text in place (the hot read).
//! - `live`: the whole document as a read shows it (from its text, parsed only when needed).
//! - `json`, `limits`, `lobby`, `error`, `version`.

pub mod error;
pub mod json;
pub mod jsonschema;
pub mod limits;
pub mod live;
pub mod lobby;
pub mod patch;
pub mod path;
pub mod printed;
pub mod regen;
pub mod schema;
pub mod text;
pub mod version;
pub mod vitals;

pub(crate) mod fuzz;
