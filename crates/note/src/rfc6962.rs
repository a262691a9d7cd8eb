//! RFC 6962 tree head note signatures, signature type 0x05, as C2SP static-ct-api
//! ("Checkpoints") defines them for CT logs.
//!
//! The signature bytes are an `RFC6962NoteSignature`: the big-endian `uint64` timestamp (ms)
//! then the RFC 6962 §3.5 `digitally-signed` `TreeHeadSignature` (hash algorithm sha256 (4),
//! signature algorithm ecdsa (3), `opaque signature<0..2^16-1>` holding a DER ECDSA signature)
//! over `version v1 (0) || signature_type tree_hash (1) || timestamp || tree_size ||
//! sha256_root_hash`. The key ID is `SHA-256(name || 0x0A || 0x05 || LogID)[:4]`, where the
//! LogID is SHA-256 of the log key's DER SubjectPublicKeyInfo. The checkpoint must have no
//! extension lines; the origin line is not covered by the signature.

use waxseal_crypto::{Algorithm, PublicKey, SigningKey};

use crate::key::{NamedKey, check_algorithm, key_id, named_key_methods};
use crate::{Checkpoint, Error, KeyName, NoteSigner, NoteVerifier, rekor_v1_log_id};

/// The note signature type byte.
const TYPE_RFC6962: u8 = 0x05;
const SIGNATURE_TYPE: &str = "RFC 6962 (0x05)";
const ALGORITHMS: &[Algorithm] = &[Algorithm::EcdsaP256Sha256];
/// TLS `HashAlgorithm` sha256 and `SignatureAlgorithm` ecdsa (RFC 5246 §7.4.1.4.1).
const SHA256_ECDSA: [u8; 2] = [4, 3];

/// The RFC 6962 §3.5 `TreeHeadSignature` signing input of a checkpoint text at `timestamp`.
fn signing_input(text: &[u8], timestamp: u64) -> Result<Vec<u8>, Error> {
    let text = crate::note::check_note_text(text)?;
    let checkpoint = Checkpoint::parse(text)?;
    if !checkpoint.extensions().is_empty() {
        return Err(Error::Rfc6962CheckpointExtensions {
            count: checkpoint.extensions().len(),
        });
    }
    let mut out = Vec::with_capacity(50);
    out.push(0); // version v1
    out.push(1); // signature_type tree_hash
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&checkpoint.size().to_be_bytes());
    out.extend_from_slice(checkpoint.root().as_bytes());
    Ok(out)
}

/// A CT log's checkpoint key: ECDSA P-256. Use [`Rfc6962Signer::at`] to sign at a given time:
/// this crate never reads the clock.
#[derive(Debug)]
pub struct Rfc6962Signer {
    named: NamedKey<SigningKey>,
}

impl Rfc6962Signer {
    /// Wraps the log's P-256 key under its name (the checkpoint origin).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for other keys.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        let public = key.public_key();
        check_algorithm(&public, ALGORITHMS, SIGNATURE_TYPE)?;
        Ok(Self {
            named: NamedKey {
                key_hint: rfc6962_key_hint(&name, &public),
                name,
                key,
            },
        })
    }

    /// A signer bound to `timestamp` (milliseconds since the Unix epoch), usable as a
    /// [`NoteSigner`].
    pub fn at(&self, timestamp: u64) -> TimestampedRfc6962Signer<'_> {
        TimestampedRfc6962Signer {
            signer: self,
            timestamp,
        }
    }

    /// The verifier for this signer's signatures.
    pub fn verifier(&self) -> Rfc6962Verifier {
        Rfc6962Verifier {
            named: self.named.verifying(),
        }
    }
}

/// An [`Rfc6962Signer`] bound to one timestamp.
#[derive(Debug, Clone, Copy)]
pub struct TimestampedRfc6962Signer<'a> {
    signer: &'a Rfc6962Signer,
    timestamp: u64,
}

impl NoteSigner for TimestampedRfc6962Signer<'_> {
    named_key_methods!(signer.named);

    /// Signs a checkpoint text, which must parse and carry no extension lines.
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .signer
            .named
            .key
            .sign(&signing_input(text, self.timestamp)?)?;
        let len = u16::try_from(signature.len()).map_err(|_| Error::MalformedRfc6962Signature {
            name: self.signer.named.name.as_str().to_owned(),
            reason: "the ECDSA signature exceeds 65535 bytes",
        })?;
        let mut out = Vec::with_capacity(12 + signature.len());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&SHA256_ECDSA);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&signature);
        Ok(out)
    }
}

/// Verifies type 0x05 RFC 6962 checkpoint signatures by one CT log key.
#[derive(Debug, Clone)]
pub struct Rfc6962Verifier {
    named: NamedKey<PublicKey>,
}

impl Rfc6962Verifier {
    /// Builds a verifier for the CT log key `key` (P-256) under `name`, the log's origin.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for other keys.
    pub fn new(name: &str, key: &PublicKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        check_algorithm(key, ALGORITHMS, SIGNATURE_TYPE)?;
        Ok(Self {
            named: NamedKey {
                key_hint: rfc6962_key_hint(&name, key),
                name,
                key: key.clone(),
            },
        })
    }

