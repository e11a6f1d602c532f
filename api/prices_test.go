package api

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

func TestPrices(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"default sort is per-GPU price", "", []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1}},
		{"provider", "provider=azure", []string{Z1, Z2}},
		{"provider upper case", "provider=AZURE", []string{Z1, Z2}},
		{"stale provider serves nothing", "provider=runpod", []string{}},
		{"comma-separated values", "provider=aws,vastai&gpu_model=H100", []string{V2, A2, A1}},
		{"repeated parameter", "provider=aws&provider=azure&gpu_model=H100", []string{Z2, A2, A1}},
		{"gpu_model is case-insensitive", "gpu_model=a10g", []string{A3}},
		{"gpu_model several", "gpu_model=a10,A10G", []string{A3, Z1}},
		{"unknown GPUs", "gpu_model=unknown", []string{V3, V4}},
		{"gpu_form", "gpu_form=pcie", []string{V1, Z1}},
		{"gpu_memory_gb", "gpu_memory_gb=24", []string{V1, A3, Z1}},
		{"gpu_memory_gb as decimal", "gpu_memory_gb=80.0", []string{V2, Z2, A2, A1}},
		{"gpu_count fractional label", "gpu_count=0.1667", []string{Z1}},
		{"gpu_count", "gpu_count=1&provider=vastai", []string{V3, V4, V1}},
		{"pricing_model", "pricing_model=spot", []string{A4, V2, Z2, A2}},
		{"region is lower-cased", "region=EastUS", []string{Z2}},
		{"geo", "geo=EU", []string{A3, V2, Z1}},
		{"geo none", "geo=oc", []string{}},
		{"zone", "zone=us-east-1a", []string{A2}},
		{"instance_type", "instance_type=p5.48xlarge", []string{A2, A1}},
		{"max_gpu_usd_per_hour inclusive", "max_gpu_usd_per_hour=2", []string{V3, V4, V1, A3, A4, V2}},
		{"max_gpu_usd_per_hour zero", "max_gpu_usd_per_hour=0", []string{}},
		{"empty values are ignored", "provider=&gpu_model=&limit=&sort=", []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1}},
		{"sort usd_per_hour", "sort=usd_per_hour", []string{V3, V4, V1, Z1, A3, A4, V2, Z2, A2, A1}},
		{"sort descending", "sort=-gpu_usd_per_hour", []string{A1, A2, Z2, Z1, V2, A4, A3, V1, V4, V3}},
		{"sort provider, then price", "sort=provider", []string{A3, A4, A2, A1, Z1, Z2, V3, V4, V1, V2}},
		{"sort provider descending, ties by price", "sort=-provider", []string{V3, V4, V1, V2, Z1, Z2, A3, A4, A2, A1}},
		{"sort gpu_model, then price", "sort=gpu_model", []string{Z1, A4, A3, V2, Z2, A2, A1, V1, V3, V4}},
		{"limit", "limit=3", []string{V3, V4, V1}},
		{"limit above count", "limit=100000", []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1}},
		{"limit after filter and sort", "pricing_model=spot&sort=-usd_per_hour&limit=2", []string{A2, Z2}},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(ts.getList(t, "/api/v1/prices?"+tt.query)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JSON:\n got %v\nwant %v", got, tt.want)
			}
			rows := ts.getCSV(t, "/api/v1/prices?format=csv&"+tt.query)
			if got := csvIDs(t, rows); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CSV:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestPricesJSONObject(t *testing.T) {
	ts := newTestServer(t, nil)
	byID := map[string]map[string]any{}
	list := ts.getList(t, "/api/v1/prices")
	for i, id := range ids(list) {
		byID[id] = list[i]
	}
	tests := []struct {
		name string
		id   string
		want map[string]any
	}{
		{"marketplace shape has its distribution", V1, map[string]any{
			"provider": "vastai", "instance_type": "1x_RTX4090", "region": "us", "zone": "", "geo": "na",
			"pricing_model": "on_demand", "gpu_model": "RTX4090", "gpu_form": "pcie", "gpu_memory_gb": 24.0, "gpu_count": 1.0,
			"vcpus": 8.5, "memory_gb": 31.3,
			"usd_per_hour": 0.35, "gpu_usd_per_hour": 0.35, "observed_at": "2025-06-01T12:00:00Z",
			"offers": 12.0, "available_gpus": 30.0,
			"p10_gpu_usd_per_hour": 0.3, "p50_gpu_usd_per_hour": 0.4, "p90_gpu_usd_per_hour": 0.6,
		}},
		{"spot quote has effective_at", A2, map[string]any{
			"provider": "aws", "instance_type": "p5.48xlarge", "region": "us-east-1", "zone": "us-east-1a", "geo": "na",
			"pricing_model": "spot", "gpu_model": "H100", "gpu_form": "sxm", "gpu_memory_gb": 80.0, "gpu_count": 8.0,
			"usd_per_hour": 40.0, "gpu_usd_per_hour": 5.0, "observed_at": "2025-06-01T12:00:00Z",
			"effective_at": "2025-06-01T11:30:00Z",
		}},
		{"unknown GPU keeps its raw name", V3, map[string]any{
			"provider": "vastai", "instance_type": "1x_Tesla_Z9", "region": "us", "zone": "", "geo": "na",
			"pricing_model": "on_demand", "gpu_model": "UNKNOWN", "gpu_form": "", "gpu_memory_gb": 0.0, "gpu_count": 1.0,
			"usd_per_hour": 0.2, "gpu_usd_per_hour": 0.2, "observed_at": "2025-06-01T12:00:00Z",
			"gpu_raw": "Tesla Z9", "offers": 1.0, "available_gpus": 1.0,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := byID[tt.id]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestPricesCSV(t *testing.T) {
	ts := newTestServer(t, nil)
	// The RTX 4090 and the A10 have their host's vCPUs and RAM, the A10G not.
	rows := ts.getCSV(t, "/api/v1/prices?gpu_model=A10,RTX4090,A10G&format=csv")
	want := [][]string{
		quoteHeader,
		{"vastai", "1x_RTX4090", "us", "", "na", "on_demand", "RTX4090", "pcie", "24", "1",
			"0.35", "0.35", "2025-06-01T12:00:00Z", "", "", "", "12", "30", "0.3", "0.4", "0.6", "8.5", "31.3", "", "", ""},
		{"aws", "g5.xlarge", "eu-west-1", "", "eu", "on_demand", "A10G", "", "24", "1",
			"1.006", "1.006", "2025-06-01T12:00:00Z", "", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"azure", "Standard_NV6ads_A10_v5", "westeurope", "", "eu", "on_demand", "A10", "pcie", "24", "0.1667",
			"0.454", strconv.FormatFloat(0.454/sixth, 'f', -1, 64), "2025-06-01T12:00:00Z", "", "", "", "", "", "", "", "", "6", "55", "", "", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("\n got %q\nwant %q", rows, want)
	}
}

func TestFormatNegotiation(t *testing.T) {
	tests := []struct {
		name, query, accept, want string
	}{
		{"default JSON", "", "", "application/json"},
		{"browser Accept", "", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"},
		{"Accept text/csv", "", "text/csv", "text/csv; charset=utf-8"},
		{"Accept prefers text/csv", "", "text/csv;q=0.9, application/json;q=0.5", "text/csv; charset=utf-8"},
		{"Accept prefers JSON", "", "application/json, text/csv", "application/json"},
		{"format wins over Accept", "format=json", "text/csv", "application/json"},
		{"format=csv", "format=csv", "application/json", "text/csv; charset=utf-8"},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/prices", "/api/v1/offers", "/api/v1/cheapest", "/api/v1/history", "/api/v1/providers", "/api/v1/gpus"} {
				rec := ts.do(http.MethodGet, path+"?"+tt.query, "Accept: "+tt.accept)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
				}
				if got := rec.Header().Get("Content-Type"); got != tt.want {
					t.Errorf("%s: Content-Type %q, want %q", path, got, tt.want)
				}
			}
		})
	}
}

func TestOffers(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"all, unpriceable last", "", []string{"1001", "1002", "2001", "3001"}},
		{"region filter is lower-cased", "region=SE", []string{"2001"}},
		{"geo", "geo=na", []string{"1001", "1002", "3001"}},
		{"provider and GPU, case-insensitive", "provider=vastai&gpu_model=rtx4090&limit=1", []string{"1001"}},
		{"descending keeps unpriceable last", "sort=-gpu_usd_per_hour", []string{"2001", "1002", "1001", "3001"}},
		{"sort usd_per_hour", "sort=usd_per_hour", []string{"1001", "1002", "3001", "2001"}},
		{"price filter drops unpriceable", "max_gpu_usd_per_hour=100", []string{"1001", "1002", "2001"}},
		{"other providers have none", "provider=aws", []string{}},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := ts.getList(t, "/api/v1/offers?"+tt.query)
			got := []string{}
			for _, o := range list {
				got = append(got, o["id"].(string))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JSON:\n got %v\nwant %v", got, tt.want)
			}
			rows := ts.getCSV(t, "/api/v1/offers?format=csv&"+tt.query)
			if got := column(t, rows, "id"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CSV:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestOffersObject(t *testing.T) {
	ts := newTestServer(t, nil)
	list := ts.getList(t, "/api/v1/offers?sort=-gpu_usd_per_hour")
	want := []map[string]any{
		{"id": "2001", "location": "Stockholm, SE", "provider": "vastai", "instance_type": "8x_H100", "region": "se", "zone": "",
			"geo": "eu", "pricing_model": "spot", "gpu_model": "H100", "gpu_form": "sxm", "gpu_memory_gb": 80.0, "gpu_count": 8.0,
			"usd_per_hour": 16.0, "gpu_usd_per_hour": 2.0, "observed_at": "2025-06-01T12:00:00Z"},
		{"id": "3001", "location": "Ohio, US", "provider": "vastai", "instance_type": "1x_RTX4090", "region": "us", "zone": "",
			"geo": "na", "pricing_model": "on_demand", "gpu_model": "RTX4090", "gpu_form": "pcie", "gpu_memory_gb": 24.0, "gpu_count": 0.0,
			"usd_per_hour": 0.5, "gpu_usd_per_hour": nil, "observed_at": "2025-06-01T12:00:00Z"},
	}
	if got := []map[string]any{list[0], list[3]}; !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %v\nwant %v", got, want)
	}
	rows := ts.getCSV(t, "/api/v1/offers?format=csv&sort=-gpu_usd_per_hour")
	if rows[0][0] != "id" || rows[0][1] != "location" {
		t.Errorf("CSV header %v does not start with id, location", rows[0])
	}
	if got := column(t, rows, "gpu_usd_per_hour"); !reflect.DeepEqual(got, []string{"2", "0.41", "0.35", ""}) {
		t.Errorf("CSV gpu_usd_per_hour = %q", got)
	}
}

func TestCheapest(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		// One per (gpu_model, gpu_memory_gb, pricing_model); unknown GPUs
		// per raw name. H100 spot: vastai 2 beats azure 3.5 and aws 5.
		{"default: by gpu_model, then price", "", []string{Z1, A4, A3, V2, A1, V1, V3, V4}},
		{"provider filter applies before picking", "provider=aws", []string{A4, A3, A2, A1}},
		{"pricing_model", "pricing_model=spot", []string{A4, V2}},
		{"several providers", "gpu_model=H100&provider=aws,azure", []string{Z2, A1}},
		{"price filter", "gpu_model=H100&max_gpu_usd_per_hour=4", []string{V2}},
		{"sort by price", "sort=gpu_usd_per_hour", []string{V3, V4, V1, A3, A4, V2, Z1, A1}},
		{"limit", "limit=2", []string{Z1, A4}},
		{"nothing matches", "gpu_model=B200", []string{}},
	}
	ts := newTestServer(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(ts.getList(t, "/api/v1/cheapest?"+tt.query)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JSON:\n got %v\nwant %v", got, tt.want)
			}
			rows := ts.getCSV(t, "/api/v1/cheapest?format=csv&"+tt.query)
			if got := csvIDs(t, rows); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CSV:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.States = nil })
	for _, path := range []string{"/api/v1/prices", "/api/v1/offers", "/api/v1/cheapest", "/api/v1/providers"} {
		t.Run(path, func(t *testing.T) {
			rec := ts.do(http.MethodGet, path)
			if got, want := rec.Body.String(), "{\"data\":[]}\n"; got != want {
				t.Errorf("body %q, want %q", got, want)
			}
			if rows := ts.getCSV(t, path+"?format=csv"); len(rows) != 1 {
				t.Errorf("CSV has %d rows, want the header only", len(rows))
			}
		})
	}
}

