package lambda

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

const testKey = "lambda-s3cret"

// newCollector builds a collector for endpoint with the default config,
// the key testKey, as changed by edit (which may be nil).
func newCollector(t testing.TB, endpoint string, edit func(*Config), logger *slog.Logger) *Collector {
	t.Helper()
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{Logger: logger}, func(c *Config) {
		c.APIKey = testKey
		if edit != nil {
			edit(c)
		}
	})
}

// instanceType is one expected instance type: its GPU, price and the
// regions with capacity.
type instanceType struct {
	name, raw   string
	model, form string
	mem, count  float64
	usd         float64
	capacity    []string
	vcpus, ram  float64 // specs.vcpus, specs.memory_gib
}

// quotes expands instance types into one quote per region, in the
// collector's order.
func quotes(types []instanceType, regions []string) []price.Quote {
	var out []price.Quote
	for _, it := range types {
		for _, r := range regions {
			stock := price.StockNone
			if slices.Contains(it.capacity, r) {
				stock = price.StockAvailable
			}
			out = append(out, price.Quote{Provider: Name, InstanceType: it.name, Region: r, PricingModel: price.OnDemand,
				GPUModel: it.model, GPUForm: it.form, GPUMemoryGB: it.mem, GPUCount: it.count, GPURaw: it.raw,
				VCPUs: it.vcpus, MemoryGB: it.ram, USDPerHour: it.usd, Stock: stock})
		}
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region))
	})
	return out
}

// recordedTypes is fakecloud/testdata/lambda/instance-types.json read by
// hand; usd is price_cents_per_hour / 100.
var recordedTypes = []instanceType{
	{"gpu_1x_gh200", "GH200 (96 GB)", "GH200", "", 96, 1, 1.49, []string{"us-east-3"}, 64, 432},
	{"gpu_1x_h100_pcie", "H100 (80 GB PCIe)", "H100", "pcie", 80, 1, 2.49, []string{"us-west-3", "us-south-1"}, 26, 200},
	{"gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", "H100", "sxm", 80, 1, 3.29, []string{"us-south-2"}, 26, 225},
	{"gpu_2x_h100_sxm5", "H100 (80 GB SXM5)", "H100", "sxm", 80, 2, 6.38, nil, 52, 450},
	{"gpu_4x_h100_sxm5", "H100 (80 GB SXM5)", "H100", "sxm", 80, 4, 12.36, nil, 104, 900},
	{"gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", "H100", "sxm", 80, 8, 23.92, []string{"us-east-1", "us-midwest-1"}, 208, 1800},
	{"gpu_8x_b200_sxm6", "B200 (180 GB SXM6)", "B200", "sxm", 180, 8, 47.92, []string{"us-south-2"}, 208, 2900},
	{"gpu_1x_a100_sxm4", "A100 (40 GB SXM4)", "A100", "sxm", 40, 1, 1.29, []string{"us-east-1", "asia-south-1"}, 30, 200},
	{"gpu_8x_a100_80gb_sxm4", "A100 (80 GB SXM4)", "A100", "sxm", 80, 8, 14.32, []string{"us-midwest-1"}, 240, 1800},
	{"gpu_1x_a100", "A100 (40 GB PCIe)", "A100", "pcie", 40, 1, 1.29, nil, 30, 200},
	{"gpu_2x_a100", "A100 (40 GB PCIe)", "A100", "pcie", 40, 2, 2.58, nil, 60, 400},
	{"gpu_1x_a10", "A10 (24 GB PCIe)", "A10", "pcie", 24, 1, 0.75, []string{"us-east-1", "us-west-1", "europe-central-1"}, 30, 200},
	{"gpu_1x_a6000", "A6000 (48 GB)", "A6000", "pcie", 48, 1, 0.8, []string{"us-south-1"}, 14, 100},
	{"gpu_2x_a6000", "A6000 (48 GB)", "A6000", "pcie", 48, 2, 1.6, nil, 28, 200},
	{"gpu_4x_a6000", "A6000 (48 GB)", "A6000", "pcie", 48, 4, 3.2, []string{"us-south-1"}, 56, 400},
	{"gpu_1x_rtx6000", "RTX 6000 (24 GB)", "RTX6000", "pcie", 24, 1, 0.5, nil, 14, 46},
	{"gpu_8x_v100", "Tesla V100 (16 GB)", "V100", "", 16, 8, 4.4, []string{"us-south-1"}, 88, 448},
}

