package azure_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/azure"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// TestEmptyRegionWithdrawsNothing: the fake answers one region's walk with
// a well-formed empty list, then recovers. The Runner keeps that region's
// last good prices meanwhile and marks Azure degraded: no withdrawal point
// is written, and the poll log says why.
func TestEmptyRegionWithdrawsNothing(t *testing.T) {
	fake := fakecloud.NewAzure(fakecloud.AzureOptions{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg, err := config.Load(nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Providers[azure.Name].(*azure.Config)
	s.Endpoint, s.Regions, s.Concurrency = srv.URL+fakecloud.AzurePath, []string{"eastus", "westeurope"}, 1
	c, err := collectors.New(azure.Name, cfg, collectors.Env{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	degraded := make(chan string, 10)
	var r *collectors.Runner
	r = collectors.NewRunner(slog.New(slog.DiscardHandler), st, func() {
		for _, s := range r.States() {
			if s.Degraded != "" {
				select {
				case degraded <- s.Degraded:
				default:
				}
			}
		}
	})
	settings := collectors.Settings{Interval: 200 * time.Millisecond, Timeout: 10 * time.Second, StaleAfter: time.Hour,
		MaxGPUUSDPerHour: 200, MinQuoteRatio: config.DefaultMinQuoteRatio, AcceptDropAfter: config.DefaultAcceptDropAfter}
	attempts := func() uint64 {
		if sts := r.States(); len(sts) == 1 {
			return sts[0].Attempts
		}
		return 0
	}
	r.Apply([]collectors.Job{{Collector: c, Settings: settings}})
	defer r.Stop()
	waitFor(t, "first refresh", func() bool { return attempts() >= 1 })
	fake.Faults.Add(fakecloud.Fault{Kind: fakecloud.Empty, Times: 1}) // eastus, the first region walked
	waitFor(t, "a degraded refresh and a recovery", func() bool { return attempts() >= 3 })
	r.Stop()

	select {
	case why := <-degraded:
		if !strings.Contains(why, "regions eastus (0 of ") {
			t.Errorf("degraded because %q, want eastus named", why)
		}
	default:
		t.Error("the refresh with an empty region was not marked degraded")
	}
	if st := r.States(); len(st) != 0 {
		t.Fatal("runner still running")
	}
	series, err := st.History(context.Background(), store.Query{Provider: azure.Name})
	if err != nil {
		t.Fatal(err)
	}
	regions := map[string]bool{}
	for _, s := range series {
		regions[s.Labels.Region] = true
		for _, p := range s.Points {
			if p.Withdrawn {
				t.Errorf("withdrawal point written for %s %s %s at %s", s.Labels.InstanceType, s.Labels.Region, s.Labels.PricingModel, p.Time)
			}
		}
	}
	if !regions["eastus"] || !regions["westeurope"] {
		t.Errorf("stored regions %v, want eastus and westeurope", regions)
	}
	polls, err := st.Polls(context.Background(), azure.Name, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, p := range polls {
		if !p.OK {
			t.Errorf("failed poll: %+v", p)
		}
		if p.Error != "" {
			notes = append(notes, p.Error)
		}
	}
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "degraded: regions eastus (0 of ") {
		t.Errorf("poll log notes %q, want one degraded refresh", notes)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
