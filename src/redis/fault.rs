//! Fault injection, for tests only: makes the N-th inner call (`rm::call`) of one command fail
//! as if `RM_Call` had given no reply (the command then answers INTERNAL, and must have changed
//! nothing: tests/faults.rs checks every write path that way).
//!
//! Why a load argument, and not a cargo feature or a configuration: it cannot be turned on by
//! accident, nor by a client. It is honoured only when the module is loaded with the two
//! arguments `unsafe-test-faults yes` (`--loadmodule libredis_account.so unsafe-test-faults
//! yes`): it is no `CONFIG SET` parameter, `CONFIG REWRITE` never writes it, and without it the
//! command that arms a fault (`ACCOUNT.TESTFAULT`) is not even registered; the server logs a
//! warning at load when it is on. Unlike a cargo feature it needs no second build: the tests
//! run against the very `.so` that is shipped, and the cost in production is one relaxed atomic
//! load per inner call.
//!
//! `ACCOUNT.TESTFAULT n` arms the fault for the next module command (any ACCOUNT.* or LOBBY.*
//! command; `n` = 0 arms nothing) and answers `[calls, fired]` of the module command that ran
//! before it: how many inner calls it made, and 1 if its armed call failed. A test (of any
//! command, ACCOUNT.LOGOUT's included) loops over n = 1, 2, ...: arm n, run the command, check
//! the key is unchanged and the reply INTERNAL while `fired` is 1; the first n with `fired` 0
//! ran the command through.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// Set once, at load, by `unsafe-test-faults yes`.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The call to fail in the next command (0: none).
static ARMED: AtomicU32 = AtomicU32::new(0);
/// The call to fail in the running command (0: none).
static ACTIVE: AtomicU32 = AtomicU32::new(0);
/// Inner calls made so far by the running command.
static CALLS: AtomicU32 = AtomicU32::new(0);
static FIRED: AtomicBool = AtomicBool::new(false);
/// `[calls, fired]` of the last command that ended.
static LAST_CALLS: AtomicU32 = AtomicU32::new(0);
static LAST_FIRED: AtomicBool = AtomicBool::new(false);

/// The load argument that enables fault injection.
pub const LOAD_ARGUMENT: &str = "unsafe-test-faults";

pub(crate) fn enable() {
    ENABLED.store(true, Relaxed);
}

pub(crate) fn enabled() -> bool {
    ENABLED.load(Relaxed)
}

/// A module command starts: it takes the armed fault, if any.
pub(crate) fn begin() {
    if !enabled() {
        return;
    }
    ACTIVE.store(ARMED.swap(0, Relaxed), Relaxed);
    CALLS.store(0, Relaxed);
    FIRED.store(false, Relaxed);
}

/// The module command ends: its fault, fired or not, is spent.
pub(crate) fn end() {
    if !enabled() {
        return;
    }
    ACTIVE.store(0, Relaxed);
    LAST_CALLS.store(CALLS.load(Relaxed), Relaxed);
    LAST_FIRED.store(FIRED.load(Relaxed), Relaxed);
}

/// Counts an inner call; true when it is the one to fail.
pub(crate) fn fails_now() -> bool {
    if !enabled() {
        return false;
    }
    let n = CALLS.fetch_add(1, Relaxed) + 1;
    let fire = n == ACTIVE.load(Relaxed);
    if fire {
        FIRED.store(true, Relaxed);
    }
    fire
}

/// ACCOUNT.TESTFAULT n: arms call `n` of the next command; `[calls, fired]` of the last one.
pub(crate) fn arm(n: u32) -> (u32, bool) {
    ARMED.store(n, Relaxed);
    (LAST_CALLS.load(Relaxed), LAST_FIRED.load(Relaxed))
}
