package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func spot(zone string, usd float64, at time.Time) price.Quote {
	return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: zone,
		PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, USDPerHour: usd, EffectiveAt: at}
}

func record(t *testing.T, s *Store, end time.Time, quotes ...price.Quote) store.Result {
	t.Helper()
	for i := range quotes {
		quotes[i].EffectiveAt, quotes[i].ObservedAt = time.Time{}, end
	}
	res, err := s.Record(t.Context(), store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
		&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func partitionNames(t *testing.T, s *Store) []string {
	t.Helper()
	parts, err := listPartitions(t.Context(), s.pool)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range parts {
		names = append(names, p.name)
	}
	return names
}

func historyOf(t *testing.T, s store.Reader) map[string][]string {
	t.Helper()
	series, err := s.History(t.Context(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, sr := range series {
		for _, p := range sr.Points {
			v := fmt.Sprint(p.USDPerHour)
			if p.Withdrawn {
				v = "withdrawn"
			}
			out[sr.Labels.Zone] = append(out[sr.Labels.Zone], p.Time.Format("01-02")+" "+v)
		}
	}
	return out
}

// TestPartitions checks that points land in monthly partitions made as
// needed, and that retention drops the months before the cut, keeping in
// a new partition only each series' point in effect at the cut.
func TestPartitions(t *testing.T) {
	name := pgtest.Unique(t)
	s := openTest(t, name, Options{})
	defer s.Close()
	day := func(month time.Month, d int) time.Time { return time.Date(2025, month, d, 0, 0, 0, 0, time.UTC) }
	// a: a point every 10 days from Jan 1 to Apr 11; b: one in January,
	// one in March; c: one in January only.
	var quotes []price.Quote
	for d := 0; d <= 100; d += 10 {
		quotes = append(quotes, spot("a", float64(d), t0.AddDate(0, 0, d)))
	}
	quotes = append(quotes, spot("b", 1, day(1, 15)), spot("b", 2, day(3, 15)), spot("c", 3, day(1, 20)))
	if res, err := s.Backfill(t.Context(), quotes); err != nil || res.Points != len(quotes) {
		t.Fatalf("Backfill: %+v, %v", res, err)
	}
	if got, want := partitionNames(t, s), []string{"points_202501", "points_202502", "points_202503", "points_202504"}; !slices.Equal(got, want) {
		t.Errorf("partitions %q, want %q", got, want)
	}

	n, err := s.DeleteBefore(t.Context(), day(3, 5))
	if err != nil {
		t.Fatal(err)
	}
	// a: Jan 1..Feb 20 (6 points) go but Mar 2 stays in effect; b: Jan
	// 15 stays (in effect on Mar 5); c: Jan 20 stays.
	if n != 6 {
		t.Errorf("DeleteBefore removed %d points, want 6", n)
	}
	want := map[string][]string{
		"a": {"03-02 60", "03-12 70", "03-22 80", "04-01 90", "04-11 100"},
		"b": {"01-15 1", "03-15 2"},
		"c": {"01-20 3"},
	}
	if got := historyOf(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("History after retention:\n got %v\nwant %v", got, want)
	}
	// February held nothing that stays: gone. January was replaced by a
	// partition of the two points that stay.
	if got, want := partitionNames(t, s), []string{"points_202501", "points_202503", "points_202504"}; !slices.Equal(got, want) {
		t.Errorf("partitions after retention %q, want %q", got, want)
	}
	if n, err := s.DeleteBefore(t.Context(), day(3, 5)); err != nil || n != 0 {
		t.Errorf("second DeleteBefore: %d, %v; want 0", n, err)
	}

	// A write into the dropped month makes its partition again; the
	// replaced partition still refuses duplicates.
	res, err := s.Backfill(t.Context(), []price.Quote{spot("c", 4, day(2, 1)), spot("b", 9, day(1, 15))})
	if err != nil || res != (store.Result{Points: 1, Skipped: 1}) {
		t.Errorf("Backfill into retained months: %+v, %v", res, err)
	}
	// Another process dropped a partition this one knows: the write
	// finds out and makes it again.
	if _, err := s.pool.Exec(t.Context(), "DROP TABLE points_202502"); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Backfill(t.Context(), []price.Quote{spot("c", 5, day(2, 2))}); err != nil || res.Points != 1 {
		t.Errorf("Backfill into a partition dropped by another process: %+v, %v", res, err)
	}

	s.Close()
	s = openTest(t, name, Options{})
	if r := record(t, s, day(4, 20), spot("a", 100, time.Time{}), spot("c", 5, time.Time{})); r != (store.Result{Withdrawals: 1}) {
		t.Errorf("refresh after reopen: %+v, want b withdrawn only", r)
	}
}

// TestRecordFailureMidTransaction makes the last statement of a Record
// fail after its points were written: nothing of it stays, in the
// database or in memory.
func TestRecordFailureMidTransaction(t *testing.T) {
	name := pgtest.Unique(t)
	s := openTest(t, name, Options{})
	defer s.Close()
	record(t, s, t0, spot("1a", 30, time.Time{}), spot("1b", 31, time.Time{}))
	count := func() [3]int {
		var n [3]int
		err := s.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM points), (SELECT count(*) FROM polls)`).
			Scan(&n[0], &n[1], &n[2])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if _, err := s.pool.Exec(t.Context(), `
		CREATE FUNCTION fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$ LANGUAGE plpgsql;
		CREATE TRIGGER fail BEFORE INSERT ON polls FOR EACH ROW EXECUTE FUNCTION fail()`); err != nil {
		t.Fatal(err)
	}
	q := []price.Quote{spot("1a", 32, time.Time{}), spot("1c", 33, time.Time{})}
	end := t0.Add(10 * time.Minute)
	_, err := s.Record(t.Context(), store.Poll{Provider: "aws", Start: end, OK: true}, &price.Snapshot{Provider: "aws", Time: end, Quotes: q})
	if err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Record: %v, want the injected error", err)
	}
	if got := count(); got != before {
		t.Errorf("rows after the failed Record: %v, want %v", got, before)
	}
	if _, err := s.pool.Exec(t.Context(), `DROP TRIGGER fail ON polls`); err != nil {
		t.Fatal(err)
	}
	if res := record(t, s, end, q...); res != (store.Result{NewSeries: 1, Points: 2, Withdrawals: 1}) {
		t.Errorf("Record after the failure: %+v", res)
	}
}

// TestConcurrentBackfill runs the same backfill from two stores on one
// database at once, as two replicas might: every point is written once.
func TestConcurrentBackfill(t *testing.T) {
	name := pgtest.Unique(t)
	a, b := openTest(t, name, Options{BackfillBatch: 500}), openTest(t, name, Options{BackfillBatch: 700})
	defer a.Close()
	defer b.Close()
	var quotes []price.Quote
	for z := range 20 {
		for k := range 200 {
			quotes = append(quotes, spot(fmt.Sprintf("z%02d", z), float64(k%7), t0.Add(time.Duration(k)*time.Hour)))
		}
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sum  store.Result
		errs []error
	)
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			res, err := s.Backfill(t.Context(), quotes)
			mu.Lock()
			defer mu.Unlock()
			sum.Points += res.Points
			sum.Skipped += res.Skipped
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if sum.Points != len(quotes) || sum.Skipped != len(quotes) {
		t.Errorf("two backfills wrote %d points and skipped %d, want %d each", sum.Points, sum.Skipped, len(quotes))
	}
	var n int
	if err := a.pool.QueryRow(t.Context(), "SELECT count(*) FROM points").Scan(&n); err != nil || n != len(quotes) {
		t.Errorf("%d points stored (%v), want %d", n, err, len(quotes))
	}
}

func TestReader(t *testing.T) {
	name := pgtest.Unique(t)
	s := openTest(t, name, Options{})
	defer s.Close()
	record(t, s, t0, spot("1a", 30, time.Time{}))
	r, err := OpenReader(t.Context(), pgtest.Get(t).Schema(t, name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	record(t, s, t0.Add(time.Hour), spot("1a", 31, time.Time{}))
	if got, want := historyOf(t, r), historyOf(t, s); !reflect.DeepEqual(got, want) || len(want["1a"]) != 2 {
		t.Errorf("reader sees %v, store has %v", got, want)
	}
	polls, err := r.Polls(t.Context(), "aws", time.Time{}, time.Time{})
	if err != nil || len(polls) != 2 {
		t.Errorf("reader polls: %v, %v", polls, err)
	}
}

// TestSecretsNotShown opens stores with connection strings that fail in
// every way a connection can, and checks that no error shows the password.
func TestSecretsNotShown(t *testing.T) {
	srv := pgtest.Get(t)
	good, err := url.Parse(srv.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	const pw = "s3cr3t-Pa55word"
	with := func(f func(u *url.URL)) string {
		u := *good
		u.User = url.UserPassword("gpuprice", pw)
		f(&u)
		return u.String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	tests := []struct {
		name, dsn string
	}{
		{"wrong password", with(func(u *url.URL) {})},
		{"nothing listening", with(func(u *url.URL) { u.Host = closed })},
		{"unknown database", with(func(u *url.URL) { u.User = good.User; u.Path = "/nope" })},
		{"bad URL", "postgres://gpuprice:" + pw + "@127.0.0.1:99999999/x"},
		{"bad parameter", with(func(u *url.URL) { u.RawQuery = "sslmode=sometimes" })},
		{"key=value form", "host=" + strings.Split(closed, ":")[0] + " port=" + strings.Split(closed, ":")[1] + " user=gpuprice password=" + pw + " connect_timeout=x"},
		{"key=value, quoted", "host=127.0.0.1 port=" + strings.Split(closed, ":")[1] + " user=gpuprice password='" + pw + "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err := Open(ctx, tt.dsn, Options{})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			_, rerr := OpenReader(ctx, tt.dsn, Options{})
			if rerr == nil {
				t.Fatal("OpenReader succeeded")
			}
			for _, e := range []error{err, rerr} {
				if strings.Contains(e.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", e), pw) {
					t.Errorf("error shows the password: %v", e)
				}
			}
			t.Log(err)
		})
	}
}

// TestServerRestart stops the server under an open store: writes fail
// while it is down and change nothing, and once it is back the pool
// reconnects and the next refresh writes every change since the last
// commit; nothing committed is lost.
func TestServerRestart(t *testing.T) {
	srv := pgtest.New(t)
	s, err := Open(t.Context(), srv.Schema(t, pgtest.Unique(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	record(t, s, t0, spot("1a", 30, time.Time{}), spot("1b", 31, time.Time{}))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(10 * time.Minute)
	q := []price.Quote{spot("1a", 32, time.Time{})}
	if _, err := s.Record(t.Context(), store.Poll{Provider: "aws", Start: end, OK: true}, &price.Snapshot{Provider: "aws", Time: end, Quotes: q}); err == nil {
		t.Fatal("Record succeeded with the server down")
	}
	if _, err := s.History(t.Context(), store.Query{}); err == nil {
		t.Fatal("History succeeded with the server down")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if res := record(t, s, t0.Add(20*time.Minute), q...); res != (store.Result{Points: 1, Withdrawals: 1}) {
		t.Errorf("first refresh after the restart: %+v, want 1a's change and 1b's withdrawal", res)
	}
	want := map[string][]string{"1a": {"01-01 30", "01-01 32"}, "1b": {"01-01 31", "01-01 withdrawn"}}
	if got := historyOf(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("History after the restart: %v, want %v", got, want)
	}
}

// TestBackfillCancelled cancels a backfill once its first batch is
// committed: the batches in flight are rolled back, the Result counts what
// stayed, and a re-run writes exactly what is missing.
func TestBackfillCancelled(t *testing.T) {
	s := openTest(t, pgtest.Unique(t), Options{BackfillBatch: 1000})
	defer s.Close()
	var quotes []price.Quote
	for z := range 40 {
		for k := range 1000 {
			quotes = append(quotes, spot(fmt.Sprintf("z%03d", z), float64(k%5), t0.Add(time.Duration(k)*time.Minute)))
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	s.afterBatch = cancel // once a first batch is committed
	first, err := s.Backfill(ctx, quotes)
	s.afterBatch = nil
	if !errors.Is(err, context.Canceled) || first.Points == 0 || first.Points >= len(quotes) {
		t.Fatalf("cancelled Backfill: %+v, %v; want some batches written and a cancellation error", first, err)
	}
	var n int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM points").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != first.Points || first.NewSeries != 40 {
		t.Fatalf("cancelled Backfill reported %+v (%v), the database holds %d points", first, err, n)
	}
	rest, err := s.Backfill(t.Context(), quotes)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Result{Points: len(quotes) - first.Points, Skipped: first.Points}); rest != want {
		t.Errorf("re-run after cancellation: %+v, want %+v", rest, want)
	}
}
