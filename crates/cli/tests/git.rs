//! Keyless git signing with the real `git` binary and the real `waxseal` binary: the gitsign
//! vectors through `waxseal git verify` and `git verify-commit`/`verify-tag`, and commits and
//! tags signed by `git commit -S`/`git tag -s` against a local `waxseal serve`, verified by
//! git and by the pull-request gate, with the credential cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;

use crate::support::{Lines, Server, assert_exit, text};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/git");

/// A scratch repository with its own HOME (an empty global config) and fixed identities.
struct Repo {
    _dir: tempfile::TempDir,
    home: PathBuf,
    path: PathBuf,
    env: Vec<(String, String)>,
}

impl Repo {
    fn new(object_format: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let path = dir.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        let repo = Self {
            home,
            path,
            _dir: dir,
            env: Vec::new(),
        };
        let init = repo.git_in(
            repo.path.parent().unwrap(),
            &[
                "init",
                "--quiet",
                "--initial-branch=main",
                &format!("--object-format={object_format}"),
                "repo",
            ],
        );
        assert_exit(&init, 0, "git init");
        repo
    }

    fn command(&self, program: &str, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        for name in [
            "SIGSTORE_ID_TOKEN",
            "WAXSEAL_INSTANCE",
            "WAXSEAL_CLIENT_ID",
            "WAXSEAL_CLIENT_SECRET",
            "WAXSEAL_CREDENTIAL_CACHE",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "GIT_DIR",
            "GIT_WORK_TREE",
            "XDG_CONFIG_HOME",
        ] {
            command.env_remove(name);
        }
        command
            .current_dir(cwd)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Alice")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Alice")
            .env("GIT_COMMITTER_EMAIL", "alice@example.com")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command
    }

    fn git_in(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command("git", cwd).args(args).output().unwrap()
    }

    fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.path, args)
    }

    /// `git ARGS`, which must succeed; its stdout.
    fn git_ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert_exit(&out, 0, &format!("git {}", args.join(" ")));
        String::from_utf8(out.stdout).unwrap()
    }

    fn waxseal(&self, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_waxseal"), &self.path)
            .args(args)
            .output()
            .unwrap()
    }

    /// Writes `raw` as a loose object of `kind`, checking git gives it `expected` as id.
    fn import(&self, kind: &str, raw: &Path, expected: Option<&str>) -> String {
        let id = self
            .git_ok(&[
                "hash-object",
                "-t",
                kind,
                "-w",
                "--literally",
                raw.to_str().unwrap(),
            ])
            .trim()
            .to_owned();
        if let Some(expected) = expected {
            assert_eq!(id, expected, "{}", raw.display());
        }
        id
    }

    fn commit(&self, message: &str, extra: &[&str]) -> String {
        let file = self.path.join("file.txt");
        let mut content = std::fs::read_to_string(&file).unwrap_or_default();
        content.push_str(message);
        content.push('\n');
        std::fs::write(&file, content).unwrap();
        self.git_ok(&["add", "file.txt"]);
        let mut args = vec!["commit", "--quiet", "-m", message];
        args.extend_from_slice(extra);
        let out = self.git(&args);
        assert_exit(&out, 0, &format!("git commit {message}"));
        self.git_ok(&["rev-parse", "HEAD"]).trim().to_owned()
    }
}

fn manifest() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(format!("{VECTORS}/manifest.json")).unwrap()).unwrap()
}

/// The words our reason must contain for a vector's expected failure.
fn failure_words(reason: &str) -> &'static [&'static str] {
    if reason.starts_with("needs an online Rekor lookup") {
        &["online", "lookup"]
    } else if reason.starts_with("unsupported pre-release format") {
        &["pre-release"]
    } else if reason.starts_with("message digest mismatch") {
        &["digest"]
    } else {
        panic!("no expectation for the reason {reason:?}")
    }
}

