-- waxseal-log schema version 1. Every table is keyed by the log's name (`rekor`, `rekor-v2`,
-- `ct`, ...), so several logs share one database.

-- The tree: its integrated size and latest published checkpoint.
CREATE TABLE log_tree (
    log TEXT PRIMARY KEY,
    size BIGINT NOT NULL CHECK (size >= 0),
    checkpoint_size BIGINT,
    checkpoint_root BYTEA,
    checkpoint BYTEA,
    checkpoint_at TIMESTAMPTZ
);

-- The latest (widest) version of each hash tile.
CREATE TABLE log_tiles (
    log TEXT NOT NULL,
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (log, level, idx)
);

-- The latest version of each entry bundle.
CREATE TABLE log_bundles (
    log TEXT NOT NULL,
    idx BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (log, idx)
);

-- Deduplication keys and the index each was first logged at.
CREATE TABLE log_dedup (
    log TEXT NOT NULL,
    key BYTEA NOT NULL,
    idx BIGINT NOT NULL,
    PRIMARY KEY (log, key)
);

-- Search terms.
CREATE TABLE log_terms (
    log TEXT NOT NULL,
    term BYTEA NOT NULL,
    idx BIGINT NOT NULL,
    PRIMARY KEY (log, term, idx)
);

-- One row per sequenced batch: entries [start_size, end_size) were sequenced at time_ms.
CREATE TABLE log_batches (
    log TEXT NOT NULL,
    end_size BIGINT NOT NULL,
    start_size BIGINT NOT NULL,
    time_ms BIGINT NOT NULL,
    PRIMARY KEY (log, end_size)
);

-- Issuer certificates of a CT log, by SHA-256 fingerprint.
CREATE TABLE log_issuers (
    log TEXT NOT NULL,
    fingerprint BYTEA NOT NULL,
    der BYTEA NOT NULL,
    PRIMARY KEY (log, fingerprint)
);

-- Cluster mode: entries validated by a front end, waiting for the sequencer.
CREATE TABLE log_queue (
    log TEXT NOT NULL,
    id BIGINT NOT NULL,
    entry BYTEA NOT NULL,
    key BYTEA NOT NULL,
    -- Search terms, each as a 4-byte big-endian length and the term.
    terms BYTEA NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (log, id)
);
CREATE SEQUENCE log_queue_ids;

-- Cluster mode: what became of each queued entry, written in the integration's transaction.
CREATE TABLE log_results (
    log TEXT NOT NULL,
    id BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    duplicate BOOLEAN NOT NULL,
    time_ms BIGINT NOT NULL,
    done_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (log, id)
);
CREATE INDEX log_results_done_at ON log_results (done_at);
