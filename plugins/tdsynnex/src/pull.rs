//! Pulling from StreamOne Ion: the customer's subscriptions and the orders a push stored.
//! Billing arrives as a CSV report (`BILLING_REPORTS`) whose columns TD SYNNEX does not
//! publish: it is read with `parse_invoice` from the file, not pulled.

use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::exchange::{Effect, Method, PullInput, PullKind, PullStep, Pulled, Request};

use crate::cart::{customer_root, order_lines, subscriptions};

/// Subscriptions asked for per page (the SDK's `pagination.limit`; the API takes up to 1000).
const PAGE: usize = 200;

fn get(path: String, query: Vec<(String, String)>, purpose: String) -> PullStep {
    PullStep::Send {
        request: Request {
            method: Method::Get,
            path,
            query,
            headers: Vec::new(),
            body: None,
            effect: Effect::Read,
            purpose,
        },
    }
}

fn answer<'i>(input: &'i PullInput, path: &str, query: &[(String, String)]) -> Option<&'i Value> {
    input
        .exchanges
        .iter()
        .find(|e| e.request.path == path && e.request.query == query)
        .and_then(|e| e.response.as_ref())
        .map(|r| &r.body)
}

/// The customer's subscriptions, page by page: the SDK's `list_subscriptions` is an account
/// list (`GET accounts/{a}/subscriptions?customerId=…&pagination.limit&pagination.offset`,
/// `{items}`), there is no per-customer path.
fn customer_subscriptions(
    input: &PullInput,
    root: &str,
) -> Result<Result<Pulled, PullStep>, PluginError> {
    let (account, customer) = root
        .rsplit_once("/customers/")
        .ok_or_else(|| invalid(format!("not a customer path: {root}")))?;
    let path = format!("{account}/subscriptions");
    let mut pulled = Pulled::default();
    for page in 0usize.. {
        let query = vec![
            ("customerId".to_string(), customer.to_string()),
            ("pagination.limit".to_string(), PAGE.to_string()),
            ("pagination.offset".to_string(), (page * PAGE).to_string()),
        ];
        let Some(body) = answer(input, &path, &query) else {
            let purpose = format!(
                "read the customer's TD SYNNEX subscriptions (page {})",
                page + 1
            );
            return Ok(Err(get(path, query, purpose)));
        };
        let got = subscriptions(body)?;
        let full = got.len() >= PAGE;
        pulled.subscriptions.extend(got);
        if !full {
            break;
        }
    }
    Ok(Ok(pulled))
}

/// The next step of a pull.
pub(crate) fn step(input: &PullInput) -> Result<PullStep, PluginError> {
    if let Some(last) = input.exchanges.last() {
        match &last.response {
            None => {
                return Ok(PullStep::Send {
                    request: last.request.clone(),
                });
            }
            Some(r) if !(200..300).contains(&r.status) => {
                return Err(invalid(format!(
                    "TD SYNNEX answered {} to `{}`: {}",
                    r.status, last.request.purpose, r.body
                )));
            }
            Some(_) => {}
        }
    }
    let root = customer_root(&input.accounts, "this customer")?;
    let mut pulled = Pulled::default();
    match input.what {
        PullKind::Subscriptions => match customer_subscriptions(input, &root)? {
            Ok(p) => pulled = p,
            Err(next) => return Ok(next),
        },
        PullKind::Orders => {
            for r in input.pushed.iter().filter(|r| r.kind == "order") {
                let path = format!("{root}/orders/{}", r.id);
                let Some(body) = answer(input, &path, &[]) else {
                    return Ok(get(
                        path,
                        Vec::new(),
                        format!("read TD SYNNEX order {}", r.id),
                    ));
                };
                pulled.orders.extend(order_lines(body)?);
            }
        }
        // Nothing to read over the API: said once per pull, not an error, so that a pull of
        // every vendor's month completes.
        PullKind::Invoices => pulled.warnings.push(
            "TD SYNNEX publishes billing as a CSV report (BILLING_REPORTS) without an API shape: \
             download it and read it as an invoice file"
                .into(),
        ),
    }
    Ok(PullStep::Done { pulled })
}
