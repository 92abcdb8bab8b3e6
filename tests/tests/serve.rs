//! `tenor share` and `tenor serve` over HTTP on loopback: the customer's page of a signed link
//! shows the quote's figures, Accept records who, when and from where in one transaction with
//! the acceptance, a second or concurrent Accept is the same one acceptance, and an altered,
//! expired, revised or revoked link, a form without its CSRF token and an oversized body are
//! refused with a page that says why.
//!
//! Q-1001's figures, checked by hand in tests/tests/segments.rs
//! (`the_welcome_offer_fires_for_a_new_customer`): first invoice 8,363.14, contract value
//! 39,092.78. MRR by hand from rules/quotes/q1001-dental-practice.yaml and the example rules:
//! 25 × 22.00 (M365-BP) + 25 × 3.00 (MDB) + 1500 GB × 0.033333 = 50.00 (DATTO-CLOUD, rounded
//! to the cent) + 28 × 40.00 (MS-DEVICE, 11–50 tier) = 550 + 75 + 50 + 1120 = 1,795.00; ARR
//! 12 × 1,795.00 = 21,540.00.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tenor_tests::serving::Server;

const TESTS: &str = env!("CARGO_MANIFEST_DIR");
const CLI: &str = env!("CARGO_BIN_EXE_tenor-cli");
const ADMIN: &str = "admin-token-0123456789";

