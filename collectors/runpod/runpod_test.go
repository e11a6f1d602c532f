package runpod

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/exporter"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// serve starts h and returns the endpoint to configure.
func serve(t testing.TB, h http.Handler) string {
	return collectortest.Serve(t, h) + fakecloud.RunpodPath
}

// newCollector builds a collector for endpoint with the default config as
// changed by edit (which may be nil).
func newCollector(t testing.TB, endpoint string, edit func(*Config), hist collectors.Backfiller) *Collector {
	t.Helper()
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{Backfiller: hist}, edit)
}

// row is one GPU type in one tier, as expected from the fake's recorded
// data; od and spot are the prices, 0 for none.
type row struct {
	id, tier, region string
	stock            price.Stock
	model, form      string
	mem, count       float64
	od, spot         float64
}

// quotes expands rows into quotes in the collector's order.
func quotes(rows []row) []price.Quote {
	var out []price.Quote
	for _, r := range rows {
		q := price.Quote{Provider: Name, InstanceType: r.id + "/" + r.tier, Region: r.region, GPUModel: r.model,
			GPUForm: r.form, GPUMemoryGB: r.mem, GPUCount: r.count, GPURaw: r.id, Stock: r.stock}
		if r.od > 0 {
			q.PricingModel, q.USDPerHour = price.OnDemand, r.od
			out = append(out, q)
		}
		if r.spot > 0 {
			q.PricingModel, q.USDPerHour = price.Spot, r.spot
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.PricingModel, y.PricingModel))
	})
	return out
}

const (
	high, medium, low, none = price.StockHigh, price.StockMedium, price.StockLow, price.StockNone
)

