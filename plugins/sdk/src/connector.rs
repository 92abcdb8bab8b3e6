//! What every connector needs besides its vendor's own fields: its description, its rendered
//! files, the checks a purchase order passes before any vendor field is filled, the way every
//! problem of a document is reported at once, and readers of the numbers and dates vendors send.
//! A connector built on these states only what is specific to its vendor.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use crate::docs::{PurchaseOrder, PurchaseOrderLine};
use crate::{Capability, Kind, PROTOCOL_VERSION, PluginError, PluginInfo, Rendered};

impl PluginInfo {
    /// A distributor connector's description; `name` is also the distributor it serves in rule
    /// files (`route … via name`). Pass `env!("CARGO_PKG_VERSION")` as `version`.
    pub fn distributor(name: &str, version: &str, capabilities: &[Capability]) -> PluginInfo {
        PluginInfo {
            distributor: Some(name.to_string()),
            ..PluginInfo::new(name, version, Kind::Distributor, capabilities)
        }
    }

    /// A PSA connector's description. Pass `env!("CARGO_PKG_VERSION")` as `version`.
    pub fn psa(name: &str, version: &str, capabilities: &[Capability]) -> PluginInfo {
        PluginInfo::new(name, version, Kind::Psa, capabilities)
    }

    /// A description built with this SDK's [`PROTOCOL_VERSION`] and no distributor.
    fn new(name: &str, version: &str, kind: Kind, capabilities: &[Capability]) -> PluginInfo {
        PluginInfo {
            name: name.to_string(),
            version: version.to_string(),
            kind,
            capabilities: capabilities.to_vec(),
            protocol: PROTOCOL_VERSION,
            distributor: None,
            link_keys: Vec::new(),
        }
    }

    /// The same description, declaring the link keys the connector reads.
    pub fn with_link_keys(mut self, keys: &[&str]) -> PluginInfo {
        self.link_keys = keys.iter().map(|k| (*k).to_string()).collect();
        self
    }
}

impl Rendered {
    /// A document of any format: `name` without extension, and its text.
    pub fn new(name: impl Into<String>, extension: &str, body: String) -> Rendered {
        Rendered {
            name: name.into(),
            extension: extension.to_string(),
            body,
        }
    }

    /// A JSON document, pretty-printed and ending with a newline, so that it diffs well and
    /// `cat` leaves the prompt on a line of its own.
    pub fn json<T: Serialize>(name: impl Into<String>, doc: &T) -> Result<Rendered, PluginError> {
        let mut body = serde_json::to_string_pretty(doc).map_err(|e| invalid(e.to_string()))?;
        body.push('\n');
        Ok(Rendered::new(name, "json", body))
    }
}

/// [`PluginError::Invalid`] with a message.
pub fn invalid(message: impl Into<String>) -> PluginError {
    PluginError::Invalid(message.into())
}

/// The problems found in one document, gathered so that every one is reported at once and a
/// single fix-up pass is enough.
#[derive(Debug, Default)]
pub struct Problems(Vec<PluginError>);

impl Problems {
    /// The value of `r`, or `None` with its error noted.
    pub fn note<T>(&mut self, r: Result<T, PluginError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    /// `value` when no problem was noted; else every problem in one message, one per line.
    pub fn or_value<T>(self, value: Option<T>) -> Result<T, PluginError> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => {
                let text: Vec<String> = self.0.into_iter().map(|p| p.to_string()).collect();
                Err(invalid(text.join("\n")))
            }
        }
    }
}

/// Refuses a purchase order meant for another distributor or with nothing to buy.
pub fn check_purchase_order(po: &PurchaseOrder, distributor: &str) -> Result<(), PluginError> {
    if po.distributor != distributor {
        return Err(invalid(format!(
            "purchase order `{}` is for distributor `{}`, not `{distributor}`",
            po.id, po.distributor
        )));
    }
    if po.lines.is_empty() {
        return Err(invalid(format!("purchase order `{}` has no lines", po.id)));
    }
    Ok(())
}

/// A whole, positive number of units.
pub fn whole_units(q: Decimal) -> Option<u64> {
    if q.fract().is_zero() && q >= Decimal::ONE {
        q.to_u64()
    } else {
        None
    }
}

/// A purchase order line's quantity as a JSON number of whole units; a fraction is refused
/// rather than rounded, with `why` (the vendor's reason) at the end of the message.
pub fn whole_quantity(l: &PurchaseOrderLine, why: &str) -> Result<Number, PluginError> {
    whole_units(l.quantity).map(Number::from).ok_or_else(|| {
        invalid(format!(
            "line {} ({}): quantity {} is not a whole number of at least 1; {why}",
            l.line, l.product, l.quantity
        ))
    })
}

/// A quantity read back from a vendor's order: a whole number of at least 1, exactly; `at`
/// names the field in the error.
pub fn read_whole_units(n: &Number, at: &str) -> Result<Decimal, PluginError> {
    crate::json_decimal(n)
        .filter(|q| whole_units(*q).is_some())
        .ok_or_else(|| invalid(format!("{at} {n} is not a whole number of at least 1")))
}

/// A vendor's JSON document; `what` says what it should have been (`a Pax8 order`).
pub fn read_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, PluginError> {
    serde_json::from_str(text).map_err(|e| invalid(format!("not {what}: {e}")))
}

/// A JSON number, or a number written as a string, as an exact Decimal.
pub fn value_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => crate::json_decimal(n),
        Value::String(s) => crate::exact_decimal(s),
        _ => None,
    }
}

/// `YYYY-MM-DD`, or a date-time whose first ten characters are one.
pub fn date_prefix(text: &str) -> Option<NaiveDate> {
    text.get(..10)?.parse().ok()
}

/// A seat change's `effective` day when it is after the host's today and nothing was sent yet
/// (once started, a change is finished whatever the clock says): a distributor that applies a
/// quantity change on receipt must not get it early.
pub fn change_not_before(
    input: &crate::exchange::PushInput,
    change: &Value,
) -> Result<Option<NaiveDate>, PluginError> {
    let Some(today) = input.today else {
        return Ok(None);
    };
    let effective = change
        .get("effective")
        .and_then(Value::as_str)
        .and_then(date_prefix)
        .ok_or_else(|| invalid("the change order's `effective` is not a date"))?;
    Ok((effective > today && input.exchanges.is_empty()).then_some(effective))
}

/// The first and last day of a month given as `YYYY-MM` (a pull's `--month`).
pub fn month_days(month: &str) -> Result<(NaiveDate, NaiveDate), PluginError> {
    let bad = || invalid(format!("month `{month}` is not YYYY-MM"));
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(bad)?;
    Ok((first, last))
}

/// The end of a period whose last day billed is `last_day`: vendors print the last day,
/// Tenor's periods end the day after.
pub fn period_end(last_day: NaiveDate) -> Option<NaiveDate> {
    last_day.checked_add_days(Days::new(1))
}

/// Billing frequency from a billed period's length, when it is a whole month, quarter or year.
pub fn billing_from_period(start: NaiveDate, end: NaiveDate) -> Option<&'static str> {
    match (end - start).num_days() {
        28..=31 => Some("monthly"),
        89..=92 => Some("quarterly"),
        365..=366 => Some("annual"),
        _ => None,
    }
}
