#!/usr/bin/env python3
"""Event latency (run by `scripts/bench`): how long a change made in one tab takes to
reach another tab of the same browser through `GET /api/events`, with 100 streams open.

50 guest sessions ("browsers") each hold two streams ("tabs"), 100 in all, every one of
them hearing (and filtering) every event. Each round, one browser changes its cart in
tab A (`POST /api/update_cart_item`), and the time until tab B's stream delivers the new
state is taken twice: from the moment the request is sent (an upper bound: it includes
the request's own work) and from the moment its answer arrives (the change is committed
by then, so this is at most the time from commit to message).

  bench_events.py measure --label L --url URL [--stream-url URL] --out FILE.json
                          (or --server BIN --site DIR to start a release server on SQLite)
  bench_events.py write --results FILE.json [--out docs/PERFORMANCE.md]
"""
import argparse
import datetime
import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from bench import free_port, machine, post, token_from, write_section  # noqa: E402

START = "<!-- event figures: scripts/bench -->"
END = "<!-- end of event figures -->"
BROWSERS = 50
TABS = 2


class Tab:
    """One open stream; its `state` messages land in a queue with their arrival time."""

    def __init__(self, base, token):
        url = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.conn.request("GET", "/api/events", headers={
            "Cookie": f"sid={token}", "Sec-Fetch-Site": "same-origin", "Accept": "text/event-stream"})
        self.res = self.conn.getresponse()
        if self.res.status != 200:
            raise SystemExit(f"stream refused: {self.res.status}")
        self.messages = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        event, data = None, ""
        try:
            for raw in self.res:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line == "":
                    if event == "state":
                        self.messages.put((time.perf_counter(), json.loads(data)))
                    event, data = None, ""
        except Exception:
            pass

    def until(self, want, limit=5.0):
        deadline = time.perf_counter() + limit
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise SystemExit("no event within 5 s")
            at, state = self.messages.get(timeout=left)
            if want(state):
                return at

    def drain(self):
        while not self.messages.empty():
            self.messages.get_nowait()


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def measure(args):
    server = None
    if args.server:
        tmp = tempfile.mkdtemp(prefix="bench-events-")
        port = free_port()
        args.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, LEPTOS_OUTPUT_NAME="shop", LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
                   LEPTOS_SITE_ROOT=args.site, LEPTOS_HASH_FILES="true",
                   DATABASE_URL=f"sqlite://{tmp}/events.db", COOKIE_SECURE="false", RUST_LOG="error")
        server = subprocess.Popen([args.server], env=env, stdout=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(args.url + "/").read()
                break
            except Exception:
                time.sleep(0.1)
        else:
            server.kill()
            raise SystemExit("the server did not come up")
    stream_url = args.stream_url or args.url
    try:
        browsers = []
        for _ in range(BROWSERS):
            status, headers, _ = post(args.url, "/api/add_to_cart", {"product_id": "1", "quantity": "1"})
            assert status == 200, status
            token = token_from(headers)
            browsers.append((token, [Tab(stream_url, token) for _ in range(TABS)]))
        for _, tabs in browsers:
            for tab in tabs:
                tab.until(lambda s: s["why"] == "hello")
        sent, answered = [], []
        for i in range(args.rounds):
            token, (tab_a, tab_b) = browsers[i % BROWSERS]
            tab_b.drain()
            quantity = 2 if (i // BROWSERS) % 2 == 0 else 1
            start = time.perf_counter()
            status, _, _ = post(args.url, "/api/update_cart_item",
                                {"product_id": "1", "quantity": str(quantity)}, cookie=token)
            done = time.perf_counter()
            assert status == 200, status
            at = tab_b.until(lambda s: s["why"] == "cart_changed" and s["cart"] == quantity)
            sent.append((at - start) * 1000)
            answered.append(max(0.0, at - done) * 1000)
            tab_a.drain()
        sent.sort()
        answered.sort()
        result = {
            "label": args.label,
            "streams": BROWSERS * TABS,
            "rounds": len(sent),
            "sent": {"p50": statistics.median(sent), "p99": percentile(sent, 0.99), "max": sent[-1]},
            "answered": {"p50": statistics.median(answered), "p99": percentile(answered, 0.99),
                         "max": answered[-1]},
        }
    finally:
        if server:
            server.terminate()
            server.wait()
    results = json.load(open(args.out)) if os.path.exists(args.out) else []
    results = [r for r in results if r["label"] != result["label"]] + [result]
    json.dump(results, open(args.out, "w"))
    print(json.dumps(result, indent=1))


def row(r):
    s, a = r["sent"], r["answered"]
    return (f"| {r['label']} | {r['streams']} | {r['rounds']} | {s['p50']:.1f} / {s['p99']:.1f} ms | "
            f"{a['p50']:.1f} / {a['p99']:.1f} ms | {a['max']:.1f} ms |")


def write(args):
    results = json.load(open(args.results))
    old = open(args.out).read() if os.path.exists(args.out) else ""
    # Rows of earlier runs (the other backend) are kept unless measured again.
    kept = {}
    if START in old and END in old:
        for line in old[old.index(START):old.index(END)].splitlines():
            if line.startswith("| ") and not line.startswith("| where") and not line.startswith("|---"):
                kept[line.split("|")[1].strip()] = line
    for r in results:
        kept[r["label"]] = row(r)
    lines = [
        START,
        "## Session events (`GET /api/events`)",
        "",
        f"Measured {datetime.date.today().isoformat()} by `scripts/bench` (SQLite) and `scripts/bench",
        f"--postgres` (across processes) on: {machine()}. 50 guest browsers with two tabs each:",
        "100 open streams, each hearing every event. Per round one browser changes its cart in",
        "tab A, and the time until tab B's stream delivers the new state is taken from the",
        "request being sent (an upper bound) and from its answer (the change is committed by",
        "then: at most commit → message). Target: p99 under 1 s.",
        "",
        "| where | streams | rounds | from sending, p50 / p99 | from the answer, p50 / p99 | max |",
        "|---|---|---|---|---|---|",
        *kept.values(),
        END,
    ]
    write_section(args.out, START, END, "\n".join(lines))
    print(f"event figures written to {args.out}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--label", required=True)
    m.add_argument("--url", help="where the changes are made (and the streams open)")
    m.add_argument("--stream-url", help="where the streams open (another process)")
    m.add_argument("--server", help="start this release server on a new SQLite database")
    m.add_argument("--site", help="the site root for --server")
    m.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_EVENT_ROUNDS", "300")))
    m.add_argument("--out", required=True)
    w = sub.add_parser("write")
    w.add_argument("--results", required=True)
    w.add_argument("--out", default="docs/PERFORMANCE.md")
    args = ap.parse_args()
    if args.cmd == "measure" and not (args.url or args.server):
        ap.error("measure needs --url or --server")
    measure(args) if args.cmd == "measure" else write(args)


if __name__ == "__main__":
    main()
