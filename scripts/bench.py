#!/usr/bin/env python3
"""Drives the release server with wrk and prints/writes the figures (see scripts/bench).

Every figure that has a goal is a ratio of two runs taken minutes apart on the same
machine, so it holds on a noisy shared machine where absolute numbers do not.
"""
import argparse
import datetime
import gzip
import os
import platform
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
import urllib.parse

SECS = int(os.environ.get("BENCH_SECS", "8"))
# Each anonymous/signed-in pair is run this many times, alternating; the round with the
# median req/s ratio is reported (one 8 s run on a shared 2-core machine is noisy).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNS = 16
MARKER = "<!-- written by hand below; scripts/bench keeps it -->"
# The PostgreSQL figures (`scripts/bench --postgres`) live between these markers; a SQLite
# run keeps them, a PostgreSQL run replaces only them.
PG_START = "<!-- postgres figures: scripts/bench --postgres -->"
PG_END = "<!-- end of postgres figures -->"


class Sql:
    """Statements run directly on the benchmark's database (setting up, seeding)."""

    def __init__(self, url):
        self.url = url
        self.postgres = url.startswith("postgres")

    def run(self, sqlite_sql, postgres_sql, params=()):
        if self.postgres:
            out = subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-qtA", self.url, "-c", postgres_sql],
                                 check=True, capture_output=True, text=True).stdout.strip()
            return out.splitlines()[-1] if out else None
        con = sqlite3.connect(self.url.removeprefix("sqlite://"), timeout=30)
        row = con.execute(sqlite_sql, params).fetchone()
        con.commit()
        con.close()
        return row[0] if row else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, form, cookie=None):
    """POSTs a form; returns (status, headers, body)."""
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(base + path, data=data, method="POST")
    if cookie:
        req.add_header("Cookie", f"sid={cookie}")
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def token_from(headers):
    for v in headers.get_all("Set-Cookie") or []:
        m = re.match(r"sid=([A-Za-z0-9_-]{43});", v)
        if m:
            return m.group(1)
    raise SystemExit(f"no session cookie in {headers}")


LUA_DIR = tempfile.mkdtemp(prefix="bench-lua-")


def lua(name, body):
    path = os.path.join(LUA_DIR, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def wrk(url, cookie=None, script=None, secs=SECS, conns=CONNS):
    """Runs wrk; returns dict(rps, p50_ms, p99_ms, non2xx)."""
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: sid={cookie}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def fmt(r):
    return f"{r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms" + (
        f" ({r['non2xx']} non-2xx)" if r["non2xx"] else "")


def gz9(path):
    with open(path, "rb") as f:
        raw = f.read()
    return len(raw), len(gzip.compress(raw, 9))


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = int(open("/proc/meminfo").readline().split()[1])
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    wrkv = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb // 1024 // 1024} GiB RAM, "
            f"{platform.system()} {platform.release()}, {rustc}, {wrkv.split(' Copyright')[0]}; "
            "wrk and the server share the same cores")


