//! Choosing the services to sign with from a signing config, as sigstore-python 4.x does
//! (`sigstore/models.py`, `SigningConfig._get_valid_services`).

use std::time::SystemTime;

use waxseal_bundle::{Service, ServiceConfiguration, ServiceSelector, SigningConfig};

use crate::Error;

/// The Rekor API major versions this client speaks.
pub(crate) const REKOR_VERSIONS: &[u32] = &[1, 2];
/// The Fulcio API major versions this client speaks.
pub(crate) const CA_VERSIONS: &[u32] = &[1];
/// The timestamp authority API major versions this client speaks.
pub(crate) const TSA_VERSIONS: &[u32] = &[1];
/// The OIDC provider API major versions this client speaks.
pub(crate) const OIDC_VERSIONS: &[u32] = &[1];

/// The services chosen for one signing: a CA, one transparency log, the timestamp authorities
/// and the OIDC provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningServices {
    /// The certificate authority (Fulcio), if the config lists a usable one. Keyless signing
    /// needs it; signing with a managed key does not.
    pub ca: Option<Service>,
    /// The OIDC provider, if any.
    pub oidc: Option<Service>,
    /// The transparency log to log the signature in.
    pub tlog: Service,
    /// The timestamp authorities, possibly none.
    pub tsas: Vec<Service>,
}

impl SigningServices {
    /// Selects services from `config` at `now`. For each kind: drop services whose API version
    /// is unsupported or whose `validFor` does not contain `now`; keep one service per operator,
    /// the one with the highest `majorApiVersion` (the last listed among equals); then apply the
    /// kind's selector (`ANY`: the first; `EXACT`: the first `count`; `ALL` or none: all). CA
    /// and OIDC use the first service left; the log uses the first one left.
    ///
    /// # Errors
    ///
    /// [`Error::NoService`] when no transparency log is left, and when an `EXACT` selector
    /// asks for more services than are left.
    pub fn select(config: &SigningConfig, now: SystemTime) -> Result<Self, Error> {
        let tlogs = valid_services(
            &config.rekor_tlog_urls,
            REKOR_VERSIONS,
            config.rekor_tlog_config.as_ref(),
            now,
        )
        .ok_or(Error::NoService {
            kind: "transparency log (as many as rekorTlogConfig asks for)",
            supported: "Rekor v1 or v2",
        })?;
        let tlog = tlogs.into_iter().next().ok_or(Error::NoService {
            kind: "transparency log",
            supported: "Rekor v1 or v2",
        })?;
        let tsas = valid_services(
            &config.tsa_urls,
            TSA_VERSIONS,
            config.tsa_config.as_ref(),
            now,
        )
        .ok_or(Error::NoService {
            kind: "timestamp authority (as many as tsaConfig asks for)",
            supported: "v1",
        })?;
        let first = |services: &[Service], versions| {
            valid_services(services, versions, None, now).and_then(|s| s.into_iter().next())
        };
        Ok(Self {
            ca: first(&config.ca_urls, CA_VERSIONS),
            oidc: first(&config.oidc_urls, OIDC_VERSIONS),
            tlog,
            tsas,
        })
    }
}

