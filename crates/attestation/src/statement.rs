//! in-toto Statement (in-toto/attestation `spec/v1/statement.md`), with v0.1 read as well.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Error;
use crate::predicate::{required_object, required_str};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of an in-toto Statement v0.1, which cosign and slsa-github-generator still write.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// One artifact the statement is about (a ResourceDescriptor, `resource_descriptor.md`),
/// matched by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The artifact's name (a file name, a package URL); may be empty.
    pub name: String,
    /// Algorithm (`sha256`, `sha512`, `gitCommit`, ...) to hex-encoded digest.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject with one digest.
    pub fn new(name: impl Into<String>, alg: impl Into<String>, hex: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            digest: BTreeMap::from([(alg.into(), hex.into())]),
        }
    }
}

/// An in-toto Statement: subjects plus a typed predicate. Always has at least one subject,
/// each with at least one digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    statement_type: String,
    subjects: Vec<Subject>,
    predicate_type: String,
    predicate: Value,
}

impl Statement {
    /// A v1 statement (`_type` [`STATEMENT_V1`]).
    ///
    /// # Errors
    ///
    /// [`Error::NoSubject`] without subjects, [`Error::SubjectWithoutDigest`] for a subject
    /// without digest, [`Error::InvalidValue`] for an empty predicate type or digest value.
    pub fn new(
        subjects: Vec<Subject>,
        predicate_type: impl Into<String>,
        predicate: Value,
    ) -> Result<Self, Error> {
        let predicate_type = predicate_type.into();
        check_subjects(&subjects)?;
        if predicate_type.is_empty() {
            return Err(Error::InvalidValue {
                path: "predicateType".to_owned(),
                value: String::new(),
                reason: "must not be empty",
            });
        }
        Ok(Self {
            statement_type: STATEMENT_V1.to_owned(),
            subjects,
            predicate_type,
            predicate,
        })
    }

    /// Parses a statement (v1 or v0.1) from JSON, such as a DSSE payload.
    ///
    /// Required: `_type`, `subject` (non-empty; each subject's `digest` a non-empty object of
    /// strings), `predicateType`. `predicate` may be absent (v1 makes it optional) and reads
    /// as `null`. Unknown top-level fields are ignored, as the spec asks.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`], or the error naming the missing or malformed field.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(json).map_err(|e| Error::InvalidJson {
            what: "statement",
            reason: e.to_string(),
        })?;
        let Value::Object(top) = value else {
            return Err(Error::WrongType {
                path: "statement".to_owned(),
                expected: "an object",
            });
        };
        let statement_type = required_str(&top, "_type", "")?;
        if statement_type != STATEMENT_V1 && statement_type != STATEMENT_V01 {
            return Err(Error::UnknownStatementType {
                value: statement_type.to_owned(),
            });
        }
        let subjects = match top.get("subject") {
            None => return Err(missing("subject")),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_subject(i, item))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(wrong_type("subject", "an array")),
        };
        let predicate_type = required_str(&top, "predicateType", "")?;
        if predicate_type.is_empty() {
            return Err(Error::InvalidValue {
                path: "predicateType".to_owned(),
                value: String::new(),
                reason: "must not be empty",
            });
        }
        let predicate = top.get("predicate").cloned().unwrap_or(Value::Null);
        check_subjects(&subjects)?;
        Ok(Self {
            statement_type: statement_type.to_owned(),
            subjects,
            predicate_type: predicate_type.to_owned(),
            predicate,
        })
    }

    /// Compact JSON with keys in the order `_type`, `subject`, `predicateType`, `predicate`
    /// (the spec's order; `predicate` omitted when `null`).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::from("{\"_type\":");
        out.push_str(&Value::String(self.statement_type.clone()).to_string());
        out.push_str(",\"subject\":[");
        for (i, subject) in self.subjects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let digest: Map<String, Value> = subject
                .digest
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            out.push_str("{\"name\":");
            out.push_str(&Value::String(subject.name.clone()).to_string());
            out.push_str(",\"digest\":");
            out.push_str(&Value::Object(digest).to_string());
            out.push('}');
        }
        out.push_str("],\"predicateType\":");
        out.push_str(&Value::String(self.predicate_type.clone()).to_string());
        if !self.predicate.is_null() {
            out.push_str(",\"predicate\":");
            out.push_str(&self.predicate.to_string());
        }
        out.push('}');
        out.into_bytes()
    }

    /// `_type`: [`STATEMENT_V1`] or [`STATEMENT_V01`].
    pub fn statement_type(&self) -> &str {
        &self.statement_type
    }

    /// The subjects; never empty.
    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// `predicateType`.
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// `predicate` (`null` when the statement had none).
    pub fn predicate(&self) -> &Value {
        &self.predicate
    }

    /// Whether some subject has digest `alg` equal to `hex` (hex compared case-insensitively).
    pub fn has_subject_digest(&self, alg: &str, hex: &str) -> bool {
        self.subjects.iter().any(|s| {
            s.digest
                .get(alg)
                .is_some_and(|d| !hex.is_empty() && d.eq_ignore_ascii_case(hex))
        })
    }
}

