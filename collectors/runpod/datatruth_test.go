package runpod

import (
	"context"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// TestNullPricesUseTheFieldsThatAreSet: a null tier price falls back to the
// tier's lowestPrice, a null lowestPrice leaves the listed prices (and
// stock unknown), and no field that is null, zero or negative becomes a
// price. Every type here is Secure Cloud only.
func TestNullPricesUseTheFieldsThatAreSet(t *testing.T) {
	const body = `{"data": {"gpuTypes": [
	  {"id": "NVIDIA H100 80GB HBM3", "displayName": "H100 SXM", "memoryInGb": 80, "secureCloud": true, "communityCloud": false,
	   "securePrice": null, "secureSpotPrice": null, "communityPrice": null, "communitySpotPrice": null,
	   "lowestPrice": {"stockStatus": "High", "countryCode": "US", "uninterruptablePrice": 2.1, "minimumBidPrice": 1.2}},
	  {"id": "NVIDIA L40S", "displayName": "L40S", "memoryInGb": 48, "secureCloud": true, "communityCloud": false,
	   "securePrice": 0, "secureSpotPrice": 0.5, "communityPrice": null, "communitySpotPrice": null,
	   "lowestPrice": {"stockStatus": "Low", "countryCode": "RO", "uninterruptablePrice": null, "minimumBidPrice": 0.45}},
	  {"id": "NVIDIA A40", "displayName": "A40", "memoryInGb": 48, "secureCloud": true, "communityCloud": false,
	   "securePrice": 0.44, "secureSpotPrice": null, "communityPrice": null, "communitySpotPrice": null,
	   "lowestPrice": null},
	  {"id": "NVIDIA RTX A5000", "displayName": "RTX A5000", "memoryInGb": 24, "secureCloud": true, "communityCloud": false,
	   "securePrice": -1, "secureSpotPrice": 0.14, "communityPrice": null, "communitySpotPrice": null,
	   "lowestPrice": {"stockStatus": null, "countryCode": null, "uninterruptablePrice": 0, "minimumBidPrice": null}},
	  {"id": "NVIDIA L4", "displayName": "L4", "memoryInGb": 24, "secureCloud": true, "communityCloud": false,
	   "securePrice": null, "secureSpotPrice": null, "communityPrice": null, "communitySpotPrice": null,
	   "lowestPrice": {"stockStatus": null, "countryCode": null, "uninterruptablePrice": null, "minimumBidPrice": null}}
	]}}`
	snap, err := newCollector(t, serve(t, fakecloud.Answer(body)), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := quotes([]row{
		// Both listed prices null: the tier's lowestPrice prices it.
		{"NVIDIA H100 80GB HBM3", "secure", "us", high, "H100", "sxm", 80, 1, 2.1, 1.2},
		// The listed spot price is set and wins; a zero on-demand price
		// with no fallback gives no on-demand quote.
		{"NVIDIA L40S", "secure", "ro", low, "L40S", "pcie", 48, 1, 0, 0.5},
		// No lowestPrice: the listed price, stock unknown.
		{"NVIDIA A40", "secure", "", price.StockUnknown, "A40", "pcie", 48, 1, 0.44, 0},
		// A negative price and a zero fallback are no price.
		{"NVIDIA RTX A5000", "secure", "", none, "A5000", "pcie", 24, 1, 0, 0.14},
	})
	collectortest.SameQuotes(t, snap.Quotes, want)
	for _, q := range snap.Quotes {
		if !(q.USDPerHour > 0) {
			t.Errorf("%s %s exported at %v", q.InstanceType, q.PricingModel, q.USDPerHour)
		}
	}
	// The L4 is offered in Secure Cloud with no price anywhere: skipped
	// and counted.
	if got := snap.Skipped[price.SkippedInvalid]; got != 1 {
		t.Errorf("skipped %v, want the L4 counted once", snap.Skipped)
	}
}

// TestBadGPUTypesAreSkippedAndCounted: types whose price, count or name
// has the wrong type, or that have no id, are left out and counted per
// tier query; the rest of the answer is priced. An answer none of whose
// types can be read is a decode failure.
func TestBadGPUTypesAreSkippedAndCounted(t *testing.T) {
	const good = `{"id": "NVIDIA A40", "displayName": "A40", "memoryInGb": 48, "secureCloud": true, "communityCloud": true,
	   "securePrice": 0.44, "secureSpotPrice": 0.24, "communityPrice": 0.35, "communitySpotPrice": 0.2,
	   "lowestPrice": {"stockStatus": "High", "countryCode": "CA"}}`
	bad := []string{
		`{"id": "NVIDIA L4", "memoryInGb": 24, "secureCloud": true, "communityCloud": true, "securePrice": "0.43", "communityPrice": 0.39}`,
		`{"id": "NVIDIA L40", "memoryInGb": "48", "secureCloud": true, "communityCloud": true, "securePrice": 0.99, "communityPrice": 0.69}`,
		`{"id": 42, "memoryInGb": 24, "secureCloud": true, "communityCloud": true, "securePrice": 0.3, "communityPrice": 0.2}`,
		`{"id": null, "displayName": "L40S", "memoryInGb": 48, "secureCloud": true, "communityCloud": true, "securePrice": 0.86, "communityPrice": 0.79}`,
		`{"displayName": "L40S", "memoryInGb": 48, "secureCloud": true, "communityCloud": true, "securePrice": 0.86, "communityPrice": 0.79}`,
		`{"id": "NVIDIA A30", "memoryInGb": 24, "secureCloud": true, "communityCloud": true, "securePrice": 0.3, "lowestPrice": {"stockStatus": 3}}`,
	}
	body := `{"data": {"gpuTypes": [` + good + `, ` + strings.Join(bad, ", ") + `]}}`
	snap, err := newCollector(t, serve(t, fakecloud.Answer(body)), nil, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := quotes([]row{
		{"NVIDIA A40", "community", "ca", high, "A40", "pcie", 48, 1, 0.35, 0.2},
		{"NVIDIA A40", "secure", "ca", high, "A40", "pcie", 48, 1, 0.44, 0.24},
	})
	collectortest.SameQuotes(t, snap.Quotes, want)
	if got, want := snap.Skipped[price.SkippedInvalid], 2*len(bad); got != want {
		t.Errorf("skipped %v, want %d (%d bad types in each tier's answer)", snap.Skipped, want, len(bad))
	}

	t.Run("no type readable", func(t *testing.T) {
		body := `{"data": {"gpuTypes": [` + strings.Join(bad[:3], ", ") + `]}}`
		_, err := newCollector(t, serve(t, fakecloud.Answer(body)), nil, nil).Collect(context.Background())
		if got := collectors.Reason(err); got != "decode" || !strings.Contains(err.Error(), "none of 3 GPU types could be read") {
			t.Errorf("reason %q (err %v), want decode: none of 3 GPU types could be read", got, err)
		}
	})
}
