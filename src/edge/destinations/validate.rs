//! Checks a destination as a client gives it (`POST` body, or the current destination
//! with a `PATCH` body merged in): every field, with an error naming it.

use serde_json::{json, Map, Value};
use worker::Url;

use crate::edge::codes;
use crate::edge::error::{ApiError, ApiResult};
use crate::edge::store::destinations::connectors::{gcs, s3};
use crate::edge::store::destinations::{
    filter_source, BatchSettings, BodyFormat, Compression, Credentials, Definition, Destination,
    GcsConfig, HecConfig, Kind, RetrySettings, S3Config, ServiceAccountKey, Status, SumoConfig,
    Target, WebhookConfig,
};
use crate::transform::{Transform, TransformError};

/// The default GCS endpoint.
pub const GCS_ENDPOINT: &str = "https://storage.googleapis.com";

/// Batch limits: the largest batch is held in memory while it is sent.
const MAX_EVENTS: (u64, u64) = (1, 100_000);
const MAX_BYTES: (u64, u64) = (1_000, 20_000_000);
const INTERVAL_SECONDS: (u64, u64) = (1, 86_400);
const MAX_ATTEMPTS: (u64, u64) = (1, 100);
const BACKOFF_SECONDS: (f64, f64) = (0.0, 86_400.0);

/// Keys a client may send back from a `GET` that are not changed by it.
const READ_ONLY: &[&str] = &["created", "updated", "credentialKeys"];

/// A destination, checked.
#[derive(Debug)]
pub struct Checked {
    pub id: String,
    pub definition: Definition,
    pub credentials: Option<Credentials>,
    pub status: Status,
    pub start_after_seq: Option<i64>,
}

/// What the Worker's configuration allows.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Plain `http` URLs (`ALLOW_HTTP_DESTINATIONS`).
    pub allow_http: bool,
    /// The Worker can sign checkpoints (`LOG_SIGNING_KEY`), as evidence sidecars need.
    pub log_key: bool,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(codes::BAD_DESTINATION, message).with_details(json!({"field": field}))
}

/// A new destination from a `POST` body.
pub fn new_destination(body: &Value, rules: Rules) -> ApiResult<Checked> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("", "a destination must be a JSON object"))?;
    check(obj, rules, None)
}

