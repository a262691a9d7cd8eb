//! `waxseal git verify`: every commit of a range verified offline against a trusted root and
//! checked against an identity policy, for pull-request gates.
//!
//! Commits are listed with `git rev-list` and read with one `git cat-file --batch` process.
//! Exit codes: 0 every commit passes, 1 any fails, 2 usage or operational error.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;

use crate::git::{GitConfig, git_ok};
use crate::git_policy::{DEFAULT_POLICY_FILE, GitPolicy};
use crate::git_signature::Checked;

/// `waxseal git verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The commits: a `git rev-list` range such as `main..HEAD` (default: the current
    /// branch's commits not on the default branch, from `origin/HEAD`, else `main` or
    /// `master`).
    range: Option<String>,
    /// Verify only the commits RANGE names, not their ancestors (`git rev-list --no-walk`).
    #[arg(long)]
    no_walk: bool,
    /// Verify this annotated tag instead of a range of commits.
    #[arg(long, conflicts_with = "range")]
    tag: Option<String>,
    #[command(flatten)]
    identity: crate::git_policy::IdentityFlags,
    /// A policy file (default without identity flags: git config `waxseal.policy`, else the
    /// repository's `.waxseal/git-policy.yaml`).
    #[arg(long, conflicts_with_all = [
        "certificate_identity", "certificate_identity_regexp",
        "certificate_oidc_issuer", "certificate_oidc_issuer_regexp",
    ])]
    policy: Option<PathBuf>,
    /// A trusted root JSON (default: git config `waxseal.trustConfig` or `waxseal.instance`,
    /// else the embedded Sigstore public-good root).
    #[arg(long, conflicts_with = "instance")]
    trusted_root: Option<PathBuf>,
    /// An instance whose trusted root (from its client trust config) is used.
    #[arg(long)]
    instance: Option<String>,
    /// Look up commits signed in gitsign's online mode (no embedded log entry) in this Rekor
    /// v1 log; without it they fail as needing an online lookup.
    #[arg(long)]
    rekor_url: Option<String>,
    /// `table` (default) or `json`.
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    output: Output,
}

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// One line per commit.
    Table,
    /// A JSON document with one object per commit.
    Json,
}

/// One commit's outcome.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    commit: String,
    kind: &'static str,
    subject: String,
    pass: bool,
    signed: bool,
    valid: bool,
    logged: bool,
    identity: Option<String>,
    issuer: Option<String>,
    allowed_by: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    range: String,
    pass: bool,
    commits: usize,
    failed: usize,
    results: Vec<Row>,
}

/// Runs `waxseal git verify`.
pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let config = GitConfig::read()?;
    let policy = policy(args, &config)?;
    let verifier = crate::git_program::verifier(
        args.trusted_root.as_deref(),
        args.instance.as_deref(),
        &config,
    )?;
    let (range, ids, kind) = match &args.tag {
        Some(tag) => {
            let id = rev_parse(&format!("refs/tags/{tag}"))?;
            let kind = String::from_utf8_lossy(&git_ok(&["cat-file", "-t", &id])?)
                .trim()
                .to_owned();
            if kind != "tag" {
                bail!("{tag} is a lightweight tag (a {kind}): only annotated tags are signed");
            }
            (format!("tag {tag}"), vec![id], "tag")
        }
        None => {
            let range = match &args.range {
                Some(range) => range.clone(),
                None => default_range()?,
            };
            let mut list = vec!["rev-list", "--topo-order", "--reverse"];
            if args.no_walk {
                list.push("--no-walk");
            }
            list.extend([range.as_str(), "--"]);
            let out =
                git_ok(&list).with_context(|| format!("couldn't list the commits of {range}"))?;
            let ids: Vec<String> = String::from_utf8_lossy(&out)
                .lines()
                .map(str::to_owned)
                .collect();
            (range, ids, "commit")
        }
    };
    let objects = cat_file_batch(&ids)?;
    let rekor = args.rekor_url.as_deref();
    let mut results = Vec::with_capacity(objects.len());
    for (id, object_kind, raw) in &objects {
        if object_kind != kind {
            bail!("{id} is a {object_kind}, expected a {kind}");
        }
        let checked = crate::git_signature::check(&verifier, kind, id, raw, &policy, rekor);
        results.push(row(id, kind, raw, checked));
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    let report = Report {
        pass: failed == 0,
        commits: results.len(),
        failed,
        range,
        results,
    };
    print(&report, args.output)?;
    Ok(if report.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn row(id: &str, kind: &'static str, raw: &[u8], checked: Checked) -> Row {
    let subject = crate::git_signature::message_subject(raw);
    let pass = checked.pass();
    Row {
        commit: id.to_owned(),
        kind,
        subject,
        pass,
        signed: checked.signed,
        valid: checked.valid,
        logged: checked.logged,
        identity: checked.identity,
        issuer: checked.issuer,
        allowed_by: checked.allowed_by,
        reason: checked.reason,
    }
}

fn print(report: &Report, output: Output) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, report).context("couldn't write JSON")?;
            writeln!(out)?;
        }
        Output::Table => {
            let yes = |b: bool| if b { "yes" } else { "no" };
            writeln!(
                out,
                "{:<12} {:<4} {:<6} {:<5} {:<6} {:<32} {:<16} REASON",
                "COMMIT", "PASS", "SIGNED", "VALID", "LOGGED", "IDENTITY", "ALLOWED BY"
            )?;
            for r in &report.results {
                writeln!(
                    out,
                    "{:<12} {:<4} {:<6} {:<5} {:<6} {:<32} {:<16} {}",
                    r.commit.get(..12).unwrap_or(&r.commit),
                    yes(r.pass),
                    yes(r.signed),
                    yes(r.valid),
                    yes(r.logged),
                    r.identity.as_deref().unwrap_or("-"),
                    r.allowed_by.as_deref().unwrap_or("-"),
                    r.reason.as_deref().unwrap_or("-"),
                )?;
            }
            writeln!(
                out,
                "{}: {} of {} commits in {} pass",
                if report.pass { "PASS" } else { "FAIL" },
                report.commits - report.failed,
                report.commits,
                report.range
            )?;
            for r in report.results.iter().filter(|r| !r.pass) {
                writeln!(
                    out,
                    "FAIL {} {:?}: {}",
                    r.commit,
                    r.subject,
                    r.reason.as_deref().unwrap_or("not allowed")
                )?;
            }
        }
    }
    Ok(())
}

