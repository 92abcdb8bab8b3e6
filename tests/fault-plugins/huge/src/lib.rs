//! A plugin that answers with a body one byte over the host's response limit (TENOR_PLUGIN_MAX_RESPONSE, else 64 MiB), claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Huge;

impl Plugin for Huge {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor("fault-huge", "0.0.0", &[Capability::RenderPurchaseOrder])
        }
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let limit = std::env::var("TENOR_PLUGIN_MAX_RESPONSE")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(64 << 20);
        // The body alone is one byte over: the whole response (JSON around it) is more.
        let body = "x".repeat(limit + 1);
        Ok(vec![Rendered::new(po.id.clone(), "txt", body)])
    }
}

tenor_plugin_sdk::export_plugin!(Huge);
