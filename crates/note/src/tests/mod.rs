//! Tests across modules: table-driven parse cases, known-answer vectors, real Sigstore
//! checkpoints and property tests.

mod checkpoint;
mod cosignature;
mod note;
mod sigstore;

use waxseal_crypto::{Algorithm, SigningKey};

use crate::{Ed25519Signer, Error, NoteSigner};

/// A signer under test control: any name, key ID and signature bytes.
#[derive(Debug)]
struct FixedSigner {
    name: &'static str,
    key_hint: [u8; 4],
    signature: Vec<u8>,
}

impl NoteSigner for FixedSigner {
    fn name(&self) -> &str {
        self.name
    }

    fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    fn sign(&self, _text: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.signature.clone())
    }
}

fn ed25519_signer(name: &str) -> Ed25519Signer {
    Ed25519Signer::new(name, SigningKey::generate(Algorithm::Ed25519).unwrap()).unwrap()
}
