//! All or nothing on every write path, under real faults: the module is loaded with the
//! test-only load argument `unsafe-test-faults yes` (src/redis/fault.rs), and
//! `ACCOUNT.TESTFAULT n` makes the n-th inner call of the next command fail as if `RM_Call` had
//! given no reply. Each write command runs once for every n from 1 until it runs through: each
//! failed run answers INTERNAL and leaves every key it could touch exactly as it was (DUMP and
//! PEXPIRETIME), on the primary and on a replica without the module; the run that goes through
//! is the command's normal reply. That covers every inner write of every path: JSON.MERGE,
//! JSON.MSET, the JSON.SET-per-path fallback (`account.json-merge no`), the root JSON.SET of
//! ACCOUNT.CREATE, SET of LOBBY.SETCACHE, DEL, and PEXPIRE for `account.idle-ttl`, through both
//! read paths (`account.shared-api yes` and `no`).
//!
//! Another test uses the same loop for its command: `arm_and_run` below (ACCOUNT.LOGOUT can be
//! checked the same way, its stream among the keys).

mod common;
use common::*;

const INTERNAL: &str = "INTERNAL the command failed and changed nothing";

/// A server with RedisJSON and the module loaded with `unsafe-test-faults yes`.
fn fault_server(flavor: Flavor) -> Server {
    let path = module().to_str().unwrap().to_string();
    let extra = ["--loadmodule", &path, "unsafe-test-faults", "yes"]
        .map(String::from)
        .to_vec();
    Server::start_with(
        flavor,
        Options {
            extra,
            with_module: false,
            ..Default::default()
        },
    )
}

/// What a failed command must leave as it was: each key's DUMP (as a hash), its absolute
/// expire, and its value as text, to read in a failure.
fn state(c: &mut redis::Connection, keys: &[&str]) -> Vec<(String, u64, i64, String)> {
    use std::hash::{Hash, Hasher};
    keys.iter()
        .map(|k| {
            let dump: Option<Vec<u8>> = q(c, &["DUMP", k]);
            let mut h = std::collections::hash_map::DefaultHasher::new();
            dump.hash(&mut h);
            let text: Option<String> = match q::<String>(c, &["TYPE", k]).as_str() {
                "ReJSON-RL" => q(c, &["JSON.GET", k]),
                "string" => q(c, &["GET", k]),
                _ => None,
            };
            (
                k.to_string(),
                h.finish(),
                q(c, &["PEXPIRETIME", k]),
                text.unwrap_or_default(),
            )
        })
        .collect()
}

/// `[calls, fired]` of the module command before, and arms call `n` of the next one.
fn testfault(c: &mut redis::Connection, n: u32) -> (i64, i64) {
    let v: Vec<i64> = q(c, &["ACCOUNT.TESTFAULT", &n.to_string()]);
    (v[0], v[1])
}

/// Runs `cmd` with call n failing, for n = 1, 2, ... (`setup` before each run): every run where
/// the fault fired answers INTERNAL and leaves `keys` as they were; the first run where it did
/// not is the command's normal run, whose reply is returned with the number of inner calls.
pub fn arm_and_run(
    c: &mut redis::Connection,
    setup: &dyn Fn(&mut redis::Connection),
    cmd: &[&str],
    keys: &[&str],
) -> (redis::Value, i64) {
    for n in 1..100 {
        setup(c);
        let before = state(c, keys);
        testfault(c, n);
        let mut command = redis::cmd(cmd[0]);
        for a in &cmd[1..] {
            command.arg(*a);
        }
        let reply = command.query::<redis::Value>(c);
        let (calls, fired) = testfault(c, 0);
        if fired == 0 {
            assert_eq!(
                calls,
                i64::from(n) - 1,
                "{cmd:?}: call {n} not reached, yet {calls} calls"
            );
            let reply =
                reply.unwrap_or_else(|e| panic!("{cmd:?} without a fault: {}", err_text(&e)));
            return (reply, calls);
        }
        match reply {
            Ok(v) => panic!("{cmd:?}: call {n} of {calls} failed, yet the reply is {v:?}"),
            Err(e) => assert_eq!(err_text(&e), INTERNAL, "{cmd:?}: call {n} of {calls}"),
        }
        assert_eq!(
            state(c, keys),
            before,
            "{cmd:?}: call {n} of {calls} failed and left a change"
        );
    }
    panic!("{cmd:?}: more than 99 inner calls");
}

const DOC: &str = r#"{"bio":{"name":"A"},"stats":{"hp":{"cur":50,"max":100,"regen":0},"mp":{"cur":40,"max":50,"regen":0},"stamina":{"regen":0}}}"#;

/// ac:1 with no TTL and a combat session, ac:2 with a TTL of its own, ac:new absent, a lobby
/// cache with a TTL.
fn setup(c: &mut redis::Connection) {
    q::<i64>(c, &["DEL", "ac:1", "ac:2", "ac:new", "lobby:user:1"]);
    q::<String>(c, &["ACCOUNT.CREATE", "ac:1", DOC]);
    q::<redis::Value>(c, &["ACCOUNT.SESSION", "ac:1", "combat", "c0"]);
    q::<i64>(c, &["PERSIST", "ac:1"]);
    q::<String>(c, &["ACCOUNT.CREATE", "ac:2", DOC]);
    q::<i64>(c, &["PEXPIRE", "ac:2", "86400000"]);
    q::<String>(c, &["SET", "lobby:user:1", "[]", "EX", "500"]);
}

