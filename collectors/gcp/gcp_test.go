package gcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/auth"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// staticToken is an OAuth token provider that never expires: what
// application default credentials give the clients.
type staticToken string

func (s staticToken) Token(context.Context) (*auth.Token, error) {
	return &auth.Token{Value: string(s), Type: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}

// adc stands for application default credentials holding token.
func adc(token string) func() (*auth.Credentials, error) {
	return func() (*auth.Credentials, error) {
		return auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: staticToken(token)}), nil
	}
}

// noADC stands for a machine without application default credentials.
func noADC() (*auth.Credentials, error) {
	return nil, errors.New("credentials: could not find default credentials")
}

// setup describes a collector for newCollector.
type setup struct {
	key     string // API key; "" for none
	project string
	creds   func() (*auth.Credentials, error) // default noADC
	client  *http.Client
	logger  *slog.Logger
}

// newCollector builds the collector the way the daemon does, with both
// endpoints at url.
func newCollector(t testing.TB, url string, s setup) *Collector {
	t.Helper()
	cfg := config.Default()
	g := cfg.Providers[Name].(*Config)
	g.BillingEndpoint, g.ComputeEndpoint = url, url
	g.APIKey, g.Project = config.Secret(s.key), s.project
	if s.client == nil {
		s.client = collectortest.FastClient(collectors.HTTPOptions{})
	}
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: s.client, Catalog: price.DefaultCatalog(), Logger: s.logger})
	if err != nil {
		t.Fatal(err)
	}
	gc := c.(*Collector)
	gc.findCredentials = noADC
	if s.creds != nil {
		gc.findCredentials = s.creds
	}
	return gc
}

// The regions of the fake's billing locations.
var (
	americas = []string{"us-central1", "us-east1", "us-east4", "us-west1"}
	nl       = []string{"europe-west4"}
	be       = []string{"europe-west1"}
	jp       = []string{"asia-northeast1"}
	sg       = []string{"asia-southeast1"}
	il       = []string{"me-west1"}
	all      = slices.Concat(americas, nl, be, jp, sg, il)
)

// wantRegions is where the fake's SKUs price each GPU and machine type, on
// demand and spot alike: for a machine, where its GPU and every other
// component it is made of are priced. GPUs bundled in a machine family
// (A100, H100, H200, L4) are not quoted alone.
var wantRegions = map[string][]string{
	"nvidia-tesla-t4":         all,
	"nvidia-tesla-t4-vws":     slices.Concat(americas, nl),
	"nvidia-tesla-v100":       slices.Concat(americas, nl, jp, sg),
	"nvidia-tesla-p100":       slices.Concat(americas, be, jp),
	"nvidia-tesla-p100-vws":   americas,
	"nvidia-tesla-p4":         slices.Concat(americas, nl, sg),
	"nvidia-tesla-p4-vws":     americas,
	"nvidia-tesla-k80":        americas,
	"nvidia-l4-vws":           slices.Concat(americas, nl),
	"nvidia-rtx-pro-6000":     slices.Concat(americas, be),
	"nvidia-rtx-pro-6000-vws": americas,
	"nvidia-r200":             americas,
	"a2-highgpu-1g":           slices.Concat(americas, nl, jp, sg, il),
	"a2-highgpu-2g":           slices.Concat(americas, nl, jp, sg, il),
	"a2-highgpu-4g":           slices.Concat(americas, nl, jp, sg, il),
	"a2-highgpu-8g":           slices.Concat(americas, nl, jp, sg, il),
	"a2-megagpu-16g":          slices.Concat(americas, nl, jp, sg, il),
	"a2-ultragpu-1g":          slices.Concat(americas, nl, sg),
	"a2-ultragpu-2g":          slices.Concat(americas, nl, sg),
	"a2-ultragpu-4g":          slices.Concat(americas, nl, sg),
	"a2-ultragpu-8g":          slices.Concat(americas, nl, sg),
	"a3-highgpu-1g":           slices.Concat(americas, nl, jp),
	"a3-highgpu-2g":           slices.Concat(americas, nl, jp),
	"a3-highgpu-4g":           slices.Concat(americas, nl, jp),
	"a3-highgpu-8g":           slices.Concat(americas, nl, jp),
	"a3-edgegpu-8g":           slices.Concat(americas, nl, jp),
	"a3-megagpu-8g":           slices.Concat(americas, nl, jp),
	"a3-ultragpu-8g":          slices.Concat(americas, nl),
	"a4-highgpu-8g":           slices.Concat(americas, nl),
	"a4x-highgpu-4g":          americas,
	"a4x-maxgpu-4g-metal":     americas,
	"g2-standard-4":           all,
	"g2-standard-8":           all,
	"g2-standard-12":          all,
	"g2-standard-16":          all,
	"g2-standard-24":          all,
	"g2-standard-32":          all,
	"g2-standard-48":          all,
	"g2-standard-96":          all,
}

