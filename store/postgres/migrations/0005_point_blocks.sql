-- gpuprice history schema (PostgreSQL), version 5: point_blocks, a packed
-- copy of points per series and week, which history queries read (a row
-- per series and week costs far less to read than a row per point). The
-- same table and columns as SQLite's; the design is described in
-- store/internal/blocks.
--
-- points stays the table of record. The points of series S with ts in
-- [S.packed_from, S.packed_until) are exactly the points of S's
-- point_blocks rows, and no block row lies outside that range; a history
-- read takes the points outside it from points. block is ts / 604800000
-- (a week of unix ms); points holds the block's points oldest first, 16
-- bytes each, int8send(ts) || float8send(coalesce(usd_per_hour, 'NaN'));
-- amounts is NULL when no point of the block has a currency_per_hour, else
-- float8send(coalesce(currency_per_hour, 'NaN')) of each point. The store
-- packs (extends the range) itself; retention moves packed_from.

ALTER TABLE series ADD COLUMN packed_from bigint NOT NULL DEFAULT 0,
    ADD COLUMN packed_until bigint NOT NULL DEFAULT 0;

CREATE TABLE point_blocks (
    series_id bigint NOT NULL,
    block     bigint NOT NULL,
    points    bytea NOT NULL,
    amounts   bytea,
    PRIMARY KEY (series_id, block)
);

-- Stored out of line uncompressed: packed doubles and times hardly
-- compress (by a fifth), and compressing them cost a quarter of a pack.
ALTER TABLE point_blocks ALTER COLUMN points SET STORAGE EXTERNAL,
    ALTER COLUMN amounts SET STORAGE EXTERNAL;

-- points_unpack keeps the packed range true whoever writes points (the
-- store, a backfill, an analyst's SQL; not a statement naming a partition
-- directly, which fires no trigger of points): for each series with a
-- changed row inside its packed range, it drops the series' blocks from
-- the week of the oldest such row on and ends the range at that week's
-- start. It first takes the advisory lock 0x67707062 ("gppb") shared, which
-- Pack takes exclusive: a pack reads points either after this statement's
-- transaction commits, or before, and then this sees the range it set.
-- Series rows are locked in id order, so that two writers unpacking the
-- same series cannot deadlock.
CREATE FUNCTION points_unpack() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    ids bigint[];
    tss bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1735422050);
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(id ORDER BY id), array_agg(m ORDER BY id) INTO ids, tss FROM (
            SELECT s.id, min(c.ts) AS m
            FROM (SELECT series_id, ts FROM changed UNION ALL SELECT series_id, ts FROM changed_before) c
            JOIN series s ON s.id = c.series_id
            WHERE c.ts >= s.packed_from AND c.ts < s.packed_until
            GROUP BY s.id) h;
    ELSE
        SELECT array_agg(id ORDER BY id), array_agg(m ORDER BY id) INTO ids, tss FROM (
            SELECT s.id, min(c.ts) AS m
            FROM changed c JOIN series s ON s.id = c.series_id
            WHERE c.ts >= s.packed_from AND c.ts < s.packed_until
            GROUP BY s.id) h;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM series WHERE id = ANY(ids) ORDER BY id FOR UPDATE;
    DELETE FROM point_blocks b USING unnest(ids, tss) AS h(id, m)
        WHERE b.series_id = h.id AND b.block >= h.m / 604800000;
    UPDATE series s SET packed_until = greatest(s.packed_from, (h.m / 604800000) * 604800000)
        FROM unnest(ids, tss) AS h(id, m) WHERE s.id = h.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER points_insert_unpack AFTER INSERT ON points
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
CREATE TRIGGER points_update_unpack AFTER UPDATE ON points
    REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
CREATE TRIGGER points_delete_unpack AFTER DELETE ON points
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
