//! The Tenor engine, plugin host and command-line interface.

pub mod atomic;
pub mod calendar;
pub mod cli;
pub mod yaml;
