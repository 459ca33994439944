//! Session lifecycle: exact lazy regeneration, idle expiry, logout handoff to a stream, INFO
//! counters and keyspace events, on both servers.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The server's clock, unix seconds.
fn server_now(c: &mut redis::Connection) -> f64 {
    let t: Vec<i64> = q(c, &["TIME"]);
    t[0] as f64 + t[1] as f64 / 1e6
}

/// Creates ac:1 with hp `{cur, max 100, regen, since = server now - ago}` (mp, stamina full).
/// Whole seconds: the module's clock has millisecond resolution.
fn with_hp(c: &mut redis::Connection, key: &str, cur: i64, regen: f64, ago: f64) {
    let since = server_now(c).floor() - ago;
    let doc = json!({"stats": {"hp": {"cur": cur, "max": 100, "regen": regen, "since": since}}});
    q::<String>(c, &["ACCOUNT.CREATE", key, &doc.to_string()]);
}

fn hp(c: &mut redis::Connection, key: &str) -> Value {
    json_get(c, key).unwrap()["stats"]["hp"].clone()
}

#[test]
fn reads_show_regenerated_vitals_without_writing() {
    for_each_server(|s| {
        let mut c = s.conn();
        with_hp(&mut c, "ac:1", 10, 0.5, 10.0);
        let stored: String = q(&mut c, &["JSON.GET", "ac:1"]);
        let live: Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats"])).unwrap();
        assert_eq!(live["hp"]["cur"], 15, "10 + floor(0.5 * 10 s)");
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats.hp.cur"]),
            "15"
        );
        let whole: Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1"])).unwrap();
        assert_eq!(whole["stats"]["hp"]["cur"], 15);
        let many: Vec<String> = q(&mut c, &["ACCOUNT.MGET", "PATH", "stats.hp.cur", "ac:1"]);
        assert_eq!(many, vec!["15"]);
        assert_eq!(
            q::<String>(&mut c, &["JSON.GET", "ac:1"]),
            stored,
            "reads are read-only"
        );
    });
}

#[test]
fn writes_regenerate_first_and_keep_the_fraction() {
    for_each_server(|s| {
        let mut c = s.conn();
        // 3 s at 0.5/s: 1.5 units. One is gained, half a unit (1 s) is carried in `since`.
        with_hp(&mut c, "ac:1", 10, 0.5, 3.0);
        let t0 = server_now(&mut c).floor() - 3.0;
        let r: Vec<i64> = q(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "4"]);
        assert_eq!(r, vec![7, 4], "10 + 1 regenerated - 4");
        let after = hp(&mut c, "ac:1");
        let since = after["since"].as_f64().unwrap();
        assert!(
            (since - (t0 + 2.0)).abs() < 0.5,
            "the clock moved by the 2 s the unit took, not to now: {since} vs {}",
            t0 + 2.0
        );
        // REGEN writes the up-to-date vitals and stats.last_update.
        let stats: Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.REGEN", "ac:1"])).unwrap();
        assert_eq!(stats["hp"]["cur"], 7);
        assert!(stats["last_update"].as_f64().unwrap() > t0);
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["stats"], stats);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.REGEN", "ac:404"]),
            "NOACCOUNT no such account"
        );
    });
}

#[test]
fn full_vitals_do_not_bank_time_and_poison_stops_at_zero() {
    for_each_server(|s| {
        let mut c = s.conn();
        // Full for an hour: damage now starts the clock now; nothing banked from the hour.
        with_hp(&mut c, "ac:1", 100, 1.0, 3600.0);
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "50"]),
            vec![50, 50]
        );
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats.hp.cur"]),
            "50"
        );
        // Poison: -2/s for 100 s drains 10 to 0 and no further.
        with_hp(&mut c, "ac:2", 10, -2.0, 100.0);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:2", "stats.hp.cur"]),
            "0"
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.HEAL", "ac:2", "5"]),
            vec![5, 5]
        );
        // A clock in the future (clock went backwards): no elapsed time, nothing lost.
        with_hp(&mut c, "ac:3", 10, 1.0, -1000.0);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:3", "stats.hp.cur"]),
            "10"
        );
    });
}

