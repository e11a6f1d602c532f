package vastai

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// serve starts h and returns the endpoint to configure.
func serve(t testing.TB, h http.Handler) string {
	return collectortest.Serve(t, h) + fakecloud.VastAIBasePath
}

// newCollector builds a collector for endpoint with the default config as
// changed by edit (which may be nil).
func newCollector(t testing.TB, endpoint string, edit func(*Config)) *Collector {
	t.Helper()
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{}, edit)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// round9 makes hand-computed decimals comparable with float arithmetic.
func round9(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// roundQuote rounds q's prices for comparison, and leaves its host (the
// cheapest offer's vCPUs and RAM) out: TestOfferHost tests it.
func roundQuote(q price.Quote) price.Quote {
	q.USDPerHour, q.P10, q.P50, q.P90 = round9(q.USDPerHour), round9(q.P10), round9(q.P50), round9(q.P90)
	q.VCPUs, q.MemoryGB = 0, 0
	return q
}

// TestOfferHost: an offer comes with its share of the host's cores and the
// same share of its RAM; a shape's quote has its cheapest offer's.
func TestOfferHost(t *testing.T) {
	for _, tc := range []struct {
		o           offer
		vcpus, ramG float64
	}{
		{offer{CPUCores: 32, CPUCoresEffective: 16, CPURAM: 128740}, 16, 62.9},
		{offer{CPUCores: 224, CPUCoresEffective: 224, CPURAM: 2063700}, 224, 2015.3},
		{offer{CPUCores: 0, CPUCoresEffective: 8, CPURAM: 64000}, 8, 0}, // null cpu_cores: no share of RAM
		{offer{CPURAM: 64000}, 0, 0},
	} {
		if v, r := tc.o.host(); v != tc.vcpus || r != tc.ramG {
			t.Errorf("%+v: host %v vCPUs %v GB, want %v and %v", tc.o, v, r, tc.vcpus, tc.ramG)
		}
	}
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: readFile(t, "small.json")})
	snap, err := newCollector(t, serve(t, fake), nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	withHost := 0
	for _, q := range snap.Quotes {
		if q.VCPUs > 0 {
			withHost++
		}
	}
	if withHost == 0 {
		t.Errorf("no quote has its cheapest offer's host: %+v", snap.Quotes)
	}
}

func roundMarket(m price.Market) price.Market {
	m.P10, m.P50, m.P90, m.SumGPUUSDPerHour = round9(m.P10), round9(m.P50), round9(m.P90), round9(m.SumGPUUSDPerHour)
	return m
}

// shapeQuote is a compact expected Quote.
func shapeQuote(pm price.PricingModel, it, region, geo, model, form string, mem, count float64, raw string, usd float64, offers int, gpus, p10, p50, p90 float64) price.Quote {
	return price.Quote{Provider: Name, InstanceType: it, Region: region, Geo: geo, PricingModel: pm,
		GPUModel: model, GPUForm: form, GPUMemoryGB: mem, GPUCount: count, GPURaw: raw, USDPerHour: usd,
		Offers: offers, AvailableGPUs: gpus, P10: p10, P50: p50, P90: p90}
}

// single is a shape of one offer: every quantile is its per-GPU price.
func single(pm price.PricingModel, it, region, geo, model, form string, mem, count float64, raw string, usd float64) price.Quote {
	per := usd / count
	return shapeQuote(pm, it, region, geo, model, form, mem, count, raw, usd, 1, count, per, per, per)
}

func marketOf(pm price.PricingModel, region, geo, model, form string, mem float64, offers int, gpus, sum, p10, p50, p90 float64) price.Market {
	return price.Market{Provider: Name, Region: region, Geo: geo, PricingModel: pm, GPUModel: model,
		GPUForm: form, GPUMemoryGB: mem, Offers: offers, SumGPUUSDPerHour: sum, AvailableGPUs: gpus,
		P10: p10, P50: p50, P90: p90}
}

