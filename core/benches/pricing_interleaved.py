#!/usr/bin/env python3
"""Target 1 of issue 16, each side in a process of its own: `price/engine_each_line` and its floor
`price/hand_written_floor` (core/benches/pricing.rs) run one after the other, round after round,
so that load on the machine falls on both alike.

    python3 core/benches/pricing_interleaved.py [--rounds N] [--seconds S]

Each round runs each bench alone (criterion, S seconds of measurement, default 4) and keeps
criterion's middle estimate; the least of N rounds (default 7) of each, and their ratio, are
printed. Alone, neither runs after `price/engine_lines`, which holds 100,000 priced lines: in
one run of the whole group `engine_each_line` comes out a few percent slower. Set
TENOR_PRICE_UNIQUE=1 for lines that never repeat an offer and quantity.
"""
import glob, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}

def bench_binary():
    subprocess.run(["cargo", "bench", "-p", "tenor-core", "--bench", "pricing", "--no-run"],
                   cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    found = [p for p in glob.glob(os.path.join(ROOT, "target/release/deps/pricing-*"))
             if os.access(p, os.X_OK) and not p.endswith(".d")]
    return max(found, key=os.path.getmtime)

def middle_ms(binary, name, seconds):
    out = subprocess.run([binary, "--bench", f"price/{name}$", "--measurement-time", str(seconds),
                          "--warm-up-time", "1", "--noplot"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", out)
    if not m:
        sys.exit(f"no time in the output of {name}:\n{out}")
    return float(m.group(1)) * UNITS[m.group(2)]

def main():
    args = sys.argv[1:]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 7
    seconds = args[args.index("--seconds") + 1] if "--seconds" in args else "4"
    binary = bench_binary()
    names = ["engine_each_line", "hand_written_floor"]
    least = {n: float("inf") for n in names}
    for _ in range(rounds):
        for n in names:
            least[n] = min(least[n], middle_ms(binary, n, seconds))
    print(f"least of {rounds} rounds, each bench alone; load average {os.getloadavg()[0]:.2f}")
    for n in names:
        print(f"{n}: {least[n]:.2f} ms")
    print(f"ratio: {least[names[0]] / least[names[1]]:.2f}x")

if __name__ == "__main__":
    main()
