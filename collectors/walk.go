package collectors

import (
	"log/slog"
	"time"
)

// WalkEstimator is implemented by collectors whose refresh walks many
// pages, so that a timeout too short for the walk is said once at start
// rather than found out from every refresh timing out.
type WalkEstimator interface {
	// EstimatedRequests is about how many requests one refresh makes
	// (the largest, such as a first backfill). It does no I/O and may be
	// called before the first refresh.
	EstimatedRequests() int
}

// estimatedWalk is how long c's refresh takes at least at rateLimit
// requests per second; 0 when c gives no estimate or nothing limits it.
func estimatedWalk(c Collector, rateLimit float64) (requests int, walk time.Duration) {
	e, ok := c.(WalkEstimator)
	if !ok || rateLimit <= 0 {
		return 0, 0
	}
	requests = e.EstimatedRequests()
	return requests, time.Duration(float64(requests) / rateLimit * float64(time.Second))
}

// warnSlowWalk logs one warning when job's refresh cannot fit its timeout
// at its rate limit.
func warnSlowWalk(logger *slog.Logger, name string, job Job) {
	s := job.Settings
	requests, walk := estimatedWalk(job.Collector, s.RateLimit)
	if walk <= s.Timeout {
		return
	}
	logger.Warn("refresh timeout is shorter than the estimated walk at the rate limit: refreshes will time out; raise timeout or rate_limit",
		"provider", name, "interval", s.Interval, "timeout", s.Timeout, "rate_limit", s.RateLimit,
		"estimated_requests", requests, "estimated_walk", walk.Round(time.Second))
}
