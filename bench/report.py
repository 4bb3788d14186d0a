#!/usr/bin/env python3
"""Turns a results JSON written by harness.py into BENCHMARKS.md at the repository root."""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TITLES = {
    "a_by_id": "(a) one entity by id (random ids)",
    "b_page_50": "(b) a page of 50 characters, each with its faction and location",
    "c_search": "(c) full-text search",
    "d_update": "(d) updateEntity",
}


def shown(path):
    """A path relative to the repository when it is inside it."""
    try:
        return pathlib.Path(path).resolve().relative_to(ROOT)
    except ValueError:
        return path


def verdict(ok):
    return "met" if ok else "**missed**"


def main(path):
    results = json.loads(pathlib.Path(path).read_text())
    machine = results["machine"]
    runs = results["runs"]
    limits = results["limits"]
    lines = [
        "# Benchmarks",
        "",
        "Measured by the harness in `bench/` (see `bench/README.md`): a private PostgreSQL, a seeded world",
        "(one tenant with 10,000 characters, 500 locations and 200 factions referencing each other, plus",
        "explicit relationships; and twenty tenants of the same total size), wrk on loopback, every",
        "response body checked. Server, database and load generator share the machine's cores.",
        "",
        f"Command: `{results['command'].strip()}` ({results['seconds']} s per run) at commit `{machine['commit']}`.",
        "",
        f"Machine: {machine['cores']} × {machine['cpu']}, {machine['memory_gib']} GiB, Linux {machine['kernel']}, "
        f"PostgreSQL {machine['postgres']}, {machine['rustc']}, {machine['wrk']}.",
        "",
        "## Physical limits on this machine",
        "",
        f"- pgbench select-only (`-S -M prepared -c 16 -j 2`): **{limits['pgbench_select_only_tps']:,.0f} tps**",
        f"- a plain axum handler, 16 connections: **{limits['plain_axum']['req_per_s']:,.0f} req/s** "
        f"(p99 {limits['plain_axum']['p99_ms']} ms)",
        "",
    ]
    for scenario, title in TITLES.items():
        rows = [r for r in runs if r["scenario"] == scenario]
        if not rows:
            continue
        lines += [f"## {title}", "",
                  "| server | tenants | conns | req/s | p50 ms | p99 ms | server CPU % | peak RSS MiB | SQL/req | bad |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['server']} | {r['tenants']} | {r['connections']} | {r['req_per_s']:,.0f} | "
                         f"{r['p50_ms']} | {r['p99_ms']} | {r['server_cpu_pct']} | {r['peak_rss_mib']} | "
                         f"{r.get('sql_per_request', '–')} | {r['bad']} |")
        lines.append("")

    def best(scenario, server="loregraph", tenants=1):
        candidates = [r for r in runs if r["scenario"] == scenario and r["server"] == server and r["tenants"] == tenants]
        return max(candidates, key=lambda r: r["req_per_s"]) if candidates else None

    def at16(scenario):
        return next((r for r in runs if r["scenario"] == scenario and r["server"] == "loregraph"
                     and r["tenants"] == 1 and r["connections"] == 16), None)

    lines += ["## Targets", ""]
    a, b = best("a_by_id"), best("b_page_50")
    if a:
        ratio = a["req_per_s"] / limits["pgbench_select_only_tps"]
        lines.append(f"- (a) at least 30% of pgbench select-only: {ratio:.0%} — {verdict(ratio >= 0.3)}")
    if at16("a_by_id"):
        p99 = at16("a_by_id")["p99_ms"]
        lines.append(f"- (a) p99 under 10 ms at 16 connections: {p99} ms — {verdict(p99 < 10)}")
    if at16("b_page_50"):
        p99 = at16("b_page_50")["p99_ms"]
        lines.append(f"- (b) p99 under 25 ms at 16 connections: {p99} ms — {verdict(p99 < 25)}")
    if b:
        sql = max(r.get("sql_per_request", 0) for r in runs if r["scenario"] == "b_page_50")
        lines.append(f"- (b) at most 4 SQL statements per request: {sql} — {verdict(sql <= 4)}")
    lines.append(f"- idle RSS under 60 MiB: {results['idle_rss_mib']} MiB — {verdict(results['idle_rss_mib'] < 60)}")
    peak = max((r["peak_rss_mib"] for r in runs if r["server"] == "loregraph"), default=0)
    lines.append(f"- RSS under load under 250 MiB: peak {peak} MiB — {verdict(peak < 250)}")
    peers = sorted({r["server"] for r in runs} - {"loregraph"})
    if not peers:
        lines.append("- against PostGraphile 5 and Mercurius + graphql-jit: not measured yet (the peers are not in the "
                     "harness yet)")
    lines.append("")
    lines.append(f"Seeding the one-tenant world through the API took {results['seed_seconds']} s. Raw numbers: "
                 f"`{shown(path)}`.")
    findings = ROOT / "bench" / "findings.md"
    if findings.exists():
        lines += ["", findings.read_text().rstrip()]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
