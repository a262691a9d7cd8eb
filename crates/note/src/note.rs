//! Signed notes (c2sp.org/signed-note, "Format" and "Signatures").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Error, KeyName, NoteSigner, NoteVerifier};

/// The signature line prefix: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A signed note: text and one or more signature lines, parsed but not verified.
///
/// The text MUST be ignored until [`Note::verify`] succeeds (c2sp.org/signed-note).
/// [`Note::encode`] reproduces the parsed input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<Signature>,
}

impl Note {
    /// Most signature lines accepted (C2SP requires at least 16; Go's `sumdb/note` takes 100).
    pub const MAX_SIGNATURES: usize = 100;
    /// Largest note accepted, in bytes: room for 100 post-quantum signatures of ~5 kB.
    pub const MAX_SIZE: usize = 1 << 20;

    /// Parses a signed note: UTF-8 without ASCII control characters other than newline; text
    /// ending in a newline; a blank line (the last one in the note); then one to
    /// [`Note::MAX_SIGNATURES`] lines `— <key name> <base64(key ID || signature)>`, each ending
    /// in a newline. Base64 must be canonical standard base64 with padding.
    ///
    /// # Errors
    ///
    /// [`Error::NoteTooLarge`], [`Error::InvalidUtf8`], [`Error::ControlCharacter`],
    /// [`Error::MissingBlankLine`], [`Error::NoSignatures`], [`Error::TooManySignatures`],
    /// [`Error::BadSignatureLine`], [`Error::InvalidKeyName`], [`Error::SignatureTooShort`].
    pub fn parse(input: &[u8]) -> Result<Self, Error> {
        if input.len() > Self::MAX_SIZE {
            return Err(Error::NoteTooLarge {
                size: input.len(),
                max: Self::MAX_SIZE,
            });
        }
        let input = check_note_text(input)?;
        let split = input.rfind("\n\n").ok_or(Error::MissingBlankLine)?;
        let (text, block) = (&input[..=split], &input[split + 2..]);
        if block.is_empty() {
            return Err(Error::NoSignatures);
        }
        let Some(block) = block.strip_suffix('\n') else {
            let line = block.rsplit('\n').next().unwrap_or(block);
            return Err(bad_line(line, "signature line does not end in a newline"));
        };
        let count = block.split('\n').count();
        if count > Self::MAX_SIGNATURES {
            return Err(Error::TooManySignatures {
                count,
                max: Self::MAX_SIGNATURES,
            });
        }
        let signatures = block
            .split('\n')
            .map(Signature::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, including its final newline. Unverified: see [`Note::verify`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The signed note: text, blank line, signature lines.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            signature.encode_into(&mut out);
        }
        out
    }

    /// Adds a signature by each signer (a witness cosigning, for example). A signature already
    /// present under the same key name and key ID is replaced; new ones follow the existing
    /// ones, in `signers` order.
    ///
    /// # Errors
    ///
    /// As [`sign`]; on error the note is unchanged.
    pub fn add_signatures(&mut self, signers: &[&dyn NoteSigner]) -> Result<(), Error> {
        let new = sign_text(&self.text, signers)?;
        let mut signatures: Vec<Signature> = self
            .signatures
            .iter()
            .filter(|old| {
                !new.iter()
                    .any(|n| n.same_key(old.name.as_str(), old.key_hint))
            })
            .cloned()
            .collect();
        signatures.extend(new);
        check_limits(&self.text, &signatures)?;
        self.signatures = signatures;
        Ok(())
    }

    /// Verifies the note against known keys (c2sp.org/signed-note, "Signatures"):
    ///
    /// - a signature whose key name and key ID do not both match a verifier is ignored;
    /// - a signature that matches one MUST verify, or the whole note is rejected;
    /// - a second signature by the same known key is rejected;
    /// - at least one signature must verify.
    ///
    /// # Errors
    ///
    /// The verifier's error (normally [`Error::SignatureInvalid`]),
    /// [`Error::AmbiguousVerifier`] if two verifiers share a name and key ID,
    /// [`Error::DuplicateSignature`], or [`Error::NoVerifiedSignature`].
    pub fn verify(&self, verifiers: &[&dyn NoteVerifier]) -> Result<VerifiedNote, Error> {
        let mut verified: Vec<Signature> = Vec::new();
        for signature in &self.signatures {
            let mut matching = verifiers
                .iter()
                .filter(|v| signature.same_key(v.name(), v.key_hint()));
            let Some(verifier) = matching.next() else {
                continue;
            };
            if matching.next().is_some() {
                return Err(Error::AmbiguousVerifier {
                    name: signature.name().to_owned(),
                    key_hint: signature.key_hint,
                });
            }
            if verified
                .iter()
                .any(|v| v.same_key(signature.name(), signature.key_hint))
            {
                return Err(Error::DuplicateSignature {
                    name: signature.name().to_owned(),
                    key_hint: signature.key_hint,
                });
            }
            verifier.verify(self.text.as_bytes(), &signature.bytes)?;
            verified.push(signature.clone());
        }
        if verified.is_empty() {
            return Err(Error::NoVerifiedSignature {
                signatures: self.signatures.len(),
            });
        }
        Ok(VerifiedNote {
            note: self.clone(),
            verified,
        })
    }
}

/// One signature line: key name, key ID and signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    name: KeyName,
    key_hint: [u8; 4],
    bytes: Vec<u8>,
}

