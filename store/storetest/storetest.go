// Package storetest is the contract suite of store.Store: one set of named
// subtests, with hand-computed expectations, that every implementation runs
// (store/sqlite and store/postgres), so that they cannot drift apart.
//
// Times and durations in the suite are whole milliseconds, the coarsest
// resolution an implementation may store (SQLite stores milliseconds).
package storetest

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Opener opens the store kept in dir. The suite gives every subtest a
// fresh, empty dir, and may close the store and call Opener again with the
// same dir, which must reopen the same data. An implementation without
// files (PostgreSQL) derives a database or schema name from dir.
type Opener func(t *testing.T, dir string) store.Store

// Run runs the contract suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	t.Run("Record", func(t *testing.T) { testRecord(t, open) })
	t.Run("Backfill", func(t *testing.T) { testBackfill(t, open) })
	t.Run("History", func(t *testing.T) { testHistory(t, open) })
	t.Run("HistoryEach", func(t *testing.T) { testHistoryEach(t, open) })
	t.Run("LastKnown", func(t *testing.T) { testLastKnown(t, open) })
	t.Run("DeleteBefore", func(t *testing.T) { testDeleteBefore(t, open) })
	t.Run("Polls", func(t *testing.T) { testPolls(t, open) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Currency", func(t *testing.T) { testCurrency(t, open) })
	t.Run("Count", func(t *testing.T) { testCount(t, open) })
}

// t0 is the suite's origin; at(m) is m minutes after it, and points print
// as "@m price".
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(minute int) time.Time { return t0.Add(time.Duration(minute) * time.Minute) }

// The fixtures: a few real-looking shapes from several providers.

func awsH100() price.Quote {
	return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Geo: "na",
		PricingModel: price.OnDemand, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8,
		GPURaw: "H100", USDPerHour: 98.32}
}

func awsH100Spot() price.Quote {
	q := awsH100()
	q.Zone, q.PricingModel, q.USDPerHour = "us-east-1a", price.Spot, 30.5
	return q
}

func azureA10() price.Quote {
	return price.Quote{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu",
		PricingModel: price.OnDemand, GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1.0 / 6,
		GPURaw: "A10", USDPerHour: 0.454}
}

func gcpL4() price.Quote {
	return price.Quote{Provider: "gcp", InstanceType: "g2-standard-4", Region: "europe-west4", Geo: "eu",
		PricingModel: price.Spot, GPUModel: "L4", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1,
		GPURaw: "nvidia-l4", USDPerHour: 0.2822}
}

func vastaiRTX4090() price.Quote {
	return price.Quote{Provider: "vastai", InstanceType: "2x_RTX4090", Region: "se", Geo: "eu",
		PricingModel: price.Spot, GPUModel: "RTX4090", GPUMemoryGB: 24, GPUCount: 2,
		GPURaw: "RTX 4090", USDPerHour: 0.61}
}

func priced(q price.Quote, usd float64) price.Quote {
	q.USDPerHour = usd
	return q
}

// backfilled is q as a backfill point effective at minute, observed later.
func backfilled(q price.Quote, minute int, usd float64) price.Quote {
	q.USDPerHour, q.EffectiveAt, q.ObservedAt = usd, at(minute), at(1000)
	return q
}

func key(q price.Quote) string { return q.Key().String() }

// harness is one subtest's store, which it can close and reopen.
type harness struct {
	t    *testing.T
	open Opener
	dir  string
	s    store.Store
}

