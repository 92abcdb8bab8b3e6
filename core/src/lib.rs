//! The Tenor engine, the record's documents, the three-way match, the plugin host and the
//! command-line interface.
//!
//! Dependencies point one way: `cli` uses everything else; `documents` and `matching` use
//! `engine`, `host` and `files`; `engine` uses only `files` and the rules language. Nothing
//! outside `cli` knows the command line, exit codes or the terminal.

pub mod accepting;
pub mod cli;
pub mod documents;
pub mod engine;
pub mod files;
pub mod host;
pub mod matching;
pub mod push;
pub mod reconcile;
pub mod record;
pub mod review;
pub mod serve;
pub mod transport;
