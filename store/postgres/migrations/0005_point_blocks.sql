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

-- point_blocks_drop drops the blocks of the series ids[i] from the week
-- of tss[i] on, and ends their packed range at that week's start. The
-- series rows are locked in id order (ids is sorted), so that two writers
-- unpacking the same series cannot deadlock. The statements join a few
-- rows to series by its primary key: hash joins over all of series cost
-- a write of a thousand points 70 ms on 100k series.
CREATE FUNCTION point_blocks_drop(ids bigint[], tss bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    PERFORM 1 FROM unnest(ids) AS k(id) CROSS JOIN LATERAL (SELECT 1 FROM series WHERE id = k.id FOR UPDATE) s;
    DELETE FROM point_blocks b USING unnest(ids, tss) AS h(id, m)
        WHERE b.series_id = h.id AND b.block >= h.m / 604800000;
    UPDATE series s SET packed_until = greatest(s.packed_from, (h.m / 604800000) * 604800000)
        FROM unnest(ids, tss) AS h(id, m) WHERE s.id = h.id;
END
$$;

-- points_unpack keeps the packed range true whoever writes points (the
-- store, a backfill, an analyst's SQL; not a statement naming a partition
-- directly, which fires no trigger of points): for each series with a
-- changed row inside its packed range, it drops the series' blocks from
-- the week of the oldest such row on and ends the range at that week's
-- start (point_blocks_drop). It first takes the advisory lock 0x67707062
-- ("gppb") shared, which Pack takes exclusive: a pack reads points either
-- after this statement's transaction commits, or before, and then this
-- sees the range it set.
--
-- It costs a write that lands after the packed ranges (a refresh, an
-- incremental backfill) one probe of series per series written: the rows
-- are grouped by series first, and the query is planned for the rows of
-- each statement (EXECUTE), a refresh's thousand or a backfill's 100k.
-- Only a series whose rows straddle its packed range has its rows read
-- again.
CREATE FUNCTION points_unpack() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    ids bigint[];
    tss bigint[];
    changes text := 'SELECT series_id, ts FROM changed';
BEGIN
    -- The UPDATE of an INSERT … ON CONFLICT DO UPDATE that updated none.
    IF NOT EXISTS (SELECT FROM changed) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1735422050);
    IF TG_OP = 'UPDATE' THEN
        changes := changes || ' UNION ALL SELECT series_id, ts FROM changed_before';
    END IF;
    EXECUTE format($q$
        WITH c AS (%s),
        k AS (SELECT series_id, min(ts) AS lo, max(ts) AS hi FROM c GROUP BY series_id),
        r AS (
            SELECT k.series_id AS id, k.lo, s.packed_from, s.packed_until FROM k
            CROSS JOIN LATERAL (SELECT packed_from, packed_until FROM series WHERE id = k.series_id OFFSET 0) s
            WHERE k.hi >= s.packed_from AND k.lo < s.packed_until),
        hit AS (
            SELECT id, lo AS m FROM r WHERE lo >= packed_from
            UNION ALL
            SELECT r.id, min(c.ts) FROM r JOIN c ON c.series_id = r.id AND c.ts >= r.packed_from AND c.ts < r.packed_until
            WHERE r.lo < r.packed_from GROUP BY r.id)
        SELECT array_agg(id ORDER BY id), array_agg(m ORDER BY id) FROM hit$q$, changes) INTO ids, tss;
    IF ids IS NOT NULL THEN
        PERFORM point_blocks_drop(ids, tss);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER points_insert_unpack AFTER INSERT ON points
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
CREATE TRIGGER points_update_unpack AFTER UPDATE ON points
    REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
CREATE TRIGGER points_delete_unpack AFTER DELETE ON points
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION points_unpack();
