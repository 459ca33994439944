//! What a command writes reaches replicas and the AOF: replicas (with and without this module)
//! hold the same documents as the primary, and a server killed with SIGKILL comes back from its
//! AOF with every acknowledged write.

mod common;
use common::*;

/// A seeded random mix of every write command, rejected calls included, over 200 accounts.
/// Returns how many operations it sent.
fn workload(c: &mut redis::Connection) -> usize {
    let mut seed: u64 = 0x5DEE_CE66_D1CE_4E5B;
    let mut rnd = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut ops = 0usize;
    let mut send = |c: &mut redis::Connection, args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _ = cmd.query::<redis::Value>(c); // replies (and rejections) are not the point here
        ops += 1;
    };
    for i in 0..200u64 {
        let key = format!("ac:{i}");
        let k = key.as_str();
        send(
            c,
            &[
                "ACCOUNT.CREATE",
                k,
                &format!(
                    r#"{{"bio":{{"name":"n{i}"}},"stats":{{"hp":{{"cur":{},"max":100,"regen":2.5}}}}}}"#,
                    i % 100
                ),
            ],
        );
        for _ in 0..rnd(20) + 5 {
            let n = (rnd(60) as i64 - 10).to_string();
            let m = (rnd(30) + 1).to_string();
            match rnd(19) {
                0 => send(
                    c,
                    &[
                        "ACCOUNT.SET",
                        k,
                        "bio.gender",
                        r#""female""#,
                        "attributes.luck",
                        &m,
                    ],
                ),
                1 => send(
                    c,
                    &[
                        "ACCOUNT.SET",
                        k,
                        "bio.gender",
                        r#""x""#,
                        "attributes.luck",
                        "-1",
                    ],
                ),
                2 => send(c, &["ACCOUNT.STATE", k, &format!("s{m}")]),
                3 => send(c, &["ACCOUNT.STATE", k, "lobby", "FROM", "nowhere"]),
                4 => send(c, &["ACCOUNT.MOVE", k, &format!("zone_{m}")]),
                5 => send(c, &["ACCOUNT.SESSION", k, "inventory", &format!("inv_{m}")]),
                6 => send(c, &["ACCOUNT.SETSTAT", k, "mp", &n, "120"]),
                7 => send(c, &["ACCOUNT.INCR", k, "metrics.arena_wins", &n]),
                8 => send(
                    c,
                    &[
                        "ACCOUNT.INCR",
                        k,
                        "metrics.arena_wins",
                        "9223372036854775807",
                    ],
                ),
                9 => send(c, &["ACCOUNT.DAMAGE", k, &m]),
                10 => send(c, &["ACCOUNT.HEAL", k, &m, "mp"]),
                11 => send(c, &["ACCOUNT.SPEND", k, "stamina", &m]),
                12 => send(
                    c,
                    &["ACCOUNT.APPLY", k, "hp", &n, "mp", "-2", "stamina", "3"],
                ),
                13 => send(c, &["ACCOUNT.DAMAGE", k, "-1"]),
                14 => send(c, &["ACCOUNT.REGEN", k]),
                15 => send(c, &["ACCOUNT.CREATE", k, r#"{"bad":1}"#]),
                16 => send(c, &["ACCOUNT.CREATE", k, "NX"]),
                17 => send(
                    c,
                    &[
                        "LOBBY.SETCACHE",
                        &format!("lobby:user:{i}"),
                        &format!(r#"[{{"character_id":{i},"user_id":{i}}}]"#),
                    ],
                ),
                _ => send(c, &["LOBBY.DELCACHE", &format!("lobby:user:{i}")]),
            }
        }
        match rnd(10) {
            0 => send(c, &["ACCOUNT.DEL", k]),
            1 => send(c, &["ACCOUNT.LOGOUT", k, "logouts"]),
            _ => {}
        }
    }
    // Bulk links across characters (one hash tag per group, as Redis Cluster would need).
    for g in 0..10 {
        let keys: Vec<String> = (0..4).map(|j| format!("{{g{g}}}ac:{j}")).collect();
        for k in &keys {
            send(c, &["ACCOUNT.CREATE", k]);
        }
        let mut link = vec!["ACCOUNT.LINK", "combat", "c_bulk"];
        link.extend(keys.iter().map(|k| k.as_str()));
        send(c, &link);
        let mut unlink = vec!["ACCOUNT.UNLINK", "combat"];
        unlink.extend(keys.iter().take(2).map(|k| k.as_str()));
        send(c, &unlink);
    }
    ops
}

/// Every key and its content (JSON text for documents, value and TTL presence for strings).
fn snapshot(c: &mut redis::Connection) -> Vec<(String, String)> {
    let mut keys: Vec<String> = q(c, &["KEYS", "*"]);
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let t: String = q(c, &["TYPE", &k]);
            let v = if t == "ReJSON-RL" {
                q::<String>(c, &["JSON.GET", &k])
            } else if t == "stream" {
                format!("{:?}", q::<redis::Value>(c, &["XRANGE", &k, "-", "+"]))
            } else {
                let ttl: i64 = q(c, &["TTL", &k]);
                format!("{} ttl>0:{}", q::<String>(c, &["GET", &k]), ttl > 0)
            };
            (k, v)
        })
        .collect()
}

fn replica_matches(with_module: bool) {
    for flavor in FLAVORS {
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
        let ops = workload(&mut p);
        let acked: i64 = q(&mut p, &["WAIT", "1", "5000"]);
        assert_eq!(acked, 1);
        let mut r = replica.conn();
        let (ps, rs) = (snapshot(&mut p), snapshot(&mut r));
        assert!(
            ps.len() > 150,
            "{flavor:?}: workload wrote {} keys",
            ps.len()
        );
        let differing =
            ps.iter().zip(&rs).filter(|(a, b)| a != b).count() + ps.len().abs_diff(rs.len());
        eprintln!("replication {flavor:?} (module on replica: {with_module}): {ops} operations, {} keys, {differing} differ", ps.len());
        assert_eq!(ps, rs, "{flavor:?}: replica differs");
        assert!(primary.log().contains("Module 'account' loaded"));
        assert_eq!(
            replica.log().contains("Module 'account' loaded"),
            with_module
        );
    }
}

#[test]
fn replica_with_the_module_holds_the_same_documents() {
    replica_matches(true);
}

#[test]
fn replica_without_the_module_still_follows() {
    // The replication stream carries JSON.SET / SET / DEL, never ACCOUNT.* or LOBBY.*.
    replica_matches(false);
}

#[test]
fn aof_restart_after_sigkill_keeps_every_acknowledged_write() {
    for flavor in FLAVORS {
        let s = Server::start_with(flavor, Options::aof());
        let mut c = s.conn();
        let ops = workload(&mut c);
        let before = snapshot(&mut c);
        let dir = s.kill9();
        let s2 = Server::start_in(flavor, dir, Options::aof());
        let mut c2 = s2.conn();
        let after = snapshot(&mut c2);
        eprintln!(
            "AOF {flavor:?}: {ops} operations, {} keys, restarted after SIGKILL",
            before.len()
        );
        assert_eq!(after, before, "{flavor:?}");
    }
}
