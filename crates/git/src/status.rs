//! The gpg interface git speaks with `gpg.x509.program` (git `gpg-interface.c`
//! `sign_buffer_gpg`, `verify_gpg_signed_buffer`, `parse_gpg_output`; gnupg `doc/DETAILS`
//! "Format of the --status-fd output"; sigstore/gitsign `internal/gpg/status.go`).
//!
//! git runs `<program> --status-fd=2 -bsau <key>` to sign (payload on stdin, armored signature
//! on stdout, and it requires a line starting `[GNUPG:] SIG_CREATED ` on stderr), and
//! `<program> --status-fd=1 --verify <signature file> -` to verify (payload on stdin, status on
//! stdout). A verification succeeds only with exit 0 and `\n[GNUPG:] GOODSIG ` in the status,
//! so a line (`NEWSIG`) must come first; a second `*SIG` line makes `%G?` show `E`.

use crate::Error;

/// OpenPGP public-key algorithm number of ECDSA (RFC 4880bis §9.1), as gitsign reports it.
const PK_ECDSA: u8 = 19;
/// OpenPGP hash algorithm number of SHA-256 (RFC 4880 §9.4).
const HASH_SHA256: u8 = 8;

/// What git asked the program to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invocation {
    /// `--status-fd=2 -bsau <key>`: sign stdin, detached and armored, to stdout.
    Sign {
        /// Where status lines go (`--status-fd`); `None` when not asked.
        status_fd: Option<u32>,
        /// `-u <key>`: git's `user.signingKey`, else the committer's `Name <email>`.
        local_user: Option<String>,
    },
    /// `--status-fd=1 --verify <signature file> <data file>`; data `-` is stdin.
    Verify {
        /// Where status lines go.
        status_fd: Option<u32>,
        /// The file with the armored signature.
        signature_file: String,
        /// The file with the signed data (`-`: stdin).
        data_file: String,
    },
    /// `--version`.
    Version,
}

impl Invocation {
    /// Reads the arguments after the program name as gpg (and gitsign's pflag parser) reads
    /// them: `-bsau KEY`, `-b -s -a -u KEY`, `-bsauKEY`, `--detach-sign --sign --armor
    /// --local-user=KEY`, `--status-fd=N` or `--status-fd N`, `--verify SIG DATA`, `--version`,
    /// and `--`; `--include-certs` and `--keyid-format` are accepted and ignored.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for unknown options, both or neither of sign and verify, attached
    /// signing or verification (git uses neither), and missing values.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, Error> {
        let usage = |reason: String| Error::Usage { reason };
        let mut sign = false;
        let mut detach = false;
        let mut verify = false;
        let mut version = false;
        let mut status_fd = None;
        let mut local_user = None;
        let mut positional = Vec::new();
        let mut args = args.iter().map(AsRef::as_ref);
        let parse_fd = |value: &str| {
            value
                .parse::<u32>()
                .map_err(|_| usage(format!("--status-fd {value:?} is not a file descriptor")))
        };
        while let Some(arg) = args.next() {
            if arg == "--" {
                positional.extend(args.by_ref().map(str::to_owned));
                break;
            }
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (long, None),
                };
                let takes_value = matches!(
                    name,
                    "status-fd" | "local-user" | "include-certs" | "keyid-format"
                );
                if inline.is_some() && !takes_value {
                    return Err(usage(format!("--{name} takes no value")));
                }
                let mut value = |name: &str| match inline {
                    Some(v) => Ok(v.to_owned()),
                    None => args
                        .next()
                        .map(str::to_owned)
                        .ok_or_else(|| usage(format!("--{name} needs a value"))),
                };
                match name {
                    "sign" => sign = true,
                    "detach-sign" | "detached-sign" => detach = true,
                    "armor" => {}
                    "verify" => verify = true,
                    "version" => version = true,
                    "status-fd" => status_fd = Some(parse_fd(&value(name)?)?),
                    "local-user" => local_user = Some(value(name)?),
                    "include-certs" | "keyid-format" => {
                        value(name)?;
                    }
                    other => return Err(usage(format!("unknown option --{other}"))),
                }
                continue;
            }
            match arg.strip_prefix('-') {
                Some(cluster) if !cluster.is_empty() => {
                    for (i, c) in cluster.char_indices() {
                        match c {
                            'b' => detach = true,
                            's' => sign = true,
                            'a' => {}
                            'v' => verify = true,
                            'u' => {
                                let rest = &cluster[i + 1..];
                                local_user = Some(if rest.is_empty() {
                                    args.next()
                                        .map(str::to_owned)
                                        .ok_or_else(|| usage("-u needs a key".to_owned()))?
                                } else {
                                    rest.to_owned()
                                });
                                break;
                            }
                            other => return Err(usage(format!("unknown option -{other}"))),
                        }
                    }
                }
                _ => positional.push(arg.to_owned()),
            }
        }
        match (sign || detach, verify, version) {
            (false, false, true) => Ok(Self::Version),
            (true, false, false) => {
                if !detach {
                    return Err(usage(
                        "only detached signatures (-b) are supported, as git asks".to_owned(),
                    ));
                }
                if !positional.is_empty() {
                    return Err(usage(format!(
                        "signing reads stdin; unexpected arguments {positional:?}"
                    )));
                }
                Ok(Self::Sign {
                    status_fd,
                    local_user,
                })
            }
            (false, true, false) => match <[String; 2]>::try_from(positional) {
                Ok([signature_file, data_file]) => Ok(Self::Verify {
                    status_fd,
                    signature_file,
                    data_file,
                }),
                Err(positional) => Err(usage(format!(
                    "--verify needs a signature file and a data file (`-` for stdin), got \
                     {positional:?}"
                ))),
            },
            _ => Err(usage(
                "expected exactly one of --sign/-s/-b, --verify or --version".to_owned(),
            )),
        }
    }
}

