package collectors

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// memRecorder records what the Runner writes.
type memRecorder struct {
	mu    sync.Mutex
	polls []store.Poll
	fail  error
}

func (m *memRecorder) Record(_ context.Context, p store.Poll, _ *price.Snapshot) (store.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polls = append(m.polls, p)
	return store.Result{}, m.fail
}

func (m *memRecorder) count() (ok, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.polls {
		if p.OK {
			ok++
		} else {
			failed++
		}
	}
	return
}

func stateOf(r *Runner, name string) *State {
	for _, s := range r.States() {
		if s.Provider == name {
			return s
		}
	}
	return nil
}

func TestRejectionReasonsAreCounted(t *testing.T) {
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) {
		return snapshot(quote("a", 1, 1), quote("b", 0, 1), quote("c", math.NaN(), 1), quote("d", 1e6, 1), quote("a", 2, 1)), nil
	}}
	r := NewRunner(quietLogger(), nil, nil)
	r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
	defer r.Stop()
	waitFor(t, "first refresh", func() bool { return stateOf(r, "p").Attempts > 0 })
	st := stateOf(r, "p")
	for reason, min := range map[string]uint64{"zero_price": 1, "invalid_price": 1, "absurd_price": 1, "duplicate_series": 1} {
		if st.Errors[reason] < min {
			t.Errorf("errors[%s] = %d, want >= %d (all: %v)", reason, st.Errors[reason], min, st.Errors)
		}
	}
}

func TestFailuresKeepLastGoodUntilStale(t *testing.T) {
	var mu sync.Mutex
	fail := false
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, &HTTPError{StatusCode: 503}
		}
		return snapshot(quote("a", 1, 1)), nil
	}}
	s := fastSettings()
	s.StaleAfter = 300 * time.Millisecond
	rec := &memRecorder{}
	changes := 0
	var cmu sync.Mutex
	r := NewRunner(quietLogger(), rec, func() { cmu.Lock(); changes++; cmu.Unlock() })
	r.Apply([]Job{{Collector: c, Settings: s}})
	defer r.Stop()
	waitFor(t, "a success", func() bool { return stateOf(r, "p").Snapshot != nil })
	mu.Lock()
	fail = true
	mu.Unlock()
	waitFor(t, "a failure", func() bool { return !stateOf(r, "p").Success })
	st := stateOf(r, "p")
	if st.Snapshot == nil && time.Since(st.LastSuccess) < s.StaleAfter {
		t.Fatal("snapshot dropped before stale_after")
	}
	if st.Errors["http_5xx"] == 0 || st.LastError == "" {
		t.Errorf("failure not counted: %+v", st)
	}
	waitFor(t, "stale withdrawal", func() bool { st := stateOf(r, "p"); return st.Stale && st.Snapshot == nil })
	if ok, failed := rec.count(); ok == 0 || failed == 0 {
		t.Errorf("poll log: %d ok, %d failed; want both", ok, failed)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	// Recovery is retried with backoff capped at the interval.
	waitFor(t, "recovery", func() bool { st := stateOf(r, "p"); return st.Snapshot != nil && !st.Stale })
}

