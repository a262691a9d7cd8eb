//! Messages of `sigstore_common.proto` that bundles and trust material share: timestamps and
//! time ranges, public keys, certificates and distinguished names.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::protojson;

/// A `google.protobuf.Timestamp` in protobuf JSON: an RFC 3339 date-time (`2022-04-13T20:06:15Z`,
/// fractional seconds and `±hh:mm` offsets allowed).
///
/// The text is validated when parsed and kept as given, so files are written back unchanged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    /// Seconds since the Unix epoch.
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses an RFC 3339 date-time (RFC 3339 §5.6, `date-time`); `T`/`t` and `Z`/`z` are both
    /// accepted, and leap second 60 is not.
    ///
    /// # Errors
    ///
    /// [`TimestampError`] naming what is malformed.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let (seconds, nanos) = parse_rfc3339(text).ok_or_else(|| TimestampError {
            text: text.to_owned(),
        })?;
        Ok(Self {
            text: text.to_owned(),
            seconds,
            nanos,
        })
    }

    /// The timestamp of `time`, written in protobuf JSON's form (`…Z`, fractional seconds only
    /// when non-zero, in groups of three digits).
    pub fn from_system_time(time: SystemTime) -> Self {
        let (seconds, nanos) = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                if d.subsec_nanos() == 0 {
                    (-secs, 0)
                } else {
                    (-secs - 1, 1_000_000_000 - d.subsec_nanos())
                }
            }
        };
        Self::from_unix(seconds, nanos)
    }

    /// The timestamp `seconds` (and `nanos`, below 10⁹) after the Unix epoch.
    pub fn from_unix(seconds: i64, nanos: u32) -> Self {
        let nanos = nanos.min(999_999_999);
        let days = seconds.div_euclid(86_400);
        let rem = seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        );
        if nanos != 0 {
            let frac = if nanos.is_multiple_of(1_000_000) {
                format!(".{:03}", nanos / 1_000_000)
            } else if nanos.is_multiple_of(1_000) {
                format!(".{:06}", nanos / 1_000)
            } else {
                format!(".{nanos:09}")
            };
            text.push_str(&frac);
        }
        text.push('Z');
        Self {
            text,
            seconds,
            nanos,
        }
    }

    /// Seconds since the Unix epoch (negative before it).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// The fraction of the second, in nanoseconds.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// The instant as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        let nanos = Duration::from_nanos(u64::from(self.nanos));
        if self.seconds >= 0 {
            SystemTime::UNIX_EPOCH + Duration::from_secs(self.seconds.unsigned_abs()) + nanos
        } else {
            SystemTime::UNIX_EPOCH - Duration::from_secs(self.seconds.unsigned_abs()) + nanos
        }
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.seconds, self.nanos)
            .cmp(&(other.seconds, other.nanos))
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

/// A timestamp that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 date-time (such as 2025-01-02T03:04:05Z)")]
pub struct TimestampError {
    text: String,
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0u32, |acc, c| {
            acc.checked_mul(10)?.checked_add(u32::from(c - b'0'))
        })
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hour = digits(11..13)?;
    let minute = digits(14..16)?;
    let second = digits(17..19)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut pos = 19;
    let mut nanos = 0u32;
    if b[pos] == b'.' {
        let start = pos + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 9 {
            return None;
        }
        nanos = digits(start..end)? * 10u32.pow(u32::try_from(9 - (end - start)).ok()?);
        pos = end;
    }
    let offset: i64 = match b.get(pos)? {
        b'Z' | b'z' if pos + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let h = digits(pos + 1..pos + 3)?;
            let m = digits(pos + 4..pos + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = i64::from(h * 3600 + m * 60);
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
    Some((seconds, nanos))
}

/// `dev.sigstore.common.v1.TimeRange`: the closed interval `[start, end]`; `end` absent means
/// open-ended.
///
/// Both ends are inside, as sigstore-js checks validity windows (and as X.509 validity is,
/// RFC 5280 §4.1.2.5: "from notBefore through notAfter, inclusive"). sigstore-python 4.5 treats
/// a TSA's `end` as exclusive, so the two differ only at that one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TimeRange {
    /// The first instant of the range.
    pub start: Timestamp,
    /// The last instant of the range, if it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// A range from `start`, ending at `end` (inclusive) if given.
    pub fn new(start: Timestamp, end: Option<Timestamp>) -> Self {
        Self { start, end }
    }

    /// Whether `start <= time <= end` (`end` absent: no upper bound).
    pub fn contains(&self, time: SystemTime) -> bool {
        self.start.to_system_time() <= time
            && self
                .end
                .as_ref()
                .is_none_or(|end| time <= end.to_system_time())
    }
}

