#!/usr/bin/env python3
"""Writes the browser measurements of scripts/bench-browser into docs/PERFORMANCE.md,
between its markers (the rest of the file is kept)."""
import datetime
import json
import os
import sys

START = "<!-- browser figures: scripts/bench-browser -->"
END = "<!-- end of browser figures -->"
MARKER = "<!-- written by hand below; scripts/bench keeps it -->"


def kb(n):
    return f"{n / 1000:.0f} KB"


def main():
    result = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    lines = [
        START,
        "## First visit in a browser (`scripts/bench-browser`)",
        "",
        f"Measured {datetime.date.today().isoformat()} in Debian's Chromium (headless, 390 × 844) against the",
        "release server on loopback, with an empty cache for every visit; median of",
        f"{result['runs']} visits. *Content*: first contentful paint. *Interactive*: the app has",
        "hydrated (`body[data-hydrated]`). *Bytes*: transferred (compressed, with headers) before",
        "interactive.",
        "",
        "| network | page | content | interactive | bytes before interactive | of which wasm + JS |",
        "|---|---|---|---|---|---|",
    ]
    for p in result["pages"]:
        code = sum(b for f, b in p["byFile"].items() if f.endswith((".wasm", ".js")))
        page = p["path"] + (" (signed in)" if p["signedIn"] else "")
        lines.append(
            f"| {p['profile']} | `{page}` | {p['fcp']:.0f} ms | {p['tti']:.0f} ms | {kb(p['bytes'])} | {kb(code)} |"
        )
    lines += ["", "By file, first visit to `/` on the slow profile:", "", "| file | bytes |", "|---|---|"]
    slow_root = next(p for p in result["pages"] if p["path"] == "/" and p["profile"].startswith("slow"))
    for name, size in sorted(slow_root["byFile"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| `{name}` | {size:,} |")
    lines += [
        "",
        "Client-side navigation after the first page (signed in, median; the time from the",
        "click until the next page shows its content):",
        "",
        "| network | step | time |",
        "|---|---|---|",
    ]
    for n in result["navigation"]:
        lines.append(f"| {n['profile']} | {n['step']} | {n['ms']:.0f} ms |")
    lines.append(END)
    block = "\n".join(lines)
    old = open(out).read() if os.path.exists(out) else ""
    if START in old and END in old:
        new = old[:old.index(START)] + block + old[old.index(END) + len(END):]
    elif MARKER in old:
        new = old[:old.index(MARKER)] + block + "\n\n" + old[old.index(MARKER):]
    else:
        new = old + "\n" + block + "\n"
    open(out, "w").write(new)
    print(block)


if __name__ == "__main__":
    main()
