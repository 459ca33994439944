//! The module without RedisJSON: it loads, says so in the log at warning level, and every
//! ACCOUNT.* command answers exactly `NOJSON RedisJSON is not loaded` (never the caller's data)
//! while LOBBY.* and ACCOUNT.SCHEMA work; a RedisJSON loaded after the module (a later `--loadmodule`, or
//! `MODULE LOAD`) is found at the next command. On both servers.

mod common;
use common::*;

const NOJSON: &str = "NOJSON RedisJSON is not loaded";

/// Every ACCOUNT.* command, with arguments it accepts when RedisJSON is there.
const CALLS: &[&[&str]] = &[
    &[
        "ACCOUNT.CREATE",
        "ac:1",
        r#"{"bio":{"name":"secret-name"}}"#,
    ],
    &["ACCOUNT.GET", "ac:1", "bio"],
    &["ACCOUNT.EXISTS", "ac:1"],
    &["ACCOUNT.DEL", "ac:1"],
    &["ACCOUNT.SET", "ac:1", "bio.name", r#""secret-name""#],
    &["ACCOUNT.STATE", "ac:1", "combat", "FROM", "onboarding"],
    &["ACCOUNT.MOVE", "ac:1", "castle"],
    &["ACCOUNT.SESSION", "ac:1", "combat", "c1"],
    &["ACCOUNT.SETSTAT", "ac:1", "hp", "5"],
    &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"],
    &["ACCOUNT.DAMAGE", "ac:1", "5"],
    &["ACCOUNT.HEAL", "ac:1", "5", "mp"],
    &["ACCOUNT.SPEND", "ac:1", "mp", "5"],
    &["ACCOUNT.APPLY", "ac:1", "hp", "-5"],
    &["ACCOUNT.REGEN", "ac:1"],
    &["ACCOUNT.LOGOUT", "{s}ac:1", "{s}logouts"],
    &["ACCOUNT.MGET", "PATH", "bio", "ac:1", "ac:2"],
    &["ACCOUNT.LINK", "combat", "c1", "ac:1"],
    &["ACCOUNT.UNLINK", "combat", "ac:1"],
    &["ACCOUNT.CHECK", "0"],
];

/// The module's log lines at warning level (`#`), without the time stamp, but for the
/// redis-module crate's defrag line: printed on servers without RedisModule_RegisterDefragCallbacks
/// (docs/commands.md, "Load log"), and only as the crate words it.
fn warnings(s: &Server) -> Vec<String> {
    s.log()
        .lines()
        .filter(|l| l.contains("<account>"))
        .filter_map(|l| l.split_once(" # ").map(|(_, w)| w.to_string()))
        .filter(|w| w != DEFRAG)
        .collect()
}

const DEFRAG: &str = "<account> Skip register defrag callbacks as defrag callbacks is not supported on the current Redis server.";
const NOT_YET: &str =
    "<account> account: RedisJSON is not loaded (yet): ACCOUNT.* commands answer NOJSON until it is (LOBBY.* work without it)";

fn account_commands_work(c: &mut redis::Connection) {
    assert_eq!(
        q::<String>(
            c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"bio":{"name":"Aragorn"}}"#]
        ),
        "OK"
    );
    assert_eq!(
        q::<String>(c, &["ACCOUNT.GET", "ac:1", "bio.name"]),
        r#""Aragorn""#
    );
    assert_eq!(
        q::<Vec<i64>>(c, &["ACCOUNT.DAMAGE", "ac:1", "30"]),
        vec![70, 30]
    );
    assert_eq!(q::<i64>(c, &["ACCOUNT.EXISTS", "ac:1"]), 1);
}

