#!/usr/bin/env python3
"""Writes a realistic port registry for the benchmark from a hoststate layout file.

    make_registry.py LAYOUT OUT.json [--entries N]
    make_registry.py --synthetic N OUT.json [--archive M] [--free FIRST-LAST]

About N entries (default 300): a share of the listening TCP and UDP ports registered as active
(some naming the expected process, some the expected bind address), some listening ports with a
status other than active, a few naming another process or a narrower bind than the socket has,
and the rest registered in the type ranges without anything listening (active ones are "down",
the others allocated, reserved, maintenance, ...). Plus an archive and hand-added fields, as real
files have. Deterministic: the same layout gives the same file.

--synthetic: no layout; N entries over the whole port space (TCP keys first, then "PORT/udp"
keys), leaving FIRST-LAST (default 60000-60999) free for TCP so that `allocate` has room there,
plus an archive of M released entries (default N / 2) with all their fields, released long ago so
that quarantine keeps nothing back. The registry of bench/allocate.sh; 100,000 entries at most.
"""
import json
import random
import sys


def synthetic(total, out, archived, free_first, free_last):
    rng = random.Random(7)
    envs = ["production", "staging", "development"]
    owners = ["velo", "ops", "data", "web-team", "unknown"]
    statuses = ["active", "active", "allocated", "inactive", "maintenance", "reserved"]
    types = ["web", "database", "api", "ml", "monitoring", "dynamic"]
    keys = [str(p) for p in range(1, 65536) if not free_first <= p <= free_last]
    keys += [f"{p}/udp" for p in range(1, 65536)]
    if total > len(keys):
        sys.exit(f"make_registry.py: at most {len(keys)} entries")

    def fields(name, proto, k):
        e = {
            "service": name,
            "description": f"{name} service",
            "environment": rng.choice(envs),
            "protocol": proto,
            "owner": rng.choice(owners),
            "status": rng.choice(statuses),
            "service_type": rng.choice(types),
            "allocated_at": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T09:12:44.120391",
            "updated_at": f"2025-10-1{rng.randint(0, 9)}T17:00:03.551002",
            "notes": "benchmark entry" if k % 7 == 0 else "",
        }
        if k % 3 == 0:
            e["url"] = f"https://svc-{k}.example.com"
        if k % 5 == 0:
            e["ticket"] = f"OPS-{1000 + k}"  # a hand-added field
        if k % 11 == 0:
            e["health_check"] = {"path": "/healthz", "interval_s": 30, "tags": ["a", "b"]}
        return e

    allocations = {}
    for k, key in enumerate(sorted(rng.sample(keys, total), key=sort_key)):
        proto = "udp" if key.endswith("/udp") else "tcp"
        allocations[key] = fields(f"svc-{key.replace('/', '-')}", proto, k)
    archive = []
    for i in range(archived):
        e = fields(f"old-{i}", "tcp", i)
        e["port"] = 1 + rng.randrange(65535)
        e["status"] = "deprecated"
        e["released_at"] = "2024-09-30T12:00:00"
        archive.append(e)
    registry = {
        "version": "1.0.0",
        "last_updated": "2025-11-02",
        "server": "203.0.113.5",
        "generation": 1,
        "allocations": allocations,
        "archive": archive,
    }
    with open(out, "w") as f:
        json.dump(registry, f, indent=2, ensure_ascii=False)
        f.write("\n")


