//! The Redis glue: the module API (`rm`), RedisJSON's shared API (`rejson`), the one layer
//! that reads and writes keys (`store`), configuration (`config`), `INFO account` counters
//! (`stats`), test-only fault injection (`fault`) and the module's entry point (`entry`).

pub mod config;
pub(crate) mod fault;
pub(crate) mod idmp;
pub(crate) mod rejson;
pub(crate) mod rm;
pub mod stats;
pub(crate) mod store;

#[cfg(all(feature = "module", not(test)))]
mod entry;
