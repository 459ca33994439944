//! The probe: every command against keys that are not accounts (every core type, other modules'
//! types, RedisJSON values whose root is not an object) answers its exact error and leaves the
//! key exactly as it was (`DUMP` before and after), on every server.

mod common;
use common::*;
use redis::Value;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_OBJECT: &str = "CORRUPT stored document: the document must be an object";

/// Every account command, with `K` for the probed key and otherwise valid arguments.
const ACCOUNT_COMMANDS: &[&[&str]] = &[
    &["ACCOUNT.CREATE", "K"],
    &["ACCOUNT.CREATE", "K", r#"{"bio":{"name":"x"}}"#],
    &["ACCOUNT.CREATE", "K", "NX"],
    &["ACCOUNT.GET", "K"],
    &["ACCOUNT.GET", "K", "bio"],
    &["ACCOUNT.GET", "K", "bio.name"],
    &["ACCOUNT.GET", "K", "stats"],
    &["ACCOUNT.GET", "K", "stats.hp.cur"],
    &["ACCOUNT.GET", "K", "skills.fire"],
    &["ACCOUNT.EXISTS", "K"],
    &["ACCOUNT.DEL", "K"],
    &["ACCOUNT.SET", "K", "bio.name", r#""x""#],
    &["ACCOUNT.SET", "K", "skills.fire", "1"],
    &["ACCOUNT.STATE", "K", "combat"],
    &["ACCOUNT.STATE", "K", "combat", "FROM", "onboarding"],
    &["ACCOUNT.MOVE", "K", "town"],
    &["ACCOUNT.SESSION", "K", "combat", "c1"],
    &["ACCOUNT.SESSION", "K", "combat", "NONE"],
    &["ACCOUNT.SETSTAT", "K", "hp", "5"],
    &["ACCOUNT.INCR", "K", "metrics.arena_wins", "1"],
    &["ACCOUNT.INCR", "K", "attributes.luck", "1"],
    &["ACCOUNT.LINK", "combat", "c1", "K"],
    &["ACCOUNT.UNLINK", "combat", "K"],
    &["ACCOUNT.DAMAGE", "K", "1"],
    &["ACCOUNT.HEAL", "K", "1", "mp"],
    &["ACCOUNT.SPEND", "K", "mp", "1"],
    &["ACCOUNT.APPLY", "K", "hp", "-1", "stamina", "2"],
    &["ACCOUNT.REGEN", "K"],
    &["ACCOUNT.LOGOUT", "K", "probe:stream"],
];

/// Keys holding something else than an account: (description, commands that make it).
fn foreign_keys(modules: &[&str]) -> Vec<(String, Vec<Vec<String>>, &'static str)> {
    let one = |args: &[&str]| vec![args.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut keys = vec![
        ("string".to_string(), one(&["SET", "K", "hello"]), WRONGTYPE),
        (
            "list".to_string(),
            one(&["RPUSH", "K", "a", "b"]),
            WRONGTYPE,
        ),
        ("set".to_string(), one(&["SADD", "K", "a"]), WRONGTYPE),
        ("zset".to_string(), one(&["ZADD", "K", "1", "a"]), WRONGTYPE),
        ("hash".to_string(), one(&["HSET", "K", "f", "v"]), WRONGTYPE),
        (
            "stream".to_string(),
            one(&["XADD", "K", "1-1", "f", "v"]),
            WRONGTYPE,
        ),
    ];
    for root in [
        "[1,2]",
        r#""text""#,
        "5",
        "1.5",
        "null",
        "true",
        "false",
        "[]",
    ] {
        keys.push((
            format!("JSON root {root}"),
            one(&["JSON.SET", "K", "$", root]),
            NOT_OBJECT,
        ));
    }
    if modules.contains(&"bf") {
        keys.push(("Bloom filter".into(), one(&["BF.ADD", "K", "x"]), WRONGTYPE));
        keys.push((
            "cuckoo filter".into(),
            one(&["CF.ADD", "K", "x"]),
            WRONGTYPE,
        ));
        keys.push((
            "count-min sketch".into(),
            one(&["CMS.INITBYDIM", "K", "10", "5"]),
            WRONGTYPE,
        ));
        keys.push(("top-k".into(), one(&["TOPK.RESERVE", "K", "3"]), WRONGTYPE));
    }
    if modules.contains(&"timeseries") {
        keys.push((
            "time series".into(),
            one(&["TS.ADD", "K", "1000", "1.5"]),
            WRONGTYPE,
        ));
    }
    keys
}

/// Loads RedisBloom and RedisTimeSeries from the Redis Stack wheel at run time where the server
/// takes them; says why where it does not.
fn load_other_modules(s: &Server, c: &mut redis::Connection) -> Vec<&'static str> {
    let mut loaded = Vec::new();
    for (name, file) in [
        ("bf", "redisbloom.so"),
        ("timeseries", "redistimeseries.so"),
    ] {
        let path = root().join(".deps/stack/lib").join(file);
        match redis::cmd("MODULE")
            .arg("LOAD")
            .arg(path.to_str().unwrap())
            .query::<String>(c)
        {
            Ok(_) => loaded.push(name),
            Err(e) => eprintln!(
                "probe on {:?}: {file} does not load here ({}); its type is not probed",
                s.flavor,
                err_text(&e)
            ),
        }
    }
    loaded
}

fn run(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query::<Value>(c)
}

fn dump(c: &mut redis::Connection, key: &str) -> (Vec<u8>, String, i64) {
    let d: Vec<u8> = q(c, &["DUMP", key]);
    (d, q(c, &["TYPE", key]), q(c, &["PTTL", key]))
}

#[test]
fn every_command_refuses_what_is_not_an_account_and_changes_nothing() {
    for flavor in FLAVORS {
        let opts = Options {
            extra: vec!["--enable-module-command".into(), "yes".into()],
            ..Default::default()
        };
        let s = &Server::start_with(flavor, opts);
        let mut c = s.conn();
        let modules = load_other_modules(s, &mut c);
        assert!(
            modules.contains(&"bf") || modules.contains(&"timeseries"),
            "{:?}: no other module type to probe",
            s.flavor
        );
        let mut probes = 0;
        for (what, make, expected) in foreign_keys(&modules) {
            q::<()>(&mut c, &["FLUSHALL"]);
            for m in &make {
                let m: Vec<&str> = m
                    .iter()
                    .map(|a| if a == "K" { "probe:key" } else { a.as_str() })
                    .collect();
                q::<Value>(&mut c, &m);
            }
            let before = dump(&mut c, "probe:key");
            for cmd in ACCOUNT_COMMANDS {
                let args: Vec<&str> = cmd
                    .iter()
                    .map(|a| if *a == "K" { "probe:key" } else { a })
                    .collect();
                let got = run(&mut c, &args);
                match got {
                    Err(e) => assert_eq!(err_text(&e), expected, "{what}: {args:?}"),
                    Ok(v) => panic!("{what}: {args:?} answered {v:?}, expected {expected}"),
                }
                assert_eq!(
                    dump(&mut c, "probe:key"),
                    before,
                    "{what}: {args:?} changed the key"
                );
                assert_eq!(
                    q::<i64>(&mut c, &["EXISTS", "probe:stream"]),
                    0,
                    "{what}: {args:?} wrote a stream"
                );
                assert_eq!(
                    q::<i64>(&mut c, &["DBSIZE"]),
                    1,
                    "{what}: {args:?} made a key"
                );
                probes += 1;
            }
            // MGET: one broken key does not hide the others, so its element is the error.
            for path in [None, Some("bio"), Some("stats")] {
                let mut args = vec!["ACCOUNT.MGET"];
                if let Some(p) = path {
                    args.extend(["PATH", p]);
                }
                args.push("probe:key");
                // redis-cli shows the reply as it is: an array of one error element.
                let line = args.join(" ").replace("probe:key", "'probe:key'");
                assert_eq!(
                    s.cli_line(&line),
                    format!("1) (error) {expected}"),
                    "{what}: {args:?}"
                );
                assert_eq!(
                    dump(&mut c, "probe:key"),
                    before,
                    "{what}: {args:?} changed the key"
                );
                probes += 1;
            }
            // The lobby commands own strings: every other type is WRONGTYPE (a string that is not
            // a lobby list is served as CORRUPT by GETCACHE, tested in foundation.rs).
            if what != "string" {
                for args in [
                    &["LOBBY.GETCACHE", "probe:key"][..],
                    &["LOBBY.DELCACHE", "probe:key"],
                    &["LOBBY.SETCACHE", "probe:key", "[]"],
                ] {
                    assert_eq!(expect_err(&mut c, args), WRONGTYPE, "{what}: {args:?}");
                    assert_eq!(
                        dump(&mut c, "probe:key"),
                        before,
                        "{what}: {args:?} changed the key"
                    );
                    probes += 1;
                }
            }
        }
        // The stream argument of LOGOUT is checked the same way.
        q::<()>(&mut c, &["FLUSHALL"]);
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<i64>(&mut c, &["RPUSH", "not-a-stream", "x"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.LOGOUT", "ac:1", "not-a-stream"]),
            WRONGTYPE
        );
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]), 1);
        eprintln!(
            "probe on {:?}: {probes} probes, other module types: {modules:?}",
            s.flavor
        );
    }
}

#[test]
fn incr_never_replaces_a_root_that_is_not_an_object() {
    for_each_server(|s| {
        let mut c = s.conn();
        for root in ["[1,2]", r#""s""#, "7", "null"] {
            q::<String>(&mut c, &["JSON.SET", "doc", "$", root]);
            assert_eq!(
                expect_err(&mut c, &["ACCOUNT.INCR", "doc", "metrics.arena_wins", "1"]),
                NOT_OBJECT
            );
            assert_eq!(
                q::<String>(&mut c, &["JSON.GET", "doc"]),
                root,
                "{:?}",
                s.flavor
            );
        }
    });
}
