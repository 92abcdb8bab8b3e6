//! Accepting a priced quote: the sales order, one purchase order per distributor, the invoice
//! schedule, the recurring invoice template and a summary, written atomically and
//! deterministically (the same quote and rules always give the same bytes).

use crate::engine::catalogue::{Catalogue, Price, RouteRule, Sellable};
use crate::engine::pricing::{self, ChargeKind, PricedLine, PricedQuote};
use crate::engine::quote::Quote;
use crate::engine::tiers;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tenor_plugin_sdk::docs::{self, Customer, Timing};

/// Every document made from one accepted quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The customer's view.
    pub sales_order: docs::SalesOrder,
    /// One per distributor, sorted by distributor name.
    pub purchase_orders: Vec<docs::PurchaseOrder>,
    /// Every charge over the commitment.
    pub schedule: docs::InvoiceSchedule,
    /// The recurring lines for the PSA.
    pub template: docs::RecurringTemplate,
    /// Figures and bundle revenue allocation.
    pub summary: docs::AcceptSummary,
}

/// A problem that stops a quote from being accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptError {
    /// The quote line (from 1), when the problem belongs to one.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// SHA-256, in hex, of the quote (as parsed, so layout does not matter) and the rule files
/// (their file names and texts, not where the folder is: moving the rules changes nothing).
pub fn fingerprint(quote: &Quote, rule_files: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(quote).unwrap_or_default());
    for (name, text) in rule_files {
        let base = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        h.update(b"\0");
        h.update(base.as_bytes());
        h.update(b"\0");
        h.update(text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Document ids, all derived from the quote id.
pub fn sales_order_id(quote: &str) -> String {
    format!("SO-{quote}")
}

fn po_id(quote: &str, distributor: &str) -> String {
    format!("PO-{quote}-{distributor}")
}

/// The first route that matches an item, in written order.
pub fn route<'c>(cat: &'c Catalogue, item: &Sellable) -> Option<&'c RouteRule> {
    use tenor_dsl::ast::TargetKind;
    cat.routes.iter().find(|r| match &r.matcher {
        None => true,
        Some((TargetKind::Product, sku)) => &*item.sku == sku.as_str(),
        Some((TargetKind::Vendor, v)) => item.vendor.as_deref() == Some(v.as_str()),
        Some((TargetKind::Category, c)) => item.category.as_deref() == Some(c.as_str()),
        Some((TargetKind::Bundle, _)) => false,
    })
}

/// Shown with at least the currency's decimals, at most six (unit prices may be finer).
fn unit_amount(v: Decimal, minor: u32) -> Decimal {
    let mut p = v.round_dp(6).normalize();
    if p.scale() < minor {
        p.rescale(minor);
    }
    p
}

