//! A plugin that aborts the process (SIGABRT) when asked to render, claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Abort;

impl Plugin for Abort {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor("fault-abort", "0.0.0", &[Capability::RenderPurchaseOrder])
        }
    }

    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        std::process::abort()
    }
}

tenor_plugin_sdk::export_plugin!(Abort);
