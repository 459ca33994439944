//! Trust under restricted users, memory pressure, restarts and garbage input:
//! - ACL key patterns hold for every command, multi-key ones included;
//! - with maxmemory reached, write commands answer Redis's OOM error and change nothing;
//! - an RDB snapshot and a clean restart keep every document;
//! - random argument vectors never crash the server, every reply is a value or an error, and
//!   keys that rejected calls named are unchanged.

mod common;
use common::*;

/// Every command with a call naming `ac:1*` keys (allowed) and the same naming `ac:2` (denied).
fn calls(key: &str) -> Vec<Vec<String>> {
    let k = key.to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&["ACCOUNT.CREATE", &k, "NX"]),
        s(&["ACCOUNT.GET", &k]),
        s(&["ACCOUNT.GET", &k, "bio"]),
        s(&["ACCOUNT.GET", &k, "stats"]),
        s(&["ACCOUNT.EXISTS", &k]),
        s(&["ACCOUNT.SET", &k, "bio.name", "\"x\""]),
        s(&["ACCOUNT.STATE", &k, "combat"]),
        s(&["ACCOUNT.MOVE", &k, "castle"]),
        s(&["ACCOUNT.SESSION", &k, "combat", "c1"]),
        s(&["ACCOUNT.SETSTAT", &k, "hp", "5"]),
        s(&["ACCOUNT.INCR", &k, "metrics.arena_wins", "1"]),
        s(&["ACCOUNT.DAMAGE", &k, "1"]),
        s(&["ACCOUNT.HEAL", &k, "1"]),
        s(&["ACCOUNT.SPEND", &k, "hp", "1"]),
        s(&["ACCOUNT.APPLY", &k, "hp", "-1"]),
        s(&["ACCOUNT.MGET", &k]),
        s(&["ACCOUNT.MGET", "PATH", "bio", &k]),
        s(&["ACCOUNT.LINK", "combat", "c1", &k]),
        s(&["ACCOUNT.UNLINK", "combat", &k]),
        s(&["ACCOUNT.REGEN", &k]),
        s(&["ACCOUNT.LOGOUT", &k, "logouts:1"]),
        s(&["ACCOUNT.DEL", &k]),
    ]
}

#[test]
fn acl_key_patterns_hold_for_every_command() {
    for_each_server(|s| {
        let mut admin = s.conn();
        // 7.4: the module category; 7.0: the commands by name (docs/commands.md).
        let grant = if s.flavor.has_acl_categories() {
            "+@account".to_string()
        } else {
            "+account.create +account.get +account.exists +account.del +account.set +account.state +account.move \
             +account.session +account.setstat +account.incr +account.mget +account.link +account.unlink +account.damage \
             +account.heal +account.spend +account.apply +account.regen +account.logout +lobby.setcache +lobby.getcache \
             +lobby.delcache"
                .to_string()
        };
        let mut args = vec![
            "ACL",
            "SETUSER",
            "p1",
            "on",
            ">pw",
            "~ac:1*",
            "~lobby:user:1*",
            "~logouts:1",
        ];
        args.extend(grant.split(' '));
        q::<String>(&mut admin, &args);
        q::<String>(&mut admin, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut admin, &["ACCOUNT.CREATE", "ac:2"]);
        let before: String = q(&mut admin, &["JSON.GET", "ac:2"]);
        let mut u = s.conn();
        q::<String>(&mut u, &["AUTH", "p1", "pw"]);
        for call in calls("ac:2") {
            let args: Vec<&str> = call.iter().map(|x| x.as_str()).collect();
            let e = expect_err(&mut u, &args);
            assert!(e.starts_with("NOPERM"), "{args:?}: {e}");
        }
        // A multi-key call with one allowed and one denied key is denied whole.
        assert!(
            expect_err(&mut u, &["ACCOUNT.LINK", "combat", "c", "ac:1", "ac:2"])
                .starts_with("NOPERM")
        );
        assert!(
            expect_err(&mut u, &["ACCOUNT.MGET", "PATH", "bio", "ac:1", "ac:2"])
                .starts_with("NOPERM")
        );
        assert!(
            expect_err(&mut u, &["LOBBY.SETCACHE", "lobby:user:2", "[]"]).starts_with("NOPERM")
        );
        // An allowed account handed to a stream the user may not write: denied.
        assert!(expect_err(&mut u, &["ACCOUNT.LOGOUT", "ac:1", "logouts:2"]).starts_with("NOPERM"));
        assert_eq!(q::<i64>(&mut admin, &["EXISTS", "ac:1", "logouts:2"]), 1);
        assert_eq!(q::<String>(&mut admin, &["JSON.GET", "ac:2"]), before);
        // The allowed key works for every command (errors other than NOPERM are fine here).
        for call in calls("ac:1") {
            let mut r = redis::cmd(&call[0]);
            for a in &call[1..] {
                r.arg(a);
            }
            if let Err(e) = r.query::<redis::Value>(&mut u) {
                assert!(
                    !err_text(&e).starts_with("NOPERM"),
                    "{call:?}: {}",
                    err_text(&e)
                );
            }
        }
        // And the inner JSON commands are not a way around the user's permissions.
        assert!(
            expect_err(&mut u, &["JSON.SET", "ac:1", "$.state", "\"x\""]).starts_with("NOPERM")
        );
    });
}

