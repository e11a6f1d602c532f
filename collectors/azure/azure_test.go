package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"go.yaml.in/yaml/v3"
)

// newCollector builds the collector the way the daemon does, pointed at url.
func newCollector(t testing.TB, url string, regions []string, client *http.Client) *Collector {
	t.Helper()
	cfg := config.Default()
	s := cfg.Providers[Name].(*Config)
	s.Endpoint, s.Regions, s.Concurrency = url+fakecloud.AzurePath, regions, 3
	if client == nil {
		client = collectortest.FastClient(collectors.HTTPOptions{})
	}
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: client, Catalog: testCatalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Collector)
}

// testCatalog is the embedded catalog without the NC A10 v4 sizes, which
// stand for a size Azure added and the catalog does not know yet: the
// expected quotes stay right if the catalog learns them one day.
func testCatalog(t testing.TB) *price.Catalog {
	t.Helper()
	def := price.DefaultCatalog()
	var aliases []price.Alias
	for _, a := range def.Aliases(Name) {
		if !strings.HasSuffix(a.Raw, "_A10_v4") {
			aliases = append(aliases, a)
		}
	}
	data, err := yaml.Marshal(map[string]any{"gpus": def.GPUs(), "aliases": map[string]any{Name: aliases}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := price.ParseCatalog(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quote(size string, model price.PricingModel, usd float64, gpu string, form string, mem, count float64) price.Quote {
	return price.Quote{
		Provider: "azure", InstanceType: size, Region: "westus3", Geo: "na", PricingModel: model,
		GPUModel: gpu, GPUForm: form, GPUMemoryGB: mem, GPUCount: count, GPURaw: size, USDPerHour: usd,
	}
}

// westus3 is what the recorded westus3 rows must become. The recording
// also holds, for this region, rows that must not: Windows ("... Series
// Windows" and "... Srs Win"), Windows spot, Low Priority, Reservation,
// DevTestConsumption, Cloud Services, CPU-only D-series (on-demand and
// spot), and a duplicate of the NV6ads_A10_v5 row.
var westus3 = []price.Quote{
	quote("Standard_NC24ads_A100_v4", price.OnDemand, 3.673, "A100", "pcie", 80, 1),
	quote("Standard_NC24ads_A100_v4", price.Spot, 0.7346, "A100", "pcie", 80, 1),
	quote("Standard_NC40ads_H100_v5", price.OnDemand, 6.98, "H100NVL", "pcie", 94, 1),
	quote("Standard_NC48ads_A100_v4", price.OnDemand, 7.346, "A100", "pcie", 80, 2),
	quote("Standard_NC80adis_H100_v5", price.OnDemand, 13.96, "H100NVL", "pcie", 94, 2),
	// A zero price is passed on: the Runner rejects and counts it.
	quote("Standard_NC80adis_H100_v5", price.Spot, 0, "H100NVL", "pcie", 94, 2),
	// Not in the catalog: kept as UNKNOWN, one GPU per instance.
	quote("Standard_NC8ads_A10_v4", price.OnDemand, 0.88, price.Unknown, "", 0, 1),
	quote("Standard_ND96isr_H100_v5", price.OnDemand, 98.32, "H100", "sxm", 80, 8),
	quote("Standard_ND96isr_H100_v5", price.Spot, 36.3784, "H100", "sxm", 80, 8),
	quote("Standard_NV12ads_A10_v5", price.OnDemand, 0.908, "A10", "pcie", 24, 0.3333),
	quote("Standard_NV18ads_A10_v5", price.OnDemand, 1.6, "A10", "pcie", 24, 0.5),
	quote("Standard_NV36ads_A10_v5", price.OnDemand, 3.2, "A10", "pcie", 24, 1),
	quote("Standard_NV6ads_A10_v5", price.OnDemand, 0.454, "A10", "pcie", 24, 0.1667),
	quote("Standard_NV6ads_A10_v5", price.Spot, 0.0908, "A10", "pcie", 24, 0.1667),
}

// westus3Served is how many westus3 rows pass the fake's server-side
// filter: the 14 above, the "Srs Win" and Cloud Services rows, and the
// duplicate.
const westus3Served = 17

func TestCollectRecordedRegion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pageSize int
		loose    bool
	}{
		{"one page", 1000, false},
		{"pages of four", 4, false},
		{"pages of one", 1, false},
		{"page size equal to the rows", westus3Served, false},
		{"API ignoring all but the region", 1000, true},
		{"API ignoring all but the region, pages of three", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: tc.pageSize, Loose: tc.loose})
			c := newCollector(t, collectortest.Serve(t, fake), []string{"westus3"}, nil)
			snap, err := c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(snap.Quotes, westus3) {
				t.Errorf("quotes:\n%s\nwant:\n%s", dump(snap.Quotes), dump(westus3))
			}
			if !tc.loose {
				pages := (westus3Served + tc.pageSize - 1) / tc.pageSize
				if got := fake.Faults.Requests(); got != pages {
					t.Errorf("%d requests, want %d pages", got, pages)
				}
			}
		})
	}
}

