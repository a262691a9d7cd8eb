//! A running `waxseal serve` for the end-to-end tests, and raw HTTP/1.1 to talk to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `waxseal serve` on a free loopback port, killed on drop.
pub(crate) struct Server {
    child: std::sync::Mutex<Child>,
    /// `host:port` it listens on.
    pub(crate) addr: String,
    /// `http://host:port`.
    pub(crate) url: String,
    /// Its data directory.
    pub(crate) data: PathBuf,
}

impl Server {
    /// Starts `waxseal serve --data-dir DATA EXTRA...` and waits for its first line.
    pub(crate) fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_waxseal"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .expect("serve prints its address")
            .trim_end()
            .trim_end_matches('/')
            .to_owned();
        Self {
            child: std::sync::Mutex::new(child),
            url: format!("http://{addr}"),
            addr,
            data: data.to_owned(),
        }
    }

    /// `GET path` → (status, body).
    pub(crate) fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.request(&format!("GET {path} HTTP/1.1\r\n"), b"")
    }

    /// `POST path` with a JSON body → (status, body).
    pub(crate) fn post_json(&self, path: &str, body: &str) -> (u16, Vec<u8>) {
        let head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        self.request(&head, body.as_bytes())
    }

    /// Like [`Server::post_json`], but a connection that fails or is cut off (the server was
    /// killed) is an error instead of a panic.
    pub(crate) fn try_post_json(&self, path: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        self.try_request(&head, body.as_bytes())
    }

    fn request(&self, head: &str, body: &[u8]) -> (u16, Vec<u8>) {
        self.try_request(head, body).unwrap()
    }

    fn try_request(&self, head: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let cut_off = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no HTTP answer");
        let mut stream = TcpStream::connect(&self.addr)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
        write!(stream, "{head}Host: waxseal\r\nConnection: close\r\n\r\n")?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(cut_off)?;
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(cut_off)?;
        Ok((status, response[split + 4..].to_vec()))
    }

    /// SIGKILLs the server (no graceful shutdown) and waits for it.
    pub(crate) fn kill(&self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A token from the instance's built-in issuer, minted with `waxseal token`.
    pub(crate) fn token(&self, subject: &str, email: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_waxseal"))
            .args([
                "token",
                "--subject",
                subject,
                "--email",
                email,
                "--data-dir",
            ])
            .arg(&self.data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The path of a file in the instance's `trust/` directory.
    pub(crate) fn trust(&self, name: &str) -> String {
        self.data
            .join("trust")
            .join(name)
            .to_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `waxseal ARGS...` run to completion with none of the caller's signing, registry or CI
/// environment (tokens, passwords, `GITHUB_ACTIONS`, Docker credentials) leaking in.
pub(crate) fn waxseal<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    for name in [
        "SIGSTORE_ID_TOKEN",
        "WAXSEAL_INSTANCE",
        "WAXSEAL_CLIENT_ID",
        "WAXSEAL_CLIENT_SECRET",
        "WAXSEAL_PASSWORD",
        "WAXSEAL_REGISTRY_USERNAME",
        "WAXSEAL_REGISTRY_PASSWORD",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
    ] {
        command.env_remove(name);
    }
    command.env("DOCKER_CONFIG", no_docker_config());
    command.args(args).output().unwrap()
}

/// A Docker config directory that does not exist: no credentials of the machine's user.
pub(crate) fn no_docker_config() -> PathBuf {
    std::env::temp_dir().join("waxseal-no-docker-config")
}

/// An output's exit code, stdout and stderr, for assertion messages.
pub(crate) fn text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts the exit code, printing the output otherwise.
#[track_caller]
pub(crate) fn assert_exit(out: &std::process::Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", text(out));
}

/// A child process killed on drop, its stdout lines sent to a channel as they come.
pub(crate) struct Lines {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    /// Spawns `command` with stdout piped (stderr inherited).
    pub(crate) fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line, waiting until `end`; `None` past it or when the process has ended.
    pub(crate) fn next_before(&self, end: std::time::Instant) -> Option<String> {
        let left = end.checked_duration_since(std::time::Instant::now())?;
        self.lines.recv_timeout(left).ok()
    }

    /// The next line within `timeout` that satisfies `want` (others are skipped).
    pub(crate) fn wait_for(
        &self,
        timeout: std::time::Duration,
        want: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let end = std::time::Instant::now() + timeout;
        while let Some(line) = self.next_before(end) {
            if want(&line) {
                return Some(line);
            }
        }
        None
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE /v2/<repo>/manifests/<digest>` on a test registry (storage deletes enabled).
pub(crate) fn delete_manifest(host: &str, repo: &str, digest: &str) {
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "DELETE /v2/{repo}/manifests/{digest} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
}
