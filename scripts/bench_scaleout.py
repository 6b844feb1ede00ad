#!/usr/bin/env python3
"""Scale-out figures (run by `scripts/bench --postgres`): the shop behind nginx with one
process and with three on one PostgreSQL database, and how long a sign-out on one process
takes to be refused by another.

  bench_scaleout.py measure --label "1 process" --url http://nginx --processes URL[,URL...] --out FILE.json
  bench_scaleout.py write --results FILE.json [...] --out docs/PERFORMANCE.md
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import time
import urllib.parse
import urllib.request

from bench import CONNS, SECS, fmt, lua, machine, post, token_from, write_section, wrk  # noqa: E402

START = "<!-- scale-out figures: scripts/bench --postgres -->"
END = "<!-- end of scale-out figures -->"


def current_user(base, token):
    req = urllib.request.Request(base + "/api/current_user", data=b"", method="POST",
                                 headers={"Cookie": f"sid={token}"})
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")


def propagation(a, b, rounds):
    """Sign in on A, use the session on B (now cached there), sign out on A: the time from
    the sign-out's answer (the change is committed) until B refuses the token."""
    times = []
    for _ in range(rounds):
        status, headers, _ = post(a, "/api/login", {"username": "alice", "password": "wonderland-2026"})
        assert status == 200, status
        token = token_from(headers)
        assert current_user(b, token) == {"username": "alice"}
        status, _, _ = post(a, "/api/logout", {}, cookie=token)
        assert status == 200, status
        start = time.perf_counter()
        while current_user(b, token) is not None:
            if time.perf_counter() - start > 5:
                raise SystemExit("process B still accepts a session signed out on A after 5 s")
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(args):
    processes = args.processes.split(",")
    status, headers, _ = post(args.url, "/api/login", {"username": "bob", "password": "builder-bob-2026"})
    assert status == 200, status
    user = token_from(headers)
    wrk(args.url + "/cart", cookie=user, secs=2)  # warm up every process
    result = {
        "label": args.label,
        "catalog": wrk(args.url + "/"),
        "cart": wrk(args.url + "/cart", cookie=user),
        "check": wrk(args.url + "/api/current_user", cookie=user,
                     script=lua("post.lua", 'wrk.method = "POST"\n')),
    }
    if len(processes) >= 2:
        times = propagation(processes[0], processes[1], args.rounds)
        times.sort()
        result["propagation"] = {
            "rounds": len(times),
            "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "max": times[-1],
        }
    results = json.load(open(args.out)) if os.path.exists(args.out) else []
    results.append(result)
    json.dump(results, open(args.out, "w"))
    print(json.dumps(result, indent=1))


def write(args):
    results = json.load(open(args.results))
    lines = [
        START,
        "## Several processes (PostgreSQL, behind nginx)",
        "",
        f"Measured {datetime.date.today().isoformat()} by `scripts/bench --postgres` on: {machine()}.",
        f"nginx (round-robin, keep-alive to the processes) in front of the release server on one",
        f"PostgreSQL database; wrk with {CONNS} connections for {SECS} s per line, bob signed in.",
        "Everything (wrk, nginx, PostgreSQL, the shop processes) shares the same 2 cores, so",
        "more processes cannot mean more throughput here; the table shows what they cost.",
        "",
        "| behind nginx | `GET /` | `GET /cart` signed in | `POST /api/current_user` signed in |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['label']} | {fmt(r['catalog'])} | {fmt(r['cart'])} | {fmt(r['check'])} |")
    prop = [r for r in results if "propagation" in r]
    if prop:
        p = prop[-1]["propagation"]
        lines += [
            "",
            "Revocation across processes: sign in on process A, use the session on process B",
            "(which then holds it in memory), sign out on A, and time from A's answer until B",
            f"refuses the token (polling B as fast as it answers), {p['rounds']} rounds:",
            "",
            "| p50 | p99 | max |",
            "|---|---|---|",
            f"| {p['p50']:.1f} ms | {p['p99']:.1f} ms | {p['max']:.1f} ms |",
        ]
    lines.append(END)
    write_section(args.out, START, END, "\n".join(lines))
    print(f"scale-out figures written to {args.out}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--label", required=True)
    m.add_argument("--url", required=True)
    m.add_argument("--processes", required=True)
    m.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_PROPAGATION_ROUNDS", "200")))
    m.add_argument("--out", required=True)
    w = sub.add_parser("write")
    w.add_argument("--results", required=True)
    w.add_argument("--out", default="docs/PERFORMANCE.md")
    args = ap.parse_args()
    measure(args) if args.cmd == "measure" else write(args)


if __name__ == "__main__":
    main()
