//! Signed git objects: the payload git hands to the signing program and the signature it keeps
//! (git `commit.c` `parse_buffer_signed_by_header`, `gpg-interface.c` `parse_signed_buffer`),
//! and the identity headers a signer policy compares with the certificate.

use crate::Error;

/// Commit header carrying the signature in SHA-1 repositories.
const GPGSIG: &[u8] = b"gpgsig";
/// Commit header carrying the signature in SHA-256 repositories.
const GPGSIG_SHA256: &[u8] = b"gpgsig-sha256";

/// The first line of each signature format git recognises (`gpg-interface.c` `*_sigs`).
const MARKERS: &[(&[u8], SignatureFormat)] = &[
    (b"-----BEGIN PGP SIGNATURE-----", SignatureFormat::OpenPgp),
    (b"-----BEGIN PGP MESSAGE-----", SignatureFormat::OpenPgp),
    (b"-----BEGIN SIGNED MESSAGE-----", SignatureFormat::X509),
    (b"-----BEGIN SSH SIGNATURE-----", SignatureFormat::Ssh),
];

/// The kind of a git object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A commit (`tree ...` first line); its signature is a `gpgsig` header.
    Commit,
    /// An annotated tag (`object ...` first line); its signature trails the message.
    Tag,
}

/// Which signing program made a signature, by its armor's first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureFormat {
    /// `-----BEGIN PGP SIGNATURE-----` (gpg).
    OpenPgp,
    /// `-----BEGIN SSH SIGNATURE-----` (ssh-keygen).
    Ssh,
    /// `-----BEGIN SIGNED MESSAGE-----` (gpgsm, smimesign, gitsign, waxseal).
    X509,
}

impl SignatureFormat {
    fn of(signature: &[u8]) -> Option<Self> {
        MARKERS
            .iter()
            .find(|(marker, _)| signature.starts_with(marker))
            .map(|(_, format)| *format)
    }

    /// The format's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OpenPgp => "OpenPGP",
            Self::Ssh => "SSH",
            Self::X509 => "X.509",
        }
    }
}

/// A signed commit or tag, split into what was signed and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    kind: ObjectKind,
    payload: Vec<u8>,
    signature: Vec<u8>,
    format: SignatureFormat,
}

impl SignedObject {
    /// Splits a raw object (as `git cat-file commit|tag` prints it), telling commits from tags
    /// by their first line. Returns `None` for an unsigned object.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedObject`] if it is neither a commit nor a tag.
    pub fn parse(raw: &[u8]) -> Result<Option<Self>, Error> {
        if raw.starts_with(b"tree ") {
            Self::parse_commit(raw)
        } else if raw.starts_with(b"object ") {
            Self::parse_tag(raw)
        } else {
            Err(Error::MalformedObject {
                reason: "the first line is neither `tree <id>` (commit) nor `object <id>` (tag)",
            })
        }
    }

    /// Splits a raw commit: the signature is the `gpgsig` header (else `gpgsig-sha256`) with
    /// its continuation lines, unindented; the payload is the object with every `gpgsig*`
    /// header removed, byte for byte otherwise. `None` when there is no such header.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedObject`] if the signature header is empty or of no known format.
    pub fn parse_commit(raw: &[u8]) -> Result<Option<Self>, Error> {
        let mut selected = None;
        for wanted in [GPGSIG, GPGSIG_SHA256] {
            let (payload, signature) = split_header(raw, wanted);
            if !signature.is_empty() {
                selected = Some((payload, signature));
                break;
            }
        }
        let Some((payload, signature)) = selected else {
            return Ok(None);
        };
        let format = SignatureFormat::of(&signature).ok_or(Error::MalformedObject {
            reason: "the gpgsig header does not start with a known signature armor",
        })?;
        Ok(Some(Self {
            kind: ObjectKind::Commit,
            payload,
            signature,
            format,
        }))
    }

    /// Splits a raw annotated tag: the signature starts at the last line that begins with a
    /// known armor line, and the payload is everything before it. `None` when there is none.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for stricter tag checks.
    pub fn parse_tag(raw: &[u8]) -> Result<Option<Self>, Error> {
        let mut start = None;
        let mut offset = 0;
        while offset < raw.len() {
            let rest = &raw[offset..];
            if SignatureFormat::of(rest).is_some() {
                start = Some(offset);
            }
            offset += rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
        }
        let Some(start) = start else {
            return Ok(None);
        };
        let (payload, signature) = raw.split_at(start);
        let format = SignatureFormat::of(signature).ok_or(Error::MalformedObject {
            reason: "the tag signature does not start with a known armor",
        })?;
        Ok(Some(Self {
            kind: ObjectKind::Tag,
            payload: payload.to_vec(),
            signature: signature.to_vec(),
            format,
        }))
    }

