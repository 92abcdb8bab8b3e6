#!/usr/bin/env python3
"""Whole-process timing: `tenor price Q --rules rules --format json > /dev/null` on a 100,000-line
JSON quote, beside its floor, `plain_parse Q` (serde_json into plain structs, no checks, no
pricing, nothing written; core/benches/plain_parse.rs), in the same run.

    python3 core/benches/price_process.py [TENOR ...] [--runs N] [--workload tiers] [--lines N] [--bad-line]

With no TENOR it times target/release/tenor. Several binaries (an older build beside the new
one) are timed round by round, interleaved, so that load on the machine falls on all of them
alike. Each figure is the least CPU time (user + system) and the least wall time of N runs
(default 7): on a shared machine the least is the most repeatable; with the least peak
resident memory of a run. The quote is the one of
`cargo bench --bench pricing -- quote_100k_lines_json`, dated 2025-12-01 so that no line
starts before it (no warnings); the floor is built with `cargo bench --bench plain_parse
--no-run` when missing.

`--workload tiers` prices instead the issue's workload, the lines of `cargo bench --bench
pricing -- price/` (100,000 P1Y annual lines, a third through graduated per-device tiers, the
rest seats under a conditional 15% discount) with that bench's rules. `--lines N` makes the
quote N lines long instead (the issue's figures are for 1,000,000). `--bad-line` sells an
unknown product on the line nine tenths of the way in: `tenor price` then names it (exit code 1)
and writes nothing, the time and memory of finding where in the file it is.
"""
import glob, json, os, resource, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def quote(path, n=100_000):
    offers = [("M365-BP", "P1Y", "monthly"), ("M365-BP", "P1Y", "annual"), ("M365-E3", "P3Y", "upfront"),
              ("MS-DEVICE", "P1Y", "monthly"), ("MDB", "P1Y", "monthly"), ("EXO-P1", "P1M", "monthly"),
              ("DELL-LAT5550", "one-time", None)]
    lines = []
    for i in range(n):
        p, t, b = offers[i % len(offers)]
        line = {"product": p, "quantity": 1 + i % 200, "term": t}
        if b:
            line["billing"] = b
        line["start"] = "2026-%02d-%02d" % (1 + i % 12, 1 + i % 28)
        lines.append(line)
    q = {"quote": "Q-BIG", "date": "2025-12-01", "currency": "USD",
         "customer": {"id": "CUST-1", "name": "Big Co", "segment": "nonprofit", "anniversary": "07-01"},
         "lines": lines}
    with open(path, "w") as f:
        json.dump(q, f, separators=(",", ":"))

def tiers_rules():
    """The rules of the `price/` bench, read from core/benches/pricing.rs."""
    with open(os.path.join(ROOT, "core/benches/pricing.rs")) as f:
        text = f.read()
    start = text.index('const RULES: &str = r#"') + len('const RULES: &str = r#"')
    return text[start:text.index('"#;', start)]

def tiers_quote(path, n=100_000):
    lines = []
    for i in range(n):
        seat = i % 3 != 0
        lines.append({"product": "BP" if seat else "DEV", "quantity": 1 + i % 60, "term": "P1Y",
                      "billing": "annual", "start": "2026-%02d-%02d" % (1 + i % 12, 1 + i % 28)})
    q = {"quote": "Q-BENCH", "date": "2026-01-01", "currency": "USD",
         "customer": {"id": "C", "name": "C", "segment": "nonprofit", "anniversary": "07-01"},
         "lines": lines}
    with open(path, "w") as f:
        json.dump(q, f, separators=(",", ":"))

def plant_unknown_product(path, lines):
    """The quote at `path` with line 9/10 of the way in selling `NOPE`."""
    with open(path) as f:
        q = json.load(f)
    q["lines"][lines * 9 // 10]["product"] = "NOPE"
    with open(path, "w") as f:
        json.dump(q, f, separators=(",", ":"))

def floor_binary():
    found = [p for p in glob.glob(os.path.join(ROOT, "target/release/deps/plain_parse-*"))
             if os.access(p, os.X_OK) and not p.endswith(".d")]
    if not found:
        subprocess.run(["cargo", "bench", "-p", "tenor-core", "--bench", "plain_parse", "--no-run"],
                       cwd=ROOT, check=True)
        return floor_binary()
    return max(found, key=os.path.getmtime)

def timed(cmd, fails=False):
    """(wall seconds, CPU seconds, peak resident MB) of one run, its output thrown away; it
    must succeed, or when it `fails`, exit with 1."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(cmd, stdout=null, stderr=null if fails else None)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if child.returncode != (1 if fails else 0):
        raise SystemExit(f"{cmd[0]} exited with {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

def main():
    args = sys.argv[1:]
    runs = 7
    if "--runs" in args:
        k = args.index("--runs")
        runs = int(args[k + 1])
        del args[k:k + 2]
    workload = None
    if "--workload" in args:
        k = args.index("--workload")
        workload = args[k + 1]
        del args[k:k + 2]
    lines = 100_000
    if "--lines" in args:
        k = args.index("--lines")
        lines = int(args[k + 1])
        del args[k:k + 2]
    bad = "--bad-line" in args
    if bad:
        args.remove("--bad-line")
    tenors = args or [os.path.join(ROOT, "target/release/tenor")]
    rules = os.path.join(ROOT, "rules")
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, "quote.json")
        if workload == "tiers":
            rules = os.path.join(tmp, "rules")
            os.makedirs(rules)
            with open(os.path.join(rules, "bench.tenor"), "w") as f:
                f.write(tiers_rules())
            tiers_quote(q, lines)
        else:
            quote(q, lines)
        if bad:
            plant_unknown_product(q, lines)
        commands = [("floor: plain_parse", [floor_binary(), q])]
        commands += [(t, [t, "price", q, "--rules", rules, "--format", "json"]) for t in tenors]
        best = {name: (float("inf"), float("inf"), float("inf")) for name, _ in commands}
        for _ in range(runs):
            for name, cmd in commands:
                wall, cpu, peak = timed(cmd, bad and name != commands[0][0])
                b = best[name]
                best[name] = (min(b[0], wall), min(b[1], cpu), min(b[2], peak))
    floor_wall, floor_cpu, _ = best[commands[0][0]]
    print(f"least of {runs} runs, interleaved; load average {os.getloadavg()[0]:.2f}")
    for name, _ in commands:
        wall, cpu, peak = best[name]
        print(f"{name}: wall {wall:.3f} s ({wall / floor_wall:.1f}x), cpu {cpu:.3f} s "
              f"({cpu / floor_cpu:.1f}x), peak {peak:.0f} MB")

if __name__ == "__main__":
    main()
