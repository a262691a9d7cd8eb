//! Image references (`registry/repository[:tag][@digest]`), parsed with distribution/reference's
//! grammar (distribution/reference `regexp.go`, `normalize.go`) and Docker's normalisation.

use std::fmt;
use std::str::FromStr;

use crate::{DEFAULT_REGISTRY, Digest, Error};

/// The host that serves Docker Hub's registry API; [`DEFAULT_REGISTRY`] stays its name for
/// credentials and signatures.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// distribution/reference `NameTotalLengthMax`: the repository with its registry.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A parsed, normalised image reference.
///
/// The registry is always set (`index.docker.io` when the text names none) and a Docker Hub
/// repository of one component gains `library/`. A reference may carry both a tag and a digest
/// (`name:tag@sha256:…`); the digest is what a client fetches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `[registry/]repository[:tag][@sha256:<hex>]`.
    ///
    /// The first `/`-separated component is the registry when it contains `.` or `:` or is
    /// `localhost`; otherwise the registry is `index.docker.io` (as is `docker.io`). Repository
    /// components must match `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*` (lowercase only), the tag
    /// `[\w][\w.-]{0,127}`, and the digest must be sha256.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] naming the rule broken, or [`Error::InvalidDigest`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidReference {
            reference: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("reference is empty"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((base, digest)) => (base, Some(digest.parse::<Digest>()?)),
            None => (text, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(colon) => {
                let tag = &name_and_tag[last_slash + colon + 1..];
                if !valid_tag(tag) {
                    return Err(invalid("tag must match [\\w][\\w.-]{0,127}"));
                }
                (&name_and_tag[..last_slash + colon], Some(tag.to_owned()))
            }
            None => (name_and_tag, None),
        };
        if name.is_empty() {
            return Err(invalid("repository is empty"));
        }
        // normalize.go splitDockerDomain.
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, rest)
            }
            _ => (DEFAULT_REGISTRY, name),
        };
        if !valid_domain(registry) {
            return Err(invalid(
                "registry must be a host name, IPv4 or [IPv6] address, with an optional port",
            ));
        }
        let registry = if registry == "docker.io" {
            DEFAULT_REGISTRY
        } else {
            registry
        };
        if repository.is_empty() {
            return Err(invalid("repository is empty"));
        }
        if repository.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("repository name must be lowercase"));
        }
        if !repository.split('/').all(valid_path_component) {
            return Err(invalid(
                "repository components must match [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*",
            ));
        }
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        if registry.len() + 1 + repository.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(invalid(
                "repository name must not be longer than 255 characters",
            ));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository,
            tag,
            digest,
        })
    }

    /// The registry host (with port, if any), e.g. `index.docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`. This is the name credentials are looked up under.
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry, e.g. `library/alpine`.
    #[must_use]
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `registry/repository`, with no tag or digest: go-containerregistry's
    /// `Repository.Name()`, the `docker-reference` cosign signs.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag, if the reference names one.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if the reference names one.
    #[must_use]
    pub fn digest(&self) -> Option<Digest> {
        self.digest
    }

    /// The same repository pinned to `digest`, without a tag.
    #[must_use]
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// The same repository with `tag` and no digest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] when `tag` is not `[\w][\w.-]{0,127}`.
    pub fn with_tag(&self, tag: &str) -> Result<Self, Error> {
        if !valid_tag(tag) {
            return Err(Error::InvalidReference {
                reference: format!("{}/{}:{tag}", self.registry, self.repository),
                reason: "tag must match [\\w][\\w.-]{0,127}",
            });
        }
        Ok(Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// The host to send registry API requests to: `registry-1.docker.io` for Docker Hub,
    /// else [`Reference::registry`].
    #[must_use]
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            DOCKER_HUB_API_HOST
        } else {
            &self.registry
        }
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::parse(text)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// regexp.go `tag`: `[\w][\w.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match tag.as_bytes().split_first() {
        Some((first, rest)) => {
            word(*first)
                && rest.len() <= 127
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
        None => false,
    }
}

/// regexp.go `pathComponent`: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        // One or more [a-z0-9].
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        // A separator: `.`, `_`, `__` or one or more `-`.
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// regexp.go `domainAndPort`: a host name of `domainNameComponent`s joined by `.`, or an
/// IPv6 address in brackets, with an optional `:port`.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty()
            || !v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    match host {
        None => true,
        Some(host) => !host.is_empty() && host.split('.').all(valid_domain_component),
    }
}