/// Builds the documents of an accepted quote. Every problem is reported, none is skipped.
pub fn accept(
    cat: &Catalogue,
    quote: &Quote,
    priced: &PricedQuote,
    fingerprint: &str,
) -> Result<Accepted, Vec<AcceptError>> {
    let so_id = sales_order_id(&quote.quote);
    let customer = Customer {
        id: quote.customer.id.clone(),
        name: quote.customer.name.clone(),
    };
    let minor = cat.minor_units;
    let zero = cat.round(Decimal::ZERO);
    let mut errors = Vec::new();

    let mut so_lines = Vec::with_capacity(priced.lines.len());
    let mut po_lines: BTreeMap<String, Vec<docs::PurchaseOrderLine>> = BTreeMap::new();
    // Sized once: a schedule can run to millions of charges.
    let mut schedule = Vec::with_capacity(priced.lines.iter().map(|l| l.charges.len()).sum());
    let mut recurring = Vec::new();
    let mut allocations = Vec::new();

    for pl in &priced.lines {
        let line_no = u32::try_from(pl.line).unwrap_or(u32::MAX);
        let Some((_, item)) = cat.item(&pl.product) else {
            continue;
        };
        let term = pricing::parse_term(&pl.term).ok().flatten();
        let billing = if term.is_none() {
            crate::engine::catalogue::Billing::Upfront
        } else {
            pricing::parse_billing(pl.billing).unwrap_or(crate::engine::catalogue::Billing::Upfront)
        };
        let Some(offer) = item.offer(term, billing) else {
            continue;
        };
        let months = offer.billing_months().unwrap_or(0);
        let metered = item.usage.is_some();
        let units = |q: Decimal| {
            if metered {
                quote_usage(quote, pl).unwrap_or(Decimal::ZERO)
            } else {
                q
            }
        };
        let unit_price = match &offer.price {
            Price::Flat(rate) => match term {
                None => rate.amount,
                Some(_) => rate.for_months(months),
            },
            Price::Tiered(t) => match cat.tiers.get(*t) {
                Some(table) => {
                    let u = units(pl.quantity);
                    let per = match (table.per_months, term) {
                        (Some(p), Some(_)) if !table.once => {
                            Decimal::from(months) / Decimal::from(p)
                        }
                        _ => Decimal::ONE,
                    };
                    if u.is_zero() {
                        Decimal::ZERO
                    } else {
                        tiers::amount(table, u) * per / u
                    }
                }
                None => Decimal::ZERO,
            },
        };
        let contract_value: Decimal = pl.charges.iter().map(|c| c.amount).sum();
        let cost: Decimal = pl.charges.iter().map(|c| c.cost).sum();
        so_lines.push(docs::SalesOrderLine {
            line: line_no,
            product: pl.product.to_string(),
            name: pl.name.to_string(),
            bundle: pl.bundle,
            quantity: pl.quantity,
            term: pl.term.to_string(),
            billing: pl.billing.to_string(),
            coterm: pl.coterm.as_ref().map(|c| c.to_string()),
            start: pl.start,
            term_start: pl.term_start,
            end: pl.end,
            unit_price: unit_amount(unit_price, minor),
            recurring: pl.recurring,
            first_charge: pl.first_charge,
            contract_value: with_scale(contract_value, minor),
            cost: with_scale(cost, minor),
        });

        for c in &pl.charges {
            schedule.push(docs::ScheduledCharge {
                line: line_no,
                product: pl.product.clone(),
                kind: std::borrow::Cow::Borrowed(c.kind.as_str()),
                period_start: c.period_start,
                period_end: c.period_end,
                bill_date: c.bill_date,
                timing: match c.kind {
                    ChargeKind::OneTime => Timing::Once,
                    _ if metered => Timing::Arrears,
                    _ => Timing::Advance,
                },
                amount: c.amount,
                cost: c.cost,
                rule: c.rule.clone(),
            });
        }

        if term.is_some() {
            let next_bill = pl
                .charges
                .iter()
                .find(|c| {
                    matches!(c.kind, ChargeKind::Recurring | ChargeKind::Usage)
                        && !c.share.is_partial()
                })
                .map(|c| c.bill_date)
                // A commitment that is all stub (coterminous) bills its next full period at
                // renewal.
                .unwrap_or(pl.end);
            recurring.push(docs::RecurringLine {
                line: line_no,
                product: pl.product.to_string(),
                description: pl.name.to_string(),
                quantity: pl.quantity,
                unit_price: unit_amount(unit_price, minor),
                frequency: pl.billing.to_string(),
                months,
                timing: if metered {
                    Timing::Arrears
                } else {
                    Timing::Advance
                },
                amount: pl.recurring,
                next_bill_date: next_bill,
                start: pl.start,
                end: pl.end,
            });
        }

        // What must be bought, and from whom.
        let parts: Vec<(&Sellable, Decimal, Option<&str>)> = if item.is_bundle {
            item.components
                .iter()
                .filter_map(|(ci, per)| {
                    cat.items
                        .get(*ci)
                        .map(|c| (c, pl.quantity * per, Some(&*item.sku)))
                })
                .collect()
        } else {
            vec![(item, pl.quantity, None)]
        };
        for (part, qty, bundle) in &parts {
            if !part.bought {
                continue;
            }
            let Some(r) = route(cat, part) else {
                let searched: Vec<&str> = cat.routes.iter().map(|r| r.origin.as_str()).collect();
                errors.push(AcceptError {
                    line: Some(line_no),
                    message: format!("`{}` must be bought, but no procurement route matches it", part.sku),
                    help: Some(if searched.is_empty() {
                        "the rules have no `route` lines; add one, such as `route everything else via DISTRIBUTOR`".to_string()
                    } else {
                        format!(
                            "routes searched: {}; add a route for it (or `route everything else via …`), or mark the product `not bought`",
                            searched.join(", ")
                        )
                    }),
                });
                continue;
            };
            let Some(pn) = part.parts.iter().find(|p| p.distributor == r.via) else {
                errors.push(AcceptError {
                    line: Some(line_no),
                    message: format!(
                        "`{}` is routed to `{}` ({}), but the rules give no `{}` part number for it",
                        part.sku, r.via, r.origin, r.via
                    ),
                    help: Some(format!(
                        "add `bought via {} as \"PART-NUMBER\"` to product `{}` ({})",
                        r.via, part.sku, part.origin
                    )),
                });
                continue;
            };
            let part_offer = part.offer(term, billing);
            let unit_cost = part_offer.and_then(|o| o.cost).map(|c| match term {
                None => c.amount,
                Some(_) => c.for_months(months),
            });
            // The commitment's cost: each charge's share of its period, at the part's cost.
            // A metered part costs per unit used: its estimate, not the subscription count.
            let cost_units = if part.usage.is_some() {
                quote_usage(quote, pl).unwrap_or(Decimal::ZERO)
            } else {
                *qty
            };
            let committed = match unit_cost {
                Some(uc) => pl
                    .charges
                    .iter()
                    .filter(|c| !matches!(c.kind, ChargeKind::Discount | ChargeKind::MinimumTrueUp))
                    .map(|c| {
                        let exact = cost_units * uc * Decimal::from(c.share.num)
                            / Decimal::from(c.share.den.max(1));
                        cat.round(exact)
                    })
                    .sum(),
                None => zero,
            };
            po_lines
                .entry(r.via.clone())
                .or_default()
                .push(docs::PurchaseOrderLine {
                    line: 0,
                    quote_line: line_no,
                    bundle: bundle.map(str::to_string),
                    product: part.sku.to_string(),
                    name: part.name.to_string(),
                    vendor: part.vendor.clone(),
                    part_number: pn.number.clone(),
                    distributor_product_id: pn.id.clone(),
                    catalog_id: part.catalog_id.clone(),
                    quantity: *qty,
                    term: pl.term.to_string(),
                    billing: pl.billing.to_string(),
                    start: pl.start,
                    end: pl.end,
                    unit_cost: unit_cost.map(|u| unit_amount(u, minor)),
                    committed_cost: with_scale(committed, minor),
                });
        }

        if item.is_bundle {
            allocations.push(allocate(
                cat,
                line_no,
                item,
                pl,
                term,
                billing,
                months,
                contract_value,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // By bill date, then line; charges of one line on one date keep their order (a charge, then
    // its discounts). Sorting small keys and moving each charge once is much faster than a
    // stable sort of the charges themselves when a schedule holds millions.
    let mut keys: Vec<(chrono::NaiveDate, u32, u32)> = schedule
        .iter()
        .enumerate()
        .map(|(i, c)| (c.bill_date, c.line, u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    keys.sort_unstable();
    // Put each charge in place by following the permutation's cycles: no second copy of a
    // schedule that can run to millions of charges.
    let perm: Vec<usize> = keys.iter().map(|k| k.2 as usize).collect();
    drop(keys);
    let mut done = vec![false; perm.len()];
    for start in 0..perm.len() {
        if done.get(start).copied().unwrap_or(true) {
            continue;
        }
        let mut cur = start;
        loop {
            if let Some(d) = done.get_mut(cur) {
                *d = true;
            }
            let next = perm.get(cur).copied().unwrap_or(start);
            if next == start {
                break;
            }
            schedule.swap(cur, next);
            cur = next;
        }
    }
    let schedule_total: Decimal = schedule.iter().map(|c| c.amount).sum();
    let purchase_orders: Vec<docs::PurchaseOrder> = po_lines
        .into_iter()
        .map(|(dist, mut lines)| {
            for (i, l) in lines.iter_mut().enumerate() {
                l.line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            }
            let committed: Decimal = lines.iter().map(|l| l.committed_cost).sum();
            docs::PurchaseOrder {
                schema: docs::PURCHASE_ORDER.to_string(),
                id: po_id(&quote.quote, &dist),
                distributor_name: cat
                    .distributors
                    .iter()
                    .find(|d| d.0 == dist)
                    .and_then(|d| d.1.clone()),
                distributor: dist,
                sales_order: so_id.clone(),
                quote: quote.quote.clone(),
                date: quote.date,
                currency: cat.currency.clone(),
                customer: customer.clone(),
                lines,
                committed_cost: with_scale(committed, minor),
            }
        })
        .collect();
    let t = &priced.totals;
    let totals = docs::Totals {
        first_invoice: t.first_invoice,
        mrr: t.mrr,
        arr: t.arr,
        contract_value: t.contract_value,
        cost: t.cost,
        margin: t.margin,
    };
    let schedule_doc = docs::InvoiceSchedule {
        schema: docs::INVOICE_SCHEDULE.to_string(),
        id: format!("SCHED-{}", quote.quote),
        sales_order: so_id.clone(),
        currency: cat.currency.clone(),
        customer: customer.clone(),
        charges: schedule,
        total: with_scale(schedule_total, minor),
    };
    let template = docs::RecurringTemplate {
        schema: docs::RECURRING_TEMPLATE.to_string(),
        id: format!("RT-{}", quote.quote),
        sales_order: so_id.clone(),
        currency: cat.currency.clone(),
        customer: customer.clone(),
        mrr: t.mrr,
        lines: recurring,
    };
    let mut documents = vec![so_id.clone()];
    documents.extend(purchase_orders.iter().map(|p| p.id.clone()));
    documents.push(schedule_doc.id.clone());
    documents.push(template.id.clone());
    let summary = docs::AcceptSummary {
        schema: docs::ACCEPT_SUMMARY.to_string(),
        id: format!("SUM-{}", quote.quote),
        sales_order: so_id.clone(),
        currency: cat.currency.clone(),
        documents,
        totals: totals.clone(),
        bundle_allocations: allocations,
    };
    let sales_order = docs::SalesOrder {
        schema: docs::SALES_ORDER.to_string(),
        id: so_id,
        quote: quote.quote.clone(),
        date: quote.date,
        currency: cat.currency.clone(),
        customer,
        fingerprint: fingerprint.to_string(),
        lines: so_lines,
        totals,
    };
    Ok(Accepted {
        sales_order,
        purchase_orders,
        schedule: schedule_doc,
        template,
        summary,
    })
}

fn quote_usage(quote: &Quote, pl: &PricedLine) -> Option<Decimal> {
    quote.lines.get(pl.line.checked_sub(1)?)?.usage
}

fn with_scale(mut v: Decimal, minor: u32) -> Decimal {
    if v.scale() < minor {
        v.rescale(minor);
    }
    v
}

/// Splits a bundle line's revenue over its components in proportion to their standalone sell
/// prices for one billing period; the rounding remainder goes to the largest share.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site; the values are the line's facts"
)]
fn allocate(
    cat: &Catalogue,
    line: u32,
    bundle: &Sellable,
    pl: &PricedLine,
    term: Option<u32>,
    billing: crate::engine::catalogue::Billing,
    months: u32,
    revenue: Decimal,
) -> docs::BundleAllocation {
    let mut comps: Vec<(String, Decimal, Decimal)> = bundle
        .components
        .iter()
        .filter_map(|(ci, per)| {
            let c = cat.items.get(*ci)?;
            let qty = pl.quantity * per;
            let standalone = match c.offer(term, billing).map(|o| &o.price) {
                Some(Price::Flat(rate)) => {
                    qty * if term.is_some() {
                        rate.for_months(months)
                    } else {
                        rate.amount
                    }
                }
                Some(Price::Tiered(t)) => match cat.tiers.get(*t) {
                    Some(table) => {
                        let per_period = match (table.per_months, term) {
                            (Some(p), Some(_)) if !table.once => {
                                Decimal::from(months) / Decimal::from(p)
                            }
                            _ => Decimal::ONE,
                        };
                        tiers::amount(table, qty) * per_period
                    }
                    None => Decimal::ZERO,
                },
                None => Decimal::ZERO,
            };
            Some((c.sku.to_string(), qty, cat.round(standalone)))
        })
        .collect();
    let total: Decimal = comps.iter().map(|c| c.2).sum();
    let mut shares: Vec<Decimal> = comps
        .iter()
        .map(|c| {
            if total.is_zero() {
                Decimal::ZERO
            } else {
                cat.round(revenue * c.2 / total)
            }
        })
        .collect();
    let remainder = revenue - shares.iter().copied().sum::<Decimal>();
    // The largest share (the first of equals, so the result is stable) takes the remainder.
    if let Some((i, _)) = comps
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.2.cmp(&b.1.2).then_with(|| b.0.cmp(&a.0)))
    {
        if let Some(s) = shares.get_mut(i) {
            *s += remainder;
        }
    }
    let components = comps
        .drain(..)
        .zip(shares)
        .map(
            |((product, quantity, standalone_price), revenue)| docs::ComponentShare {
                product,
                quantity,
                standalone_price,
                revenue,
            },
        )
        .collect();
    docs::BundleAllocation {
        line,
        bundle: bundle.sku.to_string(),
        revenue,
        components,
    }
}

/// Why documents were not written.
#[derive(Debug)]
pub enum WriteError {
    /// Documents for this quote id already exist and were made from a different quote or rules.
    Exists(PathBuf),
    /// Seat changes were applied to this quote's documents; accepting again would undo them.
    Changed(Vec<PathBuf>),
    /// A file could not be written.
    Io(String),
}

/// Writes every document as `<id>.json` in `dir`, each atomically; the sales order is written
/// last, so a run stopped part-way never leaves a sales order without its other documents.
/// Returns the paths written. Existing documents of the same quote are replaced only when they
/// were made from the same quote and rules (same fingerprint), or with `force`.
pub fn write(dir: &Path, a: &Accepted, force: bool) -> Result<Vec<PathBuf>, WriteError> {
    let io = |e: std::io::Error| WriteError::Io(e.to_string());
    std::fs::create_dir_all(dir)
        .map_err(|e| WriteError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let so_path = dir.join(format!("{}.json", a.sales_order.id));
    // Seat changes amend the sales order and schedule; accepting again would silently undo them.
    let changes: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&format!("CO-{}-", a.sales_order.quote))
                            && n.ends_with(".json")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !changes.is_empty() && !force {
        return Err(WriteError::Changed(changes));
    }
    if so_path.exists() && !force {
        let existing = std::fs::read_to_string(&so_path).map_err(io)?;
        let same = serde_json::from_str::<serde_json::Value>(&existing)
            .ok()
            .and_then(|v| {
                v.get("fingerprint")
                    .and_then(|f| f.as_str())
                    .map(|f| f == a.sales_order.fingerprint)
            })
            .unwrap_or(false);
        if !same {
            return Err(WriteError::Exists(so_path));
        }
    }
    let mut written = Vec::new();
    let mut put = |id: &str, json: Result<String, serde_json::Error>| -> Result<(), WriteError> {
        let mut text = json.map_err(|e| WriteError::Io(e.to_string()))?;
        text.push('\n');
        let path = dir.join(format!("{id}.json"));
        crate::files::atomic::write(&path, text.as_bytes())
            .map_err(|e| WriteError::Io(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    for po in &a.purchase_orders {
        put(&po.id, serde_json::to_string_pretty(po))?;
    }
    put(&a.schedule.id, serde_json::to_string_pretty(&a.schedule))?;
    put(&a.template.id, serde_json::to_string_pretty(&a.template))?;
    put(&a.summary.id, serde_json::to_string_pretty(&a.summary))?;
    put(
        &a.sales_order.id,
        serde_json::to_string_pretty(&a.sales_order),
    )?;
    // Purchase orders of distributors the quote no longer uses (after --force) would mislead.
    let prefix = format!("PO-{}-", a.sales_order.quote);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // Only Tenor's own `PO-<quote>-<distributor>.json`, not a plugin's
            // `…-pax8.pax8-order.json`.
            let is_ours = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".json"))
                .is_some_and(|dist| !dist.contains('.'))
                // `PO-Q-1-2-pax8.json` starts like Q-1's too: only a purchase order that says
                // it belongs to this quote is ours to remove.
                && std::fs::read_to_string(e.path())
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|v| {
                        v.get("schema").and_then(|x| x.as_str()) == Some(docs::PURCHASE_ORDER)
                            && v.get("quote").and_then(|x| x.as_str()) == Some(a.sales_order.quote.as_str())
                    });
            if is_ours
                && !written
                    .iter()
                    .any(|w| w.file_name() == Some(e.file_name().as_os_str()))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(written)
}

/// What the plugins made of an accepted quote.
#[derive(Debug, Default)]
pub struct PluginOutput {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Things the user should know (a distributor without a plugin).
    pub notes: Vec<String>,
    /// Failures, each naming its plugin.
    pub errors: Vec<String>,
}

/// A plugin names its own files; only plain names may reach the file system.
fn safe_file_name(name: &str, ext: &str) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            && !s.starts_with('.')
    };
    (ok(name) && ok(ext)).then(|| format!("{name}.{ext}"))
}

/// Renders every purchase order with its distributor's plugin and the sales documents with
/// every PSA plugin, writing each result atomically beside Tenor's own documents.
pub fn render_with_plugins(host: &crate::host::Host, a: &Accepted, dir: &Path) -> PluginOutput {
    use tenor_plugin_sdk::{Capability, Rendered, SalesInput, ops};
    let mut out = PluginOutput::default();
    let write = |plugin: &str, docs: Vec<Rendered>, out: &mut PluginOutput| {
        for d in docs {
            let Some(file) = safe_file_name(&d.name, &d.extension) else {
                out.errors.push(format!(
                    "plugin `{plugin}` named a file `{}.{}`, which is not a plain file name",
                    d.name, d.extension
                ));
                continue;
            };
            let path = dir.join(file);
            match crate::files::atomic::write(&path, d.body.as_bytes()) {
                Ok(()) => out.written.push(path),
                Err(e) => out
                    .errors
                    .push(format!("cannot write {}: {e}", path.display())),
            }
        }
    };
    for po in &a.purchase_orders {
        match host.for_distributor(&po.distributor) {
            Some(p) if p.can(Capability::RenderPurchaseOrder) => {
                match p.call::<_, Vec<Rendered>>(ops::RENDER_PURCHASE_ORDER, po) {
                    Ok(docs) => write(&p.info.name, docs, &mut out),
                    Err(e) => out.errors.push(format!("{e} (purchase order {})", po.id)),
                }
            }
            _ => out.notes.push(format!(
                "no plugin renders purchase orders for `{}`: only {}.json was written",
                po.distributor, po.id
            )),
        }
    }
    let input = SalesInput {
        sales_order: a.sales_order.clone(),
        template: a.template.clone(),
    };
    for p in host.psas().filter(|p| p.can(Capability::RenderSales)) {
        match p.call::<_, Vec<Rendered>>(ops::RENDER_SALES, &input) {
            Ok(docs) => write(&p.info.name, docs, &mut out),
            Err(e) => out
                .errors
                .push(format!("{e} (sales order {})", a.sales_order.id)),
        }
    }
    out
}
