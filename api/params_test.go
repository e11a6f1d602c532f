package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// checkError checks that rec is a JSON error whose message is want.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if len(body) != 1 || body["error"] != want {
		t.Errorf("error\n got %q\nwant %q", body["error"], want)
	}
}

func TestBadParameters(t *testing.T) {
	const pricesParams = "provider, instance_type, region, zone, geo, pricing_model, gpu_model, gpu_form, gpu_memory_gb, gpu_count, max_gpu_usd_per_hour, sort, limit, format"
	const historyTakes = "provider, instance_type, region, zone, geo, pricing_model, gpu_model, gpu_form, gpu_memory_gb, gpu_count, start, end, step, agg, by, price, stale_after, format"
	tests := []struct {
		name, target, want string
	}{
		{"misspelt filter", "/api/v1/prices?provder=aws",
			`unknown parameter "provder"; this endpoint takes ` + pricesParams},
		{"bad query string", "/api/v1/prices?gpu_model=%zz",
			`bad query string: invalid URL escape "%zz"`},
		{"pricing_model", "/api/v1/prices?pricing_model=cheap",
			`bad parameter "pricing_model": "cheap" is not one of on_demand, spot, reserved_1y, reserved_3y, amortized, fixed`},
		{"one bad value among several", "/api/v1/prices?pricing_model=spot,ondemand",
			`bad parameter "pricing_model": "ondemand" is not one of on_demand, spot, reserved_1y, reserved_3y, amortized, fixed`},
		{"geo", "/api/v1/prices?geo=mars",
			`bad parameter "geo": "mars" is not one of na, sa, eu, asia, oc, me, af`},
		{"gpu_form", "/api/v1/cheapest?gpu_form=oam",
			`bad parameter "gpu_form": "oam" is not one of sxm, pcie`},
		{"gpu_memory_gb not a number", "/api/v1/prices?gpu_memory_gb=lots",
			`bad parameter "gpu_memory_gb": "lots" is not a number: allowed (0, 1000000]`},
		{"gpu_memory_gb negative", "/api/v1/prices?gpu_memory_gb=-80",
			`bad parameter "gpu_memory_gb": "-80" is out of range: allowed (0, 1000000]`},
		{"gpu_count zero", "/api/v1/history?gpu_count=0",
			`bad parameter "gpu_count": "0" is out of range: allowed (0, 1000000]`},
		{"gpu_count too small", "/api/v1/offers?gpu_count=0.00001",
			`bad parameter "gpu_count": "0.00001" rounds to 0 at 4 decimals`},
		{"max_gpu_usd_per_hour", "/api/v1/prices?max_gpu_usd_per_hour=cheap",
			`bad parameter "max_gpu_usd_per_hour": "cheap" is not a number: allowed [0, 1000000]`},
		{"max_gpu_usd_per_hour negative", "/api/v1/cheapest?max_gpu_usd_per_hour=-1",
			`bad parameter "max_gpu_usd_per_hour": "-1" is out of range: allowed [0, 1000000]`},
		{"sort", "/api/v1/prices?sort=price",
			`bad parameter "sort": "price" is not one of gpu_usd_per_hour, usd_per_hour, provider, gpu_model (prefix - to sort descending)`},
		{"sort double minus", "/api/v1/offers?sort=--provider",
			`bad parameter "sort": "--provider" is not one of gpu_usd_per_hour, usd_per_hour, provider, gpu_model (prefix - to sort descending)`},
		{"limit zero", "/api/v1/prices?limit=0", `bad parameter "limit": "0" is out of range: allowed whole numbers in [1, 10000000]`},
		{"limit not a number", "/api/v1/cheapest?limit=ten", `bad parameter "limit": "ten" is not a number: allowed whole numbers in [1, 10000000]`},
		{"gpu_memory_gb huge", "/api/v1/prices?gpu_memory_gb=1e308",
			`bad parameter "gpu_memory_gb": "1e308" is out of range: allowed (0, 1000000]`},
		{"gpu_count beyond float64", "/api/v1/prices?gpu_count=1e400",
			`bad parameter "gpu_count": "1e400" is out of range: allowed (0, 1000000]`},
		{"gpu_count NaN", "/api/v1/prices?gpu_count=NaN",
			`bad parameter "gpu_count": "NaN" is not a number: allowed (0, 1000000]`},
		{"max_gpu_usd_per_hour infinite", "/api/v1/prices?max_gpu_usd_per_hour=Inf",
			`bad parameter "max_gpu_usd_per_hour": "Inf" is out of range: allowed [0, 1000000]`},
		{"limit fractional", "/api/v1/prices?limit=2.5", `bad parameter "limit": "2.5" is out of range: allowed whole numbers in [1, 10000000]`},
		{"limit beyond int", "/api/v1/prices?limit=99999999999999999999", `bad parameter "limit": "99999999999999999999" is out of range: allowed whole numbers in [1, 10000000]`},
		{"limit twice", "/api/v1/prices?limit=1&limit=2", `bad parameter "limit": given 2 times (1, 2); it takes one value`},
		{"format", "/api/v1/prices?format=xml", `bad parameter "format": "xml" is not json or csv`},
		{"history parameter on prices", "/api/v1/prices?start=0",
			`unknown parameter "start"; this endpoint takes ` + pricesParams},
		{"start", "/api/v1/history?start=yesterday",
			`bad parameter "start": "yesterday" is neither RFC 3339 nor unix seconds`},
		{"end", "/api/v1/history?end=2025-13-01T00:00:00Z",
			`bad parameter "end": "2025-13-01T00:00:00Z" is neither RFC 3339 nor unix seconds`},
		{"milliseconds", "/api/v1/history?start=1748779200000",
			`bad parameter "start": "1748779200000" is out of range: allowed unix seconds in (-1e11, 1e11) or an RFC 3339 time (milliseconds given?)`},
		{"start after end", "/api/v1/history?start=2025-06-02T00:00:00Z&end=2025-06-01T00:00:00Z",
			`bad parameter "start": "2025-06-02T00:00:00Z" is after end 2025-06-01T00:00:00Z`},
		{"step", "/api/v1/history?step=fast",
			`bad parameter "step": "fast" is neither a duration (like 1h or 1d) nor seconds`},
		{"step zero", "/api/v1/history?step=0s", `bad parameter "step": "0s" is out of range: allowed [1ms, 100y]`},
		{"step negative", "/api/v1/history?step=-3600", `bad parameter "step": "-3600" is out of range: allowed [1ms, 100y]`},
		{"step beyond a century", "/api/v1/history?step=1000y", `bad parameter "step": "1000y" is out of range: allowed [1ms, 100y]`},
		{"step in seconds beyond a century", "/api/v1/history?step=1e300", `bad parameter "step": "1e300" is out of range: allowed [1ms, 100y]`},
		{"step infinite", "/api/v1/history?step=Inf", `bad parameter "step": "Inf" is out of range: allowed [1ms, 100y]`},
		{"stale_after NaN", "/api/v1/history?stale_after=NaN", `bad parameter "stale_after": "NaN" is out of range: allowed [1ms, 100y]`},
		{"start NaN", "/api/v1/history?start=NaN", `bad parameter "start": "NaN" is neither RFC 3339 nor unix seconds`},
		{"end infinite", "/api/v1/history?end=-Inf",
			`bad parameter "end": "-Inf" is out of range: allowed unix seconds in (-1e11, 1e11) or an RFC 3339 time (milliseconds given?)`},
		{"agg", "/api/v1/history?step=1h&agg=median", `bad parameter "agg": "median" is not one of min, max, avg, p10, p50, p90`},
		{"agg without step", "/api/v1/history?agg=min",
			`missing parameter "step": agg=min aggregates samples taken every step (e.g. step=1h)`},
		{"price filter on history", "/api/v1/history?max_gpu_usd_per_hour=3",
			`unknown parameter "max_gpu_usd_per_hour"; this endpoint takes ` + historyTakes},
		{"sort on history", "/api/v1/history?sort=provider",
			`unknown parameter "sort"; this endpoint takes ` + historyTakes},
		{"filter on providers", "/api/v1/providers?gpu_model=H100",
			`unknown parameter "gpu_model"; this endpoint takes provider, format`},
		{"format on providers", "/api/v1/providers?format=yaml", `bad parameter "format": "yaml" is not json or csv`},
		{"filter on gpus", "/api/v1/gpus?region=us", `unknown parameter "region"; this endpoint takes provider, format`},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A CSV request gets a JSON error too.
			for _, target := range []string{tt.target, tt.target + "&format=csv"} {
				if strings.Contains(tt.target, "format=") {
					target = tt.target
				}
				rec := ts.do(http.MethodGet, target)
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("%s: status %d, want 400: %s", target, rec.Code, rec.Body)
				}
				checkError(t, rec, tt.want)
			}
		})
	}
}
