//! A plugin that writes through a wild pointer (SIGSEGV) when asked to render, claiming distributor `ingram`: the host must name it and carry on
//! with the other plugins.
#![allow(unsafe_code, reason = "this fault plugin crashes on purpose")]

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Segfault;

impl Plugin for Segfault {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor(
                "fault-segfault",
                "0.0.0",
                &[Capability::RenderPurchaseOrder],
            )
        }
    }

    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let wild = std::hint::black_box(std::ptr::without_provenance_mut::<u8>(8));
        // SAFETY: not safe at all: this plugin exists to crash its process.
        unsafe { wild.write_volatile(1) };
        Ok(Vec::new())
    }
}

tenor_plugin_sdk::export_plugin!(Segfault);
