//! Renderers for people and machines: tables, explanations and errors.

pub mod errors;
pub mod matching;
pub mod price;
