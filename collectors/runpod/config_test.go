package runpod

import (
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigLoad(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_RUNPOD_KEY", "rp-key-123")
	rp := configtest.Load(t, "runpod.yml").Providers[Name].(*Config)
	configtest.Check(t, configtest.Fields{
		"interval":              {time.Duration(rp.Interval), 10 * time.Minute},
		"rate_limit":            {rp.RateLimit, 2.0},
		"api_key (from ${ENV})": {rp.APIKey.Value(), "rp-key-123"},
		"endpoint":              {strings.TrimSpace(rp.Endpoint), "https://api.runpod.io/graphql"},
	})
}
