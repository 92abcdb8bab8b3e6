//! Tenor connector for TD SYNNEX StreamOne Ion: purchase orders as cart items, billing CSV read back.

use tenor_plugin_sdk::{Kind, Plugin, PluginInfo};

/// The connector.
#[derive(Default)]
pub struct Connector;

impl Plugin for Connector {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "tdsynnex".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: Kind::Distributor,
            capabilities: Vec::new(),
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION,
            distributor: Some("tdsynnex".into()),
        }
    }
}

tenor_plugin_sdk::export_plugin!(Connector);
