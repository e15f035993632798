//! S3 and S3-compatible stores (AWS, R2, MinIO, GCS's XML API with HMAC keys): one `PUT`
//! per batch, signed with AWS Signature Version 4, path-style or virtual-hosted.
//!
//! The signing functions are pure, so they are tested natively against AWS's published
//! examples.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use worker::{Method, Url};

use super::{hex, send, uri_encode, Failure, HttpRequest, Outgoing, Sender, Stage};
use crate::edge::store::destinations::S3Config;

/// The object a connection test writes: an empty JSON array, so that a loader reading
/// the prefix sees no events in it.
pub const TEST_OBJECT: &str = "trailsift-connection-test.json";

/// The default endpoint of AWS S3 in `region`.
pub fn aws_endpoint(region: &str) -> String {
    format!("https://s3.{region}.amazonaws.com")
}

/// Who signs and for what.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// A request as SigV4 sees it. `path` is the canonical URI (already encoded); `query`
/// holds raw names and values; `headers` the signed headers, names in lower case.
pub struct Canonical<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub payload_sha256: &'a str,
}

impl Canonical<'_> {
    /// The canonical request and its signed-header list.
    pub fn request(&self) -> (String, String) {
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        query.sort();
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .collect();
        headers.sort();
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let request = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path,
            query.join("&"),
            canonical_headers,
            signed,
            self.payload_sha256
        );
        (request, signed)
    }
}

impl Signer<'_> {
    fn scope(&self, amz_date: &str) -> String {
        let date = amz_date.get(..8).unwrap_or_default();
        format!("{date}/{}/{}/aws4_request", self.region, self.service)
    }

    /// The string to sign for a canonical request made at `amz_date`.
    pub fn string_to_sign(&self, amz_date: &str, canonical_request: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
            self.scope(amz_date),
            hex(&Sha256::digest(canonical_request.as_bytes()))
        )
    }

    /// The `Authorization` header of a request.
    pub fn authorization(&self, amz_date: &str, canonical: &Canonical) -> String {
        let (request, signed) = canonical.request();
        let date = amz_date.get(..8).unwrap_or_default();
        let mut key = hmac(
            format!("AWS4{}", self.secret_access_key).as_bytes(),
            date.as_bytes(),
        );
        for part in [self.region, self.service, "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(
            &key,
            self.string_to_sign(amz_date, &request).as_bytes(),
        ));
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={signed},Signature={signature}",
            self.access_key_id,
            self.scope(amz_date)
        )
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never fails.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// `YYYYMMDD'T'HHMMSS'Z'` of epoch milliseconds.
pub fn amz_date(now_ms: i64) -> String {
    crate::time::format_ms(now_ms)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .take_while(|c| *c != '.')
        .chain(std::iter::once('Z'))
        .collect()
}

/// Where an object goes: its URL, the `Host` it is signed for and its canonical path.
#[derive(Debug, PartialEq, Eq)]
pub struct ObjectUrl {
    pub url: String,
    pub host: String,
    pub path: String,
}

/// The URL of object `key` in `bucket` at `endpoint`: `endpoint/bucket/key` (path-style)
/// or `bucket.endpoint/key` (virtual-hosted).
pub fn object_url(
    endpoint: &str,
    bucket: &str,
    key: &str,
    path_style: bool,
) -> Result<ObjectUrl, String> {
    let url = Url::parse(endpoint).map_err(|e| format!("bad endpoint: {e}"))?;
    let host = url.host_str().ok_or("the endpoint has no host")?;
    let host = if path_style {
        host.to_string()
    } else {
        format!("{bucket}.{host}")
    };
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let path = if path_style {
        format!("/{}/{}", uri_encode(bucket, false), uri_encode(key, true))
    } else {
        format!("/{}", uri_encode(key, true))
    };
    Ok(ObjectUrl {
        url: format!("{}://{host}{path}", url.scheme()),
        host,
        path,
    })
}

/// A signed `PUT` of one object.
pub fn put_object(
    signer: &Signer,
    target: &ObjectUrl,
    body: Vec<u8>,
    content_type: &str,
    now_ms: i64,
) -> HttpRequest {
    let amz_date = amz_date(now_ms);
    let payload = hex(&Sha256::digest(&body));
    let headers = [
        ("host", target.host.as_str()),
        ("x-amz-content-sha256", payload.as_str()),
        ("x-amz-date", amz_date.as_str()),
    ];
    let authorization = signer.authorization(
        &amz_date,
        &Canonical {
            method: "PUT",
            path: &target.path,
            query: &[],
            headers: &headers,
            payload_sha256: &payload,
        },
    );
    HttpRequest::new(Method::Put, target.url.clone())
        .header("x-amz-content-sha256", payload)
        .header("x-amz-date", amz_date)
        .header("content-type", content_type)
        .header("authorization", authorization)
        .body(body)
}

/// The content type of an object.
pub fn object_type(out: &Outgoing) -> &'static str {
    if out.gzip {
        "application/gzip"
    } else {
        super::content_type(out.format)
    }
}

fn signer<'a>(sender: &Sender<'a>, config: &'a S3Config) -> Result<Signer<'a>, Failure> {
    let c = sender.credentials;
    Ok(Signer {
        access_key_id: sender.credential(&c.access_key_id, "accessKeyId")?,
        secret_access_key: sender.credential(&c.secret_access_key, "secretAccessKey")?,
        region: &config.region,
        service: "s3",
    })
}

