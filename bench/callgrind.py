#!/usr/bin/env python3
"""Instructions per request of loregraph binaries, counted by callgrind (deterministic, unlike req/s).

For scenarios (a) one entity by id and (b) a page of 50 characters with their faction and location
(the bodies of bench/harness.py), each binary runs in turn under `valgrind --tool=callgrind` on one
database seeded the way harness.py seeds it; per scenario it gets the warm-up requests, then
`callgrind_control --zero`, the measured requests one after the other on one keep-alive HTTP
connection (each checked: 200, no `errors`, the scenario's expected text), `callgrind_control --dump`.
Ir per request is the dump's total Ir (its `summary:` line) over the number of requests. Every
binary gets the same ids and offsets, in the same order.

    python3 bench/callgrind.py --bin base=/tmp/lg-log --bin head=target/release/loregraph
    python3 bench/callgrind.py --bin head=... --requests a=1500,b=300 --warmup 200

No cargo: it runs binaries already built. Needs valgrind, PostgreSQL 15 (as harness.py does), and
a few minutes per binary (valgrind runs the server about 50 times slower). The dumps stay in
/tmp/cg/<name>.<pid>.<n> for callgrind_annotate; the cluster and server logs in /tmp/loregraph-callgrind.
"""

import argparse
import glob
import http.client
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys

import harness
from harness import log

SCENARIOS = {"a": "a_by_id", "b": "b_page_50"}  # harness.loregraph_scenarios' names
OUT = pathlib.Path("/tmp/cg")


