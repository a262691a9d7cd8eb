//! The one HTTP client every request goes through, with errors tagged by stage.

use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use crate::{Error, Stage};

/// How long one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The largest reply body read (trust configs and log entries are far smaller).
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;
/// How much of an unparseable error body is quoted.
const MAX_QUOTED: usize = 300;

/// A reqwest client with waxseal's user agent and timeouts.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
}

/// A POST body and its headers.
#[derive(Debug)]
pub(crate) struct Post<'a> {
    pub(crate) content_type: &'a str,
    pub(crate) accept: Option<&'a str>,
    pub(crate) bearer: Option<&'a str>,
    pub(crate) body: Vec<u8>,
}

impl Http {
    pub(crate) fn new() -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("waxseal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport {
                stage: Stage::TrustConfig,
                url: String::new(),
                reason: format!("couldn't set up the HTTP client: {e}"),
            })?;
        Ok(Self { client })
    }

    /// GETs `url`; a non-2xx status is [`Error::Refused`].
    pub(crate) async fn get(&self, stage: Stage, url: &str) -> Result<Vec<u8>, Error> {
        let request = self.client.get(url);
        self.send(stage, url, request).await
    }

    /// GETs `url` with `query` appended and `Authorization: Bearer {token}`.
    pub(crate) async fn get_authorized(
        &self,
        stage: Stage,
        url: &str,
        query: &[(&str, &str)],
        token: &str,
    ) -> Result<Vec<u8>, Error> {
        let mut full = reqwest::Url::parse(url).map_err(|e| Error::Transport {
            stage,
            url: url.to_owned(),
            reason: format!("not a URL: {e}"),
        })?;
        full.query_pairs_mut().extend_pairs(query);
        let request = self
            .client
            .get(full)
            .header(AUTHORIZATION, format!("Bearer {token}"));
        self.send(stage, url, request).await
    }

    /// POSTs to `url`; a non-2xx status is [`Error::Refused`].
    pub(crate) async fn post(
        &self,
        stage: Stage,
        url: &str,
        post: Post<'_>,
    ) -> Result<Vec<u8>, Error> {
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, post.content_type)
            .body(post.body);
        if let Some(accept) = post.accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(token) = post.bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(stage, url, request).await
    }

    async fn send(
        &self,
        stage: Stage,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, Error> {
        let transport = |e: reqwest::Error| Error::Transport {
            stage,
            url: url.to_owned(),
            reason: error_chain(&e),
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(Error::MalformedReply {
                    stage,
                    url: url.to_owned(),
                    reason: format!("the reply is larger than {MAX_REPLY_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(Error::Refused {
                stage,
                url: url.to_owned(),
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        Ok(body)
    }
}

/// The error and its sources, joined (reqwest hides the cause behind "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The message of a Rekor/Fulcio error JSON (`message`) or an OAuth error
/// (`error_description`, `error`), else the start of the body.
fn error_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
        for key in ["message", "error_description", "error"] {
            if let Some(serde_json::Value::String(message)) = map.get(key) {
                return message.clone();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text.to_owned(),
    }
}

/// `scheme://host[:port]` of `url` (what sigstore-python keeps of a CA URL: it resolves
/// `/api/v2/signingCert` against it, dropping any path).
pub(crate) fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(slash) => &url[..after_scheme + slash],
        None => url,
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 3986 unreserved characters
/// pass, everything else is percent-encoded).
pub(crate) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_drops_the_path() {
        const CASES: &[(&str, &str)] = &[
            ("https://ca.example", "https://ca.example"),
            ("https://ca.example/", "https://ca.example"),
            ("http://127.0.0.1:8700/prefix/x", "http://127.0.0.1:8700"),
        ];
        for (url, want) in CASES {
            assert_eq!(origin(url), *want, "{url}");
        }
    }

    #[test]
    fn error_messages_come_from_the_json_or_the_body() {
        const CASES: &[(&str, &[u8], &str)] = &[
            (
                "rekor",
                br#"{"code":400,"message":"bad entry"}"#,
                "bad entry",
            ),
            (
                "oauth",
                br#"{"error":"invalid_client","error_description":"wrong secret"}"#,
                "wrong secret",
            ),
            ("text", b"  gateway timeout\n", "gateway timeout"),
            ("empty", b"", "(empty body)"),
        ];
        for (name, body, want) in CASES {
            assert_eq!(error_message(body), *want, "{name}");
        }
        assert_eq!(error_message(&[b'x'; 400]).chars().count(), MAX_QUOTED + 1);
    }

    #[test]
    fn form_encoding_escapes_reserved_characters() {
        assert_eq!(form_encode("a b&c=d+é~"), "a%20b%26c%3Dd%2B%C3%A9~");
    }
}
