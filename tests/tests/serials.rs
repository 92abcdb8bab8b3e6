//! Hardware serial numbers from the distributor's invoice to the PSA with nobody typing them
//! (issue 13 item 5), against the vendor simulators: Q-1001's laptops and docks are bought
//! via Ingram Micro, whose simulated invoice carries a serial per unit; `tenor pull` records
//! them against the sales-order lines, `tenor push` writes them onto the ConnectWise
//! procurement products of those lines, once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tenor_simulators::{Fault, FaultKind, Vendor};
use tenor_tests::sims::Vendors;

/// Q-1001's hardware: (quote line, Ingram part, ConnectWise catalogue item), from the quote
/// and `rules/hardware.tenor`.
const HARDWARE: [(u32, &str, &str); 2] =
    [(6, "7YD4KL", "DELL-LAT5550"), (7, "5TF9KV", "DELL-WD22TB4")];

const PO: &str = "PO-Q-1001-ingram";

/// The simulators with Q-1001 accepted and pushed, and December billed.
fn pushed_and_billed(name: &str) -> Vendors {
    let mut v = Vendors::start(name);
    // Ingram's spec requires IM-ApplicationID on the invoice search and details.
    v.set_env("TENOR_INGRAM_APPLICATION_ID", "tenor-tests");
    v.accept("q1001-dental-practice.yaml");
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    v.sims.bill("2026-12").unwrap();
    v
}

