//! The simulated vendors' data: seedable from a JSON or YAML file, inspectable by tests.
//! Entities serialize in the vendor's own response shape (camelCase, money as JSON numbers).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Money fields: JSON numbers out (with their exact digits), strings or numbers in.
pub mod money {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::str::FromStr;

    /// Serializes a Decimal as a JSON number.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::Number::from_str(&d.normalize().to_string()) {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_str(&d.to_string()),
        }
    }

    /// Reads a Decimal from a number's text or a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let text = match &v {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(serde::de::Error::custom("expected a decimal number")),
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(serde::de::Error::custom)
    }
}

/// The whole simulated world.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimState {
    /// "Today" for every vendor (order dates, future-date checks); never the wall clock.
    pub today: Option<NaiveDate>,
    /// Credentials the simulators accept.
    #[serde(default)]
    pub credentials: Credentials,
    /// Pax8's data.
    #[serde(default)]
    pub pax8: Pax8State,
    /// Ingram Micro's data.
    #[serde(default)]
    pub ingram: IngramState,
    /// TD SYNNEX's data.
    #[serde(default)]
    pub tdsynnex: TdState,
    /// ConnectWise's data.
    #[serde(default)]
    pub connectwise: CwState,
    /// The counter behind every generated id.
    #[serde(default)]
    pub next_id: u64,
}

impl SimState {
    /// The simulated today (2026-12-01 when the state gives none).
    pub fn today(&self) -> NaiveDate {
        self.today
            .or_else(|| NaiveDate::from_ymd_opt(2026, 12, 1))
            .unwrap_or_default()
    }

    /// The next value of the id counter.
    pub fn bump(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// Credentials each simulator accepts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// Pax8 OAuth2 client id.
    pub pax8_client_id: String,
    /// Pax8 OAuth2 client secret.
    pub pax8_client_secret: String,
    /// Ingram OAuth2 client id.
    pub ingram_client_id: String,
    /// Ingram OAuth2 client secret.
    pub ingram_client_secret: String,
    /// TD SYNNEX refresh token (the SDK's v3 `refresh_token`).
    pub tdsynnex_refresh_token: String,
    /// ConnectWise company id (the `company` of `company+public:private`).
    pub connectwise_company: String,
    /// ConnectWise public key.
    pub connectwise_public_key: String,
    /// ConnectWise private key.
    pub connectwise_private_key: String,
    /// ConnectWise `clientId` header.
    pub connectwise_client_id: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            pax8_client_id: "pax8-client".into(),
            pax8_client_secret: "pax8-secret".into(),
            ingram_client_id: "ingram-client".into(),
            ingram_client_secret: "ingram-secret".into(),
            tdsynnex_refresh_token: "tdsynnex-refresh".into(),
            connectwise_company: "tenormsp".into(),
            connectwise_public_key: "cw-public".into(),
            connectwise_private_key: "cw-private".into(),
            connectwise_client_id: "cw-client-id".into(),
        }
    }
}

// ---------------------------------------------------------------- Pax8

/// Pax8's data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8State {
    /// The partner's name on invoices.
    #[serde(default)]
    pub partner_name: String,
    /// End-customer companies.
    #[serde(default)]
    pub companies: Vec<Pax8Company>,
    /// The catalogue.
    #[serde(default)]
    pub products: Vec<Pax8Product>,
    /// Subscriptions (orders create them).
    #[serde(default)]
    pub subscriptions: Vec<Pax8Subscription>,
    /// Orders placed.
    #[serde(default)]
    pub orders: Vec<Pax8Order>,
    /// Invoices issued by `bill`.
    #[serde(default)]
    pub invoices: Vec<Pax8Invoice>,
}

/// A Pax8 company (`GET /companies`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Company {
    /// uuid.
    pub id: String,
    /// Company name.
    pub name: String,
    /// The company's id in the MSP's PSA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `Active`…
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "Active".into()
}

/// A Pax8 product with its commitment terms and prices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Product {
    /// uuid.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Vendor name.
    #[serde(default)]
    pub vendor_name: String,
    /// Pax8 sku (`MST-NCE-…`).
    pub sku: String,
    /// NCE products require a commitment term id on order.
    #[serde(default)]
    pub requires_commitment: bool,
    /// `GET /products/{id}/dependencies` `commitmentDependencies[]`.
    #[serde(default)]
    pub commitments: Vec<Pax8Commitment>,
    /// Prices per billing term and commitment term.
    #[serde(default)]
    pub prices: Vec<Pax8Price>,
}

