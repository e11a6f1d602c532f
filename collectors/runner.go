package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Settings are the Runner's schedule and checks for one provider.
type Settings struct {
	Interval   time.Duration
	Timeout    time.Duration
	StaleAfter time.Duration
	// MaxGPUUSDPerHour rejects quotes above this price per GPU-hour.
	MaxGPUUSDPerHour float64
}

// Provider is one collector the Runner refreshes.
type Provider struct {
	Collector Collector
	Settings  Settings
	// Config is the provider's configuration section; a reload restarts
	// the provider only when it differs.
	Config any
}

// Recorder is the part of the store the Runner writes refreshes to.
type Recorder interface {
	Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error)
}

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
	// Errors counts failed refreshes and rejected quotes by reason since
	// the process started.
	Errors map[string]uint64
	// UnknownGPUs counts the quotes of Snapshot whose GPU the catalog does
	// not know.
	UnknownGPUs int
	// Attempts counts refreshes tried since the process started.
	Attempts uint64
}

// Runner refreshes every provider on its own schedule (interval with
// jitter, per-refresh timeout, backoff after failures), checks each quote,
// publishes each provider's State atomically, withdraws prices that went
// stale, and records every refresh in the store. One provider failing,
// hanging or panicking never affects another.
type Runner struct {
	logger   *slog.Logger
	rec      Recorder
	onChange func()

	mu      sync.Mutex // serializes Seed, Apply and Stop
	workers map[string]*worker
	seeds   map[string]*price.Snapshot
	// running is the published list of workers, sorted by name, read
	// without locks (onChange callbacks read States while Apply may be
	// waiting for a worker to stop).
	running atomic.Pointer[[]*worker]
	ready   atomic.Bool
}

type worker struct {
	name    string
	p       Provider
	state   atomic.Pointer[State] // read without locks; written by update
	cancel  context.CancelFunc
	done    chan struct{}
	tried   atomic.Bool
	unknown map[string]bool // raw GPU names already logged; worker goroutine only

	// mu serializes writers of state (the refresh loop and the staleness
	// timer), so that neither overwrites the other's change.
	mu    sync.Mutex
	stale *time.Timer // withdraws the served snapshot at stale_after; under mu
	// collecting is true while a Collect call runs, including one the
	// Runner gave up waiting for because it ignored its deadline.
	collecting atomic.Bool
}

// update publishes a modified copy of the worker's state.
func (w *worker) update(fn func(st *State)) *State {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := *w.state.Load()
	next.Errors = maps.Clone(next.Errors)
	fn(&next)
	w.state.Store(&next)
	return &next
}

// NewRunner returns a Runner writing to rec (which may be nil in one-shot
// tools) and calling onChange (which may be nil) after every change of a
// published State. onChange may be called concurrently from several
// providers' goroutines.
func NewRunner(logger *slog.Logger, rec Recorder, onChange func()) *Runner {
	if onChange == nil {
		onChange = func() {}
	}
	return &Runner{logger: logger, rec: rec, onChange: onChange, workers: map[string]*worker{}}
}

// Seed sets the prices to serve before the first refresh, as loaded from
// the store after a restart. Each snapshot's Time is its provider's last
// success; snapshots older than the provider's stale_after are not served.
// Call Seed before Apply.
func (r *Runner) Seed(snaps []*price.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seeds = map[string]*price.Snapshot{}
	for _, s := range snaps {
		if len(s.Quotes) > 0 && !s.Time.IsZero() {
			r.seeds[s.Provider] = s
		}
	}
}

// Apply makes the running providers those of ps: it starts new ones, stops
// removed ones, and restarts those whose collector configuration changed
// (keeping their served prices until the new collector succeeds). It
// returns at once; refreshes run in the background until Stop.
func (r *Runner) Apply(ps []Provider) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := map[string]bool{}
	for _, p := range ps {
		name := p.Collector.Name()
		keep[name] = true
		old := r.workers[name]
		if old != nil && old.p.Settings == p.Settings && reflect.DeepEqual(old.p.Config, p.Config) {
			continue
		}
		w := &worker{name: name, p: p, done: make(chan struct{}), unknown: map[string]bool{}}
		st := &State{Provider: name, Interval: p.Settings.Interval, Errors: map[string]uint64{}}
		if old != nil {
			old.stop()
			prev := *old.state.Load()
			prev.Interval = p.Settings.Interval
			st = &prev
		} else if seed := r.seeds[name]; seed != nil && time.Since(seed.Time) < p.Settings.StaleAfter {
			st.Snapshot, st.LastSuccess, st.Success = seed, seed.Time, true
			st.UnknownGPUs = countUnknown(seed.Quotes)
			r.ready.Store(true)
		}
		w.state.Store(st)
		if st.Snapshot != nil {
			r.armStale(w, st.LastSuccess)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		r.workers[name] = w
		go r.run(ctx, w)
	}
	for name, w := range r.workers {
		if !keep[name] {
			w.stop()
			delete(r.workers, name)
		}
	}
	// Seeds serve a restart once: a provider enabled later must not get
	// startup-era prices.
	r.seeds = nil
	r.publish()
	r.onChange()
}

