//! A plugin that panics in every operation: the host must report it and carry on.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Kind, Plugin, PluginError, PluginInfo, Rendered};

/// Panics when asked to render.
#[derive(Default)]
pub struct Panicky;

impl Plugin for Panicky {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "fault-panic".into(),
            version: "0.0.0".into(),
            kind: Kind::Distributor,
            capabilities: vec![Capability::RenderPurchaseOrder],
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION,
            distributor: Some("ingram".into()),
            link_keys: Vec::new(),
        }
    }

    #[allow(clippy::panic, reason = "this plugin exists to panic")]
    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        panic!("deliberate failure rendering {}", po.id)
    }
}

tenor_plugin_sdk::export_plugin!(Panicky);
