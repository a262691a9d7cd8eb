//! Versioned schema migrations, applied in order when a [`super::PgStore`] connects.
//!
//! `log_schema` records the versions applied. The whole run holds a transaction-level advisory
//! lock, so processes starting at once apply each migration exactly once; each migration runs in
//! that one transaction with its version row, so a failed migration leaves nothing behind.
//! Migrations are append-only: a released one is never edited, a change is a new version.

use tokio_postgres::Client;

/// `(version, SQL)`, ascending.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("migrations/0001_log.sql"))];

/// The advisory-lock key serialising migration runs (`waxseal-log schema` as ASCII).
const MIGRATION_LOCK: i64 = 0x7761_7873_6c73_6368;

/// Applies every migration not yet applied; returns the schema version now in place.
pub(super) async fn migrate(client: &mut Client) -> Result<i32, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS log_schema (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM log_schema", &[])
        .await?
        .get(0);
    let mut version = current;
    for &(number, sql) in MIGRATIONS {
        if number <= current {
            continue;
        }
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO log_schema (version) VALUES ($1)", &[&number])
            .await?;
        version = number;
    }
    tx.commit().await?;
    Ok(version)
}

/// The newest schema version this build knows.
pub(super) fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}
