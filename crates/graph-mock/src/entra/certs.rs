//! Registered application certificates: the public half a client-assertion signature is checked
//! against, found by thumbprint as Entra does (`x5t#S256` = base64url SHA-256 of the DER, `x5t` =
//! base64url SHA-1 of the DER).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

/// A parsed certificate.
#[derive(Debug, Clone)]
pub(crate) struct AppCert {
    /// base64url SHA-1 of the DER (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 of the DER (`x5t#S256`).
    pub x5t_s256: String,
    pub key: RsaPublicKey,
}

impl AppCert {
    /// Parses a PEM certificate or the base64 of its DER (what `Get-PfxCertificate`'s
    /// `GetRawCertData()` gives a PowerShell test).
    pub fn parse(text: &str) -> Result<AppCert, String> {
        let b64: String = if text.contains("-----BEGIN CERTIFICATE-----") {
            text.lines()
                .skip_while(|l| !l.contains("-----BEGIN CERTIFICATE-----"))
                .skip(1)
                .take_while(|l| !l.contains("-----END CERTIFICATE-----"))
                .collect()
        } else {
            text.chars().filter(|c| !c.is_whitespace()).collect()
        };
        let der = STANDARD
            .decode(b64.trim())
            .map_err(|e| format!("certificate is neither PEM nor base64 DER: {e}"))?;
        let cert = Certificate::from_der(&der).map_err(|e| format!("invalid certificate: {e}"))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| format!("invalid certificate key: {e}"))?;
        let key = RsaPublicKey::from_public_key_der(&spki)
            .map_err(|e| format!("certificate key is not RSA: {e}"))?;
        Ok(AppCert {
            x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(&der)),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
            key,
        })
    }
}

/// Upper-case hex of a base64url thumbprint, as Entra quotes it in messages.
pub(crate) fn thumbprint_hex(b64url: &str) -> String {
    URL_SAFE_NO_PAD
        .decode(b64url)
        .map(|bytes| bytes.iter().map(|b| format!("{b:02X}")).collect())
        .unwrap_or_else(|_| b64url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../../tests/fixtures/app1.cert.pem");

    #[test]
    fn pem_and_base64_der_give_the_same_thumbprints() {
        let pem = AppCert::parse(PEM).unwrap_or_else(|e| panic!("{e}"));
        let b64: String = PEM.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = AppCert::parse(&b64).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pem.x5t_s256, der.x5t_s256);
        assert_eq!(pem.x5t.len(), 27);
        assert_eq!(pem.x5t_s256.len(), 43);
        assert!(AppCert::parse("not a cert").is_err());
        assert_eq!(thumbprint_hex("AAE"), "0001");
    }
}