fn root() -> PathBuf {
    Path::new(TESTS).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn q1001() -> PathBuf {
    root().join("rules/quotes/q1001-dental-practice.yaml")
}

/// `tenor share` as a process (so `TENOR_NOW` can be set for it alone): the link's query.
fn share(db: &Path, quote: &Path, now: Option<&str>, extra: &[&str]) -> String {
    let mut c = Command::new(CLI);
    c.arg("--db").arg(db).arg("share").arg(quote);
    c.arg("--rules").arg(root().join("rules")).args(extra);
    if let Some(n) = now {
        c.env("TENOR_NOW", n);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap();
    let (_, q) = link.trim().split_once('?').expect("a link with a query");
    q.to_string()
}

/// `tenor serve` on the real clock with the admin token and a rate no test reaches.
fn start(db: &Path) -> Server {
    spawn(Server::command(CLI, db, &["--rate", "1000"]))
}

/// Starts a `tenor serve` command with the admin token.
fn spawn(mut cmd: Command) -> Server {
    cmd.env("TENOR_ADMIN_TOKEN", ADMIN);
    Server::spawn(cmd)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A response's status, headers and body.
struct Page {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

fn page(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Page {
    let mut r = r.unwrap();
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.body_mut().read_to_string().unwrap(),
    }
}

fn get(s: &Server, query: &str) -> Page {
    page(agent().get(format!("{}/quote?{query}", s.base)).call())
}

/// The CSRF token a page set in its cookie (and in its form).
fn csrf(p: &Page) -> String {
    let c = p.headers.get("set-cookie").unwrap().to_str().unwrap();
    let v = c.strip_prefix("tenor_csrf=").unwrap();
    let v = v.split(';').next().unwrap().to_string();
    // A decided page has no form; an open one carries the cookie's token in it.
    if !p.body.contains("id=\"decided\"") {
        let field = format!("name=\"csrf\" value=\"{v}\"");
        assert!(p.body.contains(&field), "the form carries the token");
    }
    v
}

/// Opens the link, then posts Accept (or Decline) as a browser would: the cookie and the
/// form's token.
fn decide(s: &Server, query: &str, what: &str, name: &str, email: &str) -> Page {
    let token = csrf(&get(s, query));
    post(s, query, what, name, email, Some(&token))
}

fn post(s: &Server, query: &str, what: &str, name: &str, email: &str, token: Option<&str>) -> Page {
    let mut fields: Vec<(String, String)> = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    fields.push(("name".into(), name.into()));
    fields.push(("email".into(), email.into()));
    let mut req = agent().post(format!("{}/quote/{what}", s.base));
    if let Some(t) = token {
        fields.push(("csrf".into(), t.into()));
        req = req.header("Cookie", format!("tenor_csrf={t}"));
    }
    page(req.send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

fn db_count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The query with one field's value replaced.
fn with(query: &str, key: &str, value: &str) -> String {
    query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == key => format!("{k}={value}"),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn field<'a>(query: &'a str, key: &str) -> &'a str {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap()
}

#[test]
fn the_page_shows_the_quote_figures_with_security_headers() {
    let dir = scratch("page");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    let p = get(&s, &q);
    assert_eq!(p.status, 200, "{}", p.body);
    for want in [
        "<td class=\"n\" id=\"total-first\">8,363.14 USD</td>",
        "<td class=\"n\" id=\"total-mrr\">1,795.00 USD</td>",
        "<td class=\"n\" id=\"total-arr\">21,540.00 USD</td>",
        "<td class=\"n\" id=\"total-contract\">39,092.78 USD</td>",
        // The quote's co-term: licences start 2026-12-07 and line up on the 07-01 anniversary.
        "Microsoft 365 Business Premium starts on 2026-12-07. The days until 2027-07-01 are billed pro rata",
        "First invoice on 2026-12-07: <span id=\"first-invoice\">8,363.14</span> USD.",
        "Bayview Family Dental",
    ] {
        assert!(p.body.contains(want), "missing `{want}` in\n{}", p.body);
    }
    let h = |n: &str| p.headers.get(n).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(h("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"));
    assert!(
        h("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(h("set-cookie").unwrap().contains("SameSite=Strict"));
    assert_eq!(
        db_count(&db, "SELECT COUNT(*) FROM share_events WHERE kind = 'view'"),
        1
    );
    assert_eq!(
        db_count(&db, "SELECT COUNT(*) FROM revisions"),
        0,
        "viewing accepts nothing"
    );
}

#[test]
fn accept_records_who_when_and_from_where_and_twice_is_once() {
    let dir = scratch("accept");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    let p = decide(&s, &q, "accept", "Dr Ana <b>Lee</b>", "ana@bayview.example");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("Thank you, Dr Ana &lt;b&gt;Lee&lt;/b&gt;."),
        "{}",
        p.body
    );
    assert!(!p.body.contains("<b>Lee"), "the typed name is escaped");
    let c = rusqlite::Connection::open(&db).unwrap();
    let (name, email, address, hash, rev): (String, String, String, String, u32) = c
        .query_row(
            "SELECT name, email, address, content_sha256, accepted_revision FROM share_decisions
             WHERE quote = 'Q-1001' AND revision = 1 AND kind = 'accept'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (name.as_str(), email.as_str()),
        ("Dr Ana <b>Lee</b>", "ana@bayview.example")
    );
    assert_eq!(address, "127.0.0.1");
    assert_eq!(hash, field(&q, "h"), "the hash the link was signed over");
    assert_eq!(rev, 1);
    // The acceptance is the one `tenor accept` makes: the exported sales order has the figures.
    let out = dir.join("out");
    let o = tenor_tests::tenor(&[
        "--db",
        db.to_str().unwrap(),
        "export",
        "Q-1001",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.exit, tenor_core::cli::Exit::Success, "{}", o.stderr);
    let so: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("SO-Q-1001.json")).unwrap())
            .unwrap();
    assert_eq!(so["totals"]["first_invoice"], "8363.14");
    assert_eq!(so["totals"]["mrr"], "1795.00");
    assert_eq!(so["totals"]["contract_value"], "39092.78");
    // Accepting again (another person, same link) is the same one acceptance.
    let again = decide(&s, &q, "accept", "Bob", "bob@bayview.example");
    assert_eq!(again.status, 200);
    assert!(
        again.body.contains(
            "This quote was accepted by Dr Ana &lt;b&gt;Lee&lt;/b&gt; (ana@bayview.example)"
        ),
        "{}",
        again.body
    );
    let decline = decide(&s, &q, "decline", "Bob", "bob@bayview.example");
    assert!(
        decline.body.contains("This quote was accepted by"),
        "{}",
        decline.body
    );
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM share_decisions"), 1);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM revisions"), 1);
    assert_eq!(
        db_count(
            &db,
            "SELECT COUNT(*) FROM share_events WHERE kind = 'accept'"
        ),
        1
    );
    // The page now says so instead of offering the form.
    let after = get(&s, &q);
    assert!(after.body.contains("id=\"decided\""), "{}", after.body);
    assert!(!after.body.contains("id=\"accept\""));
}

#[test]
fn concurrent_accepts_make_one_acceptance() {
    let dir = scratch("race");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    // Every browser opens the page first, then all post at once.
    let tokens: Vec<String> = (0..8).map(|_| csrf(&get(&s, &q))).collect();
    let barrier = std::sync::Barrier::new(tokens.len());
    let pages: Vec<Page> = std::thread::scope(|sc| {
        let hs: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (s, q, barrier) = (&s, &q, &barrier);
                sc.spawn(move || {
                    barrier.wait();
                    post(
                        s,
                        q,
                        "accept",
                        &format!("Person {i}"),
                        &format!("p{i}@x.example"),
                        Some(t),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(pages.iter().all(|p| p.status == 200));
    let won = pages
        .iter()
        .filter(|p| p.body.contains("Thank you, "))
        .count();
    assert_eq!(won, 1, "exactly one request accepted");
    let lost = pages
        .iter()
        .filter(|p| p.body.contains("This quote was accepted by Person "))
        .count();
    assert_eq!(lost, 7);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM share_decisions"), 1);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM revisions"), 1);
}

#[test]
fn altered_malformed_and_unknown_links_are_refused_in_words() {
    let dir = scratch("tamper");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    let h = field(&q, "h");
    let flipped = format!("{}{}", if h.starts_with('0') { "1" } else { "0" }, &h[1..]);
    let e: i64 = field(&q, "e").parse().unwrap();
    for bad in [
        with(&q, "h", &flipped),
        with(&q, "r", "2"),
        with(&q, "e", &(e + 86_400).to_string()),
        with(&q, "q", "Q-1002"),
        with(&q, "s", &"0".repeat(64)),
    ] {
        let p = get(&s, &bad);
        assert_eq!(p.status, 403, "{bad}: {}", p.body);
        assert!(p.body.contains("This link has been altered"), "{}", p.body);
        // Nor can it be accepted.
        let a = post(
            &s,
            &bad,
            "accept",
            "Eve",
            "eve@x.example",
            Some(&"a".repeat(32)),
        );
        assert_eq!(a.status, 403);
    }
    for bad in [
        with(&q, "q", "..%2Fetc"),
        with(&q, "r", "one"),
        "q=Q-1001".to_string(),
        String::new(),
    ] {
        let p = get(&s, &bad);
        assert_eq!(p.status, 400, "{bad}: {}", p.body);
        assert!(p.body.contains("This link is incomplete"), "{}", p.body);
    }
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM share_decisions"), 0);
}

#[test]
fn an_expired_link_is_refused() {
    let dir = scratch("expired");
    let db = dir.join("t.db");
    // Shared on 2020-01-01 for a day: long past when the server (on the real clock) runs.
    let q = share(
        &db,
        &q1001(),
        Some("2020-01-01T00:00:00Z"),
        &["--expires", "1d"],
    );
    assert_eq!(
        field(&q, "e"),
        "1577923200",
        "2020-01-02T00:00:00Z in unix seconds"
    );
    let s = start(&db);
    let p = get(&s, &q);
    assert_eq!(p.status, 410, "{}", p.body);
    assert!(p.body.contains("This link has expired"), "{}", p.body);
    let a = post(
        &s,
        &q,
        "accept",
        "Ana",
        "ana@x.example",
        Some(&"a".repeat(32)),
    );
    assert_eq!(a.status, 410);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM revisions"), 0);
}

#[test]
fn a_link_to_a_revised_quote_and_a_revoked_link_are_refused() {
    let dir = scratch("revised");
    let db = dir.join("t.db");
    let old = share(&db, &q1001(), None, &[]);
    // The same quote shared again is the same version; a changed one is the next.
    let same = share(&db, &q1001(), None, &[]);
    assert_eq!(field(&same, "r"), "1");
    let text = std::fs::read_to_string(q1001()).unwrap();
    let changed = dir.join("q1001-26-seats.yaml");
    std::fs::write(&changed, text.replacen("quantity: 25", "quantity: 26", 1)).unwrap();
    let new = share(&db, &changed, None, &[]);
    assert_eq!(field(&new, "r"), "2");
    let s = start(&db);
    let p = get(&s, &old);
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("This quote has been revised"), "{}", p.body);
    let a = post(
        &s,
        &old,
        "accept",
        "Ana",
        "ana@x.example",
        Some(&"a".repeat(32)),
    );
    assert_eq!(a.status, 409);
    assert_eq!(get(&s, &new).status, 200);
    // Revoked: every link of the quote.
    let o = Command::new(CLI)
        .arg("--db")
        .arg(&db)
        .args(["share", "Q-1001", "--revoke"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = get(&s, &new);
    assert_eq!(p.status, 410, "{}", p.body);
    assert!(p.body.contains("This link was withdrawn"), "{}", p.body);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM share_decisions"), 0);
}

#[test]
fn a_form_without_its_csrf_token_or_too_large_is_refused() {
    let dir = scratch("csrf");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    let token = csrf(&get(&s, &q));
    let none = post(&s, &q, "accept", "Ana", "ana@x.example", None);
    assert_eq!(none.status, 403, "{}", none.body);
    assert!(none.body.contains("This form has expired"), "{}", none.body);
    // A token in the form that is not the cookie's (a page of another site cannot read it).
    let mut req = agent().post(format!("{}/quote/accept", s.base));
    req = req.header("Cookie", format!("tenor_csrf={token}"));
    let forged = format!("{q}&name=Ana&email=ana%40x.example&csrf={}", "b".repeat(32));
    let p = page(
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .send(forged.as_str()),
    );
    assert_eq!(p.status, 403);
    // Missing name or email.
    let p = post(&s, &q, "accept", " ", "ana@x.example", Some(&token));
    assert_eq!(p.status, 422, "{}", p.body);
    let p = post(&s, &q, "accept", "Ana", "not-an-email", Some(&token));
    assert_eq!(p.status, 422);
    // A body over the 8 KiB limit is refused before it is read as a form.
    let big = format!(
        "{q}&csrf={token}&name={}&email=a%40x.example",
        "A".repeat(20_000)
    );
    let p = page(
        agent()
            .post(format!("{}/quote/accept", s.base))
            .header("Cookie", format!("tenor_csrf={token}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(big.as_str()),
    );
    assert_eq!(p.status, 413);
    assert_eq!(db_count(&db, "SELECT COUNT(*) FROM share_decisions"), 0);
}

#[test]
fn the_admin_view_needs_its_token_and_lists_states() {
    let dir = scratch("admin");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let s = start(&db);
    let url = format!("{}/admin", s.base);
    let p = page(agent().get(&url).call());
    assert_eq!(p.status, 401);
    let p = page(
        agent()
            .get(&url)
            .header("Authorization", "Bearer wrong-token-0123456789")
            .call(),
    );
    assert_eq!(p.status, 401);
    let admin = || {
        page(
            agent()
                .get(&url)
                .header("Authorization", format!("Bearer {ADMIN}"))
                .call(),
        )
    };
    assert!(
        admin().body.contains("<td class=\"state\">sent</td>"),
        "{}",
        admin().body
    );
    get(&s, &q);
    assert!(admin().body.contains("<td class=\"state\">viewed</td>"));
    decide(&s, &q, "decline", "Ana <Lee>", "ana@x.example");
    let p = admin();
    assert!(
        p.body.contains("<td class=\"state\">declined</td>"),
        "{}",
        p.body
    );
    assert!(p.body.contains("Ana &lt;Lee&gt;"), "escaped: {}", p.body);
    // Basic credentials with the token as password work too (a browser's sign-in box):
    // base64("msp:admin-token-0123456789").
    let p = page(
        agent()
            .get(&url)
            .header(
                "Authorization",
                "Basic bXNwOmFkbWluLXRva2VuLTAxMjM0NTY3ODk=",
            )
            .call(),
    );
    assert_eq!(p.status, 200);
}

/// Q-1001 at the vendors, from the quote and the rules (as tests/tests/e2e.rs writes it):
/// Pax8 company of CUST-0042 (rules/links.yaml) with 25 Business Premium and 25 Defender,
/// both `Monthly` on the 1-year commitment (rules/microsoft-365.tenor's uuids); Ingram's
/// PO-Q-1001-ingram with 4 laptops (7YD4KL) and 4 docks (5TF9KV); one ConnectWise sales
/// order SO-Q-1001.
fn assert_vendors_hold_q1001(v: &tenor_tests::sims::Vendors) {
    let company = "3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01";
    let mut pax8: Vec<(String, i64, String)> = v.sims.with_world(|w| {
        w.pax8
            .orders
            .iter()
            .filter(|o| o.company_id == company)
            .flat_map(|o| o.line_items.iter())
            .map(|l| (l.product_id.clone(), l.quantity, l.billing_term.clone()))
            .collect()
    });
    pax8.sort();
    assert_eq!(
        pax8,
        vec![
            (
                "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66".to_string(),
                25,
                "Monthly".to_string()
            ),
            (
                "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33".to_string(),
                25,
                "Monthly".to_string()
            ),
        ],
        "Pax8 holds Defender and Business Premium × 25"
    );
    let mut ingram: Vec<(String, i64)> = v.sims.with_world(|w| {
        w.ingram
            .orders
            .iter()
            .filter(|o| o["customerOrderNumber"] == "PO-Q-1001-ingram")
            .flat_map(|o| o["lines"].as_array().cloned().unwrap_or_default())
            .map(|l| {
                (
                    l["ingramPartNumber"].as_str().unwrap().to_string(),
                    l["quantityOrdered"].as_i64().unwrap(),
                )
            })
            .collect()
    });
    ingram.sort();
    assert_eq!(ingram, vec![("5TF9KV".into(), 4), ("7YD4KL".into(), 4)]);
    assert_eq!(v.sims.cw_sales_orders_for("SO-Q-1001"), 1);
}

/// `tenor share` of Q-1001 against the vendors' record and clock: the link's query.
fn share_with(v: &tenor_tests::sims::Vendors, quote: &Path) -> String {
    let rules = root().join("rules");
    let run = v.tenor(&[
        "share",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(run.ok, "{}", run.stderr);
    run.stdout.trim().split_once('?').unwrap().1.to_string()
}

/// The push outcomes recorded for shared `quote` version 1, once `n` are there (the push runs
/// after the answer, on its own thread): plugin, document, state, detail, sorted.
fn pushes(db: &Path, quote: &str, n: usize) -> Vec<(String, String, String, String)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut st = c
            .prepare(
                "SELECT plugin, document, state, detail FROM share_pushes
                 WHERE quote = ?1 AND revision = 1 AND state <> 'started'",
            )
            .unwrap();
        let mut rows: Vec<_> = st
            .query_map([quote], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if rows.len() >= n {
            rows.sort();
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {n} push outcomes: {rows:?}",
            rows.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn admin_page(s: &Server) -> Page {
    page(
        agent()
            .get(format!("{}/admin", s.base))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .call(),
    )
}

#[test]
fn accepting_with_push_sends_q1001_to_the_vendor_simulators() {
    let v = tenor_tests::sims::Vendors::start("serve-push");
    let q = share_with(&v, &q1001());
    let s = spawn(v.command(&["serve", "--listen", "127.0.0.1:0", "--push"]));
    let p = decide(&s, &q, "accept", "Dr Ana Lee", "ana@bayview.example");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Thank you, Dr Ana Lee."), "{}", p.body);
    // Q-1001 buys through Pax8 and Ingram and is billed in ConnectWise: three pushes.
    let got = pushes(&v.db(), "Q-1001", 3);
    let kinds: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(p, d, s, _)| (p.as_str(), d.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("connectwise", "SO-Q-1001", "done"),
            ("ingram", "PO-Q-1001-ingram", "done"),
            ("pax8", "PO-Q-1001-pax8", "done"),
        ],
        "{got:?}"
    );
    assert_vendors_hold_q1001(&v);
    assert!(v.refused().is_empty(), "{:?}", v.refused());
    assert_eq!(
        db_count(
            &v.db(),
            "SELECT COUNT(*) FROM share_pushes WHERE state = 'started' AND seq = 1"
        ),
        1,
        "the push's start is recorded before its outcomes"
    );
    let admin = admin_page(&s);
    assert!(
        admin
            .body
            .contains("pax8: PO-Q-1001-pax8 <strong>done</strong>"),
        "{}",
        admin.body
    );
    // It was the push `tenor push` makes: run now, it finds everything done.
    let again = v.tenor(&["push", "Q-1001"]);
    assert!(again.ok, "{}", again.stderr);
    assert_eq!(
        again
            .stdout
            .matches("was pushed before; nothing sent")
            .count(),
        3,
        "{}",
        again.stdout
    );
}

// Long: the failed push, the acceptance standing, /admin, then the push completed.
#[test]
fn a_failed_push_keeps_the_acceptance_and_says_why_and_tenor_push_resumes_it() {
    let v = tenor_tests::sims::Vendors::start("serve-push-fails");
    let q = share_with(&v, &q1001());
    // Every vendor unreachable (port 9 on loopback refuses), no retries.
    let mut cmd = v.command(&["serve", "--listen", "127.0.0.1:0", "--push"]);
    for var in [
        "TENOR_PAX8_URL",
        "TENOR_PAX8_TOKEN_URL",
        "TENOR_INGRAM_URL",
        "TENOR_INGRAM_TOKEN_URL",
        "TENOR_CONNECTWISE_URL",
    ] {
        cmd.env(var, "http://127.0.0.1:9");
    }
    cmd.env("TENOR_HTTP_RETRIES", "0");
    let s = spawn(cmd);
    let p = decide(&s, &q, "accept", "Dr Ana Lee", "ana@bayview.example");
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Thank you, Dr Ana Lee."), "{}", p.body);
    let got = pushes(&v.db(), "Q-1001", 3);
    assert!(
        got.iter()
            .all(|(_, _, state, why)| state == "failed" && why.contains("tenor push Q-1001")),
        "{got:?}"
    );
    // The acceptance stands: the decision and the revision are recorded.
    assert_eq!(
        db_count(
            &v.db(),
            "SELECT COUNT(*) FROM share_decisions WHERE kind = 'accept'"
        ),
        1
    );
    assert_eq!(db_count(&v.db(), "SELECT COUNT(*) FROM revisions"), 1);
    let admin = admin_page(&s);
    assert!(
        admin.body.contains("<td class=\"state\">accepted</td>"),
        "{}",
        admin.body
    );
    assert!(
        admin
            .body
            .contains("pax8: PO-Q-1001-pax8 <strong>failed</strong>"),
        "{}",
        admin.body
    );
    // Nothing reached the vendors; `tenor push` with the right addresses completes it.
    assert_eq!(v.sims.cw_sales_orders_for("SO-Q-1001"), 0);
    let push = v.tenor(&["push", "Q-1001"]);
    assert!(push.ok, "{}\n{}", push.stdout, push.stderr);
    assert_vendors_hold_q1001(&v);
}

// Long: the JSON log of both quotes, then the table's words, checked against the record.
#[test]
fn tenor_log_shows_shared_viewed_accepted_and_declined_with_who_and_when() {
    let dir = scratch("log");
    let db = dir.join("t.db");
    let q = share(&db, &q1001(), None, &[]);
    let q2 = share(
        &db,
        &root().join("rules/quotes/q1002-nonprofit.yaml"),
        None,
        &[],
    );
    let s = start(&db);
    decide(&s, &q, "accept", "Dr Ana Lee", "ana@bayview.example");
    decide(&s, &q2, "decline", "Sam Ortiz", "sam@harbor.example");
    let log = |args: &[&str]| {
        let mut all = vec!["--db", db.to_str().unwrap(), "log"];
        all.extend_from_slice(args);
        let o = tenor_tests::tenor(&all);
        assert_eq!(o.exit, tenor_core::cli::Exit::Success, "{}", o.stderr);
        o.stdout
    };
    let json: serde_json::Value = serde_json::from_str(&log(&["--format", "json"])).unwrap();
    let quotes = json["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 2, "the accepted and the only-shared quote");
    let q1 = &quotes[0];
    assert_eq!(q1["quote"], "Q-1001");
    let kinds: Vec<&str> = q1["shared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // `decide` opens the page before posting: shared, viewed, accepted.
    assert_eq!(kinds, ["shared", "view", "accept"]);
    let accepted = &q1["shared"][2];
    assert_eq!(accepted["name"], "Dr Ana Lee");
    assert_eq!(accepted["email"], "ana@bayview.example");
    assert_eq!(accepted["address"], "127.0.0.1");
    let c = rusqlite::Connection::open(&db).unwrap();
    let at: String = c
        .query_row(
            "SELECT at FROM share_decisions WHERE quote = 'Q-1001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(accepted["at"], at.as_str(), "when, as the decision says");
    assert_eq!(
        q1["events"][0]["kind"], "accept",
        "and the record's acceptance"
    );
    let q2 = &quotes[1];
    assert_eq!(q2["quote"], "Q-1002");
    assert_eq!(q2["revisions"].as_array().unwrap().len(), 0);
    assert_eq!(q2["shared"][2]["kind"], "decline");
    assert_eq!(q2["shared"][2]["name"], "Sam Ortiz");
    // The table, for one quote only shared: its events in words.
    let table = log(&["Q-1002"]);
    assert!(table.contains("version 1 shared"), "{table}");
    assert!(table.contains("viewed"), "{table}");
    assert!(
        table.contains("declined  by Sam Ortiz <sam@harbor.example> from 127.0.0.1"),
        "{table}"
    );
    let all = log(&[]);
    assert!(
        all.contains("accepted  by Dr Ana Lee <ana@bayview.example> from 127.0.0.1"),
        "{all}"
    );
}

#[test]
fn the_address_behind_a_trusted_proxy_is_the_forwarded_one_and_a_spoofed_one_is_ignored() {
    let accept_via = |name: &str, extra: &[&str]| -> String {
        let dir = scratch(name);
        let db = dir.join("t.db");
        let q = share(&db, &q1001(), None, &[]);
        let s = spawn(Server::command(CLI, &db, extra));
        let token = csrf(&get(&s, &q));
        let body = format!("{q}&name=Ana&email=ana%40x.example&csrf={token}");
        let p = page(
            agent()
                .post(format!("{}/quote/accept", s.base))
                .header("Cookie", format!("tenor_csrf={token}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                // What the client claimed, then what the proxy saw.
                .header("X-Forwarded-For", "198.51.100.7, 203.0.113.9")
                .send(body.as_str()),
        );
        assert_eq!(p.status, 200, "{}", p.body);
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("SELECT address FROM share_decisions", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(accept_via("xff-untrusted", &[]), "127.0.0.1");
    assert_eq!(
        accept_via("xff-trusted", &["--trust-proxy", "127.0.0.1"]),
        "203.0.113.9"
    );
}

#[test]
fn a_push_on_accept_that_must_wait_for_its_start_day_is_recorded_as_waiting() {
    // Q-1003's lines start on 2027-02-15 (rules/quotes/q1003-managed-workstation.json);
    // the simulators' day is 2026-12-07, and Pax8 takes no order before its start day.
    let v = tenor_tests::sims::Vendors::start("serve-push-wait");
    let q = share_with(
        &v,
        &root().join("rules/quotes/q1003-managed-workstation.json"),
    );
    let s = spawn(v.command(&["serve", "--listen", "127.0.0.1:0", "--push"]));
    let p = decide(&s, &q, "accept", "Lee Park", "lee@q1003.example");
    assert_eq!(p.status, 200, "{}", p.body);
    let got = pushes(&v.db(), "Q-1003", 2);
    let kinds: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|(p, d, s, _)| (p.as_str(), d.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("connectwise", "SO-Q-1003", "done"),
            ("pax8", "PO-Q-1003-pax8", "waiting"),
        ],
        "{got:?}"
    );
    assert!(got[1].3.starts_with("until 2027-02-15"), "{got:?}");
    assert_eq!(v.sims.cw_sales_orders_for("SO-Q-1003"), 1);
    let admin = admin_page(&s);
    assert!(
        admin
            .body
            .contains("pax8: PO-Q-1003-pax8 <strong>waiting</strong>: until 2027-02-15"),
        "{}",
        admin.body
    );
}