/// The destination `current` becomes with a `PATCH` body: top-level fields replace
/// theirs; `config`, `batch` and `retry` change only the keys given (a `null` removes an
/// optional one); `credentials`, when given, replace all of them.
pub fn patched(current: &Destination, body: &Value, rules: Rules) -> ApiResult<Checked> {
    let patch = body
        .as_object()
        .ok_or_else(|| bad("", "a change must be a JSON object"))?;
    if let Some(id) = patch.get("id") {
        if id.as_str() != Some(current.id.as_str()) {
            return Err(bad("id", "`id` cannot be changed"));
        }
    }
    if let Some(kind) = patch.get("type") {
        if kind.as_str() != Some(current.definition.target.kind().name()) {
            return Err(bad(
                "type",
                "`type` cannot be changed; make a new destination",
            ));
        }
    }
    if patch.contains_key("startAfterSeq") {
        return Err(bad(
            "startAfterSeq",
            "`startAfterSeq` applies only to a new destination",
        ));
    }
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => return Err(ApiError::storage("the destination could not be read")),
    };
    for key in READ_ONLY {
        merged.remove(*key);
    }
    for (key, value) in patch {
        if READ_ONLY.contains(&key.as_str()) {
            continue;
        }
        match (key.as_str(), merged.get_mut(key), value) {
            ("config" | "batch" | "retry", Some(Value::Object(old)), Value::Object(new)) => {
                for (k, v) in new {
                    if v.is_null() {
                        old.remove(k);
                    } else {
                        old.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    check(&merged, rules, Some(current))
}

const TOP_LEVEL: &[&str] = &[
    "id",
    "name",
    "description",
    "tags",
    "type",
    "config",
    "credentials",
    "format",
    "compression",
    "filter",
    "transform",
    "evidence",
    "status",
    "batch",
    "retry",
    "startAfterSeq",
];

/// Checks a destination's definition; `current` is the destination a `PATCH` changes
/// (`None` when creating).
fn check(
    obj: &Map<String, Value>,
    rules: Rules,
    current: Option<&Destination>,
) -> ApiResult<Checked> {
    let creating = current.is_none();
    let top = Fields::new(obj, "");
    top.only(TOP_LEVEL, READ_ONLY)?;
    let name = top
        .string("name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("name", "`name` must be a non-empty string"))?;
    let id = match top.string("id")? {
        Some(id) if valid_id(&id) => id,
        Some(_) => return Err(bad("id", ID_ERROR)),
        None => slug(&name).ok_or_else(|| {
            bad(
                "id",
                "`name` makes no id (no letters or digits): give an `id`",
            )
        })?,
    };
    let description = top.string("description")?.unwrap_or_default();
    let tags = tags(obj.get("tags"))?;
    let kind_name = top.string("type")?.ok_or_else(|| {
        bad(
            "type",
            "`type` is required: s3, gcs, splunk_hec, sumo or webhook",
        )
    })?;
    let kind = Kind::from_name(&kind_name).ok_or_else(|| {
        ApiError::bad_request(
            codes::UNKNOWN_DESTINATION_TYPE,
            format!(
                "unknown destination type `{kind_name}`: use s3, gcs, splunk_hec, sumo or webhook"
            ),
        )
        .with_details(json!({"field": "type"}))
    })?;
    let config = match obj.get("config") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad("config", "`config` must be an object")),
    };
    let target = target(kind, &Fields::new(&config, "config"), rules)?;
    let credentials = match obj.get("credentials") {
        None | Some(Value::Null) if creating => {
            return Err(bad(
                "credentials",
                format!("`credentials` are required for {kind_name}"),
            ))
        }
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(credentials(kind, &Fields::new(m, "credentials"), rules)?),
        Some(_) => return Err(bad("credentials", "`credentials` must be an object")),
    };
    let format = format(kind, top.string("format")?)?;
    let compression = match top.string("compression")?.as_deref() {
        None | Some("none") => Compression::None,
        Some("gzip") => Compression::Gzip,
        Some(_) => return Err(bad("compression", "`compression` must be none or gzip")),
    };
    let filter = top.string("filter")?.unwrap_or_default();
    if let Err(e) = filter_source(&filter).compile() {
        let rendered = e.render(&filter);
        let mut details = serde_json::to_value(&e).unwrap_or(Value::Null);
        if let Value::Object(d) = &mut details {
            d.insert("field".into(), json!("filter"));
            d.insert("rendered".into(), json!(rendered));
        }
        return Err(ApiError::bad_request(
            codes::BAD_FILTER,
            format!("`filter` does not compile: {}", e.message),
        )
        .with_details(details));
    }
    let transform = match obj.get("transform") {
        None | Some(Value::Null) => None,
        Some(t) => Some(Transform::from_value(t).map_err(|e| transform_error(e, "transform"))?),
    };
    // A pseudonymising transform needs its key now, not at the first delivery.
    let has_key = match (&credentials, current) {
        (Some(c), _) => c.pseudonymize_key.is_some(),
        (None, Some(d)) => d.credential_keys.iter().any(|k| k == "pseudonymizeKey"),
        (None, None) => false,
    };
    if let Some(Err(e)) = transform.clone().filter(|_| !has_key).map(|t| t.bind(None)) {
        return Err(transform_error(e, "credentials.pseudonymizeKey"));
    }
    let transform = transform.map(|t| t.to_value());
    let evidence = optional_bool(&top, "evidence")?;
    if evidence {
        check_evidence(kind, transform.is_some(), rules)?;
    }
    let status =
        match (top.string("status")?.as_deref(), creating) {
            (None, _) | (Some("inactive"), _) => Status::Inactive,
            (Some("active"), false) => Status::Active,
            (Some("active"), true) => return Err(bad(
                "status",
                "a new destination is inactive; activate it with PATCH {\"status\": \"active\"}",
            )),
            (Some(_), _) => return Err(bad("status", "`status` must be active or inactive")),
        };
    let batch = batch(obj.get("batch"))?;
    let retry = retry(obj.get("retry"))?;
    let start_after_seq = match obj.get("startAfterSeq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().filter(|s| *s >= 0).ok_or_else(|| {
            bad(
                "startAfterSeq",
                "`startAfterSeq` must be a sequence number (0 or more)",
            )
        })?),
    };
    Ok(Checked {
        id,
        definition: Definition {
            name,
            description,
            tags,
            target,
            format,
            compression,
            filter,
            transform,
            evidence,
            batch,
            retry,
        },
        credentials,
        status,
        start_after_seq,
    })
}

/// Whether a destination can have evidence sidecars: an object store's, without a
/// transform, on a Worker that signs checkpoints.
fn check_evidence(kind: Kind, transform: bool, rules: Rules) -> ApiResult<()> {
    if !matches!(kind, Kind::S3 | Kind::Gcs) {
        return Err(bad(
            "evidence",
            format!(
                "`evidence` applies to s3 and gcs destinations only (a sidecar object beside each object); a {} destination has no object to put it beside",
                kind.name()
            ),
        ));
    }
    if transform {
        // The sidecar proves the events as the account stores them: a transformed object
        // would not verify against it.
        return Err(bad(
            "evidence",
            "`evidence` cannot be combined with a `transform`: the sidecar proves the events as stored, and transformed events do not verify against it; send the transformed copy through a second destination",
        ));
    }
    if !rules.log_key {
        return Err(ApiError::new(
            503,
            codes::LOG_KEY_UNAVAILABLE,
            "`evidence` needs the log's signing key, and the Worker has no LOG_SIGNING_KEY",
        )
        .with_details(json!({"field": "evidence"})));
    }
    Ok(())
}

