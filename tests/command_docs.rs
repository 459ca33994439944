//! COMMAND DOCS carries every command's argument specs, and the syntax they render (as
//! redis-cli's `HELP` renders it) is exactly the syntax line of the command's section in
//! docs/commands.md. One version number everywhere: Cargo.toml, MODULE LIST, COMMAND DOCS
//! `since`, the Python package, CHANGELOG.md. On both servers (both have COMMAND DOCS).

mod common;
use common::*;
use redis::Value;

fn text(v: &Value) -> String {
    redis::from_redis_value::<String>(v).unwrap_or_else(|_| panic!("not text: {v:?}"))
}

fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => panic!("not an array: {v:?}"),
    }
}

/// A RESP2 flat map (name, value, name, value, ...), or a RESP3 map.
fn fields(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (text(k), v)).collect(),
        _ => items(v)
            .chunks(2)
            .map(|kv| (text(&kv[0]), &kv[1]))
            .collect(),
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    fields(v)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// One argument as redis-cli's HELP shows it: a keyword as itself, a value by its name after its
/// token, one-of choices joined by `|`, a block's parts by spaces; `x [x ...]` for multiple,
/// `[x]` for optional.
fn render(arg: &Value) -> String {
    let kind = text(field(arg, "type").unwrap());
    let token = field(arg, "token").map(text);
    let flags: Vec<String> = field(arg, "flags")
        .map(|f| items(f).iter().map(text).collect())
        .unwrap_or_default();
    let subs = || {
        items(field(arg, "arguments").expect("sub-arguments"))
            .iter()
            .map(render)
            .collect::<Vec<_>>()
    };
    let body = match kind.as_str() {
        "pure-token" => token.clone().expect("a pure token has its token"),
        "oneof" => subs().join("|"),
        "block" => subs().join(" "),
        _ => text(field(arg, "name").unwrap()),
    };
    let mut s = match (&token, kind.as_str()) {
        (Some(t), k) if k != "pure-token" => format!("{t} {body}"),
        _ => body,
    };
    if flags.iter().any(|f| f == "multiple") {
        s = format!("{s} [{s} ...]");
    }
    if flags.iter().any(|f| f == "optional") {
        s = format!("[{s}]");
    }
    s
}

/// The syntax lines of each command's section in docs/commands.md: the lines of the first code
/// block after `## NAME`. Several lines are the forms of a command whose arguments are one
/// one-of (`ACCOUNT.SCHEMA GET`, `ACCOUNT.SCHEMA SET json`).
fn doc_syntax_forms() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(name) = l.strip_prefix("## ") else {
            continue;
        };
        if !(name.starts_with("ACCOUNT.") || name.starts_with("LOBBY.")) {
            continue;
        }
        let fence = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with("```"))
            .unwrap()
            + i
            + 1;
        let forms = lines[fence + 1..]
            .iter()
            .take_while(|l| !l.starts_with("```"))
            .map(|l| l.to_string())
            .collect();
        out.push((name.to_string(), forms));
    }
    out
}

/// The syntax line of each command with one form.
fn doc_syntax() -> Vec<(String, String)> {
    doc_syntax_forms()
        .into_iter()
        .filter(|(_, f)| f.len() == 1)
        .map(|(n, mut f)| (n, f.remove(0)))
        .collect()
}

fn cargo_version() -> String {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = toml.lines().find(|l| l.starts_with("version = ")).unwrap();
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_string()
}

/// MODULE LIST's number for a version: major * 10000 + minor * 100 + patch.
fn module_number(v: &str) -> i64 {
    let p: Vec<i64> = v.split('.').map(|x| x.parse().unwrap()).collect();
    p[0] * 10000 + p[1] * 100 + p[2]
}

