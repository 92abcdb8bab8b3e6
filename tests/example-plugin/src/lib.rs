//! The smallest useful plugin: Acme Distribution takes purchase orders as CSV.

use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The Acme connector.
#[derive(Default)]
pub struct Acme;

impl Plugin for Acme {
    fn info(&self) -> PluginInfo {
        // `acme` is also the distributor's name in the rule files: `route … via acme`.
        PluginInfo::distributor(
            "acme",
            env!("CARGO_PKG_VERSION"),
            &[Capability::RenderPurchaseOrder],
        )
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let mut body = String::from("order,line,part,quantity\n");
        for l in &po.lines {
            if l.part_number.contains(',') {
                return Err(invalid(format!(
                    "part number `{}` has a comma",
                    l.part_number
                )));
            }
            body.push_str(&format!(
                "{},{},{},{}\n",
                po.id, l.line, l.part_number, l.quantity
            ));
        }
        Ok(vec![Rendered::new(format!("{}.acme", po.id), "csv", body)])
    }
}

tenor_plugin_sdk::export_plugin!(Acme);
