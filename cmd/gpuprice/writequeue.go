package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres"
)

// writeQueue is the Runner's way to a PostgreSQL store: a refresh whose
// write fails because the database is away (postgres.Unavailable) is kept,
// and the refreshes kept are written again in order, by the next refresh
// and every few seconds, once the database is back. The store diffs each
// against the last points committed before it, so the change points come
// out at their own times, as if the database had never gone. At most
// maxQueuedQuotes quotes are kept; beyond, the oldest refreshes are dropped
// (the next one written still records every change since, at its time).
// A kept refresh the store refuses when written again (its lease lost
// meanwhile, say) is dropped. It is safe for concurrent use; writes are
// serialized, as the store serializes them anyway.
type writeQueue struct {
	st     collectors.Recorder
	logger *slog.Logger

	mu     sync.Mutex
	q      []queuedWrite
	quotes int // quotes kept in q
}

type queuedWrite struct {
	ctx  context.Context // the refresh's, uncancelled: it carries the lease's fence
	poll store.Poll
	snap *price.Snapshot
}

// maxQueuedQuotes bounds the memory the queue holds.
const maxQueuedQuotes = 1_000_000

// Record implements collectors.Recorder.
func (w *writeQueue) Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.q) == 0 {
		res, err := w.st.Record(ctx, poll, snap)
		if !postgres.Unavailable(err) || ctx.Err() != nil {
			return res, err
		}
		w.push(ctx, poll, snap)
		return res, w.kept(err)
	}
	w.push(ctx, poll, snap)
	res, err := w.flush()
	if postgres.Unavailable(err) {
		return store.Result{}, w.kept(err)
	}
	// Any other error is this refresh's own, refused by the store (a lost
	// lease): the Runner counts it as a store failure.
	return res, err
}

// kept is the error of a write kept for later; w.mu is held.
func (w *writeQueue) kept(err error) error {
	return fmt.Errorf("%w (kept, to be written in order when the database is back: %d refreshes waiting)", err, len(w.q))
}

func (w *writeQueue) push(ctx context.Context, poll store.Poll, snap *price.Snapshot) {
	w.q = append(w.q, queuedWrite{ctx: context.WithoutCancel(ctx), poll: poll, snap: snap})
	w.quotes += quotesOf(snap)
	for w.quotes > maxQueuedQuotes && len(w.q) > 1 {
		w.logger.Warn("dropping the oldest refresh kept for the database: too many kept", "provider", w.q[0].poll.Provider, "start", w.q[0].poll.Start)
		w.pop()
	}
}

func (w *writeQueue) pop() {
	w.quotes -= quotesOf(w.q[0].snap)
	w.q[0] = queuedWrite{}
	w.q = w.q[1:]
}

func quotesOf(snap *price.Snapshot) int {
	if snap == nil {
		return 0
	}
	return len(snap.Quotes)
}

// flush writes the kept refreshes in order until one fails because the
// database is still away; it returns the result of the last one written,
// and the error of the last one when the store refuses it (an older kept
// one refused is logged and dropped). w.mu is held.
func (w *writeQueue) flush() (store.Result, error) {
	var res store.Result
	for len(w.q) > 0 {
		e := w.q[0]
		r, err := w.st.Record(e.ctx, e.poll, e.snap)
		if postgres.Unavailable(err) {
			return res, err
		}
		if err != nil && len(w.q) == 1 {
			w.pop()
			return r, err
		}
		if err != nil {
			w.logger.Error("dropping a refresh kept for the database: the store refuses it", "provider", e.poll.Provider, "start", e.poll.Start, "err", err)
		} else if len(w.q) > 1 {
			w.logger.Info("wrote a refresh kept while the database was away", "provider", e.poll.Provider, "start", e.poll.Start,
				"points_written", r.Points+r.Withdrawals)
		}
		res = r
		w.pop()
	}
	return res, nil
}

// run writes the kept refreshes every interval until ctx ends.
func (w *writeQueue) run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.mu.Lock()
		if len(w.q) > 0 {
			switch _, err := w.flush(); {
			case err == nil:
				w.logger.Info("every refresh kept while the database was away is written")
			case !postgres.Unavailable(err):
				w.logger.Error("dropping a refresh kept for the database: the store refuses it", "err", err)
			}
		}
		w.mu.Unlock()
	}
}
