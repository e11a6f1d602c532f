package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/fakecloud"
)

// TestCollectVastAISkipsUnrentableCheapest runs `gpuprice collect
// --provider=vastai --format=json` against a Vast.ai answer whose cheapest
// 1x RTX 4090 offers are not rentable (id 1) or rented (id 2), though the
// search asked for rentable ones: the price shown is the next offer's, one
// a user can rent at that price.
func TestCollectVastAISkipsUnrentableCheapest(t *testing.T) {
	const offers = `{"offers": [
  {"id": 1, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.2, "min_bid": 0.1, "storage_cost": 0.144, "verified": true, "rentable": false, "rented": false, "geolocation": "Texas, US"},
  {"id": 2, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.25, "min_bid": 0.12, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": true, "geolocation": "Texas, US"},
  {"id": 3, "gpu_name": "RTX 4090", "num_gpus": 1, "gpu_ram": 24564, "dph_base": 0.3, "min_bid": 0.15, "storage_cost": 0.144, "verified": true, "rentable": true, "rented": false, "geolocation": "Texas, US"}
]}`
	srv := httptest.NewServer(fakecloud.NewVastAI(fakecloud.VastAIOptions{Data: []byte(offers), StaleIDs: []int64{1, 2}}))
	defer srv.Close()
	cfgFile := filepath.Join(t.TempDir(), "gpuprice.yml")
	if err := os.WriteFile(cfgFile, []byte("providers:\n  vastai:\n    endpoint: "+srv.URL+fakecloud.VastAIBasePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	format, demo, timeout := "json", false, 10*time.Second
	providers := []string{"vastai"}
	if err := runCollect(slog.New(slog.DiscardHandler), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data []struct {
			InstanceType  string  `json:"instance_type"`
			PricingModel  string  `json:"pricing_model"`
			USDPerHour    float64 `json:"usd_per_hour"`
			GPUUSDPerHour float64 `json:"gpu_usd_per_hour"`
			Offers        int     `json:"offers"`
		} `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	want := map[string]float64{"on_demand": 0.301, "spot": 0.151} // offer 3, with 0.001 of storage
	if len(got.Data) != len(want) {
		t.Fatalf("%d quotes, want %d:\n%s", len(got.Data), len(want), out.String())
	}
	for _, q := range got.Data {
		if q.InstanceType != "1x_RTX_4090_24GB" || q.USDPerHour != want[q.PricingModel] || q.GPUUSDPerHour != want[q.PricingModel] || q.Offers != 1 {
			t.Errorf("%s %s: %v ($%v per GPU) over %d offers, want %v over the one rentable offer", q.InstanceType, q.PricingModel, q.USDPerHour, q.GPUUSDPerHour, q.Offers, want[q.PricingModel])
		}
	}
}
