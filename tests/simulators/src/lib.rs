//! Local simulators of the vendor APIs Tenor's connectors talk to — Pax8, Ingram Micro v6,
//! TD SYNNEX StreamOne Ion v3 and ConnectWise Manage — written from `shared/VENDORS.md` and the
//! vendors' published specs and SDKs, never from the connectors, so that they catch the
//! connectors' mistakes. Each serves on 127.0.0.1 with an ephemeral port, validates every
//! request field by field, keeps state, bills by the vendor's rules, and takes injected faults
//! and drift. See README.md beside this crate.

#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json::Value reads Null for a missing key or a non-container; it never panics"
)]

pub mod common;
pub mod connectwise;
pub mod ingram;
pub mod pax8;
pub mod state;
pub mod tdsynnex;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use chrono::NaiveDate;
use serde_json::Value;

pub use common::{Fault, FaultKind, Received, Vendor};
pub use state::SimState;

use common::{App, Shared, lock};

/// Why the simulators could not start, load a state or bill.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A socket or runtime could not be set up.
    #[error("cannot start the simulators: {0}")]
    Start(#[from] std::io::Error),
    /// A state file could not be read or parsed.
    #[error("cannot read state {path}: {message}")]
    State {
        /// The file.
        path: String,
        /// What went wrong (with line and column where the parser gives them).
        message: String,
    },
    /// A month was not `YYYY-MM`.
    #[error("not a month (YYYY-MM): {0:?}")]
    Month(String),
    /// Something a test asked for does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// The base URLs of the four servers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BaseUrls {
    /// Pax8 (`POST {base}/token`, `{base}/orders`…).
    pub pax8: String,
    /// Ingram Micro (`{base}/oauth/oauth20/token`, `{base}/resellers/v6/orders`…).
    pub ingram: String,
    /// TD SYNNEX (`{base}/oauth/token`, `{base}/api/v3/accounts/{a}/…`).
    pub tdsynnex: String,
    /// ConnectWise (`{base}/company/companies`…).
    pub connectwise: String,
}

/// The four simulators, running on a background thread until dropped.
pub struct Simulators {
    shared: App,
    urls: BaseUrls,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Simulators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulators")
            .field("urls", &self.urls)
            .finish()
    }
}

fn vendor_router(app: &App, vendor: Vendor) -> Router {
    let routes = match vendor {
        Vendor::Pax8 => pax8::router(),
        Vendor::Ingram => ingram::router(),
        Vendor::Tdsynnex => tdsynnex::router(),
        Vendor::Connectwise => connectwise::router(),
    };
    routes
        .layer(axum::middleware::from_fn_with_state(
            (app.clone(), vendor),
            common::fault_layer,
        ))
        .with_state(app.clone())
}

impl Simulators {
    /// Starts all four with the example state (`example-state.yaml` in this crate).
    pub fn start() -> Result<Self, SimError> {
        Self::with_state(example_state()?)
    }

