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
use tenor_simulators::Vendor;
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

fn recorded(v: &Vendors) -> Vec<(u32, String, String)> {
    let r = tenor_core::record::Record::open(&v.db()).unwrap();
    r.serials("Q-1001", 1)
        .unwrap()
        .into_iter()
        .map(|s| (s.line, s.key.part_number, s.key.serial))
        .collect()
}

#[test]
fn serials_on_the_ingram_invoice_reach_the_connectwise_products_once() {
    let v = pushed_and_billed("serials");
    let invoiced = invoiced_serials(&v);
    for (_, part, _) in HARDWARE {
        assert_eq!(invoiced.get(part).map(Vec::len), Some(4), "{invoiced:?}");
    }
    assert!(cw_serials(&v).values().all(Vec::is_empty));

    let pull = v.tenor(&["pull", "--month", "2026-12", "--only", "ingram"]);
    for (line, part, _) in HARDWARE {
        for s in &invoiced[part] {
            let said =
                format!("serial {s} ({part}) recorded against Q-1001 line {line} ({PO} line");
            assert!(pull.stdout.contains(&said), "{said}\n{}", pull.stdout);
        }
    }
    let mut held = recorded(&v);
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
    let mut after = recorded(&v);
    after.sort();
    assert_eq!(after, want);

    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert!(
        push.stdout
            .contains("connectwise: serials-1 pushed (2 requests)"),
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
}