/// The replica and the AOF receive the resulting values, never the time-dependent command: a
/// replay much later gives the same documents.
#[test]
fn replicas_and_late_aof_replays_match_the_primary() {
    for flavor in FLAVORS {
        let primary = Server::start_with(flavor, Options::aof());
        let replica = Server::start(flavor);
        attach(&replica, &primary);
        let mut r = replica.conn();
        let mut p = primary.conn();
        for i in 0..20 {
            let k = format!("ac:{i}");
            with_hp(&mut p, &k, i, 3.0 + i as f64, 5.0);
            q::<Vec<i64>>(&mut p, &["ACCOUNT.DAMAGE", &k, "1"]);
            q::<redis::Value>(&mut p, &["ACCOUNT.APPLY", &k, "mp", "-3", "hp", "2"]);
            q::<String>(&mut p, &["ACCOUNT.REGEN", &k]);
        }
        assert_eq!(q::<i64>(&mut p, &["WAIT", "1", "5000"]), 1);
        let docs = |c: &mut redis::Connection| {
            (0..20)
                .map(|i| q::<String>(c, &["JSON.GET", &format!("ac:{i}")]))
                .collect::<Vec<_>>()
        };
        let on_primary = docs(&mut p);
        assert_eq!(docs(&mut r), on_primary, "{flavor:?} replica");
        // Replay the AOF more than a second later: regeneration would have moved on.
        std::thread::sleep(Duration::from_millis(1100));
        let dir = primary.kill9();
        let again = Server::start_in(flavor, dir, Options::aof());
        assert_eq!(
            docs(&mut again.conn()),
            on_primary,
            "{flavor:?} AOF replayed later"
        );
    }
}

#[test]
fn idle_ttl_is_refreshed_by_every_write() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", "ac:1"]), -1, "off by default");
        q::<String>(&mut c, &["CONFIG", "SET", "account.idle-ttl", "86400"]);
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.idle-ttl"]),
            vec!["account.idle-ttl", "86400"]
        );
        let writes: &[&[&str]] = &[
            &["ACCOUNT.CREATE", "ac:1"],
            &["ACCOUNT.SET", "ac:1", "bio.name", "\"x\""],
            &["ACCOUNT.STATE", "ac:1", "combat"],
            &["ACCOUNT.MOVE", "ac:1", "castle"],
            &["ACCOUNT.SESSION", "ac:1", "combat", "c1"],
            &["ACCOUNT.SETSTAT", "ac:1", "hp", "50"],
            &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"],
            &["ACCOUNT.DAMAGE", "ac:1", "1"],
            &["ACCOUNT.HEAL", "ac:1", "1"],
            &["ACCOUNT.SPEND", "ac:1", "mp", "1"],
            &["ACCOUNT.APPLY", "ac:1", "hp", "-1"],
            &["ACCOUNT.REGEN", "ac:1"],
            &["ACCOUNT.LINK", "combat", "c2", "ac:1"],
            &["ACCOUNT.UNLINK", "combat", "ac:1"],
        ];
        for w in writes {
            q::<String>(&mut c, &["PERSIST", "ac:1"]).to_string();
            q::<redis::Value>(&mut c, w);
            let ttl: i64 = q(&mut c, &["TTL", "ac:1"]);
            assert!((86300..=86400).contains(&ttl), "{w:?}: TTL {ttl}");
        }
        // Reads do not refresh it.
        q::<i64>(&mut c, &["PERSIST", "ac:1"]);
        q::<String>(&mut c, &["ACCOUNT.GET", "ac:1"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", "ac:1"]), -1);
        // The lobby TTL is a configuration too.
        q::<String>(&mut c, &["CONFIG", "SET", "account.lobby-ttl", "30"]);
        q::<String>(&mut c, &["LOBBY.SETCACHE", "lobby:user:1", "[]"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", "lobby:user:1"]), 30);
        assert!(
            expect_err(&mut c, &["CONFIG", "SET", "account.idle-ttl", "-1"]).starts_with("ERR")
        );
    });
}

#[test]
fn idle_ttl_as_a_load_argument() {
    for flavor in FLAVORS {
        // Module arguments after the path: name value pairs.
        let path = module().to_str().unwrap().to_string();
        let extra = ["--loadmodule", &path, "idle-ttl", "600", "lobby-ttl", "120"]
            .map(String::from)
            .to_vec();
        let s = Server::start_with(
            flavor,
            Options {
                extra,
                with_module: false,
                ..Default::default()
            },
        );
        let mut c = s.conn();
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.lobby-ttl"])[1],
            "120"
        );
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.idle-ttl"])[1],
            "600"
        );
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        assert!(q::<i64>(&mut c, &["TTL", "ac:1"]) > 500);
    }
}

