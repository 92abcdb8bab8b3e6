//! A plugin that writes junk on every descriptor it did not open (which includes the host's
//! protocol pipe) when asked to render, claiming distributor `ingram`: the host must name it
//! and carry on with the other plugins.
#![allow(
    unsafe_code,
    reason = "this fault plugin writes on descriptors it does not own"
)]

use std::io::Write;
use std::os::fd::FromRawFd;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{Capability, Plugin, PluginError, PluginInfo, Rendered};

/// The fault.
#[derive(Default)]
pub struct Garbage;

impl Plugin for Garbage {
    fn info(&self) -> PluginInfo {
        PluginInfo {
            distributor: Some("ingram".into()),
            ..PluginInfo::distributor("fault-garbage", "0.0.0", &[Capability::RenderPurchaseOrder])
        }
    }

    fn render_purchase_order(&self, _po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        for fd in 3..64 {
            // SAFETY: not safe: the descriptor belongs to someone else; this plugin exists to
            // scribble on it. ManuallyDrop keeps it from being closed.
            let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
            let _ = f.write_all(b"this is not a frame, this is garbage\n");
        }
        Ok(Vec::new())
    }
}

tenor_plugin_sdk::export_plugin!(Garbage);
