package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/store"
)

// countingStore is the fixture store with store.Counter.
type countingStore struct{ *memStore }

func (c countingStore) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	series, err := c.History(ctx, q)
	var out []store.SeriesCount
	for _, s := range series {
		out = append(out, store.SeriesCount{Labels: s.Labels, Points: len(s.Points), First: s.Points[0].Time, Last: s.Points[len(s.Points)-1].Time})
	}
	return out, err
}

// TestExportLimit: an export that would write more rows than the limit is
// refused before anything is written, with the limit and how to page.
func TestExportLimit(t *testing.T) {
	all := 0
	for _, s := range fixtureSeries() {
		all += len(s.Points)
	}
	for _, tc := range []struct {
		name   string
		limit  int64
		target string
		status int
		want   string
	}{
		{"fits", int64(all), "/api/v1/export", 200, ""},
		{"no limit", 0, "/api/v1/export", 200, ""},
		{"one row too many", int64(all - 1), "/api/v1/export", 400,
			"the export would write 13 rows, more than this server's limit of 12 per request: page through it by time with start and end (each page starts with the point in effect at its start), e.g. start=2025-05-22T12:00:00Z&end=2025-05-27T15:00:00Z first (about 2 pages), narrow it with filters, or export from the store itself (gpuprice export --storage.path, which has no limit)"},
		{"filtered to fit", 3, "/api/v1/export?provider=azure", 200, ""},
		{"openmetrics counts samples", int64(all), "/api/v1/export?format=openmetrics&start=2025-06-01T00:00:00Z&end=2025-06-01T18:00:00Z", 400,
			"samples (at most; a coarser resolution writes fewer), more than this server's limit of 13 per request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) {
				o.Store = countingStore{o.Store.(*memStore)}
				o.MaxExportRows = tc.limit
			})
			rec := ts.do(http.MethodGet, tc.target)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, tc.status, rec.Body)
			}
			var e struct{ Error string }
			if tc.status == 400 && (json.Unmarshal(rec.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, tc.want)) {
				t.Errorf("error %s\nwant %s", rec.Body, tc.want)
			}
		})
	}
}

// blockingStore holds every HistoryEach until release is closed.
type blockingStore struct {
	*memStore
	entered chan struct{}
	release chan struct{}
}

func (b blockingStore) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	b.entered <- struct{}{}
	<-b.release
	return b.memStore.HistoryEach(ctx, q, fn)
}

// TestHeavyQueriesBounded: beyond MaxHeavyQueries running at once, a
// history query gets 429 with Retry-After at once; live prices are not
// bounded, and the slot frees when the query ends.
func TestHeavyQueriesBounded(t *testing.T) {
	bs := blockingStore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	ts := newTestServer(t, func(o *Options) {
		bs.memStore = o.Store.(*memStore)
		o.Store, o.MaxHeavyQueries = bs, 1
	})
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- ts.do(http.MethodGet, "/api/v1/export") }()
	<-bs.entered
	for _, target := range []string{"/api/v1/history?provider=aws", "/api/v1/export", "/api/v1/history/stats", "/api/v1/breakeven?gpu_model=H100&gpu_hours=10"} {
		rec := ts.do(http.MethodGet, target)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5" {
			t.Errorf("%s while an export runs: %d, Retry-After %q", target, rec.Code, rec.Header().Get("Retry-After"))
		}
		if target == "/api/v1/export" {
			checkError(t, rec, "too many history queries at once: this server runs at most 1 (history, history/stats, export, breakeven); retry in 5s")
		}
	}
	if rec := ts.do(http.MethodGet, "/api/v1/prices"); rec.Code != 200 {
		t.Errorf("prices while an export runs: %d", rec.Code)
	}
	close(bs.release)
	if rec := <-first; rec.Code != 200 {
		t.Errorf("the running export: %d", rec.Code)
	}
	go func() { <-bs.entered }()
	if rec := ts.do(http.MethodGet, "/api/v1/export"); rec.Code != 200 {
		t.Errorf("export after the first ended: %d", rec.Code)
	}
}