/// sigstore-python's `_get_valid_services`; `None` when an `EXACT`/`ANY` selector wants more
/// services than are valid.
fn valid_services(
    services: &[Service],
    versions: &[u32],
    config: Option<&ServiceConfiguration>,
    now: SystemTime,
) -> Option<Vec<Service>> {
    // Operators in order of first appearance, each with its valid services.
    let mut by_operator: Vec<(&str, Vec<&Service>)> = Vec::new();
    for service in services {
        if !versions.contains(&service.major_api_version) {
            continue;
        }
        if !service.valid_for.as_ref().is_none_or(|v| v.contains(now)) {
            continue;
        }
        match by_operator
            .iter_mut()
            .find(|(op, _)| *op == service.operator)
        {
            Some((_, list)) => list.push(service),
            None => by_operator.push((&service.operator, vec![service])),
        }
    }
    let result: Vec<Service> = by_operator
        .into_iter()
        .filter_map(|(_, mut list)| {
            // A stable sort by version, then the last: the highest version, last among equals.
            list.sort_by_key(|s| s.major_api_version);
            list.last().map(|s| (*s).clone())
        })
        .collect();
    let count = match config.map(|c| (c.selector, c.count)) {
        None | Some((ServiceSelector::All, _)) => return Some(result),
        Some((ServiceSelector::Exact, n)) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
        Some(_) => 1,
    };
    if result.len() < count {
        return None;
    }
    Some(result.into_iter().take(count).collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use waxseal_bundle::{TimeRange, Timestamp};

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn service(url: &str, version: u32, operator: &str, start: i64, end: Option<i64>) -> Service {
        Service::new(
            url,
            version,
            TimeRange::new(
                Timestamp::from_unix(start, 0),
                end.map(|e| Timestamp::from_unix(e, 0)),
            ),
            operator,
        )
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn selects_tlogs_as_sigstore_python_does() {
        let past = NOW as i64 - 100;
        let future = NOW as i64 + 100;
        struct Case {
            name: &'static str,
            tlogs: Vec<Service>,
            config: Option<ServiceConfiguration>,
            want: Result<&'static str, ()>,
        }
        let any = Some(ServiceConfiguration::new(ServiceSelector::Any, 0));
        let cases = [
            Case {
                name: "highest version of the operator",
                tlogs: vec![
                    service("https://v1", 1, "a", past, None),
                    service("https://v2", 2, "a", past, None),
                ],
                config: any,
                want: Ok("https://v2"),
            },
            Case {
                name: "first operator wins over a higher version elsewhere",
                tlogs: vec![
                    service("https://a1", 1, "a", past, None),
                    service("https://b2", 2, "b", past, None),
                ],
                config: any,
                want: Ok("https://a1"),
            },
            Case {
                name: "not yet valid is skipped",
                tlogs: vec![
                    service("https://later", 2, "a", future, None),
                    service("https://now", 1, "a", past, None),
                ],
                config: any,
                want: Ok("https://now"),
            },
            Case {
                name: "expired is skipped",
                tlogs: vec![
                    service("https://old", 2, "a", past - 10, Some(past)),
                    service("https://now", 1, "a", past, None),
                ],
                config: any,
                want: Ok("https://now"),
            },
            Case {
                name: "unsupported version is skipped",
                tlogs: vec![
                    service("https://v3", 3, "a", past, None),
                    service("https://v1", 1, "a", past, None),
                ],
                config: None,
                want: Ok("https://v1"),
            },
            Case {
                name: "last among equal versions",
                tlogs: vec![
                    service("https://first", 1, "a", past, None),
                    service("https://second", 1, "a", past, None),
                ],
                config: any,
                want: Ok("https://second"),
            },
            Case {
                name: "exact count larger than available",
                tlogs: vec![service("https://v1", 1, "a", past, None)],
                config: Some(ServiceConfiguration::new(ServiceSelector::Exact, 2)),
                want: Err(()),
            },
            Case {
                name: "nothing valid",
                tlogs: vec![service("https://later", 1, "a", future, None)],
                config: any,
                want: Err(()),
            },
        ];
        for case in cases {
            let mut config = SigningConfig::new();
            config.rekor_tlog_urls = case.tlogs;
            config.rekor_tlog_config = case.config;
            let got = SigningServices::select(&config, now());
            match case.want {
                Ok(url) => assert_eq!(got.unwrap().tlog.url, url, "{}", case.name),
                Err(()) => assert!(
                    matches!(got, Err(Error::NoService { .. })),
                    "{}: {got:?}",
                    case.name
                ),
            }
        }
    }

    #[test]
    fn selects_ca_tsa_and_oidc() {
        let past = NOW as i64 - 100;
        let mut config = SigningConfig::new();
        config.rekor_tlog_urls = vec![service("https://rekor", 1, "a", past, None)];
        config.ca_urls = vec![
            service("https://ca-v2", 2, "a", past, None),
            service("https://ca", 1, "a", past, None),
        ];
        config.tsa_urls = vec![
            service("https://tsa-a", 1, "a", past, None),
            service("https://tsa-b", 1, "b", past, None),
        ];
        let services = SigningServices::select(&config, now()).unwrap();
        assert_eq!(services.ca.unwrap().url, "https://ca");
        assert!(services.oidc.is_none());
        let urls: Vec<_> = services.tsas.iter().map(|s| s.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://tsa-a", "https://tsa-b"],
            "no tsaConfig: all"
        );
        config.tsa_config = Some(ServiceConfiguration::new(ServiceSelector::Any, 0));
        let services = SigningServices::select(&config, now()).unwrap();
        assert_eq!(services.tsas.len(), 1);
        assert_eq!(services.tsas[0].url, "https://tsa-a");
    }
}
