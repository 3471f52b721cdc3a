#!/usr/bin/env python3
"""Writes a realistic port registry for the benchmark from a hoststate layout file.

    make_registry.py LAYOUT OUT.json [--entries N]

About N entries (default 300): a share of the listening TCP and UDP ports registered as active
(some naming the expected process, some the expected bind address), some listening ports with a
status other than active, a few naming another process or a narrower bind than the socket has,
and the rest registered in the type ranges without anything listening (active ones are "down",
the others allocated, reserved, maintenance, ...). Plus an archive and hand-added fields, as real
files have. Deterministic: the same layout gives the same file.
"""
import json
import random
import sys


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
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

    def sort_key(key):
        port, _, proto = key.partition("/")
        return (int(port), proto)

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