// TestConcurrentReads serves requests while the published states change,
// for the race detector: handlers must only read what they are given.
func TestConcurrentReads(t *testing.T) {
	var cur atomic.Pointer[[]*collectors.State]
	states := fixtureStates()
	cur.Store(&states)
	ts := newTestServer(t, func(o *Options) { o.States = func() []*collectors.State { return *cur.Load() } })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				for _, p := range []string{"/api/v1/prices", "/api/v1/offers", "/api/v1/cheapest", "/api/v1/providers"} {
					if rec := ts.do(http.MethodGet, p); rec.Code != http.StatusOK {
						t.Errorf("%s: %d", p, rec.Code)
					}
				}
			}
		})
	}
	for range 20 {
		next := fixtureStates()
		cur.Store(&next)
	}
	wg.Wait()
}

func TestCheapestSkipsOutOfStock(t *testing.T) {
	q := func(region string, usd float64, stock price.Stock) price.Quote {
		return price.Quote{Provider: "lambda", InstanceType: "gpu_1x_h100_pcie", Region: region, Geo: "na",
			PricingModel: price.OnDemand, GPUModel: "H100", GPUForm: "pcie", GPUMemoryGB: 80, GPUCount: 1,
			USDPerHour: usd, Stock: stock, ObservedAt: t0}
	}
	states := func() []*collectors.State {
		return []*collectors.State{{Provider: "lambda", Success: true, Snapshot: &price.Snapshot{Provider: "lambda", Time: t0,
			Quotes: []price.Quote{q("us-east-1", 2.0, price.StockNone), q("us-west-1", 2.5, price.StockAvailable)}}}}
	}
	ts := newTestServer(t, func(o *Options) { o.States = states })
	body := ts.do(http.MethodGet, "/api/v1/cheapest").Body.String()
	if !strings.Contains(body, `"region":"us-west-1"`) || strings.Contains(body, `"region":"us-east-1"`) {
		t.Errorf("cheapest picked an out-of-stock quote: %s", body)
	}
	if body := ts.do(http.MethodGet, "/api/v1/prices").Body.String(); !strings.Contains(body, `"stock":"none"`) {
		t.Errorf("prices hide the out-of-stock quote or its stock: %s", body)
	}
}