func dump(qs []price.Quote) string {
	var b strings.Builder
	for _, q := range qs {
		fmt.Fprintf(&b, "  %+v\n", q)
	}
	return b.String()
}

// TestPerGPUPrices checks the per-GPU prices of the recorded region against
// values computed by hand, fractional A10 partitions included.
func TestPerGPUPrices(t *testing.T) {
	want := map[string]float64{
		"Standard_NC24ads_A100_v4/on_demand":  3.673,
		"Standard_NC24ads_A100_v4/spot":       0.7346,
		"Standard_NC40ads_H100_v5/on_demand":  6.98,
		"Standard_NC48ads_A100_v4/on_demand":  3.673,  // 7.346 / 2
		"Standard_NC80adis_H100_v5/on_demand": 6.98,   // 13.96 / 2
		"Standard_NC80adis_H100_v5/spot":      0,      // rejected later by the Runner
		"Standard_NC8ads_A10_v4/on_demand":    0.88,   // unknown: per instance
		"Standard_ND96isr_H100_v5/on_demand":  12.29,  // 98.32 / 8
		"Standard_ND96isr_H100_v5/spot":       4.5473, // 36.3784 / 8
		"Standard_NV12ads_A10_v5/on_demand":   2.7243, // 0.908 / 0.3333
		"Standard_NV18ads_A10_v5/on_demand":   3.2,    // 1.6 / 0.5
		"Standard_NV36ads_A10_v5/on_demand":   3.2,
		"Standard_NV6ads_A10_v5/on_demand":    2.7235, // 0.454 / 0.1667
		"Standard_NV6ads_A10_v5/spot":         0.5447, // 0.0908 / 0.1667
	}
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewAzure(fakecloud.AzureOptions{})), []string{"westus3"}, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != len(want) {
		t.Fatalf("%d quotes, want %d", len(snap.Quotes), len(want))
	}
	for _, q := range snap.Quotes {
		k := q.InstanceType + "/" + string(q.PricingModel)
		if got := q.GPUUSDPerHour(); math.Abs(got-want[k]) > 5e-5 {
			t.Errorf("%s: %.6f USD per GPU-hour, want %.4f", k, got, want[k])
		}
	}
}