/// `400 bad_transform` with the transform's own error and the field at fault.
fn transform_error(e: TransformError, field: &str) -> ApiError {
    let mut api = ApiError::from(e);
    if let Value::Object(d) = api.details.as_mut() {
        d.insert("field".into(), json!(field));
    }
    api
}

const ID_ERROR: &str = "`id` must be 1-64 characters of letters, digits, `-`, `_` or `.`";

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The id a name gives: lower-case letters and digits, other runs of characters as `-`.
pub fn slug(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(64).collect();
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// An object's fields, read one by one; `path` prefixes the names in errors.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Fields { map, path }
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Rejects keys outside `allowed` (and `ignored`).
    fn only(&self, allowed: &[&str], ignored: &[&str]) -> ApiResult<()> {
        match self
            .map
            .keys()
            .find(|k| !allowed.contains(&k.as_str()) && !ignored.contains(&k.as_str()))
        {
            Some(k) => Err(bad(
                &self.name(k),
                format!(
                    "unknown field `{}`; known: {}",
                    self.name(k),
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// A string field; `null` counts as absent.
    fn string(&self, key: &str) -> ApiResult<Option<String>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(
                &self.name(key),
                format!("`{}` must be a string", self.name(key)),
            )),
        }
    }

    fn required(&self, key: &str) -> ApiResult<String> {
        self.string(key)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad(&self.name(key), format!("`{}` is required", self.name(key))))
    }

    /// A credential: a non-empty string, never echoed in errors.
    fn secret(&self, key: &str) -> ApiResult<Option<String>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => Err(bad(
                &self.name(key),
                format!("`{}` must be a non-empty string", self.name(key)),
            )),
        }
    }

    fn required_secret(&self, key: &str) -> ApiResult<String> {
        self.secret(key)?
            .ok_or_else(|| bad(&self.name(key), format!("`{}` is required", self.name(key))))
    }

    fn url(&self, key: &str, rules: Rules) -> ApiResult<Option<String>> {
        match self.string(key)? {
            None => Ok(None),
            Some(u) => check_url(&self.name(key), &u, rules).map(Some),
        }
    }
}

/// A receiver URL: `https`, or `http` when allowed, with a host and no user info, not local
/// or private unless `http` is allowed (development). The
/// URL itself is never echoed (it may hold a secret).
fn check_url(field: &str, text: &str, rules: Rules) -> ApiResult<String> {
    let bad_url = |message: String| {
        ApiError::bad_request(codes::BAD_DESTINATION_URL, message)
            .with_details(json!({"field": field}))
    };
    let url =
        Url::parse(text.trim()).map_err(|e| bad_url(format!("`{field}` is not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad_url(format!(
            "`{field}` holds user info; URLs with user info are not accepted (put secrets in `credentials`)"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad_url(format!("`{field}` has no host")));
    }
    match url.scheme() {
        "https" => {}
        "http" if rules.allow_http => {}
        "http" => {
            return Err(ApiError::bad_request(
                codes::HTTP_NOT_ALLOWED,
                format!("`{field}` must be https; plain http is allowed only when the Worker variable ALLOW_HTTP_DESTINATIONS is true"),
            )
            .with_details(json!({"field": field})))
        }
        other => return Err(bad_url(format!("`{field}` must be an https URL (got scheme `{other}`)"))),
    }
    if !rules.allow_http && url.host_str().is_some_and(local_host) {
        return Err(ApiError::bad_request(
            codes::PRIVATE_DESTINATION,
            format!("`{field}` names a local or private address; such receivers are allowed only when the Worker variable ALLOW_HTTP_DESTINATIONS is true"),
        )
        .with_details(json!({"field": field})));
    }
    Ok(text.trim().to_string())
}

/// A host that is this machine or a private network: `localhost` and its subdomains, and
/// loopback, private, link-local, shared (RFC 6598) or unspecified IP addresses. A name that
/// resolves to such an address cannot be seen here (the Worker resolves no names).
fn local_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => local_v4(ip),
        Ok(std::net::IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || ip.to_ipv4_mapped().is_some_and(local_v4)
        }
        Err(_) => false,
    }
}

fn local_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

