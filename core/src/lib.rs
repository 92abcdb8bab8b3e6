//! The Tenor engine, plugin host and command-line interface.

pub mod accept;
pub mod atomic;
pub mod calendar;
pub mod catalogue;
pub mod change;
pub mod cli;
pub mod matching;
pub mod plugins;
pub mod price;
pub mod progress;
pub mod quote;
pub mod rate;
pub mod report;
pub mod schedule;
pub mod tiers;
pub mod yaml;
