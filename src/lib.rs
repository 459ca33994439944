//! redis-account: atomic, validated, server-side commands over game character state kept in
//! RedisJSON documents.
//!
//! Pure domain logic (no Redis): `schema`, `path`, `json`, `lobby`, `error`, `limits`.
//! Redis glue: `rm` (the module API), `store` (the one read/write layer), `commands` (the
//! command table and one file per command family), `entry` (the module's entry point).

// Unit tests and the fuzz build leave out the entry point, so the Redis glue looks unused there.
#![cfg_attr(any(test, not(feature = "module")), allow(dead_code))]

pub mod error;
pub mod json;
pub mod jsonschema;
pub mod limits;
pub mod lobby;
pub mod patch;
pub mod path;
pub mod printed;
pub mod schema;
pub mod text;
pub mod regen;
pub mod vitals;
mod fuzz;

pub(crate) mod commands;
pub mod config;
pub(crate) mod rejson;
pub(crate) mod rm;
pub mod stats;
pub(crate) mod store;

#[cfg(all(feature = "module", not(test)))]
mod entry;
