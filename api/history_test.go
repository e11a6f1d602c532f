package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// The history tests query t0 .. t0+6h unless they say otherwise.
var window = fmt.Sprintf("start=%s&end=%s", t0.Format(time.RFC3339), t0.Add(6*time.Hour).Format(time.RFC3339))

// historyPoint is a point as the JSON answer has it; prices are pointers
// so that null (a withdrawal) is told from 0.
type historyPoint struct {
	Time          time.Time `json:"time"`
	USDPerHour    *float64  `json:"usd_per_hour"`
	GPUUSDPerHour *float64  `json:"gpu_usd_per_hour"`
	Withdrawn     bool      `json:"withdrawn"`
}

type historySeries struct {
	Provider     string         `json:"provider"`
	InstanceType string         `json:"instance_type"`
	Region       string         `json:"region"`
	Zone         string         `json:"zone"`
	Geo          string         `json:"geo"`
	PricingModel string         `json:"pricing_model"`
	GPUModel     string         `json:"gpu_model"`
	GPUForm      string         `json:"gpu_form"`
	GPUMemoryGB  float64        `json:"gpu_memory_gb"`
	GPUCount     float64        `json:"gpu_count"`
	Points       []historyPoint `json:"points"`
}

// pt is an expected point at t0+h hours with a per-GPU price; NaN means a
// withdrawal.
type pt struct {
	h   float64
	gpu float64
}

// render formats points for comparison: "+1h:6", "+3h:withdrawn".
func render(ps []historyPoint) []string {
	out := []string{}
	for _, p := range ps {
		s := "+" + p.Time.Sub(t0).String() + ":"
		switch {
		case p.Withdrawn && p.USDPerHour == nil && p.GPUUSDPerHour == nil:
			s += "withdrawn"
		case p.Withdrawn:
			s += "withdrawn-with-price"
		case p.GPUUSDPerHour == nil:
			s += "null"
		default:
			s += strconv.FormatFloat(*p.GPUUSDPerHour, 'f', -1, 64)
		}
		out = append(out, s)
	}
	return out
}

func want(ps ...pt) []string {
	out := []string{}
	for _, p := range ps {
		s := "+" + time.Duration(p.h*float64(time.Hour)).String() + ":"
		if math.IsNaN(p.gpu) {
			s += "withdrawn"
		} else {
			s += strconv.FormatFloat(p.gpu, 'f', -1, 64)
		}
		out = append(out, s)
	}
	return out
}

var nan = math.NaN()

func TestHistory(t *testing.T) {
	tests := []struct {
		name, query string
		// want maps "provider/instance_type" to the expected points, in
		// answer order.
		want map[string][]string
		keys []string
	}{
		{
			name:  "raw: point in effect at start, changes, withdrawals",
			query: "gpu_model=H100",
			keys:  []string{"aws/p5.48xlarge", "azure/Standard_ND96isr_H100_v5", "vastai/8x_H100"},
			want: map[string][]string{
				"aws/p5.48xlarge":                want(pt{-2, 5}, pt{1, 6}, pt{3, nan}, pt{5, 5.5}),
				"azure/Standard_ND96isr_H100_v5": want(pt{-1, 6}),
				"vastai/8x_H100":                 want(pt{2, 2}),
			},
		},
		{
			name:  "raw: a series withdrawn before start still shows its withdrawal",
			query: "gpu_model=A100",
			keys:  []string{"aws/p4d.24xlarge"},
			want:  map[string][]string{"aws/p4d.24xlarge": want(pt{-216, nan})},
		},
		{
			name:  "raw: multi-valued filters are applied after the store",
			query: "provider=azure,vastai&pricing_model=spot",
			keys:  []string{"azure/Standard_ND96isr_H100_v5", "vastai/8x_H100"},
			want: map[string][]string{
				"azure/Standard_ND96isr_H100_v5": want(pt{-1, 6}),
				"vastai/8x_H100":                 want(pt{2, 2}),
			},
		},
		{
			name:  "raw: fractional gpu_count",
			query: "gpu_count=0.1667",
			keys:  []string{"azure/Standard_NV6ads_A10_v5"},
			want:  map[string][]string{"azure/Standard_NV6ads_A10_v5": want(pt{-72, 0.454 / sixth}, pt{4, nan})},
		},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []historySeries
			ts.getJSON(t, "/api/v1/history?"+window+"&"+tt.query, &got)
			keys := []string{}
			for _, s := range got {
				key := s.Provider + "/" + s.InstanceType
				keys = append(keys, key)
				if w := tt.want[key]; !reflect.DeepEqual(render(s.Points), w) {
					t.Errorf("%s:\n got %v\nwant %v", key, render(s.Points), w)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("series %v, want %v", keys, tt.keys)
			}
		})
	}
}

