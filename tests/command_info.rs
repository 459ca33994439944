//! COMMAND INFO / COMMAND GETKEYS / COMMAND DOCS answer correctly for every command on every
//! server; from Redis 7.4 and Valkey 8.1 on the commands carry ACL categories, including the
//! module's own @account (Redis 7.0 has none).

mod common;
use common::*;
use redis::Value;

/// (command, arity, flags, first key, last key, ACL categories on 7.4, a call and its keys)
type Expect = (
    &'static str,
    i64,
    &'static [&'static str],
    i64,
    i64,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

pub const EXPECTED: &[Expect] = &[
    (
        "account.create",
        -2,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "{}", "NX"],
        &["ac:1"],
    ),
    (
        "account.get",
        -2,
        &["readonly", "module"],
        1,
        1,
        &["@read", "@account"],
        &["ac:1", "bio"],
        &["ac:1"],
    ),
    (
        "account.exists",
        2,
        &["readonly", "fast", "module"],
        1,
        1,
        &["@read", "@fast", "@account"],
        &["ac:1"],
        &["ac:1"],
    ),
    (
        "account.del",
        -2,
        &["write", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1"],
        &["ac:1"],
    ),
    (
        "account.set",
        -4,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "bio.name", "\"x\""],
        &["ac:1"],
    ),
    (
        "account.state",
        -3,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "combat", "FROM", "lobby"],
        &["ac:1"],
    ),
    (
        "account.move",
        -3,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "castle"],
        &["ac:1"],
    ),
    (
        "account.session",
        -4,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "combat", "c1"],
        &["ac:1"],
    ),
    (
        "account.setstat",
        -4,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1", "hp", "5"],
        &["ac:1"],
    ),
    (
        "account.incr",
        -4,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["ac:1", "metrics.arena_wins", "1"],
        &["ac:1"],
    ),
    (
        "account.damage",
        -3,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1", "5"],
        &["ac:1"],
    ),
    (
        "account.heal",
        -3,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1", "5", "mp"],
        &["ac:1"],
    ),
    (
        "account.spend",
        -4,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1", "mp", "5"],
        &["ac:1"],
    ),
    (
        "account.apply",
        -4,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1", "hp", "-5"],
        &["ac:1"],
    ),
    (
        "account.regen",
        -2,
        &["write", "denyoom", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["ac:1"],
        &["ac:1"],
    ),
    (
        "account.logout",
        -3,
        &["write", "denyoom", "module"],
        1,
        2,
        &["@write", "@account"],
        &["{s}ac:1", "{s}logouts"],
        &["{s}ac:1", "{s}logouts"],
    ),
    (
        "account.mget",
        -2,
        &["readonly", "module", "movablekeys"],
        1,
        -1,
        &["@read", "@account"],
        &["PATH", "bio", "ac:1", "ac:2"],
        &["ac:1", "ac:2"],
    ),
    (
        "account.link",
        -4,
        &["write", "denyoom", "module", "movablekeys"],
        3,
        -1,
        &["@write", "@account"],
        &["combat", "c1", "ac:1", "ac:2"],
        &["ac:1", "ac:2"],
    ),
    (
        "account.unlink",
        -3,
        &["write", "denyoom", "module", "movablekeys"],
        2,
        -1,
        &["@write", "@account"],
        &["combat", "ac:1", "ac:2"],
        &["ac:1", "ac:2"],
    ),
    (
        "lobby.setcache",
        -3,
        &["write", "denyoom", "module"],
        1,
        1,
        &["@write", "@account"],
        &["lobby:user:1", "[]", "EX", "5"],
        &["lobby:user:1"],
    ),
    (
        "lobby.getcache",
        2,
        &["readonly", "module"],
        1,
        1,
        &["@read", "@account"],
        &["lobby:user:1"],
        &["lobby:user:1"],
    ),
    (
        "lobby.delcache",
        -2,
        &["write", "fast", "module"],
        1,
        1,
        &["@write", "@fast", "@account"],
        &["lobby:user:1"],
        &["lobby:user:1"],
    ),
    (
        "account.schema",
        -2,
        &["admin", "noscript", "module"],
        0,
        0,
        &["@admin", "@slow", "@dangerous"],
        &["GET"],
        &[],
    ),
    (
        "account.check",
        -2,
        &["readonly", "admin", "module"],
        0,
        0,
        &["@admin", "@slow", "@dangerous"],
        &["0"],
        &[],
    ),
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| redis::from_redis_value::<String>(i).unwrap())
            .collect(),
        Value::Set(items) => items
            .iter()
            .map(|i| redis::from_redis_value::<String>(i).unwrap())
            .collect(),
        _ => panic!("not an array: {v:?}"),
    }
}

