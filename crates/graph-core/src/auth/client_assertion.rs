//! Client assertions for certificate sign-in: a JWT signed PS256 with the certificate's private
//! key, naming the certificate by `x5t#S256` (base64url SHA-256 of its DER) as Entra expects,
//! with the chain in `x5c` when asked (`-SendCertificateChain`, for subject-name/issuer auth).
//!
//! The shim exports the key as PKCS#8 once; it is parsed here into `rsa`'s key, which wipes
//! itself when dropped. Only RSA keys are handled (Entra's client assertions need RSA).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::rand_core::OsRng;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use serde_json::json;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{ErrorKind, GraphError};

/// How long an assertion is valid: client libraries use 5 to 10 minutes.
const ASSERTION_LIFETIME_SECONDS: i64 = 600;

/// A certificate and its private key, able to sign client assertions.
pub struct CertificateSigner {
    /// DER of the leaf certificate.
    certificate: Vec<u8>,
    /// DER of the chain after the leaf (issuers), sent in `x5c` when `send_chain` is set.
    chain: Vec<Vec<u8>>,
    send_chain: bool,
    key: RsaPrivateKey,
}

impl CertificateSigner {
    /// Reads the private key (PKCS#8 DER). The caller wipes its own copy of the bytes.
    pub fn new(
        certificate: Vec<u8>,
        chain: Vec<Vec<u8>>,
        send_chain: bool,
        private_key_pkcs8: &[u8],
    ) -> Result<CertificateSigner, GraphError> {
        if certificate.is_empty() {
            return Err(GraphError::invalid_argument(
                "the certificate is empty: pass an X509Certificate2 with its private key",
            ));
        }
        if private_key_pkcs8.is_empty() {
            return Err(GraphError::new(
                ErrorKind::Authentication,
                "the certificate has no private key: use a certificate whose private key is installed with it (a .pfx, or one in the My store with its key)",
            ));
        }
        let key = RsaPrivateKey::from_pkcs8_der(private_key_pkcs8).map_err(|_| {
            GraphError::new(
                ErrorKind::Authentication,
                "the certificate's private key is not an RSA key this module can read: Entra ID client assertions need an RSA certificate",
            )
        })?;
        Ok(CertificateSigner {
            certificate,
            chain,
            send_chain,
            key,
        })
    }

    /// Upper-case hex SHA-1 thumbprint, as Windows shows it.
    pub fn thumbprint_sha1_hex(&self) -> String {
        Sha1::digest(&self.certificate)
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect()
    }

    /// `x5t#S256`: base64url SHA-256 of the certificate's DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(&self.certificate))
    }

    /// A signed assertion for the token endpoint `audience`, issued by `client_id`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now_unix: i64,
    ) -> Result<String, GraphError> {
        let mut header = json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256() });
        if self.send_chain {
            let chain: Vec<String> = std::iter::once(&self.certificate)
                .chain(self.chain.iter())
                .map(|der| STANDARD.encode(der))
                .collect();
            header["x5c"] = json!(chain);
        }
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now_unix,
            "iat": now_unix,
            "exp": now_unix + ASSERTION_LIFETIME_SECONDS,
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signing_key = rsa::pss::BlindedSigningKey::<Sha256>::new(self.key.clone());
        let signature = signing_key
            .try_sign_with_rng(&mut OsRng, signed.as_bytes())
            .map_err(|error| {
                GraphError::new(
                    ErrorKind::Authentication,
                    format!("the client assertion could not be signed: {error}"),
                )
            })?;
        Ok(format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

impl std::fmt::Debug for CertificateSigner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CertificateSigner")
            .field("thumbprint", &self.thumbprint_sha1_hex())
            .field("key", &"[redacted]")
            .finish()
    }
}