func TestCollectRecorded(t *testing.T) {
	fake := fakecloud.NewLambda(fakecloud.LambdaOptions{APIKey: testKey})
	snap, err := newCollector(t, collectortest.Serve(t, fake), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Provider != Name {
		t.Errorf("provider %q", snap.Provider)
	}
	if len(PublicRegions) != 17 {
		t.Fatalf("%d public regions, want 17", len(PublicRegions))
	}
	collectortest.SameQuotes(t, snap.Quotes, quotes(recordedTypes, PublicRegions))
	if got := fake.Faults.Requests(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

// TestParsing feeds instance types the recorded data does not hold.
func TestParsing(t *testing.T) {
	const data = `{"data": {
	  "gpu_2x_h100_new": {"instance_type": {"name": "gpu_2x_h100_new", "description": "2x H100 (80 GB SXM5)", "gpu_description": "H100 (80 GB SXM5)", "price_cents_per_hour": 700, "specs": {"vcpus": 52, "memory_gib": 450, "storage_gib": 5632, "gpus": 0}}, "regions_with_capacity_available": [{"name": "US-EAST-1", "description": "Virginia, USA"}]},
	  "gpu_4x_mystery": {"instance_type": {"name": "gpu_4x_mystery", "description": "Mystery", "gpu_description": "Mystery X9 (141 GB)", "price_cents_per_hour": 1999, "specs": {"vcpus": 52, "memory_gib": 450, "storage_gib": 5632, "gpus": 0}}, "regions_with_capacity_available": []},
	  "gpu_1x_other": {"instance_type": {"name": "gpu_1x_other", "description": "1x Other", "gpu_description": "Other  GPU", "price_cents_per_hour": 99, "specs": {"vcpus": 8, "memory_gib": 32, "storage_gib": 512, "gpus": 1}}, "regions_with_capacity_available": [{"name": "us-east-1", "description": "Virginia, USA"}]},
	  "cpu_4x_general": {"instance_type": {"name": "cpu_4x_general", "description": "4x vCPU", "gpu_description": "", "price_cents_per_hour": 10, "specs": {"vcpus": 4, "memory_gib": 16, "storage_gib": 64, "gpus": 0}}, "regions_with_capacity_available": [{"name": "us-east-1", "description": "Virginia, USA"}]}
	}}`
	fake := fakecloud.NewLambda(fakecloud.LambdaOptions{Data: []byte(data)})
	regions := []string{"us-east-1", "us-west-1"}
	c := newCollector(t, collectortest.Serve(t, fake), func(c *Config) { c.Regions = regions }, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	collectortest.SameQuotes(t, snap.Quotes, quotes([]instanceType{
		// specs.gpus 0: the count comes from the description; capacity
		// region names are compared in lower case.
		{"gpu_2x_h100_new", "H100 (80 GB SXM5)", "H100", "sxm", 80, 2, 7, []string{"us-east-1"}, 52, 450},
		// Unknown GPU, count from the name, memory from the description.
		{"gpu_4x_mystery", "Mystery X9 (141 GB)", price.Unknown, "", 141, 4, 19.99, nil, 52, 450},
		// Unknown GPU without memory; white space normalized.
		{"gpu_1x_other", "Other GPU", price.Unknown, "", 0, 1, 0.99, []string{"us-east-1"}, 8, 32},
		// cpu_4x_general has no GPU: skipped.
	}, regions))
}

func TestRegionsConfigured(t *testing.T) {
	fake := fakecloud.NewLambda(fakecloud.LambdaOptions{})
	c := newCollector(t, collectortest.Serve(t, fake), func(c *Config) {
		c.Regions = []string{"us-south-1", " US-EAST-1 ", "us-south-1", "mars-north-1"}
	}, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	collectortest.SameQuotes(t, snap.Quotes, quotes(recordedTypes, []string{"us-south-1", "us-east-1", "mars-north-1"}))
}

func TestRequest(t *testing.T) {
	rec := &collectortest.Recorder{Next: fakecloud.NewLambda(fakecloud.LambdaOptions{APIKey: testKey})}
	c := newCollector(t, collectortest.Serve(t, rec)+"/", nil, nil) // a trailing slash is tolerated
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/instance-types" || r.URL.RawQuery != "" {
		t.Errorf("%s %s, want GET /api/v1/instance-types", r.Method, r.URL)
	}
	for h, want := range map[string]string{"Authorization": "Bearer " + testKey, "Accept": "application/json"} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s %q, want %q", h, got, want)
		}
	}
	if len(r.Body) != 0 {
		t.Errorf("a body was sent: %q", r.Body)
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name         string
		key          config.Secret
		opts         fakecloud.LambdaOptions
		wantReason   string
		wantErrIs    error
		wantInErr    []string
		wantRequests int
	}{
		{
			name: "missing: no request, the config keys named", key: "",
			wantReason: "other", wantErrIs: ErrNoAPIKey, wantRequests: 0,
			wantInErr: []string{"providers.lambda.api_key", "providers.lambda.api_key_file"},
		},
		{
			name: "wrong: 401", key: "wrong-s3cret", opts: fakecloud.LambdaOptions{APIKey: testKey},
			wantReason: "http_4xx", wantRequests: 1,
			wantInErr: []string{"API key was refused", "providers.lambda.api_key", "HTTP 401", "global/invalid-api-key"},
		},
		{
			name: "inactive account: 403", key: "inactive-s3cret", opts: fakecloud.LambdaOptions{InactiveKey: "inactive-s3cret"},
			wantReason: "http_4xx", wantRequests: 1,
			wantInErr: []string{"API key was refused", "HTTP 403", "global/account-inactive"},
		},
		{name: "right", key: testKey, opts: fakecloud.LambdaOptions{APIKey: testKey}, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakecloud.NewLambda(tt.opts)
			c := newCollector(t, collectortest.Serve(t, fake), func(c *Config) { c.APIKey = tt.key }, nil)
			snap, err := c.Collect(context.Background())
			if got := collectors.Reason(err); got != tt.wantReason {
				t.Fatalf("reason %q, want %q (err: %v)", got, tt.wantReason, err)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v is not %v", err, tt.wantErrIs)
			}
			for _, s := range tt.wantInErr {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v does not contain %q", err, s)
				}
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the key leaked into the error: %v", err)
			}
			if err == nil && len(snap.Quotes) != len(recordedTypes)*len(PublicRegions) {
				t.Errorf("%d quotes", len(snap.Quotes))
			}
			if got := fake.Faults.Requests(); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
		})
	}
}

