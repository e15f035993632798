//! Sumo Logic HTTP source: lines (formats.md) posted to the source's URL (the credential)
//! in bodies of at most 1,000,000 bytes, with `X-Sumo-Category`, `X-Sumo-Name` and
//! `X-Sumo-Fields`.

use serde_json::Value;
use worker::Method;

use super::{send, split_lines, Failure, HttpRequest, Outgoing, Sender};
use crate::convert::batch::SUMO_MAX_BYTES;
use crate::edge::store::destinations::SumoConfig;

/// `X-Sumo-Fields`: `name=value` pairs joined by commas.
pub fn fields_header(config: &SumoConfig) -> Option<String> {
    let pairs: Vec<String> = config
        .fields
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    (!pairs.is_empty()).then(|| pairs.join(","))
}

fn request(
    sender: &Sender<'_>,
    config: &SumoConfig,
    body: Vec<u8>,
    gzip: bool,
) -> Result<HttpRequest, Failure> {
    let url = sender.credential(&sender.credentials.url, "url")?;
    let mut req =
        HttpRequest::new(Method::Post, url).header("content-type", "text/plain; charset=utf-8");
    if let Some(category) = &config.category {
        req = req.header("x-sumo-category", category.clone());
    }
    if let Some(name) = &config.name {
        req = req.header("x-sumo-name", name.clone());
    }
    if let Some(fields) = fields_header(config) {
        req = req.header("x-sumo-fields", fields);
    }
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    Ok(req.body(body))
}

pub async fn deliver(
    sender: &Sender<'_>,
    config: &SumoConfig,
    out: &Outgoing<'_>,
    on_part: &mut dyn FnMut(usize),
) -> Result<(), Failure> {
    for (i, part) in split_lines(out.body, SUMO_MAX_BYTES)
        .iter()
        .enumerate()
        .skip(out.parts_done)
    {
        let req = request(sender, config, super::encode_body(part, out.gzip), out.gzip)?;
        send(&req, sender.timeout_ms, sender.now_ms).await?;
        on_part(i + 1);
    }
    Ok(())
}

/// Posts an empty body, which a source accepts without logging anything.
pub async fn test(sender: &Sender<'_>, config: &SumoConfig) -> Result<String, Failure> {
    let req = request(sender, config, Vec::new(), false)?;
    send(&req, sender.timeout_ms, sender.now_ms).await?;
    Ok("the HTTP source accepted a request".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_become_one_header_in_their_order() {
        let mut config = SumoConfig {
            category: None,
            name: None,
            fields: serde_json::from_value(json!({"team": "sec", "env": "prod"})).unwrap(),
        };
        assert_eq!(fields_header(&config).as_deref(), Some("team=sec,env=prod"));
        config.fields.clear();
        assert_eq!(fields_header(&config), None);
    }
}
