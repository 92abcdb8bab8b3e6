//! Reading and writing files: atomic writes, safe names, exports with their manifest, and
//! YAML/JSON documents with field positions.

pub mod atomic;
pub mod export;
pub mod names;
pub mod yaml;
