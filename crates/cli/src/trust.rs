//! The instance's client-facing trust material, as Sigstore clients take it (INTEROP.md §1):
//! the trusted root (`tlogs[]`, `certificateAuthorities[]`, `ctlogs[]`,
//! `timestampAuthorities[]`), a v0.2 signing config naming one transparency log, and the
//! ClientTrustConfig that carries both (`sigstore --trust-config FILE`).
//!
//! Written to `DATA_DIR/trust/` on every start and served at `/trust/<file>`:
//!
//! | file | content |
//! |---|---|
//! | `trusted_root.json` | both Rekor logs, the CA, the CT log, the TSA |
//! | `signing_config.json`, `client_trust_config.json` | signing with the log `--signing-log` selects (Rekor v1 by default) |
//! | `signing_config.rekor-v1.json`, `client_trust_config.rekor-v1.json` | signing with Rekor v1 |
//! | `signing_config.rekor-v2.json`, `client_trust_config.rekor-v2.json` | signing with Rekor v2 |

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use waxseal_bundle::rekor::LogId;
use waxseal_bundle::{
    CertificateAuthority, ClientTrustConfig, DistinguishedName, PublicKey, Service,
    ServiceConfiguration, ServiceSelector, SigningConfig, TimeRange, Timestamp,
    TransparencyLogInstance, TrustedRoot, X509CertificateChain,
};

use crate::datadir::DataDir;

/// The operator name written into signing-config services.
const OPERATOR: &str = "waxseal";

/// Which Rekor API clients sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SigningLog {
    /// The Rekor v1 API (`/api/v1/log/entries`): integrated time and SET, DSSE across clients.
    #[value(name = "rekor-v1")]
    RekorV1,
    /// The Rekor v2 API (rekor-tiles): no integrated time, so signing needs the TSA.
    #[value(name = "rekor-v2")]
    RekorV2,
}

/// One log: where it is, its key and its log ID.
#[derive(Debug)]
pub(crate) struct LogKey {
    pub(crate) base_url: String,
    pub(crate) key: waxseal_crypto::PublicKey,
    pub(crate) log_id: [u8; 32],
}

/// Everything the trust files describe.
#[derive(Debug)]
pub(crate) struct Material {
    pub(crate) public_url: String,
    /// When the instance was created: the start of every validity window.
    pub(crate) created: Timestamp,
    pub(crate) rekor_v1: LogKey,
    pub(crate) rekor_v2: LogKey,
    pub(crate) ct: LogKey,
    /// The CA chain, intermediate first, root last (DER).
    pub(crate) ca_chain: Vec<Vec<u8>>,
    /// The TSA chain, signing certificate first, root last (DER).
    pub(crate) tsa_chain: Vec<Vec<u8>>,
}

impl Material {
    fn tlog(&self, log: &LogKey) -> TransparencyLogInstance {
        let mut instance = TransparencyLogInstance::new(
            log.base_url.clone(),
            PublicKey::new(
                log.key.spki_der(),
                log.key.key_details(),
                Some(TimeRange::new(self.created.clone(), None)),
            ),
            LogId::new(log.log_id.to_vec()),
        );
        instance.operator = OPERATOR.to_owned();
        instance
    }

    /// The trusted root.
    pub(crate) fn trusted_root(&self) -> TrustedRoot {
        let window = TimeRange::new(self.created.clone(), None);
        let mut root = TrustedRoot::new();
        root.tlogs = vec![self.tlog(&self.rekor_v1), self.tlog(&self.rekor_v2)];
        root.ctlogs = vec![self.tlog(&self.ct)];
        root.certificate_authorities = vec![CertificateAuthority::new(
            DistinguishedName::new("waxseal", "waxseal certificate authority"),
            self.public_url.clone(),
            X509CertificateChain::new(self.ca_chain.iter().cloned()),
            window.clone(),
        )];
        root.timestamp_authorities = vec![CertificateAuthority::new(
            DistinguishedName::new("waxseal", "waxseal timestamp authority"),
            format!("{}/api/v1/timestamp", self.public_url),
            X509CertificateChain::new(self.tsa_chain.iter().cloned()),
            window,
        )];
        root
    }

    /// The signing config for `log`: the CA at the origin, the built-in OIDC issuer, one tlog,
    /// and the TSA's full endpoint URL (INTEROP.md §1).
    pub(crate) fn signing_config(&self, log: SigningLog) -> SigningConfig {
        let window = TimeRange::new(self.created.clone(), None);
        let service =
            |url: String, version: u32| Service::new(url, version, window.clone(), OPERATOR);
        let mut config = SigningConfig::new();
        config.ca_urls = vec![service(self.public_url.clone(), 1)];
        config.oidc_urls = vec![service(self.public_url.clone(), 1)];
        config.rekor_tlog_urls = vec![match log {
            SigningLog::RekorV1 => service(self.rekor_v1.base_url.clone(), 1),
            SigningLog::RekorV2 => service(self.rekor_v2.base_url.clone(), 2),
        }];
        config.rekor_tlog_config = Some(ServiceConfiguration::new(ServiceSelector::Any, 0));
        config.tsa_urls = vec![service(format!("{}/api/v1/timestamp", self.public_url), 1)];
        config.tsa_config = Some(ServiceConfiguration::new(ServiceSelector::Any, 0));
        config
    }

    /// Every trust file by name.
    pub(crate) fn files(&self, default_log: SigningLog) -> BTreeMap<&'static str, Vec<u8>> {
        let root = self.trusted_root();
        let mut files = BTreeMap::new();
        files.insert("trusted_root.json", root.to_json_pretty());
        for (log, signing, client) in [
            (
                default_log,
                "signing_config.json",
                "client_trust_config.json",
            ),
            (
                SigningLog::RekorV1,
                "signing_config.rekor-v1.json",
                "client_trust_config.rekor-v1.json",
            ),
            (
                SigningLog::RekorV2,
                "signing_config.rekor-v2.json",
                "client_trust_config.rekor-v2.json",
            ),
        ] {
            let config = self.signing_config(log);
            files.insert(signing, config.to_json_pretty());
            files.insert(
                client,
                ClientTrustConfig::new(root.clone(), config).to_json_pretty(),
            );
        }
        files
    }
}

/// Writes every trust file into `DATA_DIR/trust/` (replacing what a previous start wrote) and
/// returns them for serving.
pub(crate) fn write(
    dir: &DataDir,
    material: &Material,
    default_log: SigningLog,
) -> Result<BTreeMap<&'static str, Vec<u8>>> {
    let trust = dir.path("trust");
    std::fs::create_dir_all(&trust)
        .with_context(|| format!("couldn't create {}", trust.display()))?;
    let files = material.files(default_log);
    for (name, contents) in &files {
        let path = trust.join(name);
        let temporary = trust.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, contents)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .with_context(|| format!("couldn't write {}", path.display()))?;
    }
    Ok(files)
}
