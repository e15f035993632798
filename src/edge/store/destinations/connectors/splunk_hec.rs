//! Splunk HTTP Event Collector: envelopes (formats.md) posted to
//! `<url>/services/collector/event` with `Authorization: Splunk <token>` and the
//! destination's request channel, in bodies of at most [`MAX_REQUEST_BYTES`]; an answer
//! counts only with its `code` 0.

use serde::Deserialize;
use worker::Method;

use super::{
    exchange, send, split_lines, Failure, HttpAnswer, HttpRequest, Outgoing, Sender, Stage,
};
use crate::edge::store::destinations::HecConfig;

/// The largest body sent in one request (HEC's `max_content_length` of 1 MB in older
/// Splunk releases and Splunk Cloud's guidance).
pub const MAX_REQUEST_BYTES: usize = 1_000_000;
/// HEC's answer code for a request without events ("No data").
const NO_DATA: i64 = 5;

/// The event endpoint under a HEC base URL.
pub fn endpoint(base: &str) -> String {
    format!("{}/services/collector/event", base.trim_end_matches('/'))
}

#[derive(Deserialize)]
struct HecAnswer {
    code: Option<i64>,
    #[serde(default)]
    text: String,
}

fn code(answer: &HttpAnswer) -> Option<HecAnswer> {
    serde_json::from_str(&answer.body).ok()
}

fn request(
    sender: &Sender<'_>,
    config: &HecConfig,
    body: Vec<u8>,
    gzip: bool,
) -> Result<HttpRequest, Failure> {
    let token = sender.credential(&sender.credentials.token, "token")?;
    let mut req = HttpRequest::new(Method::Post, endpoint(&config.url))
        .header("authorization", format!("Splunk {token}"))
        .header("x-splunk-request-channel", sender.channel)
        .header("content-type", "application/json");
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    Ok(req.body(body))
}

pub async fn deliver(
    sender: &Sender<'_>,
    config: &HecConfig,
    out: &Outgoing<'_>,
    on_part: &mut dyn FnMut(usize),
) -> Result<(), Failure> {
    for (i, part) in split_lines(out.body, MAX_REQUEST_BYTES)
        .iter()
        .enumerate()
        .skip(out.parts_done)
    {
        let req = request(sender, config, super::encode_body(part, out.gzip), out.gzip)?;
        let answer = send(&req, sender.timeout_ms, sender.now_ms).await?;
        match code(&answer) {
            Some(HecAnswer { code: Some(0), .. }) => on_part(i + 1),
            other => {
                let text = other.map(|a| format!("code {:?}: {}", a.code, a.text));
                return Err(Failure {
                    status: Some(answer.status),
                    ..Failure::new(
                        Stage::Http,
                        true,
                        format!(
                            "HEC did not confirm the events ({})",
                            text.unwrap_or_else(|| "no code".into())
                        ),
                    )
                });
            }
        }
    }
    Ok(())
}

/// Posts no events: HEC checks the token first, then answers "No data" (code 5).
pub async fn test(sender: &Sender<'_>, config: &HecConfig) -> Result<String, Failure> {
    let req = request(sender, config, Vec::new(), false)?;
    let answer = exchange(&req, sender.timeout_ms).await?;
    match code(&answer).and_then(|a| a.code) {
        Some(0) | Some(NO_DATA)
            if answer.status < 500 && answer.status != 401 && answer.status != 403 =>
        {
            Ok("HEC accepted the token".into())
        }
        _ => Err(super::classify(&answer, sender.now_ms).unwrap_or_else(|| {
            Failure::new(
                Stage::Http,
                false,
                format!("HTTP {}: not a HEC answer", answer.status),
            )
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_endpoint_is_under_the_base_url() {
        assert_eq!(
            endpoint("https://splunk:8088/"),
            "https://splunk:8088/services/collector/event"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:1"),
            "http://127.0.0.1:1/services/collector/event"
        );
    }
}
