//! The webhook's decisions: validation (every image digest-pinned and admitted by policy) and
//! mutation (tags pinned to digests), over a [`Checker`] that does the registry work, under one
//! deadline, in policy-controller's wording (`pkg/webhook/validator.go`, knative
//! `apis.FieldError` rendering).
//!
//! Messages are knative field errors: blocks `<message>: <paths>` (paths sorted, joined by
//! `, `), each followed by a line of details when there are any, blocks sorted by message then
//! details and joined by newlines, after `validation failed: ` (or `mutation failed: `).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use waxseal_oci::Reference;
use waxseal_policy::Decision;

use crate::admission::{self, ImageUse, Request, Response};

/// The registry and policy work the gate delegates.
///
/// Implementations MUST be safe to call concurrently: the gate calls `resolve` or `check` for
/// every distinct image of a request at once, and drops (cancels) calls still running at its
/// deadline. They MUST NOT admit on error: an `Err` is a denial.
pub trait Checker: Send + Sync + 'static {
    /// `image` (a tag reference) pinned to what it names now: `name:tag@sha256:<hex>`.
    fn resolve(&self, image: &str) -> impl Future<Output = Result<String, String>> + Send;

    /// The policy decision for a digest-pinned `image` (verification and evaluation done by
    /// the implementation).
    fn check(&self, image: &str) -> impl Future<Output = Result<Decision, String>> + Send;
}

/// How the gate decides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GateConfig {
    /// Time for all the checks (or resolutions) of one request together; past it the request
    /// is denied. Default 8 s: below the API server's default 10 s webhook timeout, so the
    /// user sees the gate's message rather than the API server's.
    pub deadline: Duration,
}

impl GateConfig {
    /// The default deadline.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(8);

    /// This config with another deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            deadline: Self::DEFAULT_DEADLINE,
        }
    }
}

/// Admission decisions over a [`Checker`]. It has no side effects of its own: the caller reads
/// [`Request::dry_run`] to decide whether to record anything.
#[derive(Debug)]
pub struct Gate<C: Checker> {
    checker: Arc<C>,
    config: GateConfig,
}

impl<C: Checker> Gate<C> {
    /// A gate over `checker`.
    pub fn new(checker: Arc<C>, config: GateConfig) -> Self {
        Self { checker, config }
    }

    /// The validating webhook's answer: allowed only when every image of the request is
    /// digest-pinned and its decision allows it. A tag is denied with `<image> must be an image
    /// digest`; a checker error, an unparsable reference, a malformed object or the deadline
    /// passing denies (fail closed). Warnings (warn-mode policies, a `warn` no-match) are
    /// returned whatever the outcome.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime (the checks are spawned on it).
    pub async fn validate(&self, request: &Request) -> Response {
        let uid = request.uid.clone();
        let uses = match admission::images(request) {
            Ok(uses) => uses,
            Err(e) => return Response::deny(uid, format!("validation failed: {e}")),
        };
        let mut errors = FieldErrors::default();
        let mut to_check: BTreeMap<String, Vec<&ImageUse>> = BTreeMap::new();
        for image_use in &uses {
            match Reference::parse(&image_use.image) {
                Err(e) => errors.add(e.to_string(), &image_use.path, None),
                Ok(reference) if reference.digest().is_none() => errors.add(
                    format!("invalid value: {} must be an image digest", image_use.image),
                    &image_use.path,
                    None,
                ),
                Ok(_) => to_check
                    .entry(image_use.image.clone())
                    .or_default()
                    .push(image_use),
            }
        }
        let checker = Arc::clone(&self.checker);
        let images: Vec<String> = to_check.keys().cloned().collect();
        let outcome = run_all(images, self.config.deadline, move |image| {
            let checker = Arc::clone(&checker);
            async move { checker.check(&image).await }
        })
        .await;
        let mut warnings = FieldErrors::default();
        for (image, result) in &outcome.done {
            let result = result
                .as_ref()
                .map_err(String::as_str)
                .and_then(|r| r.as_ref().map_err(String::as_str));
            let fields = to_check.get(image).map(Vec::as_slice).unwrap_or_default();
            match result {
                Err(e) => {
                    for field in fields {
                        errors.add(
                            "could not check image".to_owned(),
                            &field.path,
                            Some(format!("{image} {e}")),
                        );
                    }
                }
                Ok(decision) => {
                    for field in fields {
                        add_decision(&mut errors, &mut warnings, image, &field.path, decision);
                    }
                }
            }
        }
        for image in &outcome.pending {
            for field in to_check.get(image).map(Vec::as_slice).unwrap_or_default() {
                errors.add(
                    deadline_message(self.config.deadline, "checks"),
                    &field.path,
                    Some(image.clone()),
                );
            }
        }
        let warnings = warnings.render_lines();
        if errors.is_empty() {
            Response::allow(uid).with_warnings(warnings)
        } else {
            Response::deny(uid, format!("validation failed: {}", errors.render()))
                .with_warnings(warnings)
        }
    }

