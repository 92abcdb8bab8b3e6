//! The cost of a plugin call out of process: the Pax8 connector renders the example quote's
//! purchase order through its worker (frames over pipes), side by side with the same call on
//! the library loaded into this process (the floor). Both encode the purchase order and decode
//! the rendering. Needs the Pax8 library built in the same profile
//! (`cargo build --release -p tenor-plugin-pax8`), or `TENOR_BENCH_PLUGIN=path/to/lib`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use tenor_core::host::Host;
use tenor_core::host::inproc::Library;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Rendered, ops};

/// The Pax8 library: `TENOR_BENCH_PLUGIN`, else beside the bench binary or one level up.
fn pax8_library() -> PathBuf {
    if let Some(p) = std::env::var_os("TENOR_BENCH_PLUGIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let file = format!(
        "{}tenor_plugin_pax8{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let here = exe.parent().unwrap();
    [here.join(&file), here.parent().unwrap().join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no {file} near {}: cargo build --release -p tenor-plugin-pax8 first",
                exe.display()
            )
        })
}

/// The example quote's Pax8 purchase order, accepted as `tenor accept` does.
fn purchase_order() -> PurchaseOrder {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources = tenor_dsl::load(&[root.join("rules")]).unwrap();
    let checked = tenor_dsl::check(&sources).unwrap();
    let cat = tenor_core::engine::catalogue::Catalogue::compile(&checked, &sources);
    let path = root.join("rules/quotes/q1001-dental-practice.yaml");
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
    let a = tenor_core::documents::accept::accept(&cat, &file.quote, &priced, "bench").unwrap();
    a.purchase_orders
        .into_iter()
        .find(|p| p.distributor == "pax8")
        .unwrap()
}

fn plugin_call(c: &mut Criterion) {
    let lib = pax8_library();
    let po = purchase_order();
    let dir = tempdir(&lib);
    let host = Host::load_dir(&dir);
    assert!(host.failures.is_empty(), "{:?}", host.failures);
    let pax8 = host.get("pax8").unwrap();
    let in_process = Library::open(&lib).unwrap();

    let mut g = c.benchmark_group("plugin_call");
    g.bench_function("render_purchase_order/in_process", |b| {
        b.iter(|| {
            let input = serde_json::to_vec(black_box(&po)).unwrap();
            let (status, out) = in_process.call(ops::RENDER_PURCHASE_ORDER, &input);
            assert_eq!(status, 0);
            let r: Vec<Rendered> = serde_json::from_slice(&out).unwrap();
            black_box(r)
        })
    });
    g.bench_function("render_purchase_order/out_of_process", |b| {
        b.iter(|| {
            let r: Vec<Rendered> = pax8
                .call(ops::RENDER_PURCHASE_ORDER, black_box(&po))
                .unwrap();
            black_box(r)
        })
    });
    g.finish();
    drop(host);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plugin directory holding only the Pax8 library (a hard link, else a copy).
fn tempdir(lib: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenor-bench-plugins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let to = dir.join(lib.file_name().unwrap());
    if std::fs::hard_link(lib, &to).is_err() {
        std::fs::copy(lib, &to).unwrap();
    }
    dir
}

criterion_group!(benches, plugin_call);
criterion_main!(benches);
