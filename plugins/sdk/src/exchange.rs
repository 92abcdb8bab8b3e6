//! Talking to a vendor's API without doing any I/O: a connector turns a document into the HTTP
//! requests its vendor takes, one at a time, and reads each answer; the host sends them, adds
//! the credentials, retries, and records every request and response in the record.
//!
//! A conversation is stateless on the plugin's side. The host calls [`crate::Plugin::push_step`]
//! (or [`crate::Plugin::pull_step`]) with every exchange of the conversation so far, oldest
//! first; the plugin answers with the next request to send, or with the result. A conversation
//! interrupted between sending and recording the answer is resumed with that last exchange's
//! `response` absent: the plugin must then look up what the vendor holds (ConnectWise orders by
//! `poNumber`, Pax8 orders by company and date, Ingram's duplicate `customerOrderNumber` guard)
//! before it creates anything again, so that nothing is ever ordered twice.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::docs::PurchaseOrder;
use crate::{InvoiceLine, OrderLine, SalesInput};

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Reads.
    Get,
    /// Creates.
    Post,
    /// Replaces.
    Put,
    /// Amends.
    Patch,
    /// Removes.
    Delete,
}

/// What a request does to the vendor's state: the host never retries a `Create` blindly after
/// an interruption, it asks the plugin (which looks up first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Reads only: safe to repeat.
    Read,
    /// Creates something (an order, an agreement, an addition).
    Create,
    /// Changes something that exists (a quantity, a cancelled date).
    Update,
}

/// One request a connector asks the host to send. It carries no secrets: the host adds the
/// vendor's authentication (OAuth2 token, API keys, `clientId`) and base URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Path below the vendor's base URL, starting with `/` (`/orders`,
    /// `/finance/agreements/17/additions`); ids in it come from the documents, the customer's
    /// accounts or earlier responses, never from guesses.
    pub path: String,
    /// Query parameters, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// Headers beyond authentication (`IM-CustomerNumber`…), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The JSON body, exactly as the vendor's API takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// What the request does.
    pub effect: Effect,
    /// What it is for, in words, for `--dry-run` and the record (`create the order for
    /// PO-Q-1001-pax8`).
    pub purpose: String,
}

/// The vendor's answer to a [`Request`], as the host received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers the plugin may need (`Location`…), lower-case names, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body: JSON when it parsed as JSON, else a JSON string of the text, `null` when empty.
    #[serde(default)]
    pub body: Value,
}

/// A request and, once recorded, its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// What was sent.
    pub request: Request,
    /// What came back; absent when the conversation was interrupted after sending and before
    /// the answer was recorded (the vendor may or may not have acted on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
}

/// The customer's ids at this plugin's vendor, from the record's customer links (`tenor
/// link`): keys are the connector's own (`company`, `contact`, `customer`…, listed in its
/// README), values the vendor's ids. A connector that needs one that is absent refuses,
/// naming the key and the `tenor link` command that sets it; it never sends a placeholder.
pub type Accounts = BTreeMap<String, String>;

/// What is pushed: an accepted quote's documents, or a recorded change order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PushDocument {
    /// A purchase order, to its distributor.
    PurchaseOrder {
        /// The purchase order.
        purchase_order: Box<PurchaseOrder>,
    },
    /// The sales order and recurring template (agreement and additions), to the PSA.
    Sales {
        /// The sales order and template.
        sales: Box<SalesInput>,
    },
    /// A seat change recorded by `tenor change`: the distributor's subscription quantity or
    /// the PSA's addition follows it.
    Change {
        /// The change order, as Tenor recorded it (`tenor.change-order/…`).
        change_order: Value,
        /// What earlier pushes of this quote stored: the vendor's ids, by kind and line.
        pushed: Vec<VendorRef>,
    },
    /// Hardware serial numbers pulled from a distributor (Ingram invoice lines), to the PSA's
    /// product lines. Each serial's `line_ref` is the sales-order (quote) line the host
    /// recorded it against.
    Serials {
        /// The serials.
        serials: Vec<Serial>,
        /// What earlier pushes of this quote stored (the PSA's `product` ids, by quote line).
        pushed: Vec<VendorRef>,
    },
    /// A month's reconciliation's fixes to the PSA's recurring billing (`tenor reconcile
    /// --apply`), to the PSA the sales documents were pushed to. Protocol 7.
    Fixes {
        /// The reconciliation document's id (`FIX-…`).
        id: String,
        /// The fixes, by quote line.
        fixes: Vec<PsaFix>,
        /// What earlier pushes of this quote stored (the PSA's addition ids, by quote line).
        pushed: Vec<VendorRef>,
    },
}