#[test]
fn command_docs_syntax_is_the_syntax_of_docs_commands_md() {
    let docs = doc_syntax_forms();
    for_each_server(|s| {
        let mut c = s.conn();
        let mut names: Vec<String> = q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "MODULE", "account"],
        );
        names.sort();
        let mut documented: Vec<String> = docs.iter().map(|(n, _)| n.to_lowercase()).collect();
        documented.sort();
        assert_eq!(
            names, documented,
            "{:?}: every command has its section, every section its command",
            s.flavor
        );
        for (name, forms) in &docs {
            let reply: Value = q(&mut c, &["COMMAND", "DOCS", name]);
            let doc = &items(&reply)[1];
            let args = field(doc, "arguments")
                .unwrap_or_else(|| panic!("{name}: COMMAND DOCS has no arguments"));
            let syntax: Vec<String> = if forms.len() == 1 {
                let rendered: Vec<String> = items(args).iter().map(render).collect();
                vec![format!("{name} {}", rendered.join(" "))]
            } else {
                // One line per alternative of the one top-level one-of.
                assert_eq!(
                    items(args).len(),
                    1,
                    "{name}: several syntax lines need one one-of argument"
                );
                assert_eq!(
                    text(field(&items(args)[0], "type").unwrap()),
                    "oneof",
                    "{name}"
                );
                items(field(&items(args)[0], "arguments").unwrap())
                    .iter()
                    .map(|a| format!("{name} {}", render(a)))
                    .collect()
            };
            assert_eq!(
                &syntax, forms,
                "{:?} {name}: COMMAND DOCS (left) and docs/commands.md (right)",
                s.flavor
            );
            // Keys are typed as keys, with their key spec.
            for a in items(args) {
                if text(field(a, "type").unwrap()) == "key" {
                    assert!(
                        field(a, "key_spec_index").is_some(),
                        "{name}: key without key spec"
                    );
                }
            }
            assert_eq!(text(field(doc, "since").unwrap()), "0.1.0", "{name} since");
        }
    });
}

#[test]
fn argument_types_and_flags_are_declared() {
    for_each_server(argument_types_and_flags);
}

fn argument_types_and_flags(s: &Server) {
    let mut c = s.conn();
    let reply: Value = q(&mut c, &["COMMAND", "DOCS", "account.state"]);
    let args = items(field(&items(&reply)[1], "arguments").unwrap());
    let kinds: Vec<String> = args
        .iter()
        .map(|a| text(field(a, "type").unwrap()))
        .collect();
    assert_eq!(kinds, ["key", "string", "string", "block", "string"]);
    assert_eq!(text(field(&args[4], "token").unwrap()), "IDMP");
    assert_eq!(text(field(&args[2], "token").unwrap()), "FROM");
    assert_eq!(text(field(&args[3], "token").unwrap()), "SET");
    let reply: Value = q(&mut c, &["COMMAND", "DOCS", "account.setstat"]);
    let args = items(field(&items(&reply)[1], "arguments").unwrap());
    let kinds: Vec<String> = args
        .iter()
        .map(|a| text(field(a, "type").unwrap()))
        .collect();
    assert_eq!(kinds, ["key", "oneof", "integer", "integer", "string"]);
    let stats: Vec<String> = items(field(&args[1], "arguments").unwrap())
        .iter()
        .map(|a| text(field(a, "type").unwrap()))
        .collect();
    assert_eq!(stats, ["pure-token", "pure-token", "pure-token"]);
    let reply: Value = q(&mut c, &["COMMAND", "DOCS", "account.logout"]);
    let args = items(field(&items(&reply)[1], "arguments").unwrap());
    let specs: Vec<i64> = args
        .iter()
        .filter_map(|a| field(a, "key_spec_index"))
        .map(|i| redis::from_redis_value(i).unwrap())
        .collect();
    assert_eq!(
        specs,
        [0, 1],
        "the account and the stream have their own key specs"
    );
}

