package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/gpuprice/gpuprice/collectors"
)

func TestBarRender(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{"under way", 400, 1000, 20 * time.Second, "x [########------------]  40% 400/1000 requests 20/s ETA 30s"},
		{"slow", 3, 1000, 10 * time.Second, "x [--------------------]   0% 3/1000 requests 0.3/s ETA 55m23s"},
		{"just started", 0, 10, 0, "x [--------------------]   0% 0/10 requests 0.0/s"},
		{"complete", 10, 10, 4 * time.Second, "x [####################] 100% 10/10 requests 2.5/s"},
		{"more done than announced", 12, 10, 4 * time.Second, "x [####################] 100% 12/10 requests 3.0/s"},
		{"unknown total", 250, 0, 5 * time.Second, "x 250 requests 50/s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &bar{label: "x", unit: "requests", start: start, done: c.done, total: c.total}
			if got := b.render(start.Add(c.elapsed)); got != c.want {
				t.Errorf("render:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestProgressBar draws a collectors.Progress on a fake terminal: the bar
// appears at the first update, is redrawn at most every 100ms, stays below
// log lines, replaces the Progress's periodic log lines, and goes away when
// the work is complete.
func TestProgressBar(t *testing.T) {
	clock := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	logger, term := newTerminalLogger(&promslog.Config{}, &out, func() time.Time { return clock })
	logger = logger.With("provider", "aws")
	p := collectors.NewProgress(logger, "backfill spot history", "requests", 100)
	const clear = "\r\033[K"

	step := func(name string, advance time.Duration, do func(), want string) {
		t.Helper()
		clock = clock.Add(advance)
		out.Reset()
		do()
		if got := out.String(); got != want {
			t.Errorf("%s: wrote\n%q\nwant\n%q", name, got, want)
		}
	}
	step("first update draws the bar", 2*time.Second, func() { p.Add(40) },
		"aws: backfill spot history [########------------]  40% 40/100 requests 20/s ETA 3s")
	step("an update 50ms later is not drawn", 50*time.Millisecond, func() { p.Add(1) }, "")
	step("an update 100ms after the draw is", 50*time.Millisecond, func() { p.Add(1) },
		clear+"aws: backfill spot history [########------------]  42% 42/100 requests 20/s ETA 3s")
	step("the Progress's own progress line is left out", time.Second, func() {
		logger.Info("progress", "what", "backfill spot history", "done", 42)
	}, "")

	// 42 done in 3.1s: 13.5/s, 58 left: ETA 4s.
	out.Reset()
	logger.Info("listing region", "region", "eu-west-1")
	got := out.String()
	line, bar, ok := strings.Cut(strings.TrimPrefix(got, clear), "\n")
	if !ok || !strings.HasPrefix(got, clear) || !strings.Contains(line, `msg="listing region"`) || !strings.Contains(line, "provider=aws") ||
		bar != "aws: backfill spot history [########------------]  42% 42/100 requests 14/s ETA 4s" {
		t.Errorf("a log line: wrote %q, want the bar cleared, the line, and the bar again", got)
	}

	step("complete: the bar goes", time.Second, func() { p.Add(58) }, clear)
	out.Reset()
	p.Finish()
	if got := out.String(); strings.Contains(got, clear) || !strings.Contains(got, "msg=done") || !strings.Contains(got, "done=100") {
		t.Errorf("Finish: wrote %q, want the done line and no bar", got)
	}

	// Work whose total is unknown ends with its done line.
	q := collectors.NewProgress(logger, "list offers", "pages", 0)
	step("unknown total", time.Second, func() { q.Add(3) }, "aws: list offers 3 pages 3.0/s")
	out.Reset()
	q.Finish()
	if got := out.String(); !strings.HasPrefix(got, clear) || !strings.Contains(got, "msg=done") || strings.Contains(got, "list offers 3 pages") {
		t.Errorf("Finish of unknown total: wrote %q, want the bar cleared and the done line", got)
	}
	out.Reset()
	term.Close()
	if out.Len() != 0 {
		t.Errorf("Close without a bar wrote %q", out.String())
	}
}

// TestCLILoggerOffTerminal: written to a file, the log has no bar.
func TestCLILoggerOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	logger, clearBar := newCLILogger(&promslog.Config{}, f)
	if _, ok := logger.Handler().(*progressHandler); ok {
		t.Error("a progress bar on a file")
	}
	clearBar()
}
