//! A plugin that calls `exit(0)` in the middle of rendering, claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Exit;

impl Plugin for Exit {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor("fault-exit", "0.0.0", &[Capability::RenderPurchaseOrder])
        }
    }

    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        std::process::exit(0)
    }
}

tenor_plugin_sdk::export_plugin!(Exit);
