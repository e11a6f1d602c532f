-- gpuprice history schema (SQLite), version 2; a new file is then
-- upgraded to the current version (blocks.sql, point_blocks).
--
-- Prices are stored change-only: a series gets a row in points when its
-- price changes, and a row with usd_per_hour NULL when it disappears from a
-- successful refresh (a withdrawal). The price in effect at time t is the
-- series' latest point with ts <= t. Every refresh, successful or not, is a
-- row in polls, so that "unchanged" (an ok poll and no new point) can be told
-- from "unknown" (no ok poll).
--
-- Times are unix milliseconds (UTC). Absent labels are '' or 0, never NULL,
-- so that the UNIQUE series key holds; gpu_count and gpu_memory_gb are
-- rounded to 4 decimals, as their label values are.
--
-- A series priced in another currency than USD (Scaleway's EUR) has it in
-- series.currency and each point the provider's own amount in
-- points.currency_per_hour beside usd_per_hour, its conversion at the
-- ECB's rate of the day; both are '' and NULL for USD prices.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE series (
    id            INTEGER PRIMARY KEY,
    provider      TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    region        TEXT NOT NULL,
    zone          TEXT NOT NULL DEFAULT '',
    pricing_model TEXT NOT NULL,
    gpu_count     REAL NOT NULL DEFAULT 0,
    geo           TEXT NOT NULL DEFAULT '',
    gpu_model     TEXT NOT NULL DEFAULT '',
    gpu_form      TEXT NOT NULL DEFAULT '',
    gpu_memory_gb REAL NOT NULL DEFAULT 0,
    gpu_raw       TEXT NOT NULL DEFAULT '',
    currency      TEXT NOT NULL DEFAULT '',
    UNIQUE (provider, instance_type, region, zone, pricing_model, gpu_count)
);

CREATE INDEX series_gpu_model ON series (gpu_model, pricing_model);

CREATE TABLE points (
    series_id    INTEGER NOT NULL REFERENCES series (id),
    ts           INTEGER NOT NULL,
    usd_per_hour REAL, -- whole instance, USD; NULL: withdrawn
    currency_per_hour REAL, -- the same in series.currency; NULL for USD
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    provider    TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    ok          INTEGER NOT NULL, -- 1: successful refresh
    quotes      INTEGER NOT NULL,
    error       TEXT              -- NULL when ok
);

CREATE INDEX polls_started_at ON polls (started_at);
CREATE INDEX polls_provider ON polls (provider, started_at);

INSERT INTO meta (key, value) VALUES ('schema_version', '2');
