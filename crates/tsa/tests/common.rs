//! Shared fixtures.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use waxseal_tsa::TsaKeys;

/// 2027-01-15T08:00:00Z.
pub(crate) const T0: u64 = 1_800_000_000;

pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Keys valid from T0 for 30 days, generated once per test binary, as PEM.
pub(crate) fn keys() -> TsaKeys {
    static PEM: OnceLock<(String, String)> = OnceLock::new();
    let (key, chain) = PEM.get_or_init(|| {
        let files = TsaKeys::generate(at(T0), Duration::from_secs(30 * 86_400))
            .unwrap()
            .to_pem_files();
        (files.key.to_string(), files.chain)
    });
    TsaKeys::from_pem(key, chain).unwrap()
}

/// Minimal DER writer for hand-built malformed inputs.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}