// recordedRows is fakecloud/testdata/runpod/gputypes.json read by hand:
// 24 secure and 20 community types (V100 and RTX 3060 are not in Secure
// Cloud; H100 NVL, H200 NVL, B200, MI300X and the MIG slices not in
// Community Cloud), 80 quotes.
var recordedRows = []row{
	{"NVIDIA H100 80GB HBM3", "secure", "us", high, "H100", "sxm", 80, 1, 2.69, 1.75},
	{"NVIDIA H100 PCIe", "secure", "us", low, "H100", "pcie", 80, 1, 2.39, 1.25},
	{"NVIDIA H100 NVL", "secure", "ro", medium, "H100NVL", "pcie", 94, 1, 2.59, 1.59},
	{"NVIDIA H200", "secure", "us", medium, "H200", "sxm", 141, 1, 3.59, 0},
	{"NVIDIA H200 NVL", "secure", "us", low, "H200NVL", "pcie", 141, 1, 3.39, 2.29},
	{"NVIDIA B200", "secure", "us", low, "B200", "sxm", 180, 1, 5.99, 0},
	{"NVIDIA A100-SXM4-80GB", "secure", "us", high, "A100", "sxm", 80, 1, 1.49, 0.95},
	{"NVIDIA A100 80GB PCIe", "secure", "ca", medium, "A100", "pcie", 80, 1, 1.39, 0.85},
	{"NVIDIA L40S", "secure", "ro", high, "L40S", "pcie", 48, 1, 0.86, 0.53},
	{"NVIDIA L40", "secure", "no", low, "L40", "pcie", 48, 1, 0.99, 0.5},
	{"NVIDIA L4", "secure", "us", medium, "L4", "pcie", 24, 1, 0.43, 0.24},
	{"NVIDIA A40", "secure", "ca", high, "A40", "pcie", 48, 1, 0.44, 0.24},
	{"NVIDIA RTX A6000", "secure", "us", high, "A6000", "pcie", 48, 1, 0.49, 0.25},
	{"NVIDIA RTX A5000", "secure", "cz", medium, "A5000", "pcie", 24, 1, 0.27, 0.14},
	{"NVIDIA RTX A4000", "secure", "us", low, "A4000", "pcie", 16, 1, 0.25, 0.13},
	{"NVIDIA RTX 6000 Ada Generation", "secure", "se", medium, "RTX6000ADA", "pcie", 48, 1, 0.77, 0.46},
	{"NVIDIA RTX 4000 Ada Generation", "secure", "ro", high, "RTX4000ADA", "pcie", 20, 1, 0.26, 0.13},
	{"NVIDIA GeForce RTX 4090", "secure", "us", high, "RTX4090", "pcie", 24, 1, 0.69, 0.35},
	{"NVIDIA GeForce RTX 5090", "secure", "us", medium, "RTX5090", "pcie", 32, 1, 0.94, 0},
	{"NVIDIA GeForce RTX 3090", "secure", "no", low, "RTX3090", "pcie", 24, 1, 0.43, 0.21},
	{"AMD Instinct MI300X OAM", "secure", "us", medium, "MI300X", "", 192, 1, 2.49, 0},
	{"NVIDIA RTX PRO 6000 Blackwell Server Edition", "secure", "us", high, "RTXPRO6000", "pcie", 96, 1, 1.84, 1.19},
	// MIG slices: a quarter and a half of a 96 GB GPU, priced per slice.
	{"NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb", "secure", "us", medium, "RTXPRO6000", "pcie", 96, 0.25, 0.49, 0},
	// Out of stock and never seen with a country: no region.
	{"NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 2g.48gb", "secure", "", none, "RTXPRO6000", "pcie", 96, 0.5, 0.95, 0},

	{"NVIDIA H100 80GB HBM3", "community", "ca", medium, "H100", "sxm", 80, 1, 2.49, 1.49},
	{"NVIDIA H100 PCIe", "community", "cz", high, "H100", "pcie", 80, 1, 1.99, 1.1},
	{"NVIDIA H200", "community", "is", low, "H200", "sxm", 141, 1, 3.39, 0},
	{"NVIDIA A100-SXM4-80GB", "community", "se", medium, "A100", "sxm", 80, 1, 1.39, 0.79},
	{"NVIDIA A100 80GB PCIe", "community", "us", high, "A100", "pcie", 80, 1, 1.19, 0.6},
	{"NVIDIA L40S", "community", "us", high, "L40S", "pcie", 48, 1, 0.79, 0.4},
	{"NVIDIA L40", "community", "", none, "L40", "pcie", 48, 1, 0.69, 0.35},
	{"NVIDIA L4", "community", "nl", high, "L4", "pcie", 24, 1, 0.39, 0.22},
	{"NVIDIA A40", "community", "us", medium, "A40", "pcie", 48, 1, 0.35, 0.2},
	{"NVIDIA RTX A6000", "community", "fr", high, "A6000", "pcie", 48, 1, 0.33, 0.17},
	{"NVIDIA RTX A5000", "community", "us", high, "A5000", "pcie", 24, 1, 0.16, 0.09},
	{"NVIDIA RTX A4000", "community", "ca", medium, "A4000", "pcie", 16, 1, 0.17, 0.09},
	{"NVIDIA RTX 6000 Ada Generation", "community", "us", low, "RTX6000ADA", "pcie", 48, 1, 0.74, 0.39},
	{"NVIDIA RTX 4000 Ada Generation", "community", "us", medium, "RTX4000ADA", "pcie", 20, 1, 0.2, 0.1},
	{"NVIDIA GeForce RTX 4090", "community", "", none, "RTX4090", "pcie", 24, 1, 0.34, 0.2},
	{"NVIDIA GeForce RTX 5090", "community", "nl", high, "RTX5090", "pcie", 32, 1, 0.69, 0.45},
	{"NVIDIA GeForce RTX 3090", "community", "us", high, "RTX3090", "pcie", 24, 1, 0.22, 0.11},
	{"NVIDIA RTX PRO 6000 Blackwell Server Edition", "community", "ro", low, "RTXPRO6000", "pcie", 96, 1, 1.69, 0},
	{"Tesla V100-SXM2-16GB", "community", "ca", low, "V100", "sxm", 16, 1, 0.19, 0.1},
	// The catalog leaves its memory open (8 or 12 GB): from memoryInGb.
	{"NVIDIA GeForce RTX 3060", "community", "pl", medium, "RTX3060", "pcie", 12, 1, 0.1, 0.05},
}