// seriesOf lists "instance_type region pricing_model" of quotes, sorted.
func seriesOf(qs []price.Quote) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.InstanceType+" "+q.Region+" "+string(q.PricingModel))
	}
	sort.Strings(out)
	return out
}

func wantSeries() []string {
	var out []string
	for it, regions := range wantRegions {
		for _, r := range regions {
			out = append(out, it+" "+r+" on_demand", it+" "+r+" spot")
		}
	}
	sort.Strings(out)
	return out
}

// TestCollect walks the fake's catalog in pages of several sizes: every
// GPU and machine type comes out, on demand and spot, in every region its
// SKUs list, and nothing else (no dropped SKU leaves a trace).
func TestCollect(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{})
	for _, pageSize := range []int{5000, 64, 7} {
		t.Run(fmt.Sprintf("pages of %d", pageSize), func(t *testing.T) {
			fake := fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: pageSize})
			c := newCollector(t, collectortest.Serve(t, fake), setup{key: fakecloud.GCPDemoKey})
			snap, err := c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := seriesOf(snap.Quotes), wantSeries(); !slices.Equal(got, want) {
				t.Errorf("series differ\n got: %d %s\nwant: %d %s", len(got), diff(got, want), len(want), diff(want, got))
			}
			if pages := (fake.Len() + pageSize - 1) / pageSize; fake.Faults.Requests() != pages {
				t.Errorf("%d requests, want %d pages", fake.Faults.Requests(), pages)
			}
			for _, q := range snap.Quotes {
				checkQuote(t, q)
			}
		})
	}
	if fake.Len() < 200 {
		t.Errorf("the fake lists %d SKUs; the tests above want several pages", fake.Len())
	}
}

// diff lists what a has and b lacks.
func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func checkQuote(t *testing.T, q price.Quote) {
	t.Helper()
	isGPU := strings.HasPrefix(q.InstanceType, "nvidia-")
	switch {
	case q.Provider != Name || q.Geo == "" || q.Geo != price.Geo(q.Region) || q.Zone != "":
		t.Errorf("%s %s: provider, geo or zone wrong: %+v", q.InstanceType, q.Region, q)
	case isGPU && (q.GPUCount != 1 || q.GPURaw != q.InstanceType):
		t.Errorf("%s: a per-GPU quote must have gpu_count 1 and its accelerator as raw name: %+v", q.InstanceType, q)
	case q.InstanceType == "nvidia-r200":
		if q.GPUModel != price.Unknown || q.GPUMemoryGB != 0 {
			t.Errorf("unknown GPU not kept as UNKNOWN: %+v", q)
		}
	case q.GPUModel == price.Unknown || q.GPUMemoryGB == 0:
		t.Errorf("%s: GPU not mapped: %+v", q.InstanceType, q)
	case q.USDPerHour <= 0 || q.Stock != price.StockUnknown:
		t.Errorf("%s %s: price %v, stock %q", q.InstanceType, q.Region, q.USDPerHour, q.Stock)
	}
}

func find(t *testing.T, qs []price.Quote, instanceType, region string, model price.PricingModel) price.Quote {
	t.Helper()
	for _, q := range qs {
		if q.InstanceType == instanceType && q.Region == region && q.PricingModel == model {
			return q
		}
	}
	t.Fatalf("no quote %s %s %s", instanceType, region, model)
	return price.Quote{}
}

