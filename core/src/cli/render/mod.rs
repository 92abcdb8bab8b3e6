//! Renderers for people: tables and explanations.

pub mod matching;
pub mod price;
