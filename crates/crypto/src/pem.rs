//! PEM (RFC 7468) text encoding of DER.
//!
//! [`encode`] writes exactly what Go's `pem.EncodeToMemory` and OpenSSL write: the
//! `-----BEGIN <label>-----` line, standard base64 in 64-column lines, the `-----END <label>-----`
//! line, each ending in `"\n"`. Sigstore clients compare PEM strings byte for byte, so this
//! layout is part of the interface.
//!
//! [`decode`] and [`decode_all`] accept that layout, `"\r\n"` line ends, surrounding whitespace and
//! explanatory text between blocks (RFC 7468 §2), but no headers and no base64 errors.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::Error;

/// `SubjectPublicKeyInfo` (RFC 7468 §13).
pub const PUBLIC_KEY: &str = "PUBLIC KEY";
/// `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 7468 §10).
pub const PRIVATE_KEY: &str = "PRIVATE KEY";
/// X.509 certificate (RFC 7468 §5).
pub const CERTIFICATE: &str = "CERTIFICATE";

const LINE_LEN: usize = 64;

/// Encodes `der` as one PEM block with the given label.
pub fn encode(label: &str, der: &[u8]) -> String {
    // Both this string and the base64 text hold secrets when `der` is a private key; the
    // zeroizing variant is used for those, and shares this layout.
    encode_zeroizing(label, der).to_string()
}

