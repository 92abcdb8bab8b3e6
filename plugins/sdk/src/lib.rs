//! The Tenor plugin SDK: everything a distributor or PSA connector depends on, and nothing of
//! the engine. A plugin implements [`Plugin`] (ordinary Rust, no `unsafe`) and exports it with
//! [`export_plugin!`]; the `tenor` host loads the library at run time and exchanges JSON with it
//! through a small, versioned C ABI ([`abi`]).
//!
//! Documents going out are Tenor's normalised ones ([`docs`]); documents coming back (a
//! distributor's order or invoice) are read into [`OrderLine`]s and [`InvoiceLine`]s for the
//! three-way match. What connectors share beyond that (their description, rendered files,
//! problem reports, readers of vendors' numbers and dates) is in [`connector`].

pub mod abi;
pub mod connector;
pub mod conversation;
pub mod docs;
pub mod exchange;
pub mod samples;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Version of the JSON payloads (documents and lines) this SDK writes and reads, separate from
/// the ABI version. 2 added `PurchaseOrderLine::commitment_term_id`; 3 added the push and pull
/// conversations ([`exchange`]), `Customer::accounts`, `PurchaseOrderLine::sku_id`/`plan_id` and
/// `InvoiceLine::serial_numbers`; 4 added `OrderLine::plan` and `Subscription::plan` (the
/// distributor's commitment or plan id, as read back); 5 added `PushInput::today` and
/// `PushStep::Wait`, because Pax8 and TD SYNNEX start a subscription on the day it is ordered:
/// a plugin must hold an order until its lines' start day, and needs the host's date (not its
/// own clock) to know which day that is; 6 added `PluginInfo::link_keys`; 7 added
/// `PushDocument::Fixes`, a reconciliation's changes to a PSA's recurring billing.
pub const PROTOCOL_VERSION: u32 = 7;

/// The oldest payload protocol a host built with this SDK still speaks: a plugin built with any
/// protocol from here to [`PROTOCOL_VERSION`] is loaded (see [`abi::protocol_supported`]).
pub const PROTOCOL_MIN: u32 = 1;

/// What a plugin connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Where the MSP buys (Pax8, Ingram Micro, TD SYNNEX).
    Distributor,
    /// Where the MSP bills (ConnectWise, Autotask, HaloPSA).
    Psa,
}

/// What a plugin can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Turn a purchase order into the distributor's order body.
    RenderPurchaseOrder,
    /// Turn a sales order and recurring template into the PSA's documents.
    RenderSales,
    /// Read the distributor's order back into [`OrderLine`]s.
    ParseOrder,
    /// Read an invoice back into [`InvoiceLine`]s.
    ParseInvoice,
    /// Tell whether a document is in this plugin's format.
    Detect,
    /// Turn documents into the vendor's API requests ([`Plugin::push_step`]). Protocol 3.
    Push,
    /// Read the vendor's orders, subscriptions and invoices through its API
    /// ([`Plugin::pull_step`]). Protocol 3.
    Pull,
}

/// A plugin's description, read by the host right after the ABI version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Short name, used on the command line and in file names (`pax8`).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// Distributor or PSA.
    pub kind: Kind,
    /// What it can do.
    pub capabilities: Vec<Capability>,
    /// The [`PROTOCOL_VERSION`] it was built with.
    pub protocol: u32,
    /// For a distributor: the distributor name it serves in rule files (`pax8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributor: Option<String>,
    /// The link keys it reads from a customer's links (`tenor link CUSTOMER --pax8 company=…`):
    /// `tenor link` refuses any other key for it, so a misspelt key is an error, not a value
    /// silently never read. Empty when the plugin does not say (older plugins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_keys: Vec<String>,
}

/// One document a plugin produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// File name without extension (`PO-Q-1001-pax8.pax8-order`).
    pub name: String,
    /// File extension (`json`, `csv`).
    pub extension: String,
    /// The document's text.
    pub body: String,
}

/// What a PSA plugin renders from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesInput {
    /// The sales order.
    pub sales_order: docs::SalesOrder,
    /// The recurring template.
    pub template: docs::RecurringTemplate,
}

