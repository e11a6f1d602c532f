-- gpuprice history schema (PostgreSQL), version 3: remote write.
--
-- How far each remote-write target's history has been sent: every stored
-- point before ts (unix milliseconds) was sent or counted as too old, so
-- that a restart resumes there. SQLite keeps the same in meta.

CREATE TABLE remote_write_watermarks (
    target text PRIMARY KEY,
    ts     bigint NOT NULL
);