/// The validity git reads from the `TRUST_*` line (`gpg.minTrustLevel`, `%GT`, and `%G?`: `U`
/// for a good signature below marginal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trust {
    /// `TRUST_FULLY`: the identity policy matched.
    Fully,
    /// `TRUST_MARGINAL`.
    Marginal,
    /// `TRUST_NEVER`.
    Never,
    /// `TRUST_ULTIMATE`.
    Ultimate,
    /// `TRUST_UNDEFINED`: a valid signature by an identity no policy vouches for.
    Undefined,
}

impl Trust {
    fn keyword(self) -> &'static str {
        match self {
            Self::Fully => "FULLY",
            Self::Marginal => "MARGINAL",
            Self::Never => "NEVER",
            Self::Ultimate => "ULTIMATE",
            Self::Undefined => "UNDEFINED",
        }
    }
}

/// Why a signature could not be checked, as `ERRSIG`'s return code (gnupg `doc/DETAILS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 4: an unsupported algorithm or format.
    UnsupportedAlgorithm,
    /// 9: no key (or evidence) to check it with.
    MissingKey,
}

impl ErrorCode {
    fn number(self) -> u8 {
        match self {
            Self::UnsupportedAlgorithm => 4,
            Self::MissingKey => 9,
        }
    }
}

/// The status lines after signing: `BEGIN_SIGNING`, then
/// `SIG_CREATED D <pk> <hash> 00 <unix> <fingerprint>` (gitsign `EmitSigCreated`). `pk` and
/// `hash` are the signature's own (ECDSA 19, SHA-256 8); gitsign reports the certificate
/// issuer's hash (9 for Fulcio's SHA-384), which git ignores.
pub fn sign_status(fingerprint: &str, created_unix: i64) -> String {
    format!(
        "[GNUPG:] BEGIN_SIGNING\n[GNUPG:] SIG_CREATED D {PK_ECDSA} {HASH_SHA256} 00 \
         {created_unix} {}\n",
        token(fingerprint)
    )
}

/// The status of a good signature: `NEWSIG`, `GOODSIG <fingerprint> <signer>`, `VALIDSIG`
/// (fingerprint, creation date and time, no expiry, then the primary fingerprint in the tenth
/// field, where git reads `%GP`), and `TRUST_<trust> 0 shell`. Only a signature that passed
/// every check, the identity policy included, should be reported so.
pub fn good_status(fingerprint: &str, signer: &str, created_unix: i64, trust: Trust) -> String {
    let fpr = token(fingerprint);
    let date = waxseal_bundle::Timestamp::from_unix(created_unix, 0);
    let day = date.as_str().get(..10).unwrap_or("1970-01-01");
    format!(
        "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG {fpr} {}\n[GNUPG:] VALIDSIG {fpr} {day} \
         {created_unix} 0 0 0 {PK_ECDSA} {HASH_SHA256} 00 {fpr}\n[GNUPG:] TRUST_{} 0 shell\n",
        escape(signer),
        trust.keyword()
    )
}

/// The status of a signature that did not verify (`%G?` = `B`): `NEWSIG`,
/// `BADSIG <fingerprint> <signer>`.
pub fn bad_status(fingerprint: &str, signer: &str) -> String {
    format!(
        "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG {} {}\n",
        token(fingerprint),
        escape(signer)
    )
}