// TestCollectSmallFixture checks every aggregate of testdata/small.json
// against values computed by hand. Every offer there has dph_total =
// dph_base + 0.001 (storage_cost 0.144 $/GB/month × 5 GB / 720 h), so the
// interruptible price is min_bid + 0.001.
func TestCollectSmallFixture(t *testing.T) {
	const od, sp = price.OnDemand, price.Spot
	wantQuotes := []price.Quote{
		single(od, "4x_A100_SXM4_40GB", "de", "eu", "A100", "sxm", 40, 4, "A100 SXM4", 3.201),
		single(od, "4x_A100_SXM4_80GB", "de", "eu", "A100", "sxm", 80, 4, "A100 SXM4", 4.801),
		single(od, "1x_H100_SXM_80GB", "ca", "na", "H100", "sxm", 80, 1, "H100 SXM", 2.301),
		single(od, "1x_H100_SXM_80GB", "us", "na", "H100", "sxm", 80, 1, "H100 SXM", 2.501),
		// Offers 101–104, per GPU 2.000125, 2.200125, 2.400125, 2.600125 (103 has no
		// min_bid but is on demand). n=4: P10 h=0.3 → 2.000125+0.3·0.2; P50 h=1.5 →
		// 2.200125+0.5·0.2; P90 h=2.7 → 2.400125+0.7·0.2.
		shapeQuote(od, "8x_H100_SXM_80GB", "us", "na", "H100", "sxm", 80, 8, "H100 SXM", 16.001, 4, 32, 2.060125, 2.300125, 2.540125),
		// 114 is unverified, which the default config keeps; 113 (rented), 115 (not
		// rentable), 111 (no GPUs) and 112 (no prices) are gone.
		single(od, "1x_RTX_4090_24GB", "us", "na", "RTX4090", "pcie", 24, 1, "RTX 4090", 0.351),
		single(od, "2x_RTX_4090_24GB", "", "", "RTX4090", "pcie", 24, 2, "RTX 4090", 0.701),
		// Unknown to the catalog (no such product): kept, memory rounded
		// from 32768 MiB.
		single(od, "1x_RTX_5090_Ti_32GB", "jp", "asia", price.Unknown, "", 32, 1, "RTX 5090 Ti", 0.121),

		single(sp, "4x_A100_SXM4_40GB", "de", "eu", "A100", "sxm", 40, 4, "A100 SXM4", 1.601),
		single(sp, "4x_A100_SXM4_80GB", "de", "eu", "A100", "sxm", 80, 4, "A100 SXM4", 2.401),
		single(sp, "1x_H100_SXM_80GB", "ca", "na", "H100", "sxm", 80, 1, "H100 SXM", 1.201),
		single(sp, "1x_H100_SXM_80GB", "us", "na", "H100", "sxm", 80, 1, "H100 SXM", 1.501),
		// 101, 102, 104 (103 is not interruptible): per GPU 1.200125, 1.300125,
		// 1.500125. n=3: P10 h=0.2 → 1.200125+0.2·0.1; P50 h=1; P90 h=1.8 →
		// 1.300125+0.8·0.2.
		shapeQuote(sp, "8x_H100_SXM_80GB", "us", "na", "H100", "sxm", 80, 8, "H100 SXM", 9.601, 3, 24, 1.220125, 1.300125, 1.460125),
		single(sp, "1x_RTX_4090_24GB", "us", "na", "RTX4090", "pcie", 24, 1, "RTX 4090", 0.201),
		single(sp, "2x_RTX_4090_24GB", "", "", "RTX4090", "pcie", 24, 2, "RTX 4090", 0.401),
		single(sp, "1x_RTX_5090_Ti_32GB", "jp", "asia", price.Unknown, "", 32, 1, "RTX 5090 Ti", 0.061),
	}
	wantMarkets := []price.Market{
		marketOf(od, "de", "eu", "A100", "sxm", 40, 1, 4, 0.80025, 0.80025, 0.80025, 0.80025),
		marketOf(od, "de", "eu", "A100", "sxm", 80, 1, 4, 1.20025, 1.20025, 1.20025, 1.20025),
		marketOf(od, "ca", "na", "H100", "sxm", 80, 1, 1, 2.301, 2.301, 2.301, 2.301),
		// 101–105 per GPU: 2.000125, 2.200125, 2.400125, 2.501, 2.600125 (sum
		// 11.7015). n=5: P10 h=0.4 → 2.000125+0.4·0.2; P50 h=2; P90 h=3.6 →
		// 2.501+0.6·0.099125.
		marketOf(od, "us", "na", "H100", "sxm", 80, 5, 33, 11.7015, 2.080125, 2.400125, 2.560475),
		marketOf(od, "", "", "RTX4090", "pcie", 24, 1, 2, 0.3505, 0.3505, 0.3505, 0.3505),
		marketOf(od, "us", "na", "RTX4090", "pcie", 24, 1, 1, 0.351, 0.351, 0.351, 0.351),

		marketOf(sp, "de", "eu", "A100", "sxm", 40, 1, 4, 0.40025, 0.40025, 0.40025, 0.40025),
		marketOf(sp, "de", "eu", "A100", "sxm", 80, 1, 4, 0.60025, 0.60025, 0.60025, 0.60025),
		marketOf(sp, "ca", "na", "H100", "sxm", 80, 1, 1, 1.201, 1.201, 1.201, 1.201),
		// 101, 102, 104, 105 per GPU: 1.200125, 1.300125, 1.500125, 1.501 (sum
		// 5.501375). n=4: P10
		// h=0.3 → 1.200125+0.3·0.1; P50 h=1.5 → 1.300125+0.5·0.2; P90 h=2.7 →
		// 1.500125+0.7·0.000875.
		marketOf(sp, "us", "na", "H100", "sxm", 80, 4, 25, 5.501375, 1.230125, 1.400125, 1.5007375),
		marketOf(sp, "", "", "RTX4090", "pcie", 24, 1, 2, 0.2005, 0.2005, 0.2005, 0.2005),
		marketOf(sp, "us", "na", "RTX4090", "pcie", 24, 1, 1, 0.201, 0.201, 0.201, 0.201),
	}
	// On demand: 101–110 and 114. Interruptible: the same without 103.
	wantOffers := map[price.PricingModel][]string{
		od: {"101", "102", "103", "104", "105", "106", "107", "108", "109", "110", "114"},
		sp: {"101", "102", "104", "105", "106", "107", "108", "109", "110", "114"},
	}

	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: readFile(t, "small.json")})
	c := newCollector(t, serve(t, fake), nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Provider != Name {
		t.Errorf("provider = %q", snap.Provider)
	}
	if len(snap.Quotes) != len(wantQuotes) {
		t.Errorf("got %d quotes, want %d", len(snap.Quotes), len(wantQuotes))
	}
	for i := range min(len(snap.Quotes), len(wantQuotes)) {
		if got, want := roundQuote(snap.Quotes[i]), roundQuote(wantQuotes[i]); got != want {
			t.Errorf("quote %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if len(snap.Markets) != len(wantMarkets) {
		t.Errorf("got %d markets, want %d", len(snap.Markets), len(wantMarkets))
	}
	for i := range min(len(snap.Markets), len(wantMarkets)) {
		if got, want := roundMarket(snap.Markets[i]), roundMarket(wantMarkets[i]); got != want {
			t.Errorf("market %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	gotOffers := map[price.PricingModel][]string{}
	for _, o := range snap.Offers {
		gotOffers[o.PricingModel] = append(gotOffers[o.PricingModel], o.ID)
	}
	for pm := range gotOffers {
		// Offers are sorted by shape first; compare as sets.
		slices.Sort(gotOffers[pm])
	}
	if !reflect.DeepEqual(gotOffers, wantOffers) {
		t.Errorf("offer ids = %v, want %v", gotOffers, wantOffers)
	}
	if got := fake.Faults.Requests(); got != 2 {
		t.Errorf("%d requests, want 2 (one search per pricing model)", got)
	}
}

// TestOffersCarryTheirQuote checks one individual offer end to end.
func TestOffersCarryTheirQuote(t *testing.T) {
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: readFile(t, "small.json")})
	snap, err := newCollector(t, serve(t, fake), nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range snap.Offers {
		if o.ID != "102" || o.PricingModel != price.Spot {
			continue
		}
		want := price.Offer{ID: "102", Location: "Texas, US", Quote: price.Quote{
			Provider: Name, InstanceType: "8x_H100_SXM_80GB", Region: "us", Geo: "na",
			PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8,
			GPURaw: "H100 SXM", VCPUs: 224, USDPerHour: 10.401, // cpu_ram null: RAM unknown
		}}
		o.USDPerHour = round9(o.USDPerHour)
		if o != want {
			t.Errorf("offer 102 spot:\n got %+v\nwant %+v", o, want)
		}
		return
	}
	t.Fatal("offer 102 spot missing")
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Config)
		wantAuth string
		// wantBodies are the on-demand and bid search bodies.
		wantBodies [2]string
	}{
		{
			name: "defaults, no key",
			wantBodies: [2]string{
				`{"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":10000,"order":[["dph_total","asc"]],"allocated_storage":5}`,
				`{"rentable":{"eq":true},"rented":{"eq":false},"type":"bid","limit":10000,"order":[["min_bid","asc"]],"allocated_storage":5}`,
			},
		},
		{
			name:     "verified only, with key and limit",
			edit:     func(c *Config) { c.VerifiedOnly, c.APIKey, c.Limit = true, "s3cret", 500 },
			wantAuth: "Bearer s3cret",
			wantBodies: [2]string{
				`{"verified":{"eq":true},"rentable":{"eq":true},"rented":{"eq":false},"type":"on-demand","limit":500,"order":[["dph_total","asc"]],"allocated_storage":5}`,
				`{"verified":{"eq":true},"rentable":{"eq":true},"rented":{"eq":false},"type":"bid","limit":500,"order":[["min_bid","asc"]],"allocated_storage":5}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &collectortest.Recorder{Next: fakecloud.NewVastAI(fakecloud.VastAIOptions{})}
			c := newCollector(t, serve(t, rec)+"/", tt.edit) // a trailing slash is tolerated
			if _, err := c.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := rec.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for i, r := range reqs {
				if r.Method != http.MethodPost || r.URL.Path != "/api/v0/bundles/" {
					t.Errorf("request %d: %s %s, want POST /api/v0/bundles/", i, r.Method, r.URL.Path)
				}
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("request %d: Content-Type %q", i, got)
				}
				if got, ok := r.Header["Authorization"]; tt.wantAuth == "" && ok {
					t.Errorf("request %d: Authorization %q sent without a key", i, got)
				}
				if got := r.Header.Get("Authorization"); got != tt.wantAuth {
					t.Errorf("request %d: Authorization %q, want %q", i, got, tt.wantAuth)
				}
				if string(r.Body) != tt.wantBodies[i] {
					t.Errorf("request %d body:\n got %s\nwant %s", i, r.Body, tt.wantBodies[i])
				}
			}
		})
	}
}

// TestVerifiedOnly checks that the filter reaches the fake and drops the
// unverified offer 114.
func TestVerifiedOnly(t *testing.T) {
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: readFile(t, "small.json")})
	c := newCollector(t, serve(t, fake), func(c *Config) { c.VerifiedOnly = true })
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range snap.Offers {
		if o.ID == "114" {
			t.Errorf("unverified offer 114 kept: %+v", o)
		}
	}
	if len(snap.Quotes) != 14 {
		t.Errorf("%d quotes, want 14 (the 16 of the default config minus 1x_RTX_4090_24GB us twice)", len(snap.Quotes))
	}
}

// TestContract runs the collector contract suite against the fake's
// recorded offers (the plugin's fake synthesizes more).
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		Fake: func() http.Handler { return fakecloud.NewVastAI(fakecloud.VastAIOptions{}) },
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.TooManyRequests: {InErr: []string{"API requests too frequent"}},
			// The fake alternates dph_total as a string and offers as an object.
			collectortest.WrongTypes: {Shapes: []string{
				"cannot unmarshal string into Go struct field offer.dph_total",
				"cannot unmarshal object into Go struct field answer.offers",
			}},
		}}},
		Extra: []collectortest.Extra[*Config]{
			{
				Name:   "429 in the JSON envelope",
				Fake:   func() http.Handler { return fakecloud.NewVastAI(fakecloud.VastAIOptions{JSONErrors: true}) },
				Faults: []fakecloud.Fault{{Kind: fakecloud.TooManyRequests, RetryAfter: time.Minute}},
				Want:   collectortest.Want{Reason: "http_429", InErr: []string{`"success":false`}, RetryAfter: time.Minute, Requests: 1},
			},
			{
				Name: "missing API key",
				Fake: func() http.Handler { return fakecloud.NewVastAI(fakecloud.VastAIOptions{APIKey: "k"}) },
				Want: collectortest.Want{Reason: "http_4xx", InErr: []string{"HTTP 401"}, Requests: 1},
			},
		},
	})
}

// TestUnusableOffers feeds answers the fake would not produce.
func TestUnusableOffers(t *testing.T) {
	const good = `{"id": 1, "gpu_name": "RTX 3090", "num_gpus": 1, "gpu_ram": 24576, "dph_base": 0.2, "dph_total": 0.21, "min_bid": 0.1, "geolocation": "Ohio, US", "rented": false}`
	tests := []struct {
		name       string
		body       string
		wantReason string
		wantIDs    []string // per search
	}{
		{
			name:    "rented offers are dropped on our side too",
			body:    `{"offers": [` + good + `, {"id": 2, "gpu_name": "RTX 3090", "num_gpus": 1, "gpu_ram": 24576, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05, "rented": true}]}`,
			wantIDs: []string{"1"},
		},
		{
			name:    "negative GPU count and zero prices are skipped",
			body:    `{"offers": [` + good + `, {"id": 3, "gpu_name": "RTX 3090", "num_gpus": -1, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}, {"id": 4, "gpu_name": "RTX 3090", "num_gpus": 1, "dph_base": 0, "dph_total": 0, "min_bid": 0}]}`,
			wantIDs: []string{"1"},
		},
		{
			name:       "no usable offer is an empty answer",
			body:       `{"offers": [{"id": 2, "gpu_name": "RTX 3090", "num_gpus": 0, "dph_total": 0.11}]}`,
			wantReason: "empty",
		},
		{
			name:       "error envelope with status 200",
			body:       `{"success": false, "error": "invalid_args", "msg": "bad query"}`,
			wantReason: "decode",
		},
		{name: "not JSON", body: `<html>maintenance</html>`, wantReason: "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.body)
			}))
			snap, err := newCollector(t, endpoint, nil).Collect(context.Background())
			if got := collectors.Reason(err); got != tt.wantReason {
				t.Fatalf("reason %q, want %q (err: %v)", got, tt.wantReason, err)
			}
			if err != nil {
				return
			}
			for _, pm := range []price.PricingModel{price.OnDemand, price.Spot} {
				var ids []string
				for _, o := range snap.Offers {
					if o.PricingModel == pm {
						ids = append(ids, o.ID)
					}
				}
				if !reflect.DeepEqual(ids, tt.wantIDs) {
					t.Errorf("%s offers %v, want %v", pm, ids, tt.wantIDs)
				}
			}
		})
	}
}

// TestSpellingsShareAShape checks that gpu_names differing only in spacing
// make one shape: they would make one series.
func TestSpellingsShareAShape(t *testing.T) {
	endpoint := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"offers": [
			{"id": 1, "gpu_name": "RTX 3090", "num_gpus": 1, "gpu_ram": 24576, "dph_base": 0.2, "dph_total": 0.21, "min_bid": 0.1, "geolocation": "Ohio, US"},
			{"id": 2, "gpu_name": "RTX  3090 ", "num_gpus": 1, "gpu_ram": 24576, "dph_base": 0.3, "dph_total": 0.31, "min_bid": 0.2, "geolocation": "Texas, US"}]}`)
	}))
	snap, err := newCollector(t, endpoint, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != 2 { // one per pricing model
		t.Fatalf("%d quotes, want 2: %+v", len(snap.Quotes), snap.Quotes)
	}
	for _, q := range snap.Quotes {
		if q.InstanceType != "1x_RTX_3090_24GB" || q.Offers != 2 || q.GPURaw != "RTX 3090" {
			t.Errorf("quote %+v: want 1x_RTX_3090_24GB over 2 offers, raw name \"RTX 3090\"", q)
		}
	}
}

func TestGPUResolution(t *testing.T) {
	tests := []struct {
		name, raw   string
		mib         float64
		model, form string
		mem         float64
		shape       string
	}{
		{"alias fixes memory", "H100 SXM", 81559, "H100", "sxm", 80, "H100_SXM_80GB"},
		{"A100 40GB from MiB", "A100 SXM4", 40960, "A100", "sxm", 40, "A100_SXM4_40GB"},
		{"A100 80GB from MiB", "A100 PCIE", 81920, "A100", "pcie", 80, "A100_PCIE_80GB"},
		{"V100 32GB, form unknown", "Tesla V100", 32768, "V100", "", 32, "Tesla_V100_32GB"},
		{"V100 16GB", "Tesla V100", 16384, "V100", "", 16, "Tesla_V100_16GB"},
		{"repeated spaces", "RTX  4090", 24564, "RTX4090", "pcie", 24, "RTX_4090_24GB"},
		{"unknown name kept", "RTX 5090 Ti", 32768, price.Unknown, "", 32, "RTX_5090_Ti_32GB"},
		{"unknown name, no memory", "Mystery GPU", 0, price.Unknown, "", 0, "Mystery_GPU"},
	}
	a := newAggregator(price.DefaultCatalog())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := a.gpu(tt.raw, tt.mib)
			want := gpu{raw: strings.Join(strings.Fields(tt.raw), " "), model: tt.model, form: tt.form, memoryGB: tt.mem, shapeName: tt.shape}
			if g != want {
				t.Errorf("gpu(%q, %g) = %+v, want %+v", tt.raw, tt.mib, g, want)
			}
		})
	}
}