/// Every write command, with what it answers when nothing fails.
fn writes() -> Vec<(Vec<&'static str>, &'static str)> {
    let doc2 = r#"{"bio":{"name":"B"}}"#;
    vec![
        (vec!["ACCOUNT.CREATE", "ac:new", doc2], "OK"),
        (vec!["ACCOUNT.CREATE", "ac:1", doc2], "OK"),
        (vec!["ACCOUNT.CREATE", "ac:2", doc2], "OK"),
        (
            vec![
                "ACCOUNT.SET",
                "ac:1",
                "bio.name",
                r#""X""#,
                "sessions.combat_id",
                r#""c1""#,
            ],
            "OK",
        ),
        (vec!["ACCOUNT.SET", "ac:2", "bio.name", r#""X""#], "OK"),
        (vec!["ACCOUNT.STATE", "ac:1", "combat"], "onboarding"),
        (vec!["ACCOUNT.MOVE", "ac:2", "castle"], "start_village"),
        (vec!["ACCOUNT.SESSION", "ac:1", "combat", "c2"], "c0"),
        (vec!["ACCOUNT.INCR", "ac:2", "metrics.arena_wins", "2"], "2"),
        (vec!["ACCOUNT.DAMAGE", "ac:1", "10"], "[40,10]"),
        (vec!["ACCOUNT.HEAL", "ac:2", "5"], "[55,5]"),
        (vec!["ACCOUNT.HEAL", "ac:2", "5", "stamina"], "[100,0]"),
        (vec!["ACCOUNT.SPEND", "ac:1", "mp", "5"], "[35,5]"),
        (
            vec!["ACCOUNT.APPLY", "ac:2", "hp", "-1", "mp", "2"],
            "[[49,-1],[42,2]]",
        ),
        (vec!["ACCOUNT.REGEN", "ac:1"], "*"),
        (vec!["ACCOUNT.SETSTAT", "ac:1", "hp", "10", "20"], "[10,20]"),
        (vec!["ACCOUNT.LINK", "combat", "c9", "ac:1", "ac:2"], "2"),
        (vec!["ACCOUNT.UNLINK", "combat", "ac:1", "ac:2"], "1"),
        (vec!["ACCOUNT.DEL", "ac:2"], "1"),
        (
            vec![
                "LOBBY.SETCACHE",
                "lobby:user:1",
                r#"[{"character_id":1,"user_id":7,"name":"A"}]"#,
            ],
            "OK",
        ),
        (vec!["LOBBY.DELCACHE", "lobby:user:1"], "1"),
    ]
}

/// A reply in a short form for comparison: "OK", "nil", "7", "[1,2]", or the text.
fn show(v: &redis::Value) -> String {
    use redis::Value as V;
    match v {
        V::Okay => "OK".into(),
        V::Nil => "nil".into(),
        V::Int(i) => i.to_string(),
        V::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        V::SimpleString(s) => s.clone(),
        V::Array(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_failing_inner_call_on_any_write_path_changes_nothing() {
    for flavor in FLAVORS {
        let s = fault_server(flavor);
        assert!(
            s.log().contains("unsafe-test-faults is on"),
            "{flavor:?}: no warning in the log"
        );
        let replica = Server::start_with(
            flavor,
            Options {
                with_module: false,
                ..Default::default()
            },
        );
        attach(&replica, &s);
        let (mut c, mut r) = (s.conn(), replica.conn());
        let keys = ["ac:1", "ac:2", "ac:new", "lobby:user:1"];
        let mut total = 0;
        for (shared, merge, ttl) in [
            ("yes", "yes", "0"),
            ("yes", "yes", "1000"),
            ("yes", "no", "1000"),
            ("no", "no", "1000"),
            ("no", "yes", "1000"),
            ("yes", "no", "0"),
        ] {
            q::<String>(&mut c, &["CONFIG", "SET", "account.shared-api", shared]);
            q::<String>(&mut c, &["CONFIG", "SET", "account.json-merge", merge]);
            q::<String>(&mut c, &["CONFIG", "SET", "account.idle-ttl", ttl]);
            // The first commands learn what RedisJSON has (kept for good): not under a fault.
            setup(&mut c);
            q::<redis::Value>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", r#""W""#]);
            q::<redis::Value>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "1"]);
            let path = if merge == "yes" { "merge" } else { "paths" };
            assert_eq!(info_field(&mut c, "account_write_path"), path, "{flavor:?}");
            for (cmd, want) in writes() {
                let what = format!(
                    "{flavor:?} shared-api {shared}, json-merge {merge}, idle-ttl {ttl}: {cmd:?}"
                );
                let (reply, calls) = arm_and_run(&mut c, &setup, &cmd, &keys);
                let got = show(&reply);
                if want != "*" {
                    assert_eq!(got, want, "{what}");
                }
                total += calls;
                // The replica followed every write and every undo, to the same keys.
                assert_eq!(q::<i64>(&mut c, &["WAIT", "1", "5000"]), 1, "{what}");
                assert_eq!(
                    state(&mut r, &keys),
                    state(&mut c, &keys),
                    "{what}: the replica differs"
                );
            }
        }
        eprintln!("faults {flavor:?}: {total} failing inner calls injected, each changed nothing");
        q::<String>(&mut c, &["CONFIG", "SET", "account.idle-ttl", "0"]);
    }
}

#[test]
fn without_the_load_argument_there_is_no_fault_command() {
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        let e = expect_err(&mut c, &["ACCOUNT.TESTFAULT", "1"]);
        assert!(e.starts_with("ERR unknown command"), "{flavor:?}: {e}");
        // Nor can it be turned on as a configuration.
        assert!(expect_err(
            &mut c,
            &["CONFIG", "SET", "account.unsafe-test-faults", "yes"]
        )
        .starts_with("ERR"));
        assert!(!s.log().contains("unsafe-test-faults"), "{flavor:?}");
    }
}