/// `dev.sigstore.common.v1.PublicKey`: DER SubjectPublicKeyInfo, its `PublicKeyDetails` name and
/// the time its owner used it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PublicKey {
    /// DER SubjectPublicKeyInfo (empty when absent).
    #[serde(
        default,
        alias = "raw_bytes",
        skip_serializing_if = "Vec::is_empty",
        with = "protojson::bytes"
    )]
    pub raw_bytes: Vec<u8>,
    /// The `PublicKeyDetails` enum name (`PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`...).
    #[serde(
        default,
        alias = "key_details",
        skip_serializing_if = "String::is_empty"
    )]
    pub key_details: String,
    /// When the key was in use.
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

impl PublicKey {
    /// A key of DER SPKI `raw_bytes`, algorithm `key_details`, used during `valid_for`.
    pub fn new(
        raw_bytes: impl Into<Vec<u8>>,
        key_details: impl Into<String>,
        valid_for: Option<TimeRange>,
    ) -> Self {
        Self {
            raw_bytes: raw_bytes.into(),
            key_details: key_details.into(),
            valid_for,
        }
    }
}

/// `dev.sigstore.common.v1.X509Certificate`: one DER certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct X509Certificate {
    /// The DER encoding.
    #[serde(default, alias = "raw_bytes", with = "protojson::bytes")]
    pub raw_bytes: Vec<u8>,
}

impl X509Certificate {
    /// A certificate of DER `raw_bytes`.
    pub fn new(raw_bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            raw_bytes: raw_bytes.into(),
        }
    }
}

/// `dev.sigstore.common.v1.X509CertificateChain`: DER certificates, leaf (or issuing CA) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct X509CertificateChain {
    /// The certificates, each signed by the next.
    #[serde(default)]
    pub certificates: Vec<X509Certificate>,
}

impl X509CertificateChain {
    /// A chain of DER certificates.
    pub fn new(certificates: impl IntoIterator<Item = Vec<u8>>) -> Self {
        Self {
            certificates: certificates.into_iter().map(X509Certificate::new).collect(),
        }
    }
}

/// `dev.sigstore.common.v1.DistinguishedName` (a CA's subject, informational).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DistinguishedName {
    /// O.
    #[serde(default)]
    pub organization: String,
    /// CN.
    #[serde(default, alias = "common_name")]
    pub common_name: String,
}

impl DistinguishedName {
    /// A name of organization `organization` and common name `common_name`.
    pub fn new(organization: impl Into<String>, common_name: impl Into<String>) -> Self {
        Self {
            organization: organization.into(),
            common_name: common_name.into(),
        }
    }
}

/// `dev.sigstore.common.v1.HashOutput`: a digest and its algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HashOutput {
    /// The `HashAlgorithm` enum name (`SHA2_256`, `SHA2_384`, `SHA2_512`...).
    #[serde(default)]
    pub algorithm: String,
    /// The digest.
    #[serde(default, with = "protojson::bytes")]
    pub digest: Vec<u8>,
}

