//! The harness itself: tests/servers.tsv (the one list of supported servers) agrees with the
//! harness, every server there starts with RedisJSON 2.8.3 and this module, is the pinned version
//! and reads through RedisJSON's shared API (INFO account), and a port clash on start never costs
//! the directory a server starts in.

mod common;
use common::*;
use std::net::TcpListener;

#[test]
fn servers_tsv_lists_the_harness_flavors_in_order() {
    let names: Vec<String> = servers_tsv().into_iter().map(|e| e.name).collect();
    let want: Vec<String> = ALL_FLAVORS.iter().map(|f| f.name().to_string()).collect();
    assert_eq!(names, want);
    for f in ALL_FLAVORS {
        let e = f.entry();
        assert_eq!(e.kind == "valkey", f.is_valkey(), "{f:?} kind");
        assert!(
            e.server.is_file(),
            "{f:?}: {} is missing: run make deps",
            e.server.display()
        );
        assert!(
            e.cli.is_file(),
            "{f:?}: {} is missing: run make deps",
            e.cli.display()
        );
    }
}

#[test]
fn every_server_is_its_pinned_version_with_redisjson_and_the_module() {
    for_each_server(|s| {
        let mut c = s.conn();
        assert_eq!(
            server_version(&mut c, s.flavor),
            s.flavor.entry().version,
            "{:?}",
            s.flavor
        );
        let modules: redis::Value = q(&mut c, &["MODULE", "LIST"]);
        let text = format!("{modules:?}");
        assert!(
            text.contains("ReJSON") && text.contains("20803"),
            "{:?}: {text}",
            s.flavor
        );
        assert!(text.contains("account"), "{:?}: {text}", s.flavor);
        // INFO account says which read path is in force and why: undecided before any read,
        // then RedisJSON 2.8.3's shared API (its layout is the verified one) on every server.
        assert_eq!(
            info_field(&mut c, "account_read_path"),
            "undecided",
            "{:?}",
            s.flavor
        );
        assert_eq!(
            q::<String>(&mut c, &["JSON.SET", "j", "$", r#"{"a":1}"#]),
            "OK"
        );
        assert_eq!(q::<String>(&mut c, &["JSON.GET", "j"]), r#"{"a":1}"#);
        assert_eq!(q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]), "OK");
        let hp: String = q(&mut c, &["ACCOUNT.GET", "ac:1", "stats.hp"]);
        assert!(hp.contains(r#""cur":100"#), "{:?}: {hp}", s.flavor);
        assert_eq!(
            info_field(&mut c, "account_read_path"),
            "shared-api",
            "{:?}",
            s.flavor
        );
        let why = info_field(&mut c, "account_read_path_reason");
        assert!(
            why.contains("RedisJSON 20803") && why.contains("2.8 layout verified"),
            "{:?}: {why}",
            s.flavor
        );
        // Its own cli reaches it (transcripts and `make cli` use it).
        assert_eq!(
            s.cli_line("ACCOUNT.EXISTS ac:1"),
            "(integer) 1",
            "{:?}",
            s.flavor
        );
        eprintln!(
            "{:?}: {} with RedisJSON 2.8.3 and the module",
            s.flavor,
            s.flavor.entry().version
        );
    });
}

#[test]
fn a_port_clash_on_start_keeps_the_directory() {
    for flavor in [Flavor::Stack74, Flavor::Valkey91] {
        if !selected(flavor) {
            continue;
        }
        // A server with data, stopped: its directory is what a restart test reuses.
        let s = Server::start_with(flavor, Options::aof());
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        let dir = s.kill9();
        std::fs::write(dir.join("marker"), "mine").unwrap();
        // The first port tried is held by someone else.
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let held_port = held.local_addr().unwrap().port();
        let mut tried = vec![];
        let s2 = Server::start_on_ports(flavor, dir.clone(), Options::aof(), &mut |attempt| {
            let p = if attempt == 0 {
                held_port
            } else {
                TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port()
            };
            tried.push(p);
            p
        });
        assert_eq!(tried.len(), 2, "{flavor:?}: {tried:?}");
        assert_ne!(s2.port, held_port);
        assert_eq!(
            std::fs::read_to_string(dir.join("marker")).unwrap(),
            "mine",
            "{flavor:?}"
        );
        let mut c2 = s2.conn();
        assert_eq!(
            q::<i64>(&mut c2, &["ACCOUNT.EXISTS", "ac:1"]),
            1,
            "{flavor:?}: the AOF survived the retry"
        );
        drop(held);
    }
}

#[test]
fn module_load_at_run_time_after_redisjson_on_every_server() {
    // As the README says: with `enable-module-command yes`, MODULE LOAD of RedisJSON and then
    // the module works on every server; without it MODULE is refused (Redis 7.0+ and Valkey).
    for flavor in FLAVORS {
        let opts = Options {
            with_module: false,
            extra: vec!["--enable-module-command".into(), "yes".into()],
            ..Default::default()
        };
        let s = Server::start_without_rejson(flavor, opts);
        let mut c = s.conn();
        assert_eq!(
            q::<String>(&mut c, &["MODULE", "LOAD", rejson().to_str().unwrap()]),
            "OK",
            "{flavor:?}"
        );
        assert_eq!(
            q::<String>(&mut c, &["MODULE", "LOAD", module().to_str().unwrap()]),
            "OK",
            "{flavor:?}"
        );
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]),
            "OK",
            "{flavor:?}"
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]),
            1,
            "{flavor:?}"
        );
        let off = Server::start_without_rejson(
            flavor,
            Options {
                with_module: false,
                ..Default::default()
            },
        );
        let err = expect_err(
            &mut off.conn(),
            &["MODULE", "LOAD", rejson().to_str().unwrap()],
        );
        assert!(
            err.contains("MODULE command not allowed"),
            "{flavor:?}: {err}"
        );
    }
}
