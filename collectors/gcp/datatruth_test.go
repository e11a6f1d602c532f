package gcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// unpricing serves fake, removing the pricing of the SKUs whose
// description starts with prefix from every SKU page.
type unpricing struct {
	fake   http.Handler
	prefix string
}

func (u unpricing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/skus") {
		u.fake.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	u.fake.ServeHTTP(rec, r)
	var page map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	skus, _ := page["skus"].([]any)
	for _, s := range skus {
		sku := s.(map[string]any)
		if d, _ := sku["description"].(string); strings.HasPrefix(d, u.prefix) {
			delete(sku, "pricingInfo")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(page)
}

// TestUnpricedSKUsAreCounted: a GPU SKU without a price is skipped and
// counted as an invalid row; the other SKUs are priced, and the GPU keeps
// the quotes its priced SKUs give (spot here).
func TestUnpricedSKUsAreCounted(t *testing.T) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{KnownGPUsOnly: true})
	url := collectortest.Serve(t, unpricing{fake, "Nvidia Tesla T4 GPU running in "})
	snap, err := newCollector(t, url, setup{key: fakecloud.GCPDemoKey}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t4 := map[price.PricingModel]int{}
	for _, q := range snap.Quotes {
		if q.InstanceType == "nvidia-tesla-t4" {
			t4[q.PricingModel]++
		}
		if !(q.USDPerHour > 0) {
			t.Errorf("%s %s %s exported at %v", q.InstanceType, q.Region, q.PricingModel, q.USDPerHour)
		}
	}
	if t4[price.OnDemand] != 0 || t4[price.Spot] == 0 {
		t.Errorf("T4 quotes %v: want spot only, its on-demand SKUs having no price", t4)
	}
	// The fake prices the T4 on demand in six locations.
	if got := snap.Skipped[price.SkippedInvalid]; got != 6 {
		t.Errorf("skipped %v, want the 6 unpriced T4 SKUs", snap.Skipped)
	}
}
