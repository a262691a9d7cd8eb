//! Transparency log checkpoints (c2sp.org/tlog-checkpoint, "Note text" and "Signatures").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use waxseal_merkle::Hash;

use crate::note::check_note_text;
use crate::{Error, Note, NoteVerifier, VerifiedNote};

/// Lines every checkpoint has: origin, tree size, root hash.
const MANDATORY_LINES: usize = 3;

/// A checkpoint: a log's origin, tree size and root hash, and optional extension lines.
///
/// This is the note *text*; a signed checkpoint is a [`Note`] whose text is a checkpoint (see
/// [`SignedCheckpoint`]). [`Checkpoint::to_text`] reproduces parsed text byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyOrigin`], or [`Error::ControlCharacter`] if the origin holds a newline or
    /// another ASCII control character.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, Error> {
        if origin.is_empty() {
            return Err(Error::EmptyOrigin);
        }
        check_line(origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Replaces the extension lines (c2sp.org/tlog-checkpoint: opaque, NOT RECOMMENDED).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyExtensionLine`] for an empty line, [`Error::ControlCharacter`] for a
    /// newline or other control character inside one.
    pub fn with_extensions<I, S>(mut self, lines: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let extensions: Vec<String> = lines.into_iter().map(Into::into).collect();
        for (index, line) in extensions.iter().enumerate() {
            if line.is_empty() {
                return Err(Error::EmptyExtensionLine {
                    line: MANDATORY_LINES + index + 1,
                });
            }
            check_line(line)?;
        }
        self.extensions = extensions;
        Ok(self)
    }

    /// Parses checkpoint text: at least three newline-terminated lines, a non-empty origin, a
    /// decimal tree size without leading zeros that fits a `u64`, a standard base64 32-byte
    /// root hash, then non-empty extension lines.
    ///
    /// # Errors
    ///
    /// [`Error::TextNotNewlineTerminated`], [`Error::ControlCharacter`], [`Error::TooFewLines`],
    /// [`Error::EmptyOrigin`], [`Error::BadTreeSize`], [`Error::RootHashNotBase64`],
    /// [`Error::BadRootHash`], [`Error::EmptyExtensionLine`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let body = text
            .strip_suffix('\n')
            .ok_or(Error::TextNotNewlineTerminated)?;
        check_note_text(text.as_bytes())?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(Error::TooFewLines {
                count: lines.len(),
                min: MANDATORY_LINES,
            });
        };
        if origin.is_empty() {
            return Err(Error::EmptyOrigin);
        }
        let size = parse_tree_size(size)?;
        let root = STANDARD
            .decode(root)
            .map_err(|_| Error::RootHashNotBase64 {
                value: (*root).to_owned(),
            })?;
        let root = Hash::from_slice(&root).map_err(|_| Error::BadRootHash { len: root.len() })?;
        if let Some(index) = extensions.iter().position(|line| line.is_empty()) {
            return Err(Error::EmptyExtensionLine {
                line: MANDATORY_LINES + index + 1,
            });
        }
        Ok(Self {
            origin: (*origin).to_owned(),
            size,
            root,
            extensions: extensions.iter().map(|line| (*line).to_owned()).collect(),
        })
    }

    /// The note text: origin, size, base64 root and extension lines, each ending in `"\n"`.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root hash of the tree.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The extension lines, without newlines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }
}

/// A signed note whose text parses as a checkpoint, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    note: Note,
    checkpoint: Checkpoint,
}

impl SignedCheckpoint {
    /// Parses a signed note and its text as a checkpoint.
    ///
    /// # Errors
    ///
    /// The errors of [`Note::parse`] and [`Checkpoint::parse`].
    pub fn parse(input: &[u8]) -> Result<Self, Error> {
        let note = Note::parse(input)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(Self { note, checkpoint })
    }

    /// Verifies the signatures as [`Note::verify`] does, then the origin.
    ///
    /// `expected_origin` should be given whenever the log's origin is known in advance (a C2SP
    /// log's origin is its key name). `None` skips the check, as Sigstore clients do for Rekor
    /// v1, whose origin `<host> - <tree ID>` changes with each shard.
    ///
    /// # Errors
    ///
    /// The errors of [`Note::verify`], then [`Error::WrongOrigin`].
    pub fn verify(
        &self,
        verifiers: &[&dyn NoteVerifier],
        expected_origin: Option<&str>,
    ) -> Result<VerifiedCheckpoint, Error> {
        let note = self.note.verify(verifiers)?;
        if let Some(expected) = expected_origin
            && expected != self.checkpoint.origin
        {
            return Err(Error::WrongOrigin {
                expected: expected.to_owned(),
                actual: self.checkpoint.origin.clone(),
            });
        }
        Ok(VerifiedCheckpoint {
            checkpoint: self.checkpoint.clone(),
            note,
        })
    }

    /// [`SignedCheckpoint::parse`] then [`SignedCheckpoint::verify`].
    ///
    /// # Errors
    ///
    /// The errors of both.
    pub fn parse_and_verify(
        input: &[u8],
        verifiers: &[&dyn NoteVerifier],
        expected_origin: Option<&str>,
    ) -> Result<VerifiedCheckpoint, Error> {
        Self::parse(input)?.verify(verifiers, expected_origin)
    }

    /// The signed note, unverified.
    pub fn note(&self) -> &Note {
        &self.note
    }
}

/// A checkpoint whose note carries at least one signature verified by a known key, and whose
/// origin matched the expected one when one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: VerifiedNote,
}

impl VerifiedCheckpoint {
    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        self.checkpoint.origin()
    }

    /// The number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.checkpoint.size()
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        self.checkpoint.root()
    }

    /// The verified note, with the signatures that verified.
    pub fn note(&self) -> &VerifiedNote {
        &self.note
    }
}

/// ASCII decimal with no leading zeros unless the tree is empty (c2sp.org/tlog-checkpoint).
fn parse_tree_size(value: &str) -> Result<u64, Error> {
    let bad = || Error::BadTreeSize {
        value: value.to_owned(),
    };
    let canonical = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return Err(bad());
    }
    value.parse().map_err(|_| bad())
}

/// One line of checkpoint text: no newline or other control character.
fn check_line(line: &str) -> Result<(), Error> {
    match line.bytes().enumerate().find(|(_, b)| *b < 0x20) {
        Some((offset, byte)) => Err(Error::ControlCharacter { offset, byte }),
        None => Ok(()),
    }
}
