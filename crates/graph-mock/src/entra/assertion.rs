//! Client assertions (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`):
//! a JWT the app signs with its certificate's private key. Checked as Entra does: the header's
//! thumbprint names a registered certificate, the RS256 or PS256 signature verifies against it,
//! `iss` = `sub` = client id, `aud` = the token URL, and `nbf`..`exp` covers now (with skew).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::signature::Verifier;
use rsa::{pkcs1v15, pss};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;

use super::certs::{AppCert, thumbprint_hex};
use super::errors::AadError;
use super::registry::App;

/// The longest assertion lifetime accepted: client libraries use 5 to 10 minutes.
const MAX_LIFETIME_SECONDS: i64 = 3600;

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    x5t: Option<String>,
    #[serde(default, rename = "x5t#S256")]
    x5t_s256: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
}

/// What the assertion must match besides the app.
pub(crate) struct Expected<'a> {
    pub client_id: &'a str,
    /// Every `aud` value that names this token endpoint.
    pub audiences: &'a [String],
    pub now: i64,
    pub skew: i64,
}

fn malformed() -> AadError {
    AadError::client(50_027, "JWT token is invalid or malformed.")
}

pub(crate) fn verify(assertion: &str, app: &App, expected: &Expected<'_>) -> Result<(), AadError> {
    let mut parts = assertion.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed());
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| malformed())?;
    let claims: Claims = serde_json::from_slice(&decode(c)?).map_err(|_| malformed())?;
    let signature = decode(s)?;

    let cert = find_cert(app, &header)?;
    let signed = format!("{h}.{c}");
    let ok = match header.alg.as_str() {
        "RS256" => pkcs1v15::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|sig| {
                pkcs1v15::VerifyingKey::<Sha256>::new(cert.key.clone())
                    .verify(signed.as_bytes(), &sig)
                    .is_ok()
            }),
        "PS256" => pss::Signature::try_from(signature.as_slice())
            .ok()
            .is_some_and(|sig| {
                pss::VerifyingKey::<Sha256>::new(cert.key.clone())
                    .verify(signed.as_bytes(), &sig)
                    .is_ok()
            }),
        _ => false,
    };
    if !ok {
        return Err(AadError::client(
            700_027,
            "Client assertion contains an invalid signature. [Reason - The key used is expired or the signature does not verify with the registered certificate.]",
        ));
    }

    let id_ok = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|x| x.eq_ignore_ascii_case(expected.client_id))
    };
    if !id_ok(&claims.iss) || !id_ok(&claims.sub) {
        return Err(AadError::client(
            700_021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let audiences: Vec<&str> = match &claims.aud {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(all)) => all.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let aud_ok = audiences.iter().any(|a| {
        let a = a.trim_end_matches('/');
        expected.audiences.iter().any(|e| e.eq_ignore_ascii_case(a))
    });
    if !aud_ok {
        return Err(AadError::client(
            700_023,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    let (Some(exp), Some(nbf), Some(_)) = (claims.exp, claims.nbf, claims.jti.as_ref()) else {
        return Err(malformed());
    };
    let now = expected.now;
    if exp + expected.skew <= now || nbf - expected.skew > now || exp - now > MAX_LIFETIME_SECONDS {
        return Err(AadError::client(
            700_024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                iso(now),
                iso(nbf),
                iso(exp)
            ),
        ));
    }
    Ok(())
}

/// The registered certificate the header's thumbprint names.
fn find_cert<'a>(app: &'a App, header: &Header) -> Result<&'a AppCert, AadError> {
    let by_s256 = header
        .x5t_s256
        .as_deref()
        .and_then(|t| app.certs.iter().find(|c| c.x5t_s256 == t));
    let by_sha1 = header
        .x5t
        .as_deref()
        .and_then(|t| app.certs.iter().find(|c| c.x5t == t));
    by_s256.or(by_sha1).ok_or_else(|| {
        let used = header
            .x5t_s256
            .as_deref()
            .or(header.x5t.as_deref())
            .map(thumbprint_hex)
            .unwrap_or_default();
        AadError::client(
            700_027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                app.reg.app_id
            ),
        )
    })
}

fn iso(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .map(super::errors::entra_timestamp)
        .unwrap_or_else(|_| epoch.to_string())
}