    /// Starts all four with a given state.
    pub fn with_state(state: SimState) -> Result<Self, SimError> {
        let shared = Arc::new(Shared {
            world: std::sync::Mutex::new(state),
            ..Shared::default()
        });
        let vendors = [
            Vendor::Pax8,
            Vendor::Ingram,
            Vendor::Tdsynnex,
            Vendor::Connectwise,
        ];
        let mut listeners = Vec::new();
        for v in vendors {
            let l = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
            l.set_nonblocking(true)?;
            listeners.push((v, l));
        }
        let url = |v: Vendor| -> Result<String, SimError> {
            let l = listeners
                .iter()
                .find(|(x, _)| *x == v)
                .map(|(_, l)| l)
                .ok_or_else(|| SimError::NotFound(v.key().into()))?;
            Ok(format!("http://{}", l.local_addr()?))
        };
        let urls = BaseUrls {
            pax8: url(Vendor::Pax8)?,
            ingram: url(Vendor::Ingram)?,
            tdsynnex: url(Vendor::Tdsynnex)?,
            connectwise: url(Vendor::Connectwise)?,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tenor-simulators".into())
            .spawn(move || runtime.block_on(serve(app, listeners, stopped)))?;
        Ok(Self {
            shared,
            urls,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The base URLs.
    pub fn urls(&self) -> &BaseUrls {
        &self.urls
    }

    /// Runs a closure on the world (inspect, seed, drift), under the lock.
    pub fn with_world<T>(&self, f: impl FnOnce(&mut SimState) -> T) -> T {
        f(&mut lock(&self.shared.world))
    }

    /// A copy of the whole world, as JSON in the state file's shape.
    pub fn snapshot(&self) -> Value {
        serde_json::to_value(&*lock(&self.shared.world)).unwrap_or_default()
    }

    /// Sets the simulated today.
    pub fn set_today(&self, day: NaiveDate) {
        self.with_world(|w| w.today = Some(day));
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// How many armed faults have not yet caught a request (each counted `times` times).
    pub fn armed(&self) -> u32 {
        lock(&self.shared.faults).iter().map(|f| f.times).sum()
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.log).clone()
    }

    /// Issues the invoices of month `YYYY-MM` at every vendor: Pax8's invoice dated the month's
    /// 1st, Ingram's invoices for orders placed up to the month's end, ConnectWise's agreement
    /// invoices for the month and invoices of its sales orders. Returns the invoice ids made.
    pub fn bill(&self, month: &str) -> Result<Vec<String>, SimError> {
        let start = common::month_start(month).ok_or_else(|| SimError::Month(month.into()))?;
        self.with_world(|w| {
            let mut ids = Vec::new();
            ids.extend(pax8::bill(w, start));
            ids.extend(ingram::bill(w, start));
            ids.extend(connectwise::bill(w, start));
            Ok(ids)
        })
    }

    /// How many Pax8 orders a company has.
    pub fn pax8_orders_for(&self, company_id: &str) -> usize {
        self.with_world(|w| {
            w.pax8
                .orders
                .iter()
                .filter(|o| o.company_id == company_id)
                .count()
        })
    }

    /// How many Ingram orders carry this `customerOrderNumber`.
    pub fn ingram_orders_for(&self, customer_order_number: &str) -> usize {
        self.with_world(|w| {
            documents_with(
                &w.ingram.orders,
                "customerOrderNumber",
                customer_order_number,
            )
        })
    }

    /// How many TD SYNNEX orders were checked out with this reseller PO.
    pub fn tdsynnex_orders_for(&self, reseller_po: &str) -> usize {
        self.with_world(|w| documents_with(&w.tdsynnex.orders, "resellerPo", reseller_po))
    }

    /// How many ConnectWise sales orders carry this `poNumber`.
    pub fn cw_sales_orders_for(&self, po_number: &str) -> usize {
        self.with_world(|w| documents_with(&w.connectwise.sales_orders, "poNumber", po_number))
    }

    /// How many ConnectWise agreements carry this `customerPO`.
    pub fn cw_agreements_for(&self, customer_po: &str) -> usize {
        self.with_world(|w| documents_with(&w.connectwise.agreements, "customerPO", customer_po))
    }

    /// Drift: a Pax8 subscription's quantity changes behind Tenor's back.
    pub fn drift_pax8_quantity(
        &self,
        subscription_id: &str,
        quantity: i64,
    ) -> Result<(), SimError> {
        self.with_world(|w| {
            let s = w
                .pax8
                .subscriptions
                .iter_mut()
                .find(|s| s.id == subscription_id)
                .ok_or_else(|| {
                    SimError::NotFound(format!("no Pax8 subscription {subscription_id}"))
                })?;
            s.quantity = quantity;
            Ok(())
        })
    }

    /// Drift: a Pax8 subscription's partner cost changes.
    pub fn drift_pax8_cost(
        &self,
        subscription_id: &str,
        cost: rust_decimal::Decimal,
    ) -> Result<(), SimError> {
        self.with_world(|w| {
            let s = w
                .pax8
                .subscriptions
                .iter_mut()
                .find(|s| s.id == subscription_id)
                .ok_or_else(|| {
                    SimError::NotFound(format!("no Pax8 subscription {subscription_id}"))
                })?;
            s.partner_cost = cost;
            Ok(())
        })
    }

    /// Drift: a Pax8 subscription renews for another commitment (its commitment end and end
    /// a year later; its first start kept, as Pax8 shows it) at a new partner cost.
    pub fn drift_pax8_renew(
        &self,
        subscription_id: &str,
        cost: rust_decimal::Decimal,
    ) -> Result<(), SimError> {
        self.with_world(|w| {
            let s = w
                .pax8
                .subscriptions
                .iter_mut()
                .find(|s| s.id == subscription_id)
                .ok_or_else(|| {
                    SimError::NotFound(format!("no Pax8 subscription {subscription_id}"))
                })?;
            let year = |d: NaiveDate| d.checked_add_months(chrono::Months::new(12)).unwrap_or(d);
            if let Some(c) = s.commitment_term.as_mut() {
                c.end_date = year(c.end_date);
            }
            s.end_date = s.end_date.map(year);
            s.partner_cost = cost;
            Ok(())
        })
    }

    /// Drift: a subscription appears at Pax8 for a company Tenor does not know (the company is
    /// added to Pax8's list). Returns the subscription id.
    pub fn drift_pax8_unknown_subscription(
        &self,
        product_id: &str,
        quantity: i64,
    ) -> Result<String, SimError> {
        self.with_world(|w| {
            let product = w
                .pax8
                .products
                .iter()
                .find(|p| p.id == product_id)
                .cloned()
                .ok_or_else(|| SimError::NotFound(format!("no Pax8 product {product_id}")))?;
            let company = common::uuid_from(0x9a80_00ff, w.bump());
            w.pax8.companies.push(state::Pax8Company {
                id: company.clone(),
                name: "Unknown Holdings".into(),
                external_id: None,
                status: "Active".into(),
            });
            let price = product.prices.first().cloned();
            let id = common::uuid_from(0x9a80_0003, w.bump());
            let start = w.today();
            w.pax8.subscriptions.push(state::Pax8Subscription {
                id: id.clone(),
                company_id: company,
                product_id: product.id,
                quantity,
                status: "Active".into(),
                billing_term: price
                    .as_ref()
                    .map_or_else(|| "Monthly".into(), |p| p.billing_term.clone()),
                commitment_term: None,
                start_date: start,
                end_date: None,
                price: price.as_ref().map(|p| p.price).unwrap_or_default(),
                partner_cost: price.as_ref().map(|p| p.cost).unwrap_or_default(),
            });
            Ok(id)
        })
    }

    /// Drift: a ConnectWise addition is cancelled on a day.
    pub fn drift_cancel_addition(&self, addition_id: i64, day: NaiveDate) -> Result<(), SimError> {
        let day = Value::String(format!("{day}T00:00:00Z"));
        self.drift_addition_field(addition_id, "cancelledDate", day)
    }

    /// Drift: one field of a ConnectWise addition is set by hand.
    fn drift_addition_field(&self, addition_id: i64, key: &str, v: Value) -> Result<(), SimError> {
        self.with_world(|w| {
            let a = w
                .connectwise
                .additions
                .iter_mut()
                .find(|a| a["id"] == addition_id)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    SimError::NotFound(format!("no ConnectWise addition {addition_id}"))
                })?;
            a.insert(key.into(), v);
            Ok(())
        })
    }

    /// Drift: an addition appears on a ConnectWise agreement (a technician bills a product by
    /// hand), effective on a day, for a catalogue item of the state. Returns its id.
    pub fn drift_add_addition(
        &self,
        agreement_id: i64,
        identifier: &str,
        quantity: i64,
        unit_price: rust_decimal::Decimal,
        effective: NaiveDate,
    ) -> Result<i64, SimError> {
        self.with_world(|w| {
            let product = w
                .connectwise
                .catalog_items
                .iter()
                .find(|p| p.identifier == identifier)
                .map(|p| p.id)
                .ok_or_else(|| {
                    SimError::NotFound(format!("no ConnectWise catalogue item {identifier}"))
                })?;
            if !w
                .connectwise
                .agreements
                .iter()
                .any(|a| a["id"] == agreement_id)
            {
                return Err(SimError::NotFound(format!(
                    "no ConnectWise agreement {agreement_id}"
                )));
            }
            let id = i64::try_from(5000 + w.bump()).unwrap_or_default();
            w.connectwise.additions.push(serde_json::json!({
                "id": id, "agreementId": agreement_id,
                "product": {"id": product, "identifier": identifier},
                "quantity": quantity, "unitPrice": common::num(unit_price),
                "billCustomer": "Billable",
                "effectiveDate": format!("{effective}T00:00:00Z"),
                "prorateCurrentPeriodFlag": false,
            }));
            Ok(id)
        })
    }

    /// Drift: a ConnectWise addition's unit price changes (from its next invoice on).
    pub fn drift_addition_price(
        &self,
        addition_id: i64,
        unit_price: rust_decimal::Decimal,
    ) -> Result<(), SimError> {
        self.drift_addition_field(addition_id, "unitPrice", common::num(unit_price))
    }

    /// Drift: a ConnectWise addition's quantity changes.
    pub fn drift_addition_quantity(&self, addition_id: i64, quantity: i64) -> Result<(), SimError> {
        self.drift_addition_field(addition_id, "quantity", Value::from(quantity))
    }
}

async fn serve(
    app: App,
    listeners: Vec<(Vendor, std::net::TcpListener)>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let mut tasks = Vec::new();
    for (vendor, l) in listeners {
        let Ok(listener) = tokio::net::TcpListener::from_std(l) else {
            continue;
        };
        let router = vendor_router(&app, vendor);
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }
    let _ = stopped.await;
    for t in tasks {
        t.abort();
    }
}

impl Drop for Simulators {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How many of `docs` hold `value` in their field `field`.
fn documents_with(docs: &[Value], field: &str, value: &str) -> usize {
    docs.iter().filter(|d| d[field] == value).count()
}

/// The example state shipped with the crate (the example rules' products and customers).
pub fn example_state() -> Result<SimState, SimError> {
    parse_state("example-state.yaml", include_str!("../example-state.yaml"))
}

/// Reads a state from a JSON or YAML file.
pub fn load_state(path: &Path) -> Result<SimState, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::State {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_state(&path.display().to_string(), &text)
}

fn parse_state(path: &str, text: &str) -> Result<SimState, SimError> {
    let is_json = text.trim_start().starts_with('{');
    let parsed = if is_json {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|message| SimError::State {
        path: path.into(),
        message,
    })
}
