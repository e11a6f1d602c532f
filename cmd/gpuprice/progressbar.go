package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/common/promslog"

	"github.com/gpuprice/gpuprice/collectors"
)

// newCLILogger returns the logger of the one-shot commands (collect and
// the like): promslog's on stderr and, when stderr is a terminal, one that
// also draws every collectors.Progress started on it as a progress bar on
// the last line, with log lines written above the bar. The returned
// function clears the bar; call it before exiting.
func newCLILogger(cfg *promslog.Config, stderr *os.File) (*slog.Logger, func()) {
	if !isatty.IsTerminal(stderr.Fd()) || os.Getenv("TERM") == "dumb" {
		return promslog.New(cfg), func() {}
	}
	logger, term := newTerminalLogger(cfg, stderr, time.Now)
	return logger, term.Close
}

// newTerminalLogger returns a logger writing to the terminal w through
// promslog, and drawing progress bars there.
func newTerminalLogger(cfg *promslog.Config, w io.Writer, now func() time.Time) (*slog.Logger, *terminal) {
	term := &terminal{w: w, now: now}
	c := *cfg
	c.Writer = term
	return slog.New(&progressHandler{Handler: promslog.New(&c).Handler(), term: term}), term
}

// barRedraw is the shortest time between two redraws of a bar: updates
// can come thousands of times a second.
const barRedraw = 100 * time.Millisecond

// terminal is a terminal shared by log lines and progress bars. The bar of
// the latest work in progress occupies the last line; a log line clears
// it, is written, and the bar is drawn again below it.
type terminal struct {
	w   io.Writer
	now func() time.Time

	mu    sync.Mutex
	bars  []*bar // in progress, oldest first
	shown bool   // a bar is on the last line, the cursor at its end
	drawn time.Time
}

// bar is one piece of work in progress.
type bar struct {
	label       string // "aws: backfill spot history"
	unit        string
	start       time.Time
	done, total int64
}

// Write writes log lines above the bar. slog handlers write each record
// with one call.
func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clear()
	n, err := t.w.Write(p)
	t.draw()
	return n, err
}

// Close clears the bar.
func (t *terminal) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bars = nil
	t.clear()
}

// clear erases the bar's line. t.mu is held.
func (t *terminal) clear() {
	if t.shown {
		io.WriteString(t.w, "\r\033[K")
		t.shown = false
	}
}

// draw draws the newest bar on the current line, which is empty: after a
// log line, or cleared. t.mu is held.
func (t *terminal) draw() {
	if len(t.bars) == 0 {
		return
	}
	now := t.now()
	line := t.bars[len(t.bars)-1].render(now)
	if n := len(t.bars) - 1; n > 0 {
		line += fmt.Sprintf(" (+%d more)", n)
	}
	io.WriteString(t.w, line)
	t.shown, t.drawn = true, now
}

// start adds a bar and returns its update function.
func (t *terminal) start(label, unit string) func(done, total int64) {
	b := &bar{label: label, unit: unit, start: t.now()}
	return func(done, total int64) {
		t.mu.Lock()
		defer t.mu.Unlock()
		b.done, b.total = done, total
		complete := total > 0 && done >= total
		active := slices.Contains(t.bars, b)
		switch {
		case complete && active:
			t.remove(b)
		case complete:
			return
		case !active:
			t.bars = append(t.bars, b)
		case t.now().Sub(t.drawn) < barRedraw:
			return
		}
		t.clear()
		t.draw()
	}
}

// remove drops b from the bars. t.mu is held.
func (t *terminal) remove(b *bar) {
	t.bars = slices.DeleteFunc(t.bars, func(x *bar) bool { return x == b })
}

// finish drops the bar labelled label, if any, and redraws.
func (t *terminal) finish(label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.IndexFunc(t.bars, func(b *bar) bool { return b.label == label })
	if i < 0 {
		return
	}
	t.remove(t.bars[i])
	t.clear()
	t.draw()
}

// active reports whether a bar labelled label is in progress.
func (t *terminal) active(label string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.ContainsFunc(t.bars, func(b *bar) bool { return b.label == label })
}

// barWidth is the width of the bar itself, in cells; the line stays
// within 80 columns for labels up to 30 characters.
const barWidth = 20

// render draws b as one line:
//
//	aws: backfill spot history [########------------]  40% 400/1000 requests 20/s ETA 30s
func (b *bar) render(now time.Time) string {
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(b.done) / elapsed
	}
	var s strings.Builder
	s.WriteString(b.label)
	if b.total > 0 {
		frac := min(float64(b.done)/float64(b.total), 1)
		full := int(frac * barWidth)
		fmt.Fprintf(&s, " [%s%s] %3.0f%% %d/%d %s", strings.Repeat("#", full), strings.Repeat("-", barWidth-full), 100*frac, b.done, b.total, b.unit)
	} else {
		fmt.Fprintf(&s, " %d %s", b.done, b.unit)
	}
	fmt.Fprintf(&s, " %s/s", formatRate(rate))
	if b.total > b.done && rate > 0 {
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		fmt.Fprintf(&s, " ETA %s", eta.Round(time.Second))
	}
	return s.String()
}

func formatRate(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
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
