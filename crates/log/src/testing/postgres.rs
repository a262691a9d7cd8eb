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
    /// With TLS: the CA file that issued the server's certificate.
    ca_file: Option<PathBuf>,
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
        Self::start_with(false)
    }

    /// Creates and starts a server that also accepts TLS, with a certificate for `127.0.0.1`
    /// and `localhost` issued by a fresh test CA ([`PostgresServer::ca_file`]); made with the
    /// `openssl` command.
    ///
    /// # Errors
    ///
    /// As [`PostgresServer::start`], and `openssl` missing or failing.
    pub fn start_with_tls() -> Result<Self, String> {
        Self::start_with(true)
    }

    /// The CA file of a server started with [`PostgresServer::start_with_tls`].
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    fn start_with(tls: bool) -> Result<Self, String> {
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
            ca_file: None,
        };
        let mut tls_options = String::new();
        if tls {
            server.make_certificates()?;
            tls_options = format!(
                " -c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key",
                server.dir.display()
            );
            server.ca_file = Some(server.dir.join("ca.pem"));
        }
        if let Some(user) = &server.run_as {
            let (uid, gid) = id_of(user)?;
            for path in [
                server.dir.clone(),
                server.dir.join("server.pem"),
                server.dir.join("server.key"),
            ] {
                if path.exists() {
                    std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                        .map_err(|e| format!("couldn't hand {} to {user}: {e}", path.display()))?;
                }
            }
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
        if tls {
            // TCP only with TLS; the test's own administration goes over the Unix socket.
            std::fs::write(
                server.data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n",
            )
            .map_err(|e| format!("couldn't write pg_hba.conf: {e}"))?;
        }
        // A free port may be taken between the probe and the bind: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 \
                 -c fsync=on -c synchronous_commit=on{tls_options}",
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

    /// A test CA and a server certificate it issued, in the server's directory.
    fn make_certificates(&self) -> Result<(), String> {
        let dir = &self.dir;
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| format!("couldn't write the certificate extensions: {e}"))?;
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=waxseal test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .map_err(|e| format!("couldn't run openssl (install it): {e}"))?;
            if !out.status.success() {
                return Err(describe("openssl", &out));
            }
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| format!("couldn't restrict the server key: {e}"))
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
        let statement = format!("CREATE DATABASE \"{name}\"");
        self.execute(statement)?;
        Ok(self.url(name))
    }

    /// Waits until no session of process `pid` is left on the server (a killed process's
    /// sessions end once the server notices, and may commit a transaction already sent).
    ///
    /// # Errors
    ///
    /// Sessions still open after `timeout`, or a failed query.
    pub fn wait_for_sessions_to_end(
        &self,
        pid: u32,
        timeout: std::time::Duration,
    ) -> Result<(), String> {
        let deadline = std::time::Instant::now() + timeout;
        let statement = format!(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_stat_activity \
             WHERE application_name LIKE 'waxseal-log {pid}@%') \
             THEN RAISE EXCEPTION 'sessions left'; END IF; END $$"
        );
        loop {
            match self.execute(statement.clone()) {
                Ok(()) => return Ok(()),
                Err(e) if std::time::Instant::now() >= deadline => {
                    return Err(format!("process {pid}'s sessions did not end: {e}"));
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }

    /// Runs `statement` on the `postgres` database, over the Unix socket.
    fn execute(&self, statement: String) -> Result<(), String> {
        let mut config = tokio_postgres::Config::new();
        config
            .user(SUPERUSER)
            .dbname("postgres")
            .host_path(&self.dir)
            .port(self.port);
        // A thread of its own, so that this works from inside a tokio runtime too.
        std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let (client, connection) = config
                    .connect(tokio_postgres::NoTls)
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
        .map_err(|_| "the database thread panicked".to_string())?
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
