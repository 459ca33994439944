//! Test harness: a guard that starts `redis-server` with RedisJSON and this module on a free
//! loopback port, in its own directory, and kills it on drop (also when a test panics).
//!
//! Every integration test runs on every supported server (tests/servers.tsv: Redis 7.0.15,
//! Redis Stack 7.4.1, Redis 8.2.3, Valkey 8.1.8, Valkey 9.1.2): `for_each_server(|s| ...)` or
//! `for flavor in FLAVORS`. ACCOUNT_SERVERS=stack-7.4,valkey-9.1 narrows a local run.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A supported server as `tests/servers.tsv` lists it (the one list every harness reads).
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// "redis" or "valkey".
    pub kind: String,
    pub version: String,
    pub server: PathBuf,
    /// LD_LIBRARY_PATH for the server, its cli and the Stack's modules in it (empty: none).
    pub lib: String,
    pub cli: PathBuf,
}

/// Every server of `tests/servers.tsv`, in its order.
pub fn servers_tsv() -> Vec<Entry> {
    let path = root().join("tests/servers.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rel = |p: &str| {
        if p == "-" {
            String::new()
        } else {
            root().join(p).to_string_lossy().into_owned()
        }
    };
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("name\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "tests/servers.tsv: {l:?}");
            Entry {
                name: f[0].into(),
                kind: f[1].into(),
                version: f[2].into(),
                server: rel(f[3]).into(),
                lib: if f[4] == "-" {
                    String::new()
                } else {
                    f[4].split(':').map(rel).collect::<Vec<_>>().join(":")
                },
                cli: rel(f[5]).into(),
            }
        })
        .collect()
}

/// The supported servers. Names and order are those of `tests/servers.tsv`; a test checks that
/// the two agree.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Redis 7.0.15 (Debian bookworm's build; the oldest supported server).
    Redis70,
    /// Redis Stack 7.4.1 (the primary target, `make run`'s default).
    Stack74,
    /// Redis 8.2.3.
    Redis82,
    /// Valkey 8.1.8.
    Valkey81,
    /// Valkey 9.1.2.
    Valkey91,
}

pub const ALL_FLAVORS: [Flavor; 5] = [
    Flavor::Redis70,
    Flavor::Stack74,
    Flavor::Redis82,
    Flavor::Valkey81,
    Flavor::Valkey91,
];

impl std::fmt::Debug for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Flavor {
    /// The earlier name of Redis 7.0.15 (Debian's build, now unpacked under .deps).
    #[allow(non_upper_case_globals)]
    pub const Debian70: Flavor = Flavor::Redis70;

    /// The name in `tests/servers.tsv` (and `make run SERVER=...`).
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Redis70 => "redis-7.0",
            Flavor::Stack74 => "stack-7.4",
            Flavor::Redis82 => "redis-8.2",
            Flavor::Valkey81 => "valkey-8.1",
            Flavor::Valkey91 => "valkey-9.1",
        }
    }
    pub fn entry(self) -> Entry {
        servers_tsv()
            .into_iter()
            .find(|e| e.name == self.name())
            .unwrap_or_else(|| panic!("{} is not in tests/servers.tsv", self.name()))
    }
    /// A program run with this server's library path (tests/servers.tsv's lib column): its cli,
    /// or a shell that runs it. The one place a test sets LD_LIBRARY_PATH.
    pub fn command(self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("LD_LIBRARY_PATH", self.entry().lib);
        cmd
    }
    pub fn server(self) -> PathBuf {
        self.entry().server
    }
    pub fn is_valkey(self) -> bool {
        matches!(self, Flavor::Valkey81 | Flavor::Valkey91)
    }
    /// Module commands carry ACL categories (RedisModule_SetCommandACLCategories, Redis 7.4 and
    /// later; Valkey 8.1 and later): `ACL CAT account` lists them. Redis 7.0 has no such call.
    pub fn has_acl_categories(self) -> bool {
        self != Flavor::Redis70
    }
}

/// The servers the integration tests run on: all five, or those named in ACCOUNT_SERVERS
/// (comma-separated names of tests/servers.tsv) for a quicker local run. `for f in FLAVORS`.
pub const FLAVORS: Flavors = Flavors;

pub struct Flavors;

