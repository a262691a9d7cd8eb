//! Key names, key IDs, verifier keys, and the signer and verifier contracts
//! (c2sp.org/signed-note, "Signatures").

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use waxseal_crypto::{Algorithm, PublicKey, Sha256, SigningKey};

use crate::Error;

/// Signature type 0x01: Ed25519 (c2sp.org/signed-note, "Signature types").
pub(crate) const TYPE_ED25519: u8 = 0x01;
/// Signature type 0x02: ECDSA as transparency-dev/witness implements it.
pub(crate) const TYPE_ECDSA: u8 = 0x02;
/// Signature type 0x04: timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature).
pub(crate) const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// A key name: non-empty, with no Unicode white space, no `+` and no ASCII control characters
/// (c2sp.org/signed-note, "Format").
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Validates `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`] naming the rule broken.
    pub fn new(name: &str) -> Result<Self, Error> {
        let reason = if name.is_empty() {
            Some("key names must not be empty")
        } else if name.chars().any(char::is_whitespace) {
            Some("key names must not contain Unicode spaces")
        } else if name.contains('+') {
            Some("key names must not contain '+'")
        } else if name.bytes().any(|b| b < 0x20) {
            Some("key names must not contain control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidKeyName {
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self(name.to_owned())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Signs note text with one key.
///
/// Implementations MUST return a [`NoteSigner::key_hint`] that identifies the key under
/// [`NoteSigner::name`] for every verifier of its signature type, MUST be safe to call from many
/// threads at once, and MUST NOT return an empty signature.
pub trait NoteSigner: Send + Sync + fmt::Debug {
    /// The key name written on the signature line.
    fn name(&self) -> &str;

    /// The 4-byte key ID that prefixes the signature.
    fn key_hint(&self) -> [u8; 4];

    /// Signs the note text (which ends in a newline and excludes the blank line).
    ///
    /// # Errors
    ///
    /// Whatever the key's backend reports; signing fails the whole note.
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error>;
}

/// Verifies note signatures by one key.
///
/// [`Note::verify`](crate::Note::verify) calls [`NoteVerifier::verify`] only for signature
/// lines whose key name and key ID both equal this verifier's. Implementations MUST fail closed:
/// any signature they cannot check is an error, never a success.
pub trait NoteVerifier: Send + Sync + fmt::Debug {
    /// The key name the verifier answers to.
    fn name(&self) -> &str;

    /// The key ID the verifier answers to.
    fn key_hint(&self) -> [u8; 4];

    /// Checks `signature` (without the key ID) over the note text.
    ///
    /// # Errors
    ///
    /// [`Error::SignatureInvalid`] if the signature does not verify; implementations may use
    /// other variants for signatures they cannot parse.
    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error>;
}

/// A key under a note key name, with its key ID: what every signer (`K` = [`SigningKey`]) and
/// verifier (`K` = [`PublicKey`]) of this crate holds.
#[derive(Debug, Clone)]
pub(crate) struct NamedKey<K> {
    pub(crate) name: KeyName,
    pub(crate) key: K,
    pub(crate) key_hint: [u8; 4],
}

impl NamedKey<SigningKey> {
    /// The same name and key ID with the public key, for the matching verifier.
    pub(crate) fn verifying(&self) -> NamedKey<PublicKey> {
        NamedKey {
            name: self.name.clone(),
            key: self.key.public_key(),
            key_hint: self.key_hint,
        }
    }
}

impl NamedKey<PublicKey> {
    /// Verifies the key's `signature` over `message`.
    ///
    /// # Errors
    ///
    /// [`Error::SignatureInvalid`] naming this key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.key
            .verify(message, signature)
            .map_err(|_| Error::SignatureInvalid {
                name: self.name.as_str().to_owned(),
                key_hint: self.key_hint,
            })
    }
}

/// `name` and `key_hint` of a [`NoteSigner`](crate::NoteSigner) or
/// [`NoteVerifier`](crate::NoteVerifier) from its [`NamedKey`] at the given field path.
macro_rules! named_key_methods {
    ($($field:ident).+) => {
        fn name(&self) -> &str {
            self.$($field).+.name.as_str()
        }

        fn key_hint(&self) -> [u8; 4] {
            self.$($field).+.key_hint
        }
    };
}
pub(crate) use named_key_methods;

/// Refuses a key whose algorithm is not in `allowed` for `signature_type`.
///
/// # Errors
///
/// [`Error::UnsupportedKeyAlgorithm`].
pub(crate) fn check_algorithm(
    key: &PublicKey,
    allowed: &[Algorithm],
    signature_type: &'static str,
) -> Result<(), Error> {
    let algorithm = key.algorithm();
    if allowed.contains(&algorithm) {
        Ok(())
    } else {
        Err(Error::UnsupportedKeyAlgorithm {
            algorithm,
            signature_type,
        })
    }
}

/// The C2SP key ID: `SHA-256(key name || 0x0A || signature type || public key)[:4]`.
pub(crate) fn key_id(name: &KeyName, signature_type: u8, key: &[u8]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(&[signature_type]);
    hasher.update(key);
    first_four(&hasher.finish())
}

pub(crate) fn first_four(hash: &[u8; 32]) -> [u8; 4] {
    [hash[0], hash[1], hash[2], hash[3]]
}

/// A parsed verifier key, `<name>+<hex key ID>+<base64(type || key)>`.
#[derive(Debug)]
pub(crate) struct VerifierKey {
    pub(crate) name: KeyName,
    pub(crate) key_hint: [u8; 4],
    pub(crate) signature_type: u8,
    pub(crate) key: Vec<u8>,
}

impl VerifierKey {
    pub(crate) fn parse(vkey: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidVerifierKey {
            vkey: vkey.to_owned(),
            reason,
        };
        let (name, rest) = vkey.split_once('+').ok_or_else(|| invalid("missing '+'"))?;
        let (hint, key64) = rest
            .split_once('+')
            .ok_or_else(|| invalid("missing second '+'"))?;
        let name = KeyName::new(name)?;
        let key_hint = parse_key_hint(hint).ok_or_else(|| invalid("key ID is not 8 hex digits"))?;
        let data = STANDARD
            .decode(key64)
            .map_err(|_| invalid("key is not base64"))?;
        let (&signature_type, key) = data.split_first().ok_or_else(|| invalid("key is empty"))?;
        Ok(Self {
            name,
            key_hint,
            signature_type,
            key: key.to_vec(),
        })
    }

    /// Fails with [`Error::KeyIdMismatch`] unless the verifier key's ID is `computed`.
    pub(crate) fn check_key_hint(&self, computed: [u8; 4]) -> Result<(), Error> {
        if self.key_hint == computed {
            Ok(())
        } else {
            Err(Error::KeyIdMismatch {
                name: self.name.as_str().to_owned(),
                claimed: self.key_hint,
                computed,
            })
        }
    }

    pub(crate) fn expect_type(&self, signature_type: u8) -> Result<(), Error> {
        if self.signature_type == signature_type {
            Ok(())
        } else {
            Err(Error::UnknownSignatureType {
                byte: self.signature_type,
            })
        }
    }
}

fn parse_key_hint(hex_digits: &str) -> Option<[u8; 4]> {
    if hex_digits.len() != 8 || !hex_digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let value = u32::from_str_radix(hex_digits, 16).ok()?;
    Some(value.to_be_bytes())
}

/// Formats a verifier key.
pub(crate) fn format_vkey(
    name: &KeyName,
    key_hint: [u8; 4],
    signature_type: u8,
    key: &[u8],
) -> String {
    let mut data = Vec::with_capacity(key.len() + 1);
    data.push(signature_type);
    data.extend_from_slice(key);
    format!("{name}+{}+{}", hex::encode(key_hint), STANDARD.encode(data))
}

/// Builds a verifier from a verifier key string, choosing the implementation by its signature
/// type byte: 0x01 [`Ed25519Verifier`](crate::Ed25519Verifier), 0x02
/// [`EcdsaVerifier`](crate::EcdsaVerifier), 0x04
/// [`CosignatureV1Verifier`](crate::CosignatureV1Verifier).
///
/// # Errors
///
/// [`Error::InvalidVerifierKey`] for a malformed string, [`Error::UnknownSignatureType`] for
/// other types, [`Error::KeyIdMismatch`] if the key ID does not match, and the key errors of
/// each type.
pub fn verifier_from_vkey(vkey: &str) -> Result<Box<dyn NoteVerifier>, Error> {
    let parsed = VerifierKey::parse(vkey)?;
    Ok(match parsed.signature_type {
        TYPE_ED25519 => Box::new(crate::Ed25519Verifier::from_verifier_key(&parsed)?),
        TYPE_ECDSA => Box::new(crate::EcdsaVerifier::from_verifier_key(&parsed)?),
        TYPE_COSIGNATURE_V1 => Box::new(crate::CosignatureV1Verifier::from_verifier_key(&parsed)?),
        byte => return Err(Error::UnknownSignatureType { byte }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_CASES: &[(&str, &str, bool)] = &[
        ("url", "example.com/log", true),
        ("unicode", "quasimodo.example/salvatore-è", true),
        ("em dash", "a—b", true),
        ("empty", "", false),
        ("space", "a b", false),
        ("tab", "a\tb", false),
        ("no-break space", "a\u{a0}b", false),
        ("ideographic space", "a\u{3000}b", false),
        ("plus", "a+b", false),
        ("newline", "a\nb", false),
        ("control", "a\u{1}b", false),
    ];

    #[test]
    fn key_name_rules() {
        for (case, name, ok) in NAME_CASES {
            let result = KeyName::new(name);
            assert_eq!(result.is_ok(), *ok, "{case}: {result:?}");
            if let Err(e) = result {
                assert!(matches!(e, Error::InvalidKeyName { .. }), "{case}: {e:?}");
            }
        }
    }

    #[test]
    fn parses_golang_vkey() {
        // golang.org/x/mod/sumdb/note, package docs.
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let parsed = VerifierKey::parse(vkey).unwrap();
        assert_eq!(parsed.name.as_str(), "PeterNeumann");
        assert_eq!(parsed.key_hint, [0xc7, 0x4f, 0x20, 0xa3]);
        assert_eq!(parsed.signature_type, TYPE_ED25519);
        assert_eq!(
            key_id(&parsed.name, parsed.signature_type, &parsed.key),
            parsed.key_hint
        );
        assert_eq!(
            format_vkey(
                &parsed.name,
                parsed.key_hint,
                parsed.signature_type,
                &parsed.key
            ),
            vkey
        );
    }

    #[test]
    fn rejects_malformed_vkeys() {
        let cases: &[(&str, &str)] = &[
            ("no plus", "PeterNeumann"),
            ("one plus", "PeterNeumann+c74f20a3"),
            ("short hint", "PeterNeumann+c74f20a+ARpc"),
            ("signed hint", "PeterNeumann+-74f20a3+ARpc"),
            ("bad base64", "PeterNeumann+c74f20a3+!!!!"),
            ("empty key", "PeterNeumann+c74f20a3+"),
        ];
        for (case, vkey) in cases {
            assert!(
                matches!(
                    VerifierKey::parse(vkey),
                    Err(Error::InvalidVerifierKey { .. })
                ),
                "{case}"
            );
        }
        assert!(matches!(
            VerifierKey::parse("Peter Neumann+c74f20a3+ARpc"),
            Err(Error::InvalidKeyName { .. })
        ));
    }
}
