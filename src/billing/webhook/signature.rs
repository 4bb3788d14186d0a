//! Stripe's webhook signature scheme: the `Stripe-Signature` header carries
//! `t=<unix seconds>` and one or more `v1=<hex>` signatures (more than one while a secret is
//! being rolled); each is the HMAC-SHA256, keyed with the whole `whsec_...` secret, of
//! `"{t}." + the raw body`. `v0` and unknown keys are ignored, as Stripe's own libraries do.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far (in seconds, either way) the signed timestamp may be from our clock.
pub const TOLERANCE_SECS: u64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    MissingHeader,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the Stripe-Signature header has no timestamp")]
    MissingTimestamp,
    #[error("the Stripe-Signature header has no v1 signature")]
    NoSignatures,
    #[error("no signature matches the payload")]
    NoMatch,
    #[error("the signature timestamp is outside the tolerance")]
    OutsideTolerance,
}

/// Checks `header` (the `Stripe-Signature` value) against the raw `body`, signed with `secret`,
/// at `now` (unix seconds). Pure: no clock, no parsing of the body.
pub fn verify(header: &str, body: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<&str> = Vec::new();
    for item in header.split(',') {
        // Items without `=` carry nothing Stripe defines; skip them like Stripe's libraries.
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => {
                let earlier = timestamp.replace(value.trim());
                // A second timestamp makes the header ambiguous.
                if earlier.is_some() {
                    return Err(SignatureError::Malformed);
                }
            }
            "v1" => signatures.push(value.trim()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    // Digits only: `i64::from_str` would also take a sign.
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed);
    }
    let t: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoSignatures);
    }

    let mac = signed_payload_mac(secret, timestamp, body);
    let matched = signatures.iter().any(|signature| {
        hex::decode(signature).is_ok_and(|bytes| mac.clone().verify_slice(&bytes).is_ok())
    });
    if !matched {
        return Err(SignatureError::NoMatch);
    }
    if now.abs_diff(t) > TOLERANCE_SECS {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(())
}

/// The hex signature Stripe would send for `body` at `timestamp` (for tests and tools).
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mac = signed_payload_mac(secret, &timestamp.to_string(), body);
    hex::encode(mac.finalize().into_bytes())
}

/// Stripe's signed payload, `{timestamp}.{body}`, under the endpoint's secret.
fn signed_payload_mac(secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (longer ones are hashed): this cannot fail.
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_unit_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const NOW: i64 = 1_750_000_000;

    fn header(t: i64, signatures: &[&str]) -> String {
        let mut header = format!("t={t}");
        for signature in signatures {
            header.push_str(",v1=");
            header.push_str(signature);
        }
        header
    }

    #[test]
    fn a_good_signature_passes() {
        let good = sign(BODY, SECRET, NOW);
        assert_eq!(verify(&header(NOW, &[&good]), BODY, SECRET, NOW), Ok(()));
        // Inside the tolerance either way.
        assert_eq!(
            verify(&header(NOW, &[&good]), BODY, SECRET, NOW + 300),
            Ok(())
        );
        assert_eq!(
            verify(&header(NOW, &[&good]), BODY, SECRET, NOW - 300),
            Ok(())
        );
    }

    #[test]
    fn matches_an_independent_computation() {
        // `printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test`
        let expected = "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91";
        assert_eq!(sign(b"{}", "whsec_test", 1_700_000_000), expected);
        let header = format!("t=1700000000,v1={expected}");
        assert_eq!(verify(&header, b"{}", "whsec_test", 1_700_000_000), Ok(()));
    }

    #[test]
    fn the_second_of_two_v1_signatures_may_match() {
        let good = sign(BODY, SECRET, NOW);
        let other = sign(BODY, "whsec_the_old_secret", NOW);
        let value = format!("t={NOW},v1={other},v1={good},v0=abcdef,scheme=x");
        assert_eq!(verify(&value, BODY, SECRET, NOW), Ok(()));
    }

    #[test]
    fn a_wrong_signature_fails() {
        let other = sign(BODY, "whsec_someone_else", NOW);
        assert_eq!(
            verify(&header(NOW, &[&other]), BODY, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
        // A good signature over another body.
        let good = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(&header(NOW, &[&good]), b"{}", SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
        // A good signature for another timestamp.
        assert_eq!(
            verify(&header(NOW + 1, &[&good]), BODY, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
        // Only v0 (Stripe's test scheme) never passes.
        assert_eq!(
            verify(&format!("t={NOW},v0={good}"), BODY, SECRET, NOW),
            Err(SignatureError::NoSignatures)
        );
    }

    #[test]
    fn stale_by_301_seconds_fails() {
        let t = NOW - 301;
        let good = sign(BODY, SECRET, t);
        assert_eq!(
            verify(&header(t, &[&good]), BODY, SECRET, NOW),
            Err(SignatureError::OutsideTolerance)
        );
    }

    #[test]
    fn future_by_301_seconds_fails() {
        let t = NOW + 301;
        let good = sign(BODY, SECRET, t);
        assert_eq!(
            verify(&header(t, &[&good]), BODY, SECRET, NOW),
            Err(SignatureError::OutsideTolerance)
        );
    }

    #[test]
    fn a_missing_timestamp_fails() {
        let good = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(&format!("v1={good}"), BODY, SECRET, NOW),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify("", BODY, SECRET, NOW),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            verify("garbage", BODY, SECRET, NOW),
            Err(SignatureError::MissingTimestamp)
        );
    }

    #[test]
    fn a_malformed_timestamp_fails() {
        let good = sign(BODY, SECRET, NOW);
        for t in ["", "abc", "-5", "+1750000000", "1.5"] {
            assert_eq!(
                verify(&format!("t={t},v1={good}"), BODY, SECRET, NOW),
                Err(SignatureError::Malformed),
                "t={t}"
            );
        }
        assert_eq!(
            verify(&format!("t={NOW},t={NOW},v1={good}"), BODY, SECRET, NOW),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn a_non_hex_signature_fails() {
        assert_eq!(
            verify(&header(NOW, &["not-hex-at-all"]), BODY, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
        // Hex of the wrong length.
        assert_eq!(
            verify(&header(NOW, &["abcd"]), BODY, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
        // A non-hex one next to a good one still passes.
        let good = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(&header(NOW, &["zz", &good]), BODY, SECRET, NOW),
            Ok(())
        );
    }
}