#[test]
fn one_version_number_everywhere() {
    let v = cargo_version();
    // The Python package.
    let py = std::fs::read_to_string(root().join("clients/python/pyproject.toml")).unwrap();
    assert!(
        py.lines().any(|l| l == format!("version = \"{v}\"")),
        "clients/python/pyproject.toml is not {v}"
    );
    // The changelog has the version's section.
    let log = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(
        log.lines().any(|l| l.starts_with(&format!("## {v}"))),
        "CHANGELOG.md has no section for {v}"
    );
    // The license file matches Cargo.toml's license.
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(toml.contains("license = \"MIT\""));
    assert!(std::fs::read_to_string(root().join("LICENSE"))
        .unwrap()
        .starts_with("MIT License"));
    for_each_server(|s| {
        let mut c = s.conn();
        let list: Value = q(&mut c, &["MODULE", "LIST"]);
        let ours = items(&list)
            .iter()
            .find(|m| text(field(m, "name").unwrap()) == "account")
            .unwrap();
        let ver: i64 = redis::from_redis_value(field(ours, "ver").unwrap()).unwrap();
        assert_eq!(
            ver,
            module_number(&v),
            "{:?} MODULE LIST ver for {v}",
            s.flavor
        );
    });
}

#[test]
fn acl_cat_account_is_empty_on_7_4_but_command_list_filterby_aclcat_lists_every_command() {
    // What `ACL CAT account` answers differs by server, each asserted as it is:
    //  - Redis 7.0: no module ACL categories at all (the category is unknown);
    //  - Redis Stack 7.4.1: the category exists, but ACL CAT <category> skips module commands
    //    (docs/commands.md, "ACL categories"); COMMAND LIST FILTERBY ACLCAT lists them;
    //  - Redis 8.2.3, Valkey 8.1.8 and 9.1.2: ACL CAT account lists every command of the module
    //    but the administration ones (@admin: ACCOUNT.SCHEMA, ACCOUNT.CHECK).
    for_each_server(|s| {
        let mut c = s.conn();
        let cats: Vec<String> = q(&mut c, &["ACL", "CAT"]);
        if !s.flavor.has_acl_categories() {
            assert!(!cats.contains(&"account".to_string()), "{:?}", s.flavor);
            let e = expect_err(&mut c, &["ACL", "CAT", "account"]);
            assert!(e.contains("Unknown category"), "{:?}: {e}", s.flavor);
            eprintln!(
                "ACL CAT account skipped on {:?}: no module ACL categories before Redis 7.4",
                s.flavor
            );
            return;
        }
        assert!(cats.contains(&"account".to_string()), "{:?}", s.flavor);
        // Every command of the module but the administration ones (ACCOUNT.SCHEMA, ACCOUNT.CHECK).
        let mut ours: Vec<String> = q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "MODULE", "account"],
        );
        ours.retain(|n| !["account.schema", "account.check"].contains(&n.to_lowercase().as_str()));
        assert_eq!(ours.len(), 22, "{ours:?}");
        ours.sort();
        let mut by_cat: Vec<String> = q(
            &mut c,
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "account"],
        );
        by_cat.sort();
        assert_eq!(by_cat, ours, "{:?}", s.flavor);
        let mut listed: Vec<String> = q(&mut c, &["ACL", "CAT", "account"]);
        listed.sort();
        if s.flavor == Flavor::Stack74 {
            assert!(listed.is_empty(), "{:?}: {listed:?}", s.flavor);
        } else {
            let lower = |v: &[String]| v.iter().map(|x| x.to_lowercase()).collect::<Vec<_>>();
            assert_eq!(
                lower(&listed),
                lower(&ours),
                "{:?}: ACL CAT account",
                s.flavor
            );
        }
    });
}

#[test]
fn syntax_errors_quote_the_documented_syntax() {
    let docs = doc_syntax();
    let line = |name: &str| docs.iter().find(|(n, _)| n == name).unwrap().1.clone();
    for_each_server(|s| {
        let mut c = s.conn();
        for (name, call) in [
            (
                "ACCOUNT.CREATE",
                &["ACCOUNT.CREATE", "ac:1", "{}", "{}"][..],
            ),
            (
                "ACCOUNT.STATE",
                &["ACCOUNT.STATE", "ac:1", "combat", "BOGUS", "x"][..],
            ),
            (
                "LOBBY.SETCACHE",
                &["LOBBY.SETCACHE", "lobby:user:1", "[]", "XX", "5"][..],
            ),
        ] {
            assert_eq!(
                expect_err(&mut c, call),
                format!("SYNTAX expected: {}", line(name)),
                "{:?}",
                s.flavor
            );
        }
    });
}
