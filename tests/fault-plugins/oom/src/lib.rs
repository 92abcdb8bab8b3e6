//! A plugin that allocates far more memory than a worker may have (8 GiB), claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Oom;

impl Plugin for Oom {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor("fault-oom", "0.0.0", &[Capability::RenderPurchaseOrder])
        }
    }

    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let n = std::hint::black_box(8usize << 30);
        let v = vec![1u8; n];
        Ok(vec![Rendered::new(
            "x",
            "txt",
            format!("{}", std::hint::black_box(v).len()),
        )])
    }
}

tenor_plugin_sdk::export_plugin!(Oom);
