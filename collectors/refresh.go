package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// refresher makes one provider's refreshes: a Collect call bounded by the
// timeout, then the check of its answer. The Runner's loop and RefreshOnce
// use it alike; it neither publishes nor records. Its calls must not
// overlap.
type refresher struct {
	collector Collector
	timeout   time.Duration
	checker   *checker
	guard     *shrinkGuard
	scrubber  *Scrubber
	// collecting is true while a Collect call runs, including one that
	// was abandoned because it ignored its deadline.
	collecting atomic.Bool
}

func newRefresher(logger *slog.Logger, job Job) *refresher {
	name := job.Collector.Name()
	return &refresher{
		collector: job.Collector,
		timeout:   job.Settings.Timeout,
		checker:   newChecker(logger, name, job.Collector, job.Settings.MaxGPUUSDPerHour),
		guard:     newShrinkGuard(job.Collector, job.Settings),
		scrubber:  job.Scrubber,
	}
}

// outcome is what one refresh gave.
type outcome struct {
	Start, End time.Time
	// Snapshot is what to publish: the checked answer, or, when the
	// answer shrank suspiciously, the answer with the last good quotes of
	// what shrank (shrinkGuard); nil when Err is set.
	Snapshot *price.Snapshot
	// Answered is the number of quotes the checked answer had.
	Answered int
	// Degraded says which last good quotes Snapshot kept and why; Accepted
	// which drop was accepted because it persisted. Both may be empty.
	Degraded, Accepted string
	// Rejected counts the quotes, markets and offers dropped by reason.
	Rejected map[string]int
	Err      error
}

// refresh runs one refresh. When ctx is done before the collector
// answers, Err is ctx's error and nothing is checked: a shutdown or a
// restart is not the provider's failure.
func (f *refresher) refresh(ctx context.Context) outcome {
	o := outcome{Start: time.Now()}
	rctx, cancel := context.WithTimeout(ctx, f.timeout)
	snap, err := f.collect(rctx)
	cancel()
	o.End = time.Now()
	if ctx.Err() != nil {
		o.Err = ctx.Err()
		return o
	}
	if err != nil {
		// Whatever the provider echoed stays here: the error's text is
		// logged, published, stored and printed.
		o.Err = f.scrubber.Error(err)
		return o
	}
	var nrej int
	snap, o.Rejected, nrej = f.checker.check(snap, o.End)
	switch {
	case len(snap.Quotes) > 0:
		v := f.guard.judge(snap)
		o.Snapshot, o.Answered, o.Degraded, o.Accepted = v.Published, len(snap.Quotes), v.Degraded, v.Accepted
	case nrej > 0:
		o.Err = fmt.Errorf("%w: all %d quotes were rejected", ErrEmpty, nrej)
	default:
		o.Err = ErrEmpty
	}
	return o
}

// reason classifies a failed outcome for the State's Errors.
func (o outcome) reason() string {
	var pe *PanicError
	if errors.As(o.Err, &pe) {
		return "panic"
	}
	return Reason(o.Err)
}

// log logs o once, at the end of the refresh; pointsWritten is what the
// store took of it.
func (o outcome) log(logger *slog.Logger, pointsWritten int) {
	dur := o.End.Sub(o.Start).Seconds()
	if o.Err != nil {
		args := []any{"reason", o.reason(), "err", o.Err, "duration_seconds", dur}
		var pe *PanicError
		if errors.As(o.Err, &pe) {
			args = append(args, "stack", string(pe.Stack))
		}
		logger.Warn("refresh failed", args...)
		return
	}
	args := []any{"quotes", len(o.Snapshot.Quotes), "rejected", sum(o.Rejected),
		"unknown_gpus", countUnknown(o.Snapshot.Quotes), "points_written", pointsWritten, "duration_seconds", dur}
	switch {
	case o.Degraded != "":
		logger.Warn("refresh degraded: the answer shrank suspiciously", append(args, "answered", o.Answered, "why", o.Degraded)...)
	case o.Accepted != "":
		logger.Warn("refresh done: a drop in quotes persisted and is accepted", append(args, "dropped", o.Accepted)...)
	default:
		logger.Info("refresh done", args...)
	}
}

// RefreshOnce runs one refresh of job outside any schedule, logs it, and
// returns the checked snapshot; it is what `gpuprice collect` uses.
func RefreshOnce(ctx context.Context, logger *slog.Logger, job Job) (*price.Snapshot, error) {
	name := job.Collector.Name()
	warnSlowWalk(logger, name, job)
	o := newRefresher(logger, job).refresh(ctx)
	if ctx.Err() == nil {
		o.log(logger.With("provider", name), 0)
	}
	return o.Snapshot, o.Err
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

// abandonGrace is how long a Collect call is waited for once its context
// has expired, so that a collector that stops at once can say why in its
// own error; then the refresh is over, whatever the collector does (a
// variable for tests). The timeout is thus a hard deadline, decoding
// included, give or take this second.
var abandonGrace = time.Second

var errStillCollecting = errors.New("the previous refresh is still running: the collector ignored its deadline")

// collect runs one Collect call bounded by ctx. A collector that ignores its
// context (a hung file system, a library that drops the deadline) is
// abandoned after abandonGrace, so that it cannot hold the provider's loop,
// reloads or shutdown; no new call starts until the abandoned one returns.
func (f *refresher) collect(ctx context.Context) (*price.Snapshot, error) {
	if !f.collecting.CompareAndSwap(false, true) {
		return nil, errStillCollecting
	}
	type result struct {
		snap *price.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer f.collecting.Store(false)
		var snap *price.Snapshot
		err := Safely(func() (err error) {
			snap, err = f.collector.Collect(ctx)
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
		if r.err == nil {
			// An answer finished after the deadline (decoding it ran
			// over, say) is not taken: the deadline is the refresh's.
			return nil, fmt.Errorf("the answer was ready only after the refresh's deadline: %w", ctx.Err())
		}
		return r.snap, r.err
	case <-time.After(abandonGrace):
		return nil, fmt.Errorf("collector ignored its deadline and was abandoned: %w", ctx.Err())
	}
}
