//! Response shapes: protobuf-specs `TransparencyLogEntry` and Rekor v1 `LogEntry`.

use serde_json::{Value, json};
use waxseal_bundle::Error;
use waxseal_bundle::rekor::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogEntry, LogEntryInclusionProof,
    LogEntryVerification, LogId, TransparencyLogEntry,
};

use crate::support::{read_json, vector_path};

#[test]
fn real_tlog_entries_round_trip_exactly() {
    let manifest = read_json(&vector_path("manifest.json"));
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if name.contains("--") {
            continue;
        }
        let bundle = read_json(&vector_path(case["files"]["bundle"].as_str().unwrap()));
        for entry in bundle["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
        {
            let parsed = TransparencyLogEntry::from_json(&serde_json::to_vec(entry).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&serde_json::to_value(&parsed).unwrap(), entry, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 16, "{checked}");
}

#[test]
fn writes_protojson_with_int64_strings_and_omits_absent_time() {
    let mut entry = TransparencyLogEntry::new(
        0,
        LogId::new(vec![0xfb, 0xff]),
        KindVersion::new("hashedrekord", "0.0.2"),
        b"{}".to_vec(),
    );
    entry.inclusion_proof = Some(InclusionProof::new(
        0,
        vec![1; 2],
        1,
        vec![],
        Checkpoint::new("origin\n1\nAQE=\n\n"),
    ));
    assert_eq!(
        serde_json::to_string(&entry).unwrap(),
        r#"{"logIndex":"0","logId":{"keyId":"+/8="},"kindVersion":{"kind":"hashedrekord","version":"0.0.2"},"inclusionProof":{"logIndex":"0","rootHash":"AQE=","treeSize":"1","hashes":[],"checkpoint":{"envelope":"origin\n1\nAQE=\n\n"}},"canonicalizedBody":"e30="}"#
    );
    entry.integrated_time = Some(1_700_000_000);
    entry.inclusion_promise = Some(InclusionPromise::new(vec![0x30]));
    let value = serde_json::to_value(&entry).unwrap();
    assert_eq!(value["integratedTime"], json!("1700000000"));
    assert_eq!(
        value["inclusionPromise"],
        json!({"signedEntryTimestamp": "MA=="})
    );
}

#[test]
fn reads_protojson_leniently_where_it_is_lenient_and_strictly_where_it_is_strict() {
    // Numbers for int64, proto field names and omitted scalars are protojson; unknown fields
    // are refused as sigstore-python refuses them.
    let entry = TransparencyLogEntry::from_json(
        br#"{"log_index": 5, "logId": {"keyId": "AA"}, "kindVersion": {"kind": "dsse", "version": "0.0.1"}}"#,
    )
    .unwrap();
    assert_eq!(entry.log_index, 5);
    assert_eq!(entry.log_id.key_id, vec![0]);
    assert_eq!(entry.integrated_time, None);
    assert!(entry.canonicalized_body.is_empty());
    for bad in [
        &br#"{"logIndex": "5", "extra": true}"#[..],
        br#"{"logIndex": "five"}"#,
        br#"{"inclusionProof": {"rootHash": "***"}}"#,
        br#"{"kindVersion": {"kind": "dsse", "version": "0.0.1", "x": 1}}"#,
    ] {
        assert!(
            matches!(
                TransparencyLogEntry::from_json(bad),
                Err(Error::InvalidJson { .. })
            ),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn writes_rekor_v1_log_entries_with_plain_integers_and_hex() {
    let mut entry = LogEntry::new(b"{}".to_vec(), 1_700_000_000, vec![0xab; 32], 12);
    entry.verification = Some(LogEntryVerification::new(
        Some(LogEntryInclusionProof::new(
            11,
            vec![0xcd; 32],
            13,
            vec![vec![0xef; 32]],
            "rekor.example.test - 1\n13\nzc0=\n\n",
        )),
        vec![0x30, 0x01],
    ));
    let text = serde_json::to_string(&entry).unwrap();
    let want = format!(
        r#"{{"body":"e30=","integratedTime":1700000000,"logID":"{}","logIndex":12,"verification":{{"inclusionProof":{{"logIndex":11,"rootHash":"{}","treeSize":13,"hashes":["{}"],"checkpoint":"rekor.example.test - 1\n13\nzc0=\n\n"}},"signedEntryTimestamp":"MAE="}}}}"#,
        "ab".repeat(32),
        "cd".repeat(32),
        "ef".repeat(32)
    );
    assert_eq!(text, want);
    assert_eq!(LogEntry::from_json(text.as_bytes()), Ok(entry));
}

#[test]
fn reads_rekor_v1_log_entries_with_extra_fields() {
    // Rekor adds `attestation` when it stores one.
    let value: Value = json!({
        "body": "e30=",
        "integratedTime": 1,
        "logID": "ab".repeat(32),
        "logIndex": 2,
        "attestation": {"data": "e30="},
    });
    let entry = LogEntry::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(entry.log_index, 2);
    assert_eq!(entry.verification, None);
}
