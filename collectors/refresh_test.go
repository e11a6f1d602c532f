package collectors

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

func refresherFor(collect func(ctx context.Context) (*price.Snapshot, error), timeout time.Duration) *refresher {
	s := fastSettings()
	s.Timeout = timeout
	return newRefresher(quietLogger(), Job{Collector: &funcCollector{name: "p", collect: collect}, Settings: s})
}

func TestRefreshOutcome(t *testing.T) {
	for _, tc := range []struct {
		name       string
		collect    func(ctx context.Context) (*price.Snapshot, error)
		wantQuotes int
		wantReason string
		wantErr    string
	}{
		{"success", func(context.Context) (*price.Snapshot, error) {
			return snapshot(quote("a", 1, 1), quote("b", -1, 1)), nil
		}, 1, "", ""},
		{"error", func(context.Context) (*price.Snapshot, error) { return nil, &HTTPError{StatusCode: 503} }, 0, "http_5xx", "HTTP 503"},
		{"nil snapshot", func(context.Context) (*price.Snapshot, error) { return nil, nil }, 0, "empty", "provider returned no prices"},
		{"every quote rejected", func(context.Context) (*price.Snapshot, error) {
			return snapshot(quote("a", -1, 1), quote("b", 0, 1)), nil
		}, 0, "empty", "all 2 quotes were rejected"},
		{"panic", func(context.Context) (*price.Snapshot, error) { panic("nil map") }, 0, "panic", "collector panicked: nil map"},
		{"timeout", func(ctx context.Context) (*price.Snapshot, error) { <-ctx.Done(); return nil, ctx.Err() }, 0, "timeout", "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := refresherFor(tc.collect, 50*time.Millisecond).refresh(context.Background())
			if o.Start.IsZero() || o.End.Before(o.Start) {
				t.Errorf("refresh from %v to %v", o.Start, o.End)
			}
			if tc.wantErr == "" {
				if o.Err != nil || o.Snapshot == nil || len(o.Snapshot.Quotes) != tc.wantQuotes || o.Rejected["invalid_price"] != 1 {
					t.Fatalf("outcome %+v, want %d quotes and one rejected", o, tc.wantQuotes)
				}
				return
			}
			if o.Err == nil || !strings.Contains(o.Err.Error(), tc.wantErr) || o.reason() != tc.wantReason || o.Snapshot != nil {
				t.Errorf("outcome err=%v reason=%q snapshot=%v, want an error with %q, reason %q, no snapshot", o.Err, o.reason(), o.Snapshot, tc.wantErr, tc.wantReason)
			}
		})
	}
}

// TestRefreshCancelledIsNotAFailure: a shutdown during Collect gives the
// context's error, not a check of whatever the collector returned.
func TestRefreshCancelledIsNotAFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := refresherFor(func(context.Context) (*price.Snapshot, error) {
		cancel()
		return snapshot(quote("a", 1, 1)), nil
	}, time.Second)
	if o := f.refresh(ctx); !errors.Is(o.Err, context.Canceled) || o.Snapshot != nil {
		t.Errorf("outcome %+v, want context.Canceled and no snapshot", o)
	}
}

func TestRefreshAbandonsCollectorIgnoringDeadline(t *testing.T) {
	old := abandonGrace
	abandonGrace = 50 * time.Millisecond
	defer func() { abandonGrace = old }()
	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	f := refresherFor(func(context.Context) (*price.Snapshot, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		<-release // ignores ctx entirely
		return nil, errors.New("late")
	}, 50*time.Millisecond)

	if o := f.refresh(context.Background()); !strings.Contains(o.Err.Error(), "abandoned") || o.reason() != "timeout" {
		t.Errorf("first refresh: %v (reason %q), want abandoned, a timeout", o.Err, o.reason())
	}
	if o := f.refresh(context.Background()); !errors.Is(o.Err, errStillCollecting) {
		t.Errorf("second refresh: %v, want %v", o.Err, errStillCollecting)
	}
	mu.Lock()
	if calls != 1 {
		t.Errorf("%d Collect calls, want 1: a new one started while the abandoned one ran", calls)
	}
	mu.Unlock()
	close(release)
	waitFor(t, "the abandoned call to end", func() bool { return !f.collecting.Load() })
	if o := f.refresh(context.Background()); errors.Is(o.Err, errStillCollecting) {
		t.Error("the refresh after the abandoned call ended did not call Collect")
	}
}

// TestRefreshDeadlineIsHard: an answer finished after the timeout (a
// collector whose decoding ignores its context) is refused as a timeout.
func TestRefreshDeadlineIsHard(t *testing.T) {
	old := abandonGrace
	abandonGrace = time.Second
	defer func() { abandonGrace = old }()
	f := refresherFor(func(ctx context.Context) (*price.Snapshot, error) {
		<-ctx.Done()
		return snapshot(quote("a", 1, 1)), nil // decoded anyway, too late
	}, 20*time.Millisecond)
	o := f.refresh(context.Background())
	if o.Snapshot != nil || o.reason() != "timeout" || !strings.Contains(o.Err.Error(), "after the refresh's deadline") {
		t.Errorf("outcome %+v (reason %q), want a timeout and no snapshot", o, o.reason())
	}
}

func TestRefreshOnce(t *testing.T) {
	h := newCaptureHandler()
	c := &funcCollector{name: "p", collect: func(context.Context) (*price.Snapshot, error) {
		return snapshot(quote("a", 1, 1), quote("b", 0, 1)), nil
	}}
	snap, err := RefreshOnce(context.Background(), slog.New(h), Job{Collector: c, Settings: fastSettings()})
	if err != nil || len(snap.Quotes) != 1 || snap.Provider != "p" {
		t.Fatalf("RefreshOnce = %+v, %v; want p's one plausible quote", snap, err)
	}
	done := h.logged(slog.LevelInfo, "refresh done")
	if len(done) != 1 || done[0]["provider"].String() != "p" || done[0]["rejected"].Int64() != 1 {
		t.Errorf("logged %v, want one \"refresh done\" of p with one rejected", done)
	}

	c.collect = func(context.Context) (*price.Snapshot, error) { return nil, &HTTPError{StatusCode: 403} }
	if snap, err := RefreshOnce(context.Background(), slog.New(h), Job{Collector: c, Settings: fastSettings()}); snap != nil || Reason(err) != "http_4xx" {
		t.Errorf("RefreshOnce = %v, %v; want no snapshot and the collector's error", snap, err)
	}
	if failed := h.logged(slog.LevelWarn, "refresh failed"); len(failed) != 1 || failed[0]["reason"].String() != "http_4xx" {
		t.Errorf("logged %v, want one \"refresh failed\" with reason http_4xx", failed)
	}
}

func TestSafelyRecoversGoroutinePanics(t *testing.T) {
	err := Safely(func() error {
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) || len(pe.Stack) == 0 {
		t.Fatalf("Safely = %v, want a *PanicError with a stack", err)
	}
}