fn parse_subject(index: usize, item: &Value) -> Result<Subject, Error> {
    let path = format!("subject[{index}]");
    let Value::Object(obj) = item else {
        return Err(wrong_type(&path, "an object"));
    };
    let name = match obj.get("name") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(wrong_type(&format!("{path}.name"), "a string")),
    };
    let digest_path = format!("{path}.digest");
    let digest_obj = required_object(obj, "digest", &path)?;
    let mut digest = BTreeMap::new();
    for (alg, value) in digest_obj {
        let Value::String(hex) = value else {
            return Err(wrong_type(&format!("{digest_path}.{alg}"), "a string"));
        };
        digest.insert(alg.clone(), hex.clone());
    }
    Ok(Subject { name, digest })
}

fn check_subjects(subjects: &[Subject]) -> Result<(), Error> {
    if subjects.is_empty() {
        return Err(Error::NoSubject);
    }
    for (index, subject) in subjects.iter().enumerate() {
        if subject.digest.is_empty() {
            return Err(Error::SubjectWithoutDigest { index });
        }
        for (alg, hex) in &subject.digest {
            if alg.is_empty() || hex.is_empty() {
                return Err(Error::InvalidValue {
                    path: format!("subject[{index}].digest.{alg}"),
                    value: hex.clone(),
                    reason: "digest algorithm and value must not be empty",
                });
            }
        }
    }
    Ok(())
}

fn missing(path: &str) -> Error {
    Error::MissingField {
        path: path.to_owned(),
    }
}

fn wrong_type(path: &str, expected: &'static str) -> Error {
    Error::WrongType {
        path: path.to_owned(),
        expected,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn sha(name: &str) -> Subject {
        Subject::new(name, "sha256", "ab".repeat(32))
    }

    #[test]
    fn to_json_orders_keys_as_the_spec() {
        let st = Statement::new(
            vec![sha("a")],
            "https://example.com/p",
            json!({"z": 1, "a": 2}),
        )
        .unwrap();
        let text = String::from_utf8(st.to_json()).unwrap();
        let at = |k: &str| text.find(k).unwrap();
        assert!(at("\"_type\"") < at("\"subject\""));
        assert!(at("\"subject\"") < at("\"predicateType\""));
        assert!(at("\"predicateType\"") < at("\"predicate\":"));
        assert!(!text.contains(' '), "compact: {text}");
        assert_eq!(Statement::parse(text.as_bytes()).unwrap(), st);
    }

    #[test]
    fn new_rejects_statement_without_subject_or_digest() {
        assert_eq!(
            Statement::new(vec![], "x:y", json!({})),
            Err(Error::NoSubject)
        );
        let empty = Subject {
            name: "a".into(),
            digest: BTreeMap::new(),
        };
        assert_eq!(
            Statement::new(vec![sha("ok"), empty], "x:y", json!({})),
            Err(Error::SubjectWithoutDigest { index: 1 })
        );
    }

    struct Case {
        name: &'static str,
        json: &'static str,
        want: Result<(), Error>,
    }

    fn missing_field(path: &str) -> Result<(), Error> {
        Err(Error::MissingField { path: path.into() })
    }

    #[test]
    fn parse_names_the_offending_field() {
        let cases = [
            Case {
                name: "v1 accepted",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"x:y","predicate":{}}"#,
                want: Ok(()),
            },
            Case {
                name: "v0.1 accepted",
                json: r#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x:y","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicate":{}}"#,
                want: Ok(()),
            },
            Case {
                name: "missing _type",
                json: r#"{"subject":[{"digest":{"sha256":"00"}}],"predicateType":"x:y"}"#,
                want: missing_field("_type"),
            },
            Case {
                name: "other _type",
                json: r#"{"_type":"https://in-toto.io/Link/v1","subject":[{"digest":{"sha256":"00"}}],"predicateType":"x:y"}"#,
                want: Err(Error::UnknownStatementType {
                    value: "https://in-toto.io/Link/v1".into(),
                }),
            },
            Case {
                name: "missing subject",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"x:y"}"#,
                want: missing_field("subject"),
            },
            Case {
                name: "empty subject",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x:y"}"#,
                want: Err(Error::NoSubject),
            },
            Case {
                name: "subject without digest",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x:y"}"#,
                want: missing_field("subject[0].digest"),
            },
            Case {
                name: "subject with empty digest",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{}}],"predicateType":"x:y"}"#,
                want: Err(Error::SubjectWithoutDigest { index: 0 }),
            },
            Case {
                name: "digest value not a string",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1}}],"predicateType":"x:y"}"#,
                want: Err(Error::WrongType {
                    path: "subject[0].digest.sha256".into(),
                    expected: "a string",
                }),
            },
            Case {
                name: "missing predicateType",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}]}"#,
                want: missing_field("predicateType"),
            },
            Case {
                name: "predicateType not a string",
                json: r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}],"predicateType":3}"#,
                want: Err(Error::WrongType {
                    path: "predicateType".into(),
                    expected: "a string",
                }),
            },
        ];
        for case in cases {
            let got = Statement::parse(case.json.as_bytes()).map(|_| ());
            assert_eq!(got, case.want, "{}", case.name);
        }
        assert!(matches!(
            Statement::parse(b"[1"),
            Err(Error::InvalidJson { .. })
        ));
    }

    #[test]
    fn has_subject_digest_matches_algorithm_and_value() {
        let st = Statement::new(vec![sha("a")], "x:y", json!({})).unwrap();
        assert!(st.has_subject_digest("sha256", &"AB".repeat(32)));
        assert!(!st.has_subject_digest("sha512", &"ab".repeat(32)));
        assert!(!st.has_subject_digest("sha256", &"cd".repeat(32)));
        assert!(!st.has_subject_digest("sha256", ""));
    }
}