#[test]
fn writes_answer_oom_when_maxmemory_is_reached() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
        q::<String>(&mut c, &["CONFIG", "SET", "maxmemory", "1"]);
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        for call in [
            vec!["ACCOUNT.CREATE", "ac:9"],
            vec!["ACCOUNT.SET", "ac:1", "bio.name", "\"x\""],
            vec!["ACCOUNT.DAMAGE", "ac:1", "5"],
            vec!["ACCOUNT.APPLY", "ac:1", "hp", "-5"],
            vec!["ACCOUNT.LINK", "combat", "c", "ac:1"],
            vec!["LOBBY.SETCACHE", "lobby:user:1", "[]"],
        ] {
            let e = expect_err(&mut c, &call);
            assert!(e.starts_with("OOM "), "{call:?}: {e}");
        }
        // Reads still work.
        assert!(q::<Option<String>>(&mut c, &["ACCOUNT.GET", "ac:1", "stats"]).is_some());
        q::<String>(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
        assert_eq!(q::<String>(&mut c, &["JSON.GET", "ac:1"]), before);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "ac:9", "lobby:user:1"]), 0);
    });
}

#[test]
fn rdb_snapshot_and_clean_restart_keep_every_document() {
    // SHUTDOWN SAVE: the clean stop writes the snapshot, the restart loads it.
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        for i in 0..200 {
            let k = format!("ac:{i}");
            q::<String>(&mut c, &["ACCOUNT.CREATE", &k]);
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", &k, &(i + 1).to_string()]);
            q::<String>(&mut c, &["ACCOUNT.STATE", &k, &format!("s{i}")]);
        }
        let mut keys: Vec<String> = q(&mut c, &["KEYS", "*"]);
        keys.sort();
        let before: Vec<String> = keys
            .iter()
            .map(|k| q::<String>(&mut c, &["JSON.GET", k]))
            .collect();
        let _ = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .query::<redis::Value>(&mut c); // the connection closes
        let dir = s.kill9(); // reaps the exited process, keeps its directory
        assert!(
            dir.join("dump.rdb").exists(),
            "{flavor:?}: no snapshot written"
        );
        let s2 = Server::start_in(flavor, dir, Options::default());
        let mut c2 = s2.conn();
        let after: Vec<String> = keys
            .iter()
            .map(|k| q::<String>(&mut c2, &["JSON.GET", k]))
            .collect();
        assert_eq!(before, after, "{flavor:?}");
    }
}

/// A small deterministic generator (no dependency), so a failure reproduces from its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMMANDS: &[&str] = &[
    "ACCOUNT.CREATE",
    "ACCOUNT.GET",
    "ACCOUNT.EXISTS",
    "ACCOUNT.DEL",
    "ACCOUNT.SET",
    "ACCOUNT.STATE",
    "ACCOUNT.MOVE",
    "ACCOUNT.SESSION",
    "ACCOUNT.SETSTAT",
    "ACCOUNT.INCR",
    "ACCOUNT.MGET",
    "ACCOUNT.LINK",
    "ACCOUNT.UNLINK",
    "ACCOUNT.DAMAGE",
    "ACCOUNT.HEAL",
    "ACCOUNT.SPEND",
    "ACCOUNT.APPLY",
    "ACCOUNT.REGEN",
    "ACCOUNT.LOGOUT",
    "LOBBY.SETCACHE",
    "LOBBY.GETCACHE",
    "LOBBY.DELCACHE",
    "ACCOUNT.CHECK",
    "ACCOUNT.SCHEMA",
];