    /// The mutating webhook's answer: every image without a digest resolved through
    /// [`Checker::resolve`] and pinned (`name:tag@sha256:…`) by a JSONPatch; images already
    /// pinned, and unparsable ones (the validating webhook denies those), are left alone.
    /// Allowed with no patch when nothing changes. A resolution error, a resolution that is
    /// not a digest reference, a malformed object or the deadline passing denies.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime (the resolutions are spawned on it).
    pub async fn mutate(&self, request: &Request) -> Response {
        let uid = request.uid.clone();
        let uses = match admission::images(request) {
            Ok(uses) => uses,
            Err(e) => return Response::deny(uid, format!("mutation failed: {e}")),
        };
        let mut to_resolve: BTreeMap<String, Vec<&ImageUse>> = BTreeMap::new();
        for image_use in &uses {
            if let Ok(reference) = Reference::parse(&image_use.image)
                && reference.digest().is_none()
            {
                to_resolve
                    .entry(image_use.image.clone())
                    .or_default()
                    .push(image_use);
            }
        }
        let checker = Arc::clone(&self.checker);
        let images: Vec<String> = to_resolve.keys().cloned().collect();
        let outcome = run_all(images, self.config.deadline, move |image| {
            let checker = Arc::clone(&checker);
            async move { checker.resolve(&image).await }
        })
        .await;
        let mut errors = FieldErrors::default();
        let mut pins = Vec::new();
        for (image, result) in outcome.done {
            let result = result.and_then(|r| r);
            let fields = to_resolve
                .get(&image)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let pinned = match result {
                Ok(pinned) => match Reference::parse(&pinned) {
                    Ok(reference) if reference.digest().is_some() => Ok(pinned),
                    _ => Err(format!("resolved to {pinned:?}, not a digest reference")),
                },
                Err(e) => Err(e),
            };
            for field in fields {
                match &pinned {
                    Ok(pinned) => pins.push(((*field).clone(), pinned.clone())),
                    Err(e) => errors.add(
                        "could not resolve image to a digest".to_owned(),
                        &field.path,
                        Some(format!("{image} {e}")),
                    ),
                }
            }
        }
        for image in &outcome.pending {
            for field in to_resolve.get(image).map(Vec::as_slice).unwrap_or_default() {
                errors.add(
                    deadline_message(self.config.deadline, "resolutions"),
                    &field.path,
                    Some(image.clone()),
                );
            }
        }
        if !errors.is_empty() {
            return Response::deny(uid, format!("mutation failed: {}", errors.render()));
        }
        pins.sort_by(|a, b| a.0.pointer.cmp(&b.0.pointer));
        let response = Response::allow(uid);
        if pins.iter().any(|(image, new)| image.image != *new) {
            response.with_patch(admission::digest_patch(&pins))
        } else {
            response
        }
    }
}

fn deadline_message(deadline: Duration, what: &str) -> String {
    format!("no decision within the {deadline:?} deadline, {what} still pending")
}