impl HashOutput {
    /// A digest computed with `algorithm` (a `HashAlgorithm` name).
    pub fn new(algorithm: impl Into<String>, digest: impl Into<Vec<u8>>) -> Self {
        Self {
            algorithm: algorithm.into(),
            digest: digest.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_forms() {
        type Case = (&'static str, &'static str, Option<(i64, u32)>);
        const CASES: &[Case] = &[
            ("epoch", "1970-01-01T00:00:00Z", Some((0, 0))),
            (
                "millis",
                "2022-10-31T23:59:59.999Z",
                Some((1_667_260_799, 999_000_000)),
            ),
            ("offset", "1970-01-01T01:00:00+01:00", Some((0, 0))),
            ("negative offset", "1969-12-31T23:00:00-01:00", Some((0, 0))),
            ("leap day", "2024-02-29T00:00:00Z", Some((1_709_164_800, 0))),
            ("not leap day", "2023-02-29T00:00:00Z", None),
            ("no zone", "2024-01-01T00:00:00", None),
            ("space", "2024-01-01 00:00:00Z", None),
            (
                "ten fraction digits",
                "2024-01-01T00:00:00.0000000000Z",
                None,
            ),
            ("hour 24", "2024-01-01T24:00:00Z", None),
            ("trailing", "2024-01-01T00:00:00Zx", None),
            ("sign in year", "+024-01-01T00:00:00Z", None),
            ("multibyte", "2024-01-01T00:00:00\u{e9}", None),
            ("empty", "", None),
        ];
        for (name, text, want) in CASES {
            let got = Timestamp::parse(text)
                .ok()
                .map(|t| (t.unix_seconds(), t.nanos()));
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn writes_protojson_form() {
        assert_eq!(Timestamp::from_unix(0, 0).as_str(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(1_667_260_799, 999_000_000).as_str(),
            "2022-10-31T23:59:59.999Z"
        );
        assert_eq!(Timestamp::from_unix(-1, 0).as_str(), "1969-12-31T23:59:59Z");
        let t = Timestamp::from_system_time(SystemTime::UNIX_EPOCH + Duration::from_secs(86_399));
        assert_eq!(t.as_str(), "1970-01-01T23:59:59Z");
        assert_eq!(Timestamp::parse(t.as_str()).unwrap(), t);
    }

    #[test]
    fn time_range_is_closed() {
        let at = |s, n| SystemTime::UNIX_EPOCH + Duration::new(s, n);
        let closed = TimeRange::new(
            Timestamp::from_unix(10, 0),
            Some(Timestamp::from_unix(20, 0)),
        );
        let open = TimeRange::new(Timestamp::from_unix(10, 0), None);
        struct Case {
            name: &'static str,
            range: &'static str,
            time: SystemTime,
            want: bool,
        }
        let cases = [
            Case {
                name: "start - 1 s",
                range: "closed",
                time: at(9, 0),
                want: false,
            },
            Case {
                name: "start - 1 ns",
                range: "closed",
                time: at(9, 999_999_999),
                want: false,
            },
            Case {
                name: "exactly start",
                range: "closed",
                time: at(10, 0),
                want: true,
            },
            Case {
                name: "inside",
                range: "closed",
                time: at(15, 0),
                want: true,
            },
            Case {
                name: "exactly end",
                range: "closed",
                time: at(20, 0),
                want: true,
            },
            Case {
                name: "end + 1 ns",
                range: "closed",
                time: at(20, 1),
                want: false,
            },
            Case {
                name: "end + 1 s",
                range: "closed",
                time: at(21, 0),
                want: false,
            },
            Case {
                name: "open, start - 1 s",
                range: "open",
                time: at(9, 0),
                want: false,
            },
            Case {
                name: "open, exactly start",
                range: "open",
                time: at(10, 0),
                want: true,
            },
            Case {
                name: "open, far future",
                range: "open",
                time: at(1 << 40, 0),
                want: true,
            },
        ];
        for case in &cases {
            let range = if case.range == "open" { &open } else { &closed };
            assert_eq!(range.contains(case.time), case.want, "{}", case.name);
        }
    }
}