/// A line of a distributor's order, as read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Which document it came from (its number or file).
    pub document: String,
    /// The Tenor order or quote number the document carries, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The line's own reference in the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ref: Option<String>,
    /// The end customer's id or name, if the document says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The distributor's part number or product id.
    pub part_number: String,
    /// Units ordered.
    pub quantity: Decimal,
    /// Term bought, in Tenor's spelling (`P1M`, `P1Y`, `P3Y`, `one-time`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Billing bought, in Tenor's spelling, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<String>,
    /// Provisioning start, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// End (exclusive) of the distributor's commitment, if known: the end of its current
    /// term (a co-termed first term ends on the co-term date) or of the last renewal committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// Unit cost, if the document states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Decimal>,
    /// The distributor's commitment-term or plan id, as read (Pax8 `commitmentTerm.id`, TD
    /// SYNNEX `planId`), if the document states it. Protocol 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// A line of an invoice (from a distributor or the PSA), as read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// The invoice number.
    pub document: String,
    /// The Tenor order or quote number the invoice carries, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The end customer's id or name, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The product's part number, SKU or product id.
    pub part_number: String,
    /// What the line says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Units billed.
    pub quantity: Decimal,
    /// Hardware serial numbers the invoice lists for this line (Ingram `serialNumbers[]`).
    /// Protocol 3.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial_numbers: Vec<String>,
    /// Price of one unit, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// Amount of the line.
    pub amount: Decimal,
    /// First day billed, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<NaiveDate>,
    /// Day after the last day billed, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<NaiveDate>,
    /// Term, in Tenor's spelling, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Billing frequency, in Tenor's spelling, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<String>,
    /// The invoice date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// A decimal written as text (`1049.00`, `-3`, `1.5e3`), exactly or not at all: never rounded
/// to fit and never through `f64`.
pub fn exact_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// A JSON number as a Decimal with the digits it was written with (the workspace enables
/// serde_json's `arbitrary_precision`, which keeps them), exactly or not at all.
pub fn json_decimal(n: &serde_json::Number) -> Option<Decimal> {
    exact_decimal(&n.to_string())
}

/// Why a plugin could not do what it was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginError {
    /// The plugin does not offer this operation.
    Unsupported,
    /// The input is not what the plugin can read; the message says why.
    Invalid(String),
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginError::Unsupported => f.write_str("operation not supported"),
            PluginError::Invalid(m) => f.write_str(m),
        }
    }
}

/// A connector. Every operation but [`Plugin::info`] has a default that says "unsupported",
/// so a plugin implements only what it offers (and lists it in its capabilities).
pub trait Plugin: Default {
    /// Name, version, kind and capabilities.
    fn info(&self) -> PluginInfo;

    /// Renders a purchase order in the distributor's format.
    fn render_purchase_order(
        &self,
        _po: &docs::PurchaseOrder,
    ) -> Result<Vec<Rendered>, PluginError> {
        Err(PluginError::Unsupported)
    }

    /// Renders the PSA's documents for a sales order and its recurring template.
    fn render_sales(&self, _input: &SalesInput) -> Result<Vec<Rendered>, PluginError> {
        Err(PluginError::Unsupported)
    }

    /// Reads the distributor's order back.
    fn parse_order(&self, _text: &str) -> Result<Vec<OrderLine>, PluginError> {
        Err(PluginError::Unsupported)
    }

    /// Reads an invoice back.
    fn parse_invoice(&self, _text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        Err(PluginError::Unsupported)
    }

    /// True when `text` looks like one of this plugin's documents.
    fn detect(&self, _text: &str) -> bool {
        false
    }

    /// The next request of a push, or its result (see [`exchange`]).
    fn push_step(&self, _input: &exchange::PushInput) -> Result<exchange::PushStep, PluginError> {
        Err(PluginError::Unsupported)
    }

    /// The next request of a pull, or what it read (see [`exchange`]).
    fn pull_step(&self, _input: &exchange::PullInput) -> Result<exchange::PullStep, PluginError> {
        Err(PluginError::Unsupported)
    }
}

/// Names of the operations on the wire.
pub mod ops {
    /// `PurchaseOrder` JSON in, `Vec<Rendered>` out.
    pub const RENDER_PURCHASE_ORDER: &str = "render_purchase_order";
    /// `SalesInput` JSON in, `Vec<Rendered>` out.
    pub const RENDER_SALES: &str = "render_sales";
    /// `{"text": …}` in, `Vec<OrderLine>` out.
    pub const PARSE_ORDER: &str = "parse_order";
    /// `{"text": …}` in, `Vec<InvoiceLine>` out.
    pub const PARSE_INVOICE: &str = "parse_invoice";
    /// `{"text": …}` in, `bool` out.
    pub const DETECT: &str = "detect";
    /// `PushInput` JSON in, `PushStep` out.
    pub const PUSH_STEP: &str = "push_step";
    /// `PullInput` JSON in, `PullStep` out.
    pub const PULL_STEP: &str = "pull_step";
}

/// The input of the parse and detect operations.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TextInput {
    /// The document's text.
    pub text: String,
}

fn decode<T: serde::de::DeserializeOwned>(input: &[u8]) -> Result<T, (i32, String)> {
    serde_json::from_slice(input).map_err(|e| {
        (
            abi::STATUS_ERROR,
            format!("the host sent JSON this plugin cannot read: {e}"),
        )
    })
}

fn encode<T: Serialize>(r: Result<T, PluginError>) -> Result<Vec<u8>, (i32, String)> {
    match r {
        Ok(v) => serde_json::to_vec(&v).map_err(|e| (abi::STATUS_ERROR, e.to_string())),
        Err(PluginError::Unsupported) => {
            Err((abi::STATUS_UNSUPPORTED, "operation not supported".into()))
        }
        Err(PluginError::Invalid(m)) => Err((abi::STATUS_ERROR, m)),
    }
}

