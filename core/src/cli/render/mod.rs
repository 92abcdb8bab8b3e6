//! Renderers: tables and explanations for people; the explain and error documents for programs.

pub mod errors;
pub mod explain;
pub mod matching;
pub mod price;