fn fuzz_arg(r: &mut Rng) -> Vec<u8> {
    let words: &[&[u8]] = &[
        b"ac:1",
        b"ac:2",
        b"lobby:user:1",
        b"hp",
        b"mp",
        b"stamina",
        b"NX",
        b"EX",
        b"FROM",
        b"PATH",
        b"NONE",
        b"combat",
        b"bio",
        b"bio.name",
        b"stats.hp.cur",
        b"metrics.gear_score",
        b"skills.a.b",
        b"state",
        b"0",
        b"-1",
        b"1",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"99999999999999999999",
        b"1.5",
        b"1e308",
        b"",
        b"{}",
        b"[]",
        b"null",
        b"\"x\"",
        b"SET",
        b"GET",
        b"MATCH",
        b"COUNT",
        b"ac:*",
        br#"{"stats":{"hp":{"cur":5}}}"#,
        br#"[{"character_id":1,"user_id":1}]"#,
    ];
    match r.below(6) {
        0..=2 => words[r.below(words.len() as u64) as usize].to_vec(),
        3 => (0..r.below(40)).map(|_| r.next() as u8).collect(), // binary garbage, invalid UTF-8
        4 => {
            let d = r.below(300) as usize;
            let mut v = b"[".repeat(d);
            v.extend(b"]".repeat(r.below(d as u64 + 1) as usize));
            v
        }
        _ => {
            let mut v = br#"{"skills":{"s":""#.to_vec();
            v.extend(std::iter::repeat_n(b'x', r.below(300_000) as usize));
            v.extend(br#""}}"#);
            v
        }
    }
}

#[test]
fn fuzzed_argument_vectors_never_crash_or_change_what_they_reject() {
    let cases: u64 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ cases);
        let (mut values, mut errors) = (0u64, 0u64);
        for case in 0..cases {
            if case % 50 == 0 {
                q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
                q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:2"]);
                q::<String>(&mut c, &["LOBBY.SETCACHE", "lobby:user:1", "[]"]);
            }
            let snapshot = |c: &mut redis::Connection| -> Vec<Option<String>> {
                vec![
                    q(c, &["JSON.GET", "ac:1"]),
                    q(c, &["JSON.GET", "ac:2"]),
                    q(c, &["GET", "lobby:user:1"]),
                ]
            };
            let before = snapshot(&mut c);
            let cmd = COMMANDS[r.below(COMMANDS.len() as u64) as usize];
            let mut call = redis::cmd(cmd);
            let mut shown = vec![cmd.to_string()];
            for _ in 0..r.below(7) {
                let a = fuzz_arg(&mut r);
                shown.push(String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned());
                call.arg(a);
            }
            match call.query::<redis::Value>(&mut c) {
                Ok(_) => values += 1,
                Err(e) => {
                    assert!(
                        e.code().is_some() || e.detail().is_some(),
                        "case {case} {shown:?}: not a server error: {e}"
                    );
                    errors += 1;
                    assert_eq!(
                        snapshot(&mut c),
                        before,
                        "case {case} {shown:?} was rejected ({}) but changed a key",
                        err_text(&e)
                    );
                }
            }
        }
        assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
        assert!(
            !s.log().contains("panicked"),
            "{flavor:?}: a panic was logged"
        );
        eprintln!("fuzz {flavor:?}: {cases} cases, {values} values, {errors} errors, 0 crashes");
    }
}

/// One round of every command, succeeding and failing, on a fixed set of keys.
const SHIPPED_SCHEMA: &str = include_str!("../schema/account.schema.json");