    /// Commit or tag.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The bytes that were signed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The signature as stored (armored text, newlines included).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature's format.
    pub fn format(&self) -> SignatureFormat {
        self.format
    }

    /// The signature, if it is an X.509 (CMS) one, which is what gitsign and waxseal write.
    ///
    /// # Errors
    ///
    /// [`Error::NotX509`] naming the format otherwise.
    pub fn x509_signature(&self) -> Result<&[u8], Error> {
        match self.format {
            SignatureFormat::X509 => Ok(&self.signature),
            other => Err(Error::NotX509 {
                format: other.name(),
            }),
        }
    }
}

/// git `parse_buffer_signed_by_header` for the header `wanted`: the object without any
/// `gpgsig*` header, and the wanted header's value with continuation lines unindented.
fn split_header(raw: &[u8], wanted: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature = Vec::new();
    let mut in_signature = false;
    let mut other_signature = false;
    let mut offset = 0;
    while offset < raw.len() {
        let rest = &raw[offset..];
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        let value = if in_signature && line.first() == Some(&b' ') {
            Some(&line[1..])
        } else if line.starts_with(wanted) && line.get(wanted.len()) == Some(&b' ') {
            other_signature = false;
            Some(&line[wanted.len() + 1..])
        } else {
            if line.starts_with(GPGSIG) {
                other_signature = true;
            } else if other_signature && line.first() != Some(&b' ') {
                other_signature = false;
            }
            None
        };
        match value {
            Some(value) => {
                signature.extend_from_slice(value);
                in_signature = true;
            }
            None => {
                in_signature = false;
                if line.first() == Some(&b'\n') {
                    // The message: copied whole.
                    payload.extend_from_slice(rest);
                    break;
                }
                if !other_signature {
                    payload.extend_from_slice(line);
                }
            }
        }
        offset += end;
    }
    (payload, signature)
}

/// A git identity (`author`, `committer`, `tagger` header): `Name <email> <unix> <±hhmm>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ident {
    /// The name, as written.
    pub name: String,
    /// The email address, between `<` and `>`.
    pub email: String,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// The time zone offset, as written (`-0400`).
    pub offset: String,
}

