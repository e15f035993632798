//! Bearer tokens: SHA-256 digests from `TRAILSIFT_TOKENS` (the bootstrap), compared in
//! constant time, then the tokens each account manages (`edge::tokens`); failures are
//! counted per client address (`edge::guard`).

use serde::Deserialize;
use sha2::{Digest, Sha256};
use worker::{Env, Request};

use super::config::Config;
use super::error::{ApiError, ApiResult};
use super::store::tokens::{Holder, TokenRequest};
use super::store::{self, StoreRequest};
use super::{guard, now_ms, tokens};

/// One configured token (only its digest is known).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenEntry {
    pub sha256: String,
    pub account: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub owner: String,
}

/// The caller, once its token is recognised.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub scopes: Vec<String>,
    pub owner: String,
    /// The account's object took this request from the account's budget already (it looks
    /// up managed tokens), so the Worker does not ask it again.
    pub admitted: bool,
}

impl Caller {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn require(&self, scope: &str) -> ApiResult<()> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(scope))
        }
    }
}

/// Parses the `TRAILSIFT_TOKENS` JSON array. A malformed configuration yields no tokens
/// (every call is then 401) rather than a crash.
pub fn parse_tokens(config: &str) -> Vec<TokenEntry> {
    serde_json::from_str::<Vec<TokenEntry>>(config).unwrap_or_default()
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.trim().as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = *pair.first()?;
        let lo = *pair.get(1)?;
        let v = (nibble(hi)? << 4) | nibble(lo)?;
        *out.get_mut(i)? = v;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Who sends `req`: its bearer token is one of `TRAILSIFT_TOKENS`, or a token its account
/// keeps (not expired, not revoked). Every failure counts against the client's address,
/// which is refused (`429`) once over its limit.
pub async fn identify(req: &Request, env: &Env, config: &Config) -> ApiResult<Caller> {
    let client = guard::client(req);
    let now = now_ms();
    if let Some(refused) = guard::refused(&client, now) {
        return Err(refused);
    }
    let header = req.headers().get("authorization").ok().flatten();
    let found = match authenticate(&config.tokens, header.as_deref()) {
        Ok(caller) => return Ok(caller),
        Err(_) => managed(env, bearer(header.as_deref()), now).await,
    };
    match found {
        Err(e) if e.status == 401 => Err(guard::failed(env, config, &client, now).await),
        found => found,
    }
}

/// The holder of a managed token, asked of the account the token names.
async fn managed(env: &Env, presented: Option<&str>, now: i64) -> ApiResult<Caller> {
    let presented = presented.ok_or_else(ApiError::unauthorized)?;
    let account = tokens::account_of(presented).ok_or_else(ApiError::unauthorized)?;
    let request = StoreRequest::Tokens(TokenRequest::Authenticate {
        digest: token_digest(presented),
        now,
    });
    let holder: Holder = store::call(env, account, &request).await?;
    Ok(Caller {
        account: account.to_string(),
        scopes: holder.scopes,
        owner: holder.owner,
        admitted: true,
    })
}

/// The token of an `Authorization: Bearer` header.
fn bearer(header: Option<&str>) -> Option<&str> {
    header?
        .strip_prefix("Bearer ")
        .or_else(|| header?.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Finds the token whose digest equals SHA-256(`presented`). Every configured digest is
/// compared in full, so the time taken does not reveal which digest (if any) matched.
pub fn authenticate(tokens: &[TokenEntry], authorization: Option<&str>) -> ApiResult<Caller> {
    let presented = bearer(authorization).ok_or_else(ApiError::unauthorized)?;
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found: Option<&TokenEntry> = None;
    for entry in tokens {
        let Some(expected) = decode_hex32(&entry.sha256) else {
            continue;
        };
        let mut diff = 0u8;
        for (a, b) in expected.iter().zip(digest.iter()) {
            diff |= a ^ b;
        }
        if diff == 0 && found.is_none() {
            found = Some(entry);
        }
    }
    let entry = found.ok_or_else(ApiError::unauthorized)?;
    Ok(Caller {
        account: entry.account.clone(),
        scopes: entry.scopes.clone(),
        owner: entry.owner.clone(),
        admitted: false,
    })
}

/// Lower-case hex SHA-256 of a token (what `TRAILSIFT_TOKENS` stores).
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Vec<TokenEntry> {
        parse_tokens(&format!(
            r#"[{{"sha256":"{}","account":"acct_a","scopes":["read"],"owner":"bob"}},
                {{"sha256":"not hex","account":"x","scopes":[],"owner":"y"}}]"#,
            token_digest("secret-token")
        ))
    }

    #[test]
    fn the_right_token_finds_its_account() {
        let caller = authenticate(&config(), Some("Bearer secret-token")).unwrap();
        assert_eq!(caller.account, "acct_a");
        assert!(caller.has("read"));
        assert_eq!(caller.require("ingest").unwrap_err().status, 403);
    }

    #[test]
    fn wrong_missing_or_malformed_tokens_are_401() {
        let tokens = config();
        for header in [
            None,
            Some(""),
            Some("Bearer "),
            Some("Basic x"),
            Some("Bearer other"),
        ] {
            assert_eq!(
                authenticate(&tokens, header).unwrap_err().status,
                401,
                "{header:?}"
            );
        }
        assert!(parse_tokens("not json").is_empty());
        assert_eq!(
            authenticate(&[], Some("Bearer secret-token"))
                .unwrap_err()
                .status,
            401
        );
    }

    #[test]
    fn digest_is_lower_case_hex_sha256() {
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