// TestContract runs the collector contract suite against the fake.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"global/internal-error"}},
			collectortest.TooManyRequests: {InErr: []string{"global/too-many-requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
	})
}

// TestErrorEnvelopeOn200: an error envelope without data is a decode
// failure naming Lambda's code.
func TestErrorEnvelopeOn200(t *testing.T) {
	endpoint := collectortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"error":{"code":"global/unknown","message":"Something odd"}}`)
	}))
	_, err := newCollector(t, endpoint, nil, nil).Collect(context.Background())
	if collectors.Reason(err) != "decode" || !strings.Contains(err.Error(), "global/unknown: Something odd") {
		t.Errorf("err %v", err)
	}
}

// TestCapacityGone: a type that loses its capacity keeps one quote per
// region, with its price, now out of stock: the same series as before.
func TestCapacityGone(t *testing.T) {
	fake := fakecloud.NewLambda(fakecloud.LambdaOptions{APIKey: testKey})
	c := newCollector(t, collectortest.Serve(t, fake), nil, nil)
	before, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fake.SetCapacity("gpu_8x_h100_sxm5")
	after, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Quotes) != len(after.Quotes) {
		t.Fatalf("%d quotes before, %d after", len(before.Quotes), len(after.Quotes))
	}
	changed := 0
	for i, b := range before.Quotes {
		a := after.Quotes[i]
		if a.Key() != b.Key() || a.USDPerHour != b.USDPerHour {
			t.Errorf("quote %d: %+v became %+v", i, b, a)
		}
		if a.Stock != b.Stock {
			changed++
			if a.InstanceType != "gpu_8x_h100_sxm5" || a.Stock != price.StockNone || b.Stock != price.StockAvailable {
				t.Errorf("stock of %s %s went from %q to %q", a.InstanceType, a.Region, b.Stock, a.Stock)
			}
		}
	}
	if changed != 2 { // us-east-1 and us-midwest-1
		t.Errorf("%d quotes changed stock, want 2", changed)
	}
}

// logBuffer is a slog handler target safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnlistedRegion: capacity in a region the built-in list lacks is
// reported once, and not priced.
func TestUnlistedRegion(t *testing.T) {
	fake := fakecloud.NewLambda(fakecloud.LambdaOptions{})
	fake.SetCapacity("gpu_1x_a10", "us-east-1", "europe-north-9")
	var logs logBuffer
	c := newCollector(t, collectortest.Serve(t, fake), nil, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 2 {
		snap, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range snap.Quotes {
			if q.Region == "europe-north-9" {
				t.Fatalf("an unlisted region was priced: %+v", q)
			}
		}
	}
	if n := strings.Count(logs.String(), "region=europe-north-9"); n != 1 {
		t.Errorf("the unlisted region was logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestRegistered(t *testing.T) {
	cfg := config.Default()
	if cfg.Providers[Name].(*Config).Enabled {
		t.Error("lambda is enabled by default, but needs a key")
	}
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: http.DefaultClient, Catalog: price.DefaultCatalog()})
	if err != nil {
		t.Fatalf("a missing key must not stop the collector from being built: %v", err)
	}
	if c.Name() != Name {
		t.Errorf("Name() = %q", c.Name())
	}
	if got := c.(*Collector).url; got != "https://cloud.lambda.ai/api/v1/instance-types" {
		t.Errorf("url %q", got)
	}
	cfg.Providers[Name].(*Config).Endpoint = "cloud.lambda.ai"
	if err := cfg.Validate(); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}
