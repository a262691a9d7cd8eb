//! Identity tokens for signing commits, from the first source that has one:
//!
//! 1. `SIGSTORE_ID_TOKEN`;
//! 2. a token file (git config `waxseal.tokenFile`), read at each signing;
//! 3. GitHub Actions' job token (`ACTIONS_ID_TOKEN_REQUEST_URL`/`…_TOKEN`);
//! 4. client credentials at the instance's issuer (`WAXSEAL_CLIENT_ID`, else git config
//!    `waxseal.clientId`, with `WAXSEAL_CLIENT_SECRET`), as `waxseal sign` does;
//! 5. the OAuth 2.0 device authorization grant (RFC 8628) at git config `waxseal.oidcIssuer`
//!    with `waxseal.oidcClientId`: the verification URI and user code are shown on the
//!    terminal (`/dev/tty`, else stderr: git keeps the program's stderr to itself while it
//!    signs), and the token endpoint is polled at the issuer's `interval`.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;
use waxseal_client::{Client, IdentityToken, Instance};

use crate::git::GitConfig;

/// RFC 8628 §3.5: the client adds 5 seconds to its interval on `slow_down`.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// RFC 8628 §3.2: the interval when the issuer names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The first token source that has a token.
pub(crate) async fn token(
    client: &Client,
    instance: &Instance,
    config: &GitConfig,
) -> Result<IdentityToken> {
    if let Ok(token) = std::env::var("SIGSTORE_ID_TOKEN")
        && !token.trim().is_empty()
    {
        return IdentityToken::parse(&token).context("SIGSTORE_ID_TOKEN is not a usable token");
    }
    if let Some(path) = config.get("tokenFile") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("couldn't read the token file {path} (waxseal.tokenFile)"))?;
        return IdentityToken::parse(&text)
            .with_context(|| format!("the token file {path} holds no usable token"));
    }
    if let Some(token) = crate::sign::github_actions_token(client).await? {
        return Ok(token);
    }
    let client_id = std::env::var("WAXSEAL_CLIENT_ID")
        .ok()
        .or_else(|| config.get("clientId").map(str::to_owned));
    if let Some(id) = client_id {
        let secret = std::env::var("WAXSEAL_CLIENT_SECRET")
            .context("a client id is set but WAXSEAL_CLIENT_SECRET is not")?;
        let issuer = instance
            .services()
            .oidc
            .as_ref()
            .context("the instance's signing config lists no OIDC issuer for the client id")?;
        return client
            .client_credentials_token(&issuer.url, &id, &secret)
            .await
            .context("couldn't get a token with the client credentials");
    }
    if let Some(issuer) = config.get("oidcIssuer") {
        let client_id = config
            .get("oidcClientId")
            .context("waxseal.oidcIssuer is set but waxseal.oidcClientId is not")?;
        return device_flow(issuer, client_id).await;
    }
    bail!(
        "no identity token: set SIGSTORE_ID_TOKEN, git config waxseal.tokenFile, \
         WAXSEAL_CLIENT_ID and WAXSEAL_CLIENT_SECRET, or waxseal.oidcIssuer and \
         waxseal.oidcClientId for an interactive login"
    )
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
    device_authorization_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(u16, Vec<u8>)> {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect();
    let reply = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.join("&"))
        .send()
        .await
        .with_context(|| format!("couldn't reach {url}"))?;
    let status = reply.status().as_u16();
    let bytes = reply
        .bytes()
        .await
        .with_context(|| format!("couldn't read the reply of {url}"))?;
    Ok((status, bytes.to_vec()))
}

/// Tells the user where to log in, on the terminal if there is one.
fn tell_user(message: &str) {
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty")
        && tty.write_all(message.as_bytes()).is_ok()
    {
        return;
    }
    eprint!("{message}");
}

/// RFC 8628: device authorization, then polling the token endpoint.
pub(crate) async fn device_flow(issuer: &str, client_id: &str) -> Result<IdentityToken> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("couldn't set up the HTTP client")?;
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: Discovery = http
        .get(&discovery_url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("couldn't fetch {discovery_url}"))?
        .json()
        .await
        .with_context(|| format!("{discovery_url} is not an OpenID configuration"))?;
    let device_endpoint = discovery.device_authorization_endpoint.with_context(|| {
        format!("{issuer} offers no device authorization endpoint (RFC 8628) for a login")
    })?;
    let (status, body) = post_form(
        &http,
        &device_endpoint,
        &[("client_id", client_id), ("scope", "openid email")],
    )
    .await?;
    if status != 200 {
        bail!(
            "the device authorization at {device_endpoint} failed (HTTP {status}): {}",
            String::from_utf8_lossy(&body)
        );
    }
    let authorization: DeviceAuthorization = serde_json::from_slice(&body)
        .with_context(|| format!("{device_endpoint} answered no device authorization"))?;
    let link = authorization
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&authorization.verification_uri);
    tell_user(&format!(
        "waxseal: to sign, open {link} and enter the code {}\n",
        authorization.user_code
    ));
    let mut interval = authorization
        .interval
        .map_or(DEFAULT_INTERVAL, Duration::from_secs);
    let deadline = Instant::now() + Duration::from_secs(authorization.expires_in);
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            bail!("the login code expired before it was used: sign again to get a new one");
        }
        let (status, body) = post_form(
            &http,
            &discovery.token_endpoint,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &authorization.device_code),
                ("client_id", client_id),
            ],
        )
        .await?;
        let reply: TokenReply = serde_json::from_slice(&body).with_context(|| {
            format!(
                "{} answered HTTP {status} without a token reply",
                discovery.token_endpoint
            )
        })?;
        match (reply.id_token, reply.error.as_deref()) {
            (Some(token), _) if status == 200 => {
                return IdentityToken::parse(&token)
                    .context("the issuer's id_token is not a usable token");
            }
            (_, Some("authorization_pending")) => {}
            (_, Some("slow_down")) => interval += SLOW_DOWN_STEP,
            (_, Some("expired_token")) => {
                bail!("the login code expired before it was used: sign again to get a new one")
            }
            (_, Some("access_denied")) => bail!("the login was denied at {issuer}"),
            (_, error) => bail!(
                "the token endpoint {} refused (HTTP {status}): {} {}",
                discovery.token_endpoint,
                error.unwrap_or("no error code"),
                reply.error_description.unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        assert_eq!(super::form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(super::form_encode("openid-email_1.~"), "openid-email_1.~");
    }
}