// matrix is the data of a resampled answer.
type matrix struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	} `json:"result"`
}

// render shows a matrix series' samples as "+1h0m0s:6", and checks the
// format of each value: [unix seconds, "price"].
func (m *matrix) render(t *testing.T, i int) []string {
	t.Helper()
	out := []string{}
	for _, v := range m.Result[i].Values {
		sec, ok1 := v[0].(float64)
		val, ok2 := v[1].(string)
		if !ok1 || !ok2 {
			t.Fatalf("value %v is not [number, string]", v)
		}
		out = append(out, "+"+time.Unix(int64(sec), 0).Sub(t0).String()+":"+val)
	}
	return out
}

func TestHistoryMatrix(t *testing.T) {
	tests := []struct {
		name, query string
		// keys names the answer's series "provider/instance_type" (an
		// aggregate: "agg" and its by labels), want their samples.
		keys []string
		want map[string][]string
	}{
		{
			name:  "a constant series resamples to itself",
			query: "gpu_model=A10G&step=1h",
			keys:  []string{"aws/g5.xlarge"},
			want:  map[string][]string{"aws/g5.xlarge": want(pt{0, 1}, pt{1, 1}, pt{2, 1}, pt{3, 1}, pt{4, 1}, pt{5, 1}, pt{6, 1})},
		},
		{
			name:  "a withdrawal makes a gap, not a carried price",
			query: "gpu_model=H100&provider=aws&step=1h",
			keys:  []string{"aws/p5.48xlarge"},
			want:  map[string][]string{"aws/p5.48xlarge": want(pt{0, 5}, pt{1, 6}, pt{2, 6}, pt{5, 5.5}, pt{6, 5.5})},
		},
		{
			name:  "a withdrawal for good ends the series",
			query: "gpu_model=A10&step=2h",
			keys:  []string{"azure/Standard_NV6ads_A10_v5"},
			want:  map[string][]string{"azure/Standard_NV6ads_A10_v5": want(pt{0, 0.454 / sixth}, pt{2, 0.454 / sixth})},
		},
		{
			name:  "a series that has not started has no samples",
			query: "instance_type=8x_H100&step=90m",
			keys:  []string{"vastai/8x_H100"},
			want:  map[string][]string{"vastai/8x_H100": want(pt{3, 2}, pt{4.5, 2}, pt{6, 2})},
		},
		{
			name:  "step in seconds",
			query: "gpu_model=A10G&step=10800",
			keys:  []string{"aws/g5.xlarge"},
			want:  map[string][]string{"aws/g5.xlarge": want(pt{0, 1}, pt{3, 1}, pt{6, 1})},
		},
		{
			name:  "price=instance",
			query: "instance_type=8x_H100&step=3h&price=instance",
			keys:  []string{"vastai/8x_H100"},
			want:  map[string][]string{"vastai/8x_H100": want(pt{3, 16}, pt{6, 16})},
		},
		{
			name:  "a series without any sample is left out",
			query: "gpu_model=A100&step=1h",
			keys:  []string{},
		},
		{
			// At each hour: S1 (aws) 5 6 6 - - 5.5 5.5, S2 (azure) 6 at
			// every hour, S4 (vastai) 2 from +2h.
			name:  "agg=min: the cheapest series at each time",
			query: "gpu_model=H100&step=1h&agg=min",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": want(pt{0, 5}, pt{1, 6}, pt{2, 2}, pt{3, 2}, pt{4, 2}, pt{5, 2}, pt{6, 2})},
		},
		{
			name:  "agg=max",
			query: "gpu_model=H100&step=1h&agg=max",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": want(pt{0, 6}, pt{1, 6}, pt{2, 6}, pt{3, 6}, pt{4, 6}, pt{5, 6}, pt{6, 6})},
		},
		{
			name:  "agg=avg skips gaps",
			query: "gpu_model=H100&step=1h&agg=avg",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": want(pt{0, 5.5}, pt{1, 6}, pt{2, 14.0 / 3}, pt{3, 4}, pt{4, 4}, pt{5, 4.5}, pt{6, 4.5})},
		},
		{
			name:  "agg=p50 interpolates an even count",
			query: "gpu_model=H100&step=1h&agg=p50",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": want(pt{0, 5.5}, pt{1, 6}, pt{2, 6}, pt{3, 4}, pt{4, 4}, pt{5, 5.5}, pt{6, 5.5})},
		},
		{
			// At +2h: 2, 6, 6; rank 0.2 is 2 + 0.2×4, rank 1.8 is 6.
			name:  "agg=p10",
			query: "gpu_model=H100&start=2025-06-01T14:00:00Z&step=1h&agg=p10",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": want(pt{2, 2.8}, pt{3, 2.4}, pt{4, 2.4}, pt{5, 2.7}, pt{6, 2.7})},
		},
		{
			name:  "agg=min by provider",
			query: "gpu_model=H100&step=1h&agg=min&by=provider",
			keys:  []string{"agg provider=aws", "agg provider=azure", "agg provider=vastai"},
			want: map[string][]string{
				"agg provider=aws":    want(pt{0, 5}, pt{1, 6}, pt{2, 6}, pt{5, 5.5}, pt{6, 5.5}),
				"agg provider=azure":  want(pt{0, 6}, pt{1, 6}, pt{2, 6}, pt{3, 6}, pt{4, 6}, pt{5, 6}, pt{6, 6}),
				"agg provider=vastai": want(pt{2, 2}, pt{3, 2}, pt{4, 2}, pt{5, 2}, pt{6, 2}),
			},
		},
		{
			name:  "agg over series with no price in range answers no series",
			query: "gpu_model=A100&step=1h&agg=min",
			keys:  []string{},
		},
		{
			name:  "agg with nothing matched answers no series",
			query: "gpu_model=B200&step=1h&agg=min",
			keys:  []string{},
		},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got matrix
			query := tt.query
			if !strings.Contains(query, "start=") {
				query = window + "&" + query
			} else {
				query = "end=" + t0.Add(6*time.Hour).Format(time.RFC3339) + "&" + query
			}
			ts.getJSON(t, "/api/v1/history?"+query, &got)
			if got.ResultType != "matrix" {
				t.Errorf("resultType %q", got.ResultType)
			}
			keys := []string{}
			for i, r := range got.Result {
				key := r.Metric["provider"] + "/" + r.Metric["instance_type"]
				if strings.Contains(tt.query, "agg=") {
					key = "agg"
					if by := r.Metric["provider"]; strings.Contains(tt.query, "by=provider") {
						key += " provider=" + by
					}
				}
				keys = append(keys, key)
				if w := tt.want[key]; !reflect.DeepEqual(got.render(t, i), w) {
					t.Errorf("%s:\n got %v\nwant %v", key, got.render(t, i), w)
				}
			}
			if !reflect.DeepEqual(keys, tt.keys) {
				t.Errorf("series %v, want %v", keys, tt.keys)
			}
		})
	}
}

