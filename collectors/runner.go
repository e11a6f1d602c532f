package collectors

import (
	"context"
	"log/slog"
	"reflect"
	"sort"
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
	// RateLimit is the requests per second the collector's client allows
	// (0: unlimited). The client enforces it; the Runner only uses it to
	// tell a timeout that cannot fit the collector's walk (WalkEstimator).
	RateLimit float64
	// MinQuoteRatio and AcceptDropAfter guard against answers that shrink
	// suspiciously (shrinkGuard): an answer with fewer quotes than
	// MinQuoteRatio × the last good one's (per region too, for a
	// RegionWalker) keeps the last good quotes until the drop has lasted
	// AcceptDropAfter refreshes. Zero (or AcceptDropAfter 1) turns the
	// guard off, as for configured prices.
	MinQuoteRatio   float64
	AcceptDropAfter int
}

// Job is one collector the Runner refreshes, with its settings.
type Job struct {
	Collector Collector
	Settings  Settings
	// Config is the provider's configuration section; a reload restarts
	// the job only when it differs.
	Config any
	// Scrubber cleans the refresh errors of the configuration's secrets
	// (Build sets it); nil applies only the generic patterns.
	Scrubber *Scrubber
}

// Recorder is the part of the store the Runner writes refreshes to.
type Recorder interface {
	Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error)
}

// Gate decides whether this process may refresh a provider: in an HA
// group of replicas sharing a store, only while it holds the provider's
// lease (package cluster). Hold blocks until it may refresh provider now
// and returns the context the refresh and its writes run in, done when the
// right is lost, with the function to call once the refresh is reported;
// it returns ctx's error when ctx ends first. It is called from every
// provider's loop concurrently.
type Gate interface {
	Hold(ctx context.Context, provider string) (context.Context, func(), error)
}

// Runner refreshes every job on its own schedule (schedule.go), checks
// each answer (check.go), publishes each provider's State atomically and
// withdraws prices that went stale (state.go), and records every refresh
// in the store. One provider failing, hanging or panicking never affects
// another.
type Runner struct {
	logger   *slog.Logger
	rec      Recorder
	onChange func()

	mu      sync.Mutex // serializes Seed, Apply and Stop
	workers map[string]*worker
	seeds   map[string]*price.Snapshot
	// running is the list of workers, sorted by name, read without locks
	// (onChange callbacks read States while Apply may be waiting for a
	// worker to stop).
	running atomic.Pointer[[]*worker]
	ready   atomic.Bool
	gate    Gate // nil: refresh every job
}

// SetGate makes every refresh wait for g's consent; call it before Apply.
func (r *Runner) SetGate(g Gate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gate = g
}

