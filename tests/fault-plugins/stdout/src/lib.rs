//! A plugin that prints on its standard output and error in every operation, and otherwise works, claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Stdout;

impl Plugin for Stdout {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor(
                "fault-stdout",
                "0.0.0",
                &[Capability::RenderPurchaseOrder, Capability::Detect],
            )
        }
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        noise("render_purchase_order");
        Ok(vec![Rendered::new(
            format!("{}.noisy", po.id),
            "txt",
            format!("{}\n", po.id),
        )])
    }

    fn detect(&self, _text: &str) -> bool {
        noise("detect");
        false
    }
}

/// Writes lines that would corrupt `tenor match --format json` if they reached its output.
fn noise(op: &str) {
    println!("{{\"noise\": \"fault-stdout on stdout in {op}\"}}");
    eprintln!("fault-stdout on stderr in {op}");
}

tenor_plugin_sdk::export_plugin!(Stdout);
