package postgres

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/blocks"
	"github.com/gpuprice/gpuprice/store/internal/last"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
	"github.com/gpuprice/gpuprice/store/storetest"
)

var _ storetest.Packer = (*Store)(nil)

// rawPointsSQL reads the history of q's series from points alone: from the
// point in effect at $2 up to $3.
const rawPointsSQL = `SELECT p.ts, p.usd_per_hour, p.currency_per_hour FROM points p
	WHERE p.series_id = $1 AND p.ts <= $3
	  AND p.ts >= coalesce((SELECT max(ts) FROM points WHERE series_id = $1 AND ts <= $2), $2)
	ORDER BY p.ts`

// rawHistory answers q from the points table, read straight: what History
// must return, packed or not.
func rawHistory(ctx context.Context, pool querier, q store.Query) ([]store.Series, error) {
	start, end, ok := last.MSRange(q.Start, q.End)
	if !ok {
		return nil, nil
	}
	list, err := matchingSeries(ctx, pool, q)
	if err != nil {
		return nil, err
	}
	var out []store.Series
	for _, sr := range list {
		rows, err := pool.Query(ctx, rawPointsSQL, sr.id, start, end)
		if err != nil {
			return nil, err
		}
		var (
			pts         []store.Point
			ts          int64
			usd, amount *float64
		)
		if _, err := pgx.ForEachRow(rows, []any{&ts, &usd, &amount}, func() error {
			p := store.Point{Time: last.FromMS(ts), Withdrawn: usd == nil}
			if usd != nil {
				p.USDPerHour = *usd
			}
			if amount != nil {
				p.CurrencyPerHour = *amount
			}
			pts = append(pts, p)
			return nil
		}); err != nil {
			return nil, err
		}
		if len(pts) > 0 {
			out = append(out, store.Series{Labels: sr.labels, Points: pts})
		}
	}
	return out, nil
}

// packedPoints counts the points of point_blocks and the series with a
// packed range.
func packedPoints(t *testing.T, s *Store) (points, series int) {
	t.Helper()
	err := s.pool.QueryRow(t.Context(), `SELECT (SELECT coalesce(sum(length(points)), 0) / $1 FROM point_blocks),
		(SELECT count(*) FROM series WHERE packed_until > packed_from)`, blocks.PointSize).Scan(&points, &series)
	if err != nil {
		t.Fatal(err)
	}
	return points, series
}

