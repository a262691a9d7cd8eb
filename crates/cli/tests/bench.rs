//! `waxseal bench log --json` reports the figures the README quotes.

use std::process::Command;

#[test]
fn bench_log_reports_json_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args([
            "bench",
            "log",
            "--entries",
            "3000",
            "--matrix-entries",
            "1000",
            "--json",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "append_entries_per_sec",
        "sha256_mb_per_sec",
        "durable_commits_per_sec",
        "peak_rss_mb",
        "inclusion_proofs_per_sec",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
    assert_eq!(report["append"].as_array().unwrap().len(), 6);
}