impl Flavors {
    /// How many servers this run covers.
    pub fn len(&self) -> usize {
        selected_flavors().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn iter(&self) -> std::vec::IntoIter<Flavor> {
        selected_flavors().into_iter()
    }
}

impl IntoIterator for Flavors {
    type Item = Flavor;
    type IntoIter = std::vec::IntoIter<Flavor>;
    fn into_iter(self) -> Self::IntoIter {
        selected_flavors().into_iter()
    }
}

pub fn selected_flavors() -> Vec<Flavor> {
    match std::env::var("ACCOUNT_SERVERS") {
        Ok(list) if !list.trim().is_empty() => {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            for n in &names {
                assert!(
                    ALL_FLAVORS.iter().any(|f| f.name() == *n),
                    "ACCOUNT_SERVERS: unknown server {n:?}"
                );
            }
            let (run, skip): (Vec<Flavor>, Vec<Flavor>) = ALL_FLAVORS
                .into_iter()
                .partition(|f| names.contains(&f.name()));
            if !skip.is_empty() {
                eprintln!("skipped on {skip:?}: ACCOUNT_SERVERS={list}");
            }
            run
        }
        _ => ALL_FLAVORS.to_vec(),
    }
}

/// Whether `flavor` is among the servers selected for this run (a test that is about one server
/// in particular checks this, and says so when it skips).
pub fn selected(flavor: Flavor) -> bool {
    let yes = selected_flavors().contains(&flavor);
    if !yes {
        eprintln!("skipped on {flavor:?}: not in ACCOUNT_SERVERS");
    }
    yes
}

pub fn rejson() -> PathBuf {
    std::env::var_os("REJSON_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".deps/stack/lib/rejson.so"))
}

/// The module under test: ACCOUNT_SO, else the newest release build (`cargo test --release`
/// leaves its fresh copy under deps/, `cargo build --release` at the top).
pub fn module() -> PathBuf {
    if let Some(p) = std::env::var_os("ACCOUNT_SO") {
        return PathBuf::from(p);
    }
    let candidates = [
        "target/release/libredis_account.so",
        "target/release/deps/libredis_account.so",
    ];
    candidates
        .iter()
        .map(|c| root().join(c))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("build the module first: cargo build --release")
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Server {
    child: Child,
    pub port: u16,
    pub flavor: Flavor,
    pub dir: PathBuf,
}

pub struct Options {
    /// Load this module (false: RedisJSON only).
    pub with_module: bool,
    pub extra: Vec<String>,
    /// Start from this config file (the server's first argument): its `loadmodule` lines load
    /// the modules (the harness adds none, nor `save`/`appendonly`); the harness's port, bind,
    /// dir and logfile follow it and win. A config of `CONFIG REWRITE` starts again this way.
    pub config: Option<PathBuf>,
}

impl Options {
    /// AOF on, every write fsynced before it is acknowledged: a SIGKILL loses nothing.
    pub fn aof() -> Options {
        Options {
            extra: vec![
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                "always".into(),
            ],
            ..Default::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            with_module: true,
            extra: vec![],
            config: None,
        }
    }
}

impl Server {
    pub fn start(flavor: Flavor) -> Server {
        Server::start_with(flavor, Options::default())
    }

    pub fn start_with(flavor: Flavor, opts: Options) -> Server {
        Server::start_in(flavor, new_dir(), opts)
    }

    /// Starts a server in an existing directory (to restart from its AOF or RDB). Never deletes
    /// anything in it, also when a port clash makes it try again.
    pub fn start_in(flavor: Flavor, dir: PathBuf, opts: Options) -> Server {
        Server::start_on_ports(flavor, dir, opts, &mut |_| free_port())
    }

    /// Starts a server without RedisJSON before the module: the module alone, or with RedisJSON
    /// loaded after it when `opts.extra` says `--loadmodule <rejson>`.
    pub fn start_without_rejson(flavor: Flavor, opts: Options) -> Server {
        Server::launch(flavor, new_dir(), opts, false, &mut |_| free_port())
    }

    /// `start_in` with the ports to try chosen by `port(attempt)` (tests of the retry use it).
    pub fn start_on_ports(
        flavor: Flavor,
        dir: PathBuf,
        opts: Options,
        port: &mut dyn FnMut(usize) -> u16,
    ) -> Server {
        Server::launch(flavor, dir, opts, true, port)
    }

    /// The one way every test runs a server binary: `tests/servers.tsv`'s binary with its lib
    /// column as LD_LIBRARY_PATH (never the machine's own libraries or a server on PATH), in
    /// `dir`, on `port`, RedisJSON (if `with_rejson`) and the module (if `opts.with_module`)
    /// loaded, then `opts.extra`.
    fn command(
        flavor: Flavor,
        dir: &Path,
        opts: &Options,
        with_rejson: bool,
        port: u16,
    ) -> Command {
        let entry = flavor.entry();
        let mut cmd = Command::new(&entry.server);
        cmd.env("LD_LIBRARY_PATH", &entry.lib).current_dir(dir);
        if let Some(config) = &opts.config {
            cmd.arg(config);
        }
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
        if opts.config.is_none() {
            cmd.args(["--save", "", "--appendonly", "no"]);
        }
        // RedisJSON 2.8 is not built thread-safe: FLUSHALL must not free its documents
        // in a background thread, which Valkey does by default (docs/commands.md, "Servers").
        cmd.args(["--lazyfree-lazy-user-flush", "no"]).args([
            "--dir",
            dir.to_str().unwrap(),
            "--logfile",
            "redis.log",
        ]);
        if with_rejson && opts.config.is_none() {
            cmd.args(["--loadmodule", rejson().to_str().unwrap()]);
        }
        if opts.with_module && opts.config.is_none() {
            cmd.args(["--loadmodule", module().to_str().unwrap()]);
        }
        for e in &opts.extra {
            cmd.arg(e);
        }
        cmd
    }

    /// Starts a server that is expected not to come up (a broken schema, a bad argument), through
    /// the same path as `start_with`; waits at most 15 s for it to exit and returns how it ended
    /// with its log. Panics if it is still running then (killing it), or if it exited with 127
    /// (the binary or one of its libraries was not found: the harness's fault, not the test's).
    pub fn start_failing(flavor: Flavor, opts: Options) -> Failed {
        let dir = new_dir();
        let mut child = Server::command(flavor, &dir, &opts, true, free_port())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{flavor:?} kept running: it was expected to stop");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        use std::io::Read;
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        assert_ne!(
            status.code(),
            Some(127),
            "{flavor:?}: the binary or a library of it was not found: {stderr}"
        );
        let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        Failed {
            status,
            log,
            stderr,
        }
    }

    fn launch(
        flavor: Flavor,
        dir: PathBuf,
        opts: Options,
        with_rejson: bool,
        port: &mut dyn FnMut(usize) -> u16,
    ) -> Server {
        for attempt in 0..5 {
            let port = port(attempt);
            // Only this attempt's part of the log tells why it failed.
            let log_from = std::fs::metadata(dir.join("redis.log"))
                .map(|m| m.len() as usize)
                .unwrap_or(0);
            let mut cmd = Server::command(flavor, &dir, &opts, with_rejson, port);
            let child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn the server");
            let mut s = Server {
                child,
                port,
                flavor,
                dir: dir.clone(),
            };
            if s.wait_ready() {
                return s;
            }
            // Port taken between probe and bind, or a start failure: show the log if it is not a port clash.
            let log = std::fs::read(dir.join("redis.log")).unwrap_or_default();
            let log = String::from_utf8_lossy(log.get(log_from..).unwrap_or_default()).into_owned();
            let _ = s.child.kill();
            let _ = s.child.wait();
            // Dropping `s` must not remove the directory the next attempt starts in.
            s.dir = PathBuf::new();
            drop(s);
            if !log.contains("Address already in use") {
                panic!("{flavor:?} did not start:\n{log}");
            }
        }
        panic!("no free port for {flavor:?}");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut ours = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            // The server that answers on the port must be this child: after a port clash the
            // port may be another process's, which is never talked to beyond INFO. Then ready
            // when PING answers (not LOADING an AOF or RDB).
            if !ours {
                ours = self.answering_pid() == Some(self.child.id());
            }
            if ours {
                if let Ok(mut c) = self.try_conn() {
                    if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The `process_id` of whatever answers INFO on the port, over a plain socket with timeouts
    /// (a client library's connection set-up could wait forever on a silent listener).
    fn answering_pid(&self) -> Option<u32> {
        use std::io::{Read, Write};
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n").ok()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got);
            if let Some(rest) = text.split("process_id:").nth(1) {
                if let Some(line) = rest.split("\r\n").next().filter(|_| rest.contains("\r\n")) {
                    return line.trim().parse().ok();
                }
            }
            if got.len() > 1 << 16 {
                return None;
            }
        }
    }

    fn try_conn(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        client.get_connection_with_timeout(Duration::from_secs(5))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn conn(&self) -> redis::Connection {
        self.try_conn().expect("connect")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    /// The server's cli of `tests/servers.tsv` (redis-cli, or valkey-cli for Valkey) with its
    /// lib column as LD_LIBRARY_PATH, pointed at this server: the one way tests run a cli.
    pub fn cli(&self) -> Command {
        let mut cmd = self.flavor.command(self.flavor.entry().cli);
        cmd.args(["-p", &self.port.to_string()]);
        cmd
    }

    /// Redis 7.0.15's redis-cli (tests/servers.tsv's redis-7.0 row: its cli and lib column),
    /// pointed at this server: the `redis-cli` the docs' subscriber sessions were printed with
    /// (the cli of `.deps/bin/redis-cli`), whatever the server.
    pub fn redis70_cli(&self) -> Command {
        let mut cmd = Flavor::Redis70.command(Flavor::Redis70.entry().cli);
        cmd.args(["-p", &self.port.to_string()]);
        cmd
    }

    /// Runs one command line through the server's cli of `tests/servers.tsv` (redis-cli, or
    /// valkey-cli for Valkey: its own quoting, its interactive output format).
    pub fn cli_line(&self, line: &str) -> String {
        use std::io::Write;
        let mut child = self
            .cli()
            .arg("--no-raw")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string()
    }

    /// Kills the server at once (no shutdown, no save), as a crash would.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = self.dir.clone();
        self.dir = PathBuf::new(); // keep the directory for a restart
        dir
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// How a server that was expected not to start ended (`Server::start_failing`).
pub struct Failed {
    pub status: std::process::ExitStatus,
    /// Its log file (`--logfile redis.log` in its directory).
    pub log: String,
    pub stderr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A directory of its own for a new server: a name nothing uses yet (never one removed first).
pub fn new_dir() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).unwrap();
    loop {
        let d = base.join(format!(
            "redis-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        match std::fs::create_dir(&d) {
            Ok(()) => return d,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("{}: {e}", d.display()),
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the body once on each supported server.
pub fn for_each_server(body: impl Fn(&Server)) {
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        body(&s);
    }
}

/// The server's version from INFO server (`redis_version`, or `valkey_version` on Valkey).
pub fn server_version(con: &mut redis::Connection, flavor: Flavor) -> String {
    let info: String = q(con, &["INFO", "server"]);
    let field = if flavor.is_valkey() {
        "valkey_version:"
    } else {
        "redis_version:"
    };
    info.lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("{flavor:?}: no {field} in INFO server"))
        .trim()
        .to_string()
}

/// Makes `replica` replicate `primary` and waits until the link is up.
pub fn attach(replica: &Server, primary: &Server) {
    let mut r = replica.conn();
    q::<String>(
        &mut r,
        &["REPLICAOF", "127.0.0.1", &primary.port.to_string()],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = q(&mut r, &["INFO", "replication"]);
        if info.contains("master_link_status:up") {
            return;
        }
        assert!(Instant::now() < deadline, "replica did not sync: {info}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The full text of an error reply, as redis-cli shows it after "(error) ".
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Runs a command, expecting an error reply; returns its full text.
pub fn expect_err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?}: expected an error, got {v:?}"),
        Err(e) => err_text(&e),
    }
}

/// Runs a command and converts its reply.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query::<T>(con)
        .unwrap_or_else(|e| panic!("{args:?}: {}", err_text(&e)))
}

/// One field of `INFO account` (`account_read_path`, `account_calls_damage`, ...), as text.
pub fn info_field(con: &mut redis::Connection, name: &str) -> String {
    let info: String = q(con, &["INFO", "account"]);
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {name} in INFO account:\n{info}"))
        .trim_end()
        .to_string()
}

/// The document as plain RedisJSON returns it (`JSON.GET key`), parsed.
pub fn json_get(con: &mut redis::Connection, key: &str) -> Option<serde_json::Value> {
    let text: Option<String> = q(con, &["JSON.GET", key]);
    text.map(|t| serde_json::from_str(&t).unwrap())
}

pub fn exists_path(p: &Path) -> bool {
    p.exists()
}