// recordedHosts is each tier's lowestPrice minVcpu and minMemory in
// fakecloud/testdata/runpod/gputypes.json, by instance type.
var recordedHosts = map[string][2]float64{
	"NVIDIA H100 80GB HBM3/secure":                                    {20, 125},
	"NVIDIA H100 80GB HBM3/community":                                 {16, 125},
	"NVIDIA H100 PCIe/secure":                                         {16, 176},
	"NVIDIA H100 PCIe/community":                                      {12, 100},
	"NVIDIA H100 NVL/secure":                                          {16, 94},
	"NVIDIA H200/secure":                                              {24, 250},
	"NVIDIA H200/community":                                           {24, 250},
	"NVIDIA H200 NVL/secure":                                          {16, 180},
	"NVIDIA B200/secure":                                              {28, 283},
	"NVIDIA A100-SXM4-80GB/secure":                                    {16, 117},
	"NVIDIA A100-SXM4-80GB/community":                                 {12, 100},
	"NVIDIA A100 80GB PCIe/secure":                                    {8, 83},
	"NVIDIA A100 80GB PCIe/community":                                 {8, 62},
	"NVIDIA L40S/secure":                                              {16, 62},
	"NVIDIA L40S/community":                                           {8, 46},
	"NVIDIA L40/secure":                                               {8, 94},
	"NVIDIA L4/secure":                                                {12, 50},
	"NVIDIA L4/community":                                             {8, 31},
	"NVIDIA A40/secure":                                               {9, 48},
	"NVIDIA A40/community":                                            {8, 29},
	"NVIDIA RTX A6000/secure":                                         {8, 50},
	"NVIDIA RTX A6000/community":                                      {4, 31},
	"NVIDIA RTX A5000/secure":                                         {4, 25},
	"NVIDIA RTX A5000/community":                                      {4, 15},
	"NVIDIA RTX A4000/secure":                                         {4, 20},
	"NVIDIA RTX A4000/community":                                      {4, 15},
	"NVIDIA RTX 6000 Ada Generation/secure":                           {10, 62},
	"NVIDIA RTX 6000 Ada Generation/community":                        {8, 46},
	"NVIDIA RTX 4000 Ada Generation/secure":                           {5, 30},
	"NVIDIA RTX 4000 Ada Generation/community":                        {4, 15},
	"NVIDIA GeForce RTX 4090/secure":                                  {6, 41},
	"NVIDIA GeForce RTX 4090/community":                               {5, 29},
	"NVIDIA GeForce RTX 5090/secure":                                  {8, 46},
	"NVIDIA GeForce RTX 5090/community":                               {8, 46},
	"NVIDIA GeForce RTX 3090/secure":                                  {4, 24},
	"NVIDIA GeForce RTX 3090/community":                               {4, 24},
	"AMD Instinct MI300X OAM/secure":                                  {24, 283},
	"NVIDIA RTX PRO 6000 Blackwell Server Edition/secure":             {16, 188},
	"NVIDIA RTX PRO 6000 Blackwell Server Edition/community":          {12, 94},
	"NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb/secure": {4, 47},
	"Tesla V100-SXM2-16GB/community":                                  {4, 30},
	"NVIDIA GeForce RTX 3060/community":                               {4, 15},
}

// withHosts sets the quotes' vCPUs and RAM from hosts.
func withHosts(qs []price.Quote, hosts map[string][2]float64) []price.Quote {
	for i := range qs {
		h := hosts[qs[i].InstanceType]
		qs[i].VCPUs, qs[i].MemoryGB = h[0], h[1]
	}
	return qs
}