func TestRegion(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"state and country", "Texas, US", "us"},
		{"city and country", "Quebec, CA", "ca"},
		{"extra spaces", "  Tokyo ,  jp ", "jp"},
		{"several commas", "Frankfurt, Hesse, DE", "de"},
		{"code alone", "SE", "se"},
		{"null", "", ""},
		{"no code", "Sweden", ""},
		{"three letters", "Somewhere, USA", ""},
		{"not letters", "Somewhere, 12", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Region(tt.in); got != tt.want {
				t.Errorf("Region(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRecorded checks the properties of the recorded offers' snapshot
// that its golden file (TestContract) could hide.
func TestRecorded(t *testing.T) {
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{})
	snap, err := newCollector(t, serve(t, fake), nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[price.SeriesKey]bool{}
	var unknown, noRegion int
	for _, q := range snap.Quotes {
		if keys[q.Key()] {
			t.Errorf("two quotes for series %s", q.Key())
		}
		keys[q.Key()] = true
		if q.USDPerHour <= 0 || !(q.P10 <= q.P50 && q.P50 <= q.P90) || q.GPUUSDPerHour() > q.P10+1e-12 {
			t.Errorf("inconsistent prices in %+v", q)
		}
		if q.GPUModel == price.Unknown {
			unknown++
			t.Errorf("the catalog does not know %q: the demo's market must map every GPU (%+v)", q.GPURaw, q)
		}
		if q.Region == "" {
			noRegion++
		}
	}
	if noRegion == 0 {
		t.Errorf("no quote without a region: the recording has offers without geolocation")
	}
}

// TestDeterministic checks that two refreshes of the same market give the
// same snapshot, order included, over enough synthesized offers for map
// order to matter.
func TestDeterministic(t *testing.T) {
	endpoint := serve(t, fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: 3000}))
	c := newCollector(t, endpoint, nil)
	first, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("two refreshes of the same offers differ")
	}
}