/// An endpoint: a URL with no path, query or fragment of its own.
fn endpoint(fields: &Fields, key: &str, default: String, rules: Rules) -> ApiResult<String> {
    let Some(url) = fields.url(key, rules)? else {
        return Ok(default);
    };
    let parsed = Url::parse(&url).map_err(|_| bad(&fields.name(key), "not a URL"))?;
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad(
            &fields.name(key),
            format!(
                "`{}` must be a scheme and host (and port) only",
                fields.name(key)
            ),
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn bucket(fields: &Fields, max: usize) -> ApiResult<String> {
    let bucket = fields.required("bucket")?;
    let ok = (3..=max).contains(&bucket.len())
        && bucket.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_'
        });
    if !ok {
        return Err(bad(
            &fields.name("bucket"),
            format!("`config.bucket` must be 3-{max} lower-case letters, digits, `-`, `_` or `.`"),
        ));
    }
    Ok(bucket)
}

fn optional_bool(fields: &Fields, key: &str) -> ApiResult<bool> {
    match fields.map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(
            &fields.name(key),
            format!("`{}` must be true or false", fields.name(key)),
        )),
    }
}

fn target(kind: Kind, c: &Fields, rules: Rules) -> ApiResult<Target> {
    Ok(match kind {
        Kind::S3 => {
            c.only(
                &["endpoint", "region", "bucket", "prefix", "pathStyle"],
                &[],
            )?;
            let region = c.required("region")?;
            if !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(bad(
                    "config.region",
                    "`config.region` must be a region name such as eu-west-1",
                ));
            }
            Target::S3(S3Config {
                endpoint: endpoint(c, "endpoint", s3::aws_endpoint(&region), rules)?,
                bucket: bucket(c, 63)?,
                region,
                prefix: c.string("prefix")?.unwrap_or_default(),
                path_style: optional_bool(c, "pathStyle")?,
            })
        }
        Kind::Gcs => {
            c.only(&["bucket", "prefix", "endpoint"], &[])?;
            Target::Gcs(GcsConfig {
                bucket: bucket(c, 222)?,
                prefix: c.string("prefix")?.unwrap_or_default(),
                endpoint: endpoint(c, "endpoint", GCS_ENDPOINT.into(), rules)?,
            })
        }
        Kind::SplunkHec => {
            c.only(&["url", "index", "source", "sourcetype", "host"], &[])?;
            let url = c
                .url("url", rules)?
                .ok_or_else(|| bad("config.url", "`config.url` (the HEC base URL) is required"))?;
            Target::SplunkHec(HecConfig {
                url: url.trim_end_matches('/').to_string(),
                index: c.string("index")?,
                source: c.string("source")?,
                sourcetype: c.string("sourcetype")?,
                host: c.string("host")?,
            })
        }
        Kind::Sumo => {
            c.only(&["category", "name", "fields"], &[])?;
            let fields = match c.map.get("fields") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => {
                    for (k, v) in m {
                        let plain = |s: &str| !s.is_empty() && !s.contains([',', '=', '\n', '\r']);
                        if !plain(k) || !v.as_str().is_some_and(plain) {
                            return Err(bad(
                                "config.fields",
                                "`config.fields` must map names to string values, neither empty nor holding `,` or `=`",
                            ));
                        }
                    }
                    m.clone()
                }
                Some(_) => return Err(bad("config.fields", "`config.fields` must be an object")),
            };
            Target::Sumo(SumoConfig {
                category: c.string("category")?,
                name: c.string("name")?,
                fields,
            })
        }
        Kind::Webhook => {
            c.only(&["url"], &[])?;
            Target::Webhook(WebhookConfig {
                url: c
                    .url("url", rules)?
                    .ok_or_else(|| bad("config.url", "`config.url` is required"))?,
            })
        }
    })
}

fn credentials(kind: Kind, c: &Fields, rules: Rules) -> ApiResult<Credentials> {
    const PSEUDONYMIZE: &str = "pseudonymizeKey";
    let mut out = Credentials {
        pseudonymize_key: c.secret(PSEUDONYMIZE)?,
        ..Credentials::default()
    };
    match kind {
        Kind::S3 => {
            c.only(&["accessKeyId", "secretAccessKey", PSEUDONYMIZE], &[])?;
            out.access_key_id = Some(c.required_secret("accessKeyId")?);
            out.secret_access_key = Some(c.required_secret("secretAccessKey")?);
        }
        Kind::Gcs => {
            c.only(
                &[
                    "serviceAccountKey",
                    "hmacAccessId",
                    "hmacSecret",
                    PSEUDONYMIZE,
                ],
                &[],
            )?;
            let hmac = (c.secret("hmacAccessId")?, c.secret("hmacSecret")?);
            match (c.map.get("serviceAccountKey"), hmac) {
                (Some(key), (None, None)) => {
                    out.service_account_key = Some(service_account_key(key, rules)?);
                }
                (None, (Some(id), Some(secret))) => {
                    out.hmac_access_id = Some(id);
                    out.hmac_secret = Some(secret);
                }
                _ => return Err(bad(
                    "credentials",
                    "gcs credentials are `serviceAccountKey`, or `hmacAccessId` and `hmacSecret`",
                )),
            }
        }
        Kind::SplunkHec => {
            c.only(&["token", PSEUDONYMIZE], &[])?;
            out.token = Some(c.required_secret("token")?);
        }
        Kind::Sumo => {
            c.only(&["url", PSEUDONYMIZE], &[])?;
            let url = c.required_secret("url")?;
            out.url = Some(check_url("credentials.url", &url, rules)?);
        }
        Kind::Webhook => {
            c.only(&["secret", PSEUDONYMIZE], &[])?;
            out.secret = Some(c.required_secret("secret")?);
        }
    }
    Ok(out)
}

