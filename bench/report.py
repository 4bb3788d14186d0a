#!/usr/bin/env python3
"""Turns a results JSON written by harness.py into BENCHMARKS.md at the repository root."""

import json
import pathlib
import sys
import textwrap

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


def fmt(value):
    return "–" if value is None else f"{value:,.1f}"


def verdict(ok):
    return "met" if ok else "**missed**"


SERVER_ORDER = {"loregraph": 0, "postgraphile": 1, "mercurius": 2}
# At 16 connections, loregraph's req/s over each peer's: (a) and (b) in the issue.
PEER_TARGETS = {
    "a_by_id": {"postgraphile": 3.0, "mercurius": 1.2},
    "b_page_50": {"postgraphile": 2.0, "mercurius": 1.2},
}
PEER_NAMES = {"postgraphile": "PostGraphile", "mercurius": "Mercurius"}


def main(path):
    results = json.loads(pathlib.Path(path).read_text())
    machine = results["machine"]
    runs = results["runs"]
    limits = results["limits"]
    characters = results.get("characters", 10_000)
    peers = sorted({r["server"] for r in runs} - {"loregraph"}, key=lambda s: SERVER_ORDER.get(s, 9))
    warmup = results.get("warmup_seconds")
    lines = [
        "# Benchmarks",
        "",
        "Measured by the harness in `bench/` (see `bench/README.md`): a private PostgreSQL, a seeded world",
        f"(one tenant with {characters:,} characters, {characters // 20:,} locations and {characters // 50:,} factions "
        "referencing each other, plus",
        "explicit relationships; and twenty tenants of the same total size), wrk on loopback, every",
        "response body checked. Server, database and load generator share the machine's cores.",
        "",
        f"Command: `{results['command'].strip()}` ({results['seconds']} s per run"
        + (f", after a {warmup} s warm-up per server and scenario" if warmup else "")
        + f") at commit `{machine['commit']}`.",
        "",
        f"Machine: {machine['cores']} × {machine['cpu']}, {machine['memory_gib']} GiB, Linux {machine['kernel']}, "
        f"PostgreSQL {machine['postgres']}, {machine['rustc']}, {machine['wrk']}"
        + (f", Node {machine['node'].lstrip('v')}" if peers and machine.get("node") else "") + ".",
        "",
    ]
    if peers:
        packages = machine.get("packages", {})

        def version(name):
            return f" {packages[name]}" if name in packages else ""

        lines += textwrap.wrap(
            "Peers, on the same database after loregraph's runs (`bench/peers/`, pinned in `bench/package.json`): "
            f"PostGraphile{version('postgraphile')} (Amber preset, grafast{version('grafast')}) and a hand-written "
            f"Mercurius{version('mercurius')} server (Fastify{version('fastify')}, graphql-jit{version('graphql-jit')}, "
            f"DataLoader{version('dataloader')}, pg{version('pg')}), each one Node process with 32 pooled "
            "connections like loregraph. They serve views over loregraph's tables and two SQL functions "
            "(search; an update that also writes the revision row), with no authentication, no tenancy and "
            "no validation of the fields: all of which favours them. Their SQL/req counts every statement "
            "PostgreSQL runs, the foreign-key checks of the update included, as loregraph's does.",
            width=100, break_on_hyphens=False) + [""]
    lines += ["## Physical limits on this machine", ""]
    if limits:
        lines += [
            f"- pgbench select-only (`-S -M prepared -c 16 -j 2`): **{limits['pgbench_select_only_tps']:,.0f} tps**",
            f"- a plain axum handler, 16 connections: **{limits['plain_axum']['req_per_s']:,.0f} req/s** "
            f"(p99 {limits['plain_axum']['p99_ms']} ms)",
        ]
    else:
        lines.append("- not measured in this run (`--skip-limits`)")
    lines.append("")
    for scenario, title in TITLES.items():
        rows = sorted((r for r in runs if r["scenario"] == scenario),
                      key=lambda r: (SERVER_ORDER.get(r["server"], 9), r["tenants"]))
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

    fanout = results.get("fanout", [])
    if fanout:
        lines += [
            "## Subscribers: fan-out to idle WebSocket clients", "",
            *textwrap.wrap(
                f"`bench/ws_fanout.rs` (Rust, tokio-tungstenite) opens {results['subscribers']:,} graphql-transport-ws "
                "subscribers on one server (loregraph: each authenticated with the API key in connection_init), "
                f"then sends {results['events']} updates of one character one at a time over HTTP; every subscriber "
                "receives each with the character's name and new version. Fan-out is the time from sending the "
                "mutation until the last subscriber has the event; delivery, until each one has it. Memory per "
                "connection is the server's RSS growth over the idle connections.",
                width=100, break_on_hyphens=False),
            "",
            "| server | subscribers | connected | connects/s | bytes per idle connection | fan-out p50 ms | "
            "fan-out p99 ms | delivery p50 ms | delivery p99 ms | missed events |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for f in sorted(fanout, key=lambda f: SERVER_ORDER.get(f["server"], 9)):
            per = f.get("bytes_per_connection")
            lines.append(
                f"| {f['server']} | {f['subscribers']:,} | {f['connected']:,} | {f['connects_per_s']:,.0f} | "
                f"{'–' if per is None else f'{per:,.0f}'} | {fmt(f.get('fanout_p50_ms'))} | "
                f"{fmt(f.get('fanout_p99_ms'))} | {fmt(f.get('delivery_p50_ms'))} | "
                f"{fmt(f.get('delivery_p99_ms'))} | {f['missed_events']} |")
        lines.append("")

    def best(scenario, server="loregraph", tenants=1):
        candidates = [r for r in runs if r["scenario"] == scenario and r["server"] == server and r["tenants"] == tenants]
        return max(candidates, key=lambda r: r["req_per_s"]) if candidates else None

    def at16(scenario, server="loregraph"):
        return next((r for r in runs if r["scenario"] == scenario and r["server"] == server
                     and r["tenants"] == 1 and r["connections"] == 16), None)

    lines += ["## Targets", ""]
    a, b = best("a_by_id"), best("b_page_50")
    if a and limits:
        ratio = a["req_per_s"] / limits["pgbench_select_only_tps"]
        lines.append(f"- (a) at least 30% of pgbench select-only: {ratio:.0%} — {verdict(ratio >= 0.3)}")
    if at16("a_by_id"):
        p99 = at16("a_by_id")["p99_ms"]
        lines.append(f"- (a) p99 under 10 ms at 16 connections: {p99} ms — {verdict(p99 < 10)}")
    if at16("b_page_50"):
        p99 = at16("b_page_50")["p99_ms"]
        lines.append(f"- (b) p99 under 25 ms at 16 connections: {p99} ms — {verdict(p99 < 25)}")
    if b:
        sql = max(r.get("sql_per_request", 0) for r in runs if r["scenario"] == "b_page_50"
                  and r["server"] == "loregraph")
        lines.append(f"- (b) at most 4 SQL statements per request: {sql} — {verdict(sql <= 4)}")
    lines.append(f"- idle RSS under 60 MiB: {results['idle_rss_mib']} MiB — {verdict(results['idle_rss_mib'] < 60)}")
    peak = max((r["peak_rss_mib"] for r in runs if r["server"] == "loregraph"), default=None)
    if peak is not None:
        lines.append(f"- RSS under load under 250 MiB: peak {peak} MiB — {verdict(peak < 250)}")
    for scenario, targets in PEER_TARGETS.items():
        ours = at16(scenario)
        for peer, wanted in targets.items():
            label = f"- ({scenario[0]}) at least {wanted:g}× {PEER_NAMES[peer]}, 16 connections"
            theirs = at16(scenario, peer)
            if not (ours and theirs):
                lines.append(f"{label}: not measured in this run")
                continue
            ratio = ours["req_per_s"] / theirs["req_per_s"] if theirs["req_per_s"] else float("inf")
            lines.append(f"{label}: {ours['req_per_s']:,.0f} / {theirs['req_per_s']:,.0f} req/s = {ratio:.2f}× — "
                         f"{verdict(ratio >= wanted)}")
    ours = next((f for f in fanout if f["server"] == "loregraph"), None)
    if ours:
        everyone = ours["connected"] == ours["subscribers"] and ours["missed_events"] == 0
        lines.append(f"- {ours['subscribers']:,} subscribers connected and served: {ours['connected']:,} connected, "
                     f"{ours['missed_events']} events missed — {verdict(everyone and ours['subscribers'] >= 10_000)}")
        per = ours.get("bytes_per_connection")
        if per is not None:
            lines.append(f"- at most 20 KB per idle connection: {per / 1000:.1f} KB — {verdict(per <= 20_000)}")
        p99 = ours.get("fanout_p99_ms")
        if p99 is not None:
            lines.append(f"- fan-out p99 under 250 ms: {p99:.0f} ms — {verdict(p99 < 250)}")
    lines.append("")
    if peers and results.get("peers"):
        rss = ", ".join(f"{PEER_NAMES.get(p, p)} {results['peers'][p]['idle_rss_mib']} MiB"
                        for p in peers if p in results["peers"])
        lines += [f"Idle RSS of the peers after start-up: {rss} (loregraph: {results['idle_rss_mib']} MiB).", ""]
    lines.append(f"Seeding the one-tenant world through the API took {results['seed_seconds']} s. Raw numbers: "
                 f"`{shown(path)}`.")
    findings = ROOT / "bench" / "findings.md"
    if findings.exists():
        lines += ["", findings.read_text().rstrip()]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
