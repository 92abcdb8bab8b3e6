//! The end customer's address, from the customer's Ingram Micro link (`tenor link CUSTOMER
//! --ingram address1=… city=… state=… postal=… country=US`). Keys, each optional unless said:
//!
//! | key           | `endUserInfo` field | longest | notes                                 |
//! |---------------|---------------------|---------|---------------------------------------|
//! | `address1`    | `addressLine1`      | 70      | required once any key below is given  |
//! | `address2`    | `addressLine2`      | 70      |                                       |
//! | `city`        | `city`              | 25      | required once any key is given        |
//! | `state`       | `state`             | 3       | required once any key is given        |
//! | `postal`      | `postalCode`        | 10      | required once any key is given        |
//! | `country`     | `countryCode`       | 10      |                                       |
//! | `contact`     | `contact`           | 70      |                                       |
//! | `phone`       | `phoneNumber`       |         |                                       |
//! | `email`       | `email`             |         |                                       |
//! | `end_user_id` | `endUserId`         |         | Ingram's own end-user id              |
//!
//! Without any of them the order carries no `endUserInfo` (Ingram then knows the reseller
//! only). With some but not the four the US and Canadian ERP require, the order is refused
//! before it is sent, naming what is missing: Ingram would reject it, or worse register the
//! warranty to a half address.

use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::exchange::Accounts;

use crate::EndUserInfo;

/// The link keys that make up the end user, with the longest value Ingram takes (0: no limit
/// in the spec).
const KEYS: [(&str, &str, usize); 10] = [
    ("address1", "addressLine1", 70),
    ("address2", "addressLine2", 70),
    ("city", "city", 25),
    ("state", "state", 3),
    ("postal", "postalCode", 10),
    ("country", "countryCode", 10),
    ("contact", "contact", 70),
    ("phone", "phoneNumber", 0),
    ("email", "email", 0),
    ("end_user_id", "endUserId", 0),
];

/// Every link key the connector reads: the end user's and `unit_price`.
pub fn link_keys() -> [&'static str; 11] {
    let mut out = [crate::UNIT_PRICE_KEY; 11];
    for (slot, (key, _, _)) in out.iter_mut().zip(KEYS) {
        *slot = key;
    }
    out
}

/// What the US and Canadian ERP require once end-user info is sent.
const REQUIRED: [&str; 4] = ["address1", "city", "state", "postal"];

/// `endUserInfo` for the customer named `name` from the link's keys, `None` without any.
pub fn end_user(name: &str, accounts: &Accounts) -> Result<Option<EndUserInfo>, PluginError> {
    let value = |key: &str| {
        accounts
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if KEYS.iter().all(|(k, _, _)| value(k).is_none()) {
        return Ok(None);
    }
    let mut problems = Vec::new();
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|k| value(k).is_none())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "the customer's Ingram Micro address lacks {}: Ingram's US and Canadian ERP require address line, city, state and postal code with end-user info (set them with `tenor link CUSTOMER --ingram {}`)",
            missing.join(", "),
            missing.iter().map(|k| format!("{k}=…")).collect::<Vec<_>>().join(" ")
        ));
    }
    for (key, field, longest) in KEYS {
        if let Some(v) = value(key) {
            let n = v.chars().count();
            if longest > 0 && n > longest {
                problems.push(format!(
                    "the customer's Ingram Micro `{key}` `{v}` has {n} characters; `endUserInfo.{field}` takes at most {longest}"
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems.join("; ")));
    }
    Ok(Some(EndUserInfo {
        end_user_id: value("end_user_id"),
        contact: value("contact"),
        company_name: Some(name.to_string()).filter(|n| !n.is_empty()),
        address_line1: value("address1"),
        address_line2: value("address2"),
        city: value("city"),
        state: value("state"),
        postal_code: value("postal"),
        country_code: value("country"),
        phone_number: value("phone"),
        email: value("email"),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    fn accounts(pairs: &[(&str, &str)]) -> Accounts {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_address_no_end_user_info() {
        assert_eq!(end_user("Acme", &Accounts::new()).unwrap(), None);
        // Keys of other plugins' concerns do not count.
        assert_eq!(
            end_user("Acme", &accounts(&[("unit_price", "request")])).unwrap(),
            None
        );
    }

    #[test]
    fn a_full_address_fills_every_field() {
        let a = accounts(&[
            ("address1", "1850 Bayview Ave"),
            ("city", "San Mateo"),
            ("state", "CA"),
            ("postal", "94402"),
            ("country", "US"),
            ("contact", "Dr. Ana Ruiz"),
        ]);
        let info = end_user("Bayview Family Dental", &a).unwrap().unwrap();
        let v = serde_json::to_value(&info).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "contact": "Dr. Ana Ruiz", "companyName": "Bayview Family Dental",
                "addressLine1": "1850 Bayview Ave", "city": "San Mateo", "state": "CA",
                "postalCode": "94402", "countryCode": "US"
            })
        );
    }

    #[test]
    fn a_partial_address_is_refused_naming_what_is_missing() {
        let a = accounts(&[("address1", "1850 Bayview Ave"), ("city", "San Mateo")]);
        let m = end_user("Acme", &a).unwrap_err().to_string();
        assert!(m.contains("lacks state, postal"), "{m}");
        assert!(m.contains("--ingram state=… postal=…"), "{m}");
        let a = accounts(&[("contact", "Ana")]);
        let m = end_user("Acme", &a).unwrap_err().to_string();
        assert!(m.contains("lacks address1, city, state, postal"), "{m}");
    }

    #[test]
    fn lengths_are_checked_not_cut() {
        let a = accounts(&[
            ("address1", "1850 Bayview Ave"),
            ("city", "San Mateo Peninsula Townsh"), // 26
            ("state", "CAL"),
            ("postal", "94402-12345"), // 11
        ]);
        let m = end_user("Acme", &a).unwrap_err().to_string();
        assert!(m.contains("`city` `San Mateo Peninsula Townsh` has 26 characters; `endUserInfo.city` takes at most 25"), "{m}");
        assert!(m.contains("`postal` `94402-12345` has 11 characters; `endUserInfo.postalCode` takes at most 10"), "{m}");
        assert!(!m.contains("`state`"), "{m}");
    }
}