#[test]
fn gitsign_vectors_verify_through_waxseal_and_git() {
    let repo = Repo::new("sha1");
    let root = format!("{VECTORS}/roots/production.trusted_root.json");
    repo.git_ok(&["config", "gpg.format", "x509"]);
    repo.git_ok(&["config", "gpg.x509.program", env!("CARGO_BIN_EXE_waxseal")]);
    repo.git_ok(&["config", "waxseal.trustedRoot", &root]);
    let manifest = manifest();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let name = case["id"].as_str().unwrap();
        let kind = case["object_type"].as_str().unwrap();
        let file = Path::new(VECTORS).join(case["files"]["object"].as_str().unwrap());
        let named = file.file_stem().unwrap().to_str().unwrap();
        let expected_id = (!named.starts_with("DERIVED")).then_some(named);
        let id = repo.import(kind, &file, expected_id);
        let pass = case["expected_result"] == "pass";
        let identity = case["expected_identity"].as_str().unwrap();
        let issuer = case["expected_issuer"].as_str().unwrap();
        repo.git_ok(&["config", "waxseal.identity", identity]);
        repo.git_ok(&["config", "waxseal.issuer", issuer]);

        // The gate, as JSON.
        let mut args = vec![
            "git",
            "verify",
            "--no-walk",
            &id,
            "--trusted-root",
            &root,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--output",
            "json",
        ];
        if kind == "tag" {
            repo.git_ok(&["update-ref", "refs/tags/vector-tag", &id]);
            args.splice(2..4, ["--tag", "vector-tag"]);
        }
        let out = repo.waxseal(&args);
        assert_exit(&out, if pass { 0 } else { 1 }, name);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = &report["results"][0];
        assert_eq!(row["commit"], id, "{name}");
        assert_eq!(row["pass"], pass, "{name}: {row}");
        assert_eq!(row["signed"], true, "{name}: {row}");
        if pass {
            assert_eq!(row["identity"], identity, "{name}");
            assert_eq!(row["issuer"], issuer, "{name}");
            assert_eq!(row["logged"], true, "{name}");
            assert_eq!(row["allowedBy"], "the identity flags", "{name}");
            passed += 1;
        } else {
            let reason = row["reason"].as_str().unwrap().to_lowercase();
            for word in failure_words(case["reason"].as_str().unwrap()) {
                assert!(reason.contains(word), "{name}: {reason}");
            }
            failed += 1;
        }

        // git itself, with waxseal as gpg.x509.program.
        let verb = if kind == "tag" {
            "verify-tag"
        } else {
            "verify-commit"
        };
        let out = repo.git(&[verb, "--raw", &id]);
        assert_exit(
            &out,
            if pass { 0 } else { 1 },
            &format!("{name}: git {verb}"),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        if pass {
            assert!(stderr.contains("[GNUPG:] GOODSIG "), "{name}: {stderr}");
            assert!(stderr.contains("[GNUPG:] TRUST_FULLY"), "{name}: {stderr}");
        } else {
            assert!(!stderr.contains("GOODSIG"), "{name}: {stderr}");
        }
    }
    assert_eq!((passed, failed), (5, 4));
}

/// The `iss` claim of a JWT.
fn token_issuer(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["iss"].as_str().unwrap().to_owned()
}