def seed_sessions(sql, n):
    """Adds `n` live sessions of nobody to the sessions table, with SQL."""
    now = int(time.time())
    sql.run(
        """WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)
           INSERT INTO sessions (token_hash, created_at, last_seen_at, idle_expires_at,
                                 absolute_expires_at, handle)
           SELECT randomblob(32), ?, ?, ? + 86400 * 300, ? + 86400 * 300, lower(hex(randomblob(16)))
             FROM c""",
        f"""INSERT INTO sessions (token_hash, created_at, last_seen_at, idle_expires_at,
                                  absolute_expires_at, handle)
            SELECT decode(md5(random()::text) || md5(random()::text), 'hex'), {now}, {now},
                   {now} + 86400 * 300, {now} + 86400 * 300, md5(random()::text)
              FROM generate_series(1, {int(n)})""",
        (n, now, now, now, now),
    )
    return int(sql.run("SELECT COUNT(*) FROM sessions", "SELECT COUNT(*) FROM sessions"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--out", default="docs/PERFORMANCE.md")
    ap.add_argument("--floor", help="wasm of bench/wasm-floor, built like the shop's")
    ap.add_argument("--database-url", help="an empty PostgreSQL database (default: a new SQLite file)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-")
    db_url = args.database_url or f"sqlite://{os.path.join(tmp, 'bench.db')}"
    sql = Sql(db_url)
    backend = "PostgreSQL" if sql.postgres else "SQLite"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start(port, **extra):
        env = dict(os.environ, LEPTOS_OUTPUT_NAME="shop", LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
                   LEPTOS_SITE_ROOT=args.site, LEPTOS_HASH_FILES="true",
                   DATABASE_URL=db_url, TRUSTED_PROXIES="127.0.0.1", COOKIE_SECURE="false", RUST_LOG="error", **extra)
        proc = subprocess.Popen([args.server], env=env, stdout=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/").read()
                return proc
            except Exception:
                time.sleep(0.1)
        proc.kill()
        raise SystemExit("the server did not come up")

    server = start(port)
    try:
        # Plenty of stock, so adds never run into it; 16 accounts with alice's password
        # for the sign-in load (one account signed in 16 times at once would be throttled).
        sql.run("UPDATE products SET stock = 1000000", "UPDATE products SET stock = 1000000")
        sql.run(
            """INSERT INTO users (username, password_hash, created_at, password_changed_at)
               SELECT 'bench' || n, u.password_hash, u.created_at, u.created_at
                 FROM users u,
                      (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 15)
                       SELECT n FROM c)
                WHERE u.username = 'alice'""",
            """INSERT INTO users (username, password_hash, created_at, password_changed_at)
               SELECT 'bench' || n, u.password_hash, u.created_at, u.created_at
                 FROM users u, generate_series(0, 15) AS n
                WHERE u.username = 'alice'""")

        status, headers, _ = post(base, "/api/login", {"username": "alice", "password": "wonderland-2026"})
        assert status == 200, status
        user = token_from(headers)
        status, headers, _ = post(base, "/api/add_to_cart", {"product_id": "2", "quantity": "1"})
        assert status == 200, status
        guest = token_from(headers)
        rows = []

        def pair(label, url, script=None, anon_cookie=None, into=rows):
            runs = []
            for _ in range(ROUNDS):
                anon = wrk(url, cookie=anon_cookie, script=script)
                signed = wrk(url, cookie=user, script=script)
                runs.append((signed["rps"] / anon["rps"], anon, signed))
            runs.sort(key=lambda r: r[0])
            spread = f"{runs[0][0]:.2f}–{runs[-1][0]:.2f}"
            _, anon, signed = runs[len(runs) // 2]
            print(f"{label}: anonymous {fmt(anon)}; signed in {fmt(signed)} (req/s ratios over {ROUNDS} rounds: {spread})")
            into.append((label, anon, signed, spread))

        print(f"warming up ({base})")
        wrk(base + "/cart", cookie=user, secs=3)
        post_lua = lua("post.lua", 'wrk.method = "POST"\n')
        # The session check alone: current_user does nothing else (the name is cached).
        pair("POST /api/current_user (the session check alone)", base + "/api/current_user",
             script=post_lua)
        # The same on a second server over the same file with the session cache off, which
        # also measures the lookup in SQLite against the size of the table.
        nocache_rows = []
        nc_port = free_port()
        nc_base = f"http://127.0.0.1:{nc_port}"
        nocache = start(nc_port, SESSION_CACHE_CAPACITY="0", SEED_DEMO_DATA="false")
        try:
            pair("POST /api/current_user, session cache off", nc_base + "/api/current_user",
                 script=post_lua, into=nocache_rows)
            small = seed_sessions(sql, 1000)
            lookup_small = wrk(nc_base + "/api/current_user", cookie=user, script=post_lua)
            large = seed_sessions(sql, 1_000_000 - small)
            lookup_large = wrk(nc_base + "/api/current_user", cookie=user, script=post_lua)
        finally:
            nocache.kill()
            nocache.wait()
        print(f"POST /api/current_user with {small} sessions: {fmt(lookup_small)}; with {large}: {fmt(lookup_large)}")

        pair("GET /cart", base + "/cart")
        pair("GET / (catalog)", base + "/")
        cart_lua = lua("cart.lua", """
local n = 0
request = function()
  n = n + 1
  local body
  if n % 2 == 1 then
    wrk.path = "/api/add_to_cart"; body = "product_id=1&quantity=1"
  else
    wrk.path = "/api/remove_cart_item"; body = "product_id=1"
  end
  -- wrk.format does not add the -H headers by itself: copy them (the session cookie).
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  return wrk.format("POST", wrk.path, headers, body)
end
""")
        pair("POST /api/add_to_cart (alternating with remove; anonymous = guest session)",
             base + "/api/add_to_cart", script=cart_lua, anon_cookie=guest)
        # Many writers at once: without a cookie every add starts a guest session, so each
        # request writes twice (the session row, the cart line).
        # Each from another client network (forwarded through the trusted loopback): the
        # limit on new guest sessions per network (200 per 10 minutes) would otherwise
        # refuse all but the first 200, and refusals are not what this measures.
        guest_lua = lua("guest.lua", """
wrk.method = "POST"
wrk.body = "product_id=1&quantity=1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = "10." .. (n % 250) .. "." .. math.random(0, 250) .. ".1"
  return wrk.format()
end
""")
        new_guests = wrk(base + "/api/add_to_cart", script=guest_lua)
        print(f"POST /api/add_to_cart, a new guest each time: {fmt(new_guests)}")
        if new_guests.get("non2xx"):
            print(f"warning: {new_guests['non2xx']} adds of new guests were refused")

        # Argon2 under load: /cart while 16 clients sign in continuously.
        login_lua = lua("login.lua", """
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/login",
    {["Content-Type"] = "application/x-www-form-urlencoded"},
    "username=bench" .. (n % 16) .. "&password=wonderland-2026")
end
""")
        rest = wrk(base + "/cart", cookie=user, conns=4)
        logins = subprocess.Popen(["wrk", "-t1", "-c16", f"-d{SECS + 2}s", "--latency", "-s", login_lua,
                                   base + "/api/login"], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        busy = wrk(base + "/cart", cookie=user, conns=4)
        login_out = logins.communicate()[0]
        login_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", login_out).group(1))
        refused = re.search(r"Non-2xx or 3xx responses: (\d+)", login_out)
        if refused:
            print(f"warning: {refused.group(1)} sign-ins were refused (throttled?)")
        print(f"GET /cart at rest: {fmt(rest)}; during 16 continuous sign-ins ({login_rps:.1f} sign-ins/s): {fmt(busy)}")

        pkg = os.path.join(args.site, "pkg")
        sizes = {}
        for name in sorted(os.listdir(pkg)):
            if name.endswith((".wasm", ".js", ".css")):
                path = os.path.join(pkg, name)
                sent = [os.path.getsize(path + ext) if os.path.exists(path + ext) else None
                        for ext in (".br", ".gz")]
                # shop.<hash>.wasm -> shop.wasm
                sizes[re.sub(r"\.[A-Za-z0-9_-]{22}\.", ".", name)] = (*gz9(path), *sent)
        for name, (raw, gz, br, sgz) in sizes.items():
            print(f"{name}: {raw} B raw, {gz} B gzip -9; sent: {br} B br, {sgz} B gzip")
    finally:
        server.kill()
        server.wait()

    def ratio(a, b):
        return a / b if b else float("nan")

    def pair_table(pairs):
        """A markdown table of signed-in/anonymous pairs, ratios included."""
        table = ["| request | anonymous | signed in | req/s ratio (range) | p50 ratio | p99 ratio |",
                 "|---|---|---|---|---|---|"]
        for label, anon, signed, spread in pairs:
            table.append(
                f"| {label} | {fmt(anon)} | {fmt(signed)} | {ratio(signed['rps'], anon['rps']):.2f} ({spread}) | "
                f"{ratio(signed['p50'], anon['p50']):.2f} | {ratio(signed['p99'], anon['p99']):.2f} |")
        return table

    if sql.postgres:
        write_postgres_block(args.out, pg_block(sql, rows, nocache_rows, new_guests, rest, busy, login_rps,
                                                lookup_small, lookup_large, pair_table, ratio))
        return

    lines = [
        "# Performance",
        "",
        f"Measured {datetime.date.today().isoformat()} by `scripts/bench` on: {machine()}.",
        f"Each run: wrk, 2 threads, {CONNS} connections, {SECS} s, against the release server",
        "on loopback with a fresh SQLite database (demo data, alice signed in).",
        "",
        "Rerun: `scripts/bench` (builds the release site first; `BENCH_SECS=20 scripts/bench` for",
        "longer runs). The figures with goals are ratios of runs taken back to back, so they",
        "hold on a noisy machine; absolute numbers move with whatever else the machine does.",
        "",
        "## Cost of the session check (signed in ÷ anonymous; goal ≥ 0.90 for req/s)",
        "",
        f"Each pair ran {ROUNDS} times, alternating; the round with the median req/s ratio is shown,",
        "with the range of the ratios over all rounds.",
        "",
    ]
    lines += pair_table(rows)
    lines += [
        "",
        "Anonymous requests carry no cookie and touch no table. Signed in, the session comes",
        "from memory (sessions/src/cache.rs) and a page also reads the cart count (the badge;",
        "on `/cart` also the lines): the page ratios are the whole price of being signed in,",
        "not only of the lookup. `current_user` does nothing but the session check. For",
        "`add_to_cart`, \"anonymous\" is a guest session, so both sides look a session up.",
        "",
        "The session check with the cache off (`SESSION_CACHE_CAPACITY=0`, a second server on",
        "the same database), measured in the same run:",
        "",
    ]
    lines += pair_table(nocache_rows)
    lines += [
        "",
        "## Many writers",
        "",
        f"`POST /api/add_to_cart` without a cookie, {CONNS} connections: every request starts a guest",
        "session and adds a line (two writes, plus the count of new guests per client network),",
        "all through the one writer connection. Each request comes from another forwarded client",
        "network, so the limit on new guests per network does not refuse any.",
        "",
        "| request | result |",
        "|---|---|",
        f"| new guest, add to cart | {fmt(new_guests)} |",
        "",
        "## Argon2 off the async workers (goal: p99 ratio ≤ 3)",
        "",
        "| GET /cart (4 connections) | at rest | during 16 continuous sign-ins | p99 ratio |",
        "|---|---|---|---|",
        f"| | {fmt(rest)} | {fmt(busy)} ({login_rps:.1f} sign-ins/s) | {ratio(busy['p99'], rest['p99']):.2f} |",
        "",
        "## Session lookup against table size (goal: ratio ≤ 1.5)",
        "",
        "Measured on the server with the session cache off, so every request reads the table.",
        "",
        "| POST /api/current_user | 1 000 sessions | 1 000 000 sessions | p50 ratio | req/s ratio |",
        "|---|---|---|---|---|",
        f"| | {fmt(lookup_small)} | {fmt(lookup_large)} | {ratio(lookup_large['p50'], lookup_small['p50']):.2f} | "
        f"{ratio(lookup_large['rps'], lookup_small['rps']):.2f} |",
        "",
        "## Download size of the release build (goal: wasm ≤ 150 KB gzip)",
        "",
        "Names carry a content hash in the build (`shop.<hash>.wasm`). \"Sent\" is the",
        "precompressed copy the server sends to a browser that accepts br (or gzip).",
        "",
        "| file | raw bytes | gzip -9 bytes | sent as br | sent as gzip |",
        "|---|---|---|---|---|",
    ]
    for name, (raw, gz, br, sgz) in sizes.items():
        lines.append(f"| `pkg/{name}` | {raw:,} | {gz:,} | {br or 0:,} | {sgz or 0:,} |")
    if args.floor:
        raw, gz = gz9(args.floor)
        print(f"wasm floor: {raw} B raw, {gz} B gzip -9")
        lines += [
            "",
            "The floor: `bench/wasm-floor`, the smallest app using what the shop's client uses",
            "(router, meta, one server function read through a Resource, one ActionForm), built",
            "with the same profile, wasm-bindgen and `wasm-opt -Oz`:",
            "",
            "| file | raw bytes | gzip -9 bytes |",
            "|---|---|---|",
            f"| `wasm_floor.wasm` | {raw:,} | {gz:,} |",
        ]
    # Everything from the marker on is written by hand (analysis, before/after figures)
    # and kept across reruns, as are the sections other runs write between their own
    # markers (`<!-- postgres figures: ... -->` ... `<!-- end of postgres figures -->`:
    # PostgreSQL, scale-out, events, browser).
    kept = ""
    sections = []
    if os.path.exists(args.out):
        old = open(args.out).read()
        if MARKER in old:
            kept = old[old.index(MARKER):]
        sections = [m.group(0) for m in re.finditer(
            r"<!-- ([a-z-]+) figures: [^>]*-->.*?<!-- end of \1 figures -->", old, re.S)]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
        for section in sections:
            f.write("\n" + section + "\n")
        if kept:
            f.write("\n" + kept)
    print(f"written to {args.out}")


def pg_block(sql, rows, nocache_rows, new_guests, rest, busy, login_rps, lookup_small, lookup_large,
             pair_table, ratio):
    """The PostgreSQL section of docs/PERFORMANCE.md."""
    version = sql.run("", "SHOW server_version")
    lines = [
        PG_START,
        "## PostgreSQL",
        "",
        f"Measured {datetime.date.today().isoformat()} by `scripts/bench --postgres` on: {machine()}.",
        f"The same runs as above, with the shop on a private PostgreSQL {version} server on the same",
        "machine (Unix socket; `fsync` on, `synchronous_commit=off`: like SQLite's",
        "`synchronous=NORMAL`, a crash of the machine may lose the last commits, never",
        "consistency) and the shop's default pool of 16 connections. PostgreSQL's own processes",
        "share the two cores with the shop and wrk.",
        "",
        "### Cost of the session check (signed in ÷ anonymous)",
        "",
    ]
    lines += pair_table(rows)
    lines += ["", "With the session cache off (a second server on the same database):", ""]
    lines += pair_table(nocache_rows)
    lines += [
        "",
        "### Many writers, sign-in storm, lookup against table size",
        "",
        "| measurement | result | ratio |",
        "|---|---|---|",
        f"| `POST /api/add_to_cart`, a new guest each time ({CONNS} connections) | {fmt(new_guests)} | |",
        f"| `GET /cart` (4 connections) at rest | {fmt(rest)} | |",
        f"| `GET /cart` during 16 continuous sign-ins ({login_rps:.1f} sign-ins/s) | {fmt(busy)} | "
        f"p99 {ratio(busy['p99'], rest['p99']):.2f}× rest |",
        f"| session lookup (cache off), 1 000 sessions | {fmt(lookup_small)} | |",
        f"| session lookup (cache off), 1 000 000 sessions | {fmt(lookup_large)} | "
        f"p50 {ratio(lookup_large['p50'], lookup_small['p50']):.2f}×, req/s "
        f"{ratio(lookup_large['rps'], lookup_small['rps']):.2f}× |",
        PG_END,
    ]
    return "\n".join(lines)


def write_section(out, start, end, block):
    """Replaces the section of `out` between the markers `start` and `end` (which `block`
    begins and ends with), or puts it before the hand-written part."""
    old = open(out).read() if os.path.exists(out) else ""
    if start in old and end in old:
        new = old[:old.index(start)] + block + old[old.index(end) + len(end):]
    elif MARKER in old:
        new = old[:old.index(MARKER)] + block + "\n\n" + old[old.index(MARKER):]
    else:
        new = old + "\n" + block + "\n"
    with open(out, "w") as f:
        f.write(new)


def write_postgres_block(out, block):
    """Replaces the PostgreSQL block of `out`."""
    write_section(out, PG_START, PG_END, block)
    print(f"PostgreSQL figures written to {out}")

if __name__ == "__main__":
    main()
