//! Google Cloud Storage: with a service-account key, an OAuth token (from an RS256 JWT
//! signed through WebCrypto, exchanged at the key's `token_uri`, kept until shortly
//! before it expires) and the JSON API's media upload; with HMAC keys, the XML API signed
//! like S3.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use worker::Method;

use super::s3::{self, Signer, TEST_OBJECT};
use super::{exchange, send, uri_encode, Failure, HttpRequest, Outgoing, Sender, Stage};
use crate::edge::store::destinations::crypto;
use crate::edge::store::destinations::{GcsConfig, ServiceAccountKey};

/// The OAuth scope a destination needs: writing objects.
pub const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
/// How long a signed assertion is valid (the most Google accepts).
const ASSERTION_SECONDS: i64 = 3600;
/// A cached token is renewed this long before it expires.
const TOKEN_MARGIN_MS: i64 = 60_000;

/// The DER bytes of a PEM `PRIVATE KEY` (PKCS #8, as Google's keys hold).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let (_, rest) = pem
        .split_once(BEGIN)
        .ok_or("the private key is not a PEM `PRIVATE KEY` (PKCS #8)")?;
    let (body, _) = rest
        .split_once(END)
        .ok_or("the private key's PEM has no end line")?;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(text)
        .map_err(|_| "the private key's PEM is not base64".to_string())
}

/// The signing input of a token request's JWT: header and claims, base64url-encoded.
pub fn jwt_signing_input(key: &ServiceAccountKey, now_s: i64) -> String {
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &key.private_key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": key.client_email,
        "scope": SCOPE,
        "aud": key.token_uri,
        "iat": now_s,
        "exp": now_s + ASSERTION_SECONDS,
    });
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The form body that exchanges a signed JWT for a token.
pub fn token_form(jwt: &str) -> String {
    format!(
        "grant_type={}&assertion={}",
        uri_encode("urn:ietf:params:oauth:grant-type:jwt-bearer", false),
        uri_encode(jwt, false)
    )
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

fn auth_failure(message: impl Into<String>) -> Failure {
    Failure::new(Stage::Auth, false, message)
}

/// A token for the destination's service account, from the cache while it is valid.
async fn access_token(sender: &Sender<'_>, key: &ServiceAccountKey) -> Result<String, Failure> {
    if let Some((token, expires)) = sender.tokens.borrow().get(sender.id) {
        if *expires > sender.now_ms + TOKEN_MARGIN_MS {
            return Ok(token.clone());
        }
    }
    let der = pem_to_der(&key.private_key).map_err(auth_failure)?;
    let input = jwt_signing_input(key, sender.now_ms / 1000);
    let signature = crypto::sign_rs256(&der, input.as_bytes())
        .await
        .map_err(auth_failure)?;
    let jwt = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    let req = HttpRequest::new(Method::Post, key.token_uri.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(token_form(&jwt).into_bytes());
    let answer = exchange(&req, sender.timeout_ms).await?;
    if let Some(mut failure) = super::classify(&answer, sender.now_ms) {
        failure.stage = Stage::Auth;
        failure.message = format!("the token endpoint refused the key: {}", failure.message);
        return Err(failure);
    }
    let token: TokenAnswer = serde_json::from_str(&answer.body)
        .map_err(|_| auth_failure("the token endpoint's answer holds no access_token"))?;
    let expires = sender.now_ms + token.expires_in.unwrap_or(3600).max(0) * 1000;
    sender
        .tokens
        .borrow_mut()
        .insert(sender.id.to_string(), (token.access_token.clone(), expires));
    Ok(token.access_token)
}

/// Writes one object with whichever credentials the destination has.
async fn put(
    sender: &Sender<'_>,
    config: &GcsConfig,
    name: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<(), Failure> {
    let c = sender.credentials;
    if let Some(key) = &c.service_account_key {
        let token = access_token(sender, key).await?;
        let url = format!(
            "{}/upload/storage/v1/b/{}/o?uploadType=media&name={}",
            config.endpoint.trim_end_matches('/'),
            uri_encode(&config.bucket, false),
            uri_encode(name, false)
        );
        let req = HttpRequest::new(Method::Post, url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(body);
        let result = send(&req, sender.timeout_ms, sender.now_ms).await;
        if matches!(&result, Err(f) if f.stage == Stage::Auth) {
            // A refused token is not used again.
            sender.tokens.borrow_mut().remove(sender.id);
        }
        return result.map(|_| ());
    }
    let signer = Signer {
        access_key_id: sender.credential(&c.hmac_access_id, "hmacAccessId")?,
        secret_access_key: sender.credential(&c.hmac_secret, "hmacSecret")?,
        region: "auto",
        service: "s3",
    };
    let target = s3::object_url(&config.endpoint, &config.bucket, name, true)
        .map_err(|e| Failure::new(Stage::Connect, false, e))?;
    let req = s3::put_object(&signer, &target, body, content_type, sender.now_ms);
    send(&req, sender.timeout_ms, sender.now_ms)
        .await
        .map(|_| ())
}

pub async fn deliver(
    sender: &Sender<'_>,
    config: &GcsConfig,
    out: &Outgoing<'_>,
) -> Result<(), Failure> {
    let body = super::encode_body(out.body, out.gzip);
    put(sender, config, out.name, body, s3::object_type(out)).await
}

pub async fn test(sender: &Sender<'_>, config: &GcsConfig) -> Result<String, Failure> {
    // A test checks the key itself, not a token got earlier.
    sender.tokens.borrow_mut().remove(sender.id);
    let name = format!("{}{TEST_OBJECT}", config.prefix);
    put(sender, config, &name, b"[]\n".to_vec(), "application/json").await?;
    Ok(format!("wrote {name} to bucket {}", config.bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServiceAccountKey {
        ServiceAccountKey {
            client_email: "shipper@project.iam.gserviceaccount.com".into(),
            private_key: "-----BEGIN PRIVATE KEY-----\nAAEC\nAwQ=\n-----END PRIVATE KEY-----\n"
                .into(),
            token_uri: "https://oauth2.googleapis.com/token".into(),
            private_key_id: Some("k1".into()),
        }
    }

    #[test]
    fn a_pem_private_key_decodes_to_its_der_bytes() {
        assert_eq!(pem_to_der(&key().private_key).unwrap(), [0, 1, 2, 3, 4]);
        assert!(
            pem_to_der("-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----")
                .unwrap_err()
                .contains("PKCS #8")
        );
        assert!(pem_to_der("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----").is_err());
        assert!(pem_to_der("-----BEGIN PRIVATE KEY-----\nAA==").is_err());
    }

    #[test]
    fn the_jwt_claims_name_the_account_scope_and_token_uri() {
        let input = jwt_signing_input(&key(), 1_700_000_000);
        let (header, claims) = input.split_once('.').unwrap();
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        assert_eq!(
            decode(header),
            json!({"alg": "RS256", "typ": "JWT", "kid": "k1"})
        );
        assert_eq!(
            decode(claims),
            json!({"iss": "shipper@project.iam.gserviceaccount.com", "scope": SCOPE,
                   "aud": "https://oauth2.googleapis.com/token",
                   "iat": 1_700_000_000, "exp": 1_700_003_600})
        );
        assert_eq!(
            token_form("a.b-c_d"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d"
        );
    }
}