#[test]
fn without_redisjson_every_account_command_answers_nojson_and_lobby_works() {
    for flavor in FLAVORS {
        let s = Server::start_without_rejson(flavor, Options::default());
        let mut c = s.conn();
        // Every ACCOUNT.* command of the module is in CALLS.
        let list: Vec<String> = q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "MODULE", "account"],
        );
        // (ACCOUNT.SCHEMA is about the schema in force, not documents: it works without RedisJSON.)
        assert_eq!(
            list.iter()
                .filter(|n| n.starts_with("account.") && *n != "account.schema")
                .count(),
            CALLS.len(),
            "{list:?}"
        );
        for call in CALLS {
            assert_eq!(expect_err(&mut c, call), NOJSON, "{flavor:?} {call:?}");
        }
        // Also inside a transaction, and for a key that exists as another type.
        q::<String>(&mut c, &["SET", "ac:9", "x"]);
        assert_eq!(expect_err(&mut c, &["ACCOUNT.GET", "ac:9"]), NOJSON);
        q::<String>(&mut c, &["MULTI"]);
        q::<String>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]);
        let exec = redis::cmd("EXEC").query::<redis::Value>(&mut c);
        let shown = match &exec {
            Ok(v) => format!("{v:?}"),
            Err(e) => err_text(e),
        };
        assert!(shown.contains(NOJSON), "{flavor:?} in MULTI: {shown}");
        let schema: Vec<redis::Value> = q(&mut c, &["ACCOUNT.SCHEMA", "GET"]);
        assert!(!schema.is_empty());
        // LOBBY.* keep plain strings and do not need RedisJSON.
        let list = r#"[{"character_id":7,"user_id":123,"name":"Aragorn"}]"#;
        assert_eq!(
            q::<String>(&mut c, &["LOBBY.SETCACHE", "lobby:user:123", list]),
            "OK"
        );
        assert_eq!(
            q::<String>(&mut c, &["LOBBY.GETCACHE", "lobby:user:123"]),
            list
        );
        assert_eq!(q::<i64>(&mut c, &["LOBBY.DELCACHE", "lobby:user:123"]), 1);
        // Counted, and said once in the log at load.
        let info: String = q(&mut c, &["INFO", "account"]);
        assert!(
            info.contains(&format!("account_rejected_nojson:{}\r\n", CALLS.len() + 2)),
            "{info}"
        );
        assert_eq!(warnings(&s), vec![NOT_YET.to_string()], "{flavor:?}");
    }
}

#[test]
fn redisjson_loaded_later_with_module_load_is_found_at_the_next_command() {
    for flavor in FLAVORS {
        let opts = Options {
            extra: vec!["--enable-module-command".into(), "yes".into()],
            ..Default::default()
        };
        let s = Server::start_without_rejson(flavor, opts);
        let mut c = s.conn();
        assert_eq!(expect_err(&mut c, &["ACCOUNT.CREATE", "ac:1"]), NOJSON);
        assert_eq!(
            q::<String>(&mut c, &["MODULE", "LOAD", rejson().to_str().unwrap()]),
            "OK"
        );
        account_commands_work(&mut c);
        assert!(
            s.log().contains("<account> account: RedisJSON is loaded"),
            "{flavor:?}"
        );
    }
}

#[test]
fn redisjson_after_the_module_on_the_command_line_is_found_at_first_use() {
    for flavor in FLAVORS {
        let opts = Options {
            extra: vec!["--loadmodule".into(), rejson().to_str().unwrap().into()],
            ..Default::default()
        };
        let s = Server::start_without_rejson(flavor, opts);
        let mut c = s.conn();
        account_commands_work(&mut c);
        // At the module's load RedisJSON was not there yet: the log says so, then finds it.
        assert_eq!(warnings(&s), vec![NOT_YET.to_string()], "{flavor:?}");
    }
}

#[test]
fn in_the_normal_order_the_load_log_has_no_warning_of_ours() {
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        account_commands_work(&mut c);
        // No warning of ours (the crate's defrag line aside). The crate prints that line where the
        // server lacks the module defrag API the crate asks for: every server but Redis 8.2.
        assert_eq!(warnings(&s), Vec::<String>::new(), "{flavor:?}");
        let defrag_line = s
            .log()
            .lines()
            .any(|l| l.ends_with(&format!(" # {DEFRAG}")));
        assert_eq!(
            defrag_line,
            flavor != Flavor::Redis82,
            "{flavor:?}: the crate's defrag line"
        );
        assert!(
            s.log().contains("<account> account: RedisJSON is loaded"),
            "{flavor:?}"
        );
    }
}
