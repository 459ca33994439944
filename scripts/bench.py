#!/usr/bin/env python3
"""make bench: throughput and memory of the module's commands against what a user would do
instead, measured side by side in one run on one Redis Stack 7.4.1 server (RedisJSON 2.8.3).

Each figure is the median of ROUNDS runs; the rounds interleave the contenders so drift in the
machine's load hits all of them alike. Prints ratios; asserts nothing (goals are read by people).

By default a quick run (pipeline 16, 200,000 requests a run, 20,000 accounts for memory, no
across-servers table: a few minutes on 2 cores); BENCH_FULL=1 is the long run (pipelines 1 and 16,
1,000,000 requests, 100,000 accounts, the headline ratios on three servers). Every table prints
the machine's PING rate measured just before it, so runs on a busier machine can be read.
"""
import json, os, re, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK = os.path.join(ROOT, ".deps/stack")
MODULE = os.environ.get("ACCOUNT_SO", os.path.join(ROOT, "target/release/libredis_account.so"))
FULL = os.environ.get("BENCH_FULL", "0") not in ("", "0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000000" if FULL else "200000"))
MEMORY_ACCOUNTS = int(os.environ.get("BENCH_MEMORY_ACCOUNTS", "100000" if FULL else "20000"))
CLIENTS = 50
# For quick comparisons: BENCH_ONLY=servers,damage,reads,apply,schema,memory picks tables;
# BENCH_PIPELINES=16; BENCH_SERVERS=stack-7.4,redis-8.2,valkey-9.1 (names of tests/servers.tsv).
ONLY = set(filter(None, os.environ.get(
    "BENCH_ONLY", ("servers," if FULL else "") + "damage,reads,apply,schema,documents,lobby,memory").split(",")))
PIPELINES = [int(p) for p in os.environ.get("BENCH_PIPELINES", "1,16" if FULL else "16").split(",")]
BIG = 10**15

