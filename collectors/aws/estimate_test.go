package aws

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
)

var _ collectors.WalkEstimator = (*Collector)(nil)

// noHistory is a store seen by the collector; only its presence matters.
type noHistory struct{ collectors.Backfiller }

func TestEstimatedRequests(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		history bool
		want    int
	}{
		{"discovered regions, no store", func(*Config) {}, false,
			1 + defaultRegions*(typePagesPerRegion+spotPagesPerRegion) + gpuInstanceTypes},
		{"configured regions, 90-day backfill", func(a *Config) { a.Regions = []string{"us-east-1", "eu-west-1"} }, true,
			2*(typePagesPerRegion+backfillPagesPer90d) + gpuInstanceTypes},
		{"30-day backfill", func(a *Config) {
			a.Regions = []string{"us-east-1"}
			a.SpotBackfill = config.Duration(30 * 24 * time.Hour)
		}, true, typePagesPerRegion + 15 + gpuInstanceTypes},
		{"no backfill", func(a *Config) { a.Regions = []string{"us-east-1"}; a.SpotBackfill = 0 }, true,
			typePagesPerRegion + spotPagesPerRegion + gpuInstanceTypes},
		{"bulk on-demand", func(a *Config) {
			a.Regions = []string{"us-east-1", "eu-west-1"}
			a.OnDemandSource = OnDemandBulk
		}, false, 2*(typePagesPerRegion+spotPagesPerRegion) + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaults()
			tc.edit(s)
			env := collectors.Env{}
			if tc.history {
				env.Backfiller = noHistory{}
			}
			if got := newCollector(s, env, nil).EstimatedRequests(); got != tc.want {
				t.Errorf("EstimatedRequests = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDefaultsFitTheirTimeout: the built-in configuration, first backfill
// included, must not start with the warning that its refreshes cannot
// finish.
func TestDefaultsFitTheirTimeout(t *testing.T) {
	s := config.Builtin().Providers[Name].(*Config)
	c := newCollector(s, collectors.Env{Backfiller: noHistory{}}, nil)
	walk := time.Duration(float64(c.EstimatedRequests()) / s.RateLimit * float64(time.Second))
	if walk > time.Duration(s.Timeout) {
		t.Errorf("estimated walk %v at %v requests/s exceeds the default timeout %v", walk, s.RateLimit, s.Timeout)
	}
}
