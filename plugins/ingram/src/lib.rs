//! Tenor connector for Ingram Micro: purchase orders as reseller API v6 order-create bodies, invoice details read back.

use tenor_plugin_sdk::{Kind, Plugin, PluginInfo};

/// The connector.
#[derive(Default)]
pub struct Connector;

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "ingram".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: Kind::Distributor,
            capabilities: Vec::new(),
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION,
            distributor: Some("ingram".into()),
        }
    }
}

tenor_plugin_sdk::export_plugin!(Connector);
