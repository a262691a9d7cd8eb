//! git signature formats, as gitsign writes them: pure functions of bytes.
//!
//! What it implements:
//!
//! - Signed objects ([`SignedObject`]): a commit's `gpgsig`/`gpgsig-sha256` header and the
//!   payload without it (git `commit.c` `parse_buffer_signed_by_header`), a tag's trailing
//!   signature (git `gpg-interface.c` `parse_signed_buffer`), and the `author`, `committer`
//!   and `tagger` identities ([`Ident`]).
//! - The `SIGNED MESSAGE` armor ([`armor`]).
//! - gitsign's detached CMS SignedData (RFC 5652 §5; sigstore/gitsign `docs/verification.md`,
//!   `internal/signature/sign.go`, `internal/rekor/oid/oid.go`): [`GitSignature`] reads it,
//!   choosing the signer certificate by issuer and serial number, and classifies where its
//!   log evidence is ([`Mode`]); [`signed_attributes`] and [`build`] write it in gitsign's
//!   offline layout, byte for byte.
//! - The protobuf `dev.sigstore.rekor.v1.TransparencyLogEntry` of attribute
//!   1.3.6.1.4.1.57264.3.1 ([`entry`], hand-written: see there why).
//! - The gpg status-line protocol of `gpg.x509.program` ([`status`]).
//!
//! What it does **not** do: verify anything (signatures, certificates, log entries: that is
//! `waxseal-verify`'s `verify_git_signature`), sign (the caller signs [`signed_attributes`]
//! with its key), talk to Rekor or a TSA (`waxseal-client`), or run git (the CLI reads objects
//! with `git cat-file`). No clock, randomness, I/O or async here.
//!
//! ```
//! use waxseal_git::{GitSignature, Mode, SignedObject, armor, build, signed_attributes};
//!
//! // A commit as `git cat-file commit` prints it, signed by gitsign in online mode.
//! # let raw = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
//! #     "/../../../shared/vectors/git/objects/bf21f2984600e046004ba656f0065aae326f9cbb.commit"))?;
//! let object = SignedObject::parse(&raw)?.expect("signed");
//! let signature = GitSignature::parse(object.x509_signature()?)?;
//! assert_eq!(signature.mode(), Mode::Online);
//! assert_eq!(signature.message_digest(), waxseal_crypto::sha256(object.payload()));
//!
//! // The same parts make the same signature again.
//! let rebuilt = build(
//!     signature.signer_certificate(),
//!     signature.signed_attributes(),
//!     signature.signature(),
//!     signature.log_entry(),
//!     signature.timestamp_token(),
//! )?;
//! assert_eq!(rebuilt, signature.to_der());
//!
//! // A signer signs the attributes of its payload.
//! let attributes = signed_attributes(object.payload(), signature.signing_time().unwrap())?;
//! assert_eq!(attributes, signature.signed_attributes());
//! assert!(armor::armor(&rebuilt).starts_with("-----BEGIN SIGNED MESSAGE-----\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod armor;
mod asn1;
mod cms;
pub mod entry;
mod error;
mod object;
mod signing;
pub mod status;

pub use cms::{GitSignature, Mode, OID_TIMESTAMP_TOKEN, OID_TRANSPARENCY_LOG_ENTRY};
pub use error::Error;
pub use object::{Ident, ObjectKind, SignatureFormat, SignedObject};
pub use signing::{build, signed_attributes};
