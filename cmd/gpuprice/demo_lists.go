package main

import (
	"time"

	"github.com/gpuprice/gpuprice/config"
)

// demoLists are the demo's owned: and static: entries, so that the demo
// exports amortized and fixed prices and `gpuprice breakeven --server`
// against it has something to buy. The H100 server's purchase price is
// the catalog's; its 10.2 kW is the DGX H100's rated maximum.
const demoLists = `
owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, amortization: 3y, power_watts: 10200, pue: 1.3,
     usd_per_kwh: 0.12, maintenance_usd_per_year: 20000, utilization: 0.6, region: us}
  - {name: lab-rtx4090, gpu_model: RTX4090, gpu_count: 4, power_watts: 2000, usd_per_kwh: 0.15, utilization: 0.5, region: us}
static:
  - {provider: campus-cluster, gpu_model: H100, gpu_form: sxm, usd_per_hour: 0, max_gpu_hours_per_month: 1500, region: us}
  - {provider: colo-contract, gpu_model: A100, gpu_form: sxm, gpu_memory_gb: 80, gpu_count: 8, usd_per_hour: 8.8, region: eu-west}
`

// addDemoLists adds demoLists to cfg, refreshed every interval.
func addDemoLists(cfg *config.Config, interval time.Duration) {
	lists, err := config.Load([]byte(demoLists), "demo lists")
	if err != nil {
		panic(err) // a constant, tested
	}
	cfg.Owned, cfg.Static = lists.Owned, lists.Static
	cfg.OwnedInterval, cfg.StaticInterval = config.Duration(interval), config.Duration(interval)
}