// TestQuoteHeaderInREADME: the README lists the quote CSV's columns in
// their order.
func TestQuoteHeaderInREADME(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "`" + strings.Join(quoteHeader, ",") + "`"; !strings.Contains(string(b), want) {
		t.Errorf("the README does not list the quote CSV's columns as %s", want)
	}
}

// TestQuoteJSONInstanceFacts: zones, vCPUs and memory are in the JSON
// only when a provider gives them, zones as an array.
func TestQuoteJSONInstanceFacts(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    price.Quote
		want string // what the answer must contain, or must not when absent
	}{
		{"given", price.Quote{Stock: price.StockAvailable, Zones: "1,2", VCPUs: 96, MemoryGB: 1900},
			`"stock":"available","zones":["1","2"],"vcpus":96,"memory_gb":1900`},
		{"absent", price.Quote{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(toQuoteJSON(&tc.q))
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("%s\nwant it to contain %s", got, tc.want)
			}
			if tc.want == "" && (strings.Contains(got, `"zones"`) || strings.Contains(got, `"vcpus"`) || strings.Contains(got, `"memory_gb"`) || strings.Contains(got, `"stock"`)) {
				t.Errorf("absent facts rendered: %s", got)
			}
		})
	}
}

// TestQuoteCSVCurrency: a quote priced in EUR carries its currency and
// amount in the last columns, a USD one leaves them empty.
func TestQuoteCSVCurrency(t *testing.T) {
	eur := price.Quote{Provider: "scaleway", InstanceType: "H100-1-80G", GPUCount: 1, USDPerHour: 3.18, Currency: "EUR", CurrencyPerHour: 2.73}
	usd := price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", GPUCount: 8, USDPerHour: 55.04}
	for _, tc := range []struct {
		q    price.Quote
		want []string
	}{{eur, []string{"EUR", "2.73"}}, {usd, []string{"", ""}}} {
		rec := appendQuoteCSV(nil, &tc.q)
		if len(rec) != len(quoteHeader) {
			t.Fatalf("%d fields, %d columns", len(rec), len(quoteHeader))
		}
		if got := rec[len(rec)-2:]; !slices.Equal(got, tc.want) || quoteHeader[len(rec)-2] != "currency" {
			t.Errorf("%s: currency columns %q, want %q", tc.q.Provider, got, tc.want)
		}
	}
}