/// A commitment term (`Commitment` in the products spec).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Commitment {
    /// uuid.
    pub id: String,
    /// `Monthly`, `1-Year`, `3-Year`.
    pub term: String,
}

/// What a product costs the partner and what Pax8 suggests to the customer, per billing
/// period of `billing_term` (a month for `Monthly`, a year for `Annual`, the term for `3-Year`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Price {
    /// `Monthly`, `Annual`, `3-Year`, `One-Time`…
    pub billing_term: String,
    /// The commitment term this price is for (`1-Year`…); none for products without.
    #[serde(default)]
    pub commitment_term: Option<String>,
    /// Partner cost per unit per billing period.
    #[serde(with = "money")]
    pub cost: Decimal,
    /// Customer price per unit per billing period.
    #[serde(with = "money")]
    pub price: Decimal,
}

/// A Pax8 subscription (`GET /subscriptions`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Subscription {
    /// uuid.
    pub id: String,
    /// Company uuid.
    pub company_id: String,
    /// Product uuid.
    pub product_id: String,
    /// Seats.
    pub quantity: i64,
    /// `Active`, `Cancelled`…
    pub status: String,
    /// How often Pax8 bills.
    pub billing_term: String,
    /// The commitment.
    #[serde(default)]
    pub commitment_term: Option<Pax8SubCommitment>,
    /// First day of service.
    pub start_date: NaiveDate,
    /// Last day of the commitment, if any.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Customer price per unit per billing period.
    #[serde(with = "money")]
    pub price: Decimal,
    /// Partner cost per unit per billing period.
    #[serde(with = "money")]
    pub partner_cost: Decimal,
}

/// A subscription's commitment: `{id, term, endDate}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8SubCommitment {
    /// Commitment term uuid.
    pub id: String,
    /// `1-Year`…
    pub term: String,
    /// Last day of the commitment.
    pub end_date: NaiveDate,
}

/// A Pax8 order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Order {
    /// uuid.
    pub id: String,
    /// Company uuid.
    pub company_id: String,
    /// The simulated day it was placed.
    pub created_date: NaiveDate,
    /// `Pax8 Partner`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_by: Option<String>,
    /// Who ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_by_user_email: Option<String>,
    /// Always false: future-dated orders are refused.
    #[serde(default)]
    pub is_scheduled: bool,
    /// Lines.
    pub line_items: Vec<Pax8OrderLine>,
}

/// A Pax8 order line as responses show it (no `lineItemNumber`: it is write-only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8OrderLine {
    /// uuid.
    pub id: String,
    /// Product uuid.
    pub product_id: String,
    /// The subscription the line created.
    pub subscription_id: String,
    /// Commitment term uuid sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_term_id: Option<String>,
    /// Start of provisioning.
    pub provision_start_date: String,
    /// Billing term sent.
    pub billing_term: String,
    /// Quantity sent.
    pub quantity: i64,
}

/// A Pax8 invoice with its items.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pax8Invoice {
    /// uuid.
    pub id: String,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// `Unpaid`…
    pub status: String,
    /// What Pax8 charges the partner.
    #[serde(with = "money")]
    pub total: Decimal,
    /// Unpaid amount.
    #[serde(with = "money")]
    pub balance: Decimal,
    /// Currency.
    pub currency_code: String,
    /// Partner name.
    pub partner_name: String,
    /// Items (`GET /invoices/{id}/items`), not part of the invoice's own response.
    #[serde(default)]
    pub items: Vec<Value>,
}

// ---------------------------------------------------------------- Ingram

/// Ingram Micro's data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngramState {
    /// The reseller's `IM-CustomerNumber`.
    #[serde(default)]
    pub customer_number: String,
    /// The catalogue.
    #[serde(default)]
    pub products: Vec<IngramProduct>,
    /// Orders (each with its lines as `GET /resellers/v6.1/orders/{n}` shows them).
    #[serde(default)]
    pub orders: Vec<Value>,
    /// Invoices.
    #[serde(default)]
    pub invoices: Vec<Value>,
    /// Ingram order numbers already invoiced.
    #[serde(default)]
    pub invoiced_orders: Vec<String>,
}

/// An Ingram part.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngramProduct {
    /// Ingram part number (≤18).
    pub ingram_part_number: String,
    /// Manufacturer part number.
    #[serde(default)]
    pub vendor_part_number: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Reseller price.
    #[serde(with = "money")]
    pub unit_price: Decimal,
    /// Hardware that ships with serial numbers.
    #[serde(default)]
    pub serialized: bool,
}

