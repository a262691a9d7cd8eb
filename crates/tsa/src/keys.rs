//! The TSA's key material: a self-signed root CA and a timestamping leaf it issued, with PEM
//! storage.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use waxseal_crypto::{Algorithm, SigningKey, pem};
use x509_cert::name::Name;
use zeroize::Zeroizing;

use crate::Error;
use crate::cert::{Cert, ChainCheck, Issue, check_chain};

pub(crate) const ROOT_SUBJECT: &str = "CN=waxseal TSA root,O=waxseal";
pub(crate) const LEAF_SUBJECT: &str = "CN=waxseal TSA,O=waxseal";

/// The TSA signing key with its certificate chain `[TSA leaf, root]`.
///
/// The root's private key is used once, to issue the leaf, and then dropped: it is never stored.
/// Rotating the TSA key therefore means a new root, published in the trusted root's
/// `timestampAuthorities` with a new `validFor` window.
pub struct TsaKeys {
    signing_key: SigningKey,
    leaf: Cert,
    chain: Vec<Cert>,
}

/// The PEM text [`TsaKeys::to_pem_files`] produces, for a data directory. Its `Debug` output
/// omits the key.
#[non_exhaustive]
pub struct PemFiles {
    /// The TSA signing key, PKCS#8 `PRIVATE KEY` PEM. Store with mode 0600.
    pub key: Zeroizing<String>,
    /// The chain, `CERTIFICATE` PEM blocks, TSA leaf first, root last (as
    /// [`TsaKeys::chain_pem`]).
    pub chain: String,
}

impl TsaKeys {
    /// Generates a root CA (ECDSA P-256; basicConstraints CA critical; keyUsage keyCertSign and
    /// cRLSign critical; SKI) and a TSA certificate it issues (ECDSA P-256; critical EKU
    /// id-kp-timeStamping only; keyUsage digitalSignature critical; SKI and AKI), both valid from
    /// `now` for `validity`.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] if key generation, randomness or signing fail,
    /// [`Error::TimeOutOfRange`] if `now + validity` cannot be encoded.
    pub fn generate(now: SystemTime, validity: Duration) -> Result<Self, Error> {
        let not_after = now.checked_add(validity).ok_or(Error::TimeOutOfRange {
            unix_seconds: u64::MAX,
        })?;
        let root_name = Name::from_str(ROOT_SUBJECT).map_err(Error::encode("Name"))?;
        let leaf_name = Name::from_str(LEAF_SUBJECT).map_err(Error::encode("Name"))?;
        let root_key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
        let signing_key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
        let root = Issue {
            issuer: &root_name,
            issuer_key: &root_key,
            subject: &root_name,
            subject_key: &root_key.public_key(),
            not_before: now,
            not_after,
            ca: true,
            eku_critical: None,
        }
        .sign()?;
        let leaf = Issue {
            issuer: &root_name,
            issuer_key: &root_key,
            subject: &leaf_name,
            subject_key: &signing_key.public_key(),
            not_before: now,
            not_after,
            ca: false,
            eku_critical: Some(true),
        }
        .sign()?;
        Self::new(signing_key, &[&leaf, &root])
    }

    /// Loads what [`TsaKeys::to_pem_files`] wrote, or any key and chain of the same shape
    /// (leaf first, root last, intermediates between).
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] for PEM or key errors, and the errors of [`TsaKeys::new`].
    pub fn from_pem(key_pem: &str, chain_pem: &str) -> Result<Self, Error> {
        let signing_key = SigningKey::from_pkcs8_pem(key_pem)?;
        let chain = pem::decode_all(chain_pem, pem::CERTIFICATE)?;
        let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        Self::new(signing_key, &chain)
    }

    /// Pairs a signing key with its chain (DER, leaf first, root last) and checks them: the key
    /// is the leaf's, the chain verifies up to a self-signed root, and the leaf has the RFC 3161
    /// §2.3 profile. Validity periods are not checked here (there is no clock); issuing checks
    /// the leaf's at each genTime.
    ///
    /// # Errors
    ///
    /// [`Error::KeyMismatch`], and the chain errors of [`crate::verify_timestamp`].
    pub fn new(signing_key: SigningKey, chain_der: &[&[u8]]) -> Result<Self, Error> {
        let chain = chain_der
            .iter()
            .map(|der| Cert::parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        check_chain(&chain, ChainCheck { at: None })?;
        let leaf = chain
            .first()
            .cloned()
            .ok_or(Error::ChainTooShort { len: 0, min: 2 })?;
        if leaf.key.spki_der() != signing_key.public_key().spki_der() {
            return Err(Error::KeyMismatch);
        }
        Ok(Self {
            signing_key,
            leaf,
            chain,
        })
    }

    /// The key and chain as PEM text.
    pub fn to_pem_files(&self) -> PemFiles {
        PemFiles {
            key: self.signing_key.to_pkcs8_pem(),
            chain: self.chain_pem(),
        }
    }

    /// The chain as concatenated `CERTIFICATE` PEM blocks, TSA leaf first and root last: the body
    /// of `GET /api/v1/timestamp/certchain` (sigstore/timestamp-authority).
    pub fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .map(|c| pem::encode(pem::CERTIFICATE, &c.der))
            .collect()
    }

    /// The chain as DER, TSA leaf first and root last: what a trusted root's
    /// `timestampAuthorities[].certChain.certificates[].rawBytes` lists.
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        self.chain.iter().map(|c| c.der.clone()).collect()
    }

    /// Pairs a key and chain without any check, so tests can issue from broken chains.
    #[cfg(test)]
    pub(crate) fn unchecked(signing_key: SigningKey, chain_der: &[&[u8]]) -> Result<Self, Error> {
        let chain = chain_der
            .iter()
            .map(|der| Cert::parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = chain
            .first()
            .cloned()
            .ok_or(Error::ChainTooShort { len: 0, min: 2 })?;
        Ok(Self {
            signing_key,
            leaf,
            chain,
        })
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    pub(crate) fn leaf(&self) -> &Cert {
        &self.leaf
    }
}

impl std::fmt::Debug for PemFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemFiles")
            .field("key", &"<redacted>")
            .field("chain", &self.chain)
            .finish()
    }
}

impl std::fmt::Debug for TsaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaKeys")
            .field("signing_key", &self.signing_key)
            .field("chain_len", &self.chain.len())
            .finish()
    }
}
