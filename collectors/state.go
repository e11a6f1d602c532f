package collectors

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// State is one provider's published status. A State is immutable once
// published: readers may keep it without locks.
type State struct {
	Provider string
	Interval time.Duration
	// Snapshot is what is served: the last good refresh, until it goes
	// stale. Nil before the first success and after withdrawal.
	Snapshot *price.Snapshot
	// Success is true when the last refresh succeeded.
	Success      bool
	LastAttempt  time.Time
	LastSuccess  time.Time
	LastDuration time.Duration
	LastError    string
	// Stale is true when the last good snapshot was withdrawn because no
	// refresh succeeded within stale_after.
	Stale bool
	// Degraded says why the last successful refresh's answer was not
	// served as it came: it shrank suspiciously, and Snapshot keeps last
	// good quotes in its place (shrinkGuard). Empty when not degraded.
	Degraded string
	// Errors counts failed refreshes and rejected quotes by reason since
	// the process started.
	Errors map[string]uint64
	// UnknownGPUs counts the quotes of Snapshot whose GPU the catalog does
	// not know; UnknownGPUNames are their distinct raw names, sorted.
	UnknownGPUs     int
	UnknownGPUNames []string
	// Attempts counts refreshes tried since the process started.
	Attempts uint64
	// Holder is the process that refreshes the provider in an HA group
	// (see Gate); empty outside one.
	Holder string
}

// publisher holds one provider's published State. Every change publishes
// a modified copy, so that readers never see half a refresh, and then
// calls onChange. Changes come from the provider's loop and from its
// staleness timer; publisher serializes them, so that neither overwrites
// the other's.
type publisher struct {
	name       string
	staleAfter time.Duration
	logger     *slog.Logger
	onChange   func()

	state atomic.Pointer[State] // read without locks

	mu    sync.Mutex // serializes writers of state
	stale *time.Timer
}

// newPublisher publishes first, and withdraws its snapshot, if any, once
// stale.
func newPublisher(logger *slog.Logger, onChange func(), staleAfter time.Duration, first *State) *publisher {
	p := &publisher{name: first.Provider, staleAfter: staleAfter, logger: logger, onChange: onChange}
	p.state.Store(first)
	if first.Snapshot != nil {
		p.armStale(first.LastSuccess)
	}
	return p
}

// load returns the published State.
func (p *publisher) load() *State { return p.state.Load() }

// update publishes a modified copy of the state; it does not call onChange.
func (p *publisher) update(fn func(st *State)) *State {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := *p.state.Load()
	next.Errors = maps.Clone(next.Errors)
	fn(&next)
	p.state.Store(&next)
	return &next
}

// serve makes snap, of a successful refresh that ended at end, the served
// snapshot, with everything derived from it.
func (st *State) serve(snap *price.Snapshot, end time.Time) {
	st.Snapshot, st.Success, st.Stale, st.LastSuccess, st.LastError = snap, true, false, end, ""
	st.UnknownGPUs, st.UnknownGPUNames = countUnknown(snap.Quotes), unknownNames(snap.Quotes)
}

// succeeded publishes o's snapshot, served until a later success or until
// stale.
func (p *publisher) succeeded(o outcome) {
	p.update(func(st *State) {
		st.attempted(o)
		st.serve(o.Snapshot, o.End)
		st.Degraded = o.Degraded
	})
	p.armStale(o.End)
	p.onChange()
}

// observed publishes snap, another process's refresh, when it is newer
// than the snapshot served; it is not an attempt of this process.
func (p *publisher) observed(snap *price.Snapshot, holder string) {
	changed := false
	p.update(func(st *State) {
		st.Holder = holder
		if snap == nil || !snap.Time.After(st.LastSuccess) {
			return
		}
		// Another process's refresh says nothing of this one's suspicions.
		st.serve(snap, snap.Time)
		st.Degraded = ""
		changed = true
	})
	if changed {
		p.armStale(snap.Time)
	}
	p.onChange()
}

// failed publishes o's failure; the last good snapshot stays served.
func (p *publisher) failed(o outcome) {
	p.update(func(st *State) {
		st.attempted(o)
		st.Errors[o.reason()]++
		st.Success, st.LastError = false, o.Err.Error()
	})
	p.onChange()
}

func (st *State) attempted(o outcome) {
	st.Attempts++
	st.LastAttempt, st.LastDuration = o.Start, o.End.Sub(o.Start)
	for reason, n := range o.Rejected {
		st.Errors[reason] += uint64(n)
	}
}

// countError counts a failure that is not the refresh's (writing it to the
// store) under reason.
func (p *publisher) countError(reason string) {
	p.update(func(st *State) { st.Errors[reason]++ })
	p.onChange()
}

// armStale (re)starts the timer that withdraws the snapshot served since
// lastSuccess once it is stale_after old. A timer, not the refresh loop,
// does it, so that prices go stale on time even while a long refresh runs.
func (p *publisher) armStale(lastSuccess time.Time) {
	if p.staleAfter <= 0 {
		return // never stale: only hand-built Settings lack stale_after
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stale != nil {
		p.stale.Stop()
	}
	p.stale = time.AfterFunc(time.Until(lastSuccess.Add(p.staleAfter)), func() { p.withdraw(lastSuccess) })
}

// withdraw stops serving the snapshot of lastSuccess, unless a later
// success replaced it meanwhile.
func (p *publisher) withdraw(lastSuccess time.Time) {
	withdrawn := false
	p.update(func(st *State) {
		if st.Snapshot != nil && st.LastSuccess.Equal(lastSuccess) {
			st.Snapshot, st.Stale, st.UnknownGPUs, st.UnknownGPUNames = nil, true, 0, nil
			withdrawn = true
		}
	})
	if withdrawn {
		p.logger.Warn("withdrawing stale prices", "provider", p.name, "last_success", lastSuccess, "stale_after", p.staleAfter)
		p.onChange()
	}
}

// stop stops the staleness timer: the provider is no longer served.
func (p *publisher) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stale != nil {
		p.stale.Stop()
	}
}
