//! The documents made from priced quotes: acceptance, seat changes and usage rating.

pub mod accept;
pub mod change;
pub mod rate;
pub mod replay;
pub mod streamed;
