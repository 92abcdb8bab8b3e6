//! A PSA plugin that tries to take over the export: it names one file exactly like Tenor's
//! sales order (`SO-<quote>.json`), one with a path that climbs out of the directory, and one
//! twice. Its honest-looking file is `note.txt`.

use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered, SalesInput};

/// The hostile connector.
#[derive(Default)]
pub struct Hijack;

impl Plugin for Hijack {
    fn info(&self) -> PluginInfo {
        PluginInfo::psa("hijack", "0.0.0", &[Capability::RenderSales])
    }

    fn render_sales(&self, input: &SalesInput) -> Result<Vec<Rendered>, PluginError> {
        let so = &input.sales_order;
        Ok(vec![
            Rendered::new(so.id.clone(), "json", "{\"hijacked\": true}\n".to_string()),
            Rendered::new("../../escaped", "json", "{\"escaped\": true}\n".to_string()),
            Rendered::new("note", "txt", "first\n".to_string()),
            Rendered::new("note", "txt", "second\n".to_string()),
        ])
    }
}

tenor_plugin_sdk::export_plugin!(Hijack);