// worker is one job's loop.
type worker struct {
	name      string
	job       Job
	refresher *refresher // the loop's goroutine only
	state     *publisher
	cancel    context.CancelFunc
	done      chan struct{}
	tried     atomic.Bool
	gate      Gate // the Runner's when the worker started
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

// Apply makes the running jobs those of jobs: it starts new ones, stops
// removed ones, and restarts those whose collector configuration changed
// (keeping their served prices until the new collector succeeds). It
// returns at once; refreshes run in the background until Stop.
func (r *Runner) Apply(jobs []Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := map[string]bool{}
	for _, job := range jobs {
		name := job.Collector.Name()
		keep[name] = true
		old := r.workers[name]
		if old != nil && old.job.Settings == job.Settings && reflect.DeepEqual(old.job.Config, job.Config) {
			continue
		}
		r.workers[name] = r.start(name, job, old)
	}
	for name, w := range r.workers {
		if !keep[name] {
			w.stop()
			delete(r.workers, name)
		}
	}
	// Seeds serve a restart once: a job enabled later must not get
	// startup-era prices.
	r.seeds = nil
	r.setRunning()
	r.onChange()
}

// start starts job's loop, replacing old (which may be nil); r.mu must be
// held.
func (r *Runner) start(name string, job Job, old *worker) *worker {
	warnSlowWalk(r.logger, name, job)
	st := &State{Provider: name, Interval: job.Settings.Interval, Errors: map[string]uint64{}}
	if old != nil {
		old.stop()
		prev := *old.state.load()
		prev.Interval = job.Settings.Interval
		st = &prev
	} else if seed := r.seeds[name]; seed != nil && time.Since(seed.Time) < job.Settings.StaleAfter {
		st.serve(seed, seed.Time)
		r.ready.Store(true)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{
		name:      name,
		job:       job,
		refresher: newRefresher(r.logger, job),
		state:     newPublisher(r.logger, r.onChange, job.Settings.StaleAfter, st),
		cancel:    cancel,
		done:      make(chan struct{}),
		gate:      r.gate,
	}
	if old == nil {
		// After a restart the stored prices are the baseline of the first
		// answer; after a reload that changed the provider's section the
		// first answer is trusted (its regions, say, may have changed).
		w.refresher.guard.last = st.Snapshot
	}
	go r.run(ctx, w)
	return w
}

// setRunning makes the current workers visible to States; r.mu must be
// held.
func (r *Runner) setRunning() {
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

// Stop stops every job and waits for refreshes in flight to end.
func (r *Runner) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, w := range r.workers {
		w.stop()
		delete(r.workers, name)
	}
	r.setRunning()
}

// stop ends the worker's loop; a Collect call that ignores its context is
// not waited for (see refresher.collect).
func (w *worker) stop() {
	w.cancel()
	<-w.done
	w.state.stop()
}

// States returns every running provider's current State, sorted by name.
func (r *Runner) States() []*State {
	ws := r.list()
	out := make([]*State, len(ws))
	for i, w := range ws {
		out[i] = w.state.load()
	}
	return out
}

// Ready reports whether the first refreshes are over: prices were loaded
// from the store, or every provider has finished its first refresh
// (trivially so when none is enabled). Tests wait for it; the daemon's
// /-/ready asks more (ReadinessOf).
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

func (r *Runner) run(ctx context.Context, w *worker) {
	defer close(w.done)
	sched := schedule{interval: w.job.Settings.Interval}
	next := time.Now()
	gate := w.gate
	for {
		if !sleepUntil(ctx, next) {
			return
		}
		rctx, done := ctx, func() {}
		if gate != nil {
			var err error
			if rctx, done, err = gate.Hold(ctx, w.name); err != nil {
				return
			}
		}
		o := w.refresher.refresh(rctx)
		lost := rctx.Err() != nil
		if !lost {
			r.report(rctx, w, o)
		}
		done()
		if ctx.Err() != nil {
			return
		}
		if lost {
			// The right to refresh was lost on the way: nothing was
			// reported; wait for it again.
			next = time.Now()
			continue
		}
		w.tried.Store(true)
		next = sched.next(time.Now(), o.Err)
	}
}

// Observe publishes snap, another process's refresh of provider read from
// the shared store, as the provider's prices, when it is newer than what is
// published: how a replica that does not refresh provider (see Gate)
// serves it. holder names the process that refreshes it.
func (r *Runner) Observe(provider string, snap *price.Snapshot, holder string) {
	for _, w := range r.list() {
		if w.name != provider {
			continue
		}
		w.state.observed(snap, holder)
		w.tried.Store(true)
		return
	}
}

// SetHolder publishes which process refreshes provider (see Gate).
func (r *Runner) SetHolder(provider, holder string) {
	for _, w := range r.list() {
		if w.name == provider && w.state.load().Holder != holder {
			w.state.update(func(st *State) { st.Holder = holder })
			r.onChange()
		}
	}
}

// report publishes o, writes it to the store and logs it.
func (r *Runner) report(ctx context.Context, w *worker, o outcome) {
	logger := r.logger.With("provider", w.name)
	poll := store.Poll{Provider: w.name, Start: o.Start, Duration: o.End.Sub(o.Start), OK: o.Err == nil}
	if o.Err != nil {
		w.state.failed(o)
		o.log(logger, 0)
		poll.Error = o.Err.Error()
		r.record(ctx, logger, w, poll, nil)
		return
	}
	w.state.succeeded(o)
	poll.Quotes = o.Answered
	if o.Degraded != "" {
		poll.Error = "degraded: " + o.Degraded
	}
	res := r.record(ctx, logger, w, poll, o.Snapshot)
	o.log(logger, res.Points+res.Withdrawals)
}

// recordTimeout bounds the write of one refresh to the store.
const recordTimeout = 30 * time.Second

// record writes the refresh to the store; a store failure is logged and
// counted, and does not undo the published prices.
func (r *Runner) record(ctx context.Context, logger *slog.Logger, w *worker, poll store.Poll, snap *price.Snapshot) store.Result {
	if r.rec == nil {
		return store.Result{}
	}
	// A refresh that is over is written even when the Runner is stopping:
	// its prices are already published, and a shutdown must not lose
	// them. The write gets a bound of its own instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	res, err := r.rec.Record(ctx, poll, snap)
	if err != nil && ctx.Err() == nil {
		logger.Error("writing refresh to the store failed", "err", err)
		w.state.countError("store")
	}
	return res
}
