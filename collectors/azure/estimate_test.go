package azure

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
)

var _ collectors.WalkEstimator = (*Collector)(nil)

func TestEstimatedRequests(t *testing.T) {
	for _, tc := range []struct {
		name         string
		regions      []string
		subscription string
		want         int
	}{
		{"every public region", nil, "", len(DefaultRegions()) * pagesPerRegion},
		{"configured, repeats walked once", []string{"eastus", "EastUS", "westus3"}, "", 2 * pagesPerRegion},
		{"with Resource SKUs", []string{"eastus", "westus3"}, "6f0c1a52-3d8e-4b7a-9c15-2e4d8f7a9b30", 2*pagesPerRegion + 2*skuPagesPerRegion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaults()
			cfg.Regions, cfg.SubscriptionID = tc.regions, tc.subscription
			c, err := New(cfg, collectors.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.EstimatedRequests(); got != tc.want {
				t.Errorf("EstimatedRequests = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDefaultsFitTheirTimeout: the built-in configuration must not start
// with the warning that its refreshes cannot finish.
func TestDefaultsFitTheirTimeout(t *testing.T) {
	s := config.Builtin().Providers[Name].(*Config)
	c, err := New(s, collectors.Env{})
	if err != nil {
		t.Fatal(err)
	}
	walk := time.Duration(float64(c.EstimatedRequests()) / s.RateLimit * float64(time.Second))
	if walk > time.Duration(s.Timeout) {
		t.Errorf("estimated walk %v at %v requests/s exceeds the default timeout %v", walk, s.RateLimit, s.Timeout)
	}
}
