//! The plugin SDK from a plugin author's side: payload versions (a plugin built against the
//! previous SDK still loads and works after a field was added; one outside the host's protocol
//! range is refused), the sample documents (real, parsed by the SDK's types, regenerated to the
//! same bytes), `tenor plugins new` (a crate that builds and passes `tenor plugins test`) and
//! `tenor plugins test` on the first-party connectors and a broken plugin.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_core::cli::plugins_test::{EXAMPLE_RULES, sample_documents, sample_set};
use tenor_core::host::Host;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{OrderLine, Rendered, TextInput, ops, samples};
use tenor_tests::tenor;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A library cargo built as one of this test's dependencies.
fn built(lib: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps.parent().unwrap().join(format!(
        "{}{lib}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A fresh scratch directory under the test target's tmp, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("plugin-sdk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A plugin directory holding copies of built libraries under plugin names.
fn plugin_dir(name: &str, libs: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::new(name);
    for (lib, as_name) in libs {
        let to = dir.path().join(format!(
            "{}tenor_plugin_{as_name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        std::fs::copy(built(lib), to).unwrap();
    }
    dir
}

const FIRST_PARTY: &[(&str, &str)] = &[
    ("tenor_plugin_pax8", "pax8"),
    ("tenor_plugin_ingram", "ingram"),
    ("tenor_plugin_tdsynnex", "tdsynnex"),
    ("tenor_plugin_connectwise", "connectwise"),
];

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------

/// The old plugin's CSV for a purchase order, worked out here from the purchase order's JSON.
fn expected_oldproto_csv(po: &serde_json::Value) -> String {
    let mut want =
        String::from("order,line,customer,part,quantity,term,billing,start,end,unit_cost\n");
    for l in po["lines"].as_array().unwrap() {
        let s = |k: &str| l[k].as_str().map(str::to_string).unwrap_or_default();
        want.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            po["id"].as_str().unwrap(),
            l["line"],
            po["customer"]["id"].as_str().unwrap(),
            s("part_number"),
            s("quantity"),
            s("term"),
            s("billing"),
            s("first_term_start"),
            s("commitment_end"),
            s("unit_cost"),
        ));
    }
    want
}

#[test]
fn a_plugin_built_against_the_previous_sdk_still_loads_and_renders_after_a_field_was_added() {
    assert_eq!(tenor_plugin_sdk::PROTOCOL_VERSION, 7);
    assert_eq!(tenor_plugin_sdk::PROTOCOL_MIN, 1);
    let dir = plugin_dir("oldproto", &[("fault_plugin_oldproto", "oldproto")]);
    let host = Host::load_dir(dir.path());
    assert!(host.failures.is_empty(), "{:?}", host.failures);
    let old = host.for_distributor("pax8").unwrap();
    assert_eq!((old.info.name.as_str(), old.info.protocol), ("oldproto", 1));

    // `tenor accept` with it loaded: it renders the Pax8 order, which reads back as the
    // purchase order (accept refuses a rendering that does not), and the text is right.
    let out = Scratch::new("oldproto-out");
    let quote = root().join("rules/quotes/q1001-dental-practice.yaml");
    let rules = root().join("rules");
    let run = tenor(&[
        "accept",
        quote.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.s(),
        "--db",
        &format!("{}.db", out.s()),
        "--plugins",
        dir.s(),
    ]);
    assert_eq!(run.exit, Exit::Success, "{}\n{}", run.stdout, run.stderr);
    let po_text = std::fs::read_to_string(out.path().join("PO-Q-1001-pax8.json")).unwrap();
    let po_json: serde_json::Value = serde_json::from_str(&po_text).unwrap();
    let csv =
        std::fs::read_to_string(out.path().join("oldproto/PO-Q-1001-pax8.oldproto.csv")).unwrap();
    assert_eq!(csv, expected_oldproto_csv(&po_json));
    assert!(
        csv.contains(",MST-NCE-M365BP,25,P1Y,monthly,2026-12-07,"),
        "{csv}"
    );

    // A purchase order carrying the field added since (protocol 2) reaches it, and it renders
    // exactly what it renders without the field.
    let mut po: PurchaseOrder = serde_json::from_str(&po_text).unwrap();
    let plain: Vec<Rendered> = old.call(ops::RENDER_PURCHASE_ORDER, &po).unwrap();
    for l in &mut po.lines {
        l.commitment_term_id = Some("a1b2c3d4-0000-4000-8000-000000000001".into());
    }
    let wire = serde_json::to_string(&po).unwrap();
    assert!(wire.contains("commitment_term_id"), "{wire}");
    let with_field: Vec<Rendered> = old.call(ops::RENDER_PURCHASE_ORDER, &po).unwrap();
    assert_eq!(with_field, plain);
    let back: Vec<OrderLine> = old
        .call(
            ops::PARSE_ORDER,
            &TextInput {
                text: with_field[0].body.clone(),
            },
        )
        .unwrap();
    assert_eq!(back.len(), po.lines.len());
}

#[test]
fn a_plugin_outside_the_protocol_range_is_refused_naming_both_versions() {
    let dir = plugin_dir(
        "farproto",
        &[
            ("tenor_plugin_pax8", "pax8"),
            ("fault_plugin_farproto", "farproto"),
        ],
    );
    let host = Host::load_dir(dir.path());
    assert_eq!(host.failures.len(), 1, "{:?}", host.failures);
    let m = &host.failures[0].message;
    assert!(
        m.contains("`farproto` speaks document protocol 8")
            && m.contains("this tenor speaks protocols 1 to 7"),
        "{m}"
    );
    // Refused before any call: the other plugin serves pax8.
    assert_eq!(host.for_distributor("pax8").unwrap().info.name, "pax8");
    let run = tenor(&["plugins", "list", "--plugins", dir.s()]);
    assert_eq!(run.exit, Exit::Failure);
    assert!(run.stderr.contains("protocol 8"), "{}", run.stderr);
}

#[test]
fn tenor_reading_its_own_documents_back_refuses_a_misspelt_field() {
    let out = Scratch::new("strict");
    let quote = root().join("rules/quotes/q1001-dental-practice.yaml");
    let rules = root().join("rules");
    let q = quote.to_str().unwrap();
    let r = rules.to_str().unwrap();
    let db = format!("{}.db", out.s());
    let run = tenor(&[
        "accept",
        q,
        "--rules",
        r,
        "--out",
        out.s(),
        "--db",
        &db,
        "--no-plugins",
    ]);
    assert_eq!(run.exit, Exit::Success, "{}", run.stderr);
    let po_path = out.path().join("PO-Q-1001-pax8.json");
    let text = std::fs::read_to_string(&po_path).unwrap();
    let matched = tenor(&[
        "match",
        "--quote",
        q,
        "--rules",
        r,
        "--order",
        po_path.to_str().unwrap(),
    ]);
    // The Ingram order is not given, so its lines are findings (exit 1); the file was read.
    assert_eq!(matched.exit, Exit::Failure, "{}", matched.stderr);
    assert!(
        !matched.stderr.contains("unknown field"),
        "{}",
        matched.stderr
    );
    // `unit_cots` for `unit_cost` would otherwise be dropped and the cost read as unknown.
    std::fs::write(&po_path, text.replacen("\"unit_cost\"", "\"unit_cots\"", 1)).unwrap();
    let matched = tenor(&[
        "match",
        "--quote",
        q,
        "--rules",
        r,
        "--order",
        po_path.to_str().unwrap(),
    ]);
    assert_eq!(matched.exit, Exit::Error, "{}", matched.stdout);
    assert!(
        matched
            .stderr
            .contains("unknown field `lines[0].unit_cots`"),
        "{}",
        matched.stderr
    );

    // A seat change reads the sales order from the record, whose documents are checked
    // against their hashes (tests/tests/record.rs), not from a file a person could edit.
}

// ---------------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------------

#[test]
fn the_samples_parse_with_the_sdk_types_and_hold_what_they_promise() {
    let mut terms = std::collections::BTreeSet::new();
    for (distributor, _) in samples::PURCHASE_ORDERS {
        let po = samples::purchase_order(distributor).unwrap().unwrap();
        assert_eq!(&po.distributor, distributor);
        assert_eq!(po.schema, tenor_plugin_sdk::docs::PURCHASE_ORDER);
        assert!(!po.lines.is_empty());
        terms.extend(po.lines.iter().map(|l| format!("{} {}", l.term, l.billing)));
    }
    for t in [
        "P1M monthly",
        "P1Y monthly",
        "P1Y annual",
        "P3Y upfront",
        "P3Y annual",
        "one-time once",
    ] {
        assert!(terms.contains(t), "no {t} line in {terms:?}");
    }
    let pax8 = samples::purchase_order("pax8").unwrap().unwrap();
    assert!(pax8.lines.len() >= 5, "{}", pax8.lines.len());
    assert!(pax8.lines.iter().any(|l| l.bundle.is_some()));
    assert!(
        pax8.lines
            .iter()
            .any(|l| l.first_term_end < l.commitment_end)
    );
    let ingram = samples::purchase_order("ingram").unwrap().unwrap();
    assert!(!ingram.usage.is_empty());
    let input = samples::sales_input().unwrap();
    assert_eq!(input.sales_order.id, "SO-Q-SAMPLE");
    assert_eq!(input.template.sales_order, "SO-Q-SAMPLE");
    assert!(input.template.lines.iter().any(|l| !l.stub.is_empty()));

    // Another distributor gets the Pax8 order readdressed.
    let acme = samples::purchase_order_for("acme").unwrap();
    assert_eq!(
        (acme.id.as_str(), acme.distributor.as_str()),
        ("PO-Q-SAMPLE-acme", "acme")
    );
    assert_eq!(acme.lines, pax8.lines);
}

#[test]
fn the_samples_regenerate_to_the_same_bytes() {
    let dir = root().join("plugins/sdk/samples");
    let docs = sample_documents(&sample_set().unwrap()).unwrap();
    assert_eq!(
        docs,
        sample_documents(&sample_set().unwrap()).unwrap(),
        "deterministic"
    );
    let update = std::env::var_os("TENOR_UPDATE_SAMPLES").is_some();
    let mut names: Vec<String> = Vec::new();
    for (name, text) in &docs {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == *text,
            "{} is not what Tenor makes of samples/source/; regenerate with TENOR_UPDATE_SAMPLES=1 cargo test -p tenor-tests --test plugin_sdk samples",
            path.display()
        );
        names.push(name.clone());
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    names.sort();
    assert_eq!(files, names, "a sample file Tenor does not make");

    // The purchase orders are byte for byte what `tenor accept` writes from the same sources.
    let out = Scratch::new("samples-accept");
    let run = tenor(&[
        "accept",
        root()
            .join("plugins/sdk/samples/source/quote.yaml")
            .to_str()
            .unwrap(),
        "--rules",
        root()
            .join("plugins/sdk/samples/source/routes.tenor")
            .to_str()
            .unwrap(),
        "--rules",
        root().join("rules").to_str().unwrap(),
        "--out",
        out.s(),
        "--db",
        &format!("{}.db", out.s()),
        "--no-plugins",
    ]);
    assert_eq!(run.exit, Exit::Success, "{}", run.stderr);
    for (distributor, text) in samples::PURCHASE_ORDERS {
        let written =
            std::fs::read_to_string(out.path().join(format!("PO-Q-SAMPLE-{distributor}.json")))
                .unwrap();
        assert_eq!(&written, text, "{distributor}");
    }
}

#[test]
fn the_built_in_example_rules_are_every_file_of_rules() {
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tenor"))
        .map(|p| {
            (
                format!("rules/{}", p.file_name().unwrap().to_string_lossy()),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    on_disk.sort();
    let built: Vec<(String, String)> = EXAMPLE_RULES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    assert_eq!(built, on_disk);
}

// ---------------------------------------------------------------------------------------------
// tenor plugins test
// ---------------------------------------------------------------------------------------------

#[test]
fn plugins_test_passes_every_first_party_connector() {
    let dir = plugin_dir("test-first-party", FIRST_PARTY);
    for (_, name) in FIRST_PARTY {
        let run = tenor(&[
            "plugins",
            "test",
            name,
            "--plugins",
            dir.s(),
            "--format",
            "json",
        ]);
        assert_eq!(
            run.exit,
            Exit::Success,
            "{name}: {}\n{}",
            run.stdout,
            run.stderr
        );
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["schema"], "tenor.plugin-test/1");
        assert_eq!(doc["passed"], true);
        assert_eq!(doc["plugin"]["name"], *name);
        let checks: Vec<(String, String)> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = if *name == "connectwise" {
            vec![
                ("load", "pass"),
                ("describe", "pass"),
                ("render SO-Q-SAMPLE and RT-Q-SAMPLE", "pass"),
                ("deterministic", "pass"),
                ("read back", "skip"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
        } else {
            let po = format!("PO-Q-SAMPLE-{name}");
            vec![
                ("load".to_string(), "pass".to_string()),
                ("describe".to_string(), "pass".to_string()),
                (format!("render {po}"), "pass".to_string()),
                ("deterministic".to_string(), "pass".to_string()),
                (format!("read back {po}"), "pass".to_string()),
            ]
        };
        assert_eq!(checks, want, "{name}");
    }
    // The table says the same.
    let run = tenor(&["plugins", "test", "pax8", "--plugins", dir.s()]);
    assert_eq!(run.exit, Exit::Success, "{}", run.stderr);
    assert!(run.stdout.contains("read back PO-Q-SAMPLE-pax8") && run.stdout.contains("pass"));
    assert!(
        run.stdout
            .contains("7 line(s) read back match the purchase order's 7"),
        "{}",
        run.stdout
    );
}

#[test]
fn plugins_test_fails_a_broken_plugin_with_its_reason() {
    let lib = built("fault_plugin_badjson");
    let run = tenor(&["plugins", "test", lib.to_str().unwrap()]);
    assert_eq!(run.exit, Exit::Failure, "{}", run.stdout);
    assert!(run.stdout.contains("FAIL"), "{}", run.stdout);
    assert!(
        run.stderr.contains("render PO-Q-SAMPLE-tdsynnex")
            && run
                .stderr
                .contains("plugin `fault-badjson` returned invalid JSON"),
        "{}",
        run.stderr
    );
    // Out of the protocol range: the load check fails and names both versions.
    let far = built("fault_plugin_farproto");
    let run = tenor(&["plugins", "test", far.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.exit, Exit::Failure);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["checks"][0]["name"], "load");
    assert!(
        doc["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("protocol 8")
    );
    // A plugin that is not there cannot be tested (exit 2).
    let dir = plugin_dir("test-missing", &[("tenor_plugin_pax8", "pax8")]);
    let run = tenor(&["plugins", "test", "nosuch", "--plugins", dir.s()]);
    assert_eq!(run.exit, Exit::Error);
    assert!(run.stderr.contains("no plugin named `nosuch`") && run.stderr.contains("pax8"));
    // The old-protocol plugin passes.
    let old = built("fault_plugin_oldproto");
    let run = tenor(&["plugins", "test", old.to_str().unwrap()]);
    assert_eq!(run.exit, Exit::Success, "{}\n{}", run.stdout, run.stderr);
}

// ---------------------------------------------------------------------------------------------
// tenor plugins new
// ---------------------------------------------------------------------------------------------

#[test]
fn plugins_new_refuses_bad_names_and_non_empty_directories() {
    let dir = Scratch::new("new-refusals");
    for bad in ["../escape", "a/b", "1acme", "ac me", ""] {
        let run = tenor(&[
            "plugins",
            "new",
            bad,
            "--dir",
            dir.path().join("x").to_str().unwrap(),
        ]);
        assert_eq!(run.exit, Exit::Failure, "{bad}");
        assert!(
            run.stderr.contains("is not a plugin name"),
            "{bad}: {}",
            run.stderr
        );
    }
    assert!(!dir.path().join("x").exists());
    std::fs::write(dir.path().join("keep.txt"), "mine\n").unwrap();
    let run = tenor(&["plugins", "new", "acme", "--dir", dir.s()]);
    assert_eq!(run.exit, Exit::Failure);
    assert!(run.stderr.contains("is not empty"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine\n"
    );
    let run = tenor(&[
        "plugins",
        "new",
        "acme",
        "--dir",
        dir.path().join("y").to_str().unwrap(),
        "--sdk",
        dir.s(),
    ]);
    assert_eq!(run.exit, Exit::Error);
    assert!(
        run.stderr.contains("is not the tenor-plugin-sdk crate"),
        "{}",
        run.stderr
    );
}

#[test]
fn plugins_new_writes_the_same_crate_twice() {
    let a = Scratch::new("new-a");
    let b = Scratch::new("new-b");
    for (d, kind) in [(&a, "distributor"), (&b, "distributor")] {
        let run = tenor(&["plugins", "new", "acme", "--dir", d.s(), "--kind", kind]);
        assert_eq!(run.exit, Exit::Success, "{}", run.stderr);
    }
    for f in [
        "Cargo.toml",
        ".gitignore",
        "README.md",
        "src/lib.rs",
        "tests/samples.rs",
    ] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        assert_eq!(x, std::fs::read(b.path().join(f)).unwrap(), "{f}");
    }
    let cargo = std::fs::read_to_string(a.path().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"tenor_plugin_acme\"") && cargo.contains("cdylib"));
    assert!(cargo.contains("[workspace]"));
}

/// Runs cargo on a scaffolded crate, offline, with the workspace's lock file (so it resolves
/// the same versions without a registry) and a target directory inside the workspace's, kept
/// between runs so that the dependencies are built once.
fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    let target = root().join("target/plugin-sdk-scaffold");
    std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        // No debug info and no incremental state: the cache stays small (about 60 MB).
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

#[test]
fn a_scaffolded_plugin_builds_and_passes_plugins_test() {
    let debug = root().join("target/plugin-sdk-scaffold/debug");
    for (kind, name) in [("distributor", "acme"), ("psa", "acme-psa")] {
        let dir = Scratch::new(&format!("new-build-{kind}"));
        let run = tenor(&["plugins", "new", name, "--dir", dir.s(), "--kind", kind]);
        assert_eq!(run.exit, Exit::Success, "{}", run.stderr);
        std::fs::copy(root().join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        let started = std::time::Instant::now();
        for args in [&["test", "--quiet"][..], &["build", "--quiet"][..]] {
            let out = cargo(dir.path(), args);
            assert!(
                out.status.success(),
                "cargo {args:?} of the scaffold failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        eprintln!(
            "scaffold {kind}: cargo test + build in {:?}",
            started.elapsed()
        );
        // By the library's path, as the scaffold's README says.
        let lib = debug.join(format!(
            "{}tenor_plugin_{}{}",
            std::env::consts::DLL_PREFIX,
            name.replace('-', "_"),
            std::env::consts::DLL_SUFFIX
        ));
        let run = tenor(&["plugins", "test", lib.to_str().unwrap()]);
        assert_eq!(run.exit, Exit::Success, "{}\n{}", run.stdout, run.stderr);
    }
    // By name in a plugin directory: `tenor plugins test acme`.
    let run = tenor(&[
        "plugins",
        "test",
        "acme",
        "--plugins",
        debug.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.exit, Exit::Success, "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let read_back = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "read back PO-Q-SAMPLE-acme")
        .unwrap_or_else(|| panic!("no read-back check: {doc}"));
    assert_eq!(read_back["status"], "pass", "{doc}");
    let psa = tenor(&[
        "plugins",
        "test",
        "acme-psa",
        "--plugins",
        debug.to_str().unwrap(),
    ]);
    assert_eq!(psa.exit, Exit::Success, "{}\n{}", psa.stdout, psa.stderr);
    assert!(
        psa.stdout.contains("RT-Q-SAMPLE.acme-psa.csv"),
        "{}",
        psa.stdout
    );
}
