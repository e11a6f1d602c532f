package vastai

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// staleFixture holds offers the search index has not caught up with
// (fakecloud.VastAIOptions.StaleIDs): the cheapest 1x RTX 4090 in the US
// is not rentable (1), the next one rented (2), and the only 2x one not
// rentable either (5). storage_cost 0.144 $/GB-month adds 0.001 $/h for
// the 5 GB every price includes.
const staleFixture = `{"offers": [
  {"id": 1, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.2, "min_bid": 0.1, "storage_cost": 0.144, "verified": true, "rentable": false, "rented": false, "geolocation": "Texas, US"},
  {"id": 2, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.25, "min_bid": 0.12, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": true, "geolocation": "Ohio, US"},
  {"id": 3, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.3, "min_bid": 0.15, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": false, "geolocation": "Texas, US"},
  {"id": 4, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.4, "min_bid": 0.2, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": false, "geolocation": "Nevada, US"},
  {"id": 5, "gpu_name": "RTX 4090", "num_gpus": 2, "gpu_ram": 24564, "dph_base": 0.5, "min_bid": 0.25, "storage_cost": 0.144, "verified": true, "rentable": false, "rented": false, "geolocation": "Texas, US"}
]}`

// debugCollector builds a collector for endpoint that logs at debug level
// into buf.
func debugCollector(t *testing.T, endpoint string, buf *bytes.Buffer) *Collector {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{Logger: logger}, nil)
}

