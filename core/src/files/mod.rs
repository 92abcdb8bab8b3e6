//! Reading and writing files: atomic writes and YAML/JSON documents with field positions.

pub mod atomic;
pub mod yaml;
