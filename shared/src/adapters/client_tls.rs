//! A subscription's client certificate for mutual TLS (`auth.mtls`), read
//! from its secrets and checked before any request: PEM that does not
//! parse, a key that does not belong to the certificate, or a server CA
//! with no certificate is said by field, never by value.
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

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

/// Identities checked already, by their PEM: a warm sender checks a
/// certificate and its key once, not at every attempt.
type Checked = HashMap<(Vec<u8>, Option<Vec<u8>>), Arc<ClientTls>>;
static CHECKED: OnceLock<Mutex<Checked>> = OnceLock::new();
/// Identities kept at most; past it the cache starts over.
const CHECKED_KEPT: usize = 256;

/// The certificates of a PEM text, at least one; `field` names the secret.
fn certificates(pem: &str, field: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("auth.mtls.{field} is not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!("auth.mtls.{field} holds no certificate"));
    }
    Ok(certs)
}

impl ClientTls {
    /// Checks the PEM texts: at least one certificate, one private key
    /// that matches the first certificate, and a CA that holds one. The
    /// same texts checked before are answered from memory.
    pub fn parse(
        certificate: &str,
        key: &str,
        server_ca: Option<&str>,
    ) -> Result<Arc<Self>, String> {
        let mut identity_pem = certificate.trim_end().as_bytes().to_vec();
        identity_pem.push(b'\n');
        identity_pem.extend_from_slice(key.as_bytes());
        let server_ca_pem = server_ca.map(|c| c.as_bytes().to_vec());
        let texts = (identity_pem, server_ca_pem);
        let checked = CHECKED.get_or_init(Default::default);
        if let Some(known) = checked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&texts)
        {
            return Ok(known.clone());
        }
        let certs = certificates(certificate, "certificateSecret")?;
        let private = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|e| format!("auth.mtls.keySecret is not a PEM private key: {e}"))?;
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(certs, private, &provider).map_err(|e| {
            format!("auth.mtls.keySecret does not go with the certificate of auth.mtls.certificateSecret: {e}")
        })?;
        if let Some(ca) = server_ca {
            certificates(ca, "serverCaSecret")?;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        texts.hash(&mut h);
        let identity = Arc::new(ClientTls {
            identity_pem: texts.0.clone(),
            server_ca_pem: texts.1.clone(),
            fingerprint: h.finish(),
        });
        let mut checked = checked.lock().unwrap_or_else(|e| e.into_inner());
        if checked.len() >= CHECKED_KEPT {
            checked.clear();
        }
        checked.insert(texts, identity.clone());
        Ok(identity)
    }
}
