package collectors

import (
	"context"
	"math/rand/v2"
	"time"
)

// firstRetry bounds the wait after a provider's first failed refresh. It
// is long next to an HTTP retry: the HTTP client has already retried
// transient errors by then, so the provider is likely down for a while.
const firstRetry = 15 * time.Second

// schedule says when a provider's next refresh starts. It belongs to one
// provider's loop.
type schedule struct {
	interval time.Duration
	failures int // consecutive failed refreshes
}

// next returns when to start the refresh after one that ended at now with
// err: an interval later, spread by ±10% so that providers started together
// drift apart; after a failure sooner, with a backoff growing with every
// consecutive failure up to the interval, but never sooner than the
// provider asked (Retry-After).
func (s *schedule) next(now time.Time, err error) time.Time {
	if err == nil {
		s.failures = 0
		return now.Add(jitter(s.interval))
	}
	s.failures++
	return now.Add(retryDelay(s.failures, s.interval, RetryAfter(err)))
}

// jitter spreads refreshes over ±10% of the interval.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// retryDelay is the wait after the n-th consecutive failed refresh.
func retryDelay(n int, interval, retryAfter time.Duration) time.Duration {
	return max(backoff(n, firstRetry, interval), retryAfter)
}

// backoff is the wait before the n-th consecutive retry (n ≥ 1), shared by
// the Runner and the HTTP client: exponential from first, capped at
// ceiling, drawn from the upper half of that bound. The jitter keeps
// clients that failed together from retrying together; the lower half is
// left out so that the wait still grows with every failure.
func backoff(n int, first, ceiling time.Duration) time.Duration {
	bound := first << min(max(n-1, 0), 20)
	if bound > ceiling || bound <= 0 {
		bound = ceiling
	}
	if bound <= 0 {
		return 0
	}
	return bound/2 + rand.N(bound-bound/2+1)
}

// sleepUntil waits until t; it returns false when ctx is done first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	return sleep(ctx, time.Until(t)) == nil
}
