package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
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
		// want maps "provider/instance_type" (or "agg" for an aggregate)
		// to the expected points, in answer order.
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
		{
			name:  "step: a constant series resamples to itself",
			query: "gpu_model=A10G&step=1h",
			keys:  []string{"aws/g5.xlarge"},
			want:  map[string][]string{"aws/g5.xlarge": want(pt{0, 1}, pt{1, 1}, pt{2, 1}, pt{3, 1}, pt{4, 1}, pt{5, 1}, pt{6, 1})},
		},
		{
			name:  "step: a withdrawal makes a gap, not a carried price",
			query: "gpu_model=H100&provider=aws&step=1h",
			keys:  []string{"aws/p5.48xlarge"},
			want:  map[string][]string{"aws/p5.48xlarge": want(pt{0, 5}, pt{1, 6}, pt{2, 6}, pt{5, 5.5}, pt{6, 5.5})},
		},
		{
			name:  "step: a withdrawal for good ends the series",
			query: "gpu_model=A10&step=2h",
			keys:  []string{"azure/Standard_NV6ads_A10_v5"},
			want:  map[string][]string{"azure/Standard_NV6ads_A10_v5": want(pt{0, 0.454 / sixth}, pt{2, 0.454 / sixth})},
		},
		{
			name:  "step: a series that has not started has no samples",
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
			name:  "agg over series with no price in range has no samples",
			query: "gpu_model=A100&step=1h&agg=min",
			keys:  []string{"agg"},
			want:  map[string][]string{"agg": {}},
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
			var got []historySeries
			ts.getJSON(t, "/api/v1/history?"+window+"&"+tt.query, &got)
			keys := []string{}
			for _, s := range got {
				key := s.Provider + "/" + s.InstanceType
				if strings.Contains(tt.query, "agg=") {
					key = "agg"
				}
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

func TestHistoryAggregateLabels(t *testing.T) {
	ts := newTestServer(t, nil)
	var got []historySeries
	ts.getJSON(t, "/api/v1/history?"+window+"&gpu_model=H100&step=1h&agg=min", &got)
	if len(got) != 1 {
		t.Fatalf("got %d series, want 1", len(got))
	}
	got[0].Points = nil
	// Shared by aws, azure and vastai H100 spot: everything but where.
	want := historySeries{PricingModel: "spot", GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("labels\n got %+v\nwant %+v", got[0], want)
	}
}

func TestHistoryAggregateUSD(t *testing.T) {
	// Instance and per-GPU prices aggregate independently: min usd over
	// the 1/6-GPU A10 (0.454) and the 1-GPU A10G (1) is 0.454, min per
	// GPU is 1 (the A10 costs 2.724 per GPU).
	ts := newTestServer(t, nil)
	rows := ts.getCSV(t, "/api/v1/history?"+window+"&gpu_memory_gb=24&step=6h&agg=min&format=csv")
	want := [][]string{
		historyHeader,
		{"", "", "", "", "eu", "on_demand", "", "", "24", "", "", "2025-06-01T12:00:00Z", "0.454", "1", "false"},
		{"", "", "", "", "eu", "on_demand", "", "", "24", "", "", "2025-06-01T18:00:00Z", "1", "1", "false"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("\n got %q\nwant %q", rows, want)
	}
}

func TestHistoryCSV(t *testing.T) {
	ts := newTestServer(t, nil)
	rows := ts.getCSV(t, "/api/v1/history?"+window+"&provider=aws&gpu_model=H100&format=csv")
	want := [][]string{
		historyHeader,
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "2025-06-01T10:00:00Z", "40", "5", "false"},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "2025-06-01T13:00:00Z", "48", "6", "false"},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "2025-06-01T15:00:00Z", "", "", "true"},
		{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "2025-06-01T17:00:00Z", "44", "5.5", "false"},
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
		maxPoints   int
		status      int
		want        string
	}{
		{"raw within the bound", "gpu_model=H100", 6, http.StatusOK, ""},
		{"raw over the bound", "gpu_model=H100", 5, http.StatusBadRequest,
			"history would return 6 points from 3 series, more than the 5 allowed: narrow the filters or shorten start..end"},
		{"samples within the bound", "gpu_model=H100&step=1h&agg=min", 21, http.StatusOK, ""},
		{"samples over the bound", "gpu_model=H100&step=1h&agg=min", 20, http.StatusBadRequest,
			"history would take 21 samples (3 series × 7 steps), more than the 20 allowed: narrow the filters, shorten start..end or increase step"},
		{"too many steps whatever the filters", "step=1m", 100, http.StatusBadRequest,
			`bad parameter "step": "1m" gives 361 samples from start to end, more than the 100 allowed: increase step or shorten start..end`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.MaxPoints = tt.maxPoints })
			rec := ts.do(http.MethodGet, "/api/v1/history?"+window+"&"+tt.query)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.want != "" {
				checkError(t, rec, tt.want)
			}
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