    /// The timestamp (ms) a signature by this key claims, after verifying it over `text`.
    ///
    /// # Errors
    ///
    /// As [`NoteVerifier::verify`].
    pub fn verify_timestamp(&self, text: &[u8], signature: &[u8]) -> Result<u64, Error> {
        let malformed = |reason| Error::MalformedRfc6962Signature {
            name: self.named.name.as_str().to_owned(),
            reason,
        };
        let (timestamp, rest) = signature
            .split_first_chunk::<8>()
            .ok_or(malformed("shorter than its timestamp"))?;
        let timestamp = u64::from_be_bytes(*timestamp);
        let (algorithms, rest) = rest
            .split_first_chunk::<2>()
            .ok_or(malformed("no signature algorithms"))?;
        if *algorithms != SHA256_ECDSA {
            return Err(malformed("algorithms are not sha256 (4) / ecdsa (3)"));
        }
        let (len, ecdsa) = rest
            .split_first_chunk::<2>()
            .ok_or(malformed("no signature length"))?;
        if usize::from(u16::from_be_bytes(*len)) != ecdsa.len() {
            return Err(malformed("signature length does not match its bytes"));
        }
        self.named.verify(&signing_input(text, timestamp)?, ecdsa)?;
        Ok(timestamp)
    }
}

impl NoteVerifier for Rfc6962Verifier {
    named_key_methods!(named);

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.verify_timestamp(text, signature).map(|_| ())
    }
}

/// `SHA-256(name || 0x0A || 0x05 || LogID)[:4]`.
fn rfc6962_key_hint(name: &KeyName, key: &PublicKey) -> [u8; 4] {
    key_id(name, TYPE_RFC6962, &rekor_v1_log_id(key.spki_der()))
}

#[cfg(test)]
mod tests {
    use waxseal_merkle::empty_root;

    use super::*;
    use crate::{Note, SignedCheckpoint, sign};

    const ORIGIN: &str = "ct.example.com/2026";

    fn signer() -> Rfc6962Signer {
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        Rfc6962Signer::new(ORIGIN, key).unwrap()
    }

    fn checkpoint_text(size: u64) -> String {
        let root = waxseal_merkle::leaf_hash(b"root");
        Checkpoint::new(ORIGIN, size, root).unwrap().to_text()
    }

    #[test]
    fn signs_and_verifies_a_checkpoint_with_its_timestamp() {
        let signer = signer();
        let text = checkpoint_text(42);
        let note = sign(&text, &[&signer.at(1_700_000_000_123)]).unwrap();
        let verifier = signer.verifier();
        let checked =
            SignedCheckpoint::parse_and_verify(note.as_bytes(), &[&verifier], Some(ORIGIN))
                .unwrap();
        assert_eq!(checked.size(), 42);
        let parsed = Note::parse(note.as_bytes()).unwrap();
        let signature = &parsed.signatures()[0];
        assert_eq!(
            verifier
                .verify_timestamp(text.as_bytes(), signature.bytes())
                .unwrap(),
            1_700_000_000_123
        );
        // The signed bytes are the RFC 6962 TreeHeadSignature input.
        let bytes = signature.bytes();
        assert_eq!(&bytes[8..10], &[4, 3]);
        let mut input = vec![0, 1];
        input.extend_from_slice(&1_700_000_000_123u64.to_be_bytes());
        input.extend_from_slice(&42u64.to_be_bytes());
        input.extend_from_slice(waxseal_merkle::leaf_hash(b"root").as_bytes());
        signer
            .named
            .key
            .public_key()
            .verify(&input, &bytes[12..])
            .unwrap();
    }

    #[test]
    fn key_id_hashes_the_log_id() {
        let signer = signer();
        let log_id = waxseal_crypto::sha256(signer.named.key.public_key().spki_der());
        let mut preimage = format!("{ORIGIN}\n").into_bytes();
        preimage.push(0x05);
        preimage.extend_from_slice(&log_id);
        let hash = waxseal_crypto::sha256(&preimage);
        assert_eq!(signer.at(0).key_hint(), hash[..4]);
    }

    #[test]
    fn rejects_tampered_and_malformed_signatures() {
        let signer = signer();
        let verifier = signer.verifier();
        let text = checkpoint_text(7);
        let good = signer.at(5).sign(text.as_bytes()).unwrap();
        let mut later = good.clone();
        later[7] ^= 1;
        let other_size = checkpoint_text(8);
        let cases: [(&str, &[u8], &[u8]); 5] = [
            ("timestamp changed", text.as_bytes(), &later),
            ("other tree size", other_size.as_bytes(), &good),
            ("truncated", text.as_bytes(), &good[..good.len() - 1]),
            ("no algorithms", text.as_bytes(), &good[..9]),
            ("empty", text.as_bytes(), &[]),
        ];
        for (name, text, signature) in cases {
            assert!(verifier.verify(text, signature).is_err(), "{name}");
        }
        let mut wrong_algorithms = good.clone();
        wrong_algorithms[8] = 5;
        assert!(matches!(
            verifier.verify(text.as_bytes(), &wrong_algorithms),
            Err(Error::MalformedRfc6962Signature { .. })
        ));
    }

    #[test]
    fn refuses_checkpoints_with_extension_lines_and_non_p256_keys() {
        let signer = signer();
        let text = Checkpoint::new(ORIGIN, 1, empty_root())
            .unwrap()
            .with_extensions(["extra"])
            .unwrap()
            .to_text();
        assert!(matches!(
            signer.at(0).sign(text.as_bytes()),
            Err(Error::Rfc6962CheckpointExtensions { count: 1 })
        ));
        let ed25519 = SigningKey::generate(Algorithm::Ed25519).unwrap();
        assert!(matches!(
            Rfc6962Signer::new(ORIGIN, ed25519),
            Err(Error::UnsupportedKeyAlgorithm { .. })
        ));
    }
}