// inRanges counts the points in their series' packed range, failing t
// when a block lies outside it.
func inRanges(t *testing.T, s *Store) int {
	t.Helper()
	var n, outside int
	err := s.pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM points p JOIN series s ON s.id = p.series_id WHERE p.ts >= s.packed_from AND p.ts < s.packed_until),
		(SELECT count(*) FROM point_blocks b JOIN series s ON s.id = b.series_id
			WHERE b.block < s.packed_from / $1 OR b.block * $1 >= s.packed_until)`, blocks.Span).Scan(&n, &outside)
	if err != nil {
		t.Fatal(err)
	}
	if outside > 0 {
		t.Errorf("%d blocks outside their series' packed range", outside)
	}
	return n
}

// TestPackedHistoryAgrees writes random histories (refreshes, backfills
// out of order, retention, packs among them) and checks that History,
// reading packed weeks from point_blocks, answers as the points table
// read straight does.
func TestPackedHistoryAgrees(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			s := openTest(t, pgtest.Unique(t), Options{BackfillBatch: 7})
			defer s.Close()
			storetest.RandomHistory(t, s, seed)
			// Its times are long past: a write after a pack lands in
			// the packed range and unpacks from its week on, so that
			// only some older weeks are packed now.
			queries := storetest.RandomQueries(seed, 40)
			want := func(q store.Query) ([]store.Series, error) { return rawHistory(t.Context(), s.pool, q) }
			storetest.Agree(t, s, queries, want)
			// And once more with everything packed.
			if err := s.Pack(t.Context()); err != nil {
				t.Fatal(err)
			}
			// Retention left the weeks up to its cut's unpacked.
			if n, series := packedPoints(t, s); n != inRanges(t, s) || n < 50 || series < 10 {
				t.Fatalf("%d points of %d series packed, %d in the packed ranges", n, series, inRanges(t, s))
			}
			storetest.Agree(t, s, queries, want)
		})
	}
}

// TestWritesBehindTheStore writes points into packed weeks with SQL, as
// an analyst may: the next history read sees them, and a pack packs them.
func TestWritesBehindTheStore(t *testing.T) {
	s := openTest(t, pgtest.Unique(t), Options{})
	defer s.Close()
	// a: a point every 6 hours for four weeks; b: every day.
	var quotes []price.Quote
	for h := 0; h < 28*24; h += 6 {
		quotes = append(quotes, spot("a", float64(h%50), t0.Add(time.Duration(h)*time.Hour)))
		if h%24 == 0 {
			quotes = append(quotes, spot("b", float64(h%70), t0.Add(time.Duration(h)*time.Hour)))
		}
	}
	if _, err := s.Backfill(t.Context(), quotes); err != nil {
		t.Fatal(err)
	}
	if err := s.Pack(t.Context()); err != nil { // what the background pack it started does
		t.Fatal(err)
	}
	if n, series := packedPoints(t, s); n != len(quotes) || series != 2 {
		t.Fatalf("after the backfill %d points of %d series packed, want %d of 2", n, series, len(quotes))
	}
	id := func(zone string) int64 {
		var id int64
		if err := s.pool.QueryRow(t.Context(), "SELECT id FROM series WHERE zone = $1", zone).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := id("a"), id("b")
	week2 := t0.Add(10 * 24 * time.Hour).UnixMilli()
	check := func(step string) {
		t.Helper()
		for _, q := range []store.Query{{}, {Start: t0.Add(9 * 24 * time.Hour), End: t0.Add(12 * 24 * time.Hour)}, {Zone: "a", Start: t0.Add(20 * 24 * time.Hour)}} {
			want, err := rawHistory(t.Context(), s.pool, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.History(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: History(%+v) differs from the points table:\n got %v\nwant %v", step, q, got, want)
			}
		}
	}
	for _, tt := range []struct {
		name, sql string
		args      []any
	}{
		{"insert", "INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour) VALUES ($1, $2, 1.5, 1.25), ($3, $2, NULL, NULL)", []any{a, week2 + 1, b}},
		{"update", "UPDATE points SET usd_per_hour = usd_per_hour + 100 WHERE series_id = $1 AND ts >= $2 AND ts < $2 + 86400000", []any{b, week2 - 4*86400000}},
		{"update of ts", "UPDATE points SET ts = ts - 3600000 WHERE series_id = $1 AND ts = $2", []any{a, t0.Add(24 * time.Hour).UnixMilli()}},
		{"delete", "DELETE FROM points WHERE series_id = $1 AND ts = $2", []any{a, week2 + 1}},
		{"delete in the last week", "DELETE FROM points WHERE series_id = $1 AND ts > $2", []any{b, t0.Add(26 * 24 * time.Hour).UnixMilli()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := s.pool.Exec(t.Context(), tt.sql, tt.args...)
			if err != nil || tag.RowsAffected() == 0 {
				t.Fatalf("%s: %v, %d rows", tt.sql, err, tag.RowsAffected())
			}
			check("after the SQL")
			if err := s.Pack(t.Context()); err != nil {
				t.Fatal(err)
			}
			check("packed again")
			var total int
			if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM points").Scan(&total); err != nil {
				t.Fatal(err)
			}
			if n, _ := packedPoints(t, s); n != total || inRanges(t, s) != total {
				t.Errorf("%d points packed, the table has %d", n, total)
			}
		})
	}
}

// TestReaderOfSchema4 reads a database whose migrations stop at version 4
// (an older gpuprice writes it): every point from points.
func TestReaderOfSchema4(t *testing.T) {
	dsn := pgtest.DSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:4] {
		if _, err := conn.Exec(t.Context(), m.sql); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(t.Context(), `
		CREATE TABLE points_202501 PARTITION OF points FOR VALUES FROM (1735689600000) TO (1738368000000);
		INSERT INTO series (provider, instance_type, region, zone, pricing_model, gpu_count) VALUES ('aws', 'p5', 'us-east-1', 'a', 'spot', 8);
		INSERT INTO points (series_id, ts, usd_per_hour) SELECT id, 1735689600000 + k * 3600000, k FROM series, generate_series(1, 30) k;
		INSERT INTO points (series_id, ts, usd_per_hour) SELECT id, 1735689600000 + 31 * 3600000, NULL FROM series`); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.blocks {
		t.Error("a reader of schema 4 reads point_blocks")
	}
	got, err := r.History(t.Context(), store.Query{Start: t0.Add(10 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Points) != 22 || !got[0].Points[21].Withdrawn || got[0].Points[0].USDPerHour != 10 {
		t.Errorf("History of a schema 4 database: %v", got)
	}
}

// TestPackWhileWriting packs from a second store on the same database
// (another replica) all the while a random history is written: the
// packLock keeps every write either before a pack or seen by it, so that
// the blocks hold exactly the points of the packed ranges throughout.
func TestPackWhileWriting(t *testing.T) {
	name := pgtest.Unique(t)
	s, replica := openTest(t, name, Options{BackfillBatch: 5}), openTest(t, name, Options{})
	defer s.Close()
	defer replica.Close()
	done := make(chan struct{})
	type result struct {
		packs int
		err   error
	}
	packed := make(chan result, 1)
	go func() {
		var r result
		for ; r.err == nil; r.packs++ {
			select {
			case <-done:
				packed <- r
				return
			default:
			}
			r.err = replica.Pack(t.Context())
		}
		packed <- r
	}()
	storetest.RandomHistory(t, s, 4)
	close(done)
	r := <-packed
	if r.err != nil || r.packs < 3 {
		t.Fatalf("%d packs beside the writes: %v", r.packs, r.err)
	}
	if n, _ := packedPoints(t, s); n != inRanges(t, s) {
		t.Errorf("the blocks hold %d points, the packed ranges another number", n)
	}
	if err := replica.Pack(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := func(q store.Query) ([]store.Series, error) { return rawHistory(t.Context(), s.pool, q) }
	storetest.Agree(t, s, storetest.RandomQueries(4, 40), want)
}