func TestCollectRecorded(t *testing.T) {
	fake := fakecloud.NewRunpod(fakecloud.RunpodOptions{})
	snap, err := newCollector(t, serve(t, fake), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Provider != Name {
		t.Errorf("provider %q", snap.Provider)
	}
	want := withHosts(quotes(recordedRows), recordedHosts)
	if len(want) != 80 {
		t.Fatalf("the table holds %d quotes, want 80", len(want))
	}
	collectortest.SameQuotes(t, snap.Quotes, want)
	if got := fake.Faults.Requests(); got != 2 {
		t.Errorf("%d requests, want 2 (one per tier)", got)
	}
}

// TestEdgeCases feeds answers the recorded data does not hold.
func TestEdgeCases(t *testing.T) {
	const data = `{"gpuTypes": [
	  {"id": "NVIDIA Next 80GB", "displayName": "H100 SXM", "manufacturer": "Nvidia", "memoryInGb": 80, "maxGpuCount": 8, "secureCloud": true, "communityCloud": true,
	   "securePrice": 2.5, "communityPrice": 0, "secureSpotPrice": 1.5, "communitySpotPrice": null,
	   "secure": {"stockStatus": "Critical", "countryCode": " Us "}, "community": {"stockStatus": "High", "countryCode": "DE"}},
	  {"id": "Mystery Accelerator", "displayName": "Mystery", "manufacturer": "Other", "memoryInGb": 0, "maxGpuCount": 1, "secureCloud": true, "communityCloud": false,
	   "securePrice": 0.5, "communityPrice": null, "secureSpotPrice": null, "communitySpotPrice": null,
	   "secure": {"stockStatus": "low", "countryCode": null}, "community": {"stockStatus": null, "countryCode": null}}
	]}`
	fake := fakecloud.NewRunpod(fakecloud.RunpodOptions{Data: []byte(data)})
	snap, err := newCollector(t, serve(t, fake), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := quotes([]row{
		// The id is unknown, the displayName is an alias; an unknown
		// stockStatus means available; the country code is trimmed and
		// lower-cased.
		{"NVIDIA Next 80GB", "secure", "us", price.StockAvailable, "H100", "sxm", 80, 1, 2.5, 1.5},
		// A zero community price is no offer; a null spot price neither.
		// (No community quote at all for this type.)
		// Unknown GPU without memory; lower-case stockStatus.
		{"Mystery Accelerator", "secure", "", low, price.Unknown, "", 0, 1, 0.5, 0},
	})
	collectortest.SameQuotes(t, snap.Quotes, want)
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Config)
		fakeKey   string
		wantQuery string
	}{
		{name: "no key"},
		{name: "with key", edit: func(c *Config) { c.APIKey = "rp_s3cret" }, fakeKey: "rp_s3cret", wantQuery: "api_key=rp_s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &collectortest.Recorder{Next: fakecloud.NewRunpod(fakecloud.RunpodOptions{APIKey: tt.fakeKey})}
			c := newCollector(t, serve(t, rec), tt.edit, nil)
			if _, err := c.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := rec.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for i, secure := range []bool{true, false} {
				r := reqs[i]
				if r.Method != http.MethodPost || r.URL.Path != "/graphql" || r.URL.RawQuery != tt.wantQuery {
					t.Errorf("request %d: %s %s?%s, want POST /graphql?%s", i, r.Method, r.URL.Path, r.URL.RawQuery, tt.wantQuery)
				}
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("request %d: Content-Type %q", i, got)
				}
				if _, ok := r.Header["Authorization"]; ok {
					t.Errorf("request %d: an Authorization header was sent", i)
				}
				var body struct {
					Query     string                     `json:"query"`
					Variables map[string]json.RawMessage `json:"variables"`
				}
				dec := json.NewDecoder(bytes.NewReader(r.Body))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&body); err != nil {
					t.Fatalf("request %d body %s: %v", i, r.Body, err)
				}
				if body.Query != Query {
					t.Errorf("request %d query:\n%s", i, body.Query)
				}
				wantVars := `{"gpuCount":1,"secureCloud":` + map[bool]string{true: "true", false: "false"}[secure] + `}`
				if len(body.Variables) != 1 || string(body.Variables["lowestPriceInput"]) != wantVars {
					t.Errorf("request %d variables %s, want lowestPriceInput %s", i, r.Body, wantVars)
				}
			}
		})
	}
}

// TestQueryAsksForEveryField checks the query text itself: the fields the
// issue names, and gpuTypes at the root.
func TestQueryAsksForEveryField(t *testing.T) {
	for _, f := range []string{"gpuTypes", "securePrice", "communityPrice", "secureSpotPrice", "communitySpotPrice",
		"memoryInGb", "maxGpuCount", "lowestPrice(input: $lowestPriceInput)", "stockStatus", "minimumBidPrice",
		"uninterruptablePrice", "availableGpuCounts", "countryCode"} {
		if !strings.Contains(Query, f) {
			t.Errorf("the query does not ask for %s", f)
		}
	}
}

