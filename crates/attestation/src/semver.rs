//! Semantic versions exactly as Go's `golang.org/x/mod/semver` reads them, which is what
//! slsa-verifier's tag checks are defined in terms of: a leading `v`, `vMAJOR[.MINOR[.PATCH]]`
//! (short forms only without pre-release or build), no leading zeros.

/// A parsed version: the text of each part, as `semver.Major`, `Prerelease`, `Build` return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version<'a> {
    major: &'a str,
    minor: Option<&'a str>,
    patch: Option<&'a str>,
    prerelease: &'a str,
    build: &'a str,
}

impl<'a> Version<'a> {
    /// `semver.IsValid`: `None` when `v` is not a valid version.
    pub(crate) fn parse(v: &'a str) -> Option<Self> {
        let rest = v.strip_prefix('v')?;
        let (major, rest) = take_number(rest)?;
        if rest.is_empty() {
            return Some(Self::short(major, None));
        }
        let rest = rest.strip_prefix('.')?;
        let (minor, rest) = take_number(rest)?;
        if rest.is_empty() {
            return Some(Self::short(major, Some(minor)));
        }
        let rest = rest.strip_prefix('.')?;
        let (patch, rest) = take_number(rest)?;
        let (prerelease, rest) = match rest.strip_prefix('-') {
            Some(pre) => {
                let end = pre.find('+').unwrap_or(pre.len());
                let ids = &pre[..end];
                if !ids.split('.').all(|id| valid_identifier(id, true)) {
                    return None;
                }
                (&rest[..=end], &pre[end..])
            }
            None => ("", rest),
        };
        let build = match rest.strip_prefix('+') {
            Some(b) => {
                if !b.split('.').all(|id| valid_identifier(id, false)) {
                    return None;
                }
                rest
            }
            None if rest.is_empty() => "",
            None => return None,
        };
        Some(Self {
            major,
            minor: Some(minor),
            patch: Some(patch),
            prerelease,
            build,
        })
    }

    fn short(major: &'a str, minor: Option<&'a str>) -> Self {
        Self {
            major,
            minor,
            patch: None,
            prerelease: "",
            build: "",
        }
    }

    /// `semver.Major`: `vMAJOR`.
    pub(crate) fn major(&self) -> String {
        format!("v{}", self.major)
    }

    /// `semver.Canonical`: `vMAJOR.MINOR.PATCH[-PRE]`, short forms padded with `.0`, build
    /// metadata dropped.
    pub(crate) fn canonical(&self) -> String {
        format!(
            "v{}.{}.{}{}",
            self.major,
            self.minor.unwrap_or("0"),
            self.patch.unwrap_or("0"),
            self.prerelease
        )
    }

    /// `semver.Prerelease`: `-PRE` or empty.
    pub(crate) fn prerelease(&self) -> &'a str {
        self.prerelease
    }

    /// `semver.Build`: `+BUILD` or empty.
    pub(crate) fn build(&self) -> &'a str {
        self.build
    }
}

/// A decimal number without leading zeros, and the rest of the input.
fn take_number(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, rest) = s.split_at(end);
    if num.is_empty() || (num.len() > 1 && num.starts_with('0')) {
        return None;
    }
    Some((num, rest))
}

/// A pre-release or build identifier: `[0-9A-Za-z-]+`; numeric pre-release identifiers have
/// no leading zero.
fn valid_identifier(id: &str, prerelease: bool) -> bool {
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !(prerelease
            && id.len() > 1
            && id.starts_with('0')
            && id.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_go_semver() {
        struct Case {
            v: &'static str,
            canonical: Option<&'static str>,
        }
        let cases = [
            Case {
                v: "v1",
                canonical: Some("v1.0.0"),
            },
            Case {
                v: "v1.2",
                canonical: Some("v1.2.0"),
            },
            Case {
                v: "v1.2.3",
                canonical: Some("v1.2.3"),
            },
            Case {
                v: "v1.2.3-alpha.1",
                canonical: Some("v1.2.3-alpha.1"),
            },
            Case {
                v: "v1.2.3+build.5",
                canonical: Some("v1.2.3"),
            },
            Case {
                v: "v1.2.3-rc1+b",
                canonical: Some("v1.2.3-rc1"),
            },
            Case {
                v: "1.2.3",
                canonical: None,
            },
            Case {
                v: "v01.2.3",
                canonical: None,
            },
            Case {
                v: "v1.2-pre",
                canonical: None,
            },
            Case {
                v: "v1.2.3-01",
                canonical: None,
            },
            Case {
                v: "v1.2.3-",
                canonical: None,
            },
            Case {
                v: "v1.2.3+",
                canonical: None,
            },
            Case {
                v: "v1.2.3.4",
                canonical: None,
            },
            Case {
                v: "vslsa1",
                canonical: None,
            },
            Case {
                v: "v",
                canonical: None,
            },
        ];
        for case in cases {
            assert_eq!(
                Version::parse(case.v).map(|v| v.canonical()),
                case.canonical.map(str::to_owned),
                "{}",
                case.v
            );
        }
        let v = Version::parse("v1.2.3-rc.1+b.2").map(|v| (v.prerelease(), v.build(), v.major()));
        assert_eq!(v, Some(("-rc.1", "+b.2", "v1".to_owned())));
    }
}
