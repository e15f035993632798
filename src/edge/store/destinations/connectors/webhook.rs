//! Webhooks: one signed `POST` per batch. `X-Trailsift-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>" with the secret>` (the body as sent, compressed when the
//! destination compresses) and `X-Trailsift-Batch: <destination id>:<firstSeq>-<lastSeq>`.

use worker::Method;

use super::s3::hmac;
use super::{hex, send, Failure, HttpRequest, Outgoing, Sender};
use crate::convert::{WriteOptions, Writer};
use crate::edge::store::destinations::{BodyFormat, WebhookConfig};

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut signed = format!("{unix_seconds}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "t={unix_seconds},v1={}",
        hex(&hmac(secret.as_bytes(), &signed))
    )
}

fn request(
    sender: &Sender<'_>,
    config: &WebhookConfig,
    key: &str,
    body: &[u8],
    format: BodyFormat,
    gzip: bool,
) -> Result<HttpRequest, Failure> {
    let secret = sender.credential(&sender.credentials.secret, "secret")?;
    let body = super::encode_body(body, gzip);
    let mut req = HttpRequest::new(Method::Post, config.url.clone())
        .header("content-type", super::content_type(format))
        .header(
            "x-trailsift-signature",
            signature(secret, sender.now_ms / 1000, &body),
        )
        .header("x-trailsift-batch", key);
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    Ok(req.body(body))
}

pub async fn deliver(
    sender: &Sender<'_>,
    config: &WebhookConfig,
    out: &Outgoing<'_>,
) -> Result<(), Failure> {
    let req = request(sender, config, out.key, out.body, out.format, out.gzip)?;
    send(&req, sender.timeout_ms, sender.now_ms)
        .await
        .map(|_| ())
}

/// Posts a signed batch without events, under the batch key `<id>:test`.
pub async fn test(sender: &Sender<'_>, config: &WebhookConfig) -> Result<String, Failure> {
    let format = BodyFormat::Json;
    let empty = Writer::new(format.format(), WriteOptions::default(), Vec::new())
        .finish()
        .unwrap_or_default();
    let key = format!("{}:test", sender.id);
    let req = request(sender, config, &key, &empty, format, false)?;
    send(&req, sender.timeout_ms, sender.now_ms).await?;
    Ok("the webhook accepted a signed empty batch".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_of_time_dot_body() {
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = signature("s3cret", 1_700_000_000, b"[]\n");
        let expected = hex(&hmac(b"s3cret", b"1700000000.[]\n"));
        assert_eq!(sig, format!("t=1700000000,v1={expected}"));
    }
}