func TestGraphQLErrorsOn200(t *testing.T) {
	tests := []struct {
		name    string
		handler func(fake *fakecloud.Runpod) http.Handler
		wantMsg string
	}{
		{
			name: "injected: errors and null data",
			handler: func(fake *fakecloud.Runpod) http.Handler {
				fake.Faults.Add(fakecloud.Fault{Kind: fakecloud.RunpodGraphQLError, Times: 1})
				return fake
			},
			wantMsg: "Something went wrong",
		},
		{
			name: "errors next to partial data",
			handler: func(*fakecloud.Runpod) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, `{"errors":[{"message":"Cannot query field \"lowestPrice\" on type \"GpuType\"."},{"message":"second"}],`+
						`"data":{"gpuTypes":[{"id":"NVIDIA L4","securePrice":0.43}]}}`)
				})
			},
			wantMsg: `Cannot query field "lowestPrice" on type "GpuType".; second`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakecloud.NewRunpod(fakecloud.RunpodOptions{})
			c := newCollector(t, serve(t, tt.handler(fake)), nil, nil)
			snap, err := c.Collect(context.Background())
			if snap != nil || err == nil {
				t.Fatalf("got a snapshot (%v) and error %v", snap != nil, err)
			}
			if got := collectors.Reason(err); got != "decode" {
				t.Errorf("reason %q, want decode (err: %v)", got, err)
			}
			var ge *GraphQLError
			if !errors.As(err, &ge) || !strings.Contains(ge.Error(), tt.wantMsg) {
				t.Errorf("error %v: no *GraphQLError with %q", err, tt.wantMsg)
			}
		})
	}
}

// TestContract runs the collector contract suite against the fake.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.TooManyRequests: {InErr: []string{"too many requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
		Extra: []collectortest.Extra[*Config]{
			{
				Name: "GraphQL error", Faults: []fakecloud.Fault{{Kind: fakecloud.RunpodGraphQLError, Times: 1}},
				Want: collectortest.Want{Reason: "decode", InErr: []string{"GraphQL errors"}},
			},
			{
				// EndlessPages is answered normally: the secure query
				// succeeds and the community one gets the wrong types.
				Name:   "second tier fails: the whole refresh fails",
				Faults: []fakecloud.Fault{{Kind: fakecloud.EndlessPages, Times: 1}, {Kind: fakecloud.WrongTypes, Times: 1}},
				Want:   collectortest.Want{Reason: "decode", InErr: []string{"query community cloud GPU types"}, Requests: 2},
			},
			{
				Name:      "refused key",
				Fake:      func() http.Handler { return fakecloud.NewRunpod(fakecloud.RunpodOptions{APIKey: "right"}) },
				Configure: func(c *Config) { c.APIKey = "wrong-s3cret" },
				Want:      collectortest.Want{Reason: "http_4xx", InErr: []string{"HTTP 401"}, Requests: 1},
			},
		},
	})
}