func newHarness(t *testing.T, open Opener) *harness {
	t.Helper()
	h := &harness{t: t, open: open, dir: t.TempDir()}
	h.s = open(t, h.dir)
	t.Cleanup(func() {
		if h.s != nil {
			if err := h.s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return h
}

func (h *harness) reopen() {
	h.t.Helper()
	if err := h.s.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	h.s = nil
	h.s = h.open(h.t, h.dir)
}

// refresh records a successful refresh of provider that ended at minute
// (it started 3 s earlier), listing quotes.
func (h *harness) refresh(minute int, provider string, quotes ...price.Quote) store.Result {
	h.t.Helper()
	end := at(minute)
	for i := range quotes {
		quotes[i].ObservedAt = end
	}
	poll := store.Poll{Provider: provider, Start: end.Add(-3 * time.Second), Duration: 3 * time.Second, OK: true, Quotes: len(quotes)}
	res, err := h.s.Record(h.t.Context(), poll, &price.Snapshot{Provider: provider, Time: end, Quotes: quotes})
	if err != nil {
		h.t.Fatalf("Record(%s @%d): %v", provider, minute, err)
	}
	return res
}

// fail records a failed refresh of provider that ended at minute.
func (h *harness) fail(minute int, provider string) store.Result {
	h.t.Helper()
	poll := store.Poll{Provider: provider, Start: at(minute).Add(-3 * time.Second), Duration: 3 * time.Second,
		Error: "GET /prices: 503 Service Unavailable"}
	res, err := h.s.Record(h.t.Context(), poll, nil)
	if err != nil {
		h.t.Fatalf("Record(failed %s @%d): %v", provider, minute, err)
	}
	return res
}

func (h *harness) backfill(quotes ...price.Quote) store.Result {
	h.t.Helper()
	res, err := h.s.Backfill(h.t.Context(), quotes)
	if err != nil {
		h.t.Fatalf("Backfill: %v", err)
	}
	return res
}

// history returns the points of the series matching q, as "@minute price"
// strings per series key.
func (h *harness) history(q store.Query) map[string][]string {
	h.t.Helper()
	series, err := h.s.History(h.t.Context(), q)
	if err != nil {
		h.t.Fatalf("History(%+v): %v", q, err)
	}
	// HistoryEach streams exactly what History returns.
	var streamed []store.Series
	err = h.s.HistoryEach(h.t.Context(), q, func(sr store.Series) error {
		streamed = append(streamed, sr)
		return nil
	})
	if err != nil {
		h.t.Fatalf("HistoryEach(%+v): %v", q, err)
	}
	if !reflect.DeepEqual(streamed, series) {
		h.t.Errorf("HistoryEach(%+v) streamed\n%+v\nHistory returned\n%+v", q, streamed, series)
	}
	out := map[string][]string{}
	for _, sr := range series {
		k := key(sr.Labels)
		if _, dup := out[k]; dup {
			h.t.Errorf("History returned series %s twice", k)
		}
		pts := []string{}
		for i, p := range sr.Points {
			if i > 0 && !p.Time.After(sr.Points[i-1].Time) {
				h.t.Errorf("History: series %s: points not in time order: %v", k, sr.Points)
			}
			pts = append(pts, formatPoint(p))
		}
		out[k] = pts
	}
	return out
}

func (h *harness) all() map[string][]string { return h.history(store.Query{}) }

func formatPoint(p store.Point) string {
	when := formatTime(p.Time)
	if p.Withdrawn {
		if p.USDPerHour != 0 {
			return fmt.Sprintf("%s withdrawn with price %g", when, p.USDPerHour)
		}
		return when + " withdrawn"
	}
	if p.CurrencyPerHour != 0 {
		return fmt.Sprintf("%s %g (%g)", when, p.USDPerHour, p.CurrencyPerHour)
	}
	return fmt.Sprintf("%s %g", when, p.USDPerHour)
}

// formatTime renders t as "@minutes" after t0 (or "@duration" when not on
// a whole minute); the zero time is "zero".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	if d := t.Sub(t0); d%time.Minute != 0 {
		return "@" + d.String()
	}
	return fmt.Sprintf("@%d", t.Sub(t0)/time.Minute)
}

// lastKnown renders LastKnown as provider → "Time: quote labels price...".
func (h *harness) lastKnown() map[string][]string {
	h.t.Helper()
	snaps, err := h.s.LastKnown(h.t.Context())
	if err != nil {
		h.t.Fatalf("LastKnown: %v", err)
	}
	out := map[string][]string{}
	for _, s := range snaps {
		if _, dup := out[s.Provider]; dup {
			h.t.Errorf("LastKnown returned provider %s twice", s.Provider)
		}
		lines := []string{"time " + formatTime(s.Time)}
		for _, q := range s.Quotes {
			if q.Provider != s.Provider {
				h.t.Errorf("LastKnown: quote %s in the snapshot of %s", key(q), s.Provider)
			}
			lines = append(lines, formatQuote(q))
		}
		slices.Sort(lines[1:])
		out[s.Provider] = lines
	}
	return out
}

// formatQuote renders every label and the price of q.
func formatQuote(q price.Quote) string {
	s := fmt.Sprintf("%s geo=%s gpu=%s/%s/%s raw=%q usd=%g", key(q), q.Geo, q.GPUModel, q.GPUForm,
		price.FormatNumber(q.GPUMemoryGB), q.GPURaw, q.USDPerHour)
	if q.Currency != "" || q.CurrencyPerHour != 0 {
		s += fmt.Sprintf(" %s=%g", q.Currency, q.CurrencyPerHour)
	}
	return s
}

func (h *harness) polls(provider string, start, end time.Time) []string {
	h.t.Helper()
	polls, err := h.s.Polls(h.t.Context(), provider, start, end)
	if err != nil {
		h.t.Fatalf("Polls: %v", err)
	}
	out := []string{}
	for _, p := range polls {
		out = append(out, formatPoll(p))
	}
	return out
}

func formatPoll(p store.Poll) string {
	s := fmt.Sprintf("%s %s+%s ok=%t quotes=%d", p.Provider, p.Start.Sub(t0), p.Duration, p.OK, p.Quotes)
	if p.Error != "" {
		s += " error=" + p.Error
	}
	return s
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

// show prints maps one entry per line, sorted, so that diffs read well.
func show(v any) string {
	if m, ok := v.(map[string][]string); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			fmt.Fprintf(&b, "\n\t%s: %q", k, m[k])
		}
		b.WriteString("\n}")
		return b.String()
	}
	return fmt.Sprintf("%+v", v)
}

// step is one refresh in a table-driven sequence.
type step struct {
	minute   int
	provider string        // default aws
	quotes   []price.Quote // what a successful refresh lists
	failed   bool          // a failed refresh instead
	want     store.Result
}

func (h *harness) run(steps []step) {
	h.t.Helper()
	for _, s := range steps {
		p := s.provider
		if p == "" {
			p = "aws"
		}
		var got store.Result
		if s.failed {
			got = h.fail(s.minute, p)
		} else {
			got = h.refresh(s.minute, p, s.quotes...)
		}
		check(h.t, fmt.Sprintf("Result of %s refresh @%d", p, s.minute), got, s.want)
	}
}

