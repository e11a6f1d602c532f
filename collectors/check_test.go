package collectors

import (
	"bytes"
	"log/slog"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

func testChecker(logger *slog.Logger, allowZero bool) *checker {
	c := &funcCollector{name: "azure", allowZero: allowZero}
	return newChecker(logger, "azure", c, 200)
}

func TestCheckRejectsImplausibleQuotes(t *testing.T) {
	unknown := quote("Standard_NX1", 3, 1)
	unknown.GPUModel, unknown.GPURaw = price.Unknown, "Standard_NX1"
	in := snapshot(
		quote("ok-8", 80, 8),
		quote("nan", math.NaN(), 8),
		quote("neg", -1, 8),
		quote("zero", 0, 8),
		quote("inf", math.Inf(1), 8),
		quote("absurd", 8*500, 8),
		quote("nocount", 10, 0),
		price.Quote{InstanceType: "badmodel", PricingModel: "hourly", GPUCount: 1, USDPerHour: 1},
		quote("ok-8", 70, 8), // same series again
		quote("frac", 1.5, 1.0/6),
		unknown,
	)
	now := time.Now()
	snap, rejected, rejectedQuotes := testChecker(quietLogger(), false).check(in, now)
	var got []string
	for _, q := range snap.Quotes {
		got = append(got, q.InstanceType)
		if q.Provider != "azure" || q.Region != "eastus" || q.Geo != "na" || !q.ObservedAt.Equal(now) {
			t.Errorf("quote %s not stamped: provider=%q region=%q geo=%q observed=%v", q.InstanceType, q.Provider, q.Region, q.Geo, q.ObservedAt)
		}
	}
	if want := "ok-8 frac Standard_NX1"; strings.Join(got, " ") != want {
		t.Errorf("kept %v, want %s", got, want)
	}
	if math.Abs(snap.Quotes[1].GPUUSDPerHour()-9) > 1e-9 {
		t.Errorf("fractional per-GPU price = %v, want 9", snap.Quotes[1].GPUUSDPerHour())
	}
	want := map[string]int{"invalid_price": 3, "zero_price": 1, "absurd_price": 1, "invalid_gpu_count": 1, "invalid_quote": 1, "duplicate_series": 1}
	if !maps.Equal(rejected, want) || rejectedQuotes != 8 {
		t.Errorf("rejected %v (%d quotes), want %v (8)", rejected, rejectedQuotes, want)
	}
	if snap.Provider != "azure" || !snap.Time.Equal(now) {
		t.Errorf("snapshot stamped %q at %v", snap.Provider, snap.Time)
	}
	if in.Quotes[0].Provider != "" || in.Quotes[0].Region != "EastUS" {
		t.Error("check modified the collector's snapshot")
	}
}

func TestZeroPricesAllowedForConfiguredProviders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		allowZero bool
		kept      int
	}{
		{"price list", false, 0},
		{"configured prices", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, rejected, _ := testChecker(quietLogger(), tc.allowZero).check(snapshot(quote("academic", 0, 4)), time.Now())
			if len(snap.Quotes) != tc.kept || rejected["zero_price"] != 1-tc.kept {
				t.Errorf("kept %d quotes (rejected %v), want %d", len(snap.Quotes), rejected, tc.kept)
			}
		})
	}
}

func TestCheckMarketsAndOffers(t *testing.T) {
	offer := func(id string, usd float64) price.Offer {
		return price.Offer{ID: id, Quote: quote("8x_H100", usd, 8)}
	}
	in := &price.Snapshot{
		Quotes: []price.Quote{quote("a", 1, 1)},
		Markets: []price.Market{
			{Region: "us", P10: 1, P50: 2, P90: 3, AvailableGPUs: 8},
			{Region: "us", P10: math.NaN(), P50: 2, P90: 3, Offers: 3}, // a market of offers has every quantile
			{Region: "de", P10: 1, P50: 2, P90: 3, AvailableGPUs: -1},
			// Published statistics (no offers): unknown ones are NaN.
			{Region: "global", P10: math.NaN(), P50: 1.58, P90: math.NaN(), AvailableGPUs: math.NaN()},
			{Region: "global", P10: math.NaN(), P50: math.NaN(), P90: math.NaN(), AvailableGPUs: math.NaN()},
			{Region: "global", P10: math.NaN(), P50: math.Inf(1), P90: math.NaN()},
		},
		Offers: []price.Offer{offer("ok", 16), offer("free", 0), offer("absurd", 8*500)},
	}
	snap, rejected, rejectedQuotes := testChecker(quietLogger(), false).check(in, time.Now())
	if len(snap.Markets) != 2 || snap.Markets[0].Provider != "azure" || snap.Markets[0].Geo != "na" || snap.Markets[1].P50 != 1.58 {
		t.Errorf("markets kept: %+v, want the plausible two, stamped", snap.Markets)
	}
	if len(snap.Offers) != 1 || snap.Offers[0].ID != "ok" || snap.Offers[0].Region != "eastus" || snap.Offers[0].Provider != "azure" {
		t.Errorf("offers kept: %+v, want the plausible one, stamped", snap.Offers)
	}
	want := map[string]int{"invalid_price": 4, "invalid_offer": 2}
	if !maps.Equal(rejected, want) || rejectedQuotes != 0 {
		t.Errorf("rejected %v (%d quotes), want %v (no quote)", rejected, rejectedQuotes, want)
	}
}

func TestCheckLogsUnknownGPUsOnce(t *testing.T) {
	u := quote("x", 1, 1)
	u.GPUModel, u.GPURaw = price.Unknown, "Mystery 9000"
	var buf bytes.Buffer
	c := testChecker(slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &sync.Mutex{}}, nil)), false)
	for range 3 {
		if snap, _, _ := c.check(snapshot(u), time.Now()); len(snap.Quotes) != 1 {
			t.Fatal("unknown GPU dropped: it must be exported as UNKNOWN")
		}
	}
	if n := strings.Count(buf.String(), "Mystery 9000"); n != 1 {
		t.Errorf("unknown GPU logged %d times, want once:\n%s", n, buf.String())
	}
}