// TestOnlyRentableOffersCount: offers the answer marks not rentable or
// rented are dropped before aggregation, so the shape's price, offer
// count, GPUs and quantiles, and the market's, come from rentable offers
// only; the dropped ones are counted in the debug log, not as bad rows.
func TestOnlyRentableOffersCount(t *testing.T) {
	fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: []byte(staleFixture), StaleIDs: []int64{1, 2, 5}})
	var logs bytes.Buffer
	snap, err := debugCollector(t, serve(t, fake), &logs).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const od, sp = price.OnDemand, price.Spot
	// Offers 3 and 4, per GPU 0.301 and 0.401: P10 = 0.301 + 0.1·0.1.
	wantQuotes := []price.Quote{
		shapeQuote(od, "1x_RTX_4090_24GB", "us", "na", "RTX4090", "pcie", 24, 1, "RTX 4090", 0.301, 2, 2, 0.311, 0.351, 0.391),
		shapeQuote(sp, "1x_RTX_4090_24GB", "us", "na", "RTX4090", "pcie", 24, 1, "RTX 4090", 0.151, 2, 2, 0.156, 0.176, 0.196),
	}
	if len(snap.Quotes) != len(wantQuotes) {
		t.Fatalf("got %d quotes, want %d (no 2x shape: its only offer is not rentable):\n%+v", len(snap.Quotes), len(wantQuotes), snap.Quotes)
	}
	for i := range wantQuotes {
		if got, want := roundQuote(snap.Quotes[i]), roundQuote(wantQuotes[i]); got != want {
			t.Errorf("quote %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	wantMarkets := []price.Market{
		marketOf(od, "us", "na", "RTX4090", "pcie", 24, 2, 2, 0.702, 0.311, 0.351, 0.391),
		marketOf(sp, "us", "na", "RTX4090", "pcie", 24, 2, 2, 0.352, 0.156, 0.176, 0.196),
	}
	for i := range wantMarkets {
		if i >= len(snap.Markets) {
			t.Fatalf("got %d markets, want %d", len(snap.Markets), len(wantMarkets))
		}
		if got, want := roundMarket(snap.Markets[i]), roundMarket(wantMarkets[i]); got != want {
			t.Errorf("market %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	for _, o := range snap.Offers {
		if o.ID != "3" && o.ID != "4" {
			t.Errorf("offer %s is in the snapshot; only 3 and 4 can be rented", o.ID)
		}
	}
	if len(snap.Skipped) != 0 {
		t.Errorf("skipped %v: offers that cannot be rented are not bad rows", snap.Skipped)
	}
	for _, search := range []string{"on-demand", "bid"} {
		want := fmt.Sprintf(`msg="skipped offers" search=%s offers=5 not_rentable=2 rented=1`, search)
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestAggregateSkipsByReason counts what add leaves out of one search.
func TestAggregateSkipsByReason(t *testing.T) {
	no, yes := false, true
	offers := []offer{
		{ID: 1, GPUName: "RTX 4090", NumGPUs: 1, DPHBase: 0.2, DPHTotal: 0.201, MinBid: 0.1, Rentable: &no},
		{ID: 2, GPUName: "RTX 4090", NumGPUs: 1, DPHBase: 0.2, DPHTotal: 0.201, MinBid: 0.1, Rentable: &yes, Rented: true},
		{ID: 3, GPUName: "RTX 4090", NumGPUs: 1, DPHBase: 0.3, DPHTotal: 0.301, MinBid: 0.1, Rentable: &yes},
		{ID: 4, GPUName: "RTX 4090", NumGPUs: 1, DPHBase: 0.3, DPHTotal: 0.301, MinBid: 0.1}, // rentable absent: the query asked for it
		{ID: 5, GPUName: "RTX 4090", NumGPUs: 0, DPHBase: 0.3, DPHTotal: 0.301, MinBid: 0.1},
		{ID: 6, GPUName: " ", NumGPUs: 1, DPHBase: 0.3, DPHTotal: 0.301, MinBid: 0.1},
		{ID: 7, GPUName: "RTX 4090", NumGPUs: 1, MinBid: 0.1},
	}
	got := newAggregator(price.DefaultCatalog()).add(price.OnDemand, offers)
	want := skips{notRentable: 1, rented: 1, noGPUs: 1, noName: 1, noPrice: 1}
	if got != want {
		t.Errorf("skips %+v, want %+v", got, want)
	}
	if got.invalid() != 3 || got.total() != 5 {
		t.Errorf("invalid %d, total %d; want 3, 5", got.invalid(), got.total())
	}
}

// TestPriceParts pins which parts of what Vast charges are in the
// exported price (see the package comment): the GPU and the mandatory
// 5 GB of storage, on demand and interruptible alike, never bandwidth.
// The fake computes dph_total from storage_cost as Vast does, so the
// storage part follows the offer's storage_cost.
func TestPriceParts(t *testing.T) {
	tests := []struct {
		name                  string
		gpus                  int
		storageCost           float64 // $/GB-month
		dphBase, minBid       float64
		inetUp, inetDown      float64 // $/GB transferred: never in a price
		wantOnDemand, wantBid float64 // per GPU-hour
	}{
		// 0.05 × 5 / 720 = 0.000347 → 0.0003 (Vast rounds to 4 decimals).
		{"cheap storage", 1, 0.05, 2.5, 1.5, 0.02, 0.01, 2.5003, 1.5003},
		// 0.5 × 5 / 720 = 0.003472 → 0.0035.
		{"dear storage", 1, 0.5, 2.5, 1.5, 0.02, 0.01, 2.5035, 1.5035},
		{"free bandwidth", 1, 0.2, 2.5, 1.5, 0, 0, 2.5014, 1.5014},
		{"dear bandwidth", 1, 0.2, 2.5, 1.5, 1, 1, 2.5014, 1.5014},
		// Eight GPUs share the offer's one disk: (20 + 0.0014) / 8.
		{"eight GPUs", 8, 0.2, 20, 12, 0.02, 0.01, 2.500175, 1.500175},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fmt.Sprintf(`{"offers": [{"id": 1, "gpu_name": "H100 SXM", "num_gpus": %d, "gpu_ram": 81559,
				"dph_base": %g, "min_bid": %g, "storage_cost": %g, "inet_up_cost": %g, "inet_down_cost": %g,
				"verified": true, "rentable": true, "rented": false, "geolocation": "Texas, US"}]}`,
				tt.gpus, tt.dphBase, tt.minBid, tt.storageCost, tt.inetUp, tt.inetDown)
			fake := fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: []byte(data)})
			snap, err := newCollector(t, serve(t, fake), nil).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := map[price.PricingModel]float64{}
			for _, q := range snap.Quotes {
				got[q.PricingModel] = round9(q.GPUUSDPerHour())
			}
			if got[price.OnDemand] != tt.wantOnDemand || got[price.Spot] != tt.wantBid {
				t.Errorf("per GPU-hour: on demand %v, interruptible %v; want %v, %v", got[price.OnDemand], got[price.Spot], tt.wantOnDemand, tt.wantBid)
			}
		})
	}
}

// TestBadRowsAreSkippedAndCounted: offers with a null, missing or
// wrong-typed price, count or name are left out and counted as
// price.SkippedInvalid; the other offers are priced as usual. An answer
// none of whose offers can be read is a decode failure.
func TestBadRowsAreSkippedAndCounted(t *testing.T) {
	const good = `{"id": 1, "gpu_name": "RTX 3090", "num_gpus": 1, "gpu_ram": 24576, "dph_base": 0.2, "dph_total": 0.21, "min_bid": 0.1, "geolocation": "Ohio, US"}`
	tests := []struct {
		name        string
		bad         []string // offers besides good
		wantInvalid int      // per search, so counted twice
		wantReason  string
	}{
		{name: "price as a string", bad: []string{`{"id": 2, "gpu_name": "RTX 3090", "num_gpus": 1, "dph_base": 0.1, "dph_total": "0.11", "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "count as a string", bad: []string{`{"id": 3, "gpu_name": "RTX 3090", "num_gpus": "1", "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "name as a number", bad: []string{`{"id": 4, "gpu_name": 3090, "num_gpus": 1, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "null name", bad: []string{`{"id": 5, "gpu_name": null, "num_gpus": 1, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "missing name", bad: []string{`{"id": 6, "num_gpus": 1, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "null count", bad: []string{`{"id": 7, "gpu_name": "RTX 3090", "num_gpus": null, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05}`}, wantInvalid: 1},
		{name: "null prices", bad: []string{`{"id": 8, "gpu_name": "RTX 3090", "num_gpus": 1, "dph_base": null, "dph_total": null, "min_bid": null}`}, wantInvalid: 1},
		{name: "missing prices", bad: []string{`{"id": 9, "gpu_name": "RTX 3090", "num_gpus": 1}`}, wantInvalid: 1},
		{name: "an offer that is not an object", bad: []string{`"RTX 3090"`, `null`}, wantInvalid: 2},
		{name: "rentable as a string", bad: []string{`{"id": 10, "gpu_name": "RTX 3090", "num_gpus": 1, "dph_base": 0.1, "dph_total": 0.11, "min_bid": 0.05, "rentable": "no"}`}, wantInvalid: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"offers": [` + good + `, ` + strings.Join(tt.bad, ", ") + `]}`
			endpoint := serve(t, fakecloud.Answer(body))
			snap, err := newCollector(t, endpoint, nil).Collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := snap.Skipped[price.SkippedInvalid]; got != 2*tt.wantInvalid {
				t.Errorf("skipped %v, want %s: %d (per search)", snap.Skipped, price.SkippedInvalid, 2*tt.wantInvalid)
			}
			if len(snap.Quotes) != 2 {
				t.Fatalf("got %d quotes, want the good offer's two: %+v", len(snap.Quotes), snap.Quotes)
			}
			for _, q := range snap.Quotes {
				want := 0.21
				if q.PricingModel == price.Spot {
					want = 0.11
				}
				if round9(q.USDPerHour) != want || q.Offers != 1 {
					t.Errorf("%s: %v over %d offers, want %v over the good one", q.PricingModel, q.USDPerHour, q.Offers, want)
				}
			}
		})
	}
	t.Run("no offer readable", func(t *testing.T) {
		endpoint := serve(t, fakecloud.Answer(`{"offers": [{"id": 1, "num_gpus": "1"}, {"id": 2, "dph_total": "0.3"}]}`))
		_, err := newCollector(t, endpoint, nil).Collect(context.Background())
		if got := collectors.Reason(err); got != "decode" || !strings.Contains(err.Error(), "none of 2 offers could be read") {
			t.Errorf("reason %q (err %v), want decode: none of 2 offers could be read", got, err)
		}
	})
}
