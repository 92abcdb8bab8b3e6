//! A real browser on `tenor serve`: headless Chromium (Debian's `chromium`) driven through
//! `chromedriver` (Debian's `chromium-driver`) over W3C WebDriver, which is JSON over HTTP, so
//! the suite's own HTTP client (ureq) speaks it and no browser-automation crate is needed.
//!
//! The browser opens a signed link to Q-1001, the page shows its figures, the customer's name
//! and email are typed and Accept is clicked; the record and the exported sales order are then
//! checked. A tampered link, an expired one and a stale one (the quote revised since) show their
//! refusal pages in the browser.
//!
//! Q-1001's figures, by hand (tests/tests/serve.rs says how): first invoice 8,363.14,
//! contract value 39,092.78, MRR 1,795.00 (25 × 22.00 + 25 × 3.00 + 50.00 + 28 × 40.00).
//!
//! No browser is a failure, not a skip: the test names the packages to install.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tenor_tests::serving::Server;

const CLI: &str = env!("CARGO_BIN_EXE_tenor-cli");

/// How to get a browser, said when none is found.
const INSTALL: &str = "install headless Chromium and its WebDriver: \
    `apt-get install -y chromium chromium-driver` (or set TENOR_CHROMIUM and TENOR_CHROMEDRIVER)";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A program named by the variable, else the first of `names` on the PATH.
fn program(var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("no {} found: {INSTALL}", names.join(" or "));
}

/// A child process killed when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and reads its standard output until a line `find` accepts: its answer.
fn start(mut cmd: Command, find: impl Fn(&str) -> Option<String>) -> (Kill, String) {
    let mut child = Kill(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}: {INSTALL}")),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("{cmd:?} ended before it was ready");
        }
        if let Some(found) = find(&line) {
            // Keep draining, so the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return (child, found);
        }
    }
}

/// `tenor share QUOTE` into `db` (at `now`, when given): the link's query.
fn share(db: &Path, quote: &str, now: Option<&str>, expires: &str) -> String {
    let mut c = Command::new(CLI);
    c.arg("--db").arg(db).arg("share").arg(root().join(quote));
    c.arg("--rules").arg(root().join("rules"));
    c.args(["--expires", expires]);
    match now {
        Some(n) => c.env("TENOR_NOW", n),
        None => c.env_remove("TENOR_NOW"),
    };
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap();
    link.trim().split_once('?').unwrap().1.to_string()
}

/// One WebDriver session on a headless Chromium.
struct Browser {
    http: ureq::Agent,
    session: String,
    _driver: Kill,
}

impl Browser {
    fn start() -> Browser {
        let chromium = program("TENOR_CHROMIUM", &["chromium", "chromium-browser"]);
        let driver = program("TENOR_CHROMEDRIVER", &["chromedriver"]);
        let mut cmd = Command::new(driver);
        cmd.arg("--port=0");
        let (driver, port) = start(cmd, |l| {
            l.split("started successfully on port ")
                .nth(1)
                .map(|p| p.trim().trim_end_matches('.').to_string())
        });
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                // No sandbox: CI runs as root; no /dev/shm: containers keep it small.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run"],
            },
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .send_json(&caps)
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session ({v}): {INSTALL}"))
            .to_string();
        Browser {
            http,
            session: format!("{base}/session/{session}"),
            _driver: driver,
        }
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let mut r = match method {
            "GET" => self.http.get(&url).call(),
            _ => self.http.post(&url).send_json(&body),
        }
        .unwrap();
        let v: Value = r.body_mut().read_json().unwrap();
        assert!(v["value"]["error"].is_null(), "{method} {path}: {v}");
        v["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url}));
    }

    /// The element for a CSS selector, waited for (up to 10 s) while a page loads.
    fn find(&self, css: &str) -> String {
        let url = format!("{}/element", self.session);
        let body = json!({"using": "css selector", "value": css});
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let v = loop {
            let v: Value = self
                .http
                .post(&url)
                .send_json(&body)
                .unwrap()
                .body_mut()
                .read_json()
                .unwrap();
            if v["value"]["error"] != "no such element" || std::time::Instant::now() > deadline {
                break v["value"].clone();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // W3C's fixed key for an element reference.
        v["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        let v = self.call("GET", &format!("/element/{id}/text"), Value::Null);
        v.as_str().unwrap().to_string()
    }

    fn title(&self) -> String {
        self.call("GET", "/title", Value::Null)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({"text": text}),
        );
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.session).call();
    }
}

// Long: one customer's visit from link to record, then the three refused links, in order.
#[test]
fn a_customer_accepts_q1001_in_a_real_browser_and_bad_links_are_refused() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("t.db");
    let good = share(&db, "rules/quotes/q1001-dental-practice.yaml", None, "14d");
    // Shared on 2020-01-01 for a day: long expired on the server's (real) clock.
    let expired = share(
        &db,
        "rules/quotes/q1002-nonprofit.yaml",
        Some("2020-01-01T00:00:00Z"),
        "1d",
    );
    // Stale: Q-1004 shared, then changed (9 seats instead of 8) and shared again.
    let text =
        std::fs::read_to_string(root().join("rules/quotes/q1004-month-to-month.yaml")).unwrap();
    let q1004 = dir.join("q1004.yaml");
    std::fs::write(&q1004, &text).unwrap();
    let stale = share(&db, q1004.to_str().unwrap(), None, "14d");
    std::fs::write(&q1004, text.replacen("quantity: 8", "quantity: 9", 1)).unwrap();
    share(&db, q1004.to_str().unwrap(), None, "14d");
    let server = Server::spawn(Server::command(CLI, &db, &[]));
    let base = &server.base;
    let browser = Browser::start();

