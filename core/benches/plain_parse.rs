//! The end-to-end floor as a whole process: `plain_parse QUOTE.json` reads a JSON quote into
//! plain structs (strings and integers, no checks, no pricing) and prints its line count, to
//! time beside `tenor price QUOTE.json --format json`. Run by `cargo bench` without a file, it
//! does nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark"
)]

use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never used: the floor is the reading")]
struct Quote {
    quote: String,
    date: String,
    currency: String,
    customer: Customer,
    lines: Vec<Line>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never used: the floor is the reading")]
struct Customer {
    id: String,
    name: String,
    segment: Option<String>,
    anniversary: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "read, never used: the floor is the reading")]
struct Line {
    product: String,
    quantity: u64,
    term: String,
    billing: Option<String>,
    start: String,
}

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        return;
    };
    let text = std::fs::read_to_string(path).expect("read the quote");
    let q: Quote = serde_json::from_str(&text).expect("parse the quote");
    println!("{}", q.lines.len());
}
