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

pub fn idle_ttl() -> i64 {
    IDLE_TTL.load(Ordering::Relaxed)
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