/// The identity policy: flags, else `--policy`, else git config, else the repository's policy
/// file.
fn policy(args: &VerifyArgs, config: &GitConfig) -> Result<GitPolicy> {
    if let Some(policy) = args.identity.policy()? {
        return Ok(policy);
    }
    if let Some(path) = &args.policy {
        return GitPolicy::load(path);
    }
    if let Some(policy) = config.policy()? {
        return Ok(policy);
    }
    let top = String::from_utf8_lossy(&git_ok(&["rev-parse", "--show-toplevel"])?)
        .trim()
        .to_owned();
    let file = PathBuf::from(top).join(DEFAULT_POLICY_FILE);
    if file.exists() {
        return GitPolicy::load(&file);
    }
    bail!(
        "no policy: give --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp], \
         --policy FILE, or commit {DEFAULT_POLICY_FILE}"
    )
}

fn rev_parse(name: &str) -> Result<String> {
    let out = git_ok(&["rev-parse", "--verify", "--quiet", name])
        .with_context(|| format!("{name} does not exist"))?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// `DEFAULT..HEAD`, the default branch from `origin/HEAD`, else `main` or `master`.
fn default_range() -> Result<String> {
    let origin = Command::new("git")
        .args(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"])
        .stdin(Stdio::null())
        .output()
        .context("couldn't run git")?;
    if origin.status.success() {
        let name = String::from_utf8_lossy(&origin.stdout).trim().to_owned();
        return Ok(format!("{name}..HEAD"));
    }
    for branch in ["main", "master"] {
        if rev_parse(&format!("refs/heads/{branch}")).is_ok() {
            return Ok(format!("refs/heads/{branch}..HEAD"));
        }
    }
    bail!("no default branch (no origin/HEAD, main or master): give a RANGE such as base..HEAD")
}

/// Reads `ids` with one `git cat-file --batch`: (id, type, raw bytes) each.
pub(crate) fn cat_file_batch(ids: &[String]) -> Result<Vec<(String, String, Vec<u8>)>> {
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("couldn't run git cat-file --batch")?;
    let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
    let input: Vec<u8> = ids
        .iter()
        .flat_map(|id| format!("{id}\n").into_bytes())
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let stdout = child.stdout.take().context("git cat-file has no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut objects = Vec::with_capacity(ids.len());
    for id in ids {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .context("couldn't read git cat-file's output")?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        let (oid, kind, size) = match fields.as_slice() {
            [oid, kind, size] => (*oid, *kind, *size),
            _ => bail!("git cat-file: {id}: {}", header.trim()),
        };
        let size: usize = size
            .parse()
            .with_context(|| format!("git cat-file printed a bad size for {id}"))?;
        let mut body = vec![0; size + 1];
        reader
            .read_exact(&mut body)
            .with_context(|| format!("couldn't read {id} from git cat-file"))?;
        body.truncate(size);
        objects.push((oid.to_owned(), kind.to_owned(), body));
    }
    drop(reader);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the git cat-file writer panicked"))?
        .context("couldn't write to git cat-file")?;
    let status = child.wait().context("couldn't wait for git cat-file")?;
    if !status.success() {
        bail!("git cat-file --batch failed ({status})");
    }
    Ok(objects)
}
