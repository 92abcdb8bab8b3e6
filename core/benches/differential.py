#!/usr/bin/env python3
"""Differential run: the same bytes out of two `tenor` binaries on generated rule sets and quotes.

    python3 core/benches/differential.py OLD_TENOR NEW_TENOR [CASES] [SEED]

Each case is a rule set (graduated, volume and package tier tables with prices of 0 to 4
decimals, flat fees, free allowances, flat-priced products, percentage discounts with
conditions) and a quote of 1 to 40 lines, now and then 513 to 1300 so that the parts
`tenor price` prices at a time meet (quantities on, beside and between tier bounds, whole
and fractional, as YAML or as JSON with quantities as numbers or strings, now and then a
broken field). Both binaries price it as compact JSON (standard output is a pipe), as
indented JSON (--pretty) and as the table; exit code, stdout and stderr must be identical.
Both binaries must know --pretty.
"""
import json, os, random, shutil, subprocess, sys, tempfile

def dec(r, lo, hi, places):
    v = r.uniform(lo, hi)
    return f"{v:.{places}f}"

def rules(r):
    out = ["currency USD", f"rounding {r.choice(['half_up', 'half_even', 'half_down', 'up', 'down'])}",
           'vendor microsoft "Microsoft"', 'vendor contoso "Contoso"',
           'segment nonprofit "Nonprofit organisations"', 'segment commercial "Commercial"',
           "coterm default { anchor customer anniversary; mode stub; prorate daily }"]
    tables = []
    for t in range(r.randint(1, 3)):
        mode = r.choice(["graduated", "volume", "package"])
        name = f"t{t}"
        head = f"tiers {name} {mode} per device a month"
        if mode == "package":
            head = f"tiers {name} package per {r.choice([10, 100, 1000])} device a month"
        rows, bound = [], 0
        if mode != "volume" and r.random() < 0.4:
            bound = r.choice([5, 10, 100, 500])
            rows.append(f"  first {bound} free")
        for _ in range(r.randint(0, 3)):
            bound += r.choice([1, 5, 10, 50, 250, 1000])
            price = dec(r, 0.01, 60, r.choice([0, 2, 2, 3, 4]))
            rows.append(f"  up to {bound}  {price}")
        rows.append(f"  above  {dec(r, 0.01, 40, r.choice([0, 2, 3, 4]))}")
        out.append(head + " {\n" + "\n".join(rows) + "\n}")
        tables.append((name, bound))
    products = []
    for k, (name, bound) in enumerate(tables):
        sku = f"TIER{k}"
        out.append(f'product {sku} "Tiered {k}" {{\n  vendor contoso\n  not bought\n'
                   f"  P1Y annual  tiers {name}\n  P1Y monthly  tiers {name}\n  P1M monthly  tiers {name}\n"
                   f"  P3Y upfront  tiers {name}\n}}")
        products.append((sku, bound))
    for k in range(r.randint(1, 3)):
        sku = f"FLAT{k}"
        m = dec(r, 1, 100, r.choice([0, 2, 3]))
        out.append(f'product {sku} "Flat {k}" {{\n  vendor microsoft\n  P1Y monthly  {m} a month  cost {dec(r, 0.5, 1, 2)} a month\n'
                   f"  P1Y annual  {dec(r, 10, 1200, 2)} a year\n  P3Y upfront  {dec(r, 100, 3000, 2)} a term\n"
                   f"  P1M monthly  {dec(r, 1, 120, 2)} a month\n}}")
        products.append((sku, 0))
    if r.random() < 0.4:
        out.append('product METER "Metered" {\n  vendor contoso\n  not bought\n  usage gb by max\n'
                   f"  minimum {dec(r, 5, 60, 2)} a month\n  P1M monthly  {dec(r, 0.01, 0.2, r.choice([2, 3, 4]))} a month\n"
                   f"  P1Y monthly  {dec(r, 0.01, 0.2, 3)} a month\n}}")
        products.append(("METER", 0))
    for k in range(r.randint(0, 3)):
        cond = r.choice(["", " when customer segment is nonprofit", " when quantity at least 5",
                         " when customer segment is nonprofit and quantity at least 5",
                         " when start before 2026-07-01", " when start from 2026-03-15 and quantity at most 50",
                         " when billing is annual", " when term is P1Y or P3Y"])
        scope = r.choice(["vendor microsoft", "vendor contoso", "every line", "product FLAT0"])
        amount = r.choice([f"{r.choice([5, 10, 12.5, 15, 33])}%", f"{r.choice([5, 10, 15])}%",
                           f"{dec(r, 0.5, 5, 2)} a month", f"{dec(r, 0.5, 3, 2)} per unit a month",
                           f"{dec(r, 10, 200, 2)} once"])
        if r.random() < 0.1:
            scope = "the quote"
            amount = r.choice([f"{dec(r, 10, 300, 2)} once", "5%"])
        duration = r.choice(["", "", "", " for the first 3 months", " for the first 14 months"])
        out.append(f"discount d{k}: {amount} off {scope}{cond}{duration}")
    return "\n".join(out) + "\n", products