/// A service-account key, as the JSON object Google issues or its text.
fn service_account_key(value: &Value, rules: Rules) -> ApiResult<ServiceAccountKey> {
    const FIELD: &str = "credentials.serviceAccountKey";
    let parsed;
    let value = match value {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).map_err(|_| {
                bad(
                    FIELD,
                    format!("`{FIELD}` must be the key's JSON (an object or its text)"),
                )
            })?;
            &parsed
        }
        v => v,
    };
    let obj = value
        .as_object()
        .ok_or_else(|| bad(FIELD, format!("`{FIELD}` must be the key's JSON object")))?;
    let get = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad(FIELD, format!("`{FIELD}` lacks `{k}`")))
    };
    let key = ServiceAccountKey {
        client_email: get("client_email")?,
        private_key: get("private_key")?,
        token_uri: check_url(&format!("{FIELD}.token_uri"), &get("token_uri")?, rules)?,
        private_key_id: obj
            .get("private_key_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    gcs::pem_to_der(&key.private_key).map_err(|e| bad(FIELD, format!("`{FIELD}`: {e}")))?;
    Ok(key)
}

fn format(kind: Kind, given: Option<String>) -> ApiResult<BodyFormat> {
    let own = match kind {
        Kind::SplunkHec => Some(BodyFormat::SplunkHec),
        Kind::Sumo => Some(BodyFormat::Sumo),
        _ => None,
    };
    match (own, given.as_deref()) {
        (Some(f), None) => Ok(f),
        (Some(f), Some(g)) if g == kind.name() => Ok(f),
        (Some(_), Some(_)) => Err(bad(
            "format",
            format!(
                "{} destinations write their own format; `format` must be {} or left out",
                kind.name(),
                kind.name()
            ),
        )),
        (None, None | Some("json")) => Ok(BodyFormat::Json),
        (None, Some("ndjson")) => Ok(BodyFormat::Ndjson),
        (None, Some(_)) => Err(bad("format", "`format` must be json or ndjson")),
    }
}

fn tags(value: Option<&Value>) -> ApiResult<Map<String, Value>> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) if m.len() <= 50 && m.values().all(Value::is_string) => {
            Ok(m.clone())
        }
        Some(_) => Err(bad(
            "tags",
            "`tags` must be an object of at most 50 string values",
        )),
    }
}

/// A number field of `batch` or `retry` within its range.
fn number(
    obj: &Map<String, Value>,
    path: &str,
    key: &str,
    range: (f64, f64),
    whole: bool,
) -> ApiResult<Option<f64>> {
    let field = format!("{path}.{key}");
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = v.as_f64().filter(|n| {
                n.is_finite() && *n >= range.0 && *n <= range.1 && (!whole || n.fract() == 0.0)
            });
            n.map(Some).ok_or_else(|| {
                let kind = if whole { "a whole number" } else { "a number" };
                bad(
                    &field,
                    format!("`{field}` must be {kind} from {} to {}", range.0, range.1),
                )
            })
        }
    }
}

fn settings(value: Option<&Value>, path: &str, keys: &[&str]) -> ApiResult<Map<String, Value>> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => {
            Fields::new(m, path).only(keys, &[])?;
            Ok(m.clone())
        }
        Some(_) => Err(bad(path, format!("`{path}` must be an object"))),
    }
}

fn batch(value: Option<&Value>) -> ApiResult<BatchSettings> {
    let m = settings(
        value,
        "batch",
        &["maxEvents", "maxBytes", "intervalSeconds"],
    )?;
    let whole = |key: &str, (lo, hi): (u64, u64), default: u64| -> ApiResult<u64> {
        Ok(number(&m, "batch", key, (lo as f64, hi as f64), true)?.map_or(default, |n| n as u64))
    };
    Ok(BatchSettings {
        max_events: whole("maxEvents", MAX_EVENTS, 10_000)?,
        max_bytes: whole("maxBytes", MAX_BYTES, 5_000_000)?,
        interval_seconds: whole("intervalSeconds", INTERVAL_SECONDS, 1_800)?,
    })
}