def request_bodies(scenario, count, seed):
    """`count` bodies of a harness scenario, its `%ID%` filled as load.lua fills it, from a fixed seed."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        number = rng.randrange(scenario["ids"])
        pad = scenario["pad"]
        ident = scenario["prefix"] + (f"{number:0{pad}d}" if pad else str(number))
        bodies.append(scenario["body"].replace("%ID%", ident))
    return bodies


def send_all(port, auth, scenario, bodies):
    """Sends the bodies one after the other on one keep-alive connection, checking every answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Content-Type": "application/json", "Authorization": auth}
    try:
        for body in bodies:
            connection.request("POST", "/graphql", body=body.encode(), headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            if response.status != 200 or '"errors"' in text or scenario["expect"] not in text:
                raise SystemExit(f"bad response ({response.status}) to {body}:\n{text[:500]}")
    finally:
        connection.close()


def dump_total(pattern, trigger):
    """The total Ir of the dump `callgrind_control --dump=<trigger>` made, and its file (None until
    it is written out: `totals:` is its last line)."""
    for path in glob.glob(pattern):
        text = pathlib.Path(path).read_text(errors="replace")
        if f"\ndesc: Trigger: dump {trigger}\n" in text and re.search(r"^totals: ", text, re.M):
            found = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
            return int(found.group(1)), path
    return None


def callgrind_control(command, pid):
    result = subprocess.run(["callgrind_control", command, str(pid)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"callgrind_control {command} {pid} failed:\n{result.stdout}{result.stderr}")


def measure_binary(pg, name, binary, auth, scenarios, counts, warmup, seed):
    """One binary under callgrind: every scenario's Ir per request (and SQL statements per request)."""
    port = harness.free_port()
    env = {**os.environ, **harness.loregraph_env(pg, "loregraph", name, port)}
    subprocess.run([binary, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    for old in glob.glob(str(OUT / f"{name}.*")):
        os.remove(old)
    server_log = open(harness.BENCH_DIR / f"{name}.log", "w")
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={OUT}/{name}.%p", binary, "serve"]
    log(f"{name}: {' '.join(command)}")
    process = subprocess.Popen(command, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    rows = []
    try:
        def answers():
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}: see {server_log.name}")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", "/health")
                return connection.getresponse().status < 500
            finally:
                connection.close()

        harness.wait_for(answers, f"{name} to answer under valgrind", timeout=900)
        for key, scenario_name in SCENARIOS.items():
            if key not in counts:
                continue
            scenario = scenarios[scenario_name]
            log(f"{name} ({key}) {scenario_name}: {warmup} warm-up, {counts[key]} measured requests")
            send_all(port, auth, scenario, request_bodies(scenario, warmup, seed + 1))
            callgrind_control("--zero", process.pid)
            statements = harness.statements_so_far(pg, "loregraph")
            send_all(port, auth, scenario, request_bodies(scenario, counts[key], seed))
            statements = harness.statements_so_far(pg, "loregraph") - statements  # (its own query is left out)
            callgrind_control(f"--dump={scenario_name}", process.pid)
            dumps = f"{OUT}/{name}.{process.pid}.*"
            harness.wait_for(lambda: dump_total(dumps, scenario_name), f"{name}'s dump", timeout=300)
            total, path = dump_total(dumps, scenario_name)
            rows.append((name, f"({key}) {scenario_name}", counts[key], total / counts[key],
                         statements / counts[key], path))
    finally:
        process.terminate()
        try:
            process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server_log.close()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", action="append", required=True, metavar="NAME=PATH",
                        help="a binary to measure (repeatable; the first one seeds the database)")
    parser.add_argument("--requests", default="a=1500,b=300",
                        help="measured requests per scenario (leave a scenario out to skip it)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests before each scenario")
    parser.add_argument("--characters", type=int, default=10_000, help="the seeded world's size, as harness.py")
    parser.add_argument("--seed", type=int, default=1, help="the ids' and offsets' random seed")
    args = parser.parse_args()
    binaries = [(spec.split("=", 1)[0], str(pathlib.Path(spec.split("=", 1)[1]).resolve())) for spec in args.bin]
    counts = {k: int(v) for k, v in (item.split("=") for item in args.requests.split(","))}
    if set(counts) - set(SCENARIOS) or len({n for n, _ in binaries}) != len(binaries):
        raise SystemExit("--requests takes a=N,b=N; --bin names must differ")
    for _, binary in binaries:
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} is not an executable")

    harness.BENCH_DIR = pathlib.Path("/tmp/loregraph-callgrind")
    shutil.rmtree(harness.BENCH_DIR, ignore_errors=True)
    harness.BENCH_DIR.mkdir(parents=True)
    OUT.mkdir(exist_ok=True)
    pg = harness.Postgres(harness.BENCH_DIR)
    pg.start()
    try:
        # Seeding as harness.main does it: its world, its random seed, through the first binary.
        size = (args.characters, args.characters // 20, args.characters // 50)
        log(f"seeding one tenant with {binaries[0][0]}: {size[0]} characters, {size[1]} locations, "
            f"{size[2]} factions")
        pg.psql("postgres", "CREATE DATABASE loregraph")
        harness.LOREGRAPH = binaries[0][1]
        server, _ = harness.start_loregraph(pg, "loregraph", "seed")
        try:
            key = harness.seed_tenant(server.port, "Bench Studio", size, edges=size[0] // 5, rng=random.Random(7))
        finally:
            server.stop()
        pg.psql("loregraph", "VACUUM ANALYZE")
        pg.psql("loregraph", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

        scenarios = harness.loregraph_scenarios(size[0])
        rows = []
        for name, binary in binaries:
            rows += measure_binary(pg, name, binary, f"Bearer {key}", scenarios, counts, args.warmup, args.seed)
    finally:
        pg.stop()

    print(f"{'binary':<12} {'scenario':<16} {'requests':>8} {'Ir/request':>14} {'SQL/request':>11}  dump")
    for name, scenario, requests, per_request, sql, path in rows:
        print(f"{name:<12} {scenario:<16} {requests:>8} {per_request:>14,.0f} {sql:>11.2f}  {path}")


if __name__ == "__main__":
    sys.exit(main())