/// How many certificates the instance issued (its metrics).
fn certificates_issued(server: &Server) -> u64 {
    let (status, body) = server.get("/metrics");
    assert_eq!(status, 200);
    String::from_utf8(body)
        .unwrap()
        .lines()
        .filter(|l| {
            l.starts_with("waxseal_http_request_duration_seconds_count")
                && l.contains("signingCert")
                && l.contains("code=\"201\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

struct Instance {
    server: Server,
    _data: tempfile::TempDir,
    alice: String,
    bob: String,
    issuer: String,
}

fn instance() -> Instance {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"), &[]);
    let alice = server.token("alice", "alice@example.com");
    let bob = server.token("bob", "bob@example.com");
    let issuer = token_issuer(&alice);
    Instance {
        server,
        _data: data,
        alice,
        bob,
        issuer,
    }
}

fn configured(instance: &Instance, object_format: &str) -> Repo {
    let repo = Repo::new(object_format);
    let out = repo.waxseal(&[
        "git",
        "configure",
        "--instance",
        &instance.server.url,
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &instance.issuer,
    ]);
    assert_exit(&out, 0, "git configure");
    assert_eq!(repo.git_ok(&["config", "gpg.format"]).trim(), "x509");
    let program = repo.git_ok(&["config", "gpg.x509.program"]);
    assert!(Path::new(program.trim()).is_absolute(), "{program}");
    repo
}

#[test]
fn git_signs_and_verifies_commits_and_tags_with_policy_trust() {
    let instance = instance();
    let mut repo = configured(&instance, "sha1");
    repo.commit("unsigned base", &[]);
    repo.git_ok(&["checkout", "--quiet", "-b", "feature"]);

    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.alice.clone())];
    let good = repo.commit("signed by alice", &["-S"]);
    repo.git_ok(&["tag", "-s", "-m", "release one", "v1"]);
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.bob.clone())];
    let other = repo.commit("signed by bob", &["-S"]);
    repo.env.clear();

    // git verify-commit / verify-tag / log --show-signature / %G?.
    let out = repo.git(&["verify-commit", "--raw", &good]);
    assert_exit(&out, 0, "verify-commit alice");
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(status.contains("[GNUPG:] GOODSIG "), "{status}");
    assert!(status.contains("TRUST_FULLY"), "{status}");
    let out = repo.git(&["verify-tag", "--raw", "v1"]);
    assert_exit(&out, 0, "verify-tag");
    assert!(String::from_utf8_lossy(&out.stderr).contains("TRUST_FULLY"));
    let out = repo.git(&["verify-commit", "--raw", &other]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TRUST_UNDEFINED"),
        "{}",
        text(&out)
    );
    let marks = repo.git_ok(&["log", "--format=%G? %s", "main..feature"]);
    assert_eq!(marks, "U signed by bob\nG signed by alice\n", "{marks}");
    let shown = repo.git_ok(&["log", "-1", "--show-signature", &good]);
    assert!(shown.contains("alice@example.com"), "{shown}");

    // merge --verify-signatures: G passes, U is refused.
    repo.git_ok(&["checkout", "--quiet", "-b", "only-alice", &good]);
    repo.git_ok(&["checkout", "--quiet", "main"]);
    let out = repo.git(&["merge", "--verify-signatures", "--no-edit", "only-alice"]);
    assert_exit(&out, 0, "merge alice");
    let out = repo.git(&["merge", "--verify-signatures", "--no-edit", "feature"]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "merging bob's commit must be refused"
    );
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("untrusted")
            || said.contains("not trusted")
            || said.contains("does not have"),
        "{said}"
    );

    // The gate over feature: alice passes, bob fails, named.
    let out = repo.waxseal(&[
        "git",
        "verify",
        "main..feature",
        "--instance",
        &instance.server.url,
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &instance.issuer,
    ]);
    assert_exit(&out, 1, "gate with bob's commit");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("FAIL {other}")), "{table}");
    assert!(table.contains("bob@example.com"), "{table}");
    assert!(!table.contains(&format!("FAIL {good}")), "{table}");
}