func TestHistoryMatrixLabels(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name, query string
		want        []map[string]string
	}{
		{"a store series: its metric name and non-empty labels", "provider=aws&gpu_model=H100&step=1h",
			[]map[string]string{{"__name__": "gpuprice_gpu_usd_per_hour", "provider": "aws", "instance_type": "p5.48xlarge",
				"region": "us-east-1", "zone": "us-east-1a", "geo": "na", "pricing_model": "spot", "gpu_model": "H100",
				"gpu_form": "sxm", "gpu_memory_gb": "80", "gpu_count": "8"}}},
		{"per instance", "provider=aws&gpu_model=A10G&step=1h&price=instance",
			[]map[string]string{{"__name__": "gpuprice_instance_usd_per_hour", "provider": "aws", "instance_type": "g5.xlarge",
				"region": "eu-west-1", "geo": "eu", "pricing_model": "on_demand", "gpu_model": "A10G",
				"gpu_memory_gb": "24", "gpu_count": "1"}}},
		// Shared by aws, azure and vastai H100 spot: everything but where.
		{"an aggregate: the labels its series share, no name", "gpu_model=H100&step=1h&agg=min",
			[]map[string]string{{"pricing_model": "spot", "gpu_model": "H100", "gpu_form": "sxm",
				"gpu_memory_gb": "80", "gpu_count": "8"}}},
		{"groups", "gpu_model=H100&step=1h&agg=max&by=geo",
			[]map[string]string{
				{"provider": "vastai", "instance_type": "8x_H100", "region": "se", "geo": "eu", "pricing_model": "spot",
					"gpu_model": "H100", "gpu_form": "sxm", "gpu_memory_gb": "80", "gpu_count": "8"},
				{"geo": "na", "pricing_model": "spot", "gpu_model": "H100", "gpu_form": "sxm", "gpu_memory_gb": "80", "gpu_count": "8"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got matrix
			ts.getJSON(t, "/api/v1/history?"+window+"&"+tt.query, &got)
			var metrics []map[string]string
			for _, r := range got.Result {
				metrics = append(metrics, r.Metric)
			}
			if !reflect.DeepEqual(metrics, tt.want) {
				t.Errorf("\n got %v\nwant %v", metrics, tt.want)
			}
		})
	}
}

