//! Request ids (`IDMP <request-id>` at the end of every write command): the first call applies
//! and records its reply, a later call with the same id on the same key answers that reply and
//! applies nothing; the record is replicated, survives kill -9 with AOF and a failover, expires
//! with its window, and is capped. On every server of tests/servers.tsv.

mod common;
use common::*;
use std::time::Duration;

const DOC: &str = r#"{"stats":{"hp":{"cur":100,"max":100,"regen":0},"mp":{"cur":50,"max":50,"regen":0}},"metrics":{"arena_wins":3}}"#;

fn doc(c: &mut redis::Connection, key: &str) -> String {
    q(c, &["JSON.GET", key])
}

fn dump(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    q(c, &["DUMP", key])
}

/// Runs `call` with `IDMP id` appended, as a raw value (a reply or an error).
fn with_id(c: &mut redis::Connection, call: &[&str], id: &str) -> redis::RedisResult<redis::Value> {
    let mut cmd = redis::cmd(call[0]);
    for a in &call[1..] {
        cmd.arg(*a);
    }
    cmd.arg("IDMP").arg(id);
    cmd.query(c)
}

fn shown(r: &redis::RedisResult<redis::Value>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error {}", err_text(e)),
    }
}

#[test]
fn the_same_request_id_applies_once_and_answers_the_same() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        let first = with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r1");
        assert_eq!(shown(&first), "array([int(90), int(10)])", "{:?}", s.flavor);
        let after_first = doc(&mut c, "ac:1");
        let again = with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r1");
        assert_eq!(shown(&again), shown(&first), "{:?}", s.flavor);
        assert_eq!(
            doc(&mut c, "ac:1"),
            after_first,
            "the retry applied nothing"
        );
        // Another id applies; the same id on another key is another request.
        let other = with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r2");
        assert_eq!(shown(&other), "array([int(80), int(10)])");
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:2", DOC]);
        let elsewhere = with_id(
            &mut c,
            &["ACCOUNT.INCR", "ac:2", "metrics.arena_wins", "1"],
            "r1",
        );
        assert_eq!(shown(&elsewhere), "int(4)");
        // Without an id every call applies, as before.
        let r: Vec<i64> = q(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"]);
        assert_eq!(r, vec![70, 10]);
        assert_eq!(info_field(&mut c, "account_request_replays"), "1");
        // The record: a hash in the key's slot, one field per id, expiring with the window.
        let fields: Vec<String> = q(&mut c, &["HKEYS", "{ac:1}:idmp"]);
        assert_eq!(fields.len(), 2, "{fields:?}");
        let ttl: i64 = q(&mut c, &["PTTL", "{ac:1}:idmp"]);
        assert!(
            ttl > 125_000 && ttl <= 135_000,
            "window 120 s and an eighth: {ttl}"
        );
    });
}

#[test]
fn a_recorded_refusal_is_answered_again_even_when_the_call_would_now_succeed() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        let refused = with_id(&mut c, &["ACCOUNT.SPEND", "ac:1", "mp", "80"], "buy-1");
        assert_eq!(shown(&refused), "error INSUFFICIENT mp is 50, needs 80");
        q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "mp", "100", "100"]);
        let before = doc(&mut c, "ac:1");
        let again = with_id(&mut c, &["ACCOUNT.SPEND", "ac:1", "mp", "80"], "buy-1");
        assert_eq!(shown(&again), shown(&refused));
        assert_eq!(doc(&mut c, "ac:1"), before);
        // A missing account is an answer too.
        let none = with_id(&mut c, &["ACCOUNT.HEAL", "ac:9", "5"], "h");
        assert_eq!(shown(&none), "error NOACCOUNT no such account");
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:9", DOC]);
        let still = with_id(&mut c, &["ACCOUNT.HEAL", "ac:9", "5"], "h");
        assert_eq!(shown(&still), shown(&none));
    });
}