/// [`encode`], building the text in buffers that are wiped on drop.
pub(crate) fn encode_zeroizing(label: &str, der: &[u8]) -> Zeroizing<String> {
    let body = Zeroizing::new(STANDARD.encode(der));
    let lines = body.len().div_ceil(LINE_LEN);
    let mut out = Zeroizing::new(String::with_capacity(
        2 * (label.len() + 16) + body.len() + lines,
    ));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        // base64 output is ASCII, so any byte index is a char boundary.
        let (line, tail) = rest.split_at(rest.len().min(LINE_LEN));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decodes the single PEM block in `text`, which must carry `label`.
///
/// # Errors
///
/// [`Error::MalformedPem`] if the text is not PEM, [`Error::PemBlockCount`] unless there is
/// exactly one block, [`Error::PemLabelMismatch`] for another label, [`Error::PemBase64`] if the
/// body is not valid base64.
pub fn decode(text: &str, label: &str) -> Result<Vec<u8>, Error> {
    let mut blocks = decode_all(text, label)?;
    match (blocks.pop(), blocks.is_empty()) {
        (Some(der), true) => Ok(der),
        (None, _) => Err(Error::PemBlockCount {
            expected: 1,
            actual: 0,
        }),
        (Some(_), false) => Err(Error::PemBlockCount {
            expected: 1,
            actual: blocks.len() + 1,
        }),
    }
}

/// Decodes every PEM block in `text` (for example a certificate chain); each must carry `label`.
/// Returns an empty list when the text holds no block.
///
/// # Errors
///
/// As for [`decode`], except that any number of blocks is accepted.
pub fn decode_all(text: &str, label: &str) -> Result<Vec<Vec<u8>>, Error> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("-----BEGIN ") else {
            if line.starts_with("-----") {
                return Err(Error::MalformedPem {
                    line: number + 1,
                    reason: "expected BEGIN line",
                });
            }
            // Explanatory text outside a block (RFC 7468 §5.2).
            continue;
        };
        let found = rest.strip_suffix("-----").ok_or(Error::MalformedPem {
            line: number + 1,
            reason: "malformed BEGIN line",
        })?;
        if found != label {
            return Err(Error::PemLabelMismatch {
                expected: label.to_owned(),
                actual: found.to_owned(),
            });
        }
        let mut body = Zeroizing::new(String::new());
        let mut ended = false;
        for (number, line) in lines.by_ref() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("-----END ") {
                if rest.strip_suffix("-----") != Some(label) {
                    return Err(Error::MalformedPem {
                        line: number + 1,
                        reason: "END line does not match BEGIN line",
                    });
                }
                ended = true;
                break;
            }
            if line.contains(':') {
                return Err(Error::MalformedPem {
                    line: number + 1,
                    reason: "encapsulated headers are not supported",
                });
            }
            body.push_str(line);
        }
        if !ended {
            return Err(Error::MalformedPem {
                line: number + 1,
                reason: "missing END line",
            });
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| Error::PemBase64 {
                label: label.to_owned(),
                reason: e.to_string(),
            })?;
        blocks.push(der);
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_64_column_lines_with_trailing_newline() {
        let der: Vec<u8> = (0..=255u8).collect();
        let pem = encode("TEST", &der);
        let lines: Vec<&str> = pem.split_inclusive('\n').collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN TEST-----\n"));
        assert_eq!(lines.last(), Some(&"-----END TEST-----\n"));
        // 256 bytes -> 344 base64 characters -> 5 full lines and one of 24.
        let body = &lines[1..lines.len() - 1];
        assert_eq!(body.len(), 6);
        assert!(body[..5].iter().all(|l| l.len() == 65));
        assert_eq!(body[5].len(), 25);
        assert_eq!(decode(&pem, "TEST").unwrap(), der);
    }

    #[test]
    fn encodes_empty_and_exact_line_bodies() {
        assert_eq!(encode("X", &[]), "-----BEGIN X-----\n-----END X-----\n");
        // 48 bytes -> exactly 64 base64 characters: one line, no empty line after it.
        let pem = encode("X", &[0u8; 48]);
        assert_eq!(
            pem,
            format!("-----BEGIN X-----\n{}\n-----END X-----\n", "A".repeat(64))
        );
    }

    struct Case {
        name: &'static str,
        text: &'static str,
        check: fn(&Result<Vec<u8>, Error>) -> bool,
    }

    const CASES: &[Case] = &[
        Case {
            name: "crlf and surrounding text",
            text: "hello\r\n-----BEGIN X-----\r\nAAEC\r\n-----END X-----\r\nbye\r\n",
            check: |r| matches!(r, Ok(v) if v == &[0, 1, 2]),
        },
        Case {
            name: "no block",
            text: "nothing here\n",
            check: |r| {
                matches!(
                    r,
                    Err(Error::PemBlockCount {
                        expected: 1,
                        actual: 0
                    })
                )
            },
        },
        Case {
            name: "two blocks",
            text: "-----BEGIN X-----\nAA==\n-----END X-----\n-----BEGIN X-----\nAA==\n-----END X-----\n",
            check: |r| {
                matches!(
                    r,
                    Err(Error::PemBlockCount {
                        expected: 1,
                        actual: 2
                    })
                )
            },
        },
        Case {
            name: "wrong label",
            text: "-----BEGIN Y-----\nAA==\n-----END Y-----\n",
            check: |r| matches!(r, Err(Error::PemLabelMismatch { actual, .. }) if actual == "Y"),
        },
        Case {
            name: "missing end",
            text: "-----BEGIN X-----\nAA==\n",
            check: |r| {
                matches!(
                    r,
                    Err(Error::MalformedPem {
                        reason: "missing END line",
                        ..
                    })
                )
            },
        },
        Case {
            name: "mismatched end",
            text: "-----BEGIN X-----\nAA==\n-----END Y-----\n",
            check: |r| matches!(r, Err(Error::MalformedPem { line: 3, .. })),
        },
        Case {
            name: "bad base64",
            text: "-----BEGIN X-----\nA*==\n-----END X-----\n",
            check: |r| matches!(r, Err(Error::PemBase64 { .. })),
        },
        Case {
            name: "missing padding",
            text: "-----BEGIN X-----\nAA\n-----END X-----\n",
            check: |r| matches!(r, Err(Error::PemBase64 { .. })),
        },
        Case {
            name: "headers",
            text: "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAA==\n-----END X-----\n",
            check: |r| matches!(r, Err(Error::MalformedPem { line: 2, .. })),
        },
        Case {
            name: "stray END",
            text: "-----END X-----\n",
            check: |r| matches!(r, Err(Error::MalformedPem { line: 1, .. })),
        },
    ];

    #[test]
    fn decode_cases() {
        for case in CASES {
            let result = decode(case.text, "X");
            assert!((case.check)(&result), "{}: got {result:?}", case.name);
        }
    }

    #[test]
    fn decode_all_reads_chains() {
        let text = format!(
            "{}{}",
            encode("CERTIFICATE", b"one"),
            encode("CERTIFICATE", b"two")
        );
        assert_eq!(
            decode_all(&text, CERTIFICATE).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        assert!(decode_all("", CERTIFICATE).unwrap().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(text in "\\PC*") {
            let _ = decode(&text, "X");
        }

        #[test]
        fn round_trips(der in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            proptest::prop_assert_eq!(decode(&encode("X", &der), "X").unwrap(), der);
        }
    }
}
