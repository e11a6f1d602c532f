package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzPaths are the GET endpoints that take parameters.
var fuzzPaths = []string{
	"/api/v1/prices", "/api/v1/offers", "/api/v1/cheapest", "/api/v1/history", "/api/v1/history/stats",
	"/api/v1/export", "/api/v1/providers", "/api/v1/gpus", "/api/v1/breakeven", "/",
}

// FuzzQuery: any query string on any endpoint gets an answer, never a
// panic or a 500: a 400 naming what is wrong, or a 200 whose JSON (when it
// is JSON) parses, with no NaN or infinity in it.
func FuzzQuery(f *testing.F) {
	for _, s := range []struct {
		path  uint8
		query string
	}{
		{0, "gpu_model=H100,A100&sort=-usd_per_hour&limit=3"},
		{0, "max_gpu_usd_per_hour=1e308&gpu_count=0.1667"},
		{2, "format=csv&geo=eu"},
		{3, "start=2025-06-01T00:00:00Z&end=2025-06-02T00:00:00Z&step=1h&agg=p50&by=provider"},
		{3, "start=-1e10&step=0.001"},
		{4, "below=2.5&step=30m&agg=min"},
		{5, "format=openmetrics&resolution=4m59s&stale_after=1h"},
		{8, "gpu_model=H100&gpu_hours=1e308"},
		{8, "gpu_model=H100&baseline_gpus=8&peak_gpus=8&peak_hours=730&months=600&window=100y&step=1s"},
		{9, "limit=500&chart_range=30d&gpu_model=H100"},
		{1, "%zz"},
	} {
		f.Add(s.path, s.query)
	}
	ts := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, path uint8, query string) {
		target := fuzzPaths[int(path)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.URL.RawQuery = target, query
		rec := httptest.NewRecorder()
		ts.mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("GET %s?%s: %d %.300s", target, query, rec.Code, rec.Body)
		}
		// JSON has no NaN or infinity: a hand-written encoder that wrote
		// one would give invalid JSON.
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("GET %s?%s: %d, invalid JSON %.300s", target, query, rec.Code, rec.Body)
		}
	})
}
