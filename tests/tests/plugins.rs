//! The plugin host with real, separately built plugin libraries loaded through libloading (never
//! linked): the first-party connectors, and fault plugins that panic, return bad JSON, speak
//! another ABI version, lack the entry symbol, or are not libraries at all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod plugin_support;

use plugin_support::{FIRST_PARTY, Scratch, built, plugin_dir};
use std::path::{Path, PathBuf};
use tenor_core::cli::{Exit, run};
use tenor_core::host::{Host, LOCK_FILE, write_lock};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{OrderLine, Rendered, TextInput, ops};

fn tenor(args: &[&str]) -> (Exit, String, String) {
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into()];
    argv.extend(args.iter().map(Into::into));
    let mut out = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, &mut out, &mut err);
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err.into_inner()).unwrap(),
    )
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_first_party_plugins_load_through_the_host() {
    let dir = plugin_dir("first-party", FIRST_PARTY);
    let host = Host::load_dir(&dir);
    assert!(host.failures.is_empty(), "{:?}", host.failures);
    let mut names: Vec<&str> = host
        .plugins()
        .iter()
        .map(|p| p.info.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["connectwise", "ingram", "pax8", "tdsynnex"]);
    assert!(host.for_distributor("pax8").is_some());
    assert_eq!(host.psas().count(), 1);
    let (code, out, err) = tenor(&["plugins", "list", "--plugins", dir.to_str().unwrap()]);
    assert_eq!(code, Exit::Success, "{err}");
    for n in [
        "pax8",
        "ingram",
        "tdsynnex",
        "connectwise",
        "distributor",
        "psa",
        "render_purchase_order",
    ] {
        assert!(out.contains(n), "`{n}` missing from:\n{out}");
    }
}

// Long: one scenario read top to bottom — the order's fields, its snapshot, then the same
// rendering read back through the host.
#[test]
fn accept_writes_the_pax8_order_and_it_reads_back() {
    let dir = plugin_dir("accept", FIRST_PARTY);
    let out_dir = Scratch::new("accept-out");
    let quote = root().join("rules/quotes/q1001-dental-practice.yaml");
    let rules = root().join("rules");
    let db = out_dir.with_extension("db");
    tenor_tests::scratch::link_customers(&db);
    let (code, out, err) = tenor(&[
        "--db",
        db.to_str().unwrap(),
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--plugins",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Exit::Success, "{out}\n{err}");
    let body =
        std::fs::read_to_string(out_dir.join("pax8/PO-Q-1001-pax8.pax8-order.json")).unwrap();
    let order: serde_json::Value = serde_json::from_str(&body).unwrap();
    // The customer's Pax8 company, from rules/links.yaml: never Tenor's customer id.
    assert_eq!(order["companyId"], "3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01");
    // Business Premium: 25 seats on a one-year commitment, by the Pax8 product id in the rules.
    assert_eq!(
        order["lineItems"][0]["productId"],
        "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33"
    );
    // `billingTerm` is how often Pax8 bills (VENDORS.md: P1Y monthly → `Monthly` + a 1-Year
    // commitment), not the commitment, which is the rules' Pax8 `commitmentTermId` for P1Y.
    assert_eq!(order["lineItems"][0]["billingTerm"], "Monthly");
    assert_eq!(
        order["lineItems"][0]["commitmentTermId"],
        "bea4256e-36c2-44c7-9885-bbac88043e5f"
    );
    insta::assert_snapshot!("pax8-order-q1001", body);

    // Render → parse through the host returns the purchase order's lines.
    let host = Host::load_dir(&dir);
    let pax8 = host.get("pax8").unwrap();
    let mut po: PurchaseOrder = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("PO-Q-1001-pax8.json")).unwrap(),
    )
    .unwrap();
    // The stored purchase order holds no vendor ids; the host adds the customer's links to
    // what it sends the plugin, as here.
    po.customer.accounts = tenor_core::record::Record::open(&db)
        .unwrap()
        .accounts("CUST-0042", "pax8")
        .unwrap();
    let rendered: Vec<Rendered> = pax8.call(ops::RENDER_PURCHASE_ORDER, &po).unwrap();
    assert_eq!(rendered[0].body, body, "rendering is deterministic");
    let back: Vec<OrderLine> = pax8
        .call(ops::PARSE_ORDER, &TextInput { text: body })
        .unwrap();
    let got: Vec<(String, String, Option<String>, Option<String>)> = back
        .iter()
        .map(|l| {
            (
                l.part_number.clone(),
                l.quantity.to_string(),
                l.billing.clone(),
                l.start.map(|d| d.to_string()),
            )
        })
        .collect();
    let want: Vec<(String, String, Option<String>, Option<String>)> = po
        .lines
        .iter()
        .map(|l| {
            (
                l.distributor_product_id.clone().unwrap(),
                l.quantity.to_string(),
                Some(l.billing.clone()),
                // No `provisionStartDate`: Pax8 takes no future one (VENDORS.md), so the
                // order provisions on submission and reads back without a start.
                None,
            )
        })
        .collect();
    assert_eq!(got, want);
    // The body does not state the commitment, so it reads back without one (not as a wrong one).
    assert!(back.iter().all(|l| l.term.is_none()), "{back:?}");
}

