//! Reading request JSON field by field, so that every error names the field's path.

use serde_json::{Map, Value};

use crate::Error;
use crate::protojson;

/// A JSON object inside a request, with its path for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Object<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Object<'a> {
    /// The request's top-level object.
    pub(crate) fn root(value: &'a Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                path: String::new(),
            }),
            _ => Err(Error::WrongType {
                field: "the request".to_owned(),
                expected: "a JSON object",
            }),
        }
    }

    /// The path of `name` in this object.
    pub(crate) fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The member `name`, treating `null` as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// The first of `names` that is present (protobuf JSON accepts the lowerCamelCase name and
    /// the original proto name).
    pub(crate) fn get_any(&self, names: &[&str]) -> Option<(&'a Value, String)> {
        names
            .iter()
            .find_map(|name| self.get(name).map(|v| (v, self.path_of(name))))
    }

    /// Fails on any member not in `known`.
    pub(crate) fn deny_unknown(&self, known: &[&str]) -> Result<(), Error> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(Error::UnknownField {
                field: self.path_of(unknown),
            }),
            None => Ok(()),
        }
    }

    /// A required object member.
    pub(crate) fn object(&self, name: &str) -> Result<Object<'a>, Error> {
        self.optional_object(name)?
            .ok_or_else(|| Error::MissingField {
                field: self.path_of(name),
            })
    }

    /// An optional object member.
    pub(crate) fn optional_object(&self, name: &str) -> Result<Option<Object<'a>>, Error> {
        self.get(name)
            .map(|value| as_object(value, self.path_of(name)))
            .transpose()
    }

    /// The object's path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// A required string member.
    pub(crate) fn string(&self, name: &str) -> Result<&'a str, Error> {
        self.optional_string(name)?
            .ok_or_else(|| Error::MissingField {
                field: self.path_of(name),
            })
    }

    /// An optional string member.
    pub(crate) fn optional_string(&self, name: &str) -> Result<Option<&'a str>, Error> {
        self.get(name)
            .map(|value| as_str(value, &self.path_of(name)))
            .transpose()
    }

    /// A required, non-empty base64 member (Go's `StdEncoding`).
    pub(crate) fn go_bytes(&self, name: &str) -> Result<Vec<u8>, Error> {
        let field = self.path_of(name);
        let text = self.string(name)?;
        if text.is_empty() {
            return Err(Error::MissingField { field });
        }
        protojson::decode_go_base64(text).ok_or(Error::InvalidBase64 { field })
    }
}

/// Borrows `value` as a string, or fails naming `field`.
pub(crate) fn as_str<'a>(value: &'a Value, field: &str) -> Result<&'a str, Error> {
    value.as_str().ok_or_else(|| Error::WrongType {
        field: field.to_owned(),
        expected: "a string",
    })
}

/// An object at `path`, or a typed error.
pub(crate) fn as_object(value: &Value, path: String) -> Result<Object<'_>, Error> {
    match value {
        Value::Object(map) => Ok(Object { map, path }),
        _ => Err(Error::WrongType {
            field: path,
            expected: "a JSON object",
        }),
    }
}

/// An array at `path`, or a typed error.
pub(crate) fn as_array<'a>(value: &'a Value, path: &str) -> Result<&'a [Value], Error> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| Error::WrongType {
            field: path.to_owned(),
            expected: "a JSON array",
        })
}

/// A protojson `bytes` value at `path`.
pub(crate) fn proto_bytes(value: &Value, path: &str) -> Result<Vec<u8>, Error> {
    protojson::decode_proto_base64(as_str(value, path)?).ok_or_else(|| Error::InvalidBase64 {
        field: path.to_owned(),
    })
}

/// Parses a request body as JSON.
pub(crate) fn parse(request_json: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(request_json).map_err(|e| Error::json(&e))
}

/// RFC 8785 bytes of `value`.
pub(crate) fn canonicalize(value: &Value) -> Result<Vec<u8>, Error> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| Error::Canonicalize {
        reason: e.to_string(),
    })
}
