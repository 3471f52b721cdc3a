#!/usr/bin/env python3
"""Turns the raw files of bench/agent.sh into markdown tables (stdout).

    agent_report.py OUT_DIR

Environment (set by agent.sh): CLK_TCK, SS_SOCKETS, PM_SOCKETS, HAVE_STRACE, HAVE_PERF,
STRACE_SCRAPES, WRK_PASSES, CPU_SCRAPES.
"""
import gzip
import json
import math
import os
import re
import statistics
import sys

OUT = sys.argv[1]
ENV = os.environ
CLK_TCK = float(ENV.get("CLK_TCK", "100"))
TARGETS = ["ne", "pm2", "pm0"]
NAME = {"ne": "node_exporter", "pm2": "portman agent, min-interval 2s (default)",
        "pm0": "portman agent, min-interval 0s"}
SHORT = {"ne": "node_exporter", "pm2": "portman 2s", "pm0": "portman 0s"}


def path(name):
    return os.path.join(OUT, name)


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(1, math.ceil(p / 100 * len(v)))
    return v[k - 1]


def fmt(x, digits=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def verdict(ok):
    return "**met**" if ok else "**missed**"


# ---- sizes -------------------------------------------------------------------------------------
def metrics_size(t):
    text = open(path(f"{t}.metrics.txt"), "rb").read()
    gz = open(path(f"{t}.metrics.gz"), "rb").read()
    is_gzip = gz[:2] == b"\x1f\x8b"
    lines = text.decode("utf-8", "replace").splitlines()
    series = [l for l in lines if l and not l.startswith("#")]
    families = [l for l in lines if l.startswith("# TYPE ")]
    per_family = {}
    for l in series:
        name = re.split(r"[{ ]", l, maxsplit=1)[0]
        per_family[name] = per_family.get(name, 0) + 1
    return {"bytes": len(text), "gzip": len(gz) if is_gzip else None, "series": len(series),
            "families": len(families), "per_family": per_family}


sizes = {t: metrics_size(t) for t in TARGETS}

# ---- single-client latency ------------------------------------------------------------------------
lat = {}
scans_seen = {}
for line in open(path("latency.txt")):
    p = line.split()
    if len(p) < 5:
        continue
    t, enc, code, secs = p[0], p[1], p[2], float(p[3])
    d = lat.setdefault((t, enc), {"ok": [], "fail": 0})
    if code == "200":
        d["ok"].append(secs * 1000)
    else:
        d["fail"] += 1
    if len(p) >= 6 and p[5] != "-":
        scans_seen.setdefault(t, []).append(p[5])


def lat_median(t, enc):
    return statistics.median(lat[(t, enc)]["ok"]) if lat.get((t, enc), {}).get("ok") else float("nan")


def distinct_runs(values):
    """How many times the value changed from one scrape to the next (plus the first)."""
    n, prev = 0, None
    for v in values:
        if v != prev:
            n += 1
        prev = v
    return n


# ---- wrk -------------------------------------------------------------------------------------------
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(fname):
    r = {"dist": {}}
    for line in open(fname):
        m = re.match(r"\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", line)
        if m:
            r["dist"][m.group(1)] = float(m.group(2)) * UNIT[m.group(3)]
        m = re.match(r"\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", line)
        if m:
            r["requests"] = int(m.group(1))
        m = re.match(r"Requests/sec:\s+([\d.]+)", line)
        if m:
            r["rps"] = float(m.group(1))
        m = re.match(r"\s*Non-2xx or 3xx responses:\s+(\d+)", line)
        if m:
            r["non2xx"] = int(m.group(1))
        m = re.match(r"\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line)
        if m:
            r["sockerr"] = sum(int(x) for x in m.groups())
        m = re.match(r"cpu_ticks (-?\d+)", line)
        if m:
            r["cpu_ticks"] = int(m.group(1))
    return r


passes = int(ENV.get("WRK_PASSES", "2"))
wrk = {}
for t in TARGETS:
    for enc in ("plain", "gzip"):
        runs = []
        for p in range(1, passes + 1):
            f = path(f"wrk.{t}.{enc}.{p}.txt")
            if os.path.exists(f):
                runs.append(parse_wrk(f))
        wrk[(t, enc)] = runs


def wrk_rps(t, enc):
    v = [r["rps"] for r in wrk[(t, enc)] if "rps" in r]
    return statistics.median(v) if v else float("nan")


def wrk_dist(t, enc, q):
    v = [r["dist"][q] for r in wrk[(t, enc)] if q in r["dist"]]
    return statistics.median(v) if v else float("nan")


def wrk_cpu_per_req(t, enc):
    ticks = sum(r.get("cpu_ticks", 0) for r in wrk[(t, enc)])
    reqs = sum(r.get("requests", 0) for r in wrk[(t, enc)])
    return ticks / CLK_TCK * 1000 / reqs if reqs else float("nan")


def wrk_errors(t, enc):
    return sum(r.get("non2xx", 0) + r.get("sockerr", 0) for r in wrk[(t, enc)])


# ---- memory ----------------------------------------------------------------------------------------
def read_memory(fname):
    out = {}
    for line in open(path(fname)):
        p = line.split()
        out[p[0]] = [int(x) for x in p[1:]]  # rss hwm anon file (KiB), threads
    return out


def smaps_split(t):
    """Resident KiB by kind: main heap, anonymous mappings >= 1 MiB, other anonymous, files."""
    f = path(f"smaps.{t}.txt")
    if not os.path.exists(f):
        return None
    out = {"heap": 0, "big anon": 0, "other anon": 0, "files": 0}
    name, start = None, 0
    for line in open(f):
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
        if m:
            name = m.group(3).strip()
            start = int(m.group(1), 16)
            continue
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
            if name == "[heap]":
                out["heap"] += rss
            elif name.startswith("/"):
                out["files"] += rss
            elif start % (64 << 20) == 0:  # glibc's per-thread arenas; Go's heap arenas
                out["big anon"] += rss
            else:
                out["other anon"] += rss
    return out


mem_start = read_memory("memory.start.txt") if os.path.exists(path("memory.start.txt")) else {}
mem_before = read_memory("memory.before.txt")
mem_after = read_memory("memory.after.txt")
MIB = 1024.0

# ---- CPU per scrape ---------------------------------------------------------------------------------
cpu = {}
for line in open(path("cpu.txt")):
    t, ps, n, ticks, t0, t1 = line.split()
    d = cpu.setdefault(t, {"n": 0, "ticks": 0, "wall": 0.0, "scans": 0})
    d["n"] += int(n)
    d["ticks"] += int(ticks)
    d["wall"] += float(t1) - float(t0)
    sf = path(f"cpu.{t}.{ps}.scans")
    if t != "ne" and os.path.exists(sf):
        vals = [l.strip() for l in open(sf) if l.strip()]
        d["scans"] += distinct_runs(vals)
        d.setdefault("durations", []).extend(vals)


def cpu_ms(t):
    d = cpu[t]
    return d["ticks"] / CLK_TCK * 1000 / d["n"]


# The 2s agent's batch holds a few fresh scans (one per 2 s at most): separate render and scan.
#   pm2 = render + (s/n) * scan ; pm0 = render + scan
s_frac = cpu["pm2"]["scans"] / cpu["pm2"]["n"]
scan_cpu = (cpu_ms("pm0") - cpu_ms("pm2")) / (1 - s_frac) if s_frac < 1 else float("nan")
render_cpu = cpu_ms("pm0") - scan_cpu

# The 0s agent's own collector durations (wall, per scan): every scrape a fresh scan.
sock_d, own_d = [], []
seen = set()
for v in cpu["pm0"].get("durations", []):
    p = v.split()
    if len(p) >= 2 and v not in seen:
        seen.add(v)
        sock_d.append(float(p[0]) * 1000)
        own_d.append(float(p[1]) * 1000)

netlink = {}
if os.path.exists(path("netlink.txt")):
    for line in open(path("netlink.txt")):
        k, _, v = line.strip().partition("=")
        netlink[k] = float(v)
ss = None
if os.path.exists(path("ss.json")):
    try:
        r = json.load(open(path("ss.json")))["results"][0]
        ss = {"median": statistics.median(r["times"]) * 1000, "user": r["user"] * 1000,
              "system": r["system"] * 1000}
    except (KeyError, IndexError, ValueError):
        ss = None


# ---- strace ------------------------------------------------------------------------------------------
def parse_strace(fname):
    calls = {}
    for line in open(fname):
        p = line.split()
        if len(p) < 5 or not re.match(r"^[\d.]+$", p[0]):
            continue
        name = p[-1]
        if not re.match(r"^[a-z_0-9]+$", name) or name == "total":
            continue
        calls[name] = calls.get(name, 0) + int(p[3])
    return calls


strace = {}
if ENV.get("HAVE_STRACE") == "1":
    for t in TARGETS:
        f = path(f"strace.{t}.txt")
        if os.path.exists(f):
            strace[t] = parse_strace(f)
N_STRACE = int(ENV.get("STRACE_SCRAPES", "50"))


# ---- perf --------------------------------------------------------------------------------------------
def parse_perf(fname):
    groups = {"kernel": 0.0, "zlib (gzip)": 0.0,
              "libmicrohttpd": 0.0, "malloc/free": 0.0, "libc other (memcpy, strlen, ...)": 0.0,
              "libstdc++ (strings, streams, locale)": 0.0, "portman's own code": 0.0, "other": 0.0}
    top_user, top_kernel = [], []
    for line in open(fname):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[([k.])\]\s+(.*)$", line)
        if not m:
            continue
        share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        if kind == "k":
            groups["kernel"] += share
            if len(top_kernel) < 5:
                top_kernel.append(f"{sym} {share:.1f}%")
            continue
        if dso.startswith("libz"):
            g = "zlib (gzip)"
        elif "microhttpd" in dso:
            g = "libmicrohttpd"
        elif dso.startswith("libc"):
            g = ("malloc/free" if re.match(r"^(malloc|_int_malloc|_int_free|cfree|free|"
                                           r"malloc_consolidate|unlink_chunk|_int_realloc|realloc|"
                                           r"__libc_malloc|__libc_free|tcache|__GI___libc)", sym)
                 else "libc other (memcpy, strlen, ...)")
        elif dso.startswith("libstdc++"):
            g = "libstdc++ (strings, streams, locale)"
        elif dso == "portman":
            g = "portman's own code"
        else:
            g = "other"
        groups[g] += share
        if len(top_user) < 8:
            top_user.append(f"`{sym[:70]}` ({dso}) {share:.1f}%")
    return groups, top_user, top_kernel


perf = {}
if ENV.get("HAVE_PERF") == "1":
    for t in ("pm0", "pm2"):
        f = path(f"perf.{t}.txt")
        if os.path.exists(f):
            perf[t] = parse_perf(f)

# =========================================================================================================
ne_med = lat_median("ne", "plain")
ne_rps = wrk_rps("ne", "plain")

print("## Single-client latency")
print()
print(f"{ENV.get('SCRAPES', '?')} rounds; each round scrapes every target once plain and once with "
      "`Accept-Encoding: gzip`, one curl each (a new connection per scrape), the order rotated "
      f"round by round, {ENV.get('PAUSE', '?')} s pause after each round. time_total in ms.")
print()
print("| target | encoding | median ms | p99 ms | ratio of medians to node_exporter (same encoding) | failed | goal: ≤ 0.33 |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
for enc in ("plain", "gzip"):
    base = lat_median("ne", enc)
    for t in TARGETS:
        d = lat.get((t, enc), {"ok": [], "fail": 0})
        med = lat_median(t, enc)
        r = med / base
        goal = "" if t == "ne" else f"{verdict(r <= 1 / 3)}{' (cached scans)' if t == 'pm2' else ''}"
        print(f"| {NAME[t]} | {enc} | {fmt(med)} | {fmt(pct(d['ok'], 99))} | {fmt(r)} | {d['fail']} | {goal} |")
print()
for t in ("pm2", "pm0"):
    v = scans_seen.get(t, [])
    if v:
        print(f"- {SHORT[t]}: {distinct_runs(v)} fresh scans seen over its {len(v)} plain scrapes "
              "(a change of the owners collector's duration between consecutive scrapes).")
print()

print("## Throughput (wrk -t2 -c10, keep-alive)")
print()
print(f"{passes} passes of {ENV.get('WRK_DURATION', '?')} per target and encoding, the second in "
      "reverse order; requests/s and latency percentiles are medians over the passes (with two "
      "passes, their mean); CPU per request is the target's utime+stime over all its wrk runs "
      "divided by the requests served. wrk competes with the target for the 2 cores.")
print()
print("| target | encoding | req/s per pass | req/s | ratio to node_exporter | p50 ms | p90 ms | p99 ms | CPU ms/request | errors | goal: ≥ 3 |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for enc in ("plain", "gzip"):
    base = wrk_rps("ne", enc)
    for t in TARGETS:
        per = " / ".join(fmt(r.get("rps"), 0) for r in wrk[(t, enc)])
        rps = wrk_rps(t, enc)
        ratio = rps / base
        goal = "" if t == "ne" else f"{verdict(ratio >= 3)}{' (cached scans)' if t == 'pm2' else ''}"
        print(f"| {NAME[t]} | {enc} | {per} | {fmt(rps, 0)} | {fmt(ratio)} | {fmt(wrk_dist(t, enc, '50'))} | "
              f"{fmt(wrk_dist(t, enc, '90'))} | {fmt(wrk_dist(t, enc, '99'))} | {fmt(wrk_cpu_per_req(t, enc))} | "
              f"{wrk_errors(t, enc)} | {goal} |")
if os.path.exists(path("wrk.healthz.txt")):
    h = parse_wrk(path("wrk.healthz.txt"))
    print(f"| for comparison: portman's `/healthz` (the HTTP path alone: no scan, no metrics; one run) | plain | "
          f"{fmt(h.get('rps'), 0)} | {fmt(h.get('rps'), 0)} | {fmt(h.get('rps', float('nan')) / ne_rps)} | "
          f"{fmt(h['dist'].get('50'))} | {fmt(h['dist'].get('90'))} | {fmt(h['dist'].get('99'))} | – | "
          f"{h.get('non2xx', 0) + h.get('sockerr', 0)} | – |")
print()

print("## Resident memory")
print()
print("From /proc/PID/status: at start (up, nothing scraped yet), after 5 warm-up scrapes each, "
      "and after the single-client and wrk phases. RssFile is mapped files (the binary and shared "
      "libraries), RssAnon the heap and stacks.")
print()
print("| target | VmRSS at start MiB | VmRSS after 5 scrapes MiB | VmRSS after load MiB | VmHWM after load MiB | RssAnon after MiB | RssFile after MiB | threads | goal: < 15 MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for t in TARGETS:
    b, a = mem_before[t], mem_after[t]
    st = mem_start.get(t, [float("nan")])
    goal = "" if t == "ne" else f"VmRSS {verdict(a[0] / MIB < 15)}, VmHWM {verdict(a[1] / MIB < 15)}"
    print(f"| {NAME[t]} | {fmt(st[0] / MIB, 1)} | {fmt(b[0] / MIB, 1)} | {fmt(a[0] / MIB, 1)} | {fmt(a[1] / MIB, 1)} | "
          f"{fmt(a[2] / MIB, 1)} | {fmt(a[3] / MIB, 1)} | {a[4]} | {goal} |")
print()
print("Resident memory after the load by kind (smaps, MiB): the main heap (`[heap]`, glibc's main "
      "arena), anonymous mappings that start on a 64 MiB boundary (glibc's per-thread malloc "
      "arenas; for node_exporter, the Go heap arenas), other anonymous memory (stacks, small "
      "mappings, the Go runtime's own), mapped files (the binary and its shared libraries).")
print()
print("| target | main heap | 64 MiB-aligned arenas | other anonymous | files |")
print("| --- | ---: | ---: | ---: | ---: |")
for t in TARGETS:
    sp = smaps_split(t)
    if sp:
        print(f"| {NAME[t]} | {fmt(sp['heap'] / MIB, 1)} | {fmt(sp['big anon'] / MIB, 1)} | "
              f"{fmt(sp['other anon'] / MIB, 1)} | {fmt(sp['files'] / MIB, 1)} |")
print()

print("## Scan work per scrape")
print()
print(f"CPU per scrape: {ENV.get('CPU_SCRAPES', '?')} sequential plain scrapes per target and pass, "
      "two passes in opposite target order, utime+stime of the whole process (every thread) from "
      "/proc/PID/stat. The 2s agent's batches contained "
      f"{cpu['pm2']['scans']} fresh scans in {cpu['pm2']['n']} scrapes; the 0s agent's "
      f"{cpu['pm0']['scans']} in {cpu['pm0']['n']}. Scan and render are separated from the two "
      "agents' figures (0s = render + scan; 2s = render + share of scrapes with a scan × scan).")
print()
print("| measure | ms | ratio to the netlink dump alone (CPU) |")
print("| --- | ---: | ---: |")
nl_cpu = netlink.get("cpu_ms", float("nan"))
nl_wall = netlink.get("wall_median_ms", float("nan"))
print(f"| node_exporter: CPU per scrape | {fmt(cpu_ms('ne'))} | |")
print(f"| portman 0s: CPU per scrape (fresh scan + render + HTTP) | {fmt(cpu_ms('pm0'))} | {fmt(cpu_ms('pm0') / nl_cpu)} |")
print(f"| portman 2s: CPU per scrape (mostly cached) | {fmt(cpu_ms('pm2'))} | |")
print(f"| → scan CPU per scrape (sockets, owners from the cache, findings, change count) | {fmt(scan_cpu)} | **{fmt(scan_cpu / nl_cpu)}** |")
print(f"| → render + HTTP CPU per scrape (metrics text, agent/exposition.cpp) | {fmt(render_cpu)} | |")
if sock_d:
    print(f"| portman 0s: sockets collector, median wall per scan ({len(sock_d)} scans) | {fmt(statistics.median(sock_d))} | (wall) {fmt(statistics.median(sock_d) / nl_wall)} |")
    print(f"| portman 0s: owners collector (cached owners), median wall per scan | {fmt(statistics.median(own_d))} | (wall) {fmt(statistics.median(own_d) / nl_wall)} |")
if netlink:
    print(f"| netlink dump alone (`agent_netlink`: the same 4 sock_diag dumps, {int(netlink.get('sockets', 0)):,} sockets), median wall | {fmt(nl_wall)} | |")
    print(f"| netlink dump alone, CPU per dump (user {fmt(netlink.get('user_ms'))} + sys {fmt(netlink.get('sys_ms'))}) | {fmt(nl_cpu)} | 1.00 |")
if ss:
    print(f"| `ss -Htlun` (process start, dump, printing), median wall; CPU user {fmt(ss['user'])} + sys {fmt(ss['system'])} | {fmt(ss['median'])} | {fmt((ss['user'] + ss['system']) / nl_cpu)} |")
print()
if strace:
    print(f"### Syscalls per scrape (strace -c -f -p, {N_STRACE} sequential scrapes, divided by {N_STRACE})")
    print()
    cols = [("readlinkat", ("readlinkat", "readlink")), ("openat", ("openat", "open")),
            ("getdents64", ("getdents64",)), ("read", ("read", "pread64")),
            ("stat family", ("newfstatat", "fstat", "statx", "stat", "lstat")),
            ("netlink send/recv", ("sendto", "recvfrom", "recvmsg", "recv")),
            ("write/sendmsg", ("write", "writev", "sendmsg", "sendfile")),
            ("futex", ("futex",)), ("mmap/munmap/brk/madvise", ("mmap", "munmap", "brk", "madvise", "mremap"))]
    print("| target | " + " | ".join(c for c, _ in cols) + " | all syscalls |")
    print("| --- |" + " ---: |" * (len(cols) + 1))
    for t in ("pm0", "pm2", "ne"):
        if t not in strace:
            continue
        c = strace[t]
        row = [fmt(sum(c.get(n, 0) for n in names) / N_STRACE, 1) for _, names in cols]
        print(f"| {NAME[t]} | " + " | ".join(row) + f" | {fmt(sum(c.values()) / N_STRACE, 1)} |")
    print()
    if "pm0" in strace:
        rl = sum(strace["pm0"].get(n, 0) for n in ("readlinkat", "readlink")) / N_STRACE
        socks = int(ENV.get("PM_SOCKETS", "0") or 0)
        print(f"portman 0s: {rl:,.0f} readlinkat per scrape for {socks:,} sockets "
              f"({rl / socks if socks else float('nan'):.2f} per socket): the owners cache checks "
              "every cached socket with one readlink of /proc/PID/fd/N.")
        print()
    print(f"Sockets portman reports: {ENV.get('PM_SOCKETS')} (ss -Htlun: {ENV.get('SS_SOCKETS')}; "
          "the 2,200 of the host state plus the three exporters' own listeners). Notes: recvfrom "
          "also counts the HTTP side, and strace's ptrace stops slow every syscall down, so these "
          "are counts, not times.")
    print()
if perf:
    print("### Where the agents' CPU time goes (perf, cpu-clock samples, every thread)")
    print()
    keys = list(next(iter(perf.values()))[0].keys())
    print("| target | " + " | ".join(keys) + " |")
    print("| --- |" + " ---: |" * len(keys))
    for t in ("pm0", "pm2"):
        if t in perf:
            g = perf[t][0]
            print(f"| {NAME[t]} | " + " | ".join(f"{g[k]:.0f}%" for k in keys) + " |")
    print()
    for t in ("pm0", "pm2"):
        if t in perf:
            print(f"- {SHORT[t]}, top user symbols: " + "; ".join(perf[t][1]) + ".")
            print(f"- {SHORT[t]}, top kernel symbols: " + "; ".join(perf[t][2]) + ".")
    print()

print("## Size of /metrics")
print()
print("| target | bytes | gzip bytes | series | families | largest families (series) |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
for t in ("ne", "pm0"):
    s = sizes[t]
    top = sorted(s["per_family"].items(), key=lambda kv: -kv[1])[:5]
    print(f"| {SHORT[t]} | {s['bytes']:,} | {fmt(s['gzip'], 0) if s['gzip'] else 'not gzip'} | {s['series']:,} | "
          f"{s['families']} | " + ", ".join(f"`{k}` {v:,}" for k, v in top) + " |")
print()
ne_coll = []
for line in open(path("ne.metrics.txt")):
    m = re.match(r'node_scrape_collector_duration_seconds\{collector="([^"]+)"\} (\S+)', line)
    if m:
        ne_coll.append((float(m.group(2)) * 1000, m.group(1)))
if ne_coll:
    ne_coll.sort(reverse=True)
    print(f"node_exporter's own collector durations in one scrape (they run in parallel): "
          f"{len(ne_coll)} collectors, sum {sum(d for d, _ in ne_coll):.1f} ms, slowest "
          + ", ".join(f"{n} {d:.1f} ms" for d, n in ne_coll[:4]) + ".")
    print()

# ---- goals -------------------------------------------------------------------------------------------
print("## Goals (issue 3), against node_exporter in the same run")
print()
print("| goal | portman 0s (a fresh scan per scrape) | portman 2s (default; cached between scans) |")
print("| --- | --- | --- |")
row = []
for t in ("pm0", "pm2"):
    r = lat_median(t, "plain") / ne_med
    rg = lat_median(t, "gzip") / lat_median("ne", "gzip")
    row.append(f"{fmt(r)} plain, {fmt(rg)} gzip: {verdict(r <= 1 / 3 and rg <= 1 / 3)}")
print("| median scrape ≤ 1/3 of node_exporter's | " + " | ".join(row) + " |")
row = []
for t in ("pm0", "pm2"):
    r = wrk_rps(t, "plain") / ne_rps
    rg = wrk_rps(t, "gzip") / wrk_rps("ne", "gzip")
    row.append(f"{fmt(r)}× plain, {fmt(rg)}× gzip: {verdict(r >= 3 and rg >= 3)}")
print("| requests/s ≥ 3× node_exporter's | " + " | ".join(row) + " |")
row = []
for t in ("pm0", "pm2"):
    a = mem_after[t]
    row.append(f"VmRSS {fmt(a[0] / MIB, 1)} MiB, VmHWM {fmt(a[1] / MIB, 1)} MiB (node_exporter "
               f"{fmt(mem_after['ne'][0] / MIB, 1)}): {verdict(a[1] / MIB < 15)}")
print("| < 15 MiB resident | " + " | ".join(row) + " |")
r = scan_cpu / nl_cpu
print(f"| scan work per scrape close to the netlink dump alone (read here as ≤ 2×) | scan CPU "
      f"{fmt(scan_cpu)} ms = {fmt(r)}× the dump's {fmt(nl_cpu)} ms: {verdict(r <= 2)} | same scan when it runs |")
print()
