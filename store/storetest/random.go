package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// RandomHistory writes into s a random history of a few series of three
// providers over about ten days from t0 (see randomStart): refreshes with
// changes, withdrawals, returns and series first seen mid-way, failed
// refreshes, backfills out of order (days already written among them,
// repeated points, points at the very millisecond of a refresh's), and
// retention cuts; a store that packs its history (a Packer) packs now and
// then among them. It is the workload on which a store's ways of reading
// history are compared (Agree).
func RandomHistory(t *testing.T, s store.Store, seed uint64) {
	t.Helper()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 17))
	providers := []string{"aws", "vastai", "runpod"}
	// runpod's series are priced in EUR, so that the amounts in the
	// provider's currency are read back too.
	series := func(p string, j int) price.Quote {
		q := price.Quote{Provider: p, InstanceType: fmt.Sprintf("t%d", j%3), Region: fmt.Sprintf("r%d", j%2), Zone: fmt.Sprintf("z%d", j),
			Geo: "eu", PricingModel: price.Spot, GPUModel: []string{"H100", "A100"}[j%2], GPUMemoryGB: 80, GPUCount: float64(1 + j%4)}
		if p == "runpod" {
			q.Currency = "EUR"
		}
		return q
	}
	// A minute grid with seconds and milliseconds thrown in, crossing
	// midnights (t0 is at noon).
	now := t0
	for step := range 400 {
		now = now.Add(time.Duration(rng.IntN(90))*time.Minute + time.Duration(rng.IntN(60_000))*time.Millisecond)
		p := providers[rng.IntN(len(providers))]
		switch r := rng.IntN(20); {
		case r == 0:
			poll := store.Poll{Provider: p, Start: now.Add(-time.Second), Duration: time.Second, Error: "503"}
			if _, err := s.Record(ctx, poll, nil); err != nil {
				t.Fatal(err)
			}
		case r == 1:
			// A backfill: points of any time so far, some on days
			// written already, some repeated.
			var qs []price.Quote
			for range rng.IntN(30) {
				q := series(p, rng.IntN(6))
				q.USDPerHour = float64(1+rng.IntN(50)) / 8
				q.CurrencyPerHour = eurOf(&q)
				q.EffectiveAt = t0.Add(-48*time.Hour + time.Duration(rng.Int64N(int64(now.Sub(t0)+48*time.Hour))))
				q.EffectiveAt = q.EffectiveAt.Truncate(time.Millisecond)
				qs = append(qs, q)
				if rng.IntN(4) == 0 {
					qs = append(qs, q)
				}
			}
			if _, err := s.Backfill(ctx, qs); err != nil {
				t.Fatal(err)
			}
		case r == 3 || r == 4:
			if pk, ok := s.(Packer); ok {
				if err := pk.Pack(ctx); err != nil {
					t.Fatal(err)
				}
			}
		case r == 2 && step > 200:
			cut := t0.Add(time.Duration(rng.Int64N(int64(now.Sub(t0) / 2))))
			if _, err := s.DeleteBefore(ctx, cut); err != nil {
				t.Fatal(err)
			}
		default:
			// A refresh listing a random subset of the provider's
			// series (the others withdrawn), some prices changed.
			snap := &price.Snapshot{Provider: p, Time: now}
			for j := range 6 {
				if rng.IntN(5) == 0 {
					continue
				}
				q := series(p, j)
				q.USDPerHour = float64(1+j+rng.IntN(3)) / 4
				q.CurrencyPerHour = eurOf(&q)
				q.ObservedAt = now
				snap.Quotes = append(snap.Quotes, q)
			}
			poll := store.Poll{Provider: p, Start: now.Add(-2 * time.Second), Duration: 2 * time.Second, OK: true, Quotes: len(snap.Quotes)}
			if _, err := s.Record(ctx, poll, snap); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Packer is a store that keeps a packed copy of its history (see
// store/internal/blocks); Pack brings it up to date.
type Packer interface {
	Pack(ctx context.Context) error
}

// RandomQueries returns history queries over the span of RandomHistory:
// open and closed bounds anywhere (on midnights and milliseconds too),
// with and without label filters.
func RandomQueries(seed uint64, n int) []store.Query {
	rng := rand.New(rand.NewPCG(seed, 29))
	tm := func() time.Time {
		switch rng.IntN(6) {
		case 0:
			return time.Time{}
		case 1: // a midnight
			return t0.Truncate(24 * time.Hour).Add(time.Duration(rng.IntN(14)-2) * 24 * time.Hour)
		}
		return t0.Add(time.Duration(rng.Int64N(int64(14*24*time.Hour))) - 48*time.Hour).Truncate(time.Millisecond)
	}
	qs := []store.Query{{}}
	for range n {
		q := store.Query{Start: tm(), End: tm()}
		if !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start) && rng.IntN(4) != 0 {
			q.Start, q.End = q.End, q.Start
		}
		switch rng.IntN(4) {
		case 0:
			q.Provider = []string{"aws", "vastai", "runpod"}[rng.IntN(3)]
		case 1:
			q.GPUModel = "H100"
		}
		qs = append(qs, q)
	}
	return qs
}

// Agree checks that s.History, s.HistoryEach (and HistoryScan, when s is a
// store.Scanner) answer every query as
// want does: another way of reading the same store (its points table,
// read straight), and, when s is a store.Counter, that Count counts what
// History returns. The times of points must be equal, not just the same
// instant.
func Agree(t *testing.T, s store.Store, queries []store.Query, want func(store.Query) ([]store.Series, error)) {
	t.Helper()
	all, err := want(store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	n, withdrawn := 0, 0
	for _, sr := range all {
		n += len(sr.Points)
		for _, p := range sr.Points {
			if p.Withdrawn {
				withdrawn++
			}
		}
	}
	if len(all) < 10 || n < 300 || withdrawn < 10 {
		t.Fatalf("the history has %d series, %d points, %d withdrawals: too few to compare", len(all), n, withdrawn)
	}
	if pt, ok := s.(store.PollTimer); ok {
		agreePollTimes(t, s, pt)
	}
	// Bounds on points and next to them, and on their midnights.
	queries = slices.Clone(queries)
	for i, sr := range all {
		for j := i % 23; j < len(sr.Points); j += 23 {
			pt := sr.Points[j].Time
			midnight := pt.Truncate(24 * time.Hour)
			queries = append(queries, store.Query{Start: pt}, store.Query{End: pt}, store.Query{Start: pt, End: pt},
				store.Query{Start: pt.Add(time.Millisecond), End: pt.Add(36 * time.Hour)},
				store.Query{Start: pt.Add(-time.Millisecond), End: pt.Add(-time.Millisecond)},
				store.Query{Start: midnight, End: midnight.Add(24*time.Hour - time.Millisecond)},
				store.Query{Start: midnight.Add(-time.Millisecond), End: midnight})
		}
	}
	for _, q := range queries {
		w, err := want(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		got, err := s.History(t.Context(), q)
		if err != nil {
			t.Fatalf("History(%+v): %v", q, err)
		}
		if len(got) != len(w) || (len(w) > 0 && !reflect.DeepEqual(got, w)) {
			t.Errorf("History(start %s, end %s, provider %q, gpu %q) differs:\n got %s\nwant %s",
				formatTime(q.Start), formatTime(q.End), q.Provider, q.GPUModel, show(got), show(w))
			continue
		}
		var each []store.Series
		if err := s.HistoryEach(t.Context(), q, func(sr store.Series) error { each = append(each, sr); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(each, got) {
			t.Errorf("HistoryEach(%+v) differs from History", q)
		}
		if sc, ok := s.(store.Scanner); ok {
			var lent []store.Series
			if err := sc.HistoryScan(t.Context(), q, func(sr store.Series) error {
				sr.Points = slices.Clone(sr.Points) // lent until fn returns
				lent = append(lent, sr)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(lent, got) {
				t.Errorf("HistoryScan(%+v) differs from History", q)
			}
		}
		if c, ok := s.(store.Counter); ok {
			counts, err := c.Count(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			var want []store.SeriesCount
			for _, sr := range got {
				want = append(want, store.SeriesCount{Labels: sr.Labels, Points: len(sr.Points),
					First: sr.Points[0].Time, Last: sr.Points[len(sr.Points)-1].Time})
			}
			if !reflect.DeepEqual(counts, want) {
				t.Errorf("Count(%+v) = %s, want %s", q, show(counts), show(want))
			}
		}
	}
}

// eurOf is q's price in its currency: 0.9 of its USD price for EUR, none
// for USD.
func eurOf(q *price.Quote) float64 {
	if q.Currency == "" {
		return 0
	}
	return q.USDPerHour * 0.9
}

// agreePollTimes checks that PollTimes gives the refreshes Polls does, over
// the whole log and a window of it.
func agreePollTimes(t *testing.T, s store.Store, pt store.PollTimer) {
	t.Helper()
	type times struct {
		provider   string
		start, end int64
		ok         bool
	}
	all, err := s.Polls(t.Context(), "", time.Time{}, time.Time{})
	if err != nil || len(all) < 8 {
		t.Fatalf("%d refreshes logged (%v): too few to compare", len(all), err)
	}
	for _, w := range [][2]time.Time{{}, {all[len(all)/2].Start, all[len(all)*3/4].Start}} {
		polls, err := s.Polls(t.Context(), "", w[0], w[1])
		if err != nil {
			t.Fatal(err)
		}
		var want, got []times
		for _, p := range polls {
			want = append(want, times{p.Provider, p.Start.UnixMilli(), p.End().UnixMilli(), p.OK})
		}
		if err := pt.PollTimes(t.Context(), w[0], w[1], func(provider string, start, end int64, ok bool) {
			got = append(got, times{provider, start, end, ok})
		}); err != nil {
			t.Fatal(err)
		}
		order := func(a, b times) int {
			return cmp.Or(strings.Compare(a.provider, b.provider), cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
		}
		slices.SortFunc(want, order)
		slices.SortFunc(got, order)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("PollTimes(%v, %v) gave %d refreshes, Polls %d, or others", w[0], w[1], len(got), len(want))
		}
	}
}
