package collectors

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// switchGate lets refreshes run while open, and cancels the one in flight
// when closed, as a lost lease does.
type switchGate struct {
	mu      sync.Mutex
	open    bool
	changed chan struct{}
	lost    context.CancelFunc
}

func newSwitchGate() *switchGate { return &switchGate{changed: make(chan struct{})} }

func (g *switchGate) set(open bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = open
	if !open && g.lost != nil {
		g.lost()
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

func (g *switchGate) Hold(ctx context.Context, _ string) (context.Context, func(), error) {
	for {
		g.mu.Lock()
		open, changed := g.open, g.changed
		if open {
			rctx, cancel := context.WithCancel(ctx)
			g.lost = cancel
			g.mu.Unlock()
			return rctx, cancel, nil
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-changed:
		}
	}
}

// TestGate checks that a provider is refreshed only while its gate is
// open, that a refresh cut off by the gate is not reported, and that
// Observe and SetHolder publish another process's refresh meanwhile.
func TestGate(t *testing.T) {
	var calls atomic.Int64
	block := make(chan struct{})
	c := &funcCollector{name: "p", collect: func(ctx context.Context) (*price.Snapshot, error) {
		if calls.Add(1) == 2 {
			select { // the second refresh hangs until the gate closes
			case <-ctx.Done():
			case <-block:
			}
		}
		return snapshot(quote("a", 1, 1)), nil
	}}
	rec := &memRecorder{}
	gate := newSwitchGate()
	r := NewRunner(quietLogger(), rec, nil)
	r.SetGate(gate)
	r.Apply([]Job{{Collector: c, Settings: fastSettings()}})
	defer r.Stop()

	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 0 || r.Ready() {
		t.Fatalf("%d refreshes (ready %t) with the gate closed", n, r.Ready())
	}
	other := snapshot(quote("b", 2, 1))
	other.Time = time.Now()
	r.Observe("p", other, "replica-2")
	if st := stateOf(r, "p"); st.Snapshot != other || st.Holder != "replica-2" || !st.Success || !r.Ready() {
		t.Errorf("after Observe: %+v, ready %t", st, r.Ready())
	}
	older := snapshot(quote("c", 3, 1))
	older.Time = other.Time.Add(-time.Minute)
	r.Observe("p", older, "replica-2")
	if st := stateOf(r, "p"); st.Snapshot != other {
		t.Error("Observe published an older snapshot")
	}

	gate.set(true)
	r.SetHolder("p", "me")
	waitFor(t, "the second refresh", func() bool { return calls.Load() == 2 })
	gate.set(false) // cuts the second refresh off
	time.Sleep(50 * time.Millisecond)
	if ok, failed := rec.count(); ok != 1 || failed != 0 {
		t.Errorf("%d refreshes written, %d failures; want only the first (the cut one is not the provider's failure)", ok, failed)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d refreshes with the gate closed again, want 2", n)
	}
	if st := stateOf(r, "p"); st.Holder != "me" {
		t.Errorf("holder %q after SetHolder", st.Holder)
	}
	close(block)
}
