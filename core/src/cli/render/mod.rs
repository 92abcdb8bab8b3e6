//! Renderers: tables and explanations for people, the explain document for programs.

pub mod explain;
pub mod matching;
pub mod price;