func TestHistoryMatrixCSV(t *testing.T) {
	// Per GPU, the A10 (1/6 GPU at 0.454) costs 2.724 and the A10G 1; per
	// instance 0.454 and 1. The A10 is withdrawn at +4h.
	tests := []struct {
		name, query string
		want        [][]string
	}{
		{"min per GPU", "gpu_memory_gb=24&step=6h&agg=min", [][]string{
			{"provider", "instance_type", "region", "zone", "geo", "pricing_model", "gpu_model", "gpu_form", "gpu_memory_gb", "gpu_count", "time", "gpu_usd_per_hour"},
			{"", "", "", "", "eu", "on_demand", "", "", "24", "", "2025-06-01T12:00:00Z", "1"},
			{"", "", "", "", "eu", "on_demand", "", "", "24", "", "2025-06-01T18:00:00Z", "1"},
		}},
		{"min per instance", "gpu_memory_gb=24&step=6h&agg=min&price=instance", [][]string{
			{"provider", "instance_type", "region", "zone", "geo", "pricing_model", "gpu_model", "gpu_form", "gpu_memory_gb", "gpu_count", "time", "usd_per_hour"},
			{"", "", "", "", "eu", "on_demand", "", "", "24", "", "2025-06-01T12:00:00Z", "0.454"},
			{"", "", "", "", "eu", "on_demand", "", "", "24", "", "2025-06-01T18:00:00Z", "1"},
		}},
		{"a store series", "gpu_model=A10&step=3h", [][]string{
			{"provider", "instance_type", "region", "zone", "geo", "pricing_model", "gpu_model", "gpu_form", "gpu_memory_gb", "gpu_count", "time", "gpu_usd_per_hour"},
			{"azure", "Standard_NV6ads_A10_v5", "westeurope", "", "eu", "on_demand", "A10", "pcie", "24", "0.1667", "2025-06-01T12:00:00Z", formatFloat(0.454 / sixth)},
			{"azure", "Standard_NV6ads_A10_v5", "westeurope", "", "eu", "on_demand", "A10", "pcie", "24", "0.1667", "2025-06-01T15:00:00Z", formatFloat(0.454 / sixth)},
		}},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := ts.getCSV(t, "/api/v1/history?"+window+"&"+tt.query+"&format=csv")
			if !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("\n got %q\nwant %q", rows, tt.want)
			}
		})
	}
}

func TestHistoryCSV(t *testing.T) {
	ts := newTestServer(t, nil)
	rows := ts.getCSV(t, "/api/v1/history?"+window+"&provider=aws&gpu_model=H100&format=csv")
	want := [][]string{
		historyHeader,
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T10:00:00Z", "40", "5", "false", ""},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T13:00:00Z", "48", "6", "false", ""},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T15:00:00Z", "", "", "true", ""},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T17:00:00Z", "44", "5.5", "false", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("\n got %q\nwant %q", rows, want)
	}
	// Resampled: the gap has no rows.
	rows = ts.getCSV(t, "/api/v1/history?"+window+"&provider=aws&gpu_model=H100&step=2h", "Accept: text/csv")
	if got := column(t, rows, "time"); !reflect.DeepEqual(got, []string{"2025-06-01T12:00:00Z", "2025-06-01T14:00:00Z", "2025-06-01T18:00:00Z"}) {
		t.Errorf("resampled times %v", got)
	}
}