func TestFilterSent(t *testing.T) {
	const want = "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'" +
		" and armRegionName eq 'westus3' and contains(armSkuName, 'Standard_N') eq true" +
		" and contains(productName, 'Windows') eq false and contains(meterName, 'Low Priority') eq false"
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: 10})
	rec := &collectortest.Recorder{Next: fake}
	url := collectortest.Serve(t, rec)
	// Upper case and a repeat in the config: the API's names are lower
	// case and the preview version compares them exactly.
	c := newCollector(t, url, []string{"WestUS3", "westus3"}, nil)
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := rec.Requests()
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2 (one region, two pages)", len(seen))
	}
	for i, r := range seen {
		q := r.URL.Query()
		if got := q.Get("$filter"); got != want {
			t.Errorf("request %d: $filter\n %s\nwant\n %s", i, got, want)
		}
		if got := q.Get("api-version"); got != "2023-01-01-preview" {
			t.Errorf("request %d: api-version %q", i, got)
		}
		if r.URL.Path != fakecloud.AzurePath {
			t.Errorf("request %d: path %q", i, r.URL.Path)
		}
	}
	if raw := seen[0].URL.RawQuery; !strings.HasPrefix(raw, "api-version=2023-01-01-preview&$filter=serviceName%20eq%20%27Virtual%20Machines%27") {
		t.Errorf("first query not in the documented form: %s", raw)
	}
	if got := seen[1].URL.Query().Get("$skip"); got != "10" {
		t.Errorf("second page $skip = %q, want 10", got)
	}
}

// TestNextPageOnEndpoint checks that NextPageLink's host is not followed:
// the walk stays on the configured endpoint.
func TestNextPageOnEndpoint(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: 5})
	var hosts sync.Map
	url := collectortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answer as if the API lived elsewhere, as the real one names
		// prices.azure.com:443 in its links.
		hosts.Store(r.Host, true)
		r.Host = "prices.example.invalid:443"
		fake.ServeHTTP(w, r)
	}))
	c := newCollector(t, url, []string{"westus3"}, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.Quotes, westus3) {
		t.Errorf("quotes differ:\n%s", dump(snap.Quotes))
	}
	if fake.Faults.Requests() != 4 {
		t.Errorf("%d requests, want 4", fake.Faults.Requests())
	}
}

func TestCollectEveryRegion(t *testing.T) {
	strict := fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: 7})
	c := newCollector(t, collectortest.Serve(t, strict), nil, nil)
	if !reflect.DeepEqual(c.regions, DefaultRegions()) {
		t.Fatalf("no regions configured: walks %v, want the default list", c.regions)
	}
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	inFake := map[string]bool{}
	for _, r := range strict.Regions() {
		inFake[r] = true
	}
	got := map[string]int{}
	unknown := map[string]bool{}
	keys := map[price.SeriesKey]bool{}
	zero := 0
	for _, q := range snap.Quotes {
		got[q.Region]++
		if !inFake[q.Region] {
			t.Errorf("quote for %s, which the fake does not have", q.Region)
		}
		if q.Geo == "" || q.Geo != price.Geo(q.Region) {
			t.Errorf("%s: geo %q", q.Region, q.Geo)
		}
		if !strings.HasPrefix(q.InstanceType, "Standard_N") || strings.HasPrefix(q.InstanceType, "Standard_NP") {
			t.Errorf("%s %s: not a GPU size", q.Region, q.InstanceType)
		}
		if q.GPUModel == price.Unknown {
			unknown[q.InstanceType] = true
		} else if q.GPUCount <= 0 || q.GPUMemoryGB <= 0 {
			t.Errorf("%s %s: known GPU without count or memory: %+v", q.Region, q.InstanceType, q)
		}
		if keys[q.Key()] {
			t.Errorf("series %s twice", q.Key())
		}
		keys[q.Key()] = true
		if q.USDPerHour == 0 {
			zero++
		}
	}
	for r := range inFake {
		if got[r] == 0 {
			t.Errorf("no quotes for %s", r)
		}
	}
	wantUnknown := map[string]bool{"Standard_NC8ads_A10_v4": true, "Standard_NC16ads_A10_v4": true}
	if !reflect.DeepEqual(unknown, wantUnknown) {
		t.Errorf("unknown sizes %v, want %v", unknown, wantUnknown)
	}
	if zero != 2 {
		t.Errorf("%d zero prices, want the 2 recorded", zero)
	}

	// The client-side filters alone give the same answer as the server's.
	loose := fakecloud.NewAzure(fakecloud.AzureOptions{Loose: true})
	snap2, err := newCollector(t, collectortest.Serve(t, loose), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.Quotes, snap2.Quotes) {
		t.Errorf("an API that filters only by region gives %d quotes, the filtering one %d", len(snap2.Quotes), len(snap.Quotes))
	}
}

