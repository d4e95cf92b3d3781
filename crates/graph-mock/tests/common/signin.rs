//! Test helpers for the sign-in side: form posts, Entra error checks, and client assertions
//! signed with the fixture keys (tests/fixtures).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, pkcs1v15, pss};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CERT1: &str = include_str!("../fixtures/app1.cert.pem");
pub const KEY1: &str = include_str!("../fixtures/app1.key.pem");
pub const CERT2: &str = include_str!("../fixtures/app2.cert.pem");
pub const KEY2: &str = include_str!("../fixtures/app2.key.pem");

pub async fn post_form(url: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    super::client()
        .post(url)
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000001")
        .form(pairs)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts an Entra error answer: status, `error`, AADSTS code and the full body shape.
pub async fn assert_aad_error(
    resp: reqwest::Response,
    status: u16,
    error: &str,
    code: u64,
) -> Value {
    assert_eq!(resp.status(), status, "expected {error} {code}");
    let trace = super::header(&resp, "x-ms-request-id");
    let body = super::json(resp).await;
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "error",
            "error_description",
            "error_codes",
            "timestamp",
            "trace_id",
            "correlation_id",
            "error_uri"
        ]
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(
        description.contains(&format!(
            "\r\nTrace ID: {trace}\r\nCorrelation ID: c0ffee00-0000-4000-8000-000000000001\r\nTimestamp: "
        )),
        "{description}"
    );
    assert_eq!(body["trace_id"], trace.as_str());
    assert_eq!(
        body["correlation_id"],
        "c0ffee00-0000-4000-8000-000000000001"
    );
    body
}

/// base64 of a PEM certificate's DER.
pub fn der_base64(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

pub fn x5t_s256(pem: &str) -> String {
    let der = STANDARD.decode(der_base64(pem)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(Sha256::digest(&der))
}

pub fn x5t(pem: &str) -> String {
    let der = STANDARD.decode(der_base64(pem)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der))
}

/// A client assertion to sign; every part can be bent to make it wrong.
pub struct Assertion {
    pub alg: &'static str,
    pub header: Value,
    pub claims: Value,
}

impl Assertion {
    /// A valid PS256 assertion for `client_id` at `aud`, naming `cert_pem` by `x5t#S256`.
    pub fn new(client_id: &str, aud: &str, cert_pem: &str) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Assertion {
            alg: "PS256",
            header: json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t_s256(cert_pem)}),
            claims: json!({"aud": aud, "iss": client_id, "sub": client_id,
                "jti": "5f7d1c1e-0000-4000-8000-000000000001", "nbf": now, "iat": now, "exp": now + 600}),
        }
    }

    /// RS256 naming the certificate by SHA-1 `x5t`, as older clients do.
    pub fn rs256(mut self, cert_pem: &str) -> Self {
        self.alg = "RS256";
        self.header = json!({"alg": "RS256", "typ": "JWT", "x5t": x5t(cert_pem)});
        self
    }

    pub fn sign(&self, key_pem: &str) -> String {
        let key = RsaPrivateKey::from_pkcs8_pem(key_pem).unwrap_or_else(|e| panic!("{e}"));
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(self.header.to_string()),
            URL_SAFE_NO_PAD.encode(self.claims.to_string())
        );
        let signature = if self.alg == "RS256" {
            pkcs1v15::SigningKey::<Sha256>::new(key)
                .sign(input.as_bytes())
                .to_vec()
        } else {
            pss::SigningKey::<Sha256>::new(key)
                .sign_with_rng(&mut TestRng(7), input.as_bytes())
                .to_vec()
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Deterministic randomness for PSS salts (tests only).
struct TestRng(u64);

impl rsa::rand_core::RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for TestRng {}
