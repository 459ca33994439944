//! redis-account: atomic, validated, server-side commands over game character state kept in
//! RedisJSON documents.
//!
//! Three layers, in three folders:
//! - `domain/`: pure logic, no Redis: the schema (JSON Schema compile, validation, defaults,
//!   vitals), vitals and regeneration, merge patches, text readers, limits, the error enum.
//! - `redis/`: the glue: module API, RedisJSON's shared API, the store (the one layer that reads
//!   and writes keys), configuration, INFO, the entry point.
//! - `commands/`: the command table and argument specs, the orchestration of the document
//!   writes (`write.rs`), and one thin file per command family that parses arguments, calls the
//!   domain through the store, and replies.
//!
//! The modules are re-exported at the crate root (`crate::vitals`, `crate::store`, ...).

// Unit tests and the fuzz build leave out the entry point, so the Redis glue looks unused there.
#![cfg_attr(any(test, not(feature = "module")), allow(dead_code))]

pub mod domain;
pub mod redis;

#[cfg(test)]
pub(crate) use domain::fuzz;
pub use domain::{
    error, json, jsonschema, limits, live, lobby, patch, path, printed, regen, schema, text,
    version, vitals,
};
pub use redis::{config, stats};
pub(crate) use redis::{rejson, rm, store};

pub(crate) mod commands;
pub mod ops;