func TestRegistered(t *testing.T) {
	cfg := config.Default()
	c, err := collectors.New(Name, cfg, collectors.Env{HTTPClient: http.DefaultClient, Catalog: price.DefaultCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != Name {
		t.Errorf("Name() = %q", c.Name())
	}
	if got := c.(*Collector).url; got != "https://console.vast.ai/api/v0/bundles/" {
		t.Errorf("search URL %q", got)
	}
}

// BenchmarkCollect measures a whole refresh over 30k synthesized offers per
// search: HTTP from a loopback fake (its answers cached), decoding,
// normalization, aggregation and sorting. Its per-row figures are per
// offer of both answers.
//
//	go test -run '^$' -bench 'Collect$' -benchtime 3x ./collectors/vastai/
func BenchmarkCollect(b *testing.B) {
	const n = 30_000
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: n})
	c := newCollector(b, serve(b, fake), func(c *Config) { c.Limit = 2 * n })
	snap, err := c.Collect(context.Background()) // warms the fake's cache
	if err != nil {
		b.Fatal(err)
	}
	collectortest.PerRow(b, len(snap.Offers), func() {
		if _, err := c.Collect(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkAggregate isolates the collector's own work from HTTP and JSON.
func BenchmarkAggregate(b *testing.B) {
	const n = 30_000
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: n})
	endpoint := serve(b, fake)
	var results [2][]offer
	for i, s := range searches {
		c := newCollector(b, endpoint, func(c *Config) { c.Limit = 2 * n })
		if _, err := c.search(context.Background(), s, func(o *offer) { results[i] = append(results[i], *o) }); err != nil {
			b.Fatal(err)
		}
	}
	catalog := price.DefaultCatalog()
	b.ReportAllocs()
	for b.Loop() {
		a := newAggregator(catalog)
		for i, s := range searches {
			a.add(s.model, results[i])
		}
		_ = a.snapshot()
	}
	b.ReportMetric(float64(len(results[0])+len(results[1])), "offers")
}

// BenchmarkDecode isolates the decoder: one on-demand answer of 30k
// offers, read from memory and aggregated, whole (json.Decoder.Decode,
// which reads the answer whole before decoding it: the decoder before
// DecodeJSON) and streamed (collectors.DecodeJSON, as DoJSON does). Its
// per-row figures are per offer.
//
//	go test -run '^$' -bench Decode -benchtime 3x ./collectors/vastai/
func BenchmarkDecode(b *testing.B) {
	const n = 30_000
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: n})
	c := newCollector(b, "http://fake"+fakecloud.VastAIBasePath, func(c *Config) { c.Limit = 2 * n })
	req, err := c.request(context.Background(), searches[0])
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	catalog := price.DefaultCatalog()
	collectortest.EachDecoder(b, func(b *testing.B, way func(io.Reader, any) error) {
		decode := func() int {
			a := newAggregator(catalog)
			var sk skips
			var ans answer
			ans.Offers.Each = func(o *offer) { a.addOne(price.OnDemand, o, &sk) }
			if err := way(bytes.NewReader(body), &ans); err != nil {
				b.Fatal(err)
			}
			a.snapshot()
			return ans.Offers.Good
		}
		collectortest.PerRow(b, decode(), func() { decode() })
		b.ReportMetric(float64(len(body))/(1<<20), "answer-MB")
	})
}