/// The change to one line's PSA addition that makes it bill what was sold again, worked out by
/// `tenor reconcile --apply` from a month's findings. Protocol 7.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PsaFix {
    /// The quote (sales-order) line the addition bills.
    pub line: u32,
    /// The product's SKU: the addition's catalogue identifier.
    pub product: String,
    /// The units sold, which the addition bills from `effective`.
    pub quantity: Decimal,
    /// The units the reconciliation found the addition billing, when they are wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_found: Option<Decimal>,
    /// The unit price sold, which the addition bills from `effective`.
    pub unit_price: Decimal,
    /// The unit price the reconciliation found the addition billing, when it is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price_found: Option<Decimal>,
    /// The line's addition was cancelled before the sold end: one is added again.
    #[serde(default)]
    pub restore: bool,
    /// The first day billed as fixed: the start of the line's first billing period on or
    /// after the 1st of the month after the one reconciled. Periods already invoiced are not
    /// rebilled: what they billed wrong is for the MSP to settle by hand.
    pub effective: NaiveDate,
}

/// The input of [`crate::Plugin::push_step`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushInput {
    /// What to push.
    pub document: PushDocument,
    /// The customer's ids at this vendor.
    #[serde(default)]
    pub accounts: Accounts,
    /// Every exchange of this push so far, oldest first.
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
    /// The host's today (its record's clock), so a plugin can hold what must not start early
    /// without reading a clock itself; `None` from a host older than protocol 5. Protocol 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<NaiveDate>,
}

/// One of the vendor's ids a push created or found, stored in the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorRef {
    /// What it identifies: `order`, `subscription`, `agreement`, `addition`, `sales_order`,
    /// `product`, `cart`.
    pub kind: String,
    /// The vendor's id.
    pub id: String,
    /// The Tenor document line it belongs to (purchase-order or quote line), if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// The next step of a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PushStep {
    /// Send this request, then call again with its exchange appended.
    Send {
        /// The request.
        request: Request,
    },
    /// The push is complete: what the vendor now holds, by id.
    Done {
        /// The vendor's ids.
        refs: Vec<VendorRef>,
    },
    /// Nothing more can be sent before `until` (a vendor that starts what it is sent on the
    /// day it gets it): the conversation stays open and a run on or after that day resumes
    /// it with every exchange so far. Protocol 5.
    Wait {
        /// The first day on which the push can go on.
        until: NaiveDate,
        /// Why it waits, in words for the person running the push.
        why: String,
    },
}

/// What a pull reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullKind {
    /// The distributor's orders (by the references given).
    Orders,
    /// The distributor's subscriptions, or the PSA's agreements and additions.
    Subscriptions,
    /// Invoices of the month.
    Invoices,
}

/// The input of [`crate::Plugin::pull_step`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullInput {
    /// What to read.
    pub what: PullKind,
    /// The customer's ids at this vendor.
    #[serde(default)]
    pub accounts: Accounts,
    /// The month (`YYYY-MM`) for invoices, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// What earlier pushes stored (orders to read back by id).
    #[serde(default)]
    pub pushed: Vec<VendorRef>,
    /// Every exchange of this pull so far, oldest first.
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
}

/// A subscription (distributor) or a recurring addition (PSA), as the vendor holds it now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The vendor's id of the subscription or addition.
    pub id: String,
    /// The vendor's customer (company) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The Tenor reference it carries (PO or SO id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The PSA agreement it belongs to, for an addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// Part number, product id or catalogue identifier.
    pub part_number: String,
    /// Units held.
    pub quantity: Decimal,
    /// The vendor's status word (`Active`, `Cancelled`…).
    pub status: String,
    /// Commitment in Tenor's spelling (`P1M`, `P1Y`, `P3Y`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Billing in Tenor's spelling, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<String>,
    /// Start (or the addition's effective date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// End of the current term, exclusive (or the day after an addition's cancelled date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// What the MSP pays per unit and period, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Decimal>,
    /// What the customer is billed per unit and period, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// The distributor's commitment-term or plan id, as read (Pax8 `commitmentTerm.id`, TD
    /// SYNNEX `ccpPlanId`), if stated. Protocol 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// A hardware serial number the vendor reported against a line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serial {
    /// The Tenor reference of the document (PO id), if the vendor's document carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The line's reference in Tenor's document (the purchase-order line), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ref: Option<String>,
    /// The part number.
    pub part_number: String,
    /// The serial number.
    pub serial: String,
}

/// The next step of a pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PullStep {
    /// Send this request, then call again with its exchange appended.
    Send {
        /// The request.
        request: Request,
    },
    /// The pull is complete.
    Done {
        /// What was read.
        pulled: Pulled,
    },
}

/// What a pull read from the vendor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulled {
    /// Order lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderLine>,
    /// Subscriptions or additions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
    /// Invoice lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<InvoiceLine>,
    /// Serial numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serials: Vec<Serial>,
    /// What was read but looks wrong without being unreadable (an invoice whose lines do not
    /// add up to its stated net amount), for the host to show.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