// TestContract runs the collector contract suite against the fake's
// recorded region westus3.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		Configure: func(c *Config) { c.Regions = []string{"westus3"} },
		Tune:      func(c *Collector) { c.maxPages = 5 },
		ErrPrefix: "azure region westus3: ",
		APIs: []collectortest.API[*Config]{{Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx: {Body: `{"Error":{"Code":"ServiceUnavailable"`},
			collectortest.WrongTypes: {Shapes: []string{
				"string into Go struct field item.retailPrice",
				"object into Go struct field page.Items",
			}},
			// No region has rows: the error names none.
			collectortest.Empty:        {NoPrefix: true},
			collectortest.EndlessPages: {Is: errPagination, Requests: 5},
		}}},
	})
}

// TestRegionFailureFailsRefresh checks that one failing region fails the
// refresh, named, while the others succeed.
func TestRegionFailureFailsRefresh(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
	url := collectortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Query().Get("$filter"), "'japaneast'") {
			http.Error(w, `{"Error":{"Code":"InternalServerError","Message":"boom"}}`, http.StatusInternalServerError)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	c := newCollector(t, url, []string{"eastus", "westus3", "japaneast", "uksouth"}, nil)
	_, err := c.Collect(context.Background())
	if !strings.HasPrefix(fmt.Sprint(err), "azure region japaneast: ") || collectors.Reason(err) != "http_5xx" {
		t.Fatalf("want the japaneast 5xx, got %v", err)
	}
}

// TestOneEmptyRegion documents that a region without rows is not an error:
// most regions sell no GPUs at all.
func TestOneEmptyRegion(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
	c := newCollector(t, collectortest.Serve(t, fake), []string{"westus3", "norwaywest"}, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap.Quotes, westus3) {
		t.Errorf("quotes differ:\n%s", dump(snap.Quotes))
	}
}