func TestOneProviderNeverBlocksAnother(t *testing.T) {
	hang := &funcCollector{name: "hang", collect: func(ctx context.Context) (*price.Snapshot, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	boom := &funcCollector{name: "boom", collect: func(context.Context) (*price.Snapshot, error) {
		panic("nil map")
	}}
	empty := &funcCollector{name: "empty", collect: func(context.Context) (*price.Snapshot, error) {
		return snapshot(), nil
	}}
	good := &funcCollector{name: "good", collect: func(context.Context) (*price.Snapshot, error) {
		return snapshot(quote("a", 1, 1)), nil
	}}
	hs := fastSettings()
	hs.Timeout = 50 * time.Millisecond
	r := NewRunner(quietLogger(), &memRecorder{}, nil)
	r.Apply([]Job{{Collector: hang, Settings: hs}, {Collector: boom, Settings: fastSettings()},
		{Collector: empty, Settings: fastSettings()}, {Collector: good, Settings: fastSettings()}})
	defer r.Stop()
	waitFor(t, "good refreshes repeatedly", func() bool { return stateOf(r, "good").Attempts >= 3 })
	waitFor(t, "every provider tried", r.Ready)
	for name, reason := range map[string]string{"hang": "timeout", "boom": "panic", "empty": "empty"} {
		st := stateOf(r, name)
		if st.Success || st.Errors[reason] == 0 {
			t.Errorf("%s: success=%v errors=%v, want a %s error", name, st.Success, st.Errors, reason)
		}
	}
	if st := stateOf(r, "good"); !st.Success || st.Snapshot == nil {
		t.Errorf("good provider affected: %+v", st)
	}
}

func TestApplyRestartsOnlyChangedProviders(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	mk := func(name string) *funcCollector {
		return &funcCollector{name: name, collect: func(context.Context) (*price.Snapshot, error) {
			mu.Lock()
			calls[name]++
			mu.Unlock()
			return snapshot(quote("a", 1, 1)), nil
		}}
	}
	slow := fastSettings()
	slow.Interval = time.Hour
	r := NewRunner(quietLogger(), nil, nil)
	defer r.Stop()
	r.Apply([]Job{{Collector: mk("a"), Settings: slow, Config: 1}, {Collector: mk("b"), Settings: slow, Config: 1}})
	waitFor(t, "first refreshes", func() bool { mu.Lock(); defer mu.Unlock(); return calls["a"] == 1 && calls["b"] == 1 })

	// Same config for a: kept as is (no new refresh). New config for b:
	// restarted, prices kept meanwhile. c: new.
	r.Apply([]Job{{Collector: mk("a"), Settings: slow, Config: 1}, {Collector: mk("b"), Settings: slow, Config: 2}, {Collector: mk("c"), Settings: slow}})
	waitFor(t, "b restarted and c started", func() bool { mu.Lock(); defer mu.Unlock(); return calls["b"] == 2 && calls["c"] == 1 })
	mu.Lock()
	if calls["a"] != 1 {
		t.Errorf("unchanged provider a was refreshed again: %d calls", calls["a"])
	}
	mu.Unlock()

	r.Apply([]Job{{Collector: mk("a"), Settings: slow, Config: 1}})
	if got := len(r.States()); got != 1 {
		t.Errorf("after removing b and c: %d providers, want 1", got)
	}
}

func TestSeedServesStoredPricesUntilStale(t *testing.T) {
	block := make(chan struct{})
	c := &funcCollector{name: "p", collect: func(ctx context.Context) (*price.Snapshot, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, errors.New("down")
	}}
	for _, tc := range []struct {
		name  string
		age   time.Duration
		serve bool
	}{
		{"fresh seed served", time.Minute, true},
		{"stale seed dropped", 2 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRunner(quietLogger(), nil, nil)
			seed := &price.Snapshot{Provider: "p", Time: time.Now().Add(-tc.age), Quotes: []price.Quote{quote("a", 1, 1)}}
			r.Seed([]*price.Snapshot{seed})
			r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
			defer r.Stop()
			st := stateOf(r, "p")
			if got := st.Snapshot != nil; got != tc.serve {
				t.Errorf("served = %v, want %v", got, tc.serve)
			}
			if got := r.Ready(); got != tc.serve {
				t.Errorf("Ready = %v, want %v", got, tc.serve)
			}
			if tc.serve && !st.LastSuccess.Equal(seed.Time) {
				t.Errorf("LastSuccess = %v, want the seed's %v", st.LastSuccess, seed.Time)
			}
		})
	}
	close(block)
}

func TestUnknownGPUsLoggedOnce(t *testing.T) {
	u := quote("x", 1, 1)
	u.GPUModel, u.GPURaw = price.Unknown, "Mystery 9000"
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) { return snapshot(u), nil }}
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	r := NewRunner(logger, nil, nil)
	r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
	waitFor(t, "three refreshes", func() bool { return stateOf(r, "p").Attempts >= 3 })
	r.Stop()
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "Mystery 9000"); n != 1 {
		t.Errorf("unknown GPU logged %d times, want once:\n%s", n, buf.String())
	}
	if st := stateOf(r, "p"); st != nil {
		t.Errorf("stopped runner still lists providers")
	}
}

func TestStoreFailureKeepsPricesAndCounts(t *testing.T) {
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) {
		return snapshot(quote("a", 1, 1)), nil
	}}
	r := NewRunner(quietLogger(), &memRecorder{fail: errors.New("disk full")}, nil)
	r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
	defer r.Stop()
	waitFor(t, "store error counted", func() bool { return stateOf(r, "p").Errors["store"] > 0 })
	if st := stateOf(r, "p"); st.Snapshot == nil || !st.Success {
		t.Errorf("store failure withdrew prices: %+v", st)
	}
}

// TestStaleWhileRefreshRuns: prices go stale on time even when the next
// refresh hangs (a collector that ignores its deadline is abandoned, and
// meanwhile the staleness timer withdraws the old prices).
func TestStaleWhileRefreshRuns(t *testing.T) {
	old := abandonGrace
	abandonGrace = 100 * time.Millisecond
	defer func() { abandonGrace = old }()
	release := make(chan struct{})
	defer close(release)
	var mu sync.Mutex
	calls := 0
	c := &funcCollector{name: "p", collect: func(ctx context.Context) (*price.Snapshot, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			return snapshot(quote("a", 1, 1)), nil
		}
		<-release // ignores ctx entirely
		return nil, errors.New("late")
	}}
	s := fastSettings()
	s.Timeout, s.StaleAfter = 150*time.Millisecond, 300*time.Millisecond
	r := NewRunner(quietLogger(), nil, nil)
	r.Apply([]Job{{Collector: c, Settings: s}})
	defer r.Stop()
	waitFor(t, "first success", func() bool { return stateOf(r, "p").Snapshot != nil })
	waitFor(t, "stale withdrawal during the hung refresh", func() bool { st := stateOf(r, "p"); return st.Stale && st.Snapshot == nil })
	waitFor(t, "abandoned refresh reported", func() bool {
		st := stateOf(r, "p")
		return st.Errors["timeout"] > 0 && (strings.Contains(st.LastError, "abandoned") || strings.Contains(st.LastError, "still running"))
	})
	// The abandoned call still runs: no second call may start meanwhile.
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	if calls != 2 {
		t.Errorf("%d Collect calls, want 2: a new one started while the abandoned one ran", calls)
	}
	mu.Unlock()
}

func TestSeedsServeOnlyTheFirstApply(t *testing.T) {
	c := &funcCollector{name: "p", collect: func(ctx context.Context) (*price.Snapshot, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	r := NewRunner(quietLogger(), nil, nil)
	defer r.Stop()
	r.Seed([]*price.Snapshot{{Provider: "p", Time: time.Now().Add(-time.Minute), Quotes: []price.Quote{quote("a", 1, 1)}}})
	r.Apply(nil) // p not enabled at start
	r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
	if st := stateOf(r, "p"); st.Snapshot != nil {
		t.Error("a provider enabled by a later reload was seeded with startup prices")
	}
}