LUA_DAMAGE = """
local v = cjson.decode(redis.call('JSON.GET', KEYS[1], '$.stats.hp'))[1]
local new = v.cur - tonumber(ARGV[1])
if new < 0 then new = 0 end
redis.call('JSON.SET', KEYS[1], '$.stats.hp.cur', string.format('%d', new))
return {new, v.cur - new}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def servers():
    """tests/servers.tsv: name -> (binary, LD_LIBRARY_PATH, cli), as every harness reads it."""
    out = {}
    for line in open(os.path.join(ROOT, "tests/servers.tsv")):
        if line.startswith("#") or line.startswith("name\t") or not line.strip():
            continue
        name, _kind, _version, binary, lib, cli = line.rstrip("\n").split("\t")
        libs = ":".join(os.path.join(ROOT, d) for d in lib.split(":")) if lib != "-" else ""
        out[name] = (os.path.join(ROOT, binary), libs, os.path.join(ROOT, cli))
    return out


# The Stack's tools (its redis-cli, redis-benchmark) with the Stack's row's libraries.
ENV = dict(os.environ, LD_LIBRARY_PATH=servers()["stack-7.4"][1])


class Server:
    def __init__(self, name="stack-7.4"):
        binary, lib, _cli = servers()[name]
        self.dir = tempfile.mkdtemp(prefix="bench-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile", "redis.log", "--lazyfree-lazy-user-flush", "no",
             "--loadmodule", f"{STACK}/lib/rejson.so", "--loadmodule", MODULE],
            env=dict(os.environ, LD_LIBRARY_PATH=lib), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if self.cli("PING") == "PONG":
                    return
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.02)
        raise SystemExit("server did not start")

    def cli(self, *args, stdin=None):
        return subprocess.run([f"{STACK}/bin/redis-cli", "-p", str(self.port), *args], env=ENV, input=stdin,
                              capture_output=True, text=True, check=True).stdout.strip()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def benchmark(srv, pipeline, *cmd, keyspace=None):
    # Unpipelined runs are ~10x slower: a fifth of the requests keeps each run a few seconds.
    n = REQUESTS if pipeline > 1 else REQUESTS // 5
    # keyspace: redis-benchmark -r, which replaces __rand_int__ in the arguments.
    rand = ["-r", str(keyspace)] if keyspace else []
    out = subprocess.run(
        [f"{STACK}/bin/redis-benchmark", "-p", str(srv.port), "-c", str(CLIENTS), "-P", str(pipeline),
         "-n", str(n), "-q", "--csv", *rand, *cmd],
        env=ENV, capture_output=True, text=True, check=True).stdout
    # --csv: a header line, then "name","rps",...
    # --csv: a header line, then "name","rps" and six latency columns; the name may hold commas
    # and quotes (a JSON argument), so the rate is read from the end.
    line = [l for l in out.splitlines() if l and not l.startswith('"test"')][-1]
    return float(line.split(",")[-7].strip('"'))


def client(srv, mode, pipeline, seconds=3):
    exe = os.path.join(ROOT, "target/release/examples/bench_client")
    out = subprocess.run([exe, str(srv.port), mode, str(CLIENTS), str(pipeline), str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


SHIPPED = open(os.path.join(ROOT, "schema/account.schema.json")).read()


def five_vitals():
    """The shipped schema with two more vitals in stats: rage and energy."""
    doc = json.loads(SHIPPED)
    stats = doc["properties"]["stats"]["properties"]
    stats["rage"] = {"$ref": "#/$defs/Vital", "default": {"cur": 0, "max": 100, "regen": 0.0, "since": None}}
    stats["energy"] = {"$ref": "#/$defs/Vital", "default": {"cur": 10, "max": 10, "regen": 0.0, "since": None}}
    return json.dumps(doc)


def under_schema(srv, schema, p, *cmd):
    """A benchmark with `schema` in force (the shipped one again afterwards)."""
    srv.cli("ACCOUNT.SCHEMA", "SET", schema)
    try:
        reset(srv)
        return benchmark(srv, p, *cmd)
    finally:
        srv.cli("ACCOUNT.SCHEMA", "SET", SHIPPED)


def create_vs_set(srv, p, module):
    """A whole document written with validation (ACCOUNT.CREATE) or without (JSON.SET)."""
    body = srv.cli("JSON.GET", "ac:1")
    return benchmark(srv, p, *(("ACCOUNT.CREATE", "ac:2", body) if module else ("JSON.SET", "ac:2", "$", body)))


def reset(srv, regen=0):
    vit = {"cur": BIG, "max": BIG, "regen": regen}
    doc = {"stats": {"hp": vit, "mp": vit, "stamina": vit}}
    assert srv.cli("ACCOUNT.CREATE", "ac:1", json.dumps(doc)) == "OK"


def with_request_ids(srv, p):
    """ACCOUNT.DAMAGE ... IDMP <random id>: every call a new request (redis-benchmark's
    __rand_int__), so each records its reply and the key's record stays at its cap of 100 ids."""
    return benchmark(srv, p, "ACCOUNT.DAMAGE", "ac:1", "1", "IDMP", "__rand_int__", keyspace=1_000_000_000)


def damage_regenerating(srv, p):
    """ACCOUNT.DAMAGE on a vital that regenerates (1/s): every call runs the regeneration step."""
    reset(srv, regen=1.0)
    return benchmark(srv, p, "ACCOUNT.DAMAGE", "ac:1", "1")


def get_regenerating(srv, p, *cmd):
    """A read of stats whose hp is below max and regenerating: ACCOUNT.GET prints hp anew (its
    stored clock is more than a unit old), and the stored clock is a double, not null."""
    reset(srv, regen=0.5)
    srv.cli("ACCOUNT.DAMAGE", "ac:1", "10")
    time.sleep(2.1)
    return benchmark(srv, p, *cmd)


