package sqlite

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/storetest"
)

// rawHistory reads q's history from points alone, as a file of version 2
// is read: what the packed read must give.
func rawHistory(t *testing.T, s *Store) func(store.Query) ([]store.Series, error) {
	return func(q store.Query) ([]store.Series, error) { return collect(t.Context(), s.r, queriesFor(2), q) }
}

// TestPackAgree checks, on random histories written, packed and cut by
// retention in any order, that history read through point_blocks is what
// reading points gives: the blocks and the packed ranges stay exact
// through every kind of write.
func TestPackAgree(t *testing.T) {
	seeds := uint64(3)
	if raceEnabled {
		seeds = 1
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			s := openTest(t, t.TempDir(), Options{BackfillBatch: 7})
			defer s.Close()
			storetest.RandomHistory(t, s, seed)
			storetest.Agree(t, s, storetest.RandomQueries(seed, 40), rawHistory(t, s))
			var packed int
			if err := s.r.QueryRow("SELECT count(*) FROM point_blocks").Scan(&packed); err != nil || packed == 0 {
				t.Fatalf("%d blocks (%v): the history was never packed", packed, err)
			}
		})
	}
}

// TestPackSeesOtherWriters checks that points written or deleted with SQL
// behind the store's back, inside packed weeks, are read back: the
// triggers unpack those weeks.
func TestPackSeesOtherWriters(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := t.Context()
	base := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	q := price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a",
		PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8}
	var quotes []price.Quote
	for h := range 24 * 21 {
		q.USDPerHour, q.EffectiveAt = float64(10+h%7), base.Add(time.Duration(h)*time.Hour)
		quotes = append(quotes, q)
	}
	if _, err := s.Backfill(ctx, quotes); err != nil {
		t.Fatal(err)
	}
	if err := s.Pack(ctx); err != nil {
		t.Fatal(err)
	}
	var from, until int64
	if err := s.r.QueryRow("SELECT packed_from, packed_until FROM series").Scan(&from, &until); err != nil {
		t.Fatal(err)
	}
	if until <= quotes[len(quotes)-1].EffectiveAt.UnixMilli() {
		t.Fatalf("packed range [%d, %d) after the backfill, want all of it", from, until)
	}
	mid := base.Add(10*24*time.Hour + 30*time.Minute).UnixMilli()
	for _, stmt := range []string{
		"INSERT INTO points (series_id, ts, usd_per_hour) SELECT id, ?1, 99 FROM series",
		"UPDATE points SET usd_per_hour = 98 WHERE ts = ?1 - 1800000 + 7200000",
		"DELETE FROM points WHERE ts = ?1 - 1800000 + 3600000",
	} {
		if _, err := s.w.Exec(stmt, mid); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.History(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := rawHistory(t, s)(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || len(want) != 1 || len(want[0].Points) != len(quotes) {
		t.Fatalf("history after SQL writes differs from points (%d series)", len(got))
	}
	if err := s.Pack(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err = s.History(ctx, store.Query{}); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("history packed again differs from points (%v)", err)
	}
}
