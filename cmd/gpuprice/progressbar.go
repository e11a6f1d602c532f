package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/common/promslog"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/gpuprice/gpuprice/collectors"
)

// newCLILogger returns the logger of the one-shot commands (collect,
// export): promslog's on stderr and, when stderr is a terminal, one that
// also draws every collectors.Progress started on it as a progress bar
// (mpb) below the log lines. The returned function removes the bars and
// flushes what is pending; call it before exiting. Off a terminal (a file,
// a pipe, CI) nothing but the log is written.
func newCLILogger(cfg *promslog.Config, stderr *os.File) (*slog.Logger, func()) {
	if !isatty.IsTerminal(stderr.Fd()) || os.Getenv("TERM") == "dumb" {
		c := *cfg
		c.Writer = stderr
		return promslog.New(&c), func() {}
	}
	logger, term := newTerminalLogger(cfg, stderr)
	return logger, term.Close
}

// newTerminalLogger returns a logger writing to the terminal w through
// promslog, and drawing progress bars there. Tests add mpb.ForceTTY to
// get a terminal's output in a buffer.
func newTerminalLogger(cfg *promslog.Config, w io.Writer, opts ...mpb.ContainerOption) (*slog.Logger, *terminal) {
	term := newTerminal(w, opts...)
	c := *cfg
	c.Writer = term
	return slog.New(&progressHandler{Handler: promslog.New(&c).Handler(), term: term}), term
}

// barRedraw is the time between two redraws of the bars: updates can come
// thousands of times a second.
const barRedraw = 100 * time.Millisecond

// barWidth is the width of the bar itself, in cells.
const barWidth = 20

// terminal is a terminal shared by log lines and progress bars, drawn by
// one mpb.Progress: a bar per work in progress, oldest first, below the
// log lines. mpb renders on its own goroutine; terminal asks it to every
// barRedraw, and at once after a log line so that lines are not held back.
type terminal struct {
	p       *mpb.Progress
	refresh chan any
	stop    chan struct{}
	ticker  sync.WaitGroup

	mu     sync.Mutex
	bars   map[string]*mpb.Bar // in progress, by label
	closed bool
}

func newTerminal(w io.Writer, opts ...mpb.ContainerOption) *terminal {
	t := &terminal{refresh: make(chan any), stop: make(chan struct{}), bars: map[string]*mpb.Bar{}}
	t.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithManualRefresh(t.refresh)}, opts...)...)
	t.ticker.Add(1)
	go func() {
		defer t.ticker.Done()
		tick := time.NewTicker(barRedraw)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.redraw()
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

// redraw asks mpb for a render and returns once it has the request.
func (t *terminal) redraw() {
	select {
	case t.refresh <- nil:
	case <-t.stop:
	}
}

// Write writes log lines above the bars. slog handlers write each record
// with one call.
func (t *terminal) Write(b []byte) (int, error) {
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return 0, io.ErrClosedPipe
	}
	n, err := t.p.Write(b)
	t.redraw()
	return n, err
}

// Close removes the bars, writes what is pending and stops drawing.
func (t *terminal) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	for label, b := range t.bars {
		b.Abort(true)
		delete(t.bars, label)
	}
	t.mu.Unlock()
	// The last render, then mpb's shutdown (which renders nothing itself).
	t.refresh <- nil
	close(t.stop)
	t.ticker.Wait()
	t.p.Shutdown()
}

// start adds a bar and returns its update function. A known total shows
// percent done, counts and ETA; an unknown one (0) a spinner and counts.
// Bytes are shown in KiB, MiB, ...; other units as 12.3k.
func (t *terminal) start(label, unit string) func(done, total int64) {
	var (
		b     *mpb.Bar
		known int64 // the total b was drawn with
	)
	return func(done, total int64) {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			return
		}
		complete := total > 0 && done >= total
		if b == nil || (total > 0) != (known > 0) || (!complete && b.AbortedOrCompleted()) {
			if complete {
				return // done before it was ever drawn: nothing to show
			}
			if b != nil {
				b.Abort(true) // a total appeared, or more work after the end
			}
			b, known = t.newBar(label, unit, total), total
			t.bars[label] = b
		}
		if total > 0 && total != known {
			b.SetTotal(total, false)
			known = total
		}
		b.SetCurrent(done)
		if complete {
			// mpb removes a complete bar at its next render.
			delete(t.bars, label)
		}
	}
}

