//! Pulling from Pax8: the company's subscriptions (`GET /subscriptions?companyId=…`), the
//! orders a push stored (`GET /orders/{id}`), and the month's invoice items (`GET /invoices`,
//! then `GET /invoices/{id}/items` of each invoice dated in the month). Every list is paged
//! (`{content, page}`); the state of a pull is read off its exchanges, so a pull interrupted
//! anywhere resumes with the request that was not answered.

use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::{date_prefix, invalid};
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PullInput, PullKind, PullStep, Pulled, Request,
};

use crate::read::{content, invoice_items, more_pages, order_lines, subscriptions};

/// Entries per page (Pax8's maximum).
const PAGE_SIZE: u32 = 200;

/// The next step of a pull.
pub(crate) fn step(input: &PullInput) -> Result<PullStep, PluginError> {
    if let Some(last) = input.exchanges.last() {
        match &last.response {
            // Reading is safe to repeat.
            None => {
                return Ok(PullStep::Send {
                    request: last.request.clone(),
                });
            }
            Some(r) if !(200..300).contains(&r.status) => {
                return Err(invalid(format!(
                    "Pax8 answered {} to `{}`: {}",
                    r.status, last.request.purpose, r.body
                )));
            }
            Some(_) => {}
        }
    }
    match input.what {
        PullKind::Subscriptions => subscriptions_step(input),
        PullKind::Orders => orders_step(input),
        PullKind::Invoices => invoices_step(input),
    }
}

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

fn paged(mut query: Vec<(String, String)>, page: u32) -> Vec<(String, String)> {
    query.push(("page".into(), page.to_string()));
    query.push(("size".into(), PAGE_SIZE.to_string()));
    query
}

/// The answered exchanges whose request path is `path`, with their bodies.
fn answered<'e>(ex: &'e [Exchange], path: &str) -> impl Iterator<Item = &'e Value> + 'e {
    let path = path.to_string();
    ex.iter()
        .filter(move |e| e.request.path == path)
        .filter_map(|e| e.response.as_ref().map(|r| &r.body))
}

fn company(input: &PullInput) -> Result<&str, PluginError> {
    input
        .accounts
        .get(crate::COMPANY)
        .map(String::as_str)
        .ok_or_else(|| {
            invalid(
                "no Pax8 company for this customer: link it with `tenor link CUSTOMER --pax8 \
             company=<uuid>`",
            )
        })
}

fn subscriptions_step(input: &PullInput) -> Result<PullStep, PluginError> {
    let company = company(input)?;
    let pages: Vec<&Value> = answered(&input.exchanges, "/subscriptions").collect();
    if pages.last().is_none_or(|p| more_pages(p)) {
        let query = paged(
            vec![("companyId".into(), company.to_string())],
            pages.len() as u32,
        );
        return Ok(get(
            "/subscriptions".into(),
            query,
            format!("read the subscriptions of company {company}"),
        ));
    }
    let mut pulled = Pulled::default();
    for p in pages {
        pulled.subscriptions.extend(subscriptions(p)?);
    }
    Ok(PullStep::Done { pulled })
}

fn orders_step(input: &PullInput) -> Result<PullStep, PluginError> {
    let mut pulled = Pulled::default();
    for r in input.pushed.iter().filter(|r| r.kind == "order") {
        let path = format!("/orders/{}", r.id);
        let order = answered(&input.exchanges, &path).next().cloned();
        match order {
            Some(order) => pulled.orders.extend(order_lines(&order)?),
            None => {
                return Ok(get(path, Vec::new(), format!("read Pax8 order {}", r.id)));
            }
        }
    }
    Ok(PullStep::Done { pulled })
}

fn invoices_step(input: &PullInput) -> Result<PullStep, PluginError> {
    let month = input
        .month
        .as_deref()
        .ok_or_else(|| invalid("reading Pax8 invoices needs a month (`--month YYYY-MM`)"))?;
    let lists: Vec<&Value> = answered(&input.exchanges, "/invoices").collect();
    if lists.last().is_none_or(|p| more_pages(p)) {
        return Ok(get(
            "/invoices".into(),
            paged(Vec::new(), lists.len() as u32),
            format!("list the Pax8 invoices to find those of {month}"),
        ));
    }
    let mut pulled = Pulled::default();
    for id in invoices_of(&lists, month)? {
        let path = format!("/invoices/{id}/items");
        let pages: Vec<&Value> = answered(&input.exchanges, &path).collect();
        if pages.last().is_none_or(|p| more_pages(p)) {
            let page = pages.len() as u32;
            return Ok(get(
                path,
                paged(Vec::new(), page),
                format!("read the items of Pax8 invoice {id}"),
            ));
        }
        for p in pages {
            pulled.invoices.extend(invoice_items(&id, p)?);
        }
    }
    // An invoice is the MSP's: keep the items of this customer's company, when linked.
    if let Some(c) = input.accounts.get(crate::COMPANY) {
        pulled
            .invoices
            .retain(|l| l.customer.as_deref() == Some(c.as_str()));
    }
    Ok(PullStep::Done { pulled })
}

/// The ids of the listed invoices dated in `month` (`invoiceDate` `YYYY-MM-…`), in order.
fn invoices_of(lists: &[&Value], month: &str) -> Result<Vec<String>, PluginError> {
    let mut ids = Vec::new();
    for list in lists {
        for inv in content(list, "invoices")? {
            let dated = inv
                .get("invoiceDate")
                .and_then(Value::as_str)
                .and_then(date_prefix)
                .is_some_and(|d| d.format("%Y-%m").to_string() == month);
            if let (true, Some(id)) = (dated, inv.get("id").and_then(Value::as_str)) {
                ids.push(id.to_string());
            }
        }
    }
    Ok(ids)
}