#[test]
fn logout_hands_the_session_to_a_stream_atomically() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(
            &mut c,
            &["XGROUP", "CREATE", "{s1}logouts", "savers", "$", "MKSTREAM"],
        );
        with_hp(&mut c, "{s1}ac:42", 10, 0.5, 10.0);
        let id: String = q(&mut c, &["ACCOUNT.LOGOUT", "{s1}ac:42", "{s1}logouts"]);
        assert!(id.contains('-'), "{id}");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "{s1}ac:42"]), 0);
        // A worker reads it with the consumer group, saves it, acknowledges it.
        let read: redis::Value = q(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "savers",
                "w1",
                "COUNT",
                "10",
                "STREAMS",
                "{s1}logouts",
                ">",
            ],
        );
        let text = format!("{read:?}");
        assert!(text.contains("{s1}ac:42"), "{text}");
        let entries: Vec<(String, Vec<(String, String)>)> = {
            let v: redis::Value = q(&mut c, &["XRANGE", "{s1}logouts", "-", "+"]);
            let redis::Value::Array(items) = v else {
                panic!()
            };
            items
                .into_iter()
                .map(|e| {
                    let (id, fields): (String, Vec<String>) = redis::from_redis_value(&e).unwrap();
                    (
                        id,
                        fields
                            .chunks(2)
                            .map(|p| (p[0].clone(), p[1].clone()))
                            .collect(),
                    )
                })
                .collect()
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, id);
        let f = &entries[0].1;
        assert_eq!(f[0], ("key".into(), "{s1}ac:42".into()));
        assert_eq!(f[1].0, "ts");
        let doc: Value = serde_json::from_str(&f[2].1).unwrap();
        assert_eq!(f[2].0, "doc");
        assert_eq!(
            doc["stats"]["hp"]["cur"], 15,
            "handed off with the vitals up to date"
        );
        assert_eq!(q::<i64>(&mut c, &["XACK", "{s1}logouts", "savers", &id]), 1);
        // Nothing to hand off: nothing appended.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.LOGOUT", "{s1}ac:42", "{s1}logouts"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(q::<i64>(&mut c, &["XLEN", "{s1}logouts"]), 1);
        // A document that breaks the schema is still handed off, as stored: the session is not lost.
        q::<String>(&mut c, &["JSON.SET", "{s1}ac:7", "$", r#"{"state":5}"#]);
        q::<String>(&mut c, &["ACCOUNT.LOGOUT", "{s1}ac:7", "{s1}logouts"]);
        let last: Vec<(String, Vec<(String, String)>)> = q(
            &mut c,
            &["XREVRANGE", "{s1}logouts", "+", "-", "COUNT", "1"],
        );
        let doc: Value = serde_json::from_str(&last[0].1[2].1).unwrap();
        assert_eq!(
            (doc["state"].clone(), doc["stats"]["hp"]["cur"].clone()),
            (json!(5), json!(100))
        );
        // The stream must be a stream.
        q::<String>(&mut c, &["SET", "{s1}str", "x"]);
        q::<String>(&mut c, &["ACCOUNT.CREATE", "{s1}ac:8"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.LOGOUT", "{s1}ac:8", "{s1}str"]),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "{s1}ac:8"]), 1);
        assert_eq!(
            q::<Vec<String>>(
                &mut c,
                &[
                    "COMMAND",
                    "GETKEYS",
                    "ACCOUNT.LOGOUT",
                    "{s1}ac:8",
                    "{s1}logouts"
                ]
            ),
            vec!["{s1}ac:8", "{s1}logouts"]
        );
    });
}

#[test]
fn logout_reaches_the_replica() {
    for flavor in FLAVORS {
        let primary = Server::start(flavor);
        let replica = Server::start(flavor);
        attach(&replica, &primary);
        let mut r = replica.conn();
        let mut p = primary.conn();
        for i in 0..10 {
            q::<String>(&mut p, &["ACCOUNT.CREATE", &format!("ac:{i}")]);
            q::<String>(&mut p, &["ACCOUNT.LOGOUT", &format!("ac:{i}"), "logouts"]);
        }
        assert_eq!(q::<i64>(&mut p, &["WAIT", "1", "5000"]), 1);
        let range = |c: &mut redis::Connection| {
            format!(
                "{:?}",
                q::<redis::Value>(c, &["XRANGE", "logouts", "-", "+"])
            )
        };
        assert_eq!(range(&mut r), range(&mut p), "{flavor:?}");
        assert_eq!(
            q::<i64>(&mut r, &["DBSIZE"]),
            1,
            "{flavor:?}: only the stream is left"
        );
    }
}

#[test]
fn info_account_counts_calls_rejections_clamps_regen_and_logouts() {
    for_each_server(|s| {
        let mut c = s.conn();
        with_hp(&mut c, "ac:1", 10, 0.5, 10.0);
        q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "1000"]);
        let _ = expect_err(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "-1"]);
        let _ = expect_err(&mut c, &["ACCOUNT.DAMAGE", "ac:404", "1"]);
        q::<String>(&mut c, &["ACCOUNT.LOGOUT", "ac:1", "logouts"]);
        let info: String = q(&mut c, &["INFO", "account"]);
        let field = |name: &str| -> i64 {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap_or_else(|| panic!("{name} in {info}"))
                .trim()
                .parse()
                .unwrap()
        };
        assert!(info.contains("# account_stats"), "{info}");
        assert_eq!(field("account_calls_damage"), 3);
        assert_eq!(field("account_calls_logout"), 1);
        assert_eq!(field("account_calls_lobby_setcache"), 0);
        assert_eq!(field("account_rejected_badnumber"), 1);
        assert_eq!(field("account_rejected_noaccount"), 1);
        assert_eq!(field("account_clamps"), 1, "the overkill");
        assert_eq!(field("account_regen_applied"), 1);
        assert_eq!(field("account_logouts"), 1);
    });
}

#[test]
fn keyspace_events_name_the_command_and_announce_deaths() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KA"]);
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        let mut sub = s.conn();
        let mut ps = sub.as_pubsub();
        ps.subscribe("__keyspace@0__:ac:1").unwrap();
        ps.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "30"]);
        q::<String>(&mut c, &["ACCOUNT.STATE", "ac:1", "combat"]);
        q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "500"]);
        let mut events = Vec::new();
        while events.last().map(String::as_str) != Some("account.death") && events.len() < 20 {
            events.push(ps.get_message().unwrap().get_payload::<String>().unwrap());
        }
        let ours: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|e| e.starts_with("account."))
            .collect();
        assert_eq!(
            ours,
            vec![
                "account.damage",
                "account.state",
                "account.damage",
                "account.death"
            ],
            "{events:?}"
        );
        let theirs: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|e| e.starts_with("json."))
            .collect();
        assert_eq!(
            theirs,
            vec!["json.merge", "json.mset", "json.mset", "json.merge"],
            "RedisJSON's own events still come: {events:?}"
        );
    });
}