def median_rates(srv, contenders, pipeline):
    """contenders: list of (label, fn(pipeline)->rate). Returns label -> median rate."""
    runs = {label: [] for label, _ in contenders}
    for _ in range(ROUNDS):
        for label, fn in contenders:
            reset(srv)
            runs[label].append(fn(pipeline))
    return {label: statistics.median(v) for label, v in runs.items()}


def ping(srv):
    """The machine's PING rate right now (pipeline 16): how busy it is."""
    return benchmark(srv, 16, "PING")


def table(title, rates, base, others, srv=None):
    print(f"\n{title}" + (f" (PING at pipeline 16 just before: {ping(srv):,.0f}/s)" if srv else ""))
    for label, r in rates.items():
        print(f"  {label:<44} {r:>12,.0f} ops/s")
    for o in others:
        print(f"  ratio {base} / {o}: {rates[base] / rates[o]:.2f}x")


def memory(srv, n=MEMORY_ACCOUNTS):
    srv.cli("FLUSHALL")
    srv.cli("ACCOUNT.CREATE", "tmpl")
    body = srv.cli("JSON.GET", "tmpl")
    srv.cli("DEL", "tmpl")

    def used():
        info = srv.cli("INFO", "memory")
        return int(re.search(r"used_memory:(\d+)", info).group(1))

    def load(cmd_of):
        srv.cli("FLUSHALL")
        time.sleep(0.2)
        before = used()
        lines = "".join(cmd_of(i) for i in range(n))
        subprocess.run([f"{STACK}/bin/redis-cli", "-p", str(srv.port), "--pipe"], env=ENV, input=lines,
                       capture_output=True, text=True, check=True)
        assert int(srv.cli("DBSIZE")) == n
        return (used() - before) / n

    def resp(*args):
        return f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)

    ours = load(lambda i: resp("ACCOUNT.CREATE", f"ac:{i}"))
    same = srv.cli("JSON.GET", "ac:7") == body
    plain = load(lambda i: resp("JSON.SET", f"ac:{i}", "$", body))
    print(f"\nMemory of {n:,} accounts (used_memory after - before, per account)")
    print(f"  ACCOUNT.CREATE (module)                      {ours:>10,.0f} bytes")
    print(f"  JSON.SET of the same document                {plain:>10,.0f} bytes")
    print(f"  overhead per account: {ours - plain:+,.0f} bytes ({(ours / plain - 1) * 100:+.2f}%); documents identical: {same}")
    return ours - plain, same


def goals(found, srv):
    """The goals of the issues that set them, against this run's figures (pipeline 16)."""
    rows = [
        ("ACCOUNT.DAMAGE >= 2x the Lua script", "lua", lambda r: r >= 2.0, "{:.2f}x"),
        ("ACCOUNT.DAMAGE >= 1.0x bare JSON.NUMINCRBY", "numincrby", lambda r: r >= 1.0, "{:.2f}x"),
        ("ACCOUNT.GET key stats >= 0.9x JSON.GET key $.stats", "get", lambda r: r >= 0.9, "{:.2f}x"),
        ("regeneration step costs <= 10% of DAMAGE", "regen", lambda r: r >= 0.9, "{:.2f}x"),
        ("DAMAGE under five vitals costs <= 5% more", "five", lambda r: r >= 0.95, "{:.2f}x"),
        ("DAMAGE with a request id >= 0.85x without", "idmp", lambda r: r >= 0.85, "{:.2f}x"),
        ("ACCOUNT.CREATE >= 0.6x JSON.SET", "create", lambda r: r >= 0.6, "{:.2f}x"),
        ("ACCOUNT.GET whole >= 0.9x JSON.GET", "getdoc", lambda r: r >= 0.9, "{:.2f}x"),
        ("ACCOUNT.SET bio >= 0.7x JSON.SET $.bio", "setbio", lambda r: r >= 0.7, "{:.2f}x"),
        ("LOBBY.GETCACHE >= 0.9x GET", "lobby", lambda r: r >= 0.9, "{:.2f}x"),
        ("no memory per account beyond the document", "memory", lambda r: abs(r) < 16, "{:+.0f} bytes"),
    ]
    print(f"\nGoals, pipeline 16 (read by people: a single run differs from the next by about 5%; "
          f"PING now: {ping(srv):,.0f}/s)")
    for text, key, ok, fmt in rows:
        if key in found:
            print(f"  {text:<52} {fmt.format(found[key]):>12}  {'met' if ok(found[key]) else 'MISSED'}")


