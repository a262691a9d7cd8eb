//! Image globs, ported from policy-controller `pkg/apis/glob/glob.go`, and the image
//! reference normalisation of go-containerregistry `name.ParseReference(_, WeakValidation)`.

use regex::Regex;

const DOCKER_HUB: &str = "index.docker.io";

/// A compiled `images[].glob`.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    glob: String,
    regex: Regex,
}

impl Glob {
    /// Compiles a glob: `*` matches `[^/]*` (it crosses `:`), `**` matches anything, `.` is
    /// literal, the match is anchored; a bare `*` means `index.docker.io/library/*` and `*/*`
    /// means `index.docker.io/*/*`. `None` when the glob has a character outside
    /// `[A-Za-z0-9-_:/*.@]`.
    pub(crate) fn new(glob: &str) -> Option<Self> {
        let upgraded = match glob {
            "*/*" => "index.docker.io/*/*",
            "*" => "index.docker.io/library/*",
            other => other,
        };
        let valid = !upgraded.is_empty()
            && upgraded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:/*.@".contains(c));
        if !valid {
            return None;
        }
        let mut pattern = String::with_capacity(upgraded.len() * 2 + 2);
        pattern.push('^');
        let mut chars = upgraded.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    pattern.push_str(".*");
                }
                '*' => pattern.push_str("[^/]*"),
                '.' => pattern.push_str(r"\."),
                other => pattern.push(other),
            }
        }
        pattern.push('$');
        let regex = Regex::new(&pattern).ok()?;
        Some(Self {
            glob: glob.to_owned(),
            regex,
        })
    }

    /// The glob as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.glob
    }

    /// Whether the glob matches `image`: the normalised reference first, then (deprecated
    /// fallback, as policy-controller) the raw string when it differs.
    pub(crate) fn matches(&self, image: &ImageRef) -> bool {
        self.regex.is_match(&image.name)
            || (image.name != image.raw && self.regex.is_match(&image.raw))
    }
}

/// An image reference, parsed and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// As given.
    pub(crate) raw: String,
    /// Fully qualified: `index.docker.io/library/busybox:latest`, `ghcr.io/a/b@sha256:..`.
    pub(crate) name: String,
}

impl ImageRef {
    /// Parses a reference (`[registry/]repository[:tag][@digest]`) with go-containerregistry's
    /// weak validation: Docker Hub is `index.docker.io`, its single-component repositories are
    /// under `library/`, and a reference with neither tag nor digest gets `:latest`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let (rest, digest) = match raw.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest)?;
                (rest, Some(digest))
            }
            None => (raw, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (repo_part, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        let (registry, repository) = match repo_part.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, path.to_owned())
            }
            _ => (DOCKER_HUB, repo_part.to_owned()),
        };
        let registry = if registry == "docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        check_registry(registry)?;
        check_repository(&repository)?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let name = match (tag, digest) {
            (_, Some(digest)) => format!("{registry}/{repository}@{digest}"),
            (Some(tag), None) => format!("{registry}/{repository}:{tag}"),
            (None, None) => format!("{registry}/{repository}:latest"),
        };
        Ok(Self {
            raw: raw.to_owned(),
            name,
        })
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("unsupported digest algorithm in {digest:?}"))?;
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "digest {digest:?} is not sha256 followed by 64 lowercase hex digits"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("tag {tag:?} must match [A-Za-z0-9_.-]{{1,128}}"))
    }
}

fn check_registry(registry: &str) -> Result<(), String> {
    let ok = !registry.is_empty()
        && registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("registry {registry:?} is not a valid host[:port]"))
    }
}

fn check_repository(repository: &str) -> Result<(), String> {
    let ok = !repository.is_empty()
        && repository.len() <= 255
        && repository
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-./".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "repository {repository:?} must be lowercase letters, digits and _-./"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        image: &'static str,
        glob: &'static str,
        want_match: bool,
        want_err: bool,
    }

    const fn case(image: &'static str, glob: &'static str, want_match: bool) -> Case {
        Case {
            image,
            glob,
            want_match,
            want_err: false,
        }
    }

    const fn fails(image: &'static str, glob: &'static str) -> Case {
        Case {
            image,
            glob,
            want_match: false,
            want_err: true,
        }
    }

    // policy-controller pkg/apis/glob/glob_test.go TestGlobMatch, plus digest cases.
    const CASES: &[Case] = &[
        case("foo", "index.docker.io/library/foo:latest", true),
        case("foo", "index.docker.io/library/foo:*", true),
        case("foo", "index.docker.io/library/*", true),
        case("foo", "index.docker.io/library/*:latest", true),
        case("foo", "index.docker.io/*/*", true),
        case("foo", "index.docker.io/**", true),
        case("foo", "index.docker.**", true),
        case("foo", "inde**", true),
        case("foo", "**", true),
        case("foo", "foo", true), // deprecated raw fallback
        case("foo", "foo*", true),
        case("foo", "foo**", true),
        case("myuser/myapp", "index.docker.io/myuser/myapp:latest", true),
        case("myuser/myapp", "index.docker.io/myuser/myapp:*", true),
        case("myuser/myapp", "index.docker.io/myuser/*", true),
        case("myuser/myapp", "index.docker.io/myuser/*:latest", true),
        case("myuser/myapp", "index.docker.io/*/*", true),
        case("myuser/myapp", "index.docker.io/**", true),
        case("myuser/myapp", "index.docker.**", true),
        case("myuser/myapp", "inde**", true),
        case("myuser/myapp", "**", true),
        case("myuser/myapp", "myuser/myapp", true),
        case("myuser/myapp", "myuser/myapp*", true),
        case("myuser/myapp", "myuser/myapp**", true),
        case("ghcr.io/foo/bar", "ghcr.io/*/*", true),
        case("ghcr.io/foo/bar", "ghcr.io/**", true),
        case("ghcr.io/foo", "ghcr.io/*/*", false),
        case("ghcr.io/foo", "ghcr.io/**", true),
        case("ghcr.io/foo", "ghc**", true),
        case("ghcr.io/foo", "**", true),
        case("ghcr.io/foo", "*/**", true),
        case("ghcr.io/foo", "ghcr.io/foo*", true),
        case("ghcr.io/foo", "ghcr.io/foo**", true),
        case("prefix-ghcr.io/foo", "ghcr.io/foo", false),
        case("ghcr.io/foo-suffix", "ghcr.io/foo", false),
        case("ghcrxio/foo", "ghcr.io/**", false),
        fails("invalid&name", "**"),
        fails("invalid-glob", ".+"),
        fails("invalid-glob", "[a-z]*"),
        case("foo", "*", true),
        case("myuser/myapp", "*/*", true),
        // waxseal additions: docker.io aliasing, digests, and a tag glob against a digest.
        case(
            "docker.io/library/foo",
            "index.docker.io/library/foo:latest",
            true,
        ),
        case(
            "registry.local/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "registry.local/app@sha256:*",
            true,
        ),
        case(
            "registry.local/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "registry.local/app:*",
            false,
        ),
        case(
            "registry.local:5000/team/app:v1",
            "registry.local:5000/team/*",
            true,
        ),
        fails("registry.local/app@sha256:short", "**"),
    ];

    #[test]
    fn glob_table_matches_policy_controller() {
        for c in CASES {
            let name = format!("{}|{}", c.image, c.glob);
            let result = Glob::new(c.glob)
                .ok_or_else(|| "invalid glob".to_owned())
                .and_then(|g| ImageRef::parse(c.image).map(|i| g.matches(&i)));
            match result {
                Ok(matched) => {
                    assert!(!c.want_err, "{name}: want error, got match={matched}");
                    assert_eq!(matched, c.want_match, "{name}");
                }
                Err(e) => assert!(c.want_err, "{name}: unexpected error {e}"),
            }
        }
    }
}
