#!/usr/bin/env python3
"""The catalog at size (issue 19): for each catalog size, a fresh database on SQLite or
PostgreSQL, the benchmark catalog of scripts/make-catalog loaded with `server import`
(its rows per second), then the release server asked for each kind of page in turn,
one request at a time over one keep-alive connection: bytes, p50 and p99 of the server's
answer (no browser). Prints a Markdown table per backend, and the ratios 1,000,000 :
10,000 where both were measured.

    scripts/bench --catalog                      # SQLite and PostgreSQL, 12 … 1,000,000
    scripts/bench_catalog.py --server target/release/server --site target/site \
        --sizes 12,10000 --backend sqlite
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
WARMUP = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sql(backend, url, query):
    """One value from the database (sqlite3 or psql)."""
    if backend == "sqlite":
        import sqlite3
        path = url.removeprefix("sqlite://")
        with sqlite3.connect(path) as db:
            row = db.execute(query).fetchone()
            return row[0] if row else None
    out = subprocess.run(["psql", "-qtA", url, "-c", query], check=True, capture_output=True, text=True)
    value = out.stdout.strip()
    return int(value) if value.lstrip("-").isdigit() else (value or None)


def catalog_file(size, workdir):
    """The benchmark catalog of `size` products (beside the 12 of the demo)."""
    path = os.path.join(workdir, f"catalog-{size}.jsonl")
    if not os.path.exists(path):
        with open(path, "w") as out:
            subprocess.run([sys.executable, "scripts/make-catalog", str(size)], stdout=out, check=True)
    return path


def start(server, site, db_url, port):
    env = dict(os.environ, LEPTOS_OUTPUT_NAME="shop", LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
               LEPTOS_SITE_ROOT=site, LEPTOS_HASH_FILES="true", DATABASE_URL=db_url,
               COOKIE_SECURE="false", RUST_LOG="error")
    proc = subprocess.Popen([server], env=env, stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not come up")


def measure(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, size = [], 0
    for i in range(REQUESTS):
        began = time.perf_counter()
        conn.request("GET", path)
        res = conn.getresponse()
        body = res.read()
        took = time.perf_counter() - began
        if res.status != 200:
            raise SystemExit(f"{path}: {res.status}")
        size = len(body)
        if i >= WARMUP:
            times.append(took * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(round(len(times) * 0.99)) - 1)]
    return size, statistics.median(times), p99


def pages(backend, db_url):
    """The pages measured: (label, path)."""
    category = "mugs-cups"
    cid = sql(backend, db_url, f"SELECT id FROM categories WHERE slug = '{category}'")
    held = sql(backend, db_url, f"SELECT products FROM categories WHERE id = {cid}")
    page = max(1, min(200, (held - 1) // 24 + 1))
    label = f"a category, page {page}"
    deep = f"/c/{category}"
    if page > 1:
        after = sql(backend, db_url,
                    f"SELECT id FROM products WHERE category_id = {cid} "
                    f"ORDER BY lower(name), id LIMIT 1 OFFSET {(page - 1) * 24 - 1}")
        deep += f"?sort=name&after={after}"
    return [
        ("`GET /`", "/"),
        ("a department, page 1", "/c/kitchen"),
        ("a category, page 1", f"/c/{category}"),
        (label, deep),
        ("search, many hits (`mug`)", "/?q=mug"),
        ("search, two words (`oak mug`)", "/?q=oak+mug"),
        ("search, a typo (`ketle`)", "/?q=ketle"),
        ("search, no hits (`zqxv`)", "/?q=zqxv"),
        ("suggestion (`/api/suggest?q=ka`)", "/api/suggest?q=ka"),
    ]


def run_size(args, backend, size, workdir):
    if backend == "sqlite":
        db_url = f"sqlite://{workdir}/catalog-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(db_url.removeprefix("sqlite://") + suffix)
            except FileNotFoundError:
                pass
    else:
        name = f"catalog_{size}"
        admin = args.postgres
        subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", "-q", admin, "-c", f"CREATE DATABASE {name}"], check=True)
        db_url = admin.replace("/postgres?", f"/{name}?", 1)
    env = dict(os.environ, DATABASE_URL=db_url, RUST_LOG="error")
    imported = None
    if size > 12:
        path = catalog_file(size - 12, workdir)
        began = time.perf_counter()
        subprocess.run([args.server, "import", path], env=env, check=True, stderr=subprocess.DEVNULL)
        took = time.perf_counter() - began
        imported = (size - 12, took)
    port = free_port()
    proc = start(args.server, args.site, db_url, port)
    try:
        rows = [(label, path, *measure(port, path)) for label, path in pages(backend, db_url)]
    finally:
        proc.terminate()
        proc.wait()
    return rows, imported


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--postgres", help="URL of the server's `postgres` database (for --backend postgres)")
    ap.add_argument("--sizes", default="12,10000,100000,1000000")
    ap.add_argument("--json", help="append the results to this file as JSON")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = os.environ.get("BENCH_CATALOG_DIR") or tempfile.mkdtemp(prefix="catalog-bench-")
    os.makedirs(workdir, exist_ok=True)
    name = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
    results = {}
    for size in sizes:
        print(f"==> {name}, {size:,} products", file=sys.stderr, flush=True)
        results[size] = run_size(args, args.backend, size, workdir)
    print(f"\n### {name}\n")
    print("| products | page | bytes | p50 | p99 |")
    print("|---|---|---|---|---|")
    for size, (rows, _) in results.items():
        for label, _, size_b, p50, p99 in rows:
            print(f"| {size:,} | {label} | {size_b / 1024:.1f} KiB | {p50:.1f} ms | {p99:.1f} ms |")
    print()
    for size, (_, imported) in results.items():
        if imported:
            n, took = imported
            print(f"- import of {n:,} products: {took:.1f} s, {n / took:,.0f} rows/s")
    if 10000 in results and 1000000 in results:
        print("\nRatios, 1,000,000 : 10,000 products (bytes, p50):\n")
        small, large = results[10000][0], results[1000000][0]
        for (label, _, b1, p1, _), (_, _, b2, p2, _) in zip(small, large):
            print(f"- {label}: bytes {b2 / b1:.2f}×, p50 {p2 / p1:.2f}×")
    if args.json:
        with open(args.json, "a") as out:
            out.write(json.dumps({"backend": name, "results": {
                str(k): {"rows": v[0], "import": v[1]} for k, v in results.items()}}) + "\n")


if __name__ == "__main__":
    main()