def sort_key(key):
    port, _, proto = key.partition("/")
    return (int(port), proto)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    if args[0] == "--synthetic":
        total, out = int(args[1]), args[2]
        archived = int(args[args.index("--archive") + 1]) if "--archive" in args else total // 2
        free = args[args.index("--free") + 1] if "--free" in args else "60000-60999"
        first, last = (int(x) for x in free.split("-"))
        return synthetic(total, out, archived, first, last)
    layout, out = args[0], args[1]
    total = 300
    if "--entries" in args:
        total = int(args[args.index("--entries") + 1])

    tcp, udp = {}, {}  # port -> set of addresses
    for line in open(layout):
        parts = line.split()
        if len(parts) == 4:
            table = tcp if parts[1] == "tcp" else udp
            table.setdefault(int(parts[3]), set()).add(parts[2])
    rng = random.Random(7)
    tcp_ports = sorted(tcp)
    udp_ports = sorted(udp)

    envs = ["production", "staging", "development"]
    owners = ["velo", "ops", "data", "web-team", "unknown"]
    allocations = {}

    def entry(name, status, stype=None, **extra):
        e = {
            "service": name,
            "description": f"{name} service",
            "environment": rng.choice(envs),
            "protocol": "tcp",
            "owner": rng.choice(owners),
            "status": status,
            "allocated_at": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T09:12:44.120391",
        }
        if stype:
            e["service_type"] = stype
        e.update(extra)
        return e

    n_listen_tcp = min(len(tcp_ports), int(total * 0.45))
    n_listen_udp = min(len(udp_ports), int(total * 0.07))
    picked_tcp = sorted(rng.sample(tcp_ports, n_listen_tcp)) if n_listen_tcp else []
    picked_udp = sorted(rng.sample(udp_ports, n_listen_udp)) if n_listen_udp else []

    for i, port in enumerate(picked_tcp):
        addrs = tcp[port]
        extra = {}
        status = "active"
        if i % 3 == 0:
            extra["process"] = "bench-listen"
        if i % 4 == 0:
            # the expected bind; where the socket is on 0.0.0.0 this is an exposure mismatch
            extra["bind"] = "127.0.0.1"
        if i % 17 == 0:
            status = rng.choice(["inactive", "allocated", "maintenance"])  # status mismatch
        if i % 29 == 0:
            extra["process"] = "nginx"  # owner mismatch
        if i % 5 == 0:
            extra["ticket"] = f"OPS-{1000 + i}"  # a hand-added field
        allocations[str(port)] = entry(f"svc-{port}", status, url=f"http://127.0.0.1:{port}",
                                       **extra)
    for port in picked_udp:
        e = entry(f"udp-{port}", "active")
        e["protocol"] = "udp"
        allocations[f"{port}/udp"] = e

    ranges = [("web", 3000, 3099), ("database", 5000, 5999), ("api", 8000, 8099),
              ("ml", 8100, 8199), ("monitoring", 9000, 9099), ("dynamic", 10000, 10999)]
    others = ["allocated", "reserved", "maintenance", "deprecated", "needs_pairing", "inactive"]
    reserved = {22, 80, 443, 3000, 8080}  # the built-in config's reserved ports
    free = [(t, p) for t, lo, hi in ranges for p in range(lo, hi + 1) if p not in reserved]
    rest = max(0, total - len(allocations))
    for k, (stype, port) in enumerate(sorted(rng.sample(free, rest))):
        status = "active" if k % 3 == 0 else rng.choice(others)  # active ones are down
        allocations[str(port)] = entry(f"{stype}-{port}", status, stype,
                                       notes="benchmark entry" if k % 7 == 0 else "")

    archive = [{"port": 11000 + i, "service": f"old-{i}", "status": "deprecated",
                "released_at": "2025-09-30T12:00:00"} for i in range(30)]
    registry = {
        "version": "1.0.0",
        "last_updated": "2025-11-02",
        "server": "203.0.113.5",
        "generation": 1,
        "allocations": {k: allocations[k] for k in sorted(allocations, key=sort_key)},
        "reserved_ranges": {"3000-3099": "Web Applications", "5000-5999": "Database Services",
                            "8000-8099": "API Services", "8100-8199": "ML/AI Services",
                            "9000-9099": "Monitoring & Internal Tools",
                            "10000+": "Dynamic/Temporary Services"},
        "archive": archive,
    }
    with open(out, "w") as f:
        json.dump(registry, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