// publish makes the current workers visible to States; r.mu must be held.
func (r *Runner) publish() {
	list := make([]*worker, 0, len(r.workers))
	for _, w := range r.workers {
		list = append(list, w)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	r.running.Store(&list)
}

func (r *Runner) list() []*worker {
	if l := r.running.Load(); l != nil {
		return *l
	}
	return nil
}

// Stop stops every provider and waits for refreshes in flight to end.
func (r *Runner) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, w := range r.workers {
		w.stop()
		delete(r.workers, name)
	}
	r.publish()
}

// stop ends the worker's loop; a Collect call that ignores its context is
// not waited for (see collect).
func (w *worker) stop() {
	w.cancel()
	<-w.done
	w.mu.Lock()
	if w.stale != nil {
		w.stale.Stop()
	}
	w.mu.Unlock()
}

// armStale (re)starts the timer that withdraws the snapshot served since
// lastSuccess once it is stale_after old. A timer, not the refresh loop,
// does it, so that prices go stale on time even while a long refresh runs.
func (r *Runner) armStale(w *worker, lastSuccess time.Time) {
	if w.p.Settings.StaleAfter <= 0 {
		return // one-shot refreshes (RefreshOnce) serve nothing
	}
	withdraw := func() {
		withdrawn := false
		w.update(func(st *State) {
			if st.Snapshot != nil && st.LastSuccess.Equal(lastSuccess) {
				st.Snapshot, st.Stale, st.UnknownGPUs = nil, true, 0
				withdrawn = true
			}
		})
		if withdrawn {
			r.logger.Warn("withdrawing stale prices", "provider", w.name, "last_success", lastSuccess, "stale_after", w.p.Settings.StaleAfter)
			r.onChange()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stale != nil {
		w.stale.Stop()
	}
	w.stale = time.AfterFunc(time.Until(lastSuccess.Add(w.p.Settings.StaleAfter)), withdraw)
}

// States returns every running provider's current State, sorted by name.
func (r *Runner) States() []*State {
	ws := r.list()
	out := make([]*State, len(ws))
	for i, w := range ws {
		out[i] = w.state.Load()
	}
	return out
}

// Ready reports whether prices can be served: prices were loaded from the
// store, or every provider has finished its first refresh (trivially so
// when none is enabled).
func (r *Runner) Ready() bool {
	if r.ready.Load() {
		return true
	}
	ws := r.list()
	for _, w := range ws {
		if !w.tried.Load() {
			return false
		}
	}
	r.ready.Store(true)
	return true
}

// RefreshOnce runs one refresh of c outside any schedule and returns the
// checked snapshot; it is what `gpuprice collect` uses.
func RefreshOnce(ctx context.Context, logger *slog.Logger, p Provider) (*price.Snapshot, error) {
	r := NewRunner(logger, nil, nil)
	w := &worker{name: p.Collector.Name(), p: p, done: make(chan struct{}), unknown: map[string]bool{}}
	w.state.Store(&State{Provider: w.name, Errors: map[string]uint64{}})
	err := r.refresh(ctx, w)
	w.mu.Lock()
	if w.stale != nil {
		w.stale.Stop() // nothing is served: no staleness to watch
	}
	w.mu.Unlock()
	return w.state.Load().Snapshot, err
}

func (r *Runner) run(ctx context.Context, w *worker) {
	defer close(w.done)
	next := time.Now()
	failures := 0
	for {
		if !sleepUntil(ctx, next) {
			return
		}
		err := r.refresh(ctx, w)
		w.tried.Store(true)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if err == nil {
			failures = 0
			next = now.Add(jitter(w.p.Settings.Interval))
			continue
		}
		failures++
		next = now.Add(retryDelay(failures, w.p.Settings.Interval, RetryAfter(err)))
	}
}

// sleepUntil waits until t; it returns false when ctx is done first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// jitter spreads refreshes over ±10% of the interval.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// retryDelay is the wait after the n-th consecutive failure: exponential
// from 15s with full jitter, capped at the interval, and never shorter than
// what the provider asked for.
func retryDelay(n int, interval, retryAfter time.Duration) time.Duration {
	ceil := min(interval, 15*time.Second<<min(n-1, 16))
	d := ceil/2 + rand.N(ceil/2+1)
	return max(d, retryAfter)
}

// PanicError is a collector panic, recovered by the Runner.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("collector panicked: %v", e.Value) }

// Safely runs fn, turning a panic into a *PanicError. Collectors that do
// their work in goroutines of their own run it through Safely: a panic
// there is beyond the Runner's recover and would end the daemon.
func Safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// abandonGrace is how long a Collect call that ignores its expired context
// is waited for before the Runner gives up on it (a variable for tests).
var abandonGrace = 10 * time.Second

var errStillCollecting = errors.New("the previous refresh is still running: the collector ignored its deadline")

// collect runs one Collect call bounded by ctx. A collector that ignores its
// context (a hung file system, a library that drops the deadline) is
// abandoned after abandonGrace, so that it cannot hold the provider's loop,
// reloads or shutdown; no new call starts until the abandoned one returns.
func (w *worker) collect(ctx context.Context) (*price.Snapshot, error) {
	if !w.collecting.CompareAndSwap(false, true) {
		return nil, errStillCollecting
	}
	type result struct {
		snap *price.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer w.collecting.Store(false)
		var snap *price.Snapshot
		err := Safely(func() (err error) {
			snap, err = w.p.Collector.Collect(ctx)
			return err
		})
		done <- result{snap, err}
	}()
	select {
	case r := <-done:
		return r.snap, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.snap, r.err
	case <-time.After(abandonGrace):
		return nil, fmt.Errorf("collector ignored its deadline and was abandoned: %w", ctx.Err())
	}
}

func (r *Runner) refresh(ctx context.Context, w *worker) error {
	logger := r.logger.With("provider", w.name)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, w.p.Settings.Timeout)
	snap, err := w.collect(rctx)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err() // shutting down or replaced: not a provider failure
	}
	end := time.Now()
	dur := end.Sub(start)

	var rejected map[string]int
	if err == nil {
		var nrej int
		snap, rejected, nrej = r.check(w, snap, end)
		if len(snap.Quotes) == 0 {
			err = ErrEmpty
			if nrej > 0 {
				err = fmt.Errorf("%w: all %d quotes were rejected", ErrEmpty, nrej)
			}
		}
	}
	poll := store.Poll{Provider: w.name, Start: start, Duration: dur, OK: err == nil}
	if err != nil {
		reason := Reason(err)
		logArgs := []any{"reason", reason, "err", err, "duration_seconds", dur.Seconds()}
		var pe *PanicError
		if errors.As(err, &pe) {
			reason = "panic"
			logArgs = append(logArgs[:0], "reason", reason, "err", err, "duration_seconds", dur.Seconds(), "stack", string(pe.Stack))
		}
		w.update(func(st *State) {
			st.Attempts++
			st.LastAttempt, st.LastDuration = start, dur
			addRejected(st.Errors, rejected)
			st.Errors[reason]++
			st.Success, st.LastError = false, err.Error()
		})
		r.onChange()
		logger.Warn("refresh failed", logArgs...)
		poll.Error = err.Error()
		r.record(ctx, logger, w, poll, nil)
		return err
	}

	st := w.update(func(st *State) {
		st.Attempts++
		st.LastAttempt, st.LastDuration = start, dur
		addRejected(st.Errors, rejected)
		st.Snapshot, st.Success, st.Stale = snap, true, false
		st.LastSuccess, st.LastError = end, ""
		st.UnknownGPUs = countUnknown(snap.Quotes)
	})
	r.armStale(w, end)
	r.onChange()
	poll.Quotes = len(snap.Quotes)
	res := r.record(ctx, logger, w, poll, snap)
	logger.Info("refresh done", "quotes", len(snap.Quotes), "rejected", sum(rejected),
		"unknown_gpus", st.UnknownGPUs, "points_written", res.Points+res.Withdrawals, "duration_seconds", dur.Seconds())
	return nil
}