// refresh runs one checked refresh, as the daemon does, and records it.
func refresh(t *testing.T, c *Collector, st store.Store) *price.Snapshot {
	t.Helper()
	start := time.Now()
	snap, err := collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), collectors.Job{
		Collector: c,
		Settings:  collectors.Settings{Timeout: 10 * time.Second, MaxGPUUSDPerHour: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	poll := store.Poll{Provider: Name, Start: start, Duration: time.Since(start), OK: true, Quotes: len(snap.Quotes)}
	if _, err := st.Record(context.Background(), poll, snap); err != nil {
		t.Fatal(err)
	}
	return snap
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "store"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func find(t *testing.T, snap *price.Snapshot, it string, pm price.PricingModel) price.Quote {
	t.Helper()
	for _, q := range snap.Quotes {
		if q.InstanceType == it && q.PricingModel == pm {
			return q
		}
	}
	t.Fatalf("no %s %s quote", it, pm)
	return price.Quote{}
}

// TestOutOfStockKeepsItsSeries: a type that goes out of stock between two
// refreshes keeps its price, region and series in the store (no
// withdrawal, no new series), and /metrics shows it with
// gpuprice_gpu_available 0 next to its price.
func TestOutOfStockKeepsItsSeries(t *testing.T) {
	const h100 = "NVIDIA H100 80GB HBM3/secure"
	st := openStore(t)
	fake := fakecloud.NewRunpod(fakecloud.RunpodOptions{})
	c := newCollector(t, serve(t, fake), nil, nil)

	first := refresh(t, c, st)
	if q := find(t, first, h100, price.OnDemand); q.Stock != high || q.Region != "us" {
		t.Fatalf("before: %+v", q)
	}
	fake.SetStock("NVIDIA H100 80GB HBM3", true, "")
	second := refresh(t, c, st)
	for _, pm := range []price.PricingModel{price.OnDemand, price.Spot} {
		q := find(t, second, h100, pm)
		if q.Stock != none || q.Region != "us" || q.Geo != "na" {
			t.Errorf("after, %s: stock %q region %q geo %q, want none, us, na", pm, q.Stock, q.Region, q.Geo)
		}
	}
	if q := find(t, second, h100, price.OnDemand); q.USDPerHour != 2.69 {
		t.Errorf("price after going out of stock: %g, want 2.69", q.USDPerHour)
	}

	series, err := st.History(context.Background(), store.Query{Provider: Name, InstanceType: h100})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 { // on demand and spot
		t.Fatalf("%d series for %s, want 2: %+v", len(series), h100, series)
	}
	for _, s := range series {
		if s.Labels.Region != "us" || len(s.Points) != 1 || s.Points[0].Withdrawn {
			t.Errorf("series %s %s: region %q, points %+v; want one live point in us", s.Labels.InstanceType, s.Labels.PricingModel, s.Labels.Region, s.Points)
		}
	}

	exp := exporter.New(exporter.Options{States: func() []*collectors.State {
		return []*collectors.State{{Provider: Name, Snapshot: second, Success: true, LastSuccess: second.Time, Errors: map[string]uint64{}}}
	}})
	exp.Render()
	rec := httptest.NewRecorder()
	exp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	labels := `{provider="runpod",instance_type="NVIDIA H100 80GB HBM3/secure",region="us",zone="",geo="na",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",gpu_count="1"}`
	for _, want := range []string{
		"gpuprice_gpu_available" + labels + " 0\n",
		"gpuprice_gpu_usd_per_hour" + labels + " 2.69\n",
		// The community tier of the same GPU is still in stock (medium).
		`gpuprice_gpu_available{provider="runpod",instance_type="NVIDIA H100 80GB HBM3/community",region="ca",zone="",geo="na",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",gpu_count="1"} 2` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// history is the store as one provider sees it (collectors.Build makes
// the daemon's own).
type history struct{ st store.Store }

func (h history) Backfill(ctx context.Context, qs []price.Quote) (store.Result, error) {
	return h.st.Backfill(ctx, qs)
}

func (h history) LastPoints(ctx context.Context) (map[price.SeriesKey]time.Time, error) {
	return h.st.LastPoints(ctx, Name)
}

// TestRegionAfterRestart: a type out of stock at the first refresh after a
// restart keeps the region of its stored series.
func TestRegionAfterRestart(t *testing.T) {
	const h100 = "NVIDIA H100 80GB HBM3/secure"
	st := openStore(t)
	fake := fakecloud.NewRunpod(fakecloud.RunpodOptions{})
	endpoint := serve(t, fake)
	refresh(t, newCollector(t, endpoint, nil, nil), st)

	fake.SetStock("NVIDIA H100 80GB HBM3", true, "")
	tests := []struct {
		name       string
		hist       collectors.Backfiller
		wantRegion string
	}{
		{"with the store", history{st}, "us"},
		{"without a store (gpuprice collect)", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := newCollector(t, endpoint, nil, tt.hist).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if q := find(t, snap, h100, price.OnDemand); q.Region != tt.wantRegion || q.Stock != none {
				t.Errorf("region %q stock %q, want %q none", q.Region, q.Stock, tt.wantRegion)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	s := func(v string) *string { return &v }
	c := newCollector(t, "http://127.0.0.1:1/graphql", nil, nil)
	// Run in order: the region is remembered from one step to the next.
	steps := []struct {
		name       string
		lp         *lowestPrice
		wantStock  price.Stock
		wantRegion string
	}{
		{"never seen, no lowestPrice: stock unknown", nil, price.StockUnknown, ""},
		{"High", &lowestPrice{StockStatus: s("High"), CountryCode: s("US")}, high, "us"},
		{"Medium", &lowestPrice{StockStatus: s("Medium"), CountryCode: s("us")}, medium, "us"},
		{"Low elsewhere", &lowestPrice{StockStatus: s("Low"), CountryCode: s("CA")}, low, "ca"},
		{"null keeps the last region", &lowestPrice{}, none, "ca"},
		{"null lowestPrice says nothing of stock", nil, price.StockUnknown, "ca"},
		{"empty country code", &lowestPrice{StockStatus: s("High"), CountryCode: s(" ")}, high, "ca"},
		{"unknown level is available", &lowestPrice{StockStatus: s("Plenty"), CountryCode: s("SE")}, price.StockAvailable, "se"},
		{"blank level says nothing", &lowestPrice{StockStatus: s(" "), CountryCode: s("SE")}, price.StockUnknown, "se"},
		{"no stockStatus key says nothing", &lowestPrice{CountryCode: s("US"), stockUnsaid: true}, price.StockUnknown, "us"},
	}
	for _, st := range steps {
		stock, region := c.place("X/secure", st.lp)
		if stock != st.wantStock || region != st.wantRegion {
			t.Errorf("%s: stock %q region %q, want %q %q", st.name, stock, region, st.wantStock, st.wantRegion)
		}
	}
	if _, region := c.place("Y/secure", nil); region != "" {
		t.Errorf("another type inherited region %q", region)
	}
}

func TestGPU(t *testing.T) {
	tests := []struct {
		name  string
		g     gpuType
		model string
		form  string
		mem   float64
		count float64
	}{
		{"id", gpuType{ID: "NVIDIA A100-SXM4-80GB", DisplayName: "A100 SXM", MemoryInGb: 80}, "A100", "sxm", 80, 1},
		{"displayName when the id is unknown", gpuType{ID: "NVIDIA L4 v2", DisplayName: "L4", MemoryInGb: 24}, "L4", "pcie", 24, 1},
		{"alias without memory: memoryInGb snapped", gpuType{ID: "A100 SXM", MemoryInGb: 40}, "A100", "sxm", 40, 1},
		{"MIG quarter", gpuType{ID: "NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb", MemoryInGb: 24}, "RTXPRO6000", "pcie", 96, 0.25},
		{"MIG half, by displayName", gpuType{ID: "?", DisplayName: "PRO 6000 MIG 48GB", MemoryInGb: 48}, "RTXPRO6000", "pcie", 96, 0.5},
		{"AMD", gpuType{ID: "AMD Instinct MI300X OAM", DisplayName: "MI300X", MemoryInGb: 192}, "MI300X", "", 192, 1},
		{"unknown", gpuType{ID: "Some GPU", DisplayName: "Some GPU", MemoryInGb: 10}, price.Unknown, "", 10, 1},
	}
	c := newCollector(t, "http://127.0.0.1:1/graphql", nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := c.gpu(&tt.g)
			want := price.Quote{Provider: Name, GPUModel: tt.model, GPUForm: tt.form, GPUMemoryGB: tt.mem, GPUCount: tt.count, GPURaw: tt.g.ID}
			if q != want {
				t.Errorf("got %+v\nwant %+v", q, want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	cfg := config.Default()
	if !cfg.Providers[Name].(*Config).Enabled {
		t.Error("runpod is not enabled by default")
	}
	cfg.Providers[Name].(*Config).APIKey = "k&y"
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: http.DefaultClient, Catalog: price.DefaultCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != Name {
		t.Errorf("Name() = %q", c.Name())
	}
	rc := c.(*Collector)
	if rc.url != "https://api.runpod.io/graphql?api_key=k%26y" || rc.endpoint != "https://api.runpod.io/graphql" {
		t.Errorf("url %q, endpoint %q", rc.url, rc.endpoint)
	}
	cfg.Providers[Name].(*Config).Endpoint = "api.runpod.io"
	if err := cfg.Validate(); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}

// TestLowestPriceDecoded: a stockStatus that is null says none in stock,
// one that is missing says nothing.
func TestLowestPriceDecoded(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       price.Stock
	}{
		{"High", `{"stockStatus": "High", "countryCode": "US"}`, high},
		{"null", `{"stockStatus": null, "countryCode": null}`, none},
		{"missing", `{"countryCode": "US", "minimumBidPrice": 1.2}`, price.StockUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lp lowestPrice
			if err := json.Unmarshal([]byte(tc.json), &lp); err != nil {
				t.Fatal(err)
			}
			c := newCollector(t, "http://127.0.0.1:1/graphql", nil, nil)
			if got, _ := c.place("X/secure", &lp); got != tc.want {
				t.Errorf("stock %q, want %q", got, tc.want)
			}
		})
	}
}
