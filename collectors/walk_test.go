package collectors

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// walker is a collector that says how many requests its refresh makes.
type walker struct {
	funcCollector
	requests int
}

func (w *walker) EstimatedRequests() int { return w.requests }

func newWalker(requests int) *walker {
	return &walker{funcCollector: funcCollector{name: "azure", collect: func(ctx context.Context) (*price.Snapshot, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}, requests: requests}
}

const slowWalkMsg = "refresh timeout is shorter than the estimated walk at the rate limit: refreshes will time out; raise timeout or rate_limit"

func TestSlowWalkWarnedOnceAtStart(t *testing.T) {
	h := newCaptureHandler()
	r := NewRunner(slog.New(h), nil, nil)
	defer r.Stop()
	s := Settings{Interval: time.Hour, Timeout: time.Minute, StaleAfter: 3 * time.Hour, RateLimit: 5}
	job := Job{Collector: newWalker(600), Settings: s, Config: 1}
	r.Apply([]Job{job})
	r.Apply([]Job{job}) // a reload that changes nothing
	got := h.logged(slog.LevelWarn, slowWalkMsg)
	if len(got) != 1 {
		t.Fatalf("%d warnings, want one: %v", len(got), got)
	}
	w := got[0]
	for key, want := range map[string]string{
		"provider": "azure", "interval": "1h0m0s", "timeout": "1m0s", "rate_limit": "5",
		"estimated_requests": "600", "estimated_walk": "2m0s",
	} {
		if w[key].String() != want {
			t.Errorf("%s = %q, want %q", key, w[key].String(), want)
		}
	}
}

func TestSlowWalkNotWarned(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Collector
		s    Settings
	}{
		{"walk fits", newWalker(100), Settings{Timeout: time.Minute, RateLimit: 5}},
		{"no rate limit", newWalker(1e6), Settings{Timeout: time.Minute}},
		{"no estimate", &funcCollector{name: "p"}, Settings{Timeout: time.Second, RateLimit: 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCaptureHandler()
			warnSlowWalk(slog.New(h), "p", Job{Collector: tc.c, Settings: tc.s})
			if got := h.logged(slog.LevelWarn, slowWalkMsg); len(got) != 0 {
				t.Errorf("warned %v", got)
			}
		})
	}
}

func TestSlowWalkWarnedByRefreshOnce(t *testing.T) {
	h := newCaptureHandler()
	s := Settings{Interval: time.Hour, Timeout: 10 * time.Millisecond, RateLimit: 1}
	RefreshOnce(context.Background(), slog.New(h), Job{Collector: newWalker(10), Settings: s})
	if got := h.logged(slog.LevelWarn, slowWalkMsg); len(got) != 1 {
		t.Errorf("%d warnings, want one", len(got))
	}
}