// newBar adds one line: label, bar or spinner, counts, rate, ETA.
//
//	aws: backfill spot history [=========>----------]  45 % 9/20 regions 3.0/s ETA 4s
//	export csv ⠙ 3.2 MiB 12.8 MiB/s
func (t *terminal) newBar(label, unit string, total int64) *mpb.Bar {
	bytes := unit == "bytes"
	counts := func(s decor.Statistics) string {
		if bytes {
			if s.Total > 0 {
				return fmt.Sprintf("% .1f / % .1f", decor.SizeB1024(s.Current), decor.SizeB1024(s.Total))
			}
			return fmt.Sprintf("% .1f", decor.SizeB1024(s.Current))
		}
		if s.Total > 0 {
			return humanCount(s.Current) + "/" + humanCount(s.Total) + " " + unit
		}
		return humanCount(s.Current) + " " + unit
	}
	var speed decor.Decorator
	if bytes {
		speed = decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpaceR)
	} else {
		speed = decor.AverageSpeed(0, "%.1f/s", decor.WCSyncSpaceR)
	}
	decorators := []decor.Decorator{decor.Any(counts, decor.WCSyncSpaceR), speed}
	if total > 0 {
		decorators = append([]decor.Decorator{decor.Percentage(decor.WCSyncSpaceR)}, decorators...)
		decorators = append(decorators, decor.OnComplete(decor.Name("ETA "), ""), decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), ""))
	}
	opts := []mpb.BarOption{
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decorators...),
		mpb.BarWidth(barWidth),
		mpb.BarRemoveOnComplete(),
	}
	if total > 0 {
		return t.p.New(total, mpb.BarStyle(), opts...)
	}
	return t.p.New(0, mpb.SpinnerStyle().PositionLeft(), opts...)
}

// humanCount renders a count the way people read it: 950, 12.3k, 4.5M.
func humanCount(n int64) string {
	switch f := float64(n); {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 1_000_000:
		return trimZero(fmt.Sprintf("%.1f", f/1e3)) + "k"
	case n < 1_000_000_000:
		return trimZero(fmt.Sprintf("%.1f", f/1e6)) + "M"
	default:
		return trimZero(fmt.Sprintf("%.1f", f/1e9)) + "G"
	}
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

// finish drops the bar labelled label, if any: work whose total was not
// known says it is done by its "done" log line.
func (t *terminal) finish(label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.bars[label]; ok {
		b.Abort(true)
		delete(t.bars, label)
	}
}

// active reports whether a bar labelled label is in progress.
func (t *terminal) active(label string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.bars[label]
	return ok
}

// progressHandler is the terminal's slog.Handler: a collectors.Progress
// started on it draws a bar (see collectors.ProgressObserver); its periodic
// "progress" log lines are left out while the bar shows the same, and its
// "done" line ends the bar. Everything else is logged by the inner handler.
type progressHandler struct {
	slog.Handler
	term     *terminal
	provider string // the logger's provider attribute, to label bars
}

var _ collectors.ProgressObserver = (*progressHandler)(nil)

func (h *progressHandler) label(what string) string {
	if h.provider == "" {
		return what
	}
	return h.provider + ": " + what
}

// ObserveProgress starts a bar for a collectors.Progress.
func (h *progressHandler) ObserveProgress(what, unit string) func(done, total int64) {
	return h.term.start(h.label(what), unit)
}

func (h *progressHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "progress" || r.Message == "done" {
		var what string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "what" {
				what = a.Value.String()
				return false
			}
			return true
		})
		label := h.label(what)
		switch {
		case what == "":
		case r.Message == "progress" && h.term.active(label):
			return nil
		case r.Message == "done":
			h.term.finish(label)
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *progressHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	provider := h.provider
	for _, a := range attrs {
		if a.Key == "provider" {
			provider = a.Value.String()
		}
	}
	return &progressHandler{Handler: h.Handler.WithAttrs(attrs), term: h.term, provider: provider}
}

func (h *progressHandler) WithGroup(name string) slog.Handler {
	return &progressHandler{Handler: h.Handler.WithGroup(name), term: h.term, provider: h.provider}
}
