package runpod

import (
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigDefaults(t *testing.T) {
	rp := config.Builtin().Providers[Name].(*Config)
	configtest.Check(t, []configtest.Field{
		{"enabled (needs no credentials)", rp.Enabled, true},
		{"interval", time.Duration(rp.Interval), 5 * time.Minute},
		{"timeout", time.Duration(rp.Timeout), 5 * time.Minute},
		{"stale_after", time.Duration(rp.StaleAfter), 15 * time.Minute},
		{"rate_limit", rp.RateLimit, 1.0},
		{"endpoint", rp.Endpoint, "https://api.runpod.io/graphql"},
		{"api_key", rp.APIKey.Value(), ""},
	})
}

func TestConfigLoad(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_RUNPOD_KEY", "rp-key-123")
	cfg := configtest.Load(t, "runpod.yml")
	rp := cfg.Providers[Name].(*Config)
	configtest.Check(t, []configtest.Field{
		{"interval", time.Duration(rp.Interval), 10 * time.Minute},
		{"rate_limit", rp.RateLimit, 2.0},
		{"api_key (from ${ENV})", rp.APIKey.Value(), "rp-key-123"},
		{"endpoint", strings.TrimSpace(rp.Endpoint), "https://api.runpod.io/graphql"},
	})
}
