//! A running `waxseal serve` for the end-to-end tests, and raw HTTP/1.1 to talk to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `waxseal serve` on a free loopback port, killed on drop.
pub(crate) struct Server {
    child: Child,
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
            child,
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

    fn request(&self, head: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(stream, "{head}Host: waxseal\r\nConnection: close\r\n\r\n").unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, response[split + 4..].to_vec())
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