#[test]
fn faulty_plugins_fail_clearly_and_the_others_keep_working() {
    let dir = plugin_dir(
        "faults",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("fault_plugin_panic", "fault_panic"),
            ("fault_plugin_badjson", "fault_badjson"),
            ("fault_plugin_abi", "fault_abi"),
            ("fault_plugin_noentry", "fault_noentry"),
        ],
    );
    let not_a_lib = dir.join(format!(
        "{}tenor_plugin_bogus{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    std::fs::write(&not_a_lib, "this is a text file, not a shared library\n").unwrap();

    let host = Host::load_dir(&dir);
    let failure = |part: &str| {
        host.failures
            .iter()
            .find(|f| f.path.to_string_lossy().contains(part))
            .map(|f| f.message.clone())
            .unwrap_or_else(|| panic!("no failure for {part}: {:?}", host.failures))
    };
    let abi = failure("fault_abi");
    assert!(abi.contains("999") && abi.contains("version 1"), "{abi}");
    assert!(failure("fault_noentry").contains("tenor_plugin_entry"));
    assert!(failure("bogus").contains("not a loadable library"));
    assert_eq!(host.failures.len(), 3, "{:?}", host.failures);

    let po = PurchaseOrder {
        schema: "tenor.purchase-order/2".into(),
        id: "PO-T-pax8".into(),
        distributor: "pax8".into(),
        distributor_name: None,
        sales_order: "SO-T".into(),
        quote: "T".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        currency: "USD".into(),
        customer: tenor_plugin_sdk::docs::Customer {
            id: "C".into(),
            name: "C".into(),
            accounts: Default::default(),
        },
        lines: Vec::new(),
        usage: Vec::new(),
        committed_cost: rust_decimal::Decimal::ZERO,
    };
    let panicky = host.get("fault-panic").unwrap();
    let e = panicky
        .call::<_, Vec<Rendered>>(ops::RENDER_PURCHASE_ORDER, &po)
        .unwrap_err();
    assert!(
        e.contains("fault-panic") && e.contains("panicked") && e.contains("PO-T-pax8"),
        "{e}"
    );
    let bad = host.get("fault-badjson").unwrap();
    let e = bad
        .call::<_, Vec<Rendered>>(ops::RENDER_PURCHASE_ORDER, &po)
        .unwrap_err();
    assert!(
        e.contains("fault-badjson") && e.contains("invalid JSON"),
        "{e}"
    );
    // The host survived both, and the real plugin still answers: with its own refusal of an
    // order without lines.
    let e = host
        .get("pax8")
        .unwrap()
        .call::<_, Vec<Rendered>>(ops::RENDER_PURCHASE_ORDER, &po)
        .unwrap_err();
    assert!(e.contains("`PO-T-pax8` has no lines"), "{e}");

    let (code, out, err) = tenor(&["plugins", "list", "--plugins", dir.to_str().unwrap()]);
    assert_eq!(code, Exit::Failure);
    assert!(out.contains("pax8"), "{out}");
    assert!(err.contains("fault_abi") && err.contains("bogus"), "{err}");
}

#[test]
fn a_locked_plugin_directory_refuses_changed_and_unknown_files() {
    let dir = plugin_dir(
        "lock",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("tenor_plugin_ingram", "ingram"),
        ],
    );
    let (code, out, err) = tenor(&["plugins", "lock", "--plugins", dir.to_str().unwrap()]);
    assert_eq!(code, Exit::Success, "{err}");
    // The hashes are the output; the `wrote …` line goes to standard error.
    assert!(out.contains("tenor_plugin_pax8"), "{out}");
    assert!(err.contains(LOCK_FILE), "{err}");
    assert!(Host::load_dir(&dir).failures.is_empty());

    // A modified library is refused before it is loaded.
    let ingram = dir.join(format!(
        "{}tenor_plugin_ingram{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let mut bytes = std::fs::read(&ingram).unwrap();
    bytes.push(0);
    // Replaced, not rewritten in place: the old file is mapped into this process, and
    // writing into a loaded library corrupts the code running from it.
    let tmp = dir.join("ingram.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, &ingram).unwrap();
    // An unknown library is refused too.
    std::fs::copy(
        built("tenor_plugin_tdsynnex"),
        dir.join(format!(
            "{}tenor_plugin_tdsynnex{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )),
    )
    .unwrap();
    let host = Host::load_dir(&dir);
    let names: Vec<&str> = host
        .plugins()
        .iter()
        .map(|p| p.info.name.as_str())
        .collect();
    assert_eq!(names, vec!["pax8"]);
    let msgs: Vec<&str> = host.failures.iter().map(|f| f.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("changed since plugins.lock")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("not listed in plugins.lock")),
        "{msgs:?}"
    );
    // Re-locking trusts the current files again.
    write_lock(&dir).unwrap();
    assert!(Host::load_dir(&dir).failures.is_empty());
}

#[test]
fn the_guide_s_minimal_plugin_builds_loads_and_renders() {
    let dir = plugin_dir("guide", &[("example_plugin_acme", "acme")]);
    let (code, out, err) = tenor(&["plugins", "list", "--plugins", dir.to_str().unwrap()]);
    assert_eq!(code, Exit::Success, "{err}");
    assert!(
        out.contains("acme") && out.contains("render_purchase_order"),
        "{out}"
    );
    let host = Host::load_dir(&dir);
    let acme = host.for_distributor("acme").unwrap();
    let po: PurchaseOrder = serde_json::from_value(serde_json::json!({
        "schema": "tenor.purchase-order/2", "id": "PO-Q-9-acme", "distributor": "acme",
        "sales_order": "SO-Q-9", "quote": "Q-9", "date": "2026-12-01", "currency": "USD",
        "customer": {"id": "C-9", "name": "Nine"}, "committed_cost": "0.00",
        "lines": [{"line": 1, "quote_line": 1, "product": "X", "name": "X", "part_number": "ACM-1",
                   "quantity": "3", "term": "one-time", "billing": "once",
                   "first_term_start": "2026-12-01", "first_term_end": "2026-12-01",
                   "renews": false, "commitment_end": "2026-12-01", "committed_cost": "0.00"}]
    }))
    .unwrap();
    let docs: Vec<Rendered> = acme.call(ops::RENDER_PURCHASE_ORDER, &po).unwrap();
    assert_eq!(
        docs[0].body,
        "order,line,part,quantity\nPO-Q-9-acme,1,ACM-1,3\n"
    );
}

/// Accepts the example quote with every first-party plugin loaded, into a fresh folder, with
/// the example rules plus `extra` rule files (to route products to another distributor).
fn accept_example(name: &str, extra: &[(&str, &str)]) -> Scratch {
    let (code, out, err, out_dir) = accept_quote(name, "q1001-dental-practice.yaml", extra);
    assert_eq!(code, Exit::Success, "{out}\n{err}");
    out_dir
}

#[test]
fn every_connector_renders_the_example_quote() {
    let out = accept_example("all", &[]);
    for (file, snap) in [
        (
            "ingram/PO-Q-1001-ingram.ingram-order.json",
            "ingram-order-q1001",
        ),
        (
            "connectwise/SO-Q-1001.connectwise-sales-order.json",
            "connectwise-sales-order-q1001",
        ),
    ] {
        let body =
            std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        insta::assert_snapshot!(snap, body);
    }
    let mut agreements: Vec<String> = std::fs::read_dir(out.join("connectwise"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("connectwise-agreement"))
        .collect();
    agreements.sort();
    assert!(!agreements.is_empty());
    for a in &agreements {
        insta::assert_snapshot!(
            format!("connectwise-{a}"),
            std::fs::read_to_string(out.join("connectwise").join(a)).unwrap()
        );
    }
    // An Ingram order reads back to the purchase order's part numbers and quantities.
    let host = Host::load_dir(&plugin_dir("all-readback", FIRST_PARTY));
    let ingram = host.get("ingram").unwrap();
    let body =
        std::fs::read_to_string(out.join("ingram/PO-Q-1001-ingram.ingram-order.json")).unwrap();
    let back: Vec<OrderLine> = ingram
        .call(ops::PARSE_ORDER, &TextInput { text: body })
        .unwrap();
    let po: PurchaseOrder =
        serde_json::from_str(&std::fs::read_to_string(out.join("PO-Q-1001-ingram.json")).unwrap())
            .unwrap();
    let got: Vec<(String, String)> = back
        .iter()
        .map(|l| (l.part_number.clone(), l.quantity.to_string()))
        .collect();
    let want: Vec<(String, String)> = po
        .lines
        .iter()
        .map(|l| (l.part_number.clone(), l.quantity.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn td_synnex_renders_a_cart_when_microsoft_is_routed_to_it() {
    let rerouted = microsoft_via_tdsynnex();
    let out = accept_example("tdsynnex", &[("policies.tenor", &rerouted)]);
    let body = std::fs::read_to_string(out.join("tdsynnex/PO-Q-1001-tdsynnex.tdsynnex-cart.json"))
        .unwrap();
    insta::assert_snapshot!("tdsynnex-cart-q1001", body.clone());
    let host = Host::load_dir(&plugin_dir("tdsynnex-readback", FIRST_PARTY));
    let td = host.get("tdsynnex").unwrap();
    let back: Vec<OrderLine> = td
        .call(ops::PARSE_ORDER, &TextInput { text: body })
        .unwrap();
    let po: PurchaseOrder = serde_json::from_str(
        &std::fs::read_to_string(out.join("PO-Q-1001-tdsynnex.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(back.len(), po.lines.len());
    for (b, l) in back.iter().zip(&po.lines) {
        assert_eq!(b.quantity, l.quantity);
        assert_eq!(Some(&b.part_number), l.distributor_product_id.as_ref());
        // A plan id names the term and billing only in TD SYNNEX's catalogue: the cart reads
        // back without them rather than with a guess.
        assert_eq!(b.term, None);
    }
}

/// The example `policies.tenor` with Microsoft routed to TD SYNNEX instead of Pax8.
fn microsoft_via_tdsynnex() -> String {
    let policies = std::fs::read_to_string(root().join("rules/policies.tenor")).unwrap();
    let rerouted = policies.replace(
        "route vendor microsoft     via pax8",
        "route vendor microsoft     via tdsynnex",
    );
    assert_ne!(
        rerouted, policies,
        "the example route moved; update this test"
    );
    rerouted
}

/// Every example quote accepted with every first-party connector loaded, Microsoft through
/// Pax8 (the example routes) and through TD SYNNEX: each purchase order's rendering reads back
/// through its own plugin as the purchase order, so `accept` succeeds and reports no plugin
/// error; a metered product is noted as bought on usage.
#[test]
fn every_connector_s_rendering_of_every_example_quote_reads_back_as_sold() {
    let via_td = microsoft_via_tdsynnex();
    for (routes, extra) in [("pax8", None), ("tdsynnex", Some(via_td.as_str()))] {
        for q in [
            "q1001-dental-practice.yaml",
            "q1002-nonprofit.yaml",
            "q1003-managed-workstation.json",
            "q1004-month-to-month.yaml",
        ] {
            let name = format!("readback-{routes}-{}", &q[..5]);
            let files: Vec<(&str, &str)> =
                extra.map(|t| ("policies.tenor", t)).into_iter().collect();
            let (code, out, err, _) = accept_quote(&name, q, &files);
            assert_eq!(code, Exit::Success, "{q} via {routes}:\n{out}\n{err}");
            if q.starts_with("q1001") {
                assert!(
                    format!("{out}{err}").contains("`DATTO-CLOUD` (quote line 3) is metered"),
                    "{out}\n{err}"
                );
            }
            assert!(
                !err.contains("does not read back"),
                "{q} via {routes}: {err}"
            );
        }
    }
}

/// A rendering whose read-back differs from the purchase order is refused: here the Pax8
/// order reads back with 24 seats of Business Premium where the purchase order buys 25 (as a
/// connector that dropped a seat would). `render_with_plugins` keeps none of Pax8's files,
/// names the difference, and still keeps the other connectors' agreeing renderings.
#[test]
fn a_rendering_that_does_not_read_back_as_the_purchase_order_is_refused() {
    use tenor_core::documents::accept::{self, OrderCheck};
    let rules = root().join("rules");
    let sources = tenor_dsl::load(&[rules]).unwrap();
    let checked = tenor_dsl::check(&sources).unwrap();
    let cat = tenor_core::engine::catalogue::Catalogue::compile(&checked, &sources);
    let path = root().join("rules/quotes/q1001-dental-practice.yaml");
    let file = tenor_core::engine::quote::QuoteFile::parse(
        &path.display().to_string(),
        &std::fs::read_to_string(&path).unwrap(),
    )
    .unwrap();
    let priced = tenor_core::engine::pricing::price(
        &cat,
        &file.quote,
        &tenor_core::engine::pricing::PriceOptions::default(),
    )
    .unwrap();
    let a = accept::accept(&cat, &file.quote, &priced, "test").unwrap();
    let matcher = tenor_core::matching::Matcher::new(&cat);
    let honest = tenor_core::matching::ReadBack {
        matcher: &matcher,
        quote: &file.quote,
        priced: &priced,
    };

    /// The real check, on lines read back with one seat fewer of the first Pax8 line.
    struct DroppedSeat<'a>(&'a tenor_core::matching::ReadBack<'a>);
    impl OrderCheck for DroppedSeat<'_> {
        fn differences(&self, po: &PurchaseOrder, lines: &[OrderLine]) -> Vec<String> {
            let mut lines = lines.to_vec();
            if po.distributor == "pax8" {
                lines[0].quantity -= rust_decimal::Decimal::ONE;
            }
            self.0.differences(po, &lines)
        }
    }

    let host = Host::load_dir(&plugin_dir("misread", FIRST_PARTY));
    let paths = |out: &accept::PluginOutput| -> Vec<String> {
        out.files.iter().map(|f| f.path.to_string()).collect()
    };

    // The honest check passes both purchase orders.
    let accounts = |plugin: &str| tenor_tests::scratch::example_accounts("CUST-0042", plugin);
    let ok = accept::render_with_accounts(&host, &a, &honest, &accounts);
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    assert!(paths(&ok).contains(&"pax8/PO-Q-1001-pax8.pax8-order.json".to_string()));

    let out = accept::render_with_accounts(&host, &a, &DroppedSeat(&honest), &accounts);
    assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
    let e = &out.errors[0];
    assert!(
        e.contains("plugin `pax8`'s rendering of PO-Q-1001-pax8 does not read back"),
        "{e}"
    );
    // 25 sold, 24 read back: the quantity of quote line 1 is named with both values.
    assert!(
        e.contains("line 1 M365-BP: quantity expected 25, found 24"),
        "{e}"
    );
    assert!(
        !paths(&out).iter().any(|p| p.starts_with("pax8/")),
        "{:?}",
        paths(&out)
    );
    assert!(paths(&out).contains(&"ingram/PO-Q-1001-ingram.ingram-order.json".to_string()));
}

/// Accepts an example quote (a file of `rules/quotes`) into a fresh folder with every
/// first-party plugin, the example rules plus `extra` rule files: the exit, standard output
/// and error, and the folder.
fn accept_quote(
    name: &str,
    quote: &str,
    extra: &[(&str, &str)],
) -> (Exit, String, String, Scratch) {
    let dir = plugin_dir(&format!("{name}-plugins"), FIRST_PARTY);
    let rules = Scratch::new(&format!("{name}-rules"));
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(root().join("rules")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tenor") {
            std::fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
        }
    }
    for (file, text) in extra {
        std::fs::write(rules.join(file), text).unwrap();
    }
    let out_dir = Scratch::new(&format!("{name}-out"));
    let quote = root().join("rules/quotes").join(quote);
    let db = out_dir.with_extension("db");
    tenor_tests::scratch::link_customers(&db);
    let (code, out, err) = tenor(&[
        "--db",
        db.to_str().unwrap(),
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--plugins",
        dir.to_str().unwrap(),
    ]);
    (code, out, err, out_dir)
}