#[test]
fn command_info_and_getkeys_for_every_command() {
    for_each_server(|s| {
        let mut c = s.conn();
        for (name, arity, flags, first, last, acl, call, keys) in EXPECTED {
            let info: Vec<Value> = q(&mut c, &["COMMAND", "INFO", name]);
            let Value::Array(fields) = &info[0] else {
                panic!("{name}: no COMMAND INFO")
            };
            assert_eq!(
                redis::from_redis_value::<String>(&fields[0]).unwrap(),
                *name
            );
            assert_eq!(
                redis::from_redis_value::<i64>(&fields[1]).unwrap(),
                *arity,
                "{name} arity"
            );
            let mut got_flags = strings(&fields[2]);
            got_flags.sort();
            let mut want_flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            want_flags.sort();
            assert_eq!(got_flags, want_flags, "{name} flags");
            assert_eq!(
                redis::from_redis_value::<i64>(&fields[3]).unwrap(),
                *first,
                "{name} first key"
            );
            assert_eq!(
                redis::from_redis_value::<i64>(&fields[4]).unwrap(),
                *last,
                "{name} last key"
            );
            let cats = strings(&fields[6]);
            if s.flavor.has_acl_categories() {
                assert_eq!(
                    cats,
                    acl.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                    "{name} ACL categories"
                );
            } else {
                assert!(cats.is_empty(), "{name}: 7.0 has no module ACL categories");
            }
            // Key specs are declared (the 9th field is non-empty), for the commands with keys.
            assert_eq!(
                matches!(&fields[8], Value::Array(v) if !v.is_empty()),
                !keys.is_empty(),
                "{name} key specs"
            );
            let mut args = vec!["COMMAND", "GETKEYS", name];
            args.extend_from_slice(call);
            if keys.is_empty() {
                assert!(
                    expect_err(&mut c, &args).starts_with("ERR"),
                    "{name}: no keys to get"
                );
            } else {
                let got: Vec<String> = q(&mut c, &args);
                assert_eq!(
                    got,
                    keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                    "{name} GETKEYS"
                );
            }
            // COMMAND DOCS carries the summary.
            let docs: Value = q(&mut c, &["COMMAND", "DOCS", name]);
            assert!(format!("{docs:?}").contains("summary"), "{name} docs");
        }
        // Every command of the module is in this list.
        let list: Vec<String> = q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "MODULE", "account"],
        );
        assert_eq!(list.len(), EXPECTED.len(), "{list:?}");
    });
}

#[test]
fn acl_category_account_grants_exactly_the_module_commands() {
    for_each_server(acl_category_account);
}

fn acl_category_account(s: &Server) {
    let mut c = s.conn();
    let cats: Vec<String> = q(&mut c, &["ACL", "CAT"]);
    if !s.flavor.has_acl_categories() {
        // Redis 7.0 has no RedisModule_SetCommandACLCategories: the module adds no category.
        assert!(
            !cats.contains(&"account".to_string()),
            "{:?}: {cats:?}",
            s.flavor
        );
        eprintln!(
            "@account skipped on {:?}: module ACL categories need Redis 7.4 or Valkey 8.1",
            s.flavor
        );
        return;
    }
    assert!(
        cats.contains(&"account".to_string()),
        "{:?}: {cats:?}",
        s.flavor
    );
    q::<String>(
        &mut c,
        &["ACL", "SETUSER", "game", "on", ">pw", "~*", "+@account"],
    );
    q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
    let mut u = s.conn();
    q::<String>(&mut u, &["AUTH", "game", "pw"]);
    for (name, _, _, _, _, acl, call, _) in EXPECTED {
        let mut args = vec![*name];
        args.extend_from_slice(call);
        let mut r = redis::cmd(name);
        for a in call.iter() {
            r.arg(*a);
        }
        let admin = acl.contains(&"@admin");
        match r.query::<redis::Value>(&mut u) {
            // The administration commands (ACCOUNT.SCHEMA, ACCOUNT.CHECK) are not in @account.
            Err(e) if admin => assert!(
                err_text(&e).starts_with("NOPERM"),
                "{args:?}: {}",
                err_text(&e)
            ),
            Ok(v) if admin => panic!("{args:?}: @account runs an administration command: {v:?}"),
            Err(e) => assert!(
                !err_text(&e).starts_with("NOPERM"),
                "{args:?}: {}",
                err_text(&e)
            ),
            Ok(_) => {}
        }
    }
    // The inner JSON commands are not granted by @account.
    assert!(expect_err(&mut u, &["JSON.GET", "ac:1"]).starts_with("NOPERM"));
}
