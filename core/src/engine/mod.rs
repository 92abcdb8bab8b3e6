//! The pricing engine: calendar arithmetic, the compiled catalogue, co-term schedules, tier
//! rating, the quote model and pricing.

pub mod calendar;
pub mod catalogue;
pub mod money;
pub mod pricing;
pub mod quote;
pub mod schedule;
pub mod tiers;
