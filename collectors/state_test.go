package collectors

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func newTestPublisher(logger *slog.Logger, staleAfter time.Duration, changes *atomic.Int32) *publisher {
	return newPublisher(logger, func() { changes.Add(1) }, staleAfter, &State{Provider: "p", Errors: map[string]uint64{}})
}

func success(end time.Time) outcome {
	return outcome{Start: end.Add(-time.Second), End: end, Snapshot: snapshot(quote("a", 1, 1)), Rejected: map[string]int{"zero_price": 2}}
}

func TestPublisherPublishesCopies(t *testing.T) {
	var changes atomic.Int32
	p := newTestPublisher(quietLogger(), time.Hour, &changes)
	defer p.stop()
	before := p.load()
	p.succeeded(success(time.Now()))
	ok := p.load()
	if before.Snapshot != nil || before.Attempts != 0 || len(before.Errors) != 0 {
		t.Errorf("a published State was modified: %+v", before)
	}
	if ok.Snapshot == nil || !ok.Success || ok.Attempts != 1 || ok.Errors["zero_price"] != 2 || ok.LastDuration != time.Second {
		t.Errorf("after a success: %+v", ok)
	}

	p.failed(outcome{Start: time.Now(), End: time.Now(), Err: &HTTPError{StatusCode: 503}})
	p.countError("store")
	st := p.load()
	if ok.Success != true || ok.Errors["http_5xx"] != 0 {
		t.Errorf("a published State was modified: %+v", ok)
	}
	if st.Success || st.Snapshot != ok.Snapshot || st.Errors["http_5xx"] != 1 || st.Errors["store"] != 1 || st.LastError == "" || st.Attempts != 2 {
		t.Errorf("after a failure: %+v, want the last good snapshot kept and the failure counted", st)
	}
	if n := changes.Load(); n != 3 {
		t.Errorf("onChange called %d times, want once per change (3)", n)
	}
}

func TestPublisherWithdrawsStalePrices(t *testing.T) {
	h := newCaptureHandler()
	var changes atomic.Int32
	p := newTestPublisher(slog.New(h), 100*time.Millisecond, &changes)
	defer p.stop()
	p.succeeded(success(time.Now()))
	// The State goes stale, then the withdrawal is logged: wait for both.
	waitFor(t, "withdrawal", func() bool {
		return p.load().Stale && len(h.logged(slog.LevelWarn, "withdrawing stale prices")) > 0
	})
	if st := p.load(); st.Snapshot != nil || st.UnknownGPUs != 0 || !st.Success {
		t.Errorf("after withdrawal: %+v, want no snapshot, the last refresh still a success", st)
	}
	if got := h.logged(slog.LevelWarn, "withdrawing stale prices"); len(got) != 1 || got[0]["provider"].String() != "p" {
		t.Errorf("logged %v, want one withdrawal of p", got)
	}
	p.succeeded(success(time.Now()))
	if st := p.load(); st.Stale || st.Snapshot == nil {
		t.Errorf("a success after withdrawal: %+v, want prices served again", st)
	}
}

// TestPublisherKeepsNewerPrices: a timer armed for an older success does
// not withdraw the prices of a newer one.
func TestPublisherKeepsNewerPrices(t *testing.T) {
	var changes atomic.Int32
	p := newTestPublisher(quietLogger(), time.Hour, &changes)
	defer p.stop()
	older := time.Now().Add(-time.Minute)
	p.succeeded(success(older))
	p.succeeded(success(time.Now()))
	p.withdraw(older)
	if st := p.load(); st.Stale || st.Snapshot == nil {
		t.Errorf("withdrawing an older success took the newer prices: %+v", st)
	}
}

// TestPublisherStaleFromStart: prices a provider starts with (a seed, or
// those kept across a restart by a reload) go stale from their own last
// success, not from the start.
func TestPublisherStaleFromStart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		age       time.Duration
		withdrawn bool
	}{
		{"within stale_after", time.Minute, false},
		{"past stale_after", 2 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			last := success(time.Now().Add(-tc.age))
			first := &State{Provider: "p", Snapshot: last.Snapshot, LastSuccess: last.End, Success: true, Errors: map[string]uint64{}}
			p := newPublisher(quietLogger(), func() {}, time.Hour, first)
			defer p.stop()
			time.Sleep(20 * time.Millisecond)
			if got := p.load().Stale; got != tc.withdrawn {
				t.Errorf("stale = %v, want %v", got, tc.withdrawn)
			}
		})
	}
}

func TestPublisherStopStopsStaleness(t *testing.T) {
	var changes atomic.Int32
	p := newTestPublisher(quietLogger(), 50*time.Millisecond, &changes)
	p.succeeded(success(time.Now()))
	p.stop()
	time.Sleep(100 * time.Millisecond)
	if p.load().Stale {
		t.Error("a stopped provider's prices were withdrawn")
	}
}

func TestOutcomeReason(t *testing.T) {
	if got := (outcome{Err: &PanicError{Value: "x"}}).reason(); got != "panic" {
		t.Errorf("panic reason = %q", got)
	}
	if got := (outcome{Err: errors.Join(errors.New("x"), &HTTPError{StatusCode: 429})}).reason(); got != "http_429" {
		t.Errorf("429 reason = %q", got)
	}
}
