//! `waxseal serve --publish-dir`: the published directory holds exactly what the server
//! answers, byte for byte, for every log (Rekor v1 at `api/v1/`, Rekor v2 at the root, the CT
//! log's static-ct-api at `ct/`), and publishing resumes after a restart.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{Server, assert_exit, text, waxseal};

/// Every file under `root`, as paths relative to it, sorted.
fn files(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Signs `artifact` keyless on Rekor v1 and on Rekor v2: a v1 entry, a v2 entry and two
/// precertificates in the CT log.
fn sign_on_both_logs(server: &Server, dir: &Path, artifact: &Path, token: &str) {
    for (source, name) in [
        (vec!["--instance".to_owned(), server.url.clone()], "v1"),
        (
            vec![
                "--trust-config".to_owned(),
                server.trust("client_trust_config.rekor-v2.json"),
            ],
            "v2",
        ),
    ] {
        let bundle = dir.join(format!("{name}-{}.sigstore.json", rand_suffix()));
        let mut args = vec![
            "sign".to_owned(),
            artifact.to_str().unwrap().to_owned(),
            "--identity-token".to_owned(),
            token.to_owned(),
            "--bundle".to_owned(),
            bundle.to_str().unwrap().to_owned(),
        ];
        args.extend(source);
        assert_exit(&waxseal(&args), 0, name);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The checkpoint paths of the three logs, as served and as published.
const CHECKPOINTS: [&str; 3] = ["api/v1/checkpoint", "checkpoint", "ct/checkpoint"];

/// Waits until each published checkpoint is the one the server answers, then checks that
/// every published file is what the server answers for its path.
fn check_published(server: &Server, public: &Path) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for path in CHECKPOINTS {
        loop {
            let (status, served) = server.get(&format!("/{path}"));
            assert_eq!(status, 200, "{path}");
            if std::fs::read(public.join(path)).ok().as_ref() == Some(&served) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{path} was not published in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let files = files(public);
    for file in &files {
        let (status, served) = server.get(&format!("/{file}"));
        assert_eq!(status, 200, "GET /{file}");
        let published = std::fs::read(public.join(file)).unwrap();
        // A checkpoint may have moved on since it was compared above; nothing else can.
        if !CHECKPOINTS.contains(&file.as_str()) {
            assert_eq!(published, served, "{file}");
        }
    }
    files
}

/// The size line of a checkpoint file.
fn size(public: &Path, path: &str) -> u64 {
    let text = std::fs::read_to_string(public.join(path)).unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn published_directory_matches_the_server_for_every_log_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let public = dir.path().join("public");
    let public_arg = public.to_str().unwrap();
    let artifact = dir.path().join("artifact.txt");
    std::fs::write(&artifact, b"published contents").unwrap();

    let server = Server::start(&data, &["--publish-dir", public_arg]);
    let token = server.token("alice", "alice@example.com");
    sign_on_both_logs(&server, dir.path(), &artifact, &token);
    let files = check_published(&server, &public);
    // The genesis entry and one signature on each Rekor log; two precertificates in CT.
    for (path, want) in [
        ("api/v1/checkpoint", 2),
        ("checkpoint", 2),
        ("ct/checkpoint", 2),
    ] {
        assert_eq!(size(&public, path), want, "{path}");
    }
    for want in [
        "api/v1/tile/0/000.p/2",
        "api/v1/tile/entries/000.p/2",
        "tile/0/000.p/2",
        "tile/entries/000.p/2",
        "ct/tile/0/000.p/2",
        "ct/tile/data/000.p/2",
    ] {
        assert!(files.contains(&want.to_owned()), "{want} in {files:?}");
    }
    // The CA's intermediate and root, named by the precertificate entries.
    let issuers: Vec<_> = files
        .iter()
        .filter(|f| f.starts_with("ct/issuer/"))
        .collect();
    assert_eq!(issuers.len(), 2, "{files:?}");
    // Nothing else is published: no staging files left behind.
    assert!(
        files.iter().all(|f| CHECKPOINTS.contains(&f.as_str())
            || f.starts_with("tile/")
            || f.starts_with("api/v1/tile/")
            || f.starts_with("ct/tile/")
            || f.starts_with("ct/issuer/")),
        "{files:?}"
    );
    drop(server);

    // A restart resumes from the published checkpoints and publishes only what is new.
    let server = Server::start(&data, &["--publish-dir", public_arg]);
    sign_on_both_logs(&server, dir.path(), &artifact, &token);
    let after = check_published(&server, &public);
    for (path, want) in [
        ("api/v1/checkpoint", 3),
        ("checkpoint", 3),
        ("ct/checkpoint", 4),
    ] {
        assert_eq!(size(&public, path), want, "{path}");
    }
    assert!(after.contains(&"tile/0/000.p/3".to_owned()), "{after:?}");
    assert!(files.iter().all(|f| after.contains(f)), "files were lost");
}

#[test]
fn serve_refuses_a_bad_publish_target_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--publish-url", "gs://bucket/logs"],
            "gs://bucket/logs",
        ),
        (
            vec!["--publish-url", "s3://b", "--publish-dir", "/tmp/x"],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg];
        all.extend(args);
        let out = waxseal(&all);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{needle}: {}",
            text(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("serving at"),
            "{}",
            text(&out)
        );
    }
}