// TestRunner runs a refresh through the Runner's checks: the zero spot
// price is rejected and counted, the rest published.
func TestRunner(t *testing.T) {
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewAzure(fakecloud.AzureOptions{})), []string{"westus3"}, nil)
	snap, err := collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), collectors.Job{
		Collector: c,
		Settings:  collectors.Settings{Interval: time.Hour, Timeout: 10 * time.Second, StaleAfter: 3 * time.Hour, MaxGPUUSDPerHour: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != len(westus3)-1 {
		t.Errorf("%d quotes published, want %d", len(snap.Quotes), len(westus3)-1)
	}
	for _, q := range snap.Quotes {
		if q.USDPerHour == 0 {
			t.Errorf("zero price published: %+v", q)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func TestDropReason(t *testing.T) {
	base := item{
		CurrencyCode: "USD", RetailPrice: ptr(3.673), ArmRegionName: "eastus", EffectiveStartDate: "2024-02-01T00:00:00Z",
		MeterName: "NC24ads A100 v4", ProductName: "Virtual Machines NCadsA100v4 Series", SkuName: "NC24ads A100 v4",
		ServiceName: "Virtual Machines", UnitOfMeasure: "1 Hour", Type: "Consumption", ArmSkuName: "Standard_NC24ads_A100_v4",
	}
	for _, tc := range []struct {
		name   string
		edit   func(*item)
		reason string
	}{
		{"linux on-demand", func(*item) {}, ""},
		{"spot", func(it *item) { it.MeterName += " Spot"; it.SkuName += " Spot" }, ""},
		{"zero price", func(it *item) { it.RetailPrice = ptr(0) }, ""},
		{"region in other case", func(it *item) { it.ArmRegionName = "EastUS" }, ""},
		{"another region", func(it *item) { it.ArmRegionName = "eastus2" }, "another region"},
		{"cloud services service", func(it *item) { it.ServiceName = "Cloud Services" }, "not a virtual machine"},
		{"reservation", func(it *item) { it.Type = "Reservation" }, "not pay-as-you-go"},
		{"dev/test", func(it *item) { it.Type = "DevTestConsumption" }, "not pay-as-you-go"},
		{"euro", func(it *item) { it.CurrencyCode = "EUR" }, "not USD"},
		{"per month", func(it *item) { it.UnitOfMeasure = "1/Month" }, "not hourly"},
		{"per 100 hours", func(it *item) { it.UnitOfMeasure = "100 Hours" }, "not hourly"},
		{"CPU size", func(it *item) { it.ArmSkuName = "Standard_D4s_v5" }, "not N-series"},
		{"no size", func(it *item) { it.ArmSkuName = "" }, "not N-series"},
		{"FPGA size", func(it *item) { it.ArmSkuName = "Standard_NP10s" }, "FPGA"},
		{"Windows", func(it *item) { it.ProductName += " Windows" }, "Windows"},
		{"Win", func(it *item) { it.ProductName = "Virtual Machines NCadsH100v5 Srs Win" }, "Windows"},
		{"Win in the middle", func(it *item) { it.ProductName = "Virtual Machines NCv3 Win Series" }, "Windows"},
		{"cloud services product", func(it *item) { it.ProductName = "NCadsA100v4 Series Cloud Services" }, "Cloud Services"},
		{"low priority meter", func(it *item) { it.MeterName += " Low Priority" }, "Low Priority"},
		{"low priority sku", func(it *item) { it.SkuName += " Low Priority" }, "Low Priority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := base
			tc.edit(&it)
			if got := dropReason(&it, "eastus"); got != tc.reason {
				t.Errorf("dropReason = %q, want %q", got, tc.reason)
			}
		})
	}
}

func TestBetter(t *testing.T) {
	row := func(p float64, date string) *item { return &item{RetailPrice: &p, EffectiveStartDate: date} }
	const old, recent = "2023-01-01T00:00:00Z", "2024-06-01T00:00:00Z"
	for _, tc := range []struct {
		name string
		a, b *item
		want bool
	}{
		{"newer replaces older", row(2, recent), row(1, old), true},
		{"older does not replace newer", row(1, old), row(2, recent), false},
		{"same date: lower wins", row(1, old), row(2, old), true},
		{"identical rows: keep the first", row(1, old), row(1, old), false},
		{"a price beats a newer zero", row(1, old), row(0, recent), true},
		{"a zero never replaces a price", row(0, recent), row(1, old), false},
		{"fractional seconds", row(1, "2024-06-01T00:00:00.5Z"), row(1, "2024-06-01T00:00:00Z"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := better(tc.a, tc.b); got != tc.want {
				t.Errorf("better = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIsSpot(t *testing.T) {
	for _, tc := range []struct {
		meter, sku string
		want       bool
	}{
		{"NC24ads A100 v4", "NC24ads A100 v4", false},
		{"NC24ads A100 v4 Spot", "NC24ads A100 v4 Spot", true},
		{"NC24ads A100 v4", "NC24ads A100 v4 Spot", true},
		{"NC6s v3 Low Priority", "NC6s v3 Low Priority", false},
		{"Spotlight NC6", "NC6", false},
	} {
		if got := isSpot(&item{MeterName: tc.meter, SkuName: tc.sku}); got != tc.want {
			t.Errorf("isSpot(%q, %q) = %v, want %v", tc.meter, tc.sku, got, tc.want)
		}
	}
}

func TestDefaultRegions(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range DefaultRegions() {
		if r != strings.ToLower(r) || seen[r] {
			t.Errorf("%q: not lower case or listed twice", r)
		}
		seen[r] = true
		if price.Geo(r) == "" {
			t.Errorf("%q has no geo", r)
		}
	}
	for _, r := range fakecloud.NewAzure(fakecloud.AzureOptions{}).Regions() {
		if !seen[r] {
			t.Errorf("the fake's region %s is not in the default list", r)
		}
	}
}

func TestBadEndpointRefused(t *testing.T) {
	cfg := config.Builtin()
	cfg.Providers[Name].(*Config).Endpoint = "prices.azure.com/api/retail/prices"
	want := `providers.azure.endpoint: "prices.azure.com/api/retail/prices" is not an http(s) URL`
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Fatalf("Validate = %v, want %s", err, want)
	}
}

// BenchmarkCollect walks every region of a fake serving 100k price rows
// (the recorded ones and older variations of them, pages of 1000): HTTP
// from a loopback fake, decoding, filtering and de-duplication. Its
// per-row figures are per price row.
//
//	go test -run '^$' -bench 'Collect$' -benchtime 3x ./collectors/azure/
func BenchmarkCollect(b *testing.B) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{Synthesize: 100_000})
	c := newCollector(b, collectortest.Serve(b, fake), fake.Regions(), nil)
	if _, err := c.Collect(context.Background()); err != nil {
		b.Fatal(err)
	}
	collectortest.PerRow(b, fake.Len(), func() {
		if _, err := c.Collect(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDecode isolates the decoder: the pages of one region of a fake
// serving 100k rows, read from memory, whole (json.Decoder.Decode, which
// reads a page whole before decoding it: the decoder before DecodeJSON)
// and streamed (collectors.DecodeJSON, as DoJSON does), each row
// filtered and de-duplicated as the walk does. Its per-row figures are
// per price row.
//
//	go test -run '^$' -bench Decode -benchtime 3x ./collectors/azure/
func BenchmarkDecode(b *testing.B) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{Synthesize: 100_000})
	const region = "eastus"
	c := newCollector(b, "http://fake", []string{region}, nil)
	var pages [][]byte
	for u := c.firstPage(region); u != ""; {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		var p struct{ NextPageLink string }
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			b.Fatal(err)
		}
		pages = append(pages, rec.Body.Bytes())
		u = ""
		if p.NextPageLink != "" {
			u, _ = c.nextPage(p.NextPageLink)
		}
	}
	collectortest.EachDecoder(b, func(b *testing.B, way func(io.Reader, any) error) {
		decode := func() int {
			best, rows := map[seriesKey]*item{}, 0
			for _, body := range pages {
				var p page
				p.Items.Each = func(it *item) {
					if it.RetailPrice == nil || dropReason(it, region) != "" {
						return
					}
					k := seriesKey{strings.ToLower(it.ArmSkuName), isSpot(it)}
					if old, ok := best[k]; !ok || better(it, old) {
						kept := *it
						best[k] = &kept
					}
				}
				if err := way(bytes.NewReader(body), &p); err != nil {
					b.Fatal(err)
				}
				rows += p.Items.Good
			}
			return rows
		}
		collectortest.PerRow(b, decode(), func() { decode() })
		b.ReportMetric(float64(len(pages)), "pages")
	})
}

// TestSynthesizedRows: the benchmarks' scaled fake (older variations of
// the recorded rows, over many pages) prices every region as the recorded
// rows do, so its figures are those of a real walk.
func TestSynthesizedRows(t *testing.T) {
	recorded := fakecloud.NewAzure(fakecloud.AzureOptions{})
	scaled := fakecloud.NewAzure(fakecloud.AzureOptions{Synthesize: 20_000})
	if scaled.Len() != 20_000 {
		t.Fatalf("%d rows, want 20000", scaled.Len())
	}
	want, err := newCollector(t, collectortest.Serve(t, recorded), recorded.Regions(), nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := newCollector(t, collectortest.Serve(t, scaled), scaled.Regions(), nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Quotes, want.Quotes) {
		t.Errorf("%d quotes from the scaled fake, %d recorded; they differ", len(got.Quotes), len(want.Quotes))
	}
	if scaled.Faults.Requests() <= len(scaled.Regions()) {
		t.Errorf("%d requests for %d regions: the scaled rows fit in one page each", scaled.Faults.Requests(), len(scaled.Regions()))
	}
}
