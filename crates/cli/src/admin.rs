//! `waxseal admin status`: one front end's view of the instance, read from its
//! `/admin/status` endpoint (`waxseal_server::operator`), as a table or as JSON.
//!
//! Exit codes: 0 the status was read, 2 it could not be (unreachable, refused, malformed).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// `waxseal admin ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AdminCommand {
    /// A front end's status: backend, and per log its role, the sequencer, the lag (queued
    /// entries, checkpoint age), the connection pool and the store's size (exit 0, or 2 if the
    /// status could not be read).
    Status(StatusArgs),
}

/// How `admin status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// An aligned table.
    Table,
    /// The endpoint's JSON, pretty-printed.
    Json,
}

/// Arguments of `waxseal admin status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// The front end to ask (its listen address or URL; the endpoint answers loopback clients,
    /// or others with the admin token).
    #[arg(
        long,
        env = "WAXSEAL_ADMIN_URL",
        default_value = "http://127.0.0.1:8700"
    )]
    url: String,
    /// A file whose first line is the front end's admin token (`serve --admin-token-file`).
    #[arg(long, env = "WAXSEAL_ADMIN_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    output: Output,
}

/// The status document, as `/admin/status` serves it.
#[derive(Debug, Deserialize, Serialize)]
struct Status {
    backend: String,
    logs: Vec<LogReport>,
}

#[derive(Debug, Deserialize, Serialize)]
struct LogReport {
    name: String,
    role: String,
    sequencer: Option<String>,
    queued: u64,
    checkpoint_size: u64,
    checkpoint_age_ms: u64,
    lock_changes: u64,
    last_batch_entries: u64,
    integrated_entries: u64,
    pool: Option<Pool>,
    sizes: Option<Sizes>,
    sizes_error: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Pool {
    connections: u64,
    idle: u64,
    max: u64,
}

#[derive(Debug, Deserialize, Serialize)]
struct Sizes {
    total_bytes: u64,
}

pub(crate) fn run(command: &AdminCommand) -> Result<ExitCode> {
    match command {
        AdminCommand::Status(args) => status(args).map(|()| ExitCode::SUCCESS),
    }
}

fn status(args: &StatusArgs) -> Result<()> {
    let base = if args.url.contains("://") {
        args.url.trim_end_matches('/').to_owned()
    } else {
        format!("http://{}", args.url.trim_end_matches('/'))
    };
    let token = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("couldn't read the token file {}", path.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let url = format!("{base}/admin/status");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    let (code, body) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .context("couldn't build the HTTP client")?;
        let mut request = client.get(&url);
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("couldn't reach {url}"))?;
        let code = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("couldn't read the answer of {url}"))?;
        anyhow::Ok((code, body))
    })?;
    if code == reqwest::StatusCode::FORBIDDEN {
        bail!(
            "{url} refused the request (403): run this on the front end's machine (it answers \
             loopback clients), or pass --token-file with the token of its --admin-token-file"
        );
    }
    if !code.is_success() {
        bail!(
            "{url} answered {code}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    let status: Status = serde_json::from_slice(&body)
        .with_context(|| format!("{url} did not answer a waxseal status document"))?;
    match args.output {
        Output::Json => {
            let value: serde_json::Value =
                serde_json::from_slice(&body).context("couldn't re-read the status JSON")?;
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("couldn't encode the status")?
            );
        }
        Output::Table => print!("{}", table(&base, &status)),
    }
    Ok(())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The status as an aligned table.
fn table(base: &str, status: &Status) -> String {
    let header = [
        "LOG",
        "ROLE",
        "SEQUENCER",
        "QUEUED",
        "CHECKPOINT",
        "AGE",
        "LAST BATCH",
        "LOCK CHANGES",
        "POOL open/idle/max",
        "SIZE",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for log in &status.logs {
        rows.push(vec![
            log.name.clone(),
            log.role.clone(),
            log.sequencer.clone().unwrap_or_else(|| "-".to_owned()),
            log.queued.to_string(),
            log.checkpoint_size.to_string(),
            format!("{:.1} s", log.checkpoint_age_ms as f64 / 1000.0),
            log.last_batch_entries.to_string(),
            log.lock_changes.to_string(),
            log.pool.as_ref().map_or_else(
                || "-".to_owned(),
                |p| format!("{}/{}/{}", p.connections, p.idle, p.max),
            ),
            match (&log.sizes, &log.sizes_error) {
                (Some(sizes), _) => megabytes(sizes.total_bytes),
                (None, Some(error)) => format!("unknown ({error})"),
                (None, None) => "-".to_owned(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("front end {base}, backend {}\n", status.backend);
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn table_has_a_row_per_log_with_role_lag_and_size() {
        let status: Status = serde_json::from_str(
            r#"{"backend":"postgres","logs":[
              {"name":"rekor-v1","backend":"postgres","role":"follower","sequencer":"db-host:41",
               "queued":3,"checkpoint_size":1200,"checkpoint_age_ms":1200,"lock_changes":2,
               "last_batch_entries":17,"integrated_entries":0,
               "pool":{"connections":4,"idle":3,"max":8},
               "sizes":{"total_bytes":2500000,"parts":{}},"sizes_error":null},
              {"name":"ct","backend":"postgres","role":"sequencer","sequencer":"me:1",
               "queued":0,"checkpoint_size":5,"checkpoint_age_ms":1000,"lock_changes":0,
               "last_batch_entries":1,"integrated_entries":5,"pool":null,"sizes":null,
               "sizes_error":"timeout"}]}"#,
        )
        .unwrap();
        let text = table("http://fe1", &status);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "front end http://fe1, backend postgres");
        assert!(lines[1].starts_with("LOG "), "{text}");
        for want in [
            "rekor-v1",
            "follower",
            "db-host:41",
            "1200",
            "1.2 s",
            "4/3/8",
            "2.5 MB",
        ] {
            assert!(lines[2].contains(want), "{want} missing from {}", lines[2]);
        }
        assert!(lines[3].contains("unknown (timeout)"), "{}", lines[3]);
    }
}