#[test]
fn gate_names_unsigned_rewritten_and_foreign_commits() {
    let instance = instance();
    let mut repo = configured(&instance, "sha1");
    repo.commit("base", &[]);
    repo.git_ok(&["checkout", "--quiet", "-b", "pr"]);
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.alice.clone())];
    let first = repo.commit("first", &["-S"]);
    let second = repo.commit("second", &["-S"]);
    let policy = repo.path.join(".waxseal/git-policy.yaml");
    std::fs::create_dir_all(policy.parent().unwrap()).unwrap();
    std::fs::write(
        &policy,
        format!(
            "authorities:\n  - name: alice\n    issuer: {}\n    subject: alice@example.com\n    \
             authorEmailMatchesCertificate: true\n",
            instance.issuer
        ),
    )
    .unwrap();
    // The repository's policy file, not the identity `configure` wrote.
    repo.git_ok(&["config", "--unset", "waxseal.identity"]);
    repo.git_ok(&["config", "--unset", "waxseal.issuer"]);
    let gate = |repo: &Repo, range: &str, output: &str| {
        repo.waxseal(&[
            "git",
            "verify",
            range,
            "--instance",
            &instance.server.url,
            "--output",
            output,
        ])
    };
    // All of the PR passes, by the repository's policy file (merge commits included).
    let out = gate(&repo, "main..pr", "json");
    assert_exit(&out, 0, "all signed by alice");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["commits"], 2);
    assert_eq!(report["results"][0]["commit"], first);
    assert_eq!(report["results"][1]["allowedBy"], "alice");
    // The default range: this branch against main.
    assert_exit(
        &repo.waxseal(&["git", "verify", "--instance", &instance.server.url]),
        0,
        "default range",
    );

    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.bob.clone())];
    let foreign = repo.commit("by bob", &["-S"]);
    repo.env.clear();
    let unsigned = repo.commit("unsigned", &[]);
    // Rewrite `second`'s message, keeping its gpgsig.
    let raw = repo.git_ok(&["cat-file", "commit", &second]);
    let rewritten_raw = raw.replace("\nsecond\n", "\nsecond, rewritten\n");
    assert_ne!(raw, rewritten_raw);
    let file = repo.path.join("rewritten.commit");
    std::fs::write(&file, rewritten_raw).unwrap();
    let rewritten = repo.import("commit", &file, None);
    repo.git_ok(&["update-ref", "refs/heads/rewritten", &rewritten]);

    let out = gate(&repo, "main..pr", "table");
    assert_exit(&out, 1, "foreign and unsigned");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("FAIL {foreign}")), "{table}");
    assert!(table.contains("bob@example.com"), "{table}");
    assert!(table.contains(&format!("FAIL {unsigned}")), "{table}");
    assert!(table.contains("not signed"), "{table}");
    assert!(!table.contains(&format!("FAIL {first}")), "{table}");
    let out = gate(&repo, "main..rewritten", "json");
    assert_exit(&out, 1, "rewritten");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commit"] == rewritten)
        .unwrap();
    assert_eq!(row["pass"], false);
    assert!(row["reason"].as_str().unwrap().contains("digest"), "{row}");
    let out = repo.git(&["verify-commit", &rewritten]);
    assert_exit(&out, 1, "verify-commit rewritten");

    // Bad policy files are operational errors (exit 2), naming the problem.
    std::fs::write(
        &policy,
        "authorities:\n  - name: x\n    subject: a\n    issuer: b\n    typo: 1\n",
    )
    .unwrap();
    let out = gate(&repo, "main..pr", "table");
    assert_exit(&out, 2, "bad policy");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("typo"),
        "{}",
        text(&out)
    );
}

#[test]
fn sha256_repositories_sign_and_verify() {
    let instance = instance();
    let mut repo = configured(&instance, "sha256");
    repo.commit("base", &[]);
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.alice.clone())];
    let id = repo.commit("sha256 signed", &["-S"]);
    assert_eq!(id.len(), 64);
    let raw = repo.git_ok(&["cat-file", "commit", &id]);
    assert!(
        raw.contains("\ngpgsig-sha256 -----BEGIN SIGNED MESSAGE-----"),
        "{raw}"
    );
    assert_exit(
        &repo.git(&["verify-commit", &id]),
        0,
        "verify-commit sha256",
    );
    let marks = repo.git_ok(&["log", "-1", "--format=%G?", &id]);
    assert_eq!(marks.trim(), "G");
    let out = repo.waxseal(&[
        "git",
        "verify",
        "HEAD~1..HEAD",
        "--instance",
        &instance.server.url,
    ]);
    assert_exit(&out, 0, "gate sha256");
}

#[test]
fn credential_cache_serves_one_certificate_for_many_commits() {
    use std::os::unix::fs::PermissionsExt as _;
    let instance = instance();
    let mut repo = configured(&instance, "sha1");
    let run = repo._dir.path().join("run");
    let socket = run.join("cache.sock");
    let cache = start_cache(&repo, &socket);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&run), 0o700);
    assert_eq!(mode(&socket), 0o600);

    repo.git_ok(&[
        "config",
        "waxseal.credentialCache",
        socket.to_str().unwrap(),
    ]);
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.alice.clone())];
    let before = certificates_issued(&instance.server);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(repo.commit(&format!("cached {i}"), &["-S"]));
    }
    assert_eq!(
        certificates_issued(&instance.server) - before,
        1,
        "one certificate for five commits"
    );
    repo.env.clear();
    for id in &ids {
        assert_exit(&repo.git(&["verify-commit", id]), 0, "verify-commit cached");
    }
    // Nothing but the socket was written.
    let files: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, vec![std::ffi::OsString::from("cache.sock")]);
    drop(cache);
}

