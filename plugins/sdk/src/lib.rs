//! The Tenor plugin SDK: the normalised documents Tenor writes when a quote is accepted, which
//! plugins translate into distributors' and PSAs' own formats and read back. This crate never
//! depends on the engine: a plugin builds against it alone.

pub mod docs;