// TestPrices checks quotes against totals computed by hand from the
// fake's component prices (Americas list prices; Tokyo 1.25×, Belgium and
// the Netherlands 1.1×, Tel Aviv 1.15×, each component rounded to
// micro-dollars).
func TestPrices(t *testing.T) {
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 100})), setup{key: fakecloud.GCPDemoKey})
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const od, spot = price.OnDemand, price.Spot
	for _, tc := range []struct {
		instanceType, region string
		model                price.PricingModel
		usd                  float64
		gpuModel             string
		memGB, count         float64
	}{
		// Per GPU (attachable GPUs only): the GPU SKU alone, never the
		// sole-tenancy (0.30), commitment (0.353, 4.725), premium (1.90)
		// or DWS (6.90) ones.
		{"nvidia-tesla-t4", "us-central1", od, 0.35, "T4", 16, 1},
		{"nvidia-tesla-v100", "us-central1", od, 2.48, "V100", 16, 1},
		{"nvidia-l4-vws", "europe-west4", spot, 0.462, "L4", 24, 1},               // 0.42 × 1.1
		{"nvidia-rtx-pro-6000", "europe-west1", spot, 1.892, "RTXPRO6000", 96, 1}, // 1.72 × 1.1
		// Bundled GPUs (A100, H100, H200, L4) are priced only inside their
		// machines, below.
		// 12 × 0.031611 + 85 × 0.004237 + 2.933908 = 0.379332 + 0.360145 + 2.933908
		{"a2-highgpu-1g", "us-central1", od, 3.673385, "A100", 40, 1},
		// 96 × 0.012644 + 680 × 0.001695 + 8 × 0.880172 = 1.213824 + 1.1526 + 7.041376
		{"a2-highgpu-8g", "us-east4", spot, 9.4078, "A100", 40, 8},
		// 96 × 0.031611 + 1360 × 0.004237 + 8 × 3.92808 + 3000 GiB × 0.08/730
		// = 3.034656 + 5.76232 + 31.42464 + 0.328767123
		{"a2-ultragpu-8g", "us-central1", od, 40.550383123, "A100", 80, 8},
		// 208 × 0.03222 + 1872 × 0.002817 + 8 × 9.796550569 + 6000 × 0.08/730
		// = 6.70176 + 5.273424 + 78.372404552 + 0.657534247
		{"a3-highgpu-8g", "us-central1", od, 91.005122799, "H100", 80, 8},
		// 208 × 0.010314 + 1872 × 0.000902 + 8 × 2.253 + 6000 × 0.064/730
		// = 2.145312 + 1.688544 + 18.024 + 0.526027397
		{"a3-highgpu-8g", "us-central1", spot, 22.383883397, "H100", 80, 8},
		// 26 × 0.03222 + 234 × 0.002817 + 9.796550569 + 750 × 0.08/730
		// = 0.83772 + 0.659178 + 9.796550569 + 0.082191781
		{"a3-highgpu-1g", "us-west1", od, 11.37564035, "H100", 80, 1},
		// 208 × 0.029 + 1872 × 0.00254 + 8 × 10.344275712 + 6000 × 0.08/730
		// = 6.032 + 4.75488 + 82.754205696 + 0.657534247
		{"a3-megagpu-8g", "us-west1", od, 94.198619943, "H100", 80, 8},
		// Tokyo ("H100 80GB Mega" SKU): 208 × 0.03625 + 1872 × 0.003175
		// + 8 × 12.930345 + 6000 × 0.1/730 = 7.54 + 5.9436 + 103.44276 + 0.821917808
		{"a3-megagpu-8g", "asia-northeast1", od, 117.748277808, "H100", 80, 8},
		// 224 × 0.03222 + 2952 × 0.002817 + 8 × 10.5 + 12000 × 0.08/730
		// = 7.21728 + 8.315784 + 84 + 1.315068493
		{"a3-ultragpu-8g", "us-central1", od, 100.848132493, "H200", 141, 8},
		// Per slice: 8 × 16.11 and 8 × 4.9542 (the spot slice is listed as
		// OnDemand; the DWS slice at 10.50 is not used).
		{"a4-highgpu-8g", "us-central1", od, 128.88, "B200", 180, 8},
		{"a4-highgpu-8g", "us-central1", spot, 39.6336, "B200", 180, 8},
		{"a4-highgpu-8g", "europe-west4", od, 141.768, "B200", 180, 8}, // 8 × 17.721
		{"a4x-highgpu-4g", "us-east1", od, 67.32, "GB200", 186, 4},
		{"a4x-maxgpu-4g-metal", "us-east1", spot, 28.96, "GB300", 288, 4},
		// 48 × 0.009995 + 192 × 0.001171 + 4 × 0.2236 = 0.47976 + 0.224832 + 0.8944
		{"g2-standard-48", "us-central1", spot, 1.598992, "L4", 24, 4},
		// Tokyo: 4 × 0.031235 + 16 × 0.003659 + 0.700814 = 0.12494 + 0.058544 + 0.700814
		{"g2-standard-4", "asia-northeast1", od, 0.884298, "L4", 24, 1},
	} {
		t.Run(tc.instanceType+"/"+tc.region+"/"+string(tc.model), func(t *testing.T) {
			q := find(t, snap.Quotes, tc.instanceType, tc.region, tc.model)
			if math.Abs(q.USDPerHour-tc.usd) > 1e-9 {
				t.Errorf("USD per hour %.9f, want %.9f", q.USDPerHour, tc.usd)
			}
			if q.GPUModel != tc.gpuModel || q.GPUMemoryGB != tc.memGB || q.GPUCount != tc.count {
				t.Errorf("GPU %s %gGB × %g, want %s %gGB × %g", q.GPUModel, q.GPUMemoryGB, q.GPUCount, tc.gpuModel, tc.memGB, tc.count)
			}
			if want := tc.usd / tc.count; math.Abs(q.GPUUSDPerHour()-want) > 1e-9 {
				t.Errorf("USD per GPU-hour %.9f, want %.9f", q.GPUUSDPerHour(), want)
			}
		})
	}
}