fn retry(value: Option<&Value>) -> ApiResult<RetrySettings> {
    let m = settings(
        value,
        "retry",
        &["maxAttempts", "baseSeconds", "maxSeconds"],
    )?;
    let attempts = number(
        &m,
        "retry",
        "maxAttempts",
        (MAX_ATTEMPTS.0 as f64, MAX_ATTEMPTS.1 as f64),
        true,
    )?;
    let retry = RetrySettings {
        max_attempts: attempts.map_or(8, |n| n as u32),
        base_seconds: number(&m, "retry", "baseSeconds", BACKOFF_SECONDS, false)?.unwrap_or(2.0),
        max_seconds: number(&m, "retry", "maxSeconds", BACKOFF_SECONDS, false)?.unwrap_or(900.0),
    };
    if retry.max_seconds < retry.base_seconds {
        return Err(bad(
            "retry.maxSeconds",
            "`retry.maxSeconds` must not be less than `retry.baseSeconds`",
        ));
    }
    Ok(retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::field;

    const HTTP: Rules = Rules {
        allow_http: true,
        log_key: true,
    };
    const HTTPS_ONLY: Rules = Rules {
        allow_http: false,
        log_key: true,
    };

    fn s3_body() -> Value {
        json!({"name": "SIEM S3", "type": "s3",
               "config": {"region": "eu-west-1", "bucket": "audit-logs", "prefix": "trail/"},
               "credentials": {"accessKeyId": "AKID", "secretAccessKey": "SECRET"}})
    }

    fn code(r: ApiResult<Checked>) -> (String, Value) {
        let e = r.unwrap_err();
        (e.code, (*e.details).clone())
    }

    #[test]
    fn a_new_destination_takes_its_defaults() {
        let c = new_destination(&s3_body(), HTTPS_ONLY).unwrap();
        assert_eq!(c.id, "siem-s3");
        assert_eq!(c.status, Status::Inactive);
        assert_eq!(c.definition.format, BodyFormat::Json);
        assert_eq!(c.definition.compression, Compression::None);
        assert_eq!(
            c.definition.batch,
            BatchSettings {
                max_events: 10_000,
                max_bytes: 5_000_000,
                interval_seconds: 1_800
            }
        );
        assert_eq!(c.definition.retry.max_attempts, 8);
        let Target::S3(s3) = &c.definition.target else {
            panic!("not s3")
        };
        assert_eq!(s3.endpoint, "https://s3.eu-west-1.amazonaws.com");
        assert!(!s3.path_style);
        assert_eq!(
            c.credentials.unwrap().keys(),
            ["accessKeyId", "secretAccessKey"]
        );
    }

    #[test]
    fn each_kind_of_fault_has_its_code_and_field() {
        let with = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut body = s3_body();
            f(body.as_object_mut().unwrap());
            new_destination(&body, HTTPS_ONLY)
        };
        assert_eq!(
            code(with(&|b| {
                b.insert("type".into(), json!("kafka"));
            }))
            .0,
            codes::UNKNOWN_DESTINATION_TYPE
        );
        let (c, d) = code(with(&|b| {
            b["config"]["endpoint"] = json!("http://127.0.0.1:9000");
        }));
        assert_eq!(
            (c.as_str(), d["field"].as_str()),
            (codes::HTTP_NOT_ALLOWED, Some("config.endpoint"))
        );
        assert!(new_destination(
            &{
                let mut b = s3_body();
                b["config"]["endpoint"] = json!("http://127.0.0.1:9000");
                b
            },
            HTTP
        )
        .is_ok());
        let (c, d) = code(with(&|b| {
            b["config"]["endpoint"] = json!("https://user:pw@s3.example");
        }));
        assert_eq!(
            (c.as_str(), d["field"].as_str()),
            (codes::BAD_DESTINATION_URL, Some("config.endpoint"))
        );
        assert_eq!(
            code(with(&|b| {
                b["config"]["endpoint"] = json!("ftp://x");
            }))
            .0,
            codes::BAD_DESTINATION_URL
        );
        assert_eq!(
            code(with(&|b| {
                b["config"]["endpoint"] = json!("https://x/path");
            }))
            .1["field"],
            "config.endpoint"
        );
        let (c, d) = code(with(&|b| {
            b.insert("filter".into(), json!("acton:create"));
        }));
        assert_eq!(c, codes::BAD_FILTER);
        assert_eq!(d["field"], "filter");
        assert!(d["rendered"].as_str().unwrap().contains("^^^^^"), "{d}");
        assert_eq!(
            code(with(&|b| {
                b.insert("transform".into(), json!([1]));
            }))
            .0,
            codes::BAD_TRANSFORM
        );
        assert_eq!(
            code(with(&|b| {
                b["config"].as_object_mut().unwrap().remove("bucket");
            }))
            .1["field"],
            "config.bucket"
        );
        assert_eq!(
            code(with(&|b| {
                b["config"]["colour"] = json!("red");
            }))
            .1["field"],
            "config.colour"
        );
        assert_eq!(
            code(with(&|b| {
                b.remove("credentials");
            }))
            .1["field"],
            "credentials"
        );
        assert_eq!(
            code(with(&|b| {
                b["credentials"]["token"] = json!("t");
            }))
            .1["field"],
            "credentials.token"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("status".into(), json!("active"));
            }))
            .1["field"],
            "status"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("batch".into(), json!({"maxEvents": 0}));
            }))
            .1["field"],
            "batch.maxEvents"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("retry".into(), json!({"baseSeconds": 5, "maxSeconds": 1}));
            }))
            .1["field"],
            "retry.maxSeconds"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("format".into(), json!("csv"));
            }))
            .1["field"],
            "format"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("owner".into(), json!("x"));
            }))
            .1["field"],
            "owner"
        );
        assert_eq!(
            code(with(&|b| {
                b.insert("startAfterSeq".into(), json!(-1));
            }))
            .1["field"],
            "startAfterSeq"
        );
    }

    #[test]
    fn evidence_goes_only_beside_untransformed_objects_of_a_signing_worker() {
        let mut body = s3_body();
        assert!(
            !new_destination(&body, HTTPS_ONLY)
                .unwrap()
                .definition
                .evidence
        );
        body["evidence"] = json!(true);
        assert!(
            new_destination(&body, HTTPS_ONLY)
                .unwrap()
                .definition
                .evidence
        );
        let gcs = json!({"name": "g", "type": "gcs", "config": {"bucket": "audit"}, "evidence": true,
                         "credentials": {"hmacAccessId": "GOOG1", "hmacSecret": "s"}});
        assert!(
            new_destination(&gcs, HTTPS_ONLY)
                .unwrap()
                .definition
                .evidence
        );
        let hook = json!({"name": "h", "type": "webhook", "config": {"url": "https://hooks.example/a"},
                          "credentials": {"secret": "s"}, "evidence": true});
        let e = new_destination(&hook, HTTPS_ONLY).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, codes::BAD_DESTINATION));
        assert_eq!(e.details["field"], "evidence");
        assert!(e.message.contains("s3 and gcs"), "{}", e.message);
        let mut transformed = body.clone();
        transformed["transform"] = json!({"exclude": [field::METADATA]});
        let e = new_destination(&transformed, HTTPS_ONLY).unwrap_err();
        assert_eq!(
            (e.status, e.details["field"].clone()),
            (400, json!("evidence"))
        );
        assert!(e.message.contains("transform"), "{}", e.message);
        let unsigned = Rules {
            allow_http: false,
            log_key: false,
        };
        let e = new_destination(&body, unsigned).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (503, codes::LOG_KEY_UNAVAILABLE)
        );
        body["evidence"] = json!("yes");
        assert_eq!(
            code(new_destination(&body, HTTPS_ONLY)).1["field"],
            "evidence"
        );
        // A patch that adds a transform to an evidence destination is refused too.
        let current = Destination {
            id: "siem-s3".into(),
            definition: new_destination(&s3_body(), HTTPS_ONLY).unwrap().definition,
            status: Status::Inactive,
            credential_keys: vec!["accessKeyId".into(), "secretAccessKey".into()],
            created: 1,
            updated: 1,
        };
        let on = patched(&current, &json!({"evidence": true}), HTTPS_ONLY).unwrap();
        assert!(on.definition.evidence);
        let current = Destination {
            definition: on.definition,
            ..current
        };
        let t = json!({"transform": {"exclude": [field::METADATA]}});
        assert_eq!(
            code(patched(&current, &t, HTTPS_ONLY)).1["field"],
            "evidence"
        );
    }

    #[test]
    fn credential_values_never_appear_in_errors() {
        let body = json!({"name": "sumo", "type": "sumo",
            "credentials": {"url": "http://collectors.example/receiver/v1/http/SECRETTOKEN"}});
        let e = new_destination(&body, HTTPS_ONLY).unwrap_err();
        assert_eq!(e.code, codes::HTTP_NOT_ALLOWED);
        assert!(
            !e.message.contains("SECRETTOKEN") && !e.body().to_string().contains("SECRETTOKEN")
        );
    }

    #[test]
    fn splunk_and_sumo_write_their_own_formats() {
        let hec = json!({"name": "hec", "type": "splunk_hec", "config": {"url": "https://splunk:8088/"},
                         "credentials": {"token": "t"}});
        let c = new_destination(&hec, HTTPS_ONLY).unwrap();
        assert_eq!(c.definition.format, BodyFormat::SplunkHec);
        let Target::SplunkHec(h) = &c.definition.target else {
            panic!()
        };
        assert_eq!(h.url, "https://splunk:8088");
        let mut wrong = hec.clone();
        wrong["format"] = json!("ndjson");
        assert_eq!(
            code(new_destination(&wrong, HTTPS_ONLY)).1["field"],
            "format"
        );
    }

    #[test]
    fn gcs_takes_a_service_account_key_or_hmac_keys() {
        let key = json!({"type": "service_account", "client_email": "a@b", "private_key_id": "k",
            "private_key": "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n",
            "token_uri": "https://oauth2.googleapis.com/token"});
        let body = |creds: Value| json!({"name": "g", "type": "gcs", "config": {"bucket": "audit"}, "credentials": creds});
        let c = new_destination(&body(json!({"serviceAccountKey": key})), HTTPS_ONLY).unwrap();
        assert_eq!(c.credentials.unwrap().keys(), ["serviceAccountKey"]);
        let text = key.to_string();
        assert!(new_destination(&body(json!({"serviceAccountKey": text})), HTTPS_ONLY).is_ok());
        assert!(new_destination(
            &body(json!({"hmacAccessId": "GOOG1", "hmacSecret": "s"})),
            HTTPS_ONLY
        )
        .is_ok());
        assert!(new_destination(&body(json!({"hmacAccessId": "GOOG1"})), HTTPS_ONLY).is_err());
        let mut bad_key = key.clone();
        bad_key["token_uri"] = json!("http://127.0.0.1:1/token");
        assert_eq!(
            code(new_destination(
                &body(json!({"serviceAccountKey": bad_key})),
                HTTPS_ONLY
            ))
            .0,
            codes::HTTP_NOT_ALLOWED
        );
    }

    #[test]
    fn a_patch_merges_into_the_current_destination() {
        let c = new_destination(&s3_body(), HTTPS_ONLY).unwrap();
        let current = Destination {
            id: c.id.clone(),
            definition: c.definition,
            status: Status::Inactive,
            credential_keys: vec!["accessKeyId".into(), "secretAccessKey".into()],
            created: 1,
            updated: 2,
        };
        let p = patched(&current, &json!({"status": "active", "config": {"prefix": "new/"}, "batch": {"maxEvents": 5}, "created": 9}), HTTPS_ONLY).unwrap();
        assert_eq!(p.status, Status::Active);
        assert!(p.credentials.is_none());
        let Target::S3(s3) = &p.definition.target else {
            panic!()
        };
        assert_eq!(
            (s3.prefix.as_str(), s3.bucket.as_str()),
            ("new/", "audit-logs")
        );
        assert_eq!(p.definition.batch.max_events, 5);
        assert_eq!(p.definition.batch.interval_seconds, 1800);
        assert_eq!(
            code(patched(&current, &json!({"type": "gcs"}), HTTPS_ONLY)).1["field"],
            "type"
        );
        assert_eq!(
            code(patched(&current, &json!({"id": "other"}), HTTPS_ONLY)).1["field"],
            "id"
        );
        assert_eq!(
            code(patched(&current, &json!({"startAfterSeq": 0}), HTTPS_ONLY)).1["field"],
            "startAfterSeq"
        );
        let removed = patched(
            &current,
            &json!({"filter": "action:create", "transform": {"exclude": [field::METADATA]}}),
            HTTPS_ONLY,
        )
        .unwrap();
        assert_eq!(removed.definition.filter, "action:create");
        assert!(removed.definition.transform.is_some());
    }

    #[test]
    fn local_and_private_receivers_need_the_development_switch() {
        for host in [
            "localhost",
            "api.localhost",
            "LOCALHOST.",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "[::1]",
            "[fd00::1]",
            "[fe80::1]",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(local_host(host), "{host}");
        }
        for host in [
            "s3.example",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "[2001:db8::1]",
            "localhost.example",
        ] {
            assert!(!local_host(host), "{host}");
        }
        let mut body = s3_body();
        body["config"]["endpoint"] = json!("https://169.254.169.254");
        let (c, d) = code(new_destination(&body, HTTPS_ONLY));
        assert_eq!(
            (c.as_str(), d["field"].as_str()),
            (codes::PRIVATE_DESTINATION, Some("config.endpoint"))
        );
        assert!(new_destination(&body, HTTP).is_ok());
    }

    #[test]
    fn slugs_of_names() {
        assert_eq!(slug("SIEM S3").as_deref(), Some("siem-s3"));
        assert_eq!(slug("  Ops -- Splunk!! ").as_deref(), Some("ops-splunk"));
        assert_eq!(slug("***"), None);
        assert_eq!(slug(&"a".repeat(100)).map(|s| s.len()), Some(64));
    }
}
