//! Sample documents to develop and test a connector against: real output of `tenor accept`
//! (the example rules of Tenor's repository and `samples/source/quote.yaml`), not hand-written
//! JSON. A purchase order for each first-party distributor, several lines each (P1M, P1Y and
//! P3Y commitments billed monthly, annually and upfront, co-termed first terms, bundle
//! components, one-time hardware, metered usage), and the sales order with its recurring
//! template as a PSA connector receives them. `tenor plugins test` runs a plugin on these.

use crate::SalesInput;
use crate::docs::PurchaseOrder;

/// The distributor of [`PURCHASE_ORDER`], which [`purchase_order_for`] readdresses to any other.
pub const DEFAULT_DISTRIBUTOR: &str = "pax8";

/// The Pax8 purchase order (`tenor.purchase-order/2`), the one with the most kinds of line.
pub const PURCHASE_ORDER: &str = include_str!("../samples/purchase-order-pax8.json");

/// Every sample purchase order: (distributor, JSON text), sorted by distributor.
pub const PURCHASE_ORDERS: &[(&str, &str)] = &[
    (
        "ingram",
        include_str!("../samples/purchase-order-ingram.json"),
    ),
    (DEFAULT_DISTRIBUTOR, PURCHASE_ORDER),
    (
        "tdsynnex",
        include_str!("../samples/purchase-order-tdsynnex.json"),
    ),
];

/// What a PSA connector renders from (`SalesInput`: the sales order and recurring template).
pub const SALES_INPUT: &str = include_str!("../samples/sales-input.json");

/// The quote the samples are made from (YAML).
pub const SOURCE_QUOTE: &str = include_str!("../samples/source/quote.yaml");

/// The rule file read before the example rules to make them (routes for TD SYNNEX).
pub const SOURCE_ROUTES: &str = include_str!("../samples/source/routes.tenor");

/// The sample purchase order of `distributor`, if there is one.
pub fn purchase_order(distributor: &str) -> Option<Result<PurchaseOrder, serde_json::Error>> {
    PURCHASE_ORDERS
        .iter()
        .find(|(d, _)| *d == distributor)
        .map(|(_, text)| serde_json::from_str(text))
}

/// The sample customer's links at each connector's vendor (`tenor link CUST-SAMPLE --pax8
/// company=…`), as the host fills [`crate::docs::Customer::accounts`] in what it sends a
/// plugin. The sample files are recorded documents, which never carry links.
pub const SAMPLE_ACCOUNTS: &[(&str, &[(&str, &str)])] = &[
    (
        "pax8",
        &[("company", "f7fc273a-8d86-45c9-a26f-ffd42416adda")],
    ),
    (
        "tdsynnex",
        &[
            ("account", "TD-ACCT-100245"),
            ("customer", "TD-CUST-778812"),
        ],
    ),
];

/// The sample customer's links at `distributor`'s vendor (empty when it has none).
pub fn sample_accounts(distributor: &str) -> crate::exchange::Accounts {
    SAMPLE_ACCOUNTS
        .iter()
        .filter(|(d, _)| *d == distributor)
        .flat_map(|(_, kv)| kv.iter())
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// A purchase order for `distributor`, with the sample customer's links at it: its own
/// sample, else the Pax8 one readdressed (its distributor, display name and id changed; part
/// numbers stay Pax8's, which a new connector passes through unchanged).
pub fn purchase_order_for(distributor: &str) -> Result<PurchaseOrder, serde_json::Error> {
    if let Some(po) = purchase_order(distributor) {
        let mut po = po?;
        po.customer.accounts = sample_accounts(distributor);
        return Ok(po);
    }
    let mut po: PurchaseOrder = serde_json::from_str(PURCHASE_ORDER)?;
    po.id = match po.id.strip_suffix(DEFAULT_DISTRIBUTOR) {
        Some(stem) => format!("{stem}{distributor}"),
        None => format!("{}-{distributor}", po.id),
    };
    po.distributor = distributor.to_string();
    po.distributor_name = None;
    Ok(po)
}

/// The sample sales order and recurring template.
pub fn sales_input() -> Result<SalesInput, serde_json::Error> {
    serde_json::from_str(SALES_INPUT)
}