// TestRequests checks what the real client sends: the documented path and
// parameters, the key as the key parameter, no bearer token.
func TestRequests(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 200, Keys: []string{"k-123"}})
	rec := &collectortest.Recorder{Next: fake}
	url := collectortest.Serve(t, rec)
	// A trailing slash on the endpoint is fine.
	c := newCollector(t, url+"/", setup{key: "k-123"})
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := rec.Requests()
	if len(seen) < 2 {
		t.Fatalf("%d requests, want several pages", len(seen))
	}
	for i, r := range seen {
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/v1/services/6F81-5844-456A/skus" {
			t.Errorf("request %d: %s %s", i, r.Method, r.URL.Path)
		}
		if q.Get("key") != "k-123" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %d: key %q, Authorization %q", i, q.Get("key"), r.Header.Get("Authorization"))
		}
		if q.Get("pageSize") != "5000" || q.Get("currencyCode") != "USD" {
			t.Errorf("request %d: pageSize %q currencyCode %q", i, q.Get("pageSize"), q.Get("currencyCode"))
		}
		if (i == 0) != (q.Get("pageToken") == "") {
			t.Errorf("request %d: pageToken %q", i, q.Get("pageToken"))
		}
	}
}

// TestApplicationDefaultCredentials: without a key, the catalog is read
// with the bearer token of application default credentials.
func TestApplicationDefaultCredentials(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{Keys: []string{}})
	c := newCollector(t, collectortest.Serve(t, fake), setup{creds: adc(fakecloud.GCPDemoToken)})
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != len(wantSeries()) {
		t.Errorf("%d quotes, want %d", len(snap.Quotes), len(wantSeries()))
	}
}

