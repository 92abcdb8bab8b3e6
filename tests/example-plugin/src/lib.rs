//! The smallest useful plugin: Acme Distribution takes purchase orders as CSV.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Kind, Plugin, PluginError, PluginInfo, Rendered};

/// The Acme connector.
#[derive(Default)]
pub struct Acme;

impl Plugin for Acme {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "acme".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: Kind::Distributor,
            capabilities: vec![Capability::RenderPurchaseOrder],
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION,
            // The distributor's name in the rule files: `route … via acme`.
            distributor: Some("acme".into()),
        }
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let mut body = String::from("order,line,part,quantity\n");
        for l in &po.lines {
            if l.part_number.contains(',') {
                return Err(PluginError::Invalid(format!(
                    "part number `{}` has a comma",
                    l.part_number
                )));
            }
            body.push_str(&format!(
                "{},{},{},{}\n",
                po.id, l.line, l.part_number, l.quantity
            ));
        }
        Ok(vec![Rendered {
            name: format!("{}.acme", po.id),
            extension: "csv".into(),
            body,
        }])
    }
}

tenor_plugin_sdk::export_plugin!(Acme);