/// Folds one image's decision at one field into the errors and warnings.
fn add_decision(
    errors: &mut FieldErrors,
    warnings: &mut FieldErrors,
    image: &str,
    path: &str,
    decision: &Decision,
) {
    let mut added = false;
    for (message, details) in group_lines(image, decision.errors()) {
        errors.add(message, path, details);
        added = true;
    }
    if !decision.allowed() && !added {
        // Fail closed even on a decision that denies without saying why.
        errors.add("denied by policy".to_owned(), path, Some(image.to_owned()));
    }
    for (message, details) in group_lines(image, decision.warnings()) {
        warnings.add(message, path, details);
    }
}

/// policy-controller's per-field blocks from the decision's lines: one `failed policy: <cip>`
/// block per policy with details `<image> <reason> <reason>…`, `no matching policies` with the
/// image as details, anything else as its own message.
fn group_lines(image: &str, lines: &[String]) -> Vec<(String, Option<String>)> {
    let mut by_policy: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut out = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("failed policy: ")
            && let Some((cip, reason)) = rest.split_once(": ")
        {
            by_policy.entry(cip).or_default().push(reason);
        } else if line.strip_prefix("no matching policies: ").is_some() {
            out.push(("no matching policies".to_owned(), Some(image.to_owned())));
        } else {
            out.push((line.clone(), None));
        }
    }
    for (cip, reasons) in by_policy {
        out.push((
            format!("failed policy: {cip}"),
            Some(format!("{image} {}", reasons.join(" "))),
        ));
    }
    out
}

/// knative `apis.FieldError`s, merged: identical (message, details) share one block.
#[derive(Debug, Default)]
struct FieldErrors {
    blocks: BTreeMap<(String, Option<String>), BTreeSet<String>>,
}

impl FieldErrors {
    fn add(&mut self, message: String, path: &str, details: Option<String>) {
        self.blocks
            .entry((message, details))
            .or_default()
            .insert(path.to_owned());
    }

    fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// `<message>: <paths>` and `\n<details>` per block, blocks joined by `\n`.
    fn render(&self) -> String {
        let blocks: Vec<String> = self
            .blocks
            .iter()
            .map(|((message, details), paths)| {
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                match details {
                    Some(details) => format!("{message}: {}\n{details}", paths.join(", ")),
                    None => format!("{message}: {}", paths.join(", ")),
                }
            })
            .collect();
        blocks.join("\n")
    }

    /// One line per block (`<message>: <paths>: <details>`), for warnings, which must be
    /// single lines.
    fn render_lines(&self) -> Vec<String> {
        self.blocks
            .iter()
            .map(|((message, details), paths)| {
                let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                match details {
                    Some(details) => format!("{message}: {}: {details}", paths.join(", ")),
                    None => format!("{message}: {}", paths.join(", ")),
                }
            })
            .collect()
    }
}

/// What finished within the deadline (`Err` for a task that panicked), and what did not
/// (sorted).
struct Outcome<T> {
    done: Vec<(String, Result<T, String>)>,
    pending: Vec<String>,
}

/// Runs `task` for every image concurrently, under one deadline for all of them; tasks still
/// running at the deadline are aborted.
async fn run_all<T, F, Fut>(images: Vec<String>, deadline: Duration, task: F) -> Outcome<T>
where
    T: Send + 'static,
    F: Fn(String) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let mut set = JoinSet::new();
    let mut ids = HashMap::new();
    for image in &images {
        let handle = set.spawn(task(image.clone()));
        ids.insert(handle.id(), image.clone());
    }
    let mut done = Vec::new();
    let collect = async {
        while let Some(joined) = set.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, Ok(result)),
                Err(e) => (e.id(), Err(format!("the task failed: {e}"))),
            };
            if let Some(image) = ids.get(&id) {
                done.push((image.clone(), result));
            }
        }
    };
    // Elapsed only means some are still pending, which is computed below.
    let _ = tokio::time::timeout(deadline, collect).await;
    set.abort_all();
    done.sort_by(|a, b| a.0.cmp(&b.0));
    let finished: BTreeSet<&str> = done.iter().map(|(image, _)| image.as_str()).collect();
    let pending = images
        .iter()
        .filter(|image| !finished.contains(image.as_str()))
        .cloned()
        .collect();
    Outcome { done, pending }
}