/// `waxseal git credential-cache --socket SOCKET`, killed on drop, once it listens.
fn start_cache(repo: &Repo, socket: &Path) -> Lines {
    let mut command = repo.command(env!("CARGO_BIN_EXE_waxseal"), &repo.path);
    command.args([
        "git",
        "credential-cache",
        "--socket",
        socket.to_str().unwrap(),
    ]);
    let cache = Lines::spawn(command);
    let line = cache.wait_for(std::time::Duration::from_secs(30), |l| {
        l.contains("listening")
    });
    assert!(line.is_some(), "the credential cache did not start");
    cache
}

/// A minimal OIDC issuer speaking the device authorization grant (RFC 8628): discovery, the
/// device endpoint, and a token endpoint answering each poll from `answers` in turn (the last
/// one repeats). The token it finally hands out is a real one of the instance.
struct DeviceIssuer {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl DeviceIssuer {
    fn start(answers: Vec<(u16, String)>) -> Self {
        use std::io::{BufRead as _, Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (seen, base) = (requests.clone(), url.clone());
        std::thread::spawn(move || {
            let mut polls = 0;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body = String::from_utf8(body).unwrap();
                let path = request_line.split(' ').nth(1).unwrap().to_owned();
                seen.lock().unwrap().push(format!("{path} {body}"));
                let (status, reply) = match path.as_str() {
                    "/.well-known/openid-configuration" => (
                        200,
                        serde_json::json!({
                            "issuer": base,
                            "token_endpoint": format!("{base}/token"),
                            "device_authorization_endpoint": format!("{base}/device"),
                        })
                        .to_string(),
                    ),
                    "/device" => (
                        200,
                        serde_json::json!({
                            "device_code": "device-123",
                            "user_code": "WXYZ-1234",
                            "verification_uri": format!("{base}/activate"),
                            "expires_in": 120,
                            "interval": 1,
                        })
                        .to_string(),
                    ),
                    "/token" => {
                        let answer = answers[polls.min(answers.len() - 1)].clone();
                        polls += 1;
                        answer
                    }
                    _ => (404, "{}".to_owned()),
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn oauth_error(code: &str) -> (u16, String) {
    (400, serde_json::json!({ "error": code }).to_string())
}

#[test]
fn device_code_login_signs_a_commit() {
    let instance = instance();
    let issuer = DeviceIssuer::start(vec![
        oauth_error("authorization_pending"),
        oauth_error("slow_down"),
        (
            200,
            serde_json::json!({ "id_token": instance.alice, "token_type": "Bearer" }).to_string(),
        ),
    ]);
    let repo = configured(&instance, "sha1");
    repo.git_ok(&["config", "waxseal.oidcIssuer", &issuer.url]);
    repo.git_ok(&["config", "waxseal.oidcClientId", "waxseal-cli"]);
    repo.commit("base", &[]);
    let start = std::time::Instant::now();
    let id = repo.commit("device login", &["-S"]);
    // 1 s, then 1 s again, then 1 + 5 s after slow_down (RFC 8628 §3.5).
    assert!(
        start.elapsed() >= std::time::Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    assert_exit(
        &repo.git(&["verify-commit", &id]),
        0,
        "verify-commit device login",
    );
    let requests = issuer.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/device ") && r.contains("client_id=waxseal-cli")),
        "{requests:?}"
    );
    let polls: Vec<_> = requests
        .iter()
        .filter(|r| r.starts_with("/token "))
        .collect();
    assert_eq!(polls.len(), 3, "{requests:?}");
    assert!(
        polls[0].contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"),
        "{polls:?}"
    );
    assert!(polls[0].contains("device_code=device-123"), "{polls:?}");

    // A denied login fails the signing, saying so.
    let denied = DeviceIssuer::start(vec![oauth_error("access_denied")]);
    repo.git_ok(&["config", "waxseal.oidcIssuer", &denied.url]);
    let mut child = repo
        .command(env!("CARGO_BIN_EXE_waxseal"), &repo.path)
        .args(["--status-fd=2", "-bsau", "alice@example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"tree 0\n\nx\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 2, "denied login");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("denied"),
        "{}",
        text(&out)
    );
    assert!(out.stdout.is_empty());
}

/// `waxseal serve` on `data` under a clock `offset` ahead (libfaketime's `faketime`), killed on
/// drop; its URL.
struct ShiftedServer {
    child: std::process::Child,
    url: String,
}

impl ShiftedServer {
    fn start(data: &Path, offset: &str) -> Self {
        use std::io::BufRead as _;
        let faketime = ["/usr/bin/faketime", "/bin/faketime"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("this test needs libfaketime's `faketime` (apt-get install faketime)");
        let mut child = Command::new(faketime)
            .args(["-f", offset, env!("CARGO_BIN_EXE_waxseal")])
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .expect("serve prints its address");
        let url = format!("http://{}", addr.trim_end().trim_end_matches('/'));
        Self { child, url }
    }
}

impl Drop for ShiftedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON line to the credential cache and its answer.
fn cache_request(socket: &Path, request: &str) -> serde_json::Value {
    use std::io::{BufRead as _, Write as _};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    writeln!(stream, "{request}").unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .unwrap();
    serde_json::from_str(&line).unwrap()
}

/// A commit whose certificate had expired when its entry was logged: the key and certificate
/// come from the credential cache (issued by the instance now), the entry from the same
/// instance restarted with its clock 15 minutes ahead (past the 10-minute certificate), and
/// the CMS is built from them as the signer would. The log accepts it; verification must not.
#[test]
fn certificate_expired_before_its_log_entry_is_refused() {
    use base64::engine::general_purpose::STANDARD;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let server = Server::start(&data_dir, &[]);
    let alice = server.token("alice", "alice@example.com");
    let issuer = token_issuer(&alice);
    let mut repo = Repo::new("sha1");
    let run = repo._dir.path().join("run");
    let socket = run.join("cache.sock");
    let cache = start_cache(&repo, &socket);
    let out = repo.waxseal(&[
        "git",
        "configure",
        "--instance",
        &server.url,
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--credential-cache",
        socket.to_str().unwrap(),
    ]);
    assert_exit(&out, 0, "configure");
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), alice.clone())];
    let base = repo.commit("signed while valid", &["-S"]);
    repo.env.clear();
    let cached = cache_request(&socket, r#"{"op":"get"}"#);
    let credential = &cached["credential"];
    let key = waxseal_crypto::SigningKey::from_pkcs8_der(
        &STANDARD
            .decode(credential["key"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let leaf = STANDARD
        .decode(credential["chain"][0].as_str().unwrap())
        .unwrap();
    drop(cache);
    drop(server);

    // The same instance, 15 minutes later by its clock.
    let later = ShiftedServer::start(&data_dir, "+15m");
    let tree = repo.git_ok(&["rev-parse", "HEAD^{tree}"]);
    let payload = format!(
        "tree {}\nparent {base}\nauthor Alice <alice@example.com> 1700000000 +0000\n\
         committer Alice <alice@example.com> 1700000000 +0000\n\nlogged after expiry\n",
        tree.trim()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let attributes = waxseal_git::signed_attributes(payload.as_bytes(), now).unwrap();
    let signature = key.sign(&attributes).unwrap();
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(waxseal_crypto::sha256(&attributes))}},
            "signature": {
                "content": STANDARD.encode(&signature),
                "publicKey": {"content": STANDARD.encode(waxseal_crypto::pem::encode("CERTIFICATE", &leaf))},
            },
        },
    });
    let reply = post_json_created(
        &format!("{}/api/v1/log/entries", later.url),
        &body.to_string(),
    );
    let bundle = waxseal_bundle::Bundle::from_rekor_entry(
        waxseal_bundle::BundleContent::MessageSignature(waxseal_bundle::MessageSignature::new(
            None,
            Vec::new(),
        )),
        vec![leaf.clone()],
        reply.as_bytes(),
    )
    .unwrap();
    let entry = &bundle.verification_material.tlog_entries[0];
    assert!(
        entry.integrated_time.unwrap() > now + 600,
        "logged after the certificate's end"
    );
    let der = waxseal_git::build(&leaf, &attributes, &signature, Some(entry), None).unwrap();
    let armor = waxseal_git::armor::armor(&der);
    let (headers, message) = payload.split_once("\n\n").unwrap();
    let gpgsig = armor.trim_end().replace('\n', "\n ");
    let raw = format!("{headers}\ngpgsig {gpgsig}\n\n{message}");
    let file = repo.path.join("expired.commit");
    std::fs::write(&file, raw).unwrap();
    let id = repo.import("commit", &file, None);

    let out = repo.waxseal(&[
        "git",
        "verify",
        "--no-walk",
        &id,
        "--instance",
        &later.url,
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &issuer,
        "--output",
        "json",
    ]);
    assert_exit(&out, 1, "expired certificate");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = report["results"][0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains(&id), "{reason}");
    assert!(
        reason.contains("integrated time") && reason.contains("not valid at that time"),
        "{reason}"
    );
    repo.git_ok(&["config", "waxseal.instance", &later.url]);
    let out = repo.git(&["verify-commit", "--raw", &id]);
    assert_exit(&out, 1, "verify-commit expired");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("GOODSIG"),
        "{}",
        text(&out)
    );
}

/// `POST url` with a JSON body through a plain socket; the 201 body.
fn post_json_created(url: &str, body: &str) -> String {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 201"), "{response}");
    body.to_owned()
}

/// gitsign's online mode: a CMS without an embedded entry, and a Rekor v1 `hashedrekord` over
/// SHA-256 of the commit id's hex text signed by the same key. Offline it fails as needing a
/// lookup; with `--rekor-url` the entry is found by hash and the commit passes.
#[test]
fn online_mode_commits_are_looked_up_with_rekor_url() {
    use base64::engine::general_purpose::STANDARD;
    let instance = instance();
    let mut repo = configured(&instance, "sha1");
    let socket = repo._dir.path().join("run").join("cache.sock");
    let cache = start_cache(&repo, &socket);
    repo.git_ok(&[
        "config",
        "waxseal.credentialCache",
        socket.to_str().unwrap(),
    ]);
    repo.env = vec![("SIGSTORE_ID_TOKEN".into(), instance.alice.clone())];
    let base = repo.commit("base", &["-S"]);
    repo.env.clear();
    let credential = cache_request(&socket, r#"{"op":"get"}"#)["credential"].clone();
    drop(cache);
    let key = waxseal_crypto::SigningKey::from_pkcs8_der(
        &STANDARD
            .decode(credential["key"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let leaf = STANDARD
        .decode(credential["chain"][0].as_str().unwrap())
        .unwrap();
    let tree = repo.git_ok(&["rev-parse", "HEAD^{tree}"]);
    let payload = format!(
        "tree {}\nparent {base}\nauthor Alice <alice@example.com> 1700000000 +0000\n\
         committer Alice <alice@example.com> 1700000000 +0000\n\nonline mode\n",
        tree.trim()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let attributes = waxseal_git::signed_attributes(payload.as_bytes(), now).unwrap();
    let signature = key.sign(&attributes).unwrap();
    let der = waxseal_git::build(&leaf, &attributes, &signature, None, None).unwrap();
    let armor = waxseal_git::armor::armor(&der);
    let (headers, message) = payload.split_once("\n\n").unwrap();
    let raw = format!(
        "{headers}\ngpgsig {}\n\n{message}",
        armor.trim_end().replace('\n', "\n ")
    );
    let file = repo.path.join("online.commit");
    std::fs::write(&file, raw).unwrap();
    let id = repo.import("commit", &file, None);
    let gate = |repo: &Repo, extra: &[&str]| {
        let mut args = vec![
            "git",
            "verify",
            "--no-walk",
            &id,
            "--instance",
            &instance.server.url,
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &instance.issuer,
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        repo.waxseal(&args)
    };
    let out = gate(&repo, &[]);
    assert_exit(&out, 1, "online mode offline");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("online transparency-log lookup"),
        "{report}"
    );
    // What gitsign's online mode logs: the commit id's hex text, signed by the same key.
    let body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(waxseal_crypto::sha256(id.as_bytes()))}},
            "signature": {
                "content": STANDARD.encode(key.sign(id.as_bytes()).unwrap()),
                "publicKey": {"content": STANDARD.encode(waxseal_crypto::pem::encode("CERTIFICATE", &leaf))},
            },
        },
    });
    post_json_created(
        &format!("{}/api/v1/log/entries", instance.server.url),
        &body.to_string(),
    );
    let out = gate(&repo, &["--rekor-url", &instance.server.url]);
    assert_exit(&out, 0, "online mode looked up");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["results"][0]["identity"], "alice@example.com",
        "{report}"
    );
}
