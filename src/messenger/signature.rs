//! `X-Hub-Signature-256`: HMAC-SHA256 of the exact raw body with the app secret.

use super::WebhookError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header Meta signs webhook deliveries with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The header value for `body`: `sha256=` and lowercase hex.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header against the raw body, in constant time.
pub fn verify_signature(
    app_secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::BadSignature(
        "missing X-Hub-Signature-256 header",
    ))?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(WebhookError::BadSignature(
            "X-Hub-Signature-256 must start with sha256=",
        ))?;
    let expected = hex::decode(hex_sig)
        .map_err(|_| WebhookError::BadSignature("X-Hub-Signature-256 is not hexadecimal"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret)
        .map_err(|_| WebhookError::BadSignature("unusable app secret"))?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::BadSignature("X-Hub-Signature-256 does not match the body"))
}