    browser.open(&format!("{base}/quote?{good}"));
    assert_eq!(browser.title(), "Quote Q-1001 for Bayview Family Dental");
    assert_eq!(browser.text("#total-first"), "8,363.14 USD");
    assert_eq!(browser.text("#total-contract"), "39,092.78 USD");
    assert_eq!(browser.text("#total-mrr"), "1,795.00 USD");
    browser.type_into("input[name=name]", "Dr Ana Lee");
    browser.type_into("input[name=email]", "ana@bayview.example");
    browser.click("#accept");
    let done = browser.text("#done");
    assert!(
        done.starts_with("Thank you, Dr Ana Lee. Quote Q-1001 is accepted"),
        "{done}"
    );

    // The record: one acceptance, by whom, from the browser's address, of the signed content.
    let c = rusqlite::Connection::open(&db).unwrap();
    let (name, email, address, hash): (String, String, String, String) = c
        .query_row(
            "SELECT name, email, address, content_sha256 FROM share_decisions
             WHERE quote = 'Q-1001' AND kind = 'accept'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(name, "Dr Ana Lee");
    assert_eq!(email, "ana@bayview.example");
    assert_eq!(address, "127.0.0.1");
    let signed = good
        .split('&')
        .find_map(|kv| kv.strip_prefix("h="))
        .unwrap();
    assert_eq!(hash, signed);
    // The exported documents carry the figures the page showed.
    let out = dir.join("out");
    let o = Command::new(CLI)
        .arg("--db")
        .arg(&db)
        .args(["export", "Q-1001", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let so: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("SO-Q-1001.json")).unwrap())
            .unwrap();
    assert_eq!(so["totals"]["first_invoice"], "8363.14");
    assert_eq!(so["totals"]["contract_value"], "39092.78");
    assert_eq!(so["totals"]["mrr"], "1795.00");
    assert!(out.join("export.json").is_file(), "the manifest comes last");

    // A tampered link: a day added to its expiry, the signature kept.
    let tampered = good
        .split('&')
        .map(|kv| match kv.strip_prefix("e=") {
            Some(e) => format!("e={}", e.parse::<i64>().unwrap() + 86_400),
            None => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    browser.open(&format!("{base}/quote?{tampered}"));
    assert_eq!(browser.title(), "This link has been altered");
    assert!(
        browser
            .text(".reason")
            .starts_with("The link does not match the one your provider sent"),
        "{}",
        browser.text(".reason")
    );
    browser.open(&format!("{base}/quote?{expired}"));
    assert_eq!(browser.title(), "This link has expired");
    assert_eq!(
        browser.text(".reason"),
        "The time to accept this quote has passed. Ask your provider for a new link."
    );
    browser.open(&format!("{base}/quote?{stale}"));
    assert_eq!(browser.title(), "This quote has been revised");
    assert!(
        browser
            .text(".reason")
            .starts_with("Your provider changed the quote after sending this link"),
        "{}",
        browser.text(".reason")
    );
    let decisions: i64 = c
        .query_row("SELECT COUNT(*) FROM share_decisions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(decisions, 1, "only the good link's acceptance");
}

// Long: the record set up, the report written, then read in the browser: one story, in order.
#[test]
fn the_reconciliation_report_opens_in_a_real_browser_with_the_json_figures() {
    use rust_decimal::Decimal;
    use tenor_core::record::reconciled::Tally;
    // Three months kept in the record, by hand: January one quantity gap of 1,056.00;
    // February that gap and a missing line of 600.00 (1,656.00); March all clean.
    let scratch = tenor_tests::scratch::Scratch::dir("browser-reconcile");
    let db = scratch.db();
    let tally = |class: &str, money: &str| Tally {
        customer: "CUST-0042".into(),
        class: class.into(),
        findings: 1,
        money_at_risk: money.parse::<Decimal>().unwrap(),
        unknown: 0,
    };
    {
        let mut r = tenor_core::record::Record::open(&db).unwrap();
        let doc = json!({"schema": "tenor.reconcile/1"});
        r.record_reconciliation("2027-01", "", &doc, &[tally("quantity", "1056.00")])
            .unwrap();
        r.record_reconciliation(
            "2027-02",
            "",
            &doc,
            &[
                tally("quantity", "1056.00"),
                tally("missing_line", "600.00"),
            ],
        )
        .unwrap();
        r.record_reconciliation("2027-03", "", &doc, &[]).unwrap();
    }
    let page = scratch.path().join("trend <&>.html");
    let out = Command::new(CLI)
        .arg("--db")
        .arg(&db)
        .args([
            "reconcile",
            "--since",
            "2027-01",
            "--format",
            "json",
            "--html",
        ])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let json_money: Vec<String> = doc["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["money_at_risk"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(json_money, ["1056.00", "1656.00", "0.00"]);

    let browser = Browser::start();
    let url = format!(
        "file://{}",
        page.display()
            .to_string()
            .replace(' ', "%20")
            .replace('<', "%3C")
            .replace('>', "%3E")
    );
    browser.open(&url);
    assert_eq!(browser.title(), "Money at risk since 2027-01");
    // The table the chart is drawn from says what the JSON says, month by month.
    for (i, want) in json_money.iter().enumerate() {
        let cell = browser.text(&format!("#months tbody tr:nth-child({}) td.money", i + 1));
        assert_eq!(&cell, want, "month {}", i + 1);
    }
    // The chart drew a bar piece per class with money: January's one, February's two.
    let bars = browser.call(
        "POST",
        "/elements",
        json!({"using": "css selector", "value": "svg rect"}),
    );
    assert_eq!(bars.as_array().unwrap().len(), 3, "{bars}");
}
