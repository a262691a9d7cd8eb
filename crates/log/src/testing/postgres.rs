//! A throwaway PostgreSQL server for tests: `initdb` into a temporary directory, started on a
//! free loopback port, stopped and removed on drop. Never a shared system database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The superuser the server is created with; it trusts loopback connections.
const SUPERUSER: &str = "waxseal";

/// A running PostgreSQL server owned by the test.
///
/// It finds `initdb`, `pg_ctl` and `postgres` on `PATH`, then in `/usr/lib/postgresql/*/bin`
/// (the newest version). `initdb` refuses to run as root, so as root the server runs as the
/// `postgres` user (which Debian's `postgresql` package creates) through `runuser`, in a
/// directory owned by it.
#[derive(Debug)]
pub struct PostgresServer {
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    bin: PathBuf,
    /// `Some("postgres")` when the server runs as that user.
    run_as: Option<String>,
}

static STARTED: AtomicU64 = AtomicU64::new(0);

fn find_bin() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in on_path {
        if ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
        {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in \
         /usr/lib/postgresql/*/bin: install them (Debian: apt-get install postgresql)"
            .to_string()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn id_of(user: &str) -> Result<(u32, u32), String> {
    let get = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .map_err(|e| format!("couldn't run id: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "running as root needs the {user:?} user (Debian's postgresql package creates it)"
            ));
        }
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("bad id output: {e}"))
    };
    Ok((get("-u")?, get("-g")?))
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("couldn't find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("couldn't find a free port: {e}"))
}

fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl PostgresServer {
    /// Creates and starts a server.
    ///
    /// # Errors
    ///
    /// A message naming the problem: no PostgreSQL binaries, no `postgres` user when running
    /// as root, or `initdb`/`pg_ctl` failing.
    pub fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let run_as = is_root().then(|| "postgres".to_string());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "waxseal-pg-{}-{}-{nanos}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::AcqRel)
        ));
        std::fs::create_dir(&dir).map_err(|e| format!("couldn't create {}: {e}", dir.display()))?;
        let mut server = Self {
            data: dir.join("data"),
            dir,
            port: 0,
            bin,
            run_as,
        };
        if let Some(user) = &server.run_as {
            let (uid, gid) = id_of(user)?;
            std::os::unix::fs::chown(&server.dir, Some(uid), Some(gid))
                .map_err(|e| format!("couldn't hand {} to {user}: {e}", server.dir.display()))?;
        }
        let data = server.data.to_string_lossy().into_owned();
        let out = server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
        )?;
        if !out.status.success() {
            return Err(describe("initdb", &out));
        }
        // A free port may be taken between the probe and the bind: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 \
                 -c fsync=on -c synchronous_commit=on",
                server.port,
                server.dir.display()
            );
            let log = server.dir.join("server.log").to_string_lossy().into_owned();
            let out = server.run(
                "pg_ctl",
                &[
                    "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
                ],
            )?;
            if out.status.success() {
                return Ok(server);
            }
            last = format!(
                "{}; server log: {}",
                describe("pg_ctl start", &out),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Err(last)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .map_err(|e| format!("couldn't run {}: {e}", path.display()))
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The port it listens on (loopback only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `database` on this server, without TLS.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// Creates database `name` and returns its URL.
    ///
    /// # Errors
    ///
    /// The server's message if the database cannot be created (a bad or taken name).
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "database name {name:?} must be ASCII letters, digits, '_' or '-'"
            ));
        }
        let url = self.url("postgres");
        let statement = format!("CREATE DATABASE \"{name}\"");
        // A thread of its own, so that this works from inside a tokio runtime too.
        std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("couldn't connect to the test server: {e}"))?;
                tokio::spawn(connection);
                client
                    .batch_execute(&statement)
                    .await
                    .map_err(|e| format!("couldn't {statement}: {e}"))
            })
        })
        .join()
        .map_err(|_| "the database-creating thread panicked".to_string())??;
        Ok(self.url(name))
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        match self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]) {
            Ok(out) if !out.status.success() => {
                tracing::warn!("{}", describe("pg_ctl stop", &out));
            }
            Err(e) => tracing::warn!("{e}"),
            Ok(_) => {}
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