/// Every write command, called twice with one id: one reply, one change.
#[test]
fn every_write_command_takes_a_request_id() {
    let calls: &[&[&str]] = &[
        &["ACCOUNT.CREATE", "ac:1", DOC],
        &["ACCOUNT.SET", "ac:1", "bio.name", "\"Aragorn\""],
        &["ACCOUNT.STATE", "ac:1", "combat"],
        &["ACCOUNT.MOVE", "ac:1", "forest"],
        &["ACCOUNT.SESSION", "ac:1", "combat", "c-1"],
        &["ACCOUNT.SETSTAT", "ac:1", "hp", "40"],
        &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "2"],
        &["ACCOUNT.LINK", "combat", "c-2", "ac:1"],
        &["ACCOUNT.UNLINK", "combat", "ac:1"],
        &["ACCOUNT.DAMAGE", "ac:1", "5"],
        &["ACCOUNT.HEAL", "ac:1", "3"],
        &["ACCOUNT.SPEND", "ac:1", "mp", "7"],
        &["ACCOUNT.APPLY", "ac:1", "hp", "-1", "mp", "2"],
        &["ACCOUNT.REGEN", "ac:1"],
        &[
            "LOBBY.SETCACHE",
            "lobby:user:1",
            r#"[{"character_id":1,"user_id":1,"name":"A"}]"#,
        ],
        &["LOBBY.DELCACHE", "lobby:user:1"],
        &["ACCOUNT.LOGOUT", "ac:1", "logouts"],
        &["ACCOUNT.CREATE", "ac:1", DOC],
        &["ACCOUNT.DEL", "ac:1"],
    ];
    for_each_server(|s| {
        let mut c = s.conn();
        for (i, call) in calls.iter().enumerate() {
            let id = format!("req-{i}");
            let first = with_id(&mut c, call, &id);
            assert!(first.is_ok(), "{:?} {call:?}: {}", s.flavor, shown(&first));
            let key = call
                .iter()
                .find(|a| a.starts_with("ac:") || a.starts_with("lobby:"))
                .unwrap();
            let (state, stream) = (dump(&mut c, key), q::<i64>(&mut c, &["XLEN", "logouts"]));
            let again = with_id(&mut c, call, &id);
            assert_eq!(shown(&again), shown(&first), "{:?} {call:?}", s.flavor);
            assert_eq!(
                dump(&mut c, key),
                state,
                "{:?} {call:?} applied twice",
                s.flavor
            );
            assert_eq!(q::<i64>(&mut c, &["XLEN", "logouts"]), stream, "{call:?}");
        }
    });
}

#[test]
fn a_bad_request_id_or_record_changes_nothing() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        let before = doc(&mut c, "ac:1");
        let long = "x".repeat(65);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], &long)),
            "error SYNTAX the request id must be 1 to 64 bytes"
        );
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "")),
            "error SYNTAX the request id must be 1 to 64 bytes"
        );
        // The record's key holding another type: WRONGTYPE before anything is applied.
        q::<String>(&mut c, &["SET", "{ac:1}:idmp", "x"]);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r")),
            "error WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        // A record this module did not write is never taken for a reply.
        q::<i64>(&mut c, &["DEL", "{ac:1}:idmp"]);
        q::<i64>(&mut c, &["HSET", "{ac:1}:idmp", "r", "99999999999999:*7;"]);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r")),
            "error CORRUPT stored document: the record of this request id in {ac:1}:idmp is unreadable"
        );
        assert_eq!(doc(&mut c, "ac:1"), before);
        // The id goes last; arities still hold around it.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.DEL", "ac:1", "extra", "IDMP", "r"]),
            "ERR wrong number of arguments for 'account.del' command"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.DEL", "ac:1", "extra"]),
            "ERR wrong number of arguments for 'account.del' command"
        );
        // The variadic-key commands do not count the id as keys.
        let keys: Vec<String> = q(
            &mut c,
            &[
                "COMMAND",
                "GETKEYS",
                "ACCOUNT.LINK",
                "combat",
                "c",
                "ac:1",
                "ac:2",
                "IDMP",
                "r",
            ],
        );
        assert_eq!(keys, vec!["ac:1", "ac:2"]);
        let keys: Vec<String> = q(
            &mut c,
            &[
                "COMMAND",
                "GETKEYS",
                "ACCOUNT.UNLINK",
                "combat",
                "ac:1",
                "IDMP",
                "r",
            ],
        );
        assert_eq!(keys, vec!["ac:1"]);
    });
}