def quantity(r, bound):
    q = r.choice([1, 2, 5, 9, 10, 11, 49, 50, 51, 99, 100, 101, 499, 500, 501, 1000, 1001, 12345])
    if bound and r.random() < 0.5:
        q = max(1, bound + r.choice([-1, 0, 1]))
    if r.random() < 0.2:
        return f"{q}.{r.choice(['5', '25', '125', '01', '005'])}"
    return q

def quote(r, products):
    lines = []
    # Now and then more lines than `tenor price` prices at a time (512), so parts meet.
    n = r.randint(513, 1300) if r.random() < 0.12 else r.randint(1, 40)
    for _ in range(n):
        if lines and r.random() < 0.3:
            # What an earlier line sells, from another day: lines a pricer may price alike.
            line = dict(r.choice(lines))
            line["start"] = f"2026-{r.randint(1, 12):02}-{r.randint(1, 31 if r.random() < 0.3 else 28):02}"
            if line["start"][5:7] == "02" and int(line["start"][8:]) > 28:
                line["start"] = line["start"][:8] + "28"
            lines.append(line)
            continue
        sku, bound = r.choice(products)
        term, billing = r.choice([("P1Y", "annual"), ("P1Y", "monthly"), ("P1M", "monthly"), ("P3Y", "upfront")])
        if sku == "METER":
            term, billing = r.choice([("P1M", "monthly"), ("P1Y", "monthly")])
        line = {"product": sku, "quantity": quantity(r, bound), "term": term, "billing": billing,
                "start": f"2026-{r.randint(1, 12):02}-{r.randint(1, 28):02}"}
        if sku == "METER":
            line["usage"] = r.choice([0, 10, 250, 1000, 5000])
        if r.random() < 0.1:
            line["discount"] = r.choice(["10%", "50.00", "7.5%"])
        lines.append(line)
    q = {"quote": "Q-DIFF", "date": "2026-01-01", "currency": "USD",
         "customer": {"id": "C1", "name": "Diff Co", "segment": r.choice(["nonprofit", "commercial"]),
                      "anniversary": r.choice(["07-01", "01-15", "10-01"])}, "lines": lines}
    if r.random() < 0.05:
        r.choice(q["lines"])["qty"] = 1  # an unknown field: a located error
    if r.random() < 0.05:
        q["lines"][-1]["start"] = "2026-02-30"  # an impossible date
    return q

def as_yaml(q):
    def scalar(v):
        return str(v)
    out = [f"quote: {q['quote']}", f"date: {q['date']}", f"currency: {q['currency']}", "customer:"]
    out += [f"  {k}: {scalar(v)}" for k, v in q["customer"].items()]
    out.append("lines:")
    for l in q["lines"]:
        first = True
        for k, v in l.items():
            out.append(("  - " if first else "    ") + f"{k}: {scalar(v)}")
            first = False
    return "\n".join(out) + "\n"

def as_json(r, q):
    q = json.loads(json.dumps(q))
    for l in q["lines"]:
        if isinstance(l["quantity"], str) and r.random() < 0.5:
            l["quantity"] = float(l["quantity"])  # a JSON number with a fraction
        elif r.random() < 0.3:
            l["quantity"] = str(l["quantity"])
    return json.dumps(q, indent=r.choice([None, 2]))

def run(binary, args):
    p = subprocess.run([binary] + args, capture_output=True)
    return p.returncode, p.stdout, p.stderr

def main():
    old, new = sys.argv[1], sys.argv[2]
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    r = random.Random(seed)
    d = tempfile.mkdtemp(prefix="tenor-diff-")
    bad, compared, refused = 0, 0, 0
    try:
        for i in range(cases):
            text, products = rules(r)
            rd = os.path.join(d, f"r{i}")
            os.makedirs(rd)
            with open(os.path.join(rd, "rules.tenor"), "w") as f:
                f.write(text)
            q = quote(r, products)
            for ext, body in (("yaml", as_yaml(q)), ("json", as_json(r, q))):
                qp = os.path.join(d, f"q{i}.{ext}")
                with open(qp, "w") as f:
                    f.write(body)
                for fmt in (["--format", "json"], ["--format", "json", "--pretty"], ["--format", "table"]):
                    base = ["price", qp, "--rules", rd] + fmt
                    a = run(old, base)
                    b = run(new, base)
                    compared += 1
                    refused += a[0] != 0
                    if a != b:
                        bad += 1
                        print(f"DIFFERENT: case {i} {ext} {' '.join(fmt)} (kept in {d})")
                        print("  old:", a[0], a[1][:300], a[2][:300])
                        print("  new:", b[0], b[1][:300], b[2][:300])
        print(f"{compared} runs compared ({refused} refused by both), {bad} different")
    finally:
        if bad == 0:
            shutil.rmtree(d)
    sys.exit(1 if bad else 0)

main()