// TestNoCredentials: no key and no application default credentials is one
// clear error naming the config keys, before any request.
func TestNoCredentials(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{})
	c := newCollector(t, collectortest.Serve(t, fake), setup{})
	for range 2 {
		_, err := c.Collect(context.Background())
		if !errors.Is(err, errNoCredentials) || !strings.Contains(err.Error(), "providers.gcp.api_key_file") ||
			!strings.Contains(err.Error(), "could not find default credentials") {
			t.Fatalf("want the no-credentials error, got %v", err)
		}
	}
	if fake.Faults.Requests() != 0 {
		t.Errorf("%d requests without credentials", fake.Faults.Requests())
	}
	// Credentials that appear later are used without a restart.
	c.findCredentials = adc(fakecloud.GCPDemoToken)
	if _, err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestAvailability: with credentials and a project, each quote says
// whether a zone of its region offers its GPU.
func TestAvailability(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 500})
	var tokens sync.Map
	url := collectortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/compute/") {
			tokens.Store(r.Header.Get("Authorization")+" key="+r.URL.Query().Get("key"), true)
		}
		fake.ServeHTTP(w, r)
	}))
	c := newCollector(t, url, setup{key: fakecloud.GCPDemoKey, project: fakecloud.GCPDemoProject, creds: adc(fakecloud.GCPDemoToken)})
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		instanceType, region string
		want                 price.Stock
	}{
		{"g2-standard-4", "me-west1", price.StockAvailable},
		{"g2-standard-96", "asia-southeast1", price.StockAvailable},
		{"a3-ultragpu-8g", "us-central1", price.StockAvailable},
		{"a4-highgpu-8g", "europe-west4", price.StockAvailable},
		// Priced in europe-west4, offered by none of its zones.
		{"a3-ultragpu-8g", "europe-west4", price.StockNone},
		// Obsolete in every zone.
		{"nvidia-tesla-k80", "us-central1", price.StockNone},
	} {
		for _, model := range []price.PricingModel{price.OnDemand, price.Spot} {
			if got := find(t, snap.Quotes, tc.instanceType, tc.region, model).Stock; got != tc.want {
				t.Errorf("%s %s %s: stock %q, want %q", tc.instanceType, tc.region, model, got, tc.want)
			}
		}
	}
	for _, q := range snap.Quotes {
		if q.Stock == price.StockUnknown {
			t.Errorf("%s %s: stock unknown with availability read", q.InstanceType, q.Region)
		}
	}
	var sent []string
	tokens.Range(func(k, _ any) bool { sent = append(sent, k.(string)); return true })
	if want := []string{"Bearer " + fakecloud.GCPDemoToken + " key="}; !slices.Equal(sent, want) {
		t.Errorf("Compute Engine requests carried %q, want %q (a token and never the API key)", sent, want)
	}

	// A failing read keeps the last good one.
	fake.ComputeFaults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	snap2, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := find(t, snap2.Quotes, "a3-ultragpu-8g", "europe-west4", price.OnDemand).Stock; got != price.StockNone {
		t.Errorf("after a failed read: stock %q, want the last read's %q", got, price.StockNone)
	}
	// Without a good read, stock is unknown; prices are there all the same.
	c.zones = nil
	snap3, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap3.Quotes) != len(snap.Quotes) {
		t.Errorf("%d quotes, want %d", len(snap3.Quotes), len(snap.Quotes))
	}
	for _, q := range snap3.Quotes {
		if q.Stock != price.StockUnknown {
			t.Fatalf("%s %s: stock %q without any availability read", q.InstanceType, q.Region, q.Stock)
		}
	}
}

// TestEmptyAvailability: an aggregated list of no accelerator type at all
// is a failed read, not "no GPU offered anywhere": the last good read
// stays, and without one stock is unknown, never none.
func TestEmptyAvailability(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 500})
	c := newCollector(t, collectortest.Serve(t, fake), setup{key: fakecloud.GCPDemoKey, project: fakecloud.GCPDemoProject, creds: adc(fakecloud.GCPDemoToken)})
	for _, tc := range []struct {
		name     string
		previous bool // a good read before the empty one
		want     price.Stock
	}{
		{"after a good read", true, price.StockAvailable},
		{"without a good read", false, price.StockUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.zones = nil
			if tc.previous {
				if _, err := c.Collect(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			fake.ComputeFaults.Add(fakecloud.Fault{Kind: fakecloud.Empty, Times: 1})
			snap, err := c.Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := find(t, snap.Quotes, "g2-standard-4", "me-west1", price.OnDemand).Stock; got != tc.want {
				t.Errorf("stock %q, want %q", got, tc.want)
			}
			for _, q := range snap.Quotes {
				if q.Stock == price.StockNone && !tc.previous {
					t.Fatalf("%s %s: stock none from an empty answer", q.InstanceType, q.Region)
				}
			}
		})
	}
}

