//! `tenor init [DIR]`: a small rule set to start from, which checks clean and prices.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use std::path::Path;

/// The files of the starter rule set: (path under DIR, text).
const FILES: &[(&str, &str)] = &[
    ("settings.tenor", SETTINGS),
    ("products.tenor", PRODUCTS),
    ("policies.tenor", POLICIES),
    ("quotes/example.yaml", QUOTE),
    ("README.md", README),
];

const SETTINGS: &str = "\
# Price book settings. Every .tenor file in this folder is read as one rule set.

currency USD
rounding half_up

# Who makes what you sell, where you buy it, how the price book is organised.
vendor acme       \"Acme Backup\"
distributor pax8  \"Pax8\"
category backup   \"Backup and recovery\"
";

const PRODUCTS: &str = "\
# One product with two terms: month-to-month costs more than a year's commitment.
# Prices and costs are per device.

product ACME-BACKUP \"Acme Cloud Backup (per device)\" {
  vendor   acme
  unit     device
  category backup
  bought   via pax8 as \"ACME-BKP-1\"

  P1M monthly   12.00 a month  cost  8.00 a month
  P1Y monthly   10.00 a month  cost  7.00 a month
  P1Y annual   120.00 a year   cost 84.00 a year
}
";

const POLICIES: &str = "\
# Co-terming: every subscription renews on the customer's anniversary; a line starting
# between anniversaries is billed a prorated stub up to it.
coterm default {
  anchor  customer anniversary
  mode    stub
  prorate daily
}

# Procurement: the first route that matches wins.
route everything else  via pax8
";

const QUOTE: &str = "\
# An example quote: price it with
#   tenor price DIR/quotes/example.yaml --rules DIR
#
# Both lines start on the customer's anniversary (01-01), so there is no stub:
# - 10 devices, a year billed monthly: 10 × 10.00 = 100.00 a month;
# - 4 devices, a year billed annually: 4 × 120.00 = 480.00 upfront.
quote: Q-0001
date: 2026-12-01
currency: USD
customer:
  id: CUST-0001
  name: Example Customer Ltd
  anniversary: 01-01
lines:
  - product: ACME-BACKUP
    quantity: 10
    term: P1Y
    billing: monthly
    start: 2027-01-01

  - product: ACME-BACKUP
    quantity: 4
    term: P1Y
    billing: annual
    start: 2027-01-01
";

const README: &str = "\
# A Tenor rule set

Made by `tenor init`. The files:

- `settings.tenor`: currency, rounding, and the vendors, distributors and categories you use;
- `products.tenor`: what you sell, with a price line per term and billing;
- `policies.tenor`: how subscriptions co-term, and where each product is bought;
- `quotes/example.yaml`: a quote to price.

Next steps:

    tenor check DIR
    tenor price DIR/quotes/example.yaml --rules DIR

Then add your own products, discounts and routes (see `dsl/LANGUAGE.md`), run `tenor fmt DIR`
to tidy the files, and `tenor accept` a quote to write its documents.
";

/// `tenor init DIR`: writes the starter files; refuses a directory that holds anything.
pub fn init(dir: &Path, ctx: &mut Ctx<'_>) -> CliResult {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(CliError::Failed(format!(
                "{} is not empty; tenor init writes only into a new or empty directory",
                dir.display()
            )));
        }
    } else if dir.exists() {
        return Err(CliError::Failed(format!(
            "{} exists and is not a directory",
            dir.display()
        )));
    }
    let shown = dir.display().to_string();
    for (name, text) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::Run(format!("cannot create {}: {e}", parent.display())))?;
        }
        let text = text.replace("DIR", &shown);
        crate::files::atomic::write(&path, text.as_bytes())
            .map_err(|e| CliError::Run(format!("cannot write {}: {e}", path.display())))?;
        ctx.status(format_args!("wrote {}", path.display()));
    }
    ctx.status(format_args!(
        "next: tenor check {shown} && tenor price {shown}/quotes/example.yaml --rules {shown}"
    ));
    Ok(Exit::Success)
}