func addRejected(errs map[string]uint64, rejected map[string]int) {
	for reason, n := range rejected {
		errs[reason] += uint64(n)
	}
}

// record writes the refresh to the store; a store failure is logged and
// counted, and does not undo the published prices.
func (r *Runner) record(ctx context.Context, logger *slog.Logger, w *worker, poll store.Poll, snap *price.Snapshot) store.Result {
	if r.rec == nil {
		return store.Result{}
	}
	res, err := r.rec.Record(ctx, poll, snap)
	if err != nil && ctx.Err() == nil {
		logger.Error("writing refresh to the store failed", "err", err)
		w.update(func(st *State) { st.Errors["store"]++ })
		r.onChange()
	}
	return res
}

// check returns a new snapshot holding only plausible quotes, markets and
// offers, stamped with provider and time; it counts what it rejected by
// reason, and returns how many quotes it rejected.
func (r *Runner) check(w *worker, in *price.Snapshot, now time.Time) (*price.Snapshot, map[string]int, int) {
	if in == nil {
		in = &price.Snapshot{}
	}
	allowZero := false
	if z, ok := w.p.Collector.(ZeroPriceAllower); ok {
		allowZero = z.AllowsZeroPrices()
	}
	out := &price.Snapshot{Provider: w.name, Time: now, Quotes: make([]price.Quote, 0, len(in.Quotes))}
	rejected := map[string]int{}
	seen := make(map[price.SeriesKey]bool, len(in.Quotes))
	for _, q := range in.Quotes {
		q.Provider = w.name
		q.Region = strings.ToLower(q.Region)
		q.Zone = strings.ToLower(q.Zone)
		if q.Geo == "" {
			q.Geo = price.Geo(q.Region)
		}
		q.ObservedAt = now
		reason := r.quoteProblem(&q, allowZero, w.p.Settings.MaxGPUUSDPerHour)
		if reason == "" {
			k := q.Key()
			if seen[k] {
				reason = "duplicate_series"
			}
			seen[k] = true
		}
		if reason != "" {
			rejected[reason]++
			continue
		}
		if q.GPUModel == price.Unknown && !w.unknown[q.GPURaw] {
			w.unknown[q.GPURaw] = true
			r.logger.Warn("unknown GPU: exported as UNKNOWN; add it to the catalog (price/catalog.yaml)",
				"provider", w.name, "raw", q.GPURaw, "instance_type", q.InstanceType)
		}
		out.Quotes = append(out.Quotes, q)
	}
	rejectedQuotes := sum(rejected)
	for _, m := range in.Markets {
		m.Provider = w.name
		if m.Geo == "" {
			m.Geo = price.Geo(m.Region)
		}
		if !plausible(m.P10) || !plausible(m.P50) || !plausible(m.P90) || m.AvailableGPUs < 0 {
			rejected["invalid_price"]++
			continue
		}
		out.Markets = append(out.Markets, m)
	}
	for _, o := range in.Offers {
		o.Provider = w.name
		o.Region, o.Zone = strings.ToLower(o.Region), strings.ToLower(o.Zone)
		if o.Geo == "" {
			o.Geo = price.Geo(o.Region)
		}
		o.ObservedAt = now
		if r.quoteProblem(&o.Quote, allowZero, w.p.Settings.MaxGPUUSDPerHour) != "" {
			rejected["invalid_offer"]++
			continue
		}
		out.Offers = append(out.Offers, o)
	}
	return out, rejected, rejectedQuotes
}

// quoteProblem returns why q is implausible, or "".
func (r *Runner) quoteProblem(q *price.Quote, allowZero bool, maxPerGPU float64) string {
	switch {
	case q.InstanceType == "" || !q.PricingModel.Valid():
		return "invalid_quote"
	case math.IsNaN(q.GPUCount) || math.IsInf(q.GPUCount, 0) || q.GPUCount <= 0:
		return "invalid_gpu_count"
	case !plausible(q.USDPerHour):
		return "invalid_price"
	case q.USDPerHour == 0 && !allowZero:
		return "zero_price"
	case maxPerGPU > 0 && q.GPUUSDPerHour() > maxPerGPU:
		return "absurd_price"
	}
	return ""
}

func plausible(v float64) bool { return v >= 0 && !math.IsNaN(v) && !math.IsInf(v, 0) }

func countUnknown(qs []price.Quote) int {
	n := 0
	for i := range qs {
		if qs[i].GPUModel == price.Unknown {
			n++
		}
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
