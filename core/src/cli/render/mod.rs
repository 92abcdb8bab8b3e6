//! Renderers: tables and explanations for people; the explain and error documents for programs.

pub mod errors;
pub mod explain;
pub mod matching;
pub mod price;
pub mod priced_json;
pub mod reconcile;
pub mod review;

/// `1 file`, `2 files`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