#[test]
fn the_window_ends_and_then_the_id_applies_again() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        q::<String>(&mut c, &["CONFIG", "SET", "account.request-window", "1"]);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r")),
            "array([int(90), int(10)])"
        );
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r")),
            "array([int(90), int(10)])"
        );
        std::thread::sleep(Duration::from_millis(1300));
        // The window is over: the record is gone (nothing is kept), the id applies again.
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "{ac:1}:idmp"]), 0);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r")),
            "array([int(80), int(10)])"
        );
        // Window 0: ids are accepted, nothing is recorded, every call applies.
        q::<String>(&mut c, &["CONFIG", "SET", "account.request-window", "0"]);
        q::<i64>(&mut c, &["DEL", "{ac:1}:idmp"]);
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "z")),
            "array([int(70), int(10)])"
        );
        assert_eq!(
            shown(&with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "z")),
            "array([int(60), int(10)])"
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "{ac:1}:idmp"]), 0);
    });
}

#[test]
fn at_most_32_ids_are_kept_per_key_the_oldest_go_first() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        for i in 0..150 {
            with_id(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"],
                &format!("i{i}"),
            )
            .unwrap();
        }
        // At 32 ids a write first drops the oldest 8: the 33rd leaves 25, the 41st 25, ...,
        // the 145th 25 and the 150th 30.
        let n: i64 = q(&mut c, &["HLEN", "{ac:1}:idmp"]);
        assert_eq!(n, 30, "{:?}", s.flavor);
        // The newest are kept (a retry comes soon after its call), the oldest went.
        assert_eq!(q::<i64>(&mut c, &["HEXISTS", "{ac:1}:idmp", "i149"]), 1);
        assert_eq!(q::<i64>(&mut c, &["HEXISTS", "{ac:1}:idmp", "i0"]), 0);
        let wins: i64 = q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "metrics.arena_wins"])
            .parse()
            .unwrap();
        assert_eq!(wins, 153);
    });
}

/// A replica (with the module or without it) holds the record; promoted, it answers a retry
/// from it. After kill -9 with `appendfsync always` the record is back with the data.
#[test]
fn the_record_is_replicated_and_survives_kill_9_and_a_failover() {
    for flavor in FLAVORS {
        for with_module in [true, false] {
            let primary = Server::start(flavor);
            let replica = Server::start_with(
                flavor,
                Options {
                    with_module,
                    ..Default::default()
                },
            );
            attach(&replica, &primary);
            let mut p = primary.conn();
            q::<String>(&mut p, &["ACCOUNT.CREATE", "ac:1", DOC]);
            let first = with_id(&mut p, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r1");
            q::<i64>(&mut p, &["WAIT", "1", "5000"]);
            let mut r = replica.conn();
            assert_eq!(
                q::<String>(&mut r, &["JSON.GET", "ac:1"]),
                doc(&mut p, "ac:1")
            );
            let rec: Vec<String> = q(&mut r, &["HKEYS", "{ac:1}:idmp"]);
            assert_eq!(rec, vec!["r1"], "{flavor:?} module {with_module}");
            assert!(q::<i64>(&mut r, &["PTTL", "{ac:1}:idmp"]) > 0);
            if with_module {
                drop(primary);
                q::<String>(&mut r, &["REPLICAOF", "NO", "ONE"]);
                let again = with_id(&mut r, &["ACCOUNT.DAMAGE", "ac:1", "10"], "r1");
                assert_eq!(
                    shown(&again),
                    shown(&first),
                    "{flavor:?}: the promoted replica replays"
                );
                assert_eq!(json_get(&mut r, "ac:1").unwrap()["stats"]["hp"]["cur"], 90);
            }
        }
        let s = Server::start_with(flavor, Options::aof());
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        let first = with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "k1");
        let dir = s.kill9();
        let s = Server::start_in(flavor, dir, Options::aof());
        let mut c = s.conn();
        let again = with_id(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "10"], "k1");
        assert_eq!(shown(&again), shown(&first), "{flavor:?}: after kill -9");
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["stats"]["hp"]["cur"], 90);
    }
}

/// Two connections send the same id at once: one applies, the other gets its reply.
#[test]
fn two_concurrent_calls_with_one_id_apply_once() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", DOC]);
        let port = s.port;
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                        .unwrap()
                        .get_connection()
                        .unwrap();
                    shown(&with_id(
                        &mut c,
                        &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "10"],
                        "same",
                    ))
                })
            })
            .collect();
        let replies: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(replies.iter().all(|r| r == "int(13)"), "{replies:?}");
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "metrics.arena_wins"]),
            "13"
        );
    });
}
