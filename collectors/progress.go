package collectors

import (
	"log/slog"
	"sync"
	"time"
)

// ProgressInterval is how often Progress logs, at most.
const ProgressInterval = 10 * time.Second

// Progress reports the advance of long work (a history backfill, a large
// refresh) in the log: done/total, rate and ETA, at most every
// ProgressInterval, and once more when it is done. It is safe for
// concurrent use.
type Progress struct {
	logger *slog.Logger
	what   string // "backfill spot history"
	unit   string // "requests", "points"
	start  time.Time
	now    func() time.Time

	mu         sync.Mutex
	total      int64
	done       int64
	lastReport time.Time
	// observer, when set, sees every update (a terminal progress bar).
	observer func(done, total int64)
}

// ProgressObserver is implemented by a log handler that shows progress
// itself, such as the command line's progress bar on a terminal: every
// Progress started on a logger with such a handler reports each update to
// the function ObserveProgress returns, besides logging as usual.
type ProgressObserver interface {
	ObserveProgress(what, unit string) func(done, total int64)
}

// NewProgress starts reporting on work of total units (0 if unknown yet).
func NewProgress(logger *slog.Logger, what, unit string, total int64) *Progress {
	now := time.Now()
	p := &Progress{logger: logger, what: what, unit: unit, total: total, start: now, lastReport: now, now: time.Now}
	if o, ok := logger.Handler().(ProgressObserver); ok {
		p.observer = o.ObserveProgress(what, unit)
	}
	return p
}

// Observe sets a function called after every update, e.g. to draw a
// progress bar on a terminal.
func (p *Progress) Observe(fn func(done, total int64)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observer = fn
}

// AddTotal grows the expected total (work discovered on the way, such as
// further pages).
func (p *Progress) AddTotal(n int64) {
	p.mu.Lock()
	p.total += n
	p.mu.Unlock()
}

// Add records n more units done and logs if the last report is old enough.
func (p *Progress) Add(n int64) {
	p.mu.Lock()
	p.done += n
	done, total, obs := p.done, p.total, p.observer
	report := p.now().Sub(p.lastReport) >= ProgressInterval
	if report {
		p.lastReport = p.now()
	}
	p.mu.Unlock()
	if obs != nil {
		obs(done, total)
	}
	if report {
		p.log("progress", done, total)
	}
}

// Finish logs the final figures.
func (p *Progress) Finish() {
	p.mu.Lock()
	done, total := p.done, p.total
	p.mu.Unlock()
	p.log("done", done, total)
}

func (p *Progress) log(msg string, done, total int64) {
	elapsed := p.now().Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	args := []any{"what", p.what, "done", done, "unit", p.unit, "rate_per_second", round2(rate), "elapsed", elapsed.Round(time.Second)}
	if total > 0 {
		args = append(args, "total", total, "percent", round2(100*float64(done)/float64(total)))
		if rate > 0 && done < total {
			args = append(args, "eta", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
		}
	}
	p.logger.Info(msg, args...)
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
