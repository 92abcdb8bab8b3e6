//! Tenor connector for ConnectWise PSA: sales orders with product lines, agreements with additions, invoices read back.

use tenor_plugin_sdk::{Kind, Plugin, PluginInfo};

/// The connector.
#[derive(Default)]
pub struct Connector;

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "connectwise".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: Kind::Psa,
            capabilities: Vec::new(),
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION,
            distributor: None,
        }
    }
}

tenor_plugin_sdk::export_plugin!(Connector);