/// regexp.go `domainNameComponent`: `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`.
fn valid_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;

    const HEX: &str = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    struct Case {
        name: &'static str,
        input: &'static str,
        /// registry, repository, tag, has digest, display; None = rejected.
        want: Option<(&'static str, &'static str, Option<&'static str>, bool)>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "official image",
            input: "alpine",
            want: Some(("index.docker.io", "library/alpine", None, false)),
        },
        Case {
            name: "official image with tag",
            input: "alpine:3.20",
            want: Some(("index.docker.io", "library/alpine", Some("3.20"), false)),
        },
        Case {
            name: "docker.io is index.docker.io",
            input: "docker.io/alpine",
            want: Some(("index.docker.io", "library/alpine", None, false)),
        },
        Case {
            name: "user repository on hub",
            input: "user/app:v1",
            want: Some(("index.docker.io", "user/app", Some("v1"), false)),
        },
        Case {
            name: "registry with dot",
            input: "ghcr.io/owner/app",
            want: Some(("ghcr.io", "owner/app", None, false)),
        },
        Case {
            name: "localhost",
            input: "localhost/app:latest",
            want: Some(("localhost", "app", Some("latest"), false)),
        },
        Case {
            name: "registry with port, no tag",
            input: "127.0.0.1:5000/a/b/c",
            want: Some(("127.0.0.1:5000", "a/b/c", None, false)),
        },
        Case {
            name: "registry with port and tag",
            input: "localhost:5000/app:1.0-rc_1",
            want: Some(("localhost:5000", "app", Some("1.0-rc_1"), false)),
        },
        Case {
            name: "ipv6 registry",
            input: "[::1]:5000/app",
            want: Some(("[::1]:5000", "app", None, false)),
        },
        Case {
            name: "tag and digest",
            input: "ghcr.io/o/app:v1@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            want: Some(("ghcr.io", "o/app", Some("v1"), true)),
        },
        Case {
            name: "digest only",
            input: "alpine@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            want: Some(("index.docker.io", "library/alpine", None, true)),
        },
        Case {
            name: "separators",
            input: "example.com/a.b/c__d/e---f/g_h",
            want: Some(("example.com", "a.b/c__d/e---f/g_h", None, false)),
        },
        Case {
            name: "uppercase repository",
            input: "example.com/App",
            want: None,
        },
        Case {
            name: "uppercase single component",
            input: "Alpine",
            want: None,
        },
        Case {
            name: "empty",
            input: "",
            want: None,
        },
        Case {
            name: "empty tag",
            input: "alpine:",
            want: None,
        },
        Case {
            name: "tag starting with dot",
            input: "alpine:.x",
            want: None,
        },
        Case {
            name: "tag too long",
            input: "alpine:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            want: None,
        },
        Case {
            name: "sha512 digest",
            input: "alpine@sha512:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            want: None,
        },
        Case {
            name: "double separator",
            input: "example.com/a..b",
            want: None,
        },
        Case {
            name: "trailing separator",
            input: "example.com/a-",
            want: None,
        },
        Case {
            name: "triple underscore",
            input: "example.com/a___b",
            want: None,
        },
        Case {
            name: "empty component",
            input: "example.com//a",
            want: None,
        },
        Case {
            name: "registry only",
            input: "example.com/",
            want: None,
        },
        Case {
            name: "bad port",
            input: "example.com:port/a",
            want: None,
        },
        Case {
            name: "registry label ends with dash",
            input: "example-.com/a",
            want: None,
        },
    ];

    #[test]
    fn parses_references_table() {
        for case in CASES {
            let parsed = Reference::parse(case.input);
            match (case.want, parsed) {
                (Some((registry, repository, tag, has_digest)), Ok(r)) => {
                    assert_eq!(r.registry(), registry, "{}", case.name);
                    assert_eq!(r.repository(), repository, "{}", case.name);
                    assert_eq!(r.tag(), tag, "{}", case.name);
                    assert_eq!(r.digest().is_some(), has_digest, "{}", case.name);
                    let again = Reference::parse(&r.to_string()).expect(case.name);
                    assert_eq!(again, r, "{}: display round trips", case.name);
                }
                (None, Err(e)) => {
                    assert!(
                        e.to_string().contains(&format!("{:?}", case.input))
                            || matches!(e, Error::InvalidDigest { .. }),
                        "{}: error names the reference: {e}",
                        case.name
                    );
                }
                (want, got) => panic!("{}: want {want:?}, got {got:?}", case.name),
            }
        }
    }

    #[test]
    fn display_and_with_digest() {
        let r = Reference::parse(&format!("alpine:3@sha256:{HEX}")).unwrap();
        assert_eq!(
            r.to_string(),
            format!("index.docker.io/library/alpine:3@sha256:{HEX}")
        );
        let d = Digest::of(b"x");
        let pinned = r.with_digest(d);
        assert_eq!(pinned.tag(), None);
        assert_eq!(
            pinned.to_string(),
            format!("index.docker.io/library/alpine@{d}")
        );
        let tagged = pinned.with_tag("v2").unwrap();
        assert_eq!(tagged.to_string(), "index.docker.io/library/alpine:v2");
        assert!(pinned.with_tag("-bad").is_err());
    }

    #[test]
    fn api_host_of_docker_hub_is_registry_1() {
        assert_eq!(
            Reference::parse("alpine").unwrap().api_host(),
            "registry-1.docker.io"
        );
        assert_eq!(
            Reference::parse("alpine").unwrap().registry(),
            "index.docker.io"
        );
        assert_eq!(
            Reference::parse("ghcr.io/a/b").unwrap().api_host(),
            "ghcr.io"
        );
    }

    #[test]
    fn error_message_names_the_reference_and_rule() {
        let e = Reference::parse("example.com/App").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid image reference \"example.com/App\": repository name must be lowercase"
        );
    }
}