func TestHistoryJSONPoint(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do(http.MethodGet, "/api/v1/history?"+window+"&provider=aws&gpu_model=H100")
	for _, s := range []string{
		`{"time":"2025-06-01T13:00:00Z","usd_per_hour":48,"gpu_usd_per_hour":6}`,
		`{"time":"2025-06-01T15:00:00Z","usd_per_hour":null,"gpu_usd_per_hour":null,"withdrawn":true}`,
		`"gpu_memory_gb":80,"gpu_count":8,"points":[`,
	} {
		if !strings.Contains(rec.Body.String(), s) {
			t.Errorf("answer lacks %s:\n%s", s, rec.Body)
		}
	}
}

func TestHistoryStoreQuery(t *testing.T) {
	end := t0.Add(6 * time.Hour) // the pinned now
	tests := []struct {
		name, query string
		want        store.Query
	}{
		{"defaults: the last 7 days", "", store.Query{Start: end.Add(-7 * 24 * time.Hour), End: end}},
		{"single values are pushed down, normalized", "gpu_model=h100&provider=AWS&region=US-East-1&pricing_model=Spot&gpu_memory_gb=80&gpu_count=8&" + window,
			store.Query{Provider: "aws", Region: "us-east-1", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80, GPUCount: 8, Start: t0, End: end}},
		{"several values are not", "provider=aws,azure&geo=eu&geo=na&zone=a&instance_type=x&gpu_form=sxm&" + window,
			store.Query{Zone: "a", InstanceType: "x", GPUForm: "sxm", Start: t0, End: end}},
		{"fractions are not", "gpu_count=0.1667&" + window, store.Query{Start: t0, End: end}},
		{"unix seconds", fmt.Sprintf("start=%d&end=%d.5", t0.Unix(), end.Unix()),
			store.Query{Start: t0, End: end.Add(500 * time.Millisecond)}},
		{"start only: end is now", "start=2025-06-01T14:00:00%2B02:00", store.Query{Start: t0, End: end}},
		{"unescaped + in a zone offset", "start=2025-06-01T14:00:00+02:00", store.Query{Start: t0, End: end}},
		{"end only: start is 7 days before", "end=2025-06-01T12:00:00Z", store.Query{Start: t0.Add(-7 * 24 * time.Hour), End: t0}},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := ts.do(http.MethodGet, "/api/v1/history?"+tt.query); rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			got := ts.store.lastQuery()
			if !got.Start.Equal(tt.want.Start) || !got.End.Equal(tt.want.End) {
				t.Errorf("range %v .. %v, want %v .. %v", got.Start, got.End, tt.want.Start, tt.want.End)
			}
			got.Start, got.End, tt.want.Start, tt.want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("query\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHistoryLimits(t *testing.T) {
	tests := []struct {
		name, query string
		edit        func(*Options)
		status      int
		want        string
	}{
		{"raw within the bound", "gpu_model=H100", func(o *Options) { o.MaxPoints = 6 }, http.StatusOK, ""},
		{"raw over the bound", "gpu_model=H100", func(o *Options) { o.MaxPoints = 5 }, http.StatusBadRequest,
			"history would return more than the 5 points allowed (6 from 3 series so far): narrow the filters or shorten start..end; /api/v1/export streams raw points without a bound"},
		{"samples within the bound", "gpu_model=H100&step=1h", func(o *Options) { o.MaxPoints = 17 }, http.StatusOK, ""},
		{"samples over the bound", "gpu_model=H100&step=1h", func(o *Options) { o.MaxPoints = 16 }, http.StatusBadRequest,
			"history would return more than the 16 points allowed: narrow the filters, shorten start..end, increase step or aggregate (agg)"},
		{"an aggregation within the bound", "gpu_model=H100&step=1h&agg=min", func(o *Options) { o.MaxPoints, o.MaxSamples = 7, 21 }, http.StatusOK, ""},
		{"an aggregation sampling too much", "gpu_model=H100&step=1h&agg=min", func(o *Options) { o.MaxSamples = 20 }, http.StatusBadRequest,
			"history would take more than the 20 samples allowed (3 series so far × 7 steps): narrow the filters, shorten start..end or increase step"},
		{"too many groups", "gpu_model=H100&step=1h&agg=min&by=provider", func(o *Options) { o.MaxPoints = 20 }, http.StatusBadRequest,
			"history would return more than the 20 points allowed (3 groups so far × 7 steps): group by fewer labels, narrow the filters, shorten start..end or increase step"},
		{"too many steps whatever the filters", "step=1m", func(o *Options) { o.MaxPoints = 100 }, http.StatusBadRequest,
			`bad parameter "step": "1m" gives 361 samples from start to end, more than the 100 allowed: increase step or shorten start..end`},
		{"stats: too many steps", "step=1m", func(o *Options) { o.MaxPoints = 100 }, http.StatusBadRequest,
			`bad parameter "step": "1m" gives 361 samples from start to end, more than the 100 allowed: increase step or shorten start..end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.edit)
			path := "/api/v1/history?"
			if strings.HasPrefix(tt.name, "stats:") {
				path = "/api/v1/history/stats?"
			}
			rec := ts.do(http.MethodGet, path+window+"&"+tt.query)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.want != "" {
				checkError(t, rec, tt.want)
			}
		})
	}
}

func TestHistoryBadParameters(t *testing.T) {
	tests := []struct {
		name, target, want string
	}{
		{"by without agg", "/api/v1/history?step=1h&by=provider",
			`missing parameter "agg": by=provider groups the series of an aggregation (e.g. agg=min)`},
		{"by an unknown label", "/api/v1/history?step=1h&agg=min&by=provider,cloud",
			`bad parameter "by": "provider,cloud" names a label that is not one of provider, instance_type, region, zone, geo, pricing_model, gpu_model, gpu_form, gpu_memory_gb, gpu_count`},
		{"price", "/api/v1/history?step=1h&price=gpu_hour", `bad parameter "price": "gpu_hour" is not gpu (per GPU-hour) or instance`},
		{"stale_after", "/api/v1/history?step=1h&stale_after=soon",
			`bad parameter "stale_after": "soon" is neither a duration (like 1h or 1d) nor seconds`},
		{"step below the resolution", "/api/v1/history?step=0.0001", `bad parameter "step": "0.0001" is out of range: allowed [1ms, 100y]`},
		{"below on history", "/api/v1/history?below=2",
			`unknown parameter "below"; this endpoint takes provider, instance_type, region, zone, geo, pricing_model, gpu_model, gpu_form, gpu_memory_gb, gpu_count, start, end, step, agg, by, price, stale_after, format`},
		{"below infinite", "/api/v1/history/stats?below=Inf", `bad parameter "below": "Inf" is out of range: allowed [0, 1000000]`},
		{"below", "/api/v1/history/stats?below=cheap", `bad parameter "below": "cheap" is not a number: allowed [0, 1000000]`},
		{"stats: agg without step", "/api/v1/history/stats?agg=min",
			`missing parameter "step": agg=min aggregates samples taken every step (e.g. step=1h)`},
		{"export format", "/api/v1/export?format=json", `bad parameter "format": "json" is not csv, parquet or openmetrics`},
		{"export resolution", "/api/v1/export?format=openmetrics&resolution=5m",
			`bad parameter "resolution": "5m" is not at least 1s and less than 5m (Prometheus' lookback: the series would vanish between samples)`},
		{"export range", "/api/v1/export?start=2025-06-02T00:00:00Z&end=2025-06-01T00:00:00Z",
			`bad parameter "start": "2025-06-02T00:00:00Z" is after end 2025-06-01T00:00:00Z`},
		{"export step", "/api/v1/export?step=1h",
			`unknown parameter "step"; this endpoint takes provider, instance_type, region, zone, geo, pricing_model, gpu_model, gpu_form, gpu_memory_gb, gpu_count, start, end, format, resolution, stale_after`},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.do(http.MethodGet, tt.target)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			checkError(t, rec, tt.want)
		})
	}
}

func TestHistoryStoreUnavailable(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no store", func(o *Options) { o.Store = nil }, "history is unavailable: this server has no store"},
		{"store fails", func(o *Options) { o.Store = &memStore{err: errors.New("database is locked")} },
			"reading history from the store: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.edit)
			for _, f := range []string{"json", "csv"} {
				rec := ts.do(http.MethodGet, "/api/v1/history?format="+f)
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("format=%s: status %d: %s", f, rec.Code, rec.Body)
				}
				checkError(t, rec, tt.want)
			}
		})
	}
}

