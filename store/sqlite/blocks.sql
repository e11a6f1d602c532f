-- gpuprice history schema (SQLite), version 3: point_blocks, a packed
-- copy of the points that long history queries read (see
-- store/internal/blocks). Applied to every file after schema.sql.
--
-- A block holds one week of a series' points: block = ts / 604800000, and
-- points the 16-byte records ts (big-endian int64) and usd_per_hour
-- (big-endian double, NaN: withdrawn), oldest first; amounts the
-- currency_per_hour of each point (NaN: NULL), or NULL when no point of
-- the week has one. The points of a series with ts in [packed_from,
-- packed_until) are exactly those of its blocks; points stays the table of
-- record, and the triggers below keep that range true whoever writes.

ALTER TABLE series ADD COLUMN packed_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN packed_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE point_blocks (
    series_id INTEGER NOT NULL REFERENCES series (id),
    block     INTEGER NOT NULL,
    points    BLOB NOT NULL,
    amounts   BLOB,
    PRIMARY KEY (series_id, block)
) WITHOUT ROWID;

-- A point written, changed or removed inside its series' packed range
-- drops the series' blocks from its week on; the store packs them again.
CREATE TRIGGER points_insert_unpack AFTER INSERT ON points
WHEN EXISTS (SELECT 1 FROM series WHERE id = new.series_id AND new.ts >= packed_from AND new.ts < packed_until)
BEGIN
    DELETE FROM point_blocks WHERE series_id = new.series_id AND block >= new.ts / 604800000;
    UPDATE series SET packed_until = max(packed_from, new.ts / 604800000 * 604800000) WHERE id = new.series_id;
END;

-- An update counts as the removal of the old row and the insert of the new.
CREATE TRIGGER points_update_unpack_old AFTER UPDATE ON points
WHEN EXISTS (SELECT 1 FROM series WHERE id = old.series_id AND old.ts >= packed_from AND old.ts < packed_until)
BEGIN
    DELETE FROM point_blocks WHERE series_id = old.series_id AND block >= old.ts / 604800000;
    UPDATE series SET packed_until = max(packed_from, old.ts / 604800000 * 604800000) WHERE id = old.series_id;
END;

CREATE TRIGGER points_update_unpack_new AFTER UPDATE ON points
WHEN EXISTS (SELECT 1 FROM series WHERE id = new.series_id AND new.ts >= packed_from AND new.ts < packed_until)
BEGIN
    DELETE FROM point_blocks WHERE series_id = new.series_id AND block >= new.ts / 604800000;
    UPDATE series SET packed_until = max(packed_from, new.ts / 604800000 * 604800000) WHERE id = new.series_id;
END;

CREATE TRIGGER points_delete_unpack AFTER DELETE ON points
WHEN EXISTS (SELECT 1 FROM series WHERE id = old.series_id AND old.ts >= packed_from AND old.ts < packed_until)
BEGIN
    DELETE FROM point_blocks WHERE series_id = old.series_id AND block >= old.ts / 604800000;
    UPDATE series SET packed_until = max(packed_from, old.ts / 604800000 * 604800000) WHERE id = old.series_id;
END;