def across_servers():
    """The headline ratios at pipeline 16 on each server of BENCH_SERVERS, side by side in one run
    (redis-benchmark and the Lua script are the same for all; RedisJSON 2.8.3 on each)."""
    names = [n for n in os.environ.get("BENCH_SERVERS", "stack-7.4,redis-8.2,valkey-9.1").split(",") if n]
    rows = []
    for name in names:
        srv = Server(name)
        try:
            sha = srv.cli("SCRIPT", "LOAD", LUA_DAMAGE)
            contenders = [
                ("damage", lambda p: benchmark(srv, p, "ACCOUNT.DAMAGE", "ac:1", "1")),
                ("lua", lambda p: benchmark(srv, p, "EVALSHA", sha, "1", "ac:1", "1")),
                ("numincrby", lambda p: benchmark(srv, p, "JSON.NUMINCRBY", "ac:1", "$.stats.hp.cur", "-1")),
                ("get", lambda p: benchmark(srv, p, "ACCOUNT.GET", "ac:1", "stats")),
                ("jsonget", lambda p: benchmark(srv, p, "JSON.GET", "ac:1", "$.stats")),
            ]
            r = median_rates(srv, contenders, 16)
            path = re.search(r"account_read_path:(\S+)", srv.cli("INFO", "account"))
            rows.append((name, r, path.group(1) if path else "?"))
        finally:
            srv.stop()
    print("\nAcross servers, pipeline 16 (each with RedisJSON 2.8.3)")
    print(f"  {'server':<12} {'DAMAGE/s':>10} {'/ Lua':>7} {'/ NUMINCRBY':>12} {'GET stats/s':>12} {'/ JSON.GET':>11}  read path")
    for name, r, path in rows:
        print(f"  {name:<12} {r['damage']:>10,.0f} {r['damage'] / r['lua']:>6.2f}x {r['damage'] / r['numincrby']:>11.2f}x "
              f"{r['get']:>12,.0f} {r['get'] / r['jsonget']:>10.2f}x  {path}")