impl Signature {
    fn parse(line: &str) -> Result<Self, Error> {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| bad_line(line, "signature lines start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad_line(line, "no space after the key name"))?;
        let name = KeyName::new(name)?;
        if b64.is_empty() {
            return Err(bad_line(line, "empty signature"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| bad_line(line, "signature is not canonical padded base64"))?;
        if raw.len() < 5 {
            return Err(Error::SignatureTooShort {
                name: name.as_str().to_owned(),
                len: raw.len(),
            });
        }
        let key_hint = [raw[0], raw[1], raw[2], raw[3]];
        Ok(Self {
            name,
            key_hint,
            bytes: raw[4..].to_vec(),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The key ID (the first four decoded bytes).
    pub fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    /// The signature proper, without the key ID.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn same_key(&self, name: &str, key_hint: [u8; 4]) -> bool {
        self.name.as_str() == name && self.key_hint == key_hint
    }

    fn encode_into(&self, out: &mut String) {
        let mut raw = Vec::with_capacity(4 + self.bytes.len());
        raw.extend_from_slice(&self.key_hint);
        raw.extend_from_slice(&self.bytes);
        out.push_str(SIGNATURE_PREFIX);
        out.push_str(self.name.as_str());
        out.push(' ');
        STANDARD.encode_string(raw, out);
        out.push('\n');
    }
}

/// A note with at least one signature verified by a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    note: Note,
    verified: Vec<Signature>,
}

impl VerifiedNote {
    /// The verified note text.
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// The signatures that verified, in note order. Signatures by unknown keys are not here.
    pub fn verified_signatures(&self) -> &[Signature] {
        &self.verified
    }

    /// The whole note, including signatures by unknown keys.
    pub fn note(&self) -> &Note {
        &self.note
    }
}

/// Signs `text` with each signer and returns the signed note.
///
/// # Errors
///
/// [`Error::TextNotNewlineTerminated`], [`Error::ControlCharacter`], [`Error::NoSignatures`]
/// for no signers, [`Error::TooManySignatures`], [`Error::InvalidKeyName`] for a signer's name,
/// [`Error::DuplicateSignature`] for two signers with one key, [`Error::SignatureTooShort`] for an
/// empty signature, [`Error::NoteTooLarge`], and any signer's error.
pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<String, Error> {
    let signatures = sign_text(text, signers)?;
    check_limits(text, &signatures)?;
    Ok(Note {
        text: text.to_owned(),
        signatures,
    }
    .encode())
}

/// Validates `text` and returns one signature per signer.
fn sign_text(text: &str, signers: &[&dyn NoteSigner]) -> Result<Vec<Signature>, Error> {
    if !text.ends_with('\n') {
        return Err(Error::TextNotNewlineTerminated);
    }
    check_note_text(text.as_bytes())?;
    if signers.is_empty() {
        return Err(Error::NoSignatures);
    }
    if signers.len() > Note::MAX_SIGNATURES {
        return Err(Error::TooManySignatures {
            count: signers.len(),
            max: Note::MAX_SIGNATURES,
        });
    }
    let mut signatures: Vec<Signature> = Vec::with_capacity(signers.len());
    for signer in signers {
        let name = KeyName::new(signer.name())?;
        let key_hint = signer.key_hint();
        if signatures
            .iter()
            .any(|s| s.same_key(name.as_str(), key_hint))
        {
            return Err(Error::DuplicateSignature {
                name: name.as_str().to_owned(),
                key_hint,
            });
        }
        let bytes = signer.sign(text.as_bytes())?;
        if bytes.is_empty() {
            return Err(Error::SignatureTooShort {
                name: name.as_str().to_owned(),
                len: 4,
            });
        }
        signatures.push(Signature {
            name,
            key_hint,
            bytes,
        });
    }
    Ok(signatures)
}

/// Fails if a note of this text and signatures would be refused by [`Note::parse`].
fn check_limits(text: &str, signatures: &[Signature]) -> Result<(), Error> {
    if signatures.len() > Note::MAX_SIGNATURES {
        return Err(Error::TooManySignatures {
            count: signatures.len(),
            max: Note::MAX_SIGNATURES,
        });
    }
    let size = text.len()
        + 1
        + signatures
            .iter()
            .map(|s| {
                SIGNATURE_PREFIX.len() + s.name().len() + 2 + (4 + s.bytes.len()).div_ceil(3) * 4
            })
            .sum::<usize>();
    if size > Note::MAX_SIZE {
        return Err(Error::NoteTooLarge {
            size,
            max: Note::MAX_SIZE,
        });
    }
    Ok(())
}

/// Signed notes MUST be valid UTF-8 and MUST NOT contain ASCII control characters other than
/// newline (c2sp.org/signed-note, "Format").
pub(crate) fn check_note_text(input: &[u8]) -> Result<&str, Error> {
    let text = std::str::from_utf8(input).map_err(|e| Error::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    // UTF-8 continuation and lead bytes are >= 0x80, so a byte scan finds every control char.
    if let Some((offset, &byte)) = input
        .iter()
        .enumerate()
        .find(|(_, b)| **b < 0x20 && **b != b'\n')
    {
        return Err(Error::ControlCharacter { offset, byte });
    }
    Ok(text)
}

fn bad_line(line: &str, reason: &'static str) -> Error {
    Error::BadSignatureLine {
        line: line.to_owned(),
        reason,
    }
}