// TestProjectWithoutCredentials: a project without application default
// credentials turns availability off, says so once, and prices still flow.
func TestProjectWithoutCredentials(t *testing.T) {
	var logs bytes.Buffer
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{})
	c := newCollector(t, collectortest.Serve(t, fake), setup{key: fakecloud.GCPDemoKey, project: fakecloud.GCPDemoProject,
		logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 2 {
		snap, err := c.Collect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Quotes) != len(wantSeries()) || snap.Quotes[0].Stock != price.StockUnknown {
			t.Errorf("%d quotes (stock %q), want %d with unknown stock", len(snap.Quotes), snap.Quotes[0].Stock, len(wantSeries()))
		}
	}
	if n := strings.Count(logs.String(), "accelerator availability is off"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
}

// TestContract runs the collector contract suite against the fake's
// catalog, in pages of 1000 SKUs. Without a project the Compute Engine API
// is not used (TestAvailability puts it through its faults).
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		Fake:      func() http.Handler { return fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 1000}) },
		Tune:      func(c *Collector) { c.maxPages, c.findCredentials = 5, noADC },
		ErrPrefix: "gcp: ",
		APIs: []collectortest.API[*Config]{{Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {Body: "UNAVAILABLE: "},
			collectortest.TooManyRequests: {InErr: []string{"RESOURCE_EXHAUSTED"}},
			// protojson names the field of a bad number, not of a bad list.
			collectortest.WrongTypes:   {Shapes: []string{"int64 field units", `unexpected token "us-`}},
			collectortest.EndlessPages: {Is: errPagination, Requests: 5},
		}}},
		Extra: []collectortest.Extra[*Config]{{
			// Not retried; the key is a secret of the section, which no
			// error shows.
			Name: "bad key", Configure: func(c *Config) { c.APIKey = "not-a-key" },
			Want: collectortest.Want{Reason: "http_4xx", Status: http.StatusBadRequest,
				InErr: []string{"INVALID_ARGUMENT: API key not valid"}, Requests: 1},
		}},
	})
}

// TestNetworkErrorHidesKey: a url.Error names the URL, key included; the
// collector's error does not.
func TestNetworkErrorHidesKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newCollector(t, url, setup{key: "secret-key-42", client: collectortest.FastClient(collectors.HTTPOptions{MaxRetries: 1})})
	_, err := c.Collect(context.Background())
	if collectors.Reason(err) != "network" || strings.Contains(err.Error(), "secret-key-42") {
		t.Errorf("want a network error without the key, got %v", err)
	}
}

func TestBadEndpointRefused(t *testing.T) {
	for _, mod := range []func(*Config){
		func(g *Config) { g.BillingEndpoint = "cloudbilling.googleapis.com" },
		func(g *Config) { g.Endpoint = "ftp://cloudbilling.googleapis.com" },
		func(g *Config) { g.ComputeEndpoint = "compute" },
	} {
		cfg := config.Builtin()
		g := cfg.Providers[Name].(*Config)
		mod(g)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("Validate = %v for %+v", err, g)
		}
	}
}

// TestRunner runs a refresh through the Runner's checks: every quote
// passes, the unknown GPU included.
func TestRunner(t *testing.T) {
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewGCP(fakecloud.GCPOptions{})), setup{key: fakecloud.GCPDemoKey})
	snap, err := collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), collectors.Job{
		Collector: c,
		Settings:  collectors.Settings{Interval: time.Hour, Timeout: 10 * time.Second, StaleAfter: 3 * time.Hour, MaxGPUUSDPerHour: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != len(wantSeries()) {
		t.Errorf("%d quotes published, want %d", len(snap.Quotes), len(wantSeries()))
	}
}
