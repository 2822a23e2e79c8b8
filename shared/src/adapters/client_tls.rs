//! A subscription's client certificate for mutual TLS (`auth.mtls`), read
//! from its secrets and checked before any request: PEM that does not
//! parse, a key that does not belong to the certificate, or a server CA
//! with no certificate is said by field, never by value.
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::hash::{Hash, Hasher};

/// A checked client identity, and the receiver's private CA if it has one.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// Certificate chain then key, PEM, as reqwest's `Identity` takes it.
    pub identity_pem: Vec<u8>,
    /// The receiver's CA (PEM), trusted alone for this receiver.
    pub server_ca_pem: Option<Vec<u8>>,
    /// Tells one identity from another (the transport keeps a client per
    /// identity).
    pub fingerprint: u64,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientTls({:016x})", self.fingerprint)
    }
}

impl ClientTls {
    /// Checks the PEM texts: at least one certificate, one private key
    /// that matches the first certificate, and a CA that holds one.
    pub fn parse(certificate: &str, key: &str, server_ca: Option<&str>) -> Result<Self, String> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(certificate.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("auth.mtls.certificateSecret is not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("auth.mtls.certificateSecret holds no certificate".into());
        }
        let private = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|e| format!("auth.mtls.keySecret is not a PEM private key: {e}"))?;
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(certs, private, &provider).map_err(|e| {
            format!("auth.mtls.keySecret does not go with the certificate of auth.mtls.certificateSecret: {e}")
        })?;
        if let Some(ca) = server_ca {
            let n = CertificateDer::pem_slice_iter(ca.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("auth.mtls.serverCaSecret is not PEM certificates: {e}"))?
                .len();
            if n == 0 {
                return Err("auth.mtls.serverCaSecret holds no certificate".into());
            }
        }
        let mut identity_pem = certificate.trim_end().as_bytes().to_vec();
        identity_pem.push(b'\n');
        identity_pem.extend_from_slice(key.as_bytes());
        let server_ca_pem = server_ca.map(|c| c.as_bytes().to_vec());
        let mut h = std::collections::hash_map::DefaultHasher::new();
        identity_pem.hash(&mut h);
        server_ca_pem.hash(&mut h);
        Ok(ClientTls {
            identity_pem,
            server_ca_pem,
            fingerprint: h.finish(),
        })
    }
}