// ---------------------------------------------------------------- TD SYNNEX

/// TD SYNNEX StreamOne Ion's data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TdState {
    /// The reseller account id in every path.
    #[serde(default)]
    pub account_id: String,
    /// Customers.
    #[serde(default)]
    pub customers: Vec<TdCustomer>,
    /// Catalogue products with their skus and plans.
    #[serde(default)]
    pub products: Vec<TdProduct>,
    /// Carts (not published: the simulator's shape).
    #[serde(default)]
    pub carts: Vec<Value>,
    /// Orders.
    #[serde(default)]
    pub orders: Vec<Value>,
    /// Subscriptions.
    #[serde(default)]
    pub subscriptions: Vec<Value>,
}

/// A TD SYNNEX customer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TdCustomer {
    /// Customer id.
    pub id: String,
    /// Organisation name.
    pub customer_organization: String,
    /// Contact name.
    #[serde(default)]
    pub customer_name: String,
    /// Contact email.
    #[serde(default)]
    pub customer_email: String,
}

/// A catalogue product (`definition.skus[].plans[]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TdProduct {
    /// TD SYNNEX product id (`…-smp`).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Skus.
    pub skus: Vec<TdSku>,
}

/// A sku of a TD SYNNEX product.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TdSku {
    /// `sku--…`.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Microsoft's product id (`subscriptionProductId`).
    #[serde(default)]
    pub provider_product_id: String,
    /// Microsoft's sku id (`subscriptionSkuId`).
    #[serde(default)]
    pub provider_sku_id: String,
    /// Plans.
    pub plans: Vec<TdPlan>,
}

/// A plan: a commitment and a billing period with its price.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TdPlan {
    /// `plan--…` or `Standard-Monthly-Plan`.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// `MONTHLY`, `ANNUAL`…
    pub billing_period: String,
    /// `P1M`, `P1Y`, `P3Y`.
    pub term_duration: String,
    /// Customer price per billing period.
    #[serde(with = "money")]
    pub price: Decimal,
    /// Reseller cost per billing period.
    #[serde(with = "money")]
    pub cost: Decimal,
}

// ---------------------------------------------------------------- ConnectWise

/// ConnectWise Manage's data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwState {
    /// Companies.
    #[serde(default)]
    pub companies: Vec<CwCompany>,
    /// Contacts.
    #[serde(default)]
    pub contacts: Vec<CwContact>,
    /// `GET /finance/billingCycles`.
    #[serde(default)]
    pub billing_cycles: Vec<CwNamed>,
    /// Agreement types.
    #[serde(default)]
    pub agreement_types: Vec<CwNamed>,
    /// Sales order statuses.
    #[serde(default)]
    pub order_statuses: Vec<CwNamed>,
    /// Members (sales reps).
    #[serde(default)]
    pub members: Vec<CwMember>,
    /// Catalogue items (`product {id|identifier}`, `catalogItem`).
    #[serde(default)]
    pub catalog_items: Vec<CwCatalogItem>,
    /// Agreements.
    #[serde(default)]
    pub agreements: Vec<Value>,
    /// Agreement additions (each with its `agreementId`).
    #[serde(default)]
    pub additions: Vec<Value>,
    /// Sales orders.
    #[serde(default)]
    pub sales_orders: Vec<Value>,
    /// Procurement products.
    #[serde(default)]
    pub products: Vec<Value>,
    /// Invoices.
    #[serde(default)]
    pub invoices: Vec<Value>,
}

/// A ConnectWise company.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwCompany {
    /// Integer id.
    pub id: i64,
    /// Short identifier.
    pub identifier: String,
    /// Name.
    pub name: String,
    /// Default contact id.
    #[serde(default)]
    pub default_contact_id: Option<i64>,
}

/// A ConnectWise contact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwContact {
    /// Integer id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// The company it belongs to.
    pub company_id: i64,
}

/// An `{id, name}` reference list entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwNamed {
    /// Integer id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A member (`salesRep`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwMember {
    /// Integer id.
    pub id: i64,
    /// Login identifier.
    pub identifier: String,
    /// Full name.
    pub name: String,
}

/// A catalogue item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CwCatalogItem {
    /// Integer id.
    pub id: i64,
    /// Identifier (the catalogue id Tenor's rules carry).
    pub identifier: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}