func TestHistoryStats(t *testing.T) {
	// aws H100 per GPU from t0 to +6h: 5 for 1h, 6 for 2h, withdrawn 2h,
	// 5.5 for 1h. Known 4h of 6h; mean (5 + 12 + 5.5)/4 = 5.625; by time
	// 5 until 1h, 5.5 until 2h, 6 until 4h: p10 5, median 5.5, p90 6;
	// variance (0.625² + 2×0.375² + 0.125²)/4 = 0.171875; below 5.75 for
	// 2h of 4h; two changes.
	aws := map[string]any{
		"provider": "aws", "instance_type": "p5.48xlarge", "region": "us-east-1", "zone": "us-east-1a", "geo": "na",
		"pricing_model": "spot", "gpu_model": "H100", "gpu_form": "sxm", "gpu_memory_gb": 80.0, "gpu_count": 8.0,
		"series": 1.0, "price": "gpu", "start": "2025-06-01T12:00:00Z", "end": "2025-06-01T18:00:00Z",
		"coverage": 4.0 / 6, "min": 5.0, "max": 6.0, "mean": 5.625, "median": 5.5, "p10": 5.0, "p90": 6.0,
		"volatility": math.Sqrt(0.171875) / 5.625, "below": 5.75, "share_below": 0.5, "changes": 2.0,
	}
	ts := newTestServer(t, nil)
	got := ts.getList(t, "/api/v1/history/stats?"+window+"&provider=aws&gpu_model=H100&below=5.75")
	if len(got) != 1 {
		t.Fatalf("%d summaries, want 1", len(got))
	}
	for k, v := range aws {
		g := got[0][k]
		if f, ok := v.(float64); ok {
			if gf, ok := g.(float64); !ok || math.Abs(gf-f) > 1e-12 {
				t.Errorf("%s = %v, want %v", k, g, v)
			}
		} else if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	if len(got[0]) != len(aws) {
		t.Errorf("keys %v", got[0])
	}

	// The cheapest H100 per hour: 5 6 2 2 2 2 2, each sample an hour of
	// the 7h grid; no threshold: below and share_below are null.
	got = ts.getList(t, "/api/v1/history/stats?"+window+"&gpu_model=H100&step=1h&agg=min")
	if len(got) != 1 {
		t.Fatalf("%d summaries, want 1", len(got))
	}
	for k, v := range map[string]any{"series": 3.0, "end": "2025-06-01T19:00:00Z", "coverage": 1.0, "min": 2.0, "max": 6.0,
		"mean": 3.0, "median": 2.0, "p90": 6.0, "changes": 2.0, "below": nil, "share_below": nil, "provider": ""} {
		if got[0][k] != v {
			t.Errorf("%s = %v, want %v", k, got[0][k], v)
		}
	}

	rows := ts.getCSV(t, "/api/v1/history/stats?"+window+"&gpu_model=A10G&format=csv")
	want := [][]string{statsHeader, {"aws", "g5.xlarge", "eu-west-1", "", "eu", "on_demand", "A10G", "", "24", "1", "", "",
		"1", "gpu", "2025-06-01T12:00:00Z", "2025-06-01T18:00:00Z", "1", "1", "1", "1", "1", "1", "1", "0", "", "", "0"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("\n got %q\nwant %q", rows, want)
	}
}

// TestLabelsJSON checks that labelsJSON has the keys of price.Labels, in
// their order, with each label's value (numbers as numbers).
func TestLabelsJSON(t *testing.T) {
	var q price.Quote
	want := map[string]string{} // JSON text by key
	for i := range price.Labels {
		l := &price.Labels[i]
		switch p := l.Field(&q).(type) {
		case *string:
			*p = l.Name + " value"
			want[l.Name] = strconv.Quote(*p)
		case *float64:
			*p = float64(i) + 0.25
			want[l.Name] = strconv.FormatFloat(*p, 'f', -1, 64)
		}
	}
	b, err := json.Marshal(toLabelsJSON(&q))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if string(v) != want[k.(string)] {
			t.Errorf("%s: %s, want %s", k, v, want[k.(string)])
		}
	}
	if names := price.LabelNames(price.Labels); !reflect.DeepEqual(keys, names) {
		t.Errorf("keys %q, want price.Labels %q", keys, names)
	}
}

// TestNormsNameLabels checks that every filter check names a series label.
func TestNormsNameLabels(t *testing.T) {
	for name := range norms {
		if !slices.Contains(labelNames, name) {
			t.Errorf("norms has %q, which is not a series label", name)
		}
	}
}
