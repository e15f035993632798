//! Destination credentials sealed at rest (AES-256-GCM with the Worker secret
//! `CREDENTIALS_KEY`), and the other WebCrypto the destinations use: random bytes and
//! RS256 signatures for GCS service-account tokens.
//!
//! A sealed value is `v1:<credential names>:<base64 of IV and ciphertext>`. The names are
//! not secret (responses show them); they and the destination id are the cipher's
//! additional data, so a sealed value opens only for the destination and names it was
//! made for.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use js_sys::futures::JsFuture;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::Credentials;
use crate::edge::codes;
use crate::edge::config::Config;
use crate::edge::error::{ApiError, ApiResult};

const VERSION: &str = "v1";
const IV_BYTES: usize = 12;

fn unavailable(message: impl Into<String>) -> ApiError {
    ApiError::new(503, codes::CREDENTIALS_UNAVAILABLE, message)
}

/// Seals `credentials` of destination `id`.
pub async fn seal(config: &Config, id: &str, credentials: &Credentials) -> ApiResult<String> {
    let key = aes_key(config).await?;
    let names = credentials.keys().join(",");
    let plain = serde_json::to_vec(credentials)
        .map_err(|e| unavailable(format!("credentials could not be encoded: {e}")))?;
    let mut iv = [0u8; IV_BYTES];
    random_bytes(&mut iv)?;
    let params = aes_params(&iv, &additional_data(id, &names))?;
    let sealed = call_bytes(subtle()?.encrypt_with_object_and_u8_array(&params, &key, &plain))
        .await
        .map_err(|e| unavailable(format!("credentials could not be sealed: {e}")))?;
    let mut blob = iv.to_vec();
    blob.extend_from_slice(&sealed);
    Ok(format!("{VERSION}:{names}:{}", STANDARD.encode(blob)))
}

/// Opens the sealed credentials of destination `id`.
pub async fn open(config: &Config, id: &str, sealed: &str) -> ApiResult<Credentials> {
    let broken = || {
        unavailable(format!(
            "the credentials of destination `{id}` cannot be opened with CREDENTIALS_KEY (was the key changed?)"
        ))
    };
    let mut parts = sealed.splitn(3, ':');
    let (Some(VERSION), Some(names), Some(blob)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(broken());
    };
    let blob = STANDARD.decode(blob).map_err(|_| broken())?;
    if blob.len() <= IV_BYTES {
        return Err(broken());
    }
    let (iv, sealed) = blob.split_at(IV_BYTES);
    let key = aes_key(config).await?;
    let params = aes_params(iv, &additional_data(id, names))?;
    let plain = call_bytes(subtle()?.decrypt_with_object_and_u8_array(&params, &key, sealed))
        .await
        .map_err(|_| broken())?;
    serde_json::from_slice(&plain).map_err(|_| broken())
}

/// The credential names of a sealed value, without opening it.
pub fn sealed_keys(sealed: &str) -> Vec<String> {
    let mut parts = sealed.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some(VERSION), Some(names)) if !names.is_empty() => {
            names.split(',').map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

fn additional_data(id: &str, names: &str) -> Vec<u8> {
    format!("trailsift destination credentials {VERSION}\n{id}\n{names}").into_bytes()
}

/// Reads `CREDENTIALS_KEY`: base64 of 32 bytes.
pub fn key_bytes(config: &Config) -> ApiResult<Vec<u8>> {
    let secret = config.credentials_key.as_ref().ok_or_else(|| {
        unavailable(
            "CREDENTIALS_KEY is not set: destination credentials cannot be sealed or opened",
        )
    })?;
    match STANDARD.decode(secret.0.as_bytes()) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes),
        _ => Err(unavailable(
            "CREDENTIALS_KEY must be the base64 of 32 random bytes",
        )),
    }
}

async fn aes_key(config: &Config) -> ApiResult<web_sys::CryptoKey> {
    let raw = Uint8Array::from(key_bytes(config)?.as_slice());
    let algorithm = object(&[("name", "AES-GCM".into())])?;
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let promise = subtle()?.import_key_with_object("raw", &raw, &algorithm, false, &usages);
    import(promise)
        .await
        .map_err(|e| unavailable(format!("CREDENTIALS_KEY is not an AES key: {e}")))
}

fn aes_params(iv: &[u8], additional: &[u8]) -> ApiResult<Object> {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
        ("additionalData", Uint8Array::from(additional).into()),
    ])
}

/// Signs `data` with RSASSA-PKCS1-v1_5 and SHA-256 under a PKCS #8 private key (DER).
pub async fn sign_rs256(pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let subtle = subtle().map_err(|e| e.message)?;
    let algorithm = object(&[
        ("name", "RSASSA-PKCS1-v1_5".into()),
        ("hash", "SHA-256".into()),
    ])
    .map_err(|e| e.message)?;
    let usages = Array::of1(&"sign".into());
    let der = Uint8Array::from(pkcs8_der);
    let key = import(subtle.import_key_with_object("pkcs8", &der, &algorithm, false, &usages))
        .await
        .map_err(|e| format!("the private key does not import as an RSA key: {e}"))?;
    call_bytes(subtle.sign_with_object_and_u8_array(&algorithm, &key, data)).await
}

/// Fills `out` with random bytes.
pub fn random_bytes(out: &mut [u8]) -> ApiResult<()> {
    crypto()?
        .get_random_values_with_u8_array(out)
        .map(|_| ())
        .map_err(|e| unavailable(format!("no random bytes: {}", js_text(&e))))
}

/// A random UUID (version 4).
pub fn uuid() -> ApiResult<String> {
    Ok(crypto()?.random_uuid())
}

fn crypto() -> ApiResult<web_sys::Crypto> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .filter(|c| c.is_object())
        .map(JsCast::unchecked_into)
        .ok_or_else(|| unavailable("WebCrypto is not available"))
}

fn subtle() -> ApiResult<web_sys::SubtleCrypto> {
    Ok(crypto()?.subtle())
}

fn object(entries: &[(&str, JsValue)]) -> ApiResult<Object> {
    let obj = Object::new();
    for (k, v) in entries {
        Reflect::set(&obj, &JsValue::from_str(k), v)
            .map_err(|e| unavailable(format!("WebCrypto parameters: {}", js_text(&e))))?;
    }
    Ok(obj)
}

async fn import(promise: Result<js_sys::Promise, JsValue>) -> Result<web_sys::CryptoKey, String> {
    let value = JsFuture::from(promise.map_err(|e| js_text(&e))?)
        .await
        .map_err(|e| js_text(&e))?;
    Ok(value.unchecked_into())
}

/// The bytes of a promise that resolves to an `ArrayBuffer`.
async fn call_bytes(promise: Result<js_sys::Promise, JsValue>) -> Result<Vec<u8>, String> {
    let value = JsFuture::from(promise.map_err(|e| js_text(&e))?)
        .await
        .map_err(|e| js_text(&e))?;
    Ok(Uint8Array::new(&value).to_vec())
}

/// The text of a JavaScript error or value.
pub fn js_text(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    v.as_string().unwrap_or_else(|| format!("{v:?}"))
}
