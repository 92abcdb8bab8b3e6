//! Signed links to a shared quote: HMAC-SHA256, with the record's key, over the quote id, the
//! shared revision, the content hash and the expiry. A link is checked in constant time, then
//! against the record (unknown, revoked, revised since, expired), each refusal in plain words.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fields of a link, as they appear in its query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The quote id.
    pub quote: String,
    /// The shared revision.
    pub revision: u32,
    /// The content hash signed (64 lowercase hex digits).
    pub hash: String,
    /// Unix seconds after which the link is refused.
    pub expires: i64,
    /// The signature (64 lowercase hex digits).
    pub sig: String,
}

/// The message signed: one field a line, under a versioned label.
fn message(quote: &str, revision: u32, hash: &str, expires: i64) -> String {
    format!("tenor.share/1\n{quote}\n{revision}\n{hash}\n{expires}")
}

/// A signed link's fields for a shared revision.
pub fn sign(key: &[u8], quote: &str, revision: u32, hash: &str, expires: i64) -> Link {
    let sig = mac(key, message(quote, revision, hash, expires).as_bytes())
        .map(|m| hex(&m.finalize().into_bytes()))
        .unwrap_or_default();
    Link {
        quote: quote.into(),
        revision,
        hash: hash.into(),
        expires,
        sig,
    }
}

/// True when the link's signature is the key's over its fields (compared in constant time).
pub fn verify(key: &[u8], link: &Link) -> bool {
    let Some(sig) = unhex(&link.sig) else {
        return false;
    };
    match mac(
        key,
        message(&link.quote, link.revision, &link.hash, link.expires).as_bytes(),
    ) {
        Some(m) => m.verify_slice(&sig).is_ok(),
        None => false,
    }
}

/// A keyed MAC over `bytes`; `None` only for a key HMAC refuses (it takes any length).
fn mac(key: &[u8], bytes: &[u8]) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).ok()?;
    m.update(bytes);
    Some(m)
}

impl Link {
    /// The query string of the link (`q=…&r=…&h=…&e=…&s=…`); the quote id is checked to be
    /// made only of characters that need no escaping.
    pub fn query(&self) -> String {
        format!(
            "q={}&r={}&h={}&e={}&s={}",
            self.quote, self.revision, self.hash, self.expires, self.sig
        )
    }

    /// A link's fields from its (untrusted) query fields, when each is well formed: a quote
    /// id of letters, digits, `.`, `_` and `-` (at most 64), a revision, two 64-digit hex
    /// strings, an expiry in seconds.
    pub fn parse(q: &str, r: &str, h: &str, e: &str, s: &str) -> Option<Link> {
        let id_ok = !q.is_empty()
            && q.len() <= 64
            && q.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        let hex_ok = |v: &str| {
            v.len() == 64
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !id_ok || !hex_ok(h) || !hex_ok(s) || r.len() > 9 || e.len() > 12 {
            return None;
        }
        Some(Link {
            quote: q.into(),
            revision: r.parse().ok()?,
            hash: h.into(),
            expires: e.parse().ok()?,
            sig: s.into(),
        })
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a lowercase hex string.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_and_any_changed_field_does_not() {
        let key = [7u8; 32];
        let h = "a".repeat(64);
        let link = sign(&key, "Q-1", 2, &h, 1_800_000_000);
        assert!(verify(&key, &link));
        assert!(!verify(&[8u8; 32], &link));
        let mut l = link.clone();
        l.revision = 3;
        assert!(!verify(&key, &l));
        let mut l = link.clone();
        l.expires += 1;
        assert!(!verify(&key, &l));
        let mut l = link.clone();
        l.hash = "b".repeat(64);
        assert!(!verify(&key, &l));
        let mut l = link;
        l.quote = "Q-2".into();
        assert!(!verify(&key, &l));
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let m =
            mac(b"Jefe", b"what do ya want for nothing?").map(|m| hex(&m.finalize().into_bytes()));
        assert_eq!(
            m.as_deref(),
            Some("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn malformed_fields_are_refused_before_any_lookup() {
        let h = "0".repeat(64);
        assert!(Link::parse("Q-1", "1", &h, "5", &h).is_some());
        assert!(Link::parse("../etc", "1", &h, "5", &h).is_none());
        assert!(Link::parse("Q 1", "1", &h, "5", &h).is_none());
        assert!(Link::parse("Q-1", "x", &h, "5", &h).is_none());
        assert!(Link::parse("Q-1", "1", &h.to_uppercase().replace('0', "A"), "5", &h).is_none());
        assert!(Link::parse("Q-1", "1", &h[1..], "5", &h).is_none());
    }
}
