//! Counters for `INFO account` (module INFO section `account_stats`). Commands run on the main
//! thread; relaxed atomics are enough.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Every error code a command can answer with, in docs order.
pub const CODES: [&str; 17] = [
    "ERR",
    "WRONGTYPE",
    "NOACCOUNT",
    "INVALIDJSON",
    "SCHEMA",
    "CORRUPT",
    "NOPATH",
    "LOBBY",
    "BADNUMBER",
    "LIMIT",
    "SYNTAX",
    "INSUFFICIENT",
    "STATECONFLICT",
    "OVERFLOW",
    "REDIS",
    "INTERNAL",
    "NOJSON",
];

pub static REJECTED: [AtomicU64; 17] = [const { AtomicU64::new(0) }; 17];
/// Changes that clamping cut short (overkill, a heal capped at max, a clamped SETSTAT / APPLY).
pub static CLAMPS: AtomicU64 = AtomicU64::new(0);
/// Vitals whose `cur` regeneration changed, in writes.
pub static REGENS: AtomicU64 = AtomicU64::new(0);
/// Writes that broke the schema and went on (`account.validation-action warn`).
pub static SCHEMA_WARNINGS: AtomicU64 = AtomicU64::new(0);
/// Documents handed off by ACCOUNT.LOGOUT.
pub static LOGOUTS: AtomicU64 = AtomicU64::new(0);
/// Calls answered from their request id's record, without running (`IDMP`).
pub static REPLAYED: AtomicU64 = AtomicU64::new(0);

pub fn rejected(code: &str) {
    if let Some(i) = CODES.iter().position(|c| *c == code) {
        REJECTED[i].fetch_add(1, Relaxed);
    }
}

pub fn add(counter: &AtomicU64, n: u64) {
    if n > 0 {
        counter.fetch_add(n, Relaxed);
    }
}

pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Relaxed)
}