def main():
    if "servers" in ONLY:
        across_servers()
    srv = Server()
    try:
        sha = srv.cli("SCRIPT", "LOAD", LUA_DAMAGE)
        found = {}
        print(f"make bench: Redis Stack 7.4.1 + RedisJSON 2.8.3, {CLIENTS} clients, median of {ROUNDS} rounds, "
              f"{REQUESTS:,} requests per redis-benchmark run, {os.cpu_count()} cores")
        for pipeline in PIPELINES:
            damage = [
                ("1 ACCOUNT.DAMAGE", lambda p: benchmark(srv, p, "ACCOUNT.DAMAGE", "ac:1", "1")),
                ("1r ACCOUNT.DAMAGE, hp regenerating", lambda p: damage_regenerating(srv, p)),
                ("1i ACCOUNT.DAMAGE with a request id", lambda p: with_request_ids(srv, p)),
                ("2 EVALSHA clamped damage (Lua)", lambda p: benchmark(srv, p, "EVALSHA", sha, "1", "ac:1", "1")),
                ("3 JSON.NUMINCRBY (unclamped)", lambda p: benchmark(srv, p, "JSON.NUMINCRBY", "ac:1", "$.stats.hp.cur", "-1")),
                ("4 client read+write, 2 round trips", lambda p: client(srv, "rw", p)),
                ("4' ACCOUNT.DAMAGE from the same client", lambda p: client(srv, "damage", p)),
                ("5 PING", lambda p: benchmark(srv, p, "PING")),
            ]
            if "damage" in ONLY:
                rates = median_rates(srv, damage, pipeline)
                table(f"Damage, pipeline {pipeline}", rates, "1 ACCOUNT.DAMAGE",
                      ["2 EVALSHA clamped damage (Lua)", "3 JSON.NUMINCRBY (unclamped)", "4 client read+write, 2 round trips", "5 PING"], srv)
                regen_cost = rates["1r ACCOUNT.DAMAGE, hp regenerating"] / rates["1 ACCOUNT.DAMAGE"]
                if pipeline == 16:
                    found["lua"] = rates["1 ACCOUNT.DAMAGE"] / rates["2 EVALSHA clamped damage (Lua)"]
                    found["numincrby"] = rates["1 ACCOUNT.DAMAGE"] / rates["3 JSON.NUMINCRBY (unclamped)"]
                    found["regen"] = regen_cost
                    found["idmp"] = rates["1i ACCOUNT.DAMAGE with a request id"] / rates["1 ACCOUNT.DAMAGE"]
                print(f"  ratio 1r / 1 (regeneration step kept): {regen_cost:.2f}x")
                same_client = rates["4' ACCOUNT.DAMAGE from the same client"] / rates["4 client read+write, 2 round trips"]
                print(f"  ratio 4' / 4 (one client program, both ways): {same_client:.2f}x")
            reads = [
                ("ACCOUNT.GET key stats", lambda p: benchmark(srv, p, "ACCOUNT.GET", "ac:1", "stats")),
                ("JSON.GET key $.stats", lambda p: benchmark(srv, p, "JSON.GET", "ac:1", "$.stats")),
                ("ACCOUNT.GET key stats, hp regenerating", lambda p: get_regenerating(srv, p, "ACCOUNT.GET", "ac:1", "stats")),
                ("JSON.GET key $.stats, same document", lambda p: get_regenerating(srv, p, "JSON.GET", "ac:1", "$.stats")),
            ]
            if "reads" in ONLY:
                rates = median_rates(srv, reads, pipeline)
                table(f"Read a section, pipeline {pipeline}", rates, "ACCOUNT.GET key stats", ["JSON.GET key $.stats"], srv)
                regen_read = rates["ACCOUNT.GET key stats, hp regenerating"] / rates["JSON.GET key $.stats, same document"]
                if pipeline == 16:
                    found["get"] = rates["ACCOUNT.GET key stats"] / rates["JSON.GET key $.stats"]
                print(f"  ratio ACCOUNT.GET / JSON.GET, hp regenerating: {regen_read:.2f}x")
            apply3 = [
                ("ACCOUNT.APPLY of 3 vitals (per call)", lambda p: benchmark(srv, p, "ACCOUNT.APPLY", "ac:1", "hp", "-1", "mp", "-1", "stamina", "1")),
                ("3 x ACCOUNT.DAMAGE (per 3 calls)", lambda p: benchmark(srv, p, "ACCOUNT.DAMAGE", "ac:1", "1") / 3),
                ("3 x JSON.NUMINCRBY (per 3 calls)", lambda p: benchmark(srv, p, "JSON.NUMINCRBY", "ac:1", "$.stats.hp.cur", "-1") / 3),
            ]
            if "apply" in ONLY:
                rates = median_rates(srv, apply3, pipeline)
                table(f"Three vitals at once, pipeline {pipeline}", rates, "ACCOUNT.APPLY of 3 vitals (per call)",
                      ["3 x ACCOUNT.DAMAGE (per 3 calls)", "3 x JSON.NUMINCRBY (per 3 calls)"], srv)
        for pipeline in PIPELINES:
            schema = [
                ("ACCOUNT.DAMAGE, shipped schema (3 vitals)", lambda p: under_schema(srv, SHIPPED, p, "ACCOUNT.DAMAGE", "ac:1", "1")),
                ("ACCOUNT.DAMAGE, five-vital schema", lambda p: under_schema(srv, five_vitals(), p, "ACCOUNT.DAMAGE", "ac:1", "1")),
                ("ACCOUNT.CREATE of a whole document", lambda p: create_vs_set(srv, p, True)),
                ("JSON.SET of the same document", lambda p: create_vs_set(srv, p, False)),
            ]
            if "schema" in ONLY:
                rates = median_rates(srv, schema, pipeline)
                table(f"The schema's cost, pipeline {pipeline}", rates, "ACCOUNT.DAMAGE, five-vital schema",
                      ["ACCOUNT.DAMAGE, shipped schema (3 vitals)"], srv)
                create = rates["ACCOUNT.CREATE of a whole document"] / rates["JSON.SET of the same document"]
                print(f"  ratio ACCOUNT.CREATE / JSON.SET (validation of a whole-document write): {create:.2f}x")
                if pipeline == 16:
                    found["five"] = rates["ACCOUNT.DAMAGE, five-vital schema"] / rates["ACCOUNT.DAMAGE, shipped schema (3 vitals)"]
                    found["create"] = create
        for pipeline in PIPELINES:
            bio = '{"name":"Hero","gender":"female","created_at":null}'
            documents = [
                ("ACCOUNT.GET key (the whole document)", lambda p: benchmark(srv, p, "ACCOUNT.GET", "ac:1")),
                ("JSON.GET key", lambda p: benchmark(srv, p, "JSON.GET", "ac:1")),
                ("ACCOUNT.SET key bio <json>", lambda p: benchmark(srv, p, "ACCOUNT.SET", "ac:1", "bio", bio)),
                ("JSON.SET key $.bio <json>", lambda p: benchmark(srv, p, "JSON.SET", "ac:1", "$.bio", bio)),
            ]
            if "documents" in ONLY:
                rates = median_rates(srv, documents, pipeline)
                table(f"Whole documents and sections, pipeline {pipeline}", rates, "ACCOUNT.GET key (the whole document)",
                      ["JSON.GET key"], srv)
                get_doc = rates["ACCOUNT.GET key (the whole document)"] / rates["JSON.GET key"]
                set_bio = rates["ACCOUNT.SET key bio <json>"] / rates["JSON.SET key $.bio <json>"]
                print(f"  ratio ACCOUNT.SET bio / JSON.SET $.bio (validated section write): {set_bio:.2f}x")
                if pipeline == 16:
                    found["getdoc"] = get_doc
                    found["setbio"] = set_bio
        for pipeline in PIPELINES:
            lobby = json.dumps([{"character_id": i, "user_id": 7, "name": f"Hero{i}", "gender": "male",
                                 "game_stage": "in_game", "location_id": "52_52"} for i in range(1, 4)])
            srv.cli("LOBBY.SETCACHE", "lobby:user:7", lobby, "EX", "100000")
            srv.cli("SET", "lobby:plain:7", srv.cli("GET", "lobby:user:7"), "EX", "100000")
            cache = [
                ("LOBBY.GETCACHE key (3 characters)", lambda p: benchmark(srv, p, "LOBBY.GETCACHE", "lobby:user:7")),
                ("GET of the same string", lambda p: benchmark(srv, p, "GET", "lobby:plain:7")),
            ]
            if "lobby" in ONLY:
                rates = median_rates(srv, cache, pipeline)
                table(f"The lobby cache, pipeline {pipeline}", rates, "LOBBY.GETCACHE key (3 characters)",
                      ["GET of the same string"], srv)
                if pipeline == 16:
                    found["lobby"] = rates["LOBBY.GETCACHE key (3 characters)"] / rates["GET of the same string"]
        if "memory" in ONLY:
            overhead, same = memory(srv)
            if same:
                found["memory"] = overhead
        goals(found, srv)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