func testRecord(t *testing.T, open Opener) {
	spot := awsH100Spot
	tests := []struct {
		name  string
		steps []step
		want  map[string][]string // History of everything afterwards
	}{{
		name: "new series",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@0 30.5"}},
	}, {
		name: "unchanged refresh writes nothing",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
			{minute: 10, quotes: []price.Quote{awsH100(), spot()}},
			{minute: 20, quotes: []price.Quote{spot(), awsH100()}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@0 30.5"}},
	}, {
		name: "price change writes one point",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
			{minute: 10, quotes: []price.Quote{awsH100(), priced(spot(), 31.25)}, want: store.Result{Points: 1}},
			{minute: 20, quotes: []price.Quote{awsH100(), priced(spot(), 30.5)}, want: store.Result{Points: 1}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@0 30.5", "@10 31.25", "@20 30.5"}},
	}, {
		name: "new series joins live ones",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 1, Points: 1}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@10 30.5"}},
	}, {
		name: "withdrawal and reappearance",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
			{minute: 10, quotes: []price.Quote{awsH100()}, want: store.Result{Withdrawals: 1}},
			{minute: 20, quotes: []price.Quote{awsH100()}},
			{minute: 30, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{Points: 1}},
			{minute: 40, quotes: []price.Quote{awsH100(), spot()}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@0 30.5", "@10 withdrawn", "@30 30.5"}},
	}, {
		name: "empty successful refresh withdraws everything",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
			{minute: 10, want: store.Result{Withdrawals: 2}},
			{minute: 20},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32", "@10 withdrawn"}, key(spot()): {"@0 30.5", "@10 withdrawn"}},
	}, {
		name: "withdrawals stay within the provider",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 0, provider: "azure", quotes: []price.Quote{azureA10()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, provider: "gcp", quotes: []price.Quote{gcpL4()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 20, provider: "azure", want: store.Result{Withdrawals: 1}},
			{minute: 30, quotes: []price.Quote{awsH100()}},
		},
		want: map[string][]string{
			key(awsH100()):  {"@0 98.32"},
			key(azureA10()): {"@0 0.454", "@20 withdrawn"},
			key(gcpL4()):    {"@10 0.2822"},
		},
	}, {
		name: "failed refresh only logs",
		steps: []step{
			{minute: 0, quotes: []price.Quote{awsH100(), spot()}, want: store.Result{NewSeries: 2, Points: 2}},
			{minute: 10, failed: true},
			{minute: 20, failed: true},
			{minute: 30, quotes: []price.Quote{awsH100(), spot()}},
		},
		want: map[string][]string{key(awsH100()): {"@0 98.32"}, key(spot()): {"@0 30.5"}},
	}, {
		name: "gpu count is rounded to 4 decimals in the key",
		steps: []step{
			{minute: 0, provider: "azure", quotes: []price.Quote{azureA10()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, provider: "azure", quotes: []price.Quote{func() price.Quote {
				q := azureA10()
				q.GPUCount = 0.16667
				return q
			}()}},
		},
		want: map[string][]string{"azure/Standard_NV6ads_A10_v5/westeurope//on_demand/0.1667": {"@0 0.454"}},
	}, {
		name: "zero price is a price",
		steps: []step{
			{minute: 0, provider: "static", quotes: []price.Quote{staticA100(1.5)}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, provider: "static", quotes: []price.Quote{staticA100(0)}, want: store.Result{Points: 1}},
			{minute: 20, provider: "static", quotes: []price.Quote{staticA100(0)}},
		},
		want: map[string][]string{key(staticA100(0)): {"@0 1.5", "@10 0"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, open)
			h.run(tt.steps)
			check(t, "History", h.all(), tt.want)
			h.reopen()
			check(t, "History after reopen", h.all(), tt.want)
		})
	}

	t.Run("failed refresh is logged", func(t *testing.T) {
		h := newHarness(t, open)
		h.run([]step{
			{minute: 0, quotes: []price.Quote{awsH100()}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, failed: true},
		})
		check(t, "Polls", h.polls("", time.Time{}, time.Time{}), []string{
			"aws -3s+3s ok=true quotes=1",
			"aws 9m57s+3s ok=false quotes=0 error=GET /prices: 503 Service Unavailable",
		})
	})

	t.Run("label update", func(t *testing.T) {
		h := newHarness(t, open)
		unknown := awsH100()
		unknown.GPUModel, unknown.GPUForm, unknown.GPUMemoryGB, unknown.GPURaw = price.Unknown, "", 0, "NVIDIA H100 80GB HBM3"
		remapped := awsH100()
		remapped.GPURaw = "NVIDIA H100 80GB HBM3"
		h.run([]step{
			{minute: 0, quotes: []price.Quote{unknown}, want: store.Result{NewSeries: 1, Points: 1}},
			{minute: 10, quotes: []price.Quote{remapped}},
		})
		for _, reopened := range []bool{false, true} {
			if reopened {
				h.reopen()
			}
			check(t, fmt.Sprintf("History gpu_model=H100 (reopened %t)", reopened),
				h.history(store.Query{GPUModel: "H100"}), map[string][]string{key(awsH100()): {"@0 98.32"}})
			check(t, fmt.Sprintf("History gpu_model=UNKNOWN (reopened %t)", reopened),
				h.history(store.Query{GPUModel: price.Unknown}), map[string][]string{})
			series, err := h.s.History(t.Context(), store.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(series) != 1 {
				t.Fatalf("History: %d series, want 1", len(series))
			}
			check(t, "labels", formatQuote(series[0].Labels), formatQuote(priced(remapped, 0)))
			check(t, "LastKnown", h.lastKnown()["aws"], []string{"time @10", formatQuote(remapped)})
		}
	})

	t.Run("invalid refresh writes nothing", func(t *testing.T) {
		ok := store.Poll{Provider: "aws", Start: at(0), Duration: time.Second, OK: true, Quotes: 1}
		failed := store.Poll{Provider: "aws", Start: at(0), Duration: time.Second, Error: "timeout"}
		snap := func(quotes ...price.Quote) *price.Snapshot {
			return &price.Snapshot{Provider: "aws", Time: at(0).Add(time.Second), Quotes: quotes}
		}
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		tests := []struct {
			name string
			ctx  context.Context
			poll store.Poll
			snap *price.Snapshot
		}{
			{"cancelled context", cancelled, ok, snap(awsH100())},
			{"snapshot of another provider", t.Context(), ok, &price.Snapshot{Provider: "gcp", Time: at(0), Quotes: []price.Quote{awsH100()}}},
			{"quote of another provider", t.Context(), ok, snap(awsH100(), gcpL4())},
			{"NaN price", t.Context(), ok, snap(priced(awsH100(), math.NaN()))},
			{"infinite price", t.Context(), ok, snap(priced(awsH100(), math.Inf(1)))},
			{"successful poll without snapshot", t.Context(), ok, nil},
			{"failed poll with snapshot", t.Context(), failed, snap(awsH100())},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newHarness(t, open)
				h.refresh(0, "aws", awsH100Spot())
				if _, err := h.s.Record(tt.ctx, tt.poll, tt.snap); err == nil {
					t.Fatal("Record succeeded")
				}
				check(t, "History", h.all(), map[string][]string{key(awsH100Spot()): {"@0 30.5"}})
				check(t, "Polls", len(h.polls("", time.Time{}, time.Time{})), 1)
				// The store's idea of the last points is unchanged too.
				check(t, "next refresh", h.refresh(10, "aws", awsH100Spot(), awsH100()), store.Result{NewSeries: 1, Points: 1})
			})
		}
	})
}

func staticA100(usd float64) price.Quote {
	return price.Quote{Provider: "static", InstanceType: "calculquebec-a100", Region: "ca-qc", Geo: "na",
		PricingModel: price.Fixed, GPUModel: "A100", GPUMemoryGB: 40, GPUCount: 1, USDPerHour: usd}
}

func testBackfill(t *testing.T, open Opener) {
	spot := awsH100Spot
	spotB := func() price.Quote {
		q := awsH100Spot()
		q.Zone = "us-east-1b"
		return q
	}
	t.Run("out of order and idempotent", func(t *testing.T) {
		h := newHarness(t, open)
		quotes := []price.Quote{
			backfilled(spot(), 30, 31), backfilled(spotB(), 20, 29), backfilled(spot(), 10, 30),
			backfilled(spotB(), 0, 28), backfilled(spot(), 20, 30.5),
		}
		want := map[string][]string{
			key(spot()):  {"@10 30", "@20 30.5", "@30 31"},
			key(spotB()): {"@0 28", "@20 29"},
		}
		check(t, "Result", h.backfill(quotes...), store.Result{NewSeries: 2, Points: 5})
		check(t, "History", h.all(), want)
		slices.Reverse(quotes)
		check(t, "Result of a re-run", h.backfill(quotes...), store.Result{Skipped: 5})
		check(t, "History after a re-run", h.all(), want)
		h.reopen()
		check(t, "Result of a re-run after reopen", h.backfill(quotes...), store.Result{Skipped: 5})
		check(t, "History after reopen", h.all(), want)
	})

	t.Run("repeated point in one call", func(t *testing.T) {
		h := newHarness(t, open)
		check(t, "Result", h.backfill(backfilled(spot(), 10, 30), backfilled(spot(), 10, 30)),
			store.Result{NewSeries: 1, Points: 1, Skipped: 1})
		check(t, "History", h.all(), map[string][]string{key(spot()): {"@10 30"}})
	})

	t.Run("observed time without effective time", func(t *testing.T) {
		h := newHarness(t, open)
		q := priced(spot(), 27)
		q.ObservedAt = at(-60)
		check(t, "Result", h.backfill(q), store.Result{NewSeries: 1, Points: 1})
		check(t, "History", h.all(), map[string][]string{key(spot()): {"@-60 27"}})
	})

	t.Run("older than the last point keeps the last point", func(t *testing.T) {
		h := newHarness(t, open)
		h.run([]step{{minute: 60, quotes: []price.Quote{priced(spot(), 31)}, want: store.Result{NewSeries: 1, Points: 1}}})
		check(t, "Result", h.backfill(backfilled(spot(), 0, 29), backfilled(spot(), 30, 30)), store.Result{Points: 2})
		check(t, "LastKnown", h.lastKnown()["aws"], []string{"time @60", formatQuote(priced(spot(), 31))})
		h.run([]step{
			{minute: 70, quotes: []price.Quote{priced(spot(), 31)}},
			{minute: 80, quotes: []price.Quote{priced(spot(), 30)}, want: store.Result{Points: 1}},
		})
		check(t, "History", h.all(), map[string][]string{key(spot()): {"@0 29", "@30 30", "@60 31", "@80 30"}})
	})

	t.Run("newer than the last point becomes the last point", func(t *testing.T) {
		h := newHarness(t, open)
		h.run([]step{{minute: 0, quotes: []price.Quote{spot()}, want: store.Result{NewSeries: 1, Points: 1}}})
		check(t, "Result", h.backfill(backfilled(spot(), 10, 32)), store.Result{Points: 1})
		h.run([]step{
			{minute: 20, quotes: []price.Quote{priced(spot(), 32)}},
			{minute: 30, quotes: []price.Quote{spot()}, want: store.Result{Points: 1}},
		})
		check(t, "History", h.all(), map[string][]string{key(spot()): {"@0 30.5", "@10 32", "@30 30.5"}})
	})

	t.Run("LastPoints resumes an incremental backfill", func(t *testing.T) {
		h := newHarness(t, open)
		h.backfill(backfilled(spot(), 30, 31), backfilled(spotB(), 20, 29), backfilled(spot(), 10, 30))
		h.refresh(40, "azure", azureA10())
		h.refresh(50, "aws", priced(spot(), 31)) // unchanged: no new point, spotB withdrawn at 50
		got, err := h.s.LastPoints(t.Context(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		sa, sb := spot(), spotB()
		want := map[price.SeriesKey]time.Time{sa.Key(): at(30), sb.Key(): at(50)}
		check(t, "LastPoints(aws)", got, want)
		h.reopen()
		got, _ = h.s.LastPoints(t.Context(), "aws")
		check(t, "LastPoints(aws) after reopen", got, want)
		none, _ := h.s.LastPoints(t.Context(), "gcp")
		check(t, "LastPoints(gcp)", len(none), 0)
	})

	t.Run("point at a recorded time is skipped", func(t *testing.T) {
		h := newHarness(t, open)
		h.run([]step{{minute: 0, quotes: []price.Quote{spot()}, want: store.Result{NewSeries: 1, Points: 1}}})
		check(t, "Result", h.backfill(backfilled(spot(), 0, 99)), store.Result{Skipped: 1})
		check(t, "History", h.all(), map[string][]string{key(spot()): {"@0 30.5"}})
	})

	t.Run("invalid input writes nothing", func(t *testing.T) {
		tests := []struct {
			name  string
			quote price.Quote
		}{
			{"NaN price", backfilled(spot(), 10, math.NaN())},
			{"no time", priced(spot(), 30)},
			{"no provider", func() price.Quote { q := backfilled(spot(), 10, 30); q.Provider = ""; return q }()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h := newHarness(t, open)
				if _, err := h.s.Backfill(t.Context(), []price.Quote{backfilled(spotB(), 0, 28), tt.quote}); err == nil {
					t.Fatal("Backfill succeeded")
				}
				check(t, "History", h.all(), map[string][]string{})
			})
		}
	})
}

func testHistory(t *testing.T, open Opener) {
	t.Run("filters", func(t *testing.T) {
		h := newHarness(t, open)
		h.refresh(0, "aws", awsH100(), awsH100Spot())
		h.refresh(0, "azure", azureA10())
		h.refresh(0, "gcp", gcpL4())
		h.refresh(0, "vastai", vastaiRTX4090())
		all := []string{key(awsH100()), key(awsH100Spot()), key(azureA10()), key(gcpL4()), key(vastaiRTX4090())}
		tests := []struct {
			name string
			q    store.Query
			want []string
		}{
			{"everything", store.Query{}, all},
			{"provider", store.Query{Provider: "aws"}, all[:2]},
			{"instance type", store.Query{InstanceType: "g2-standard-4"}, all[3:4]},
			{"region", store.Query{Region: "westeurope"}, all[2:3]},
			{"zone", store.Query{Zone: "us-east-1a"}, all[1:2]},
			{"geo", store.Query{Geo: "eu"}, all[2:]},
			{"pricing model", store.Query{PricingModel: price.Spot}, []string{all[1], all[3], all[4]}},
			{"gpu model", store.Query{GPUModel: "H100"}, all[:2]},
			{"gpu form", store.Query{GPUForm: "pcie"}, all[2:4]},
			{"gpu memory", store.Query{GPUMemoryGB: 24}, all[2:]},
			{"gpu count", store.Query{GPUCount: 8}, all[:2]},
			{"fractional gpu count", store.Query{GPUCount: 1.0 / 6}, all[2:3]},
			{"fractional gpu count as a label", store.Query{GPUCount: 0.1667}, all[2:3]},
			{"several labels", store.Query{Geo: "eu", PricingModel: price.Spot, GPUMemoryGB: 24, GPUCount: 2}, all[4:]},
			{"no match", store.Query{Provider: "aws", Geo: "eu"}, nil},
			{"unknown provider", store.Query{Provider: "lambda"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := h.history(tt.q)
				var keys []string
				for k := range got {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				check(t, "series", keys, want)
			})
		}
	})

	t.Run("range and the point in effect at start", func(t *testing.T) {
		h := newHarness(t, open)
		spot, l4 := awsH100Spot, gcpL4
		h.refresh(10, "aws", priced(spot(), 1))
		h.refresh(10, "gcp", l4())
		h.refresh(20, "aws", priced(spot(), 2))
		h.refresh(20, "gcp")
		h.refresh(30, "aws", priced(spot(), 3))
		h.refresh(40, "aws", priced(spot(), 4))
		tests := []struct {
			name       string
			start, end time.Time
			want       map[string][]string
		}{
			{"in effect before start", at(25), at(35), map[string][]string{
				key(spot()): {"@20 2", "@30 3"}, key(l4()): {"@20 withdrawn"}}},
			{"point at start", at(20), at(35), map[string][]string{
				key(spot()): {"@20 2", "@30 3"}, key(l4()): {"@20 withdrawn"}}},
			{"point at end", at(25), at(30), map[string][]string{
				key(spot()): {"@20 2", "@30 3"}, key(l4()): {"@20 withdrawn"}}},
			{"nothing in effect at start", at(5), at(15), map[string][]string{
				key(spot()): {"@10 1"}, key(l4()): {"@10 0.2822"}}},
			{"before the first point", at(0), at(5), map[string][]string{}},
			{"after the last point", at(45), at(50), map[string][]string{
				key(spot()): {"@40 4"}, key(l4()): {"@20 withdrawn"}}},
			{"open start", time.Time{}, at(25), map[string][]string{
				key(spot()): {"@10 1", "@20 2"}, key(l4()): {"@10 0.2822", "@20 withdrawn"}}},
			{"open end", at(35), time.Time{}, map[string][]string{
				key(spot()): {"@30 3", "@40 4"}, key(l4()): {"@20 withdrawn"}}},
			{"end before start", at(35), at(25), map[string][]string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				check(t, "History", h.history(store.Query{Start: tt.start, End: tt.end}), tt.want)
				check(t, "History provider=aws", h.history(store.Query{Provider: "aws", Start: tt.start, End: tt.end}),
					filterKeys(tt.want, "aws/"))
			})
		}
	})
}

// testHistoryEach checks what HistoryEach adds to History: the order of
// the series, and stopping at fn's error.
func testHistoryEach(t *testing.T, open Opener) {
	h := newHarness(t, open)
	h.refresh(0, "vastai", vastaiRTX4090())
	h.refresh(0, "aws", awsH100Spot(), awsH100())
	h.refresh(0, "gcp", gcpL4())
	h.refresh(10, "aws", priced(awsH100Spot(), 31), awsH100())

	t.Run("series in key order", func(t *testing.T) {
		var got []string
		err := h.s.HistoryEach(t.Context(), store.Query{}, func(sr store.Series) error {
			got = append(got, fmt.Sprintf("%s %d points", key(sr.Labels), len(sr.Points)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "series", got, []string{
			key(awsH100()) + " 1 points", key(awsH100Spot()) + " 2 points", key(gcpL4()) + " 1 points",
			key(vastaiRTX4090()) + " 1 points",
		})
	})

	t.Run("stops at fn's error", func(t *testing.T) {
		stop := fmt.Errorf("enough")
		calls := 0
		err := h.s.HistoryEach(t.Context(), store.Query{}, func(store.Series) error {
			calls++
			if calls == 2 {
				return stop
			}
			return nil
		})
		if err != stop || calls != 2 {
			t.Errorf("HistoryEach returned %v after %d calls, want fn's error after 2", err, calls)
		}
	})

	t.Run("series belong to fn", func(t *testing.T) {
		var kept []store.Series
		err := h.s.HistoryEach(t.Context(), store.Query{Provider: "aws"}, func(sr store.Series) error {
			kept = append(kept, sr)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) != 2 || len(kept[1].Points) != 2 || kept[1].Points[0].USDPerHour != 30.5 || kept[1].Points[1].USDPerHour != 31 {
			t.Errorf("kept series changed after the next call: %+v", kept)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := h.s.HistoryEach(ctx, store.Query{}, func(store.Series) error { return nil })
		if err == nil {
			t.Error("HistoryEach with a cancelled context succeeded")
		}
	})
}

func filterKeys(m map[string][]string, prefix string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

func testLastKnown(t *testing.T, open Opener) {
	h := newHarness(t, open)
	check(t, "LastKnown of an empty store", h.lastKnown(), map[string][]string{})

	h.refresh(0, "aws", awsH100(), awsH100Spot())
	h.refresh(10, "aws", awsH100())
	h.fail(20, "aws")
	h.backfill(backfilled(azureA10(), -60, 0.45))
	h.fail(5, "azure")
	h.refresh(0, "gcp", gcpL4())
	h.refresh(10, "gcp")
	h.fail(10, "lambda")
	h.refresh(0, "static", staticA100(0))
	want := map[string][]string{
		// last successful refresh ended @10; the spot series is withdrawn
		"aws": {"time @10", formatQuote(awsH100())},
		// backfilled only: no successful refresh yet
		"azure": {"time zero", formatQuote(priced(azureA10(), 0.45))},
		// everything withdrawn, but the refresh that said so is known
		"gcp":    {"time @10"},
		"static": {"time @0", formatQuote(staticA100(0))},
		// lambda: failed refreshes only, nothing known
	}
	check(t, "LastKnown", h.lastKnown(), want)
	h.reopen()
	check(t, "LastKnown after reopen", h.lastKnown(), want)

	// The store still knows each series' last point after reopening.
	check(t, "unchanged refresh after reopen", h.refresh(30, "aws", awsH100()), store.Result{})
	check(t, "spot series reappears after reopen", h.refresh(40, "aws", awsH100(), awsH100Spot()),
		store.Result{Points: 1})
	check(t, "refresh withdrawing after reopen", h.refresh(50, "aws"), store.Result{Withdrawals: 2})
	want["aws"] = []string{"time @50"}
	check(t, "LastKnown after more refreshes", h.lastKnown(), want)

	t.Run("returned snapshots belong to the caller", func(t *testing.T) {
		snaps, err := h.s.LastKnown(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			for i := range s.Quotes {
				s.Quotes[i].USDPerHour = -1
			}
			s.Quotes = nil
		}
		check(t, "LastKnown", h.lastKnown(), want)
	})
}

func testDeleteBefore(t *testing.T, open Opener) {
	// Refreshes end on the minute and start 3 s earlier:
	// aws  (spot a): 1 @0, 2 @10, 3 @20, 4 @30
	// gcp  (l4):     0.2822 @1, withdrawn @11, failed refresh @15
	// vastai (rtx):  0.61 @25
	a, l4, rtx := awsH100Spot, gcpL4, vastaiRTX4090
	setup := func(h *harness) {
		h.refresh(0, "aws", priced(a(), 1))
		h.refresh(1, "gcp", l4())
		h.refresh(10, "aws", priced(a(), 2))
		h.refresh(11, "gcp")
		h.fail(15, "gcp")
		h.refresh(20, "aws", priced(a(), 3))
		h.refresh(25, "vastai", rtx())
		h.refresh(30, "aws", priced(a(), 4))
	}
	full := map[string][]string{
		key(a()):   {"@0 1", "@10 2", "@20 3", "@30 4"},
		key(l4()):  {"@1 0.2822", "@11 withdrawn"},
		key(rtx()): {"@25 0.61"},
	}
	after15 := map[string][]string{
		key(a()):   {"@10 2", "@20 3", "@30 4"},
		key(l4()):  {"@11 withdrawn"},
		key(rtx()): {"@25 0.61"},
	}
	tests := []struct {
		name    string
		cut     time.Time
		deleted int64
		want    map[string][]string
		// Polls left, as provider@end: those started before the cut go,
		// except each provider's last successful one (LastKnown's time).
		polls []string
	}{
		{"before everything", at(-10), 0, full,
			[]string{"aws@0", "gcp@1", "aws@10", "gcp@11", "gcp@15 failed", "aws@20", "vastai@25", "aws@30"}},
		{"keeps the one point before the cut", at(5), 0, full,
			[]string{"aws@10", "gcp@11", "gcp@15 failed", "aws@20", "vastai@25", "aws@30"}},
		{"removes what the point in effect supersedes", at(15), 2, after15,
			[]string{"gcp@11", "aws@20", "vastai@25", "aws@30"}},
		{"keeps the last point before the cut even with one at the cut", at(20), 2, after15,
			[]string{"gcp@11", "vastai@25", "aws@30"}},
		{"after everything", at(60), 4, map[string][]string{
			key(a()):   {"@30 4"},
			key(l4()):  {"@11 withdrawn"},
			key(rtx()): {"@25 0.61"},
		}, []string{"gcp@11", "vastai@25", "aws@30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, open)
			setup(h)
			before := h.lastKnown()
			n, err := h.s.DeleteBefore(t.Context(), tt.cut)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "points deleted", n, tt.deleted)
			check(t, "History", h.all(), tt.want)
			var polls []string
			ps, err := h.s.Polls(t.Context(), "", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				s := fmt.Sprintf("%s%s", p.Provider, formatTime(p.End()))
				if !p.OK {
					s += " failed"
				}
				polls = append(polls, s)
			}
			check(t, "Polls", polls, tt.polls)
			check(t, "LastKnown", h.lastKnown(), before)

			n, err = h.s.DeleteBefore(t.Context(), tt.cut)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "points deleted by a second run", n, int64(0))
			h.reopen()
			check(t, "LastKnown after reopen", h.lastKnown(), before)
			check(t, "unchanged refresh", h.refresh(70, "aws", priced(a(), 4)), store.Result{})
		})
	}
}

func testPolls(t *testing.T, open Opener) {
	h := newHarness(t, open)
	record := func(p store.Poll) {
		t.Helper()
		var snap *price.Snapshot
		if p.OK {
			snap = &price.Snapshot{Provider: p.Provider, Time: p.End()}
		}
		if _, err := h.s.Record(t.Context(), p, snap); err != nil {
			t.Fatal(err)
		}
	}
	// Logged out of start order, as concurrent providers may finish.
	record(store.Poll{Provider: "aws", Start: at(30), Duration: 2 * time.Second, Error: "throttled"})
	record(store.Poll{Provider: "azure", Start: at(10), Duration: 1500 * time.Millisecond, OK: true, Quotes: 12})
	record(store.Poll{Provider: "aws", Start: at(20), Duration: time.Minute, OK: true, Quotes: 7})
	record(store.Poll{Provider: "aws", Start: at(0), Duration: 3 * time.Second, OK: true, Quotes: 5})
	record(store.Poll{Provider: "azure", Start: at(40), Duration: 0, Error: "dial tcp: i/o timeout"})

	tests := []struct {
		name       string
		provider   string
		start, end time.Time
		want       []string
	}{
		{"everything", "", time.Time{}, time.Time{}, []string{
			"aws 0s+3s ok=true quotes=5",
			"azure 10m0s+1.5s ok=true quotes=12",
			"aws 20m0s+1m0s ok=true quotes=7",
			"aws 30m0s+2s ok=false quotes=0 error=throttled",
			"azure 40m0s+0s ok=false quotes=0 error=dial tcp: i/o timeout",
		}},
		{"one provider", "aws", time.Time{}, time.Time{}, []string{
			"aws 0s+3s ok=true quotes=5",
			"aws 20m0s+1m0s ok=true quotes=7",
			"aws 30m0s+2s ok=false quotes=0 error=throttled",
		}},
		{"range is inclusive", "", at(10), at(30), []string{
			"azure 10m0s+1.5s ok=true quotes=12",
			"aws 20m0s+1m0s ok=true quotes=7",
			"aws 30m0s+2s ok=false quotes=0 error=throttled",
		}},
		{"provider and range", "azure", at(5), at(35), []string{
			"azure 10m0s+1.5s ok=true quotes=12",
		}},
		{"empty range", "", at(41), at(50), []string{}},
		{"unknown provider", "lambda", time.Time{}, time.Time{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, "Polls", h.polls(tt.provider, tt.start, tt.end), tt.want)
		})
	}
}

func testReopen(t *testing.T, open Opener) {
	h := newHarness(t, open)
	h.backfill(backfilled(awsH100Spot(), -30, 29), backfilled(awsH100Spot(), -20, 30))
	h.refresh(0, "aws", awsH100(), awsH100Spot())
	h.refresh(0, "azure", azureA10())
	h.fail(5, "azure")
	h.refresh(10, "aws", priced(awsH100(), 97))
	history, polls, last := h.all(), h.polls("", time.Time{}, time.Time{}), h.lastKnown()
	full, err := h.s.History(t.Context(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	h.reopen()
	check(t, "History", h.all(), history)
	check(t, "Polls", h.polls("", time.Time{}, time.Time{}), polls)
	check(t, "LastKnown", h.lastKnown(), last)
	again, err := h.s.History(t.Context(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "number of series", len(again), len(full))
	for i := range min(len(full), len(again)) {
		check(t, "labels", formatQuote(again[i].Labels), formatQuote(full[i].Labels))
	}
}

// testConcurrency reads while a writer records refreshes, so that the race
// detector sees both sides; every read must see whole refreshes.
func testConcurrency(t *testing.T, open Opener) {
	h := newHarness(t, open)
	const (
		series    = 40
		refreshes = 30
	)
	quotes := func(r int) []price.Quote {
		var qs []price.Quote
		for i := range series {
			if (i+r)%11 == 0 {
				continue // withdrawn this time
			}
			q := awsH100Spot()
			q.Zone = fmt.Sprintf("us-east-1-z%02d", i)
			q.USDPerHour = float64(20+i) + float64((r+i)/5) // changes every 5 refreshes
			qs = append(qs, q)
		}
		return qs
	}

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for reader := range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				var err error
				switch reader {
				case 0:
					var ss []store.Series
					ss, err = h.s.History(ctx, store.Query{Provider: "aws", Start: at(5)})
					for _, s := range ss {
						for i := 1; i < len(s.Points); i++ {
							if !s.Points[i].Time.After(s.Points[i-1].Time) {
								err = fmt.Errorf("History: points out of order in %s", key(s.Labels))
							}
						}
					}
				case 1:
					var ps []store.Poll
					ps, err = h.s.Polls(ctx, "aws", time.Time{}, time.Time{})
					for i := 1; i < len(ps); i++ {
						if ps[i].Start.Before(ps[i-1].Start) {
							err = fmt.Errorf("Polls out of order")
						}
					}
				case 2:
					var snaps []*price.Snapshot
					snaps, err = h.s.LastKnown(ctx)
					for _, s := range snaps {
						if n := len(s.Quotes); n > series {
							err = fmt.Errorf("LastKnown: %d quotes, at most %d exist", n, series)
						}
					}
				case 3:
					_, err = h.s.History(ctx, store.Query{GPUModel: "H100", Start: at(0), End: at(refreshes)})
				}
				if err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		})
	}
	for r := range refreshes {
		h.refresh(r, "aws", quotes(r)...)
		if r == refreshes/2 {
			h.backfill(backfilled(awsH100(), -100, 90), backfilled(awsH100(), -50, 95))
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The final state is what the refreshes say, whatever ran beside them.
	got := h.lastKnown()["aws"]
	want := []string{"time @" + fmt.Sprint(refreshes-1)}
	for _, q := range quotes(refreshes - 1) {
		want = append(want, formatQuote(q))
	}
	slices.Sort(want[1:])
	check(t, "LastKnown", got, want)
}

func scalewayH100(usd, eur float64) price.Quote {
	return price.Quote{Provider: "scaleway", InstanceType: "H100-1-80G", Region: "fr-par-2", Geo: "eu",
		PricingModel: price.OnDemand, GPUModel: "H100", GPUForm: "pcie", GPUMemoryGB: 80, GPUCount: 1,
		GPURaw: "H100-1-80G", USDPerHour: usd, Currency: "EUR", CurrencyPerHour: eur}
}

// testCurrency: a price quoted in EUR keeps its currency and amount beside
// the USD conversion, through refreshes, a backfill and a reopen; a new
// rate (same EUR, other USD) and a new EUR price (same USD) are changes.
func testCurrency(t *testing.T, open Opener) {
	h := newHarness(t, open)
	h.run([]step{
		{minute: 0, provider: "scaleway", quotes: []price.Quote{scalewayH100(3.0, 2.73)}, want: store.Result{NewSeries: 1, Points: 1}},
		{minute: 1, provider: "scaleway", quotes: []price.Quote{scalewayH100(3.0, 2.73)}},
		{minute: 2, provider: "scaleway", quotes: []price.Quote{scalewayH100(3.1, 2.73)}, want: store.Result{Points: 1}},
		{minute: 3, provider: "scaleway", quotes: []price.Quote{scalewayH100(3.1, 2.8)}, want: store.Result{Points: 1}},
		{minute: 4, provider: "scaleway", want: store.Result{Withdrawals: 1}},
	})
	q := scalewayH100(2.9, 2.6)
	q.EffectiveAt, q.ObservedAt = at(-10), at(100)
	h.backfill(q)
	k := key(scalewayH100(0, 0))
	want := map[string][]string{k: {"@-10 2.9 (2.6)", "@0 3 (2.73)", "@2 3.1 (2.73)", "@3 3.1 (2.8)", "@4 withdrawn"}}
	check(t, "History", h.all(), want)
	series, err := h.s.History(t.Context(), store.Query{})
	if err != nil || len(series) != 1 {
		t.Fatalf("History: %d series, %v", len(series), err)
	}
	check(t, "currency label", series[0].Labels.Currency, "EUR")
	h.refresh(5, "scaleway", scalewayH100(3.2, 2.9))
	wantLast := map[string][]string{"scaleway": {"time @5", k + ` geo=eu gpu=H100/pcie/80 raw="H100-1-80G" usd=3.2 EUR=2.9`}}
	check(t, "LastKnown", h.lastKnown(), wantLast)
	h.reopen()
	check(t, "LastKnown after reopen", h.lastKnown(), wantLast)
	// Unchanged after the reopen: nothing new.
	check(t, "Result of an unchanged refresh after reopen", h.refresh(6, "scaleway", scalewayH100(3.2, 2.9)), store.Result{})
}

// testCount: a store that is a store.Counter tells, for every query, what
// History returns: the same series, their number of points and the first
// and last times.
func testCount(t *testing.T, open Opener) {
	h := newHarness(t, open)
	counter, ok := h.s.(store.Counter)
	if !ok {
		t.Skip("not a store.Counter")
	}
	q := func(zone string, usd float64) price.Quote {
		q := awsH100Spot()
		q.Zone, q.USDPerHour = zone, usd
		return q
	}
	h.refresh(0, "aws", q("us-east-1a", 30), q("us-east-1b", 31))
	h.refresh(1, "aws", q("us-east-1a", 32), q("us-east-1b", 31))
	h.refresh(2, "aws", q("us-east-1a", 33)) // 1b withdrawn
	h.refresh(3, "aws", q("us-east-1a", 34), q("us-east-1b", 35), q("us-east-1c", 36))
	for _, tc := range []store.Query{
		{},
		{Start: at(0).Add(90 * time.Second)},
		{Start: at(1), End: at(2)},
		{Zone: "us-east-1b"},
		{End: at(-60)},
		{Provider: "azure"},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			series, err := h.s.History(t.Context(), tc)
			if err != nil {
				t.Fatal(err)
			}
			counts, err := counter.Count(t.Context(), tc)
			if err != nil {
				t.Fatal(err)
			}
			if len(counts) != len(series) {
				t.Fatalf("%d counts, %d series", len(counts), len(series))
			}
			for i, sr := range series {
				c := counts[i]
				if c.Labels.Key() != sr.Labels.Key() || c.Points != len(sr.Points) ||
					!c.First.Equal(sr.Points[0].Time) || !c.Last.Equal(sr.Points[len(sr.Points)-1].Time) {
					t.Errorf("series %d: count %+v, history %d points %s..%s", i, c, len(sr.Points), sr.Points[0].Time, sr.Points[len(sr.Points)-1].Time)
				}
			}
		})
	}
}