impl Ident {
    /// The commit's author.
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`] or [`Error::MalformedIdent`].
    pub fn author(payload: &[u8]) -> Result<Self, Error> {
        Self::of_header(payload, "author")
    }

    /// The commit's committer (what git's `%GS` and `verify-commit` compare with).
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`] or [`Error::MalformedIdent`].
    pub fn committer(payload: &[u8]) -> Result<Self, Error> {
        Self::of_header(payload, "committer")
    }

    /// The tag's tagger.
    ///
    /// # Errors
    ///
    /// [`Error::MissingHeader`] or [`Error::MalformedIdent`].
    pub fn tagger(payload: &[u8]) -> Result<Self, Error> {
        Self::of_header(payload, "tagger")
    }

    /// The first `header` in the object's header block (before the first empty line).
    fn of_header(payload: &[u8], header: &'static str) -> Result<Self, Error> {
        let line = payload
            .split(|b| *b == b'\n')
            .take_while(|line| !line.is_empty())
            .find_map(|line| {
                line.strip_prefix(header.as_bytes())
                    .and_then(|rest| rest.strip_prefix(b" "))
            })
            .ok_or(Error::MissingHeader { header })?;
        let text = String::from_utf8_lossy(line).into_owned();
        let malformed = |reason| Error::MalformedIdent {
            header,
            line: text.clone(),
            reason,
        };
        // git `split_ident_line`: the name ends at the first '<', the email at the next '>'.
        let open = text.find('<').ok_or_else(|| malformed("no `<email>`"))?;
        let close = text[open..]
            .find('>')
            .map(|i| open + i)
            .ok_or_else(|| malformed("no closing `>`"))?;
        let name = text[..open].trim_end().to_owned();
        let email = text[open + 1..close].to_owned();
        let mut date = text[close + 1..].split_ascii_whitespace();
        let time = date
            .next()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| malformed("no timestamp after the email"))?;
        let offset = date
            .next()
            .filter(|o| {
                o.len() == 5
                    && matches!(o.as_bytes()[0], b'+' | b'-')
                    && o[1..].bytes().all(|b| b.is_ascii_digit())
            })
            .ok_or_else(|| malformed("no ±hhmm time zone after the timestamp"))?
            .to_owned();
        Ok(Self {
            name,
            email,
            time,
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "-----BEGIN SIGNED MESSAGE-----\n MIIB\n -----END SIGNED MESSAGE-----\n";

    fn commit(headers_after: &str) -> String {
        format!(
            "tree 045f\nparent 74f0\nauthor A U <a@x.test> 1685981477 -0400\n\
             committer C O <c@x.test> 1685981478 +0000\n{headers_after}\nmessage\n\nbody\n"
        )
    }

    #[test]
    fn splits_commits() {
        struct Case {
            name: &'static str,
            raw: String,
            payload: Option<String>,
            signature: &'static str,
        }
        let cases = [
            Case {
                name: "gpgsig",
                raw: commit(&format!("gpgsig {SIG}")),
                payload: Some(commit("")),
                signature: "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n",
            },
            Case {
                name: "gpgsig-sha256 only",
                raw: commit(&format!("gpgsig-sha256 {SIG}")),
                payload: Some(commit("")),
                signature: "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n",
            },
            Case {
                name: "both: gpgsig wins, both removed",
                raw: commit(&format!(
                    "gpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n x\n -----END SSH SIGNATURE-----\ngpgsig {SIG}"
                )),
                payload: Some(commit("")),
                signature: "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n",
            },
            Case {
                name: "other headers kept after the signature",
                raw: commit(&format!("gpgsig {SIG}encoding ISO-8859-1\n")),
                payload: Some(commit("encoding ISO-8859-1\n")),
                signature: "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n",
            },
            Case {
                name: "unsigned",
                raw: commit(""),
                payload: None,
                signature: "",
            },
            Case {
                name: "gpgsig-like text in the message is not a header",
                raw: format!("{}gpgsig {SIG}", commit("")),
                payload: None,
                signature: "",
            },
        ];
        for case in &cases {
            let got = SignedObject::parse(case.raw.as_bytes()).unwrap();
            match (&got, &case.payload) {
                (None, None) => {}
                (Some(got), Some(payload)) => {
                    assert_eq!(
                        String::from_utf8_lossy(got.payload()),
                        payload.as_str(),
                        "{}",
                        case.name
                    );
                    assert_eq!(got.signature(), case.signature.as_bytes(), "{}", case.name);
                    assert_eq!(got.kind(), ObjectKind::Commit, "{}", case.name);
                }
                _ => panic!("{}: got {got:?}", case.name),
            }
        }
    }

    #[test]
    fn splits_tags_and_names_foreign_formats() {
        let payload = "object 1234\ntype commit\ntag v1\ntagger T <t@x.test> 1 +0000\n\nv1\n";
        for (marker, format) in [
            ("-----BEGIN SIGNED MESSAGE-----", SignatureFormat::X509),
            ("-----BEGIN PGP SIGNATURE-----", SignatureFormat::OpenPgp),
            ("-----BEGIN SSH SIGNATURE-----", SignatureFormat::Ssh),
        ] {
            let raw = format!("{payload}{marker}\nAAAA\n-----END-----\n");
            let got = SignedObject::parse(raw.as_bytes()).unwrap().unwrap();
            assert_eq!(got.payload(), payload.as_bytes(), "{marker}");
            assert_eq!(got.format(), format, "{marker}");
            assert_eq!(
                got.x509_signature().is_ok(),
                format == SignatureFormat::X509
            );
        }
        assert!(SignedObject::parse(payload.as_bytes()).unwrap().is_none());
        assert!(SignedObject::parse(b"blob").is_err());
    }

    #[test]
    fn never_panics_on_truncations_and_bit_flips() {
        let raw = commit(&format!("gpgsig {SIG}")).into_bytes();
        for len in 0..raw.len() {
            let _ = SignedObject::parse(&raw[..len]);
            let _ = Ident::committer(&raw[..len]);
        }
        for i in 0..raw.len() {
            for bit in 0..8 {
                let mut flipped = raw.clone();
                flipped[i] ^= 1 << bit;
                let _ = SignedObject::parse(&flipped);
                let _ = SignedObject::parse_tag(&flipped);
                let _ = Ident::author(&flipped);
            }
        }
    }

    #[test]
    fn reads_identities() {
        let raw = commit("");
        let author = Ident::author(raw.as_bytes()).unwrap();
        assert_eq!(
            (author.name.as_str(), author.email.as_str(), author.time),
            ("A U", "a@x.test", 1_685_981_477)
        );
        assert_eq!(author.offset, "-0400");
        assert_eq!(Ident::committer(raw.as_bytes()).unwrap().email, "c@x.test");
        assert!(matches!(
            Ident::tagger(raw.as_bytes()),
            Err(Error::MissingHeader { header: "tagger" })
        ));
        for bad in [
            "author A a@x 1 +0000\n",
            "author A <a@x 1 +0000\n",
            "author A <a@x>\n",
            "author A <a@x> 1 0000\n",
        ] {
            assert!(
                matches!(
                    Ident::author(bad.as_bytes()),
                    Err(Error::MalformedIdent { .. })
                ),
                "{bad}"
            );
        }
    }
}
