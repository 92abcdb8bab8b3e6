//! Injected faults: 429 with Retry-After and 500 act on nothing; a delay outlasts a client's
//! timeout; a dropped connection loses the answer (without acting, or after acting — then the
//! vendor's own guard must catch the retry). And the binary prints its base URLs.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a missing field is a failed test"
)]

mod support;

use std::io::BufRead;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, agent, ingram, pax8};
use tenor_simulators::{Fault, FaultKind, Simulators, Vendor};

fn order(number: &str) -> Value {
    json!({"customerOrderNumber": number, "lines": [{"customerLineNumber": "1", "ingramPartNumber": "7YD4KL", "quantity": 1}]})
}

fn fault(kind: FaultKind, times: u32) -> Fault {
    Fault {
        vendor: Vendor::Ingram,
        method: "POST".into(),
        path: "/resellers/v6/orders".into(),
        kind,
        times,
    }
}

#[test]
fn too_many_requests_carries_retry_after_and_places_nothing() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    sims.inject(fault(
        FaultKind::TooManyRequests {
            retry_after_secs: 7,
        },
        2,
    ));
    let mut req = c.agent.post(format!("{}/resellers/v6/orders", c.base));
    for (k, v) in &c.headers {
        req = req.header(k, v);
    }
    let r = req.send_json(order("PO-429")).unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(c.post("/resellers/v6/orders", &order("PO-429")).0, 429);
    assert_eq!(sims.ingram_orders_for("PO-429"), 0);
    assert_eq!(
        c.post("/resellers/v6/orders", &order("PO-429")).0,
        201,
        "spent after two"
    );
    assert_eq!(sims.ingram_orders_for("PO-429"), 1);
}

#[test]
fn a_server_error_places_nothing_and_matches_only_its_endpoint() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    sims.inject(fault(FaultKind::ServerError, 1));
    assert_eq!(
        c.get("/resellers/v6/orders/search?customerOrderNumber=PO-500")
            .0,
        200,
        "another endpoint is untouched"
    );
    assert_eq!(c.post("/resellers/v6/orders", &order("PO-500")).0, 500);
    assert_eq!(sims.ingram_orders_for("PO-500"), 0);
    assert_eq!(c.post("/resellers/v6/orders", &order("PO-500")).0, 201);
    let statuses: Vec<u16> = sims
        .received()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/resellers"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [500, 201]);
}

#[test]
fn a_delay_outlasts_the_client_timeout() {
    let sims = Simulators::start().unwrap();
    let mut c = pax8(&sims);
    c.agent = agent(Duration::from_millis(300));
    sims.inject(Fault {
        vendor: Vendor::Pax8,
        method: "*".into(),
        path: "/companies*".into(),
        kind: FaultKind::Delay(Duration::from_secs(2)),
        times: 1,
    });
    let started = Instant::now();
    let mut req = c.agent.get(format!("{}/companies", c.base));
    for (k, v) in &c.headers {
        req = req.header(k, v);
    }
    let err = req.call().expect_err("the client times out");
    assert!(matches!(err, ureq::Error::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(
        c.get("/companies").0,
        200,
        "the next request is served at once"
    );
}

#[test]
fn a_dropped_connection_without_acting_places_nothing() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    sims.inject(fault(FaultKind::Drop, 1));
    assert!(
        c.try_post("/resellers/v6/orders", &order("PO-DROP"))
            .is_err(),
        "the answer never arrives whole"
    );
    assert_eq!(sims.ingram_orders_for("PO-DROP"), 0);
}

#[test]
fn act_then_drop_places_the_order_and_the_guard_refuses_the_blind_retry() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    sims.inject(fault(FaultKind::ActThenDrop, 1));
    assert!(
        c.try_post("/resellers/v6/orders", &order("PO-ACT"))
            .is_err()
    );
    assert_eq!(
        sims.ingram_orders_for("PO-ACT"),
        1,
        "the order was placed before the drop"
    );
    let (status, _) = c.post("/resellers/v6/orders", &order("PO-ACT"));
    assert_eq!(
        status, 400,
        "a retry with the same customerOrderNumber is refused"
    );
    let (_, found) = c.get("/resellers/v6/orders/search?customerOrderNumber=PO-ACT");
    assert_eq!(found["recordsFound"], 1, "a look-up finds the order placed");
    assert_eq!(sims.ingram_orders_for("PO-ACT"), 1);
}

#[test]
fn the_binary_prints_its_base_urls_as_one_json_line() {
    let dir = std::env::temp_dir().join(format!("tenor-sim-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let seeded = json!({"today": "2027-03-01", "pax8": {"companies": [{"id": "3c0a0009-7f2e-4b8a-9d10-5e6f7a8b9c0d", "name": "Seeded Co"}]}});
    std::fs::write(&state, seeded.to_string()).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tenor-simulators"))
        .arg("--state")
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let c = Client::new(urls["pax8"].as_str().unwrap(), &[]);
    let (_, t) = c.post("/token", &json!({"client_id": "pax8-client", "client_secret": "pax8-secret", "audience": "https://api.pax8.com", "grant_type": "client_credentials"}));
    let token = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let c = Client::new(urls["pax8"].as_str().unwrap(), &[("Authorization", &token)]);
    let (_, list) = c.get("/companies");
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(list["content"][0]["name"], "Seeded Co");
    for key in ["pax8", "ingram", "tdsynnex", "connectwise"] {
        assert!(
            urls[key].as_str().unwrap().starts_with("http://127.0.0.1:"),
            "{line}"
        );
    }
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_tenor-simulators"))
        .arg("--state")
        .arg("/nonexistent.yaml")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent.yaml"));
}

#[test]
fn a_state_with_an_unknown_key_is_refused_with_its_place() {
    let err = tenor_simulators::load_state(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/example-state.yaml"
    )));
    assert!(err.is_ok(), "the shipped example loads: {err:?}");
    let dir = std::env::temp_dir().join(format!("tenor-sim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(&f, "today: 2027-01-01\npax8:\n  compnies: []\n").unwrap();
    let err = tenor_simulators::load_state(&f).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.contains("compnies") && err.contains("line 3"), "{err}");
}