/// The serial numbers on the Ingram simulator's invoices of Q-1001's purchase order, by part.
fn invoiced_serials(v: &Vendors) -> BTreeMap<String, Vec<String>> {
    let snap = v.sims.snapshot();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for inv in snap["ingram"]["invoices"].as_array().unwrap() {
        if inv["customerOrderNumber"] != PO {
            continue;
        }
        for l in inv["lines"].as_array().unwrap() {
            let part = l["ingramPartNumber"].as_str().unwrap().to_string();
            for s in l["serialNumbers"].as_array().into_iter().flatten() {
                let serial = s["serialNumber"].as_str().unwrap().to_string();
                out.entry(part.clone()).or_default().push(serial);
            }
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

/// The serial numbers the ConnectWise simulator holds on the procurement product of each
/// catalogue item, sorted; `[]` for a product without any.
fn cw_serials(v: &Vendors) -> BTreeMap<String, Vec<String>> {
    let snap = v.sims.snapshot();
    let mut out = BTreeMap::new();
    for p in snap["connectwise"]["products"].as_array().unwrap() {
        let item = p["catalogItem"]["identifier"].as_str().unwrap().to_string();
        let mut list: Vec<String> = p
            .get("serialNumbers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        list.sort();
        assert!(
            out.insert(item.clone(), list).is_none(),
            "one product per item: {item}"
        );
    }
    out
}

/// `tenor show` names every serial with its line, purchase-order line and the PSA it reached,
/// in the table and in `tenor.show/1`.
fn shows_the_serials_pushed(v: &Vendors, invoiced: &BTreeMap<String, Vec<String>>) {
    let table = v.tenor(&["show", "Q-1001"]);
    let json = v.tenor(&["show", "Q-1001", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let listed = doc["serials"].as_array().unwrap();
    assert_eq!(listed.len(), 8, "{listed:?}");
    for (line, part, _) in HARDWARE {
        let po_line = po_line_of(v, part);
        for s in &invoiced[part] {
            let row = format!(
                "  serial {s} ({part}) line {line}: from ingram {PO} line {po_line}, pushed to connectwise\n"
            );
            assert!(table.stdout.contains(&row), "{row}{}", table.stdout);
            let entry = listed.iter().find(|e| e["serial"] == s.as_str()).unwrap();
            assert_eq!(
                (&entry["line"], &entry["part_number"], &entry["pushed_to"]),
                (
                    &Value::from(line),
                    &Value::from(part),
                    &serde_json::json!(["connectwise"])
                )
            );
        }
    }
}

/// A serial read again against another line keeps the line it was first recorded against,
/// and the pull says so (`elsewhere`), in the record's own terms.
fn a_serial_read_on_another_line_keeps_its_first(v: &Vendors) {
    use tenor_core::record::{NewConversation, Record};
    let mut r = Record::open(&v.db()).unwrap();
    let held = r.serials("Q-1001", 1).unwrap();
    let first = held[0].serial.clone();
    let mut moved = first.clone();
    moved.line = 7;
    let c = NewConversation {
        id: "pull/ingram/CUST-0042/invoices/2026-12/999999".into(),
        direction: "pull",
        plugin: "ingram".into(),
        customer: "CUST-0042".into(),
        quote: None,
        document: "invoices".into(),
        month: Some("2026-12".into()),
    };
    r.open_conversation(&c).unwrap();
    let pulled = tenor_plugin_sdk::exchange::Pulled::default();
    let got = r
        .finish_pull(
            &c.id,
            Some("2026-12"),
            &pulled,
            std::slice::from_ref(&moved),
        )
        .unwrap();
    assert!(got.new.is_empty() && got.known == 0, "{got:?}");
    assert_eq!(got.elsewhere, vec![(moved, first)]);
    assert_eq!(r.serials("Q-1001", 1).unwrap(), held);
}

fn recorded(v: &Vendors) -> Vec<(u32, String, String)> {
    let r = tenor_core::record::Record::open(&v.db()).unwrap();
    r.serials("Q-1001", 1)
        .unwrap()
        .into_iter()
        .map(|s| (s.serial.line, s.serial.key.part_number, s.serial.key.serial))
        .collect()
}

/// Two pulls of December: the first records each invoiced serial against its sales-order
/// line and names it; the second records nothing again.
fn pulls_record_each_serial_once(v: &Vendors, invoiced: &BTreeMap<String, Vec<String>>) {
    let pull = v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    for (line, part, _) in HARDWARE {
        for s in &invoiced[part] {
            let said =
                format!("serial {s} ({part}) recorded against Q-1001 line {line} ({PO} line");
            assert!(pull.stdout.contains(&said), "{said}\n{}", pull.stdout);
        }
    }
    let mut held = recorded(v);
    held.sort();
    let mut want: Vec<(u32, String, String)> = HARDWARE
        .iter()
        .flat_map(|(line, part, _)| {
            invoiced[*part]
                .iter()
                .map(|s| (*line, part.to_string(), s.clone()))
        })
        .collect();
    want.sort();
    assert_eq!(held, want);

    // A second pull reads the same invoice and records nothing again.
    let again = v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    assert!(
        !again.stdout.contains("recorded against"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("  8 serials were recorded before"),
        "{}",
        again.stdout
    );
    let mut after = recorded(v);
    after.sort();
    assert_eq!(after, want);
}

#[test]
fn serials_on_the_ingram_invoice_reach_the_connectwise_products_once() {
    let v = pushed_and_billed("serials");
    let invoiced = invoiced_serials(&v);
    for (_, part, _) in HARDWARE {
        assert_eq!(invoiced.get(part).map(Vec::len), Some(4), "{invoiced:?}");
    }
    assert!(cw_serials(&v).values().all(Vec::is_empty));

    pulls_record_each_serial_once(&v, &invoiced);

    let show = v.tenor(&["show", "Q-1001"]);
    assert_eq!(
        show.stdout.matches(", not pushed yet\n").count(),
        8,
        "{}",
        show.stdout
    );

    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    shows_the_serials_pushed(&v, &invoiced);
    assert!(
        push.stdout
            .contains("connectwise: serials-1 pushed (4 requests)"),
        "{}",
        push.stdout
    );
    let cw = cw_serials(&v);
    for (_, part, item) in HARDWARE {
        assert_eq!(cw[item], invoiced[part], "{item}");
    }
    for (item, list) in &cw {
        if !HARDWARE.iter().any(|(_, _, i)| i == item) {
            assert!(list.is_empty(), "{item} got serials {list:?}");
        }
    }
    assert!(
        v.refused().iter().all(|r| r.vendor != Vendor::Connectwise),
        "{:?}",
        v.refused()
    );

    // Nothing new: the third push sends nothing at all.
    let before = v.sims.received().len();
    let third = v.tenor(&["push", "Q-1001"]);
    assert!(third.ok, "{}\n{}", third.stdout, third.stderr);
    assert!(!third.stdout.contains("serials-"), "{}", third.stdout);
    assert_eq!(
        v.sims.received().len(),
        before,
        "{:?}",
        &v.sims.received()[before..]
    );
    a_serial_read_on_another_line_keeps_its_first(&v);
}

/// True while the serials push's write to ConnectWise is on its way: recorded as sent, not
/// answered.
fn write_in_flight(v: &Vendors) -> bool {
    let Ok(r) = tenor_core::record::Record::open(&v.db()) else {
        return false;
    };
    let c = r.conversation("push/Q-1001/1/connectwise/serials-1");
    c.ok().flatten().is_some_and(|c| {
        c.exchanges
            .iter()
            .any(|e| e.response.is_none() && e.request.path.starts_with("/procurement/products/"))
    })
}

/// An invoice of the Ingram simulator's for `po` dated in December: one line of part
/// `part` with these serials, at `line` of the purchase order.
fn add_invoice(v: &Vendors, number: &str, po: &str, line: u32, part: &str, serials: &[&str]) {
    let lines = serde_json::json!([{
        "ingramLineNumber": "001", "customerLineNumber": line.to_string(), "ingramPartNumber": part,
        "quantity": serials.len(), "unitPrice": 1049.00, "extendedPrice": 1049.00 * serials.len() as f64,
        "taxAmount": 0, "currencyCode": "USD",
        "serialNumbers": serials.iter().map(|s| serde_json::json!({"serialNumber": s})).collect::<Vec<_>>(),
    }]);
    // The Ingram order the invoice bills: the one placed for `po` (the connector reads the
    // invoices of the customer's own orders), else one Tenor never placed.
    let snap = v.sims.snapshot();
    let order = snap["ingram"]["orders"]
        .as_array()
        .and_then(|os| os.iter().find(|o| o["customerOrderNumber"] == po))
        .and_then(|o| o["ingramOrderNumber"].as_str())
        .unwrap_or("20-99999")
        .to_string();
    v.sims.with_world(|w| {
        w.ingram.invoices.push(serde_json::json!({
            "invoiceNumber": number, "invoiceStatus": "OPEN", "invoiceDate": "2026-12-20",
            "customerOrderNumber": po, "ingramOrderNumber": order, "lines": lines,
        }));
    });
}

/// The purchase-order line of Q-1001's Ingram order that bought `part`, from the Ingram
/// simulator's order.
fn po_line_of(v: &Vendors, part: &str) -> u32 {
    let snap = v.sims.snapshot();
    let order = snap["ingram"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["customerOrderNumber"] == PO)
        .unwrap();
    let line = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["ingramPartNumber"] == part)
        .unwrap();
    line["customerLineNumber"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_serials_push_refused_or_killed_is_resumed_and_later_serials_follow() {
    let v = pushed_and_billed("serials-resume");
    let invoiced = invoiced_serials(&v);
    let pull = v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    assert_eq!(
        pull.stdout.matches("recorded against Q-1001").count(),
        8,
        "{}",
        pull.stdout
    );

    refused_then_killed_then_resumed(&v, &invoiced);
    later_serials_follow(&v, &invoiced);
}

/// A serials push ConnectWise refuses (500 on every write), then one killed while its write
/// is on its way: both resumed by the next push, the same conversation, the same serials.
fn refused_then_killed_then_resumed(v: &Vendors, invoiced: &BTreeMap<String, Vec<String>>) {
    // ConnectWise answers every write with 500: the push stops, to be resumed.
    let writes = |kind: FaultKind, times: u32| Fault {
        vendor: Vendor::Connectwise,
        method: "PATCH".into(),
        path: "/procurement/products/*".into(),
        kind,
        times,
    };
    v.sims.inject(writes(FaultKind::ServerError, 100));
    let refused = v.tenor(&["push", "Q-1001"]);
    assert_eq!(
        refused.code,
        Some(1),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stderr.contains("serials-1 was not completed"),
        "{}",
        refused.stderr
    );
    v.sims.clear_faults();
    assert!(cw_serials(v).values().all(Vec::is_empty));

    // Killed while a write is on its way.
    v.sims
        .inject(writes(FaultKind::Delay(Duration::from_secs(4)), 1));
    let mut child = v.command(&["push", "Q-1001"]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !write_in_flight(v) {
        assert!(Instant::now() < deadline, "the write never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    v.sims.clear_faults();

    let resumed = v.tenor(&["push", "Q-1001"]);
    assert!(resumed.ok, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("connectwise: serials-1 pushed"),
        "{}",
        resumed.stdout
    );
    let cw = cw_serials(v);
    for (_, part, item) in HARDWARE {
        assert_eq!(cw[item], invoiced[part], "{item}");
    }
    // The resumed conversation sent the unanswered write again, the same, and was answered.
    let r = tenor_core::record::Record::open(&v.db()).unwrap();
    let c = r
        .conversation("push/Q-1001/1/connectwise/serials-1")
        .unwrap()
        .unwrap();
    assert_eq!(c.state, "done");
    let lost = c
        .exchanges
        .iter()
        .position(|e| e.response.is_none())
        .unwrap();
    let (was, again) = (&c.exchanges[lost], &c.exchanges[lost + 1]);
    assert_eq!(was.request, again.request);
    assert_eq!(again.response.as_ref().map(|r| r.status), Some(200));
    drop(r);
}

/// A replacement laptop on a later invoice is pushed with the line's other serials; a serial
/// on an invoice of an order Tenor never placed, or of another part than its line bought, is
/// said, not recorded.
fn later_serials_follow(v: &Vendors, invoiced: &BTreeMap<String, Vec<String>>) {
    // A replacement laptop on a later invoice, an invoice of an order Tenor never placed, and
    // a dock's serial on the laptops' line.
    let laptop_line = po_line_of(v, "7YD4KL");
    add_invoice(v, "9100001", PO, laptop_line, "7YD4KL", &["SNREPLACED01"]);
    add_invoice(v, "9100002", "PO-ELSEWHERE", 1, "7YD4KL", &["SNSTRANGER01"]);
    add_invoice(v, "9100003", PO, laptop_line, "5TF9KV", &["SNWRONGPART1"]);
    let later = v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    assert!(
        later.stdout.contains(&format!(
            "serial SNREPLACED01 (7YD4KL) recorded against Q-1001 line 6 ({PO} line {laptop_line})"
        )),
        "{}",
        later.stdout
    );
    assert_eq!(
        later.stdout.matches("recorded against").count(),
        1,
        "{}",
        later.stdout
    );
    // An invoice of an order Tenor never placed is not the customer's to read: the Ingram
    // connector reads the invoices of the orders it placed, so its serial is never recorded.
    assert!(!later.stdout.contains("SNSTRANGER01"), "{}", later.stdout);
    let wrong = format!(
        "serial `SNWRONGPART1` (5TF9KV) is on {PO} line {laptop_line}, which bought `7YD4KL`: not recorded"
    );
    assert!(later.stderr.contains(&wrong), "{wrong}\n{}", later.stderr);
    let next = v.tenor(&["push", "Q-1001"]);
    assert!(next.ok, "{}\n{}", next.stdout, next.stderr);
    assert!(
        next.stdout.contains("connectwise: serials-2 pushed"),
        "{}",
        next.stdout
    );
    // The line's list goes out whole: the four sent before and the replacement.
    let line6 = next
        .stdout
        .lines()
        .find(|l| l.starts_with("  line 6 serial numbers: "))
        .unwrap_or_else(|| panic!("{}", next.stdout));
    for s in invoiced["7YD4KL"]
        .iter()
        .map(String::as_str)
        .chain(["SNREPLACED01"])
    {
        assert!(line6.contains(s), "{s}: {line6}");
    }
    assert!(
        !next.stdout.contains("  line 7 serial numbers: "),
        "{}",
        next.stdout
    );
    let cw = cw_serials(v);
    let mut laptops = invoiced["7YD4KL"].clone();
    laptops.push("SNREPLACED01".into());
    laptops.sort();
    assert_eq!(cw["DELL-LAT5550"], laptops);
    assert_eq!(cw["DELL-WD22TB4"], invoiced["5TF9KV"]);
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The next of a repeatable run of moments (xorshift).
fn next_moment(state: &mut u64, below: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % below
}

/// Runs `tenor push Q-1001` and kills it after a random moment, again and again until a run
/// ends by itself; returns how many runs the kills interrupted.
fn push_killed_until_done(v: &Vendors, seed: &mut u64) -> u64 {
    let mut interrupted = 0;
    loop {
        let mut child = v.command(&["push", "Q-1001"]).spawn().unwrap();
        let moment = Duration::from_millis(30 + next_moment(seed, 1_200));
        std::thread::sleep(moment);
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "a push that was not killed failed");
            return interrupted;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        interrupted += 1;
        assert!(interrupted < 200, "the push never completes");
    }
}

/// Serials pushes killed at random moments (each ConnectWise answer slowed to 150 ms so that
/// kills land inside them), a new serial pulled after each completes: ConnectWise ends with
/// exactly the invoiced serials and every serial was claimed by one push. By default 3
/// interrupted runs; `TENOR_SERIAL_KILLS=25` for the figure, `TENOR_SERIAL_KILL_SEED`
/// repeats the moments.
#[test]
fn serials_pushes_killed_at_random_moments_reach_connectwise_exactly_once() {
    let kills = env_num("TENOR_SERIAL_KILLS", 3);
    let mut seed = env_num("TENOR_SERIAL_KILL_SEED", 0x5e71_a15e).max(1);
    let v = pushed_and_billed("serials-kills");
    let mut invoiced = invoiced_serials(&v);
    let pull = || v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    pull();
    v.sims.inject(Fault {
        vendor: Vendor::Connectwise,
        method: "*".into(),
        path: "*".into(),
        kind: FaultKind::Delay(Duration::from_millis(150)),
        times: u32::MAX,
    });
    let (mut interrupted, mut batches) = (0, 0);
    while interrupted < kills {
        interrupted += push_killed_until_done(&v, &mut seed);
        batches += 1;
        // A replacement unit for the next push, on the laptops' and the docks' lines in turn.
        let (_, part, _) = HARDWARE[batches % 2];
        let serial = format!("SNKILL{batches:04}");
        let number = format!("{}", 9_200_000 + batches);
        add_invoice(&v, &number, PO, po_line_of(&v, part), part, &[&serial]);
        invoiced.get_mut(part).unwrap().push(serial);
        pull();
    }
    interrupted += push_killed_until_done(&v, &mut seed);
    batches += 1;
    eprintln!("{interrupted} runs killed over {batches} serials pushes");
    v.sims.clear_faults();
    let cw = cw_serials(&v);
    for (_, part, item) in HARDWARE {
        let mut want = invoiced[part].clone();
        want.sort();
        assert_eq!(cw[item], want, "{item}");
    }
    let r = tenor_core::record::Record::open(&v.db()).unwrap();
    let held = r.serials("Q-1001", 1).unwrap();
    assert_eq!(held.len(), invoiced.values().map(Vec::len).sum::<usize>());
    assert!(
        held.iter().all(|s| s.pushed_to == ["connectwise"]),
        "{held:?}"
    );
    let last = format!("push/Q-1001/1/connectwise/serials-{batches}");
    assert_eq!(
        r.conversation(&last).unwrap().map(|c| c.state),
        Some("done".into())
    );
    let next = format!("push/Q-1001/1/connectwise/serials-{}", batches + 1);
    assert_eq!(r.conversation(&next).unwrap(), None);
}
