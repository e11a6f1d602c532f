package collectors

import (
	"context"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// A list source whose collectors would share a name is refused: the Runner
// keys providers by name.
func TestBuildListsRefusesDuplicateNames(t *testing.T) {
	type block struct {
		Twice bool `yaml:"test_twice"`
	}
	RegisterList(ListPlugin[block]{
		Name:     "test-dup",
		Defaults: func() *block { return &block{} },
		New: func(b *block, _ *config.Config, _ Env) ([]Job, error) {
			if !b.Twice {
				return nil, nil // only the test's config
			}
			one := func() Job {
				return Job{Collector: &funcCollector{name: "twice", collect: func(context.Context) (*price.Snapshot, error) { return nil, nil }}}
			}
			return []Job{one(), one()}, nil
		},
	})
	cfg := config.Default()
	cfg.Block("test-dup").(*block).Twice = true
	ps, err := buildLists(cfg, quietLogger(), price.DefaultCatalog(), nil)
	if want := `test-dup: a collector named "twice" is already configured`; err == nil || err.Error() != want {
		t.Errorf("buildLists = %d providers, %v; want error %q", len(ps), err, want)
	}
	if got := RegisteredLists(); len(got) == 0 || got[len(got)-1] != "test-dup" {
		t.Errorf("RegisteredLists = %v", got)
	}
}

func TestListSettings(t *testing.T) {
	cfg := config.Default()
	s := ListSettings(cfg, config.Duration(time.Hour))
	want := Settings{Interval: 3600e9, Timeout: 60e9, StaleAfter: 3 * 3600e9, MaxGPUUSDPerHour: cfg.MaxGPUUSDPerHour}
	if s != want {
		t.Errorf("ListSettings = %+v, want %+v", s, want)
	}
}