/// The status of a signature that could not be checked (`%G?` = `E`): `NEWSIG`,
/// `ERRSIG <key id> <pk> <hash> 00 <unix> <rc>`; the key id is sixteen zeros when unknown.
pub fn error_status(key_id: Option<&str>, created_unix: i64, code: ErrorCode) -> String {
    format!(
        "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG {} {PK_ECDSA} {HASH_SHA256} 00 {created_unix} {}\n",
        key_id.map_or_else(|| "0000000000000000".to_owned(), token),
        code.number()
    )
}

/// A single space-free token (fingerprints are hex; anything else is escaped).
fn token(value: &str) -> String {
    let escaped = escape(value).replace(' ', "%20");
    if escaped.is_empty() {
        "-".to_owned()
    } else {
        escaped
    }
}

/// gpg's `%XX` escaping of a user ID: `%`, and control characters (so no value can end a
/// status line or start another).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '%' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What git makes of a status (a port of `verify_gpg_signed_buffer`'s success test and
    /// `parse_gpg_output`): the `%G?` letter, the key, signer, fingerprint, primary
    /// fingerprint and trust.
    #[derive(Debug, Default, PartialEq)]
    struct GitView {
        ok: bool,
        result: char,
        key: Option<String>,
        signer: Option<String>,
        fingerprint: Option<String>,
        primary: Option<String>,
        trust: &'static str,
    }

    fn git_parse(status: &str) -> GitView {
        const TABLE: &[(char, &str, bool, bool, bool, bool)] = &[
            // result, prefix, exclusive, keyid, uid, fingerprint
            ('G', "GOODSIG ", true, true, true, false),
            ('B', "BADSIG ", true, true, true, false),
            ('E', "ERRSIG ", true, true, false, false),
            ('X', "EXPSIG ", true, true, true, false),
            ('Y', "EXPKEYSIG ", true, true, true, false),
            ('R', "REVKEYSIG ", true, true, true, false),
            ('\0', "VALIDSIG ", false, false, false, true),
            ('\0', "TRUST_", false, false, false, false),
        ];
        let mut view = GitView {
            ok: status.contains("\n[GNUPG:] GOODSIG "),
            result: 'N',
            trust: "undefined",
            ..GitView::default()
        };
        let mut exclusive = 0;
        for line in status.lines() {
            let Some(line) = line.strip_prefix("[GNUPG:] ") else {
                continue;
            };
            for (result, prefix, excl, keyid, uid, fpr) in TABLE {
                let Some(rest) = line.strip_prefix(prefix) else {
                    continue;
                };
                if *excl {
                    exclusive += 1;
                    if exclusive > 1 {
                        return GitView {
                            ok: view.ok,
                            result: 'E',
                            trust: view.trust,
                            ..GitView::default()
                        };
                    }
                }
                if *result != '\0' {
                    view.result = *result;
                }
                if *keyid {
                    let (key, signer) = rest.split_once(' ').unwrap_or((rest, ""));
                    view.key = Some(key.to_owned());
                    if *uid && rest.contains(' ') {
                        view.signer = Some(signer.to_owned());
                    }
                }
                if *prefix == "TRUST_" {
                    let level = rest.split(' ').next().unwrap_or("");
                    view.trust = match level {
                        "UNDEFINED" => "undefined",
                        "NEVER" => "never",
                        "MARGINAL" => "marginal",
                        "FULLY" => "fully",
                        "ULTIMATE" => "ultimate",
                        _ => {
                            view.result = 'E';
                            "invalid"
                        }
                    };
                }
                if *fpr {
                    let fields: Vec<&str> = rest.split(' ').collect();
                    view.fingerprint = fields.first().map(|s| (*s).to_owned());
                    view.primary = fields.get(9).map(|s| (*s).to_owned());
                }
                break;
            }
        }
        view
    }

    const FPR: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn verification_status_reads_as_git_expects() {
        struct Case {
            name: &'static str,
            status: String,
            ok: bool,
            result: char,
            trust: &'static str,
            signer: Option<&'static str>,
        }
        let cases = [
            Case {
                name: "good, policy matched",
                status: good_status(FPR, "alice@x.test", 1_700_000_000, Trust::Fully),
                ok: true,
                result: 'G',
                trust: "fully",
                signer: Some("alice@x.test"),
            },
            Case {
                name: "good, no policy",
                status: good_status(FPR, "alice@x.test", 1_700_000_000, Trust::Undefined),
                ok: true,
                result: 'G',
                trust: "undefined",
                signer: Some("alice@x.test"),
            },
            Case {
                name: "signer with a newline cannot forge a line",
                status: good_status(FPR, "a\n[GNUPG:] BADSIG x y", 0, Trust::Fully),
                ok: true,
                result: 'G',
                trust: "fully",
                signer: Some("a%0A[GNUPG:] BADSIG x y"),
            },
            Case {
                name: "bad",
                status: bad_status(FPR, "alice@x.test"),
                ok: false,
                result: 'B',
                trust: "undefined",
                signer: Some("alice@x.test"),
            },
            Case {
                name: "error",
                status: error_status(None, 0, ErrorCode::MissingKey),
                ok: false,
                result: 'E',
                trust: "undefined",
                signer: None,
            },
        ];
        for case in &cases {
            let view = git_parse(&case.status);
            assert_eq!(view.ok, case.ok, "{}", case.name);
            assert_eq!(view.result, case.result, "{}", case.name);
            assert_eq!(view.trust, case.trust, "{}", case.name);
            assert_eq!(view.signer.as_deref(), case.signer, "{}", case.name);
            assert!(
                case.status.lines().all(|l| l.starts_with("[GNUPG:] ")),
                "{}",
                case.name
            );
        }
        let view = git_parse(&good_status(FPR, "a", 1, Trust::Fully));
        assert_eq!(view.key.as_deref(), Some(FPR));
        assert_eq!(view.fingerprint.as_deref(), Some(FPR));
        assert_eq!(view.primary.as_deref(), Some(FPR));
        // Two *SIG lines are an error for git.
        let twice = format!(
            "{}{}",
            good_status(FPR, "a", 1, Trust::Fully),
            bad_status(FPR, "a")
        );
        assert_eq!(git_parse(&twice).result, 'E');
    }

    #[test]
    fn sign_status_has_the_line_git_requires() {
        let status = sign_status(FPR, 1_700_000_000);
        assert!(status.starts_with("[GNUPG:] BEGIN_SIGNING\n"));
        assert!(status.contains(&format!(
            "\n[GNUPG:] SIG_CREATED D 19 8 00 1700000000 {FPR}\n"
        )));
    }

    #[test]
    fn parses_what_git_passes() {
        let sign = |u: &str| Invocation::Sign {
            status_fd: Some(2),
            local_user: Some(u.to_owned()),
        };
        let verify = Invocation::Verify {
            status_fd: Some(1),
            signature_file: "/tmp/.git_vtag_tmpX".to_owned(),
            data_file: "-".to_owned(),
        };
        let cases: &[(&str, &[&str], Result<Invocation, ()>)] = &[
            (
                "git sign",
                &["--status-fd=2", "-bsau", "A <a@x>"],
                Ok(sign("A <a@x>")),
            ),
            (
                "separate flags",
                &["--status-fd", "2", "-b", "-s", "-a", "-u", "K"],
                Ok(sign("K")),
            ),
            ("attached key", &["--status-fd=2", "-bsauK"], Ok(sign("K"))),
            (
                "long forms",
                &[
                    "--detach-sign",
                    "--sign",
                    "--armor",
                    "--local-user=K",
                    "--status-fd=2",
                ],
                Ok(sign("K")),
            ),
            (
                "git verify",
                &["--status-fd=1", "--verify", "/tmp/.git_vtag_tmpX", "-"],
                Ok(verify.clone()),
            ),
            (
                "gpg verify args ignored",
                &[
                    "--keyid-format=long",
                    "--status-fd=1",
                    "--verify",
                    "/tmp/.git_vtag_tmpX",
                    "-",
                ],
                Ok(verify),
            ),
            ("version", &["--version"], Ok(Invocation::Version)),
            ("attached sign", &["-sau", "K"], Err(())),
            ("attached verify", &["--verify", "sig"], Err(())),
            ("both", &["-bs", "--verify", "a", "b"], Err(())),
            ("neither", &[], Err(())),
            ("unknown short", &["-bsx"], Err(())),
            ("unknown long", &["--sign", "--frobnicate"], Err(())),
            ("missing key", &["-bsau"], Err(())),
            ("bad fd", &["--status-fd=two", "-bsau", "K"], Err(())),
            ("value on a flag", &["--sign=yes", "-b"], Err(())),
            ("sign with files", &["-bsau", "K", "file"], Err(())),
        ];
        for (name, args, want) in cases {
            let got = Invocation::parse(args);
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{name}"),
                (Err(Error::Usage { .. }), Err(())) => {}
                (got, _) => panic!("{name}: {got:?}"),
            }
        }
    }
}