/// Runs one operation on a plugin: JSON in, JSON out (or a status and message).
pub fn dispatch<P: Plugin>(plugin: &P, op: &str, input: &[u8]) -> Result<Vec<u8>, (i32, String)> {
    match op {
        ops::RENDER_PURCHASE_ORDER => encode(plugin.render_purchase_order(&decode(input)?)),
        ops::RENDER_SALES => encode(plugin.render_sales(&decode(input)?)),
        ops::PARSE_ORDER => encode(plugin.parse_order(&decode::<TextInput>(input)?.text)),
        ops::PARSE_INVOICE => encode(plugin.parse_invoice(&decode::<TextInput>(input)?.text)),
        ops::DETECT => encode(Ok(plugin.detect(&decode::<TextInput>(input)?.text))),
        ops::PUSH_STEP => encode(plugin.push_step(&decode(input)?)),
        ops::PULL_STEP => encode(plugin.pull_step(&decode(input)?)),
        other => Err((
            abi::STATUS_UNSUPPORTED,
            format!("unknown operation `{other}`"),
        )),
    }
}

/// The `call` function of a plugin's descriptor: decodes, dispatches, and never lets a panic
/// cross into the host.
///
/// # Safety
/// `op` and `input` must point to `op_len` and `input_len` readable bytes, and `out` to a
/// writable [`abi::Buffer`] slot (or be null), for the duration of the call.
#[allow(
    unsafe_code,
    reason = "the ABI entry point receives raw pointers from the host"
)]
pub unsafe extern "C" fn call_plugin<P: Plugin>(
    op: *const u8,
    op_len: usize,
    input: *const u8,
    input_len: usize,
    out: *mut abi::Buffer,
) -> i32 {
    let result = std::panic::catch_unwind(|| {
        #[allow(
            unsafe_code,
            reason = "the ABI passes the host's bytes as pointer and length"
        )]
        // SAFETY: the host passes valid ranges that outlive this call.
        let (op, input) = unsafe { (abi::bytes(op, op_len), abi::bytes(input, input_len)) };
        let op = std::str::from_utf8(op)
            .map_err(|_| (abi::STATUS_ERROR, "operation name is not UTF-8".to_string()))?;
        dispatch(&P::default(), op, input)
    });
    let (status, bytes) = match result {
        Ok(Ok(v)) => (abi::STATUS_OK, v),
        Ok(Err((status, msg))) => (status, msg.into_bytes()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-text payload".to_string());
            (
                abi::STATUS_PANIC,
                format!("the plugin panicked: {msg}").into_bytes(),
            )
        }
    };
    if !out.is_null() {
        #[allow(unsafe_code, reason = "the host passes a buffer slot to fill")]
        // SAFETY: `out` is a valid, writable slot provided by the host for this call.
        unsafe {
            out.write(abi::Buffer::from_vec(bytes));
        }
    }
    status
}

/// Makes a [`Plugin`] loadable by `tenor`: exports the ABI version and the entry point.
///
/// ```ignore
/// #[derive(Default)]
/// struct Pax8;
/// impl tenor_plugin_sdk::Plugin for Pax8 { /* … */ }
/// tenor_plugin_sdk::export_plugin!(Pax8);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[allow(unsafe_code, reason = "exporting C symbols is the plugin ABI")]
        mod __tenor_plugin_export {
            use super::*;

            static INFO: ::std::sync::LazyLock<::std::ffi::CString> =
                ::std::sync::LazyLock::new(|| {
                    let info = <$plugin as $crate::Plugin>::info(
                        &<$plugin as ::std::default::Default>::default(),
                    );
                    let json = $crate::__serde_json::to_string(&info).unwrap_or_default();
                    ::std::ffi::CString::new(json).unwrap_or_default()
                });

            static DESCRIPTOR: ::std::sync::LazyLock<$crate::abi::Descriptor> =
                ::std::sync::LazyLock::new(|| $crate::abi::Descriptor {
                    abi_version: $crate::abi::ABI_VERSION,
                    info_json: INFO.as_ptr(),
                    call: $crate::call_plugin::<$plugin>,
                    free_buffer: $crate::abi::free_buffer,
                });

            /// The ABI version this library was built against.
            #[unsafe(no_mangle)]
            pub extern "C" fn tenor_plugin_abi_version() -> u32 {
                $crate::abi::ABI_VERSION
            }

            /// The plugin's descriptor (null if building it panicked).
            #[unsafe(no_mangle)]
            pub extern "C" fn tenor_plugin_entry() -> *const $crate::abi::Descriptor {
                ::std::panic::catch_unwind(|| &*DESCRIPTOR as *const $crate::abi::Descriptor)
                    .unwrap_or(::std::ptr::null())
            }
        }
    };
}

#[doc(hidden)]
pub use serde_json as __serde_json;