fn bad_endpoint(message: String) -> Failure {
    Failure::new(Stage::Connect, false, message)
}

pub async fn deliver(
    sender: &Sender<'_>,
    config: &S3Config,
    out: &Outgoing<'_>,
) -> Result<(), Failure> {
    let signer = signer(sender, config)?;
    let target = object_url(
        &config.endpoint,
        &config.bucket,
        out.name,
        config.path_style,
    )
    .map_err(bad_endpoint)?;
    let body = super::encode_body(out.body, out.gzip);
    let req = put_object(&signer, &target, body, object_type(out), sender.now_ms);
    send(&req, sender.timeout_ms, sender.now_ms)
        .await
        .map(|_| ())
}

pub async fn test(sender: &Sender<'_>, config: &S3Config) -> Result<String, Failure> {
    let signer = signer(sender, config)?;
    let name = format!("{}{TEST_OBJECT}", config.prefix);
    let target = object_url(&config.endpoint, &config.bucket, &name, config.path_style)
        .map_err(bad_endpoint)?;
    let req = put_object(
        &signer,
        &target,
        b"[]\n".to_vec(),
        "application/json",
        sender.now_ms,
    );
    send(&req, sender.timeout_ms, sender.now_ms).await?;
    Ok(format!("wrote {name} to bucket {}", config.bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn s3_example_signer() -> Signer<'static> {
        // The key pair of AWS's S3 SigV4 examples (Authenticating Requests: Using the
        // Authorization Header).
        Signer {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "s3",
        }
    }

    #[test]
    fn aws_example_get_object() {
        let signer = s3_example_signer();
        let headers = [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let canonical = Canonical {
            method: "GET",
            path: "/test.txt",
            query: &[],
            headers: &headers,
            payload_sha256: EMPTY_SHA256,
        };
        let (request, _) = canonical.request();
        assert_eq!(
            hex(&Sha256::digest(request.as_bytes())),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            signer.authorization("20130524T000000Z", &canonical),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn aws_example_put_object() {
        let signer = s3_example_signer();
        let body = b"Welcome to Amazon S3.";
        let payload = hex(&Sha256::digest(body));
        assert_eq!(
            payload,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let target = object_url(
            "https://s3.amazonaws.com",
            "examplebucket",
            "test$file.text",
            false,
        )
        .unwrap();
        assert_eq!(target.path, "/test%24file.text");
        let headers = [
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", target.host.as_str()),
            ("x-amz-content-sha256", payload.as_str()),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ];
        let auth = signer.authorization(
            "20130524T000000Z",
            &Canonical {
                method: "PUT",
                path: &target.path,
                query: &[],
                headers: &headers,
                payload_sha256: &payload,
            },
        );
        assert!(
            auth.ends_with(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,\
                 Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            ),
            "{auth}"
        );
    }

    #[test]
    fn aws_test_suite_query_parameters_are_sorted() {
        // get-vanilla-query-order-key-case of AWS's SigV4 test suite.
        let signer = Signer {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
        };
        let auth = signer.authorization(
            "20150830T123600Z",
            &Canonical {
                method: "GET",
                path: "/",
                query: &[("Param2", "value2"), ("Param1", "value1")],
                headers: &[
                    ("Host", "example.amazonaws.com"),
                    ("X-Amz-Date", "20150830T123600Z"),
                ],
                payload_sha256: EMPTY_SHA256,
            },
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,\
             SignedHeaders=host;x-amz-date,\
             Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn object_urls_path_style_and_virtual_hosted() {
        assert_eq!(
            object_url(
                "http://127.0.0.1:9000",
                "audit",
                "trail/1_2_3.json.gz",
                true
            )
            .unwrap(),
            ObjectUrl {
                url: "http://127.0.0.1:9000/audit/trail/1_2_3.json.gz".into(),
                host: "127.0.0.1:9000".into(),
                path: "/audit/trail/1_2_3.json.gz".into(),
            }
        );
        assert_eq!(
            object_url(&aws_endpoint("eu-west-1"), "audit", "a b/c", false).unwrap(),
            ObjectUrl {
                url: "https://audit.s3.eu-west-1.amazonaws.com/a%20b/c".into(),
                host: "audit.s3.eu-west-1.amazonaws.com".into(),
                path: "/a%20b/c".into(),
            }
        );
        // A default port is not part of the host.
        assert_eq!(
            object_url("https://r2.example:443", "b", "k", true)
                .unwrap()
                .host,
            "r2.example"
        );
        assert!(object_url("not a url", "b", "k", true).is_err());
    }

    #[test]
    fn amz_dates_are_basic_iso_8601() {
        assert_eq!(amz_date(1_369_353_600_000), "20130524T000000Z");
        assert_eq!(amz_date(1_763_719_530_123), "20251121T100530Z");
    }

    #[test]
    fn a_put_is_signed_for_its_host_and_payload() {
        let target = object_url("http://127.0.0.1:9000", "audit", "x.json", true).unwrap();
        let req = put_object(
            &s3_example_signer(),
            &target,
            b"[]\n".to_vec(),
            "application/json",
            1_369_353_600_000,
        );
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("x-amz-date"), Some("20130524T000000Z"));
        assert_eq!(header("x-amz-content-sha256").map(str::len), Some(64));
        let auth = header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"),
            "{auth}"
        );
        assert_eq!(req.body, b"[]\n");
    }
}
