//! `tenor accept` of a long quote streams: the priced quote and the documents are written into
//! the record piece by piece (compressed after the first piece) and exported byte for byte as
//! the in-memory documents, and billed from the record piece by piece, with figures worked by
//! hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tenor_core::cli::{Exit, run};
use tenor_core::documents::accept;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, price};
use tenor_core::engine::quote::QuoteFile;
use tenor_dsl::diagnostic::termcolor::NoColor;

const RULES: &str = r#"
currency USD
vendor microsoft "Microsoft"
distributor pax8 "Pax8"
product E3 "Microsoft 365 E3" {
  vendor microsoft
  bought via pax8 as "MST-NCE-M365E3"
  P3Y monthly  36.00 a month  cost 28.80
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
route everything else via pax8
"#;

/// Lines of the long quote: 3,000 × 36 charges make a schedule of about 29 MB, four pieces.
const LINES: usize = 3_000;

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("streamed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tenor(args: &[&str]) -> (Exit, String) {
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into()];
    argv.extend(args.iter().map(Into::into));
    let mut out = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, &mut out, &mut err);
    (exit, String::from_utf8(err.into_inner()).unwrap())
}

/// A P3Y monthly quote of `LINES` lines starting on the customer's anniversary, the 31st, so
/// every line bills exactly 36 full months through month-end clamping.
fn long_quote() -> String {
    let mut q = String::from(
        "quote: Q-LONG\ndate: 2026-01-01\ncurrency: USD\ncustomer:\n  id: C-LONG\n  name: Long Ltd\n  anniversary: 01-31\nlines:\n",
    );
    for i in 0..LINES {
        q.push_str(&format!(
            "  - product: E3\n    quantity: {}\n    term: P3Y\n    billing: monthly\n    start: 2027-01-31\n",
            1 + i % 300
        ));
    }
    q
}

fn catalogue(dir: &Path) -> Catalogue {
    let sources = tenor_dsl::load(&[dir.to_path_buf()]).unwrap();
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

// Long: one scenario read top to bottom (accept, each file against the in-memory one, the
// manifest, the figures, the record); split, each part would rebuild the same quote.
#[test]
fn a_long_quote_is_recorded_in_pieces_and_exported_byte_for_byte() {
    let dir = scratch("long");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("long.tenor"), RULES).unwrap();
    let quote = dir.join("q-long.yaml");
    let text = long_quote();
    std::fs::write(&quote, &text).unwrap();
    let (db, out) = (dir.join("record.db"), dir.join("out"));
    let (exit, err) = tenor(&[
        "--db",
        db.to_str().unwrap(),
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--no-plugins",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(exit, Exit::Success, "{err}");

    // What the in-memory path makes of the same quote, file by file.
    let cat = catalogue(&rules);
    let file = QuoteFile::parse("q-long.yaml", &text).unwrap();
    let priced = price(&cat, &file.quote, &PriceOptions::default()).unwrap();
    let fp = accept::fingerprint(&file.quote, &[("long.tenor".into(), RULES.into())]);
    let held = accept::accept(&cat, &file.quote, &priced, &fp).unwrap();
    let expected = accept::files(&held, &BTreeSet::new()).unwrap();
    assert_eq!(expected.len(), 5);
    for f in &expected {
        let name = f.path.to_string();
        let written = std::fs::read(out.join(&name)).unwrap();
        assert!(
            written == f.bytes,
            "{name} differs from the in-memory document"
        );
    }

    // The manifest lists the schedule, written from the record piece by piece, as it is.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("export.json")).unwrap()).unwrap();
    let sched_bytes = std::fs::read(out.join("SCHED-Q-LONG.json")).unwrap();
    let listed = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "SCHED-Q-LONG.json")
        .unwrap();
    assert_eq!(listed["bytes"], sched_bytes.len());
    assert_eq!(
        listed["sha256"],
        tenor_core::record::sha256_hex(&sched_bytes)
    );

    // Figures by hand: quantities 1..=300 ten times sum to 451,500 seats, each billed
    // 36.00 for 36 months: 585,144,000.00 over 108,000 charges, the first on the anchor and
    // the last 35 months on, clamped to the month's end.
    let sched: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("SCHED-Q-LONG.json")).unwrap()).unwrap();
    let charges = sched["charges"].as_array().unwrap();
    assert_eq!(charges.len(), LINES * 36);
    assert_eq!(sched["total"], "585144000.00");
    assert_eq!(charges[0]["bill_date"], "2027-01-31");
    assert_eq!(charges[0]["line"], 1);
    assert_eq!(charges[LINES]["bill_date"], "2027-02-28");
    assert_eq!(charges[LINES * 36 - 1]["bill_date"], "2029-12-31");
    assert_eq!(charges[LINES * 36 - 1]["line"], LINES);

    // February 2027's bill reads the schedule from its pieces: each line once, 36.00 a seat,
    // 451,500 × 36.00 = 16,254,000.00 over 3,000 charges.
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into(), "--db".into(), db.clone().into()];
    argv.extend(["bill", "--month", "2027-02", "--format", "json"].map(Into::into));
    let (mut bill, mut err) = (Vec::new(), NoColor::new(Vec::new()));
    assert_eq!(run(argv, &mut bill, &mut err), Exit::Success);
    let bill: serde_json::Value = serde_json::from_slice(&bill).unwrap();
    assert_eq!(bill["totals"][0]["charges"], LINES);
    assert_eq!(bill["totals"][0]["amount"], "16254000.00");
    assert_eq!(bill["charges"][LINES - 1]["line"], LINES);
    assert_eq!(bill["charges"][LINES - 1]["quantity"], "300");

    // `tenor show` gives the schedule's size without reading it, and prints it whole.
    let show = |args: &[&str]| {
        let mut argv: Vec<std::ffi::OsString> = vec![
            "tenor".into(),
            "--db".into(),
            db.clone().into(),
            "show".into(),
        ];
        argv.extend(args.iter().map(Into::into));
        let (mut out, mut err) = (Vec::new(), NoColor::new(Vec::new()));
        assert_eq!(run(argv, &mut out, &mut err), Exit::Success);
        out
    };
    let shown: serde_json::Value =
        serde_json::from_slice(&show(&["Q-LONG", "--format", "json"])).unwrap();
    let sched = shown["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "SCHED-Q-LONG.json")
        .unwrap();
    assert_eq!(sched["bytes"], sched_bytes.len());
    assert!(show(&["Q-LONG", "--document", "invoice-schedule"]) == sched_bytes);

    // The record holds the priced quote as pricing gives it, and stores it all compressed:
    // the schedule and priced quote alone are over 50 MB as made.
    let record = tenor_core::record::Record::open(&db).unwrap();
    let (priced_text, quote_text) = record.revision_texts("Q-LONG", 1).unwrap();
    assert!(priced_text == serde_json::to_string_pretty(&priced).unwrap());
    assert_eq!(quote_text, text);
    let made: usize = expected.iter().map(|f| f.bytes.len()).sum::<usize>() + priced_text.len();
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len() as usize);
    let stored = size(&db) + size(&dir.join("record.db-wal"));
    assert!(made > 50 << 20, "{made}");
    assert!(stored < made / 3, "record {stored} bytes for {made} made");
    std::fs::remove_dir_all(&dir).unwrap();
}