fn every_command_once(c: &mut redis::Connection, i: u64) {
    let n = i.to_string();
    let calls: Vec<Vec<&str>> = vec![
        vec!["ACCOUNT.CREATE", "{l}ac:1", r#"{"bio":{"name":"leak"}}"#],
        vec!["ACCOUNT.CREATE", "{l}ac:1", r#"{"bio":{"name":5}}"#],
        vec!["ACCOUNT.CREATE", "{l}ac:2", "NX"],
        vec!["ACCOUNT.GET", "{l}ac:1"],
        vec!["ACCOUNT.GET", "{l}ac:1", "stats"],
        vec!["ACCOUNT.GET", "{l}ac:1", "bio.name"],
        vec!["ACCOUNT.GET", "{l}ac:1", "nope"],
        vec!["ACCOUNT.EXISTS", "{l}ac:1"],
        vec![
            "ACCOUNT.SET",
            "{l}ac:1",
            "bio.gender",
            r#""male""#,
            "skills.a",
            &n,
        ],
        vec!["ACCOUNT.SET", "{l}ac:1", "bio.gender", "{"],
        vec!["ACCOUNT.STATE", "{l}ac:1", "combat"],
        vec!["ACCOUNT.STATE", "{l}ac:1", "x", "FROM", "y"],
        vec![
            "ACCOUNT.STATE",
            "{l}ac:1",
            "scenario",
            "SET",
            "active_quest",
            r#""q""#,
            "sessions.scenario_id",
            "1",
        ],
        vec!["ACCOUNT.CHECK", "0", "MATCH", "{l}*", "COUNT", "10"],
        vec!["ACCOUNT.SCHEMA", "GET"],
        vec!["ACCOUNT.SCHEMA", "SET", SHIPPED_SCHEMA],
        vec![
            "ACCOUNT.SCHEMA",
            "SET",
            r#"{"type":"object","properties":{"a":{"patternProperties":{"x":{}}}}}"#,
        ],
        vec!["ACCOUNT.MOVE", "{l}ac:1", "castle"],
        vec!["ACCOUNT.SESSION", "{l}ac:1", "combat", "c"],
        vec!["ACCOUNT.SESSION", "{l}ac:1", "trade", "c"],
        vec!["ACCOUNT.SETSTAT", "{l}ac:1", "hp", "90"],
        vec!["ACCOUNT.INCR", "{l}ac:1", "metrics.arena_wins", "1"],
        vec![
            "ACCOUNT.INCR",
            "{l}ac:1",
            "metrics.arena_wins",
            "9223372036854775807",
        ],
        vec!["ACCOUNT.DAMAGE", "{l}ac:1", "3"],
        vec!["ACCOUNT.DAMAGE", "{l}ac:1", "-3"],
        vec!["ACCOUNT.HEAL", "{l}ac:1", "2"],
        vec!["ACCOUNT.SPEND", "{l}ac:1", "mp", "1000"],
        vec!["ACCOUNT.SPEND", "{l}ac:1", "mp", "1"],
        vec!["ACCOUNT.APPLY", "{l}ac:1", "hp", "-1", "mp", "1"],
        vec![
            "ACCOUNT.MGET",
            "PATH",
            "bio",
            "{l}ac:1",
            "{l}ac:2",
            "{l}ac:3",
        ],
        vec!["ACCOUNT.LINK", "combat", "c2", "{l}ac:1", "{l}ac:2"],
        vec!["ACCOUNT.LINK", "combat", "c2", "{l}ac:1", "{l}ac:3"],
        vec!["ACCOUNT.UNLINK", "combat", "{l}ac:1", "{l}ac:2", "{l}ac:3"],
        vec!["ACCOUNT.REGEN", "{l}ac:1"],
        vec!["ACCOUNT.LOGOUT", "{l}ac:2", "{l}out"],
        vec!["ACCOUNT.LOGOUT", "{l}ac:404", "{l}out"],
        vec!["XTRIM", "{l}out", "MAXLEN", "0"],
        vec!["ACCOUNT.DEL", "{l}ac:2"],
        vec!["ACCOUNT.DAMAGE", "{l}ac:404", "1"],
        vec![
            "LOBBY.SETCACHE",
            "lobby:user:1",
            r#"[{"character_id":1,"user_id":1}]"#,
        ],
        vec!["LOBBY.SETCACHE", "lobby:user:1", "[1]"],
        vec!["LOBBY.GETCACHE", "lobby:user:1"],
        vec!["LOBBY.DELCACHE", "lobby:user:1"],
    ];
    let mut p = redis::pipe();
    for call in &calls {
        let mut cmd = redis::cmd(call[0]);
        for a in &call[1..] {
            cmd.arg(*a);
        }
        p.add_command(cmd).ignore();
    }
    // Errors inside the pipeline are expected; only the transport must work.
    let _ = p.query::<redis::Value>(c);
}

fn used_memory(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_long_loop_of_every_command_leaves_memory_flat() {
    let rounds: u64 = std::env::var("LEAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        for i in 0..300 {
            every_command_once(&mut c, i % 7);
        }
        let before = used_memory(&mut c);
        for i in 0..rounds {
            every_command_once(&mut c, i % 7);
        }
        let after = used_memory(&mut c);
        let calls = rounds * 43;
        eprintln!(
            "leak loop {flavor:?}: {calls} calls, used_memory {before} -> {after} ({:+} bytes)",
            after - before
        );
        // A leak of even one byte per call would show as `calls` bytes.
        assert!(
            after - before < 64 * 1024,
            "{flavor:?}: used_memory grew {before} -> {after} over {calls} calls"
        );
    }
}
