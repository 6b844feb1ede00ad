#!/usr/bin/env python3
"""Finds import cycles between the modules of a crate.

    python3 scripts/module_cycles.py sessions/src app/src

Reads each module file's `crate::` and `super::` paths (in `use` lines and inline), leaving
out test modules, comments and a parent's references to its own children (re-exports),
and prints every strongly connected set of modules. Exits 1 if there is one: a cycle
means no module of it can be read (or moved) without the others.
"""
import os, re, sys


def cycles(root):
    files = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith('.rs'):
                p = os.path.join(d, f)
                rel = os.path.relpath(p, root)[:-3]
                parts = rel.split('/')
                if parts[-1] in ('mod', 'lib', 'main'):
                    parts = parts[:-1]
                files['::'.join(parts)] = p
    mods = set(files)
    def resolve(cur, path):
        segs = path.split('::')
        if segs[0] == 'crate':
            base = []; segs = segs[1:]
        elif segs[0] == 'super':
            base = cur.split('::') if cur else []
            # a file module's super is its parent
            base = base[:-1]; segs = segs[1:]
            while segs and segs[0] == 'super':
                base = base[:-1]; segs = segs[1:]
        else:
            return None
        best = None
        for i in range(len(segs), 0, -1):
            cand = '::'.join(base + segs[:i])
            if cand in mods:
                best = cand; break
        return best
    edges = {m: set() for m in mods}
    for m, p in files.items():
        src = open(p).read()
        src = re.sub(r'#\[cfg\(test\)\]\s*mod tests \{.*', '', src, flags=re.S)
        src = re.sub(r'//.*', '', src)
        for path in re.findall(r'\b((?:crate|super)(?:::\w+)+)', src):
            t = resolve(m, path)
            if t is not None and t != m and not m.startswith(t + '::') and t != '':
                edges[m].add(t)
        # use super::{a, b} / use crate::{a::X, b}
        for base, inner in re.findall(r'\b(crate|super)::\{([^}]*)\}', src):
            for item in inner.split(','):
                item = item.strip()
                if item:
                    t = resolve(m, base + '::' + item)
                    if t is not None and t != m and not m.startswith(t + '::'):
                        edges[m].add(t)
    # parent modules re-exporting children are not cycles of meaning: drop parent->child edges
    for m in mods:
        edges[m] = {t for t in edges[m] if not t.startswith(m + '::') and t != ''}
    # Tarjan
    index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
    sys.setrecursionlimit(10000)
    def strong(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(comp)
    for v in sorted(mods):
        if v not in index: strong(v)
    for c in sccs:
        print('cycle:', ' <-> '.join(sorted(c)))
        for a in sorted(c):
            print('   ', a, '->', sorted(t for t in edges[a] if t in c))
    print(f'{root}: {len(mods)} modules, {len(sccs)} cycles')
    return len(sccs)


if __name__ == "__main__":
    found = sum(cycles(root) for root in sys.argv[1:])
    sys.exit(1 if found else 0)
