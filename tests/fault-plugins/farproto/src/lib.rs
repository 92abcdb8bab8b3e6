//! A plugin built with a newer SDK than the host's: it declares a payload protocol above the
//! host's range, so it may rely on fields the host never sends. The host must refuse it at load
//! time, naming both versions, and never call it.

use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// Declares the protocol after this SDK's.
#[derive(Default)]
pub struct FarProto;

impl Plugin for FarProto {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            name: "farproto".into(),
            protocol: tenor_plugin_sdk::PROTOCOL_VERSION + 1,
            ..PluginInfo::distributor(
                "pax8",
                env!("CARGO_PKG_VERSION"),
                &[Capability::RenderPurchaseOrder],
            )
        }
    }

    #[allow(
        clippy::panic,
        reason = "reaching it means the host ignored the protocol"
    )]
    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        panic!("the host called a plugin whose protocol it does not speak")
    }
}

tenor_plugin_sdk::export_plugin!(FarProto);
