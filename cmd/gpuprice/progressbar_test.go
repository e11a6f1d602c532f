package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/vbauerster/mpb/v8"

	"github.com/gpuprice/gpuprice/collectors"
)

// screen is a terminal in a test: what mpb writes to it, safe to read
// while mpb's goroutine writes.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// erase is mpb's "cursor up N lines, erase below": each frame starts with
// it and redraws the bars.
var erase = regexp.MustCompile(`\x1b\[\d+A\x1b\[J`)

// frame returns what the screen shows below its log lines now: the text
// after the last erase, without it.
func (s *screen) frame() string {
	out := s.String()
	locs := erase.FindAllStringIndex(out, -1)
	if len(locs) == 0 {
		return out
	}
	return out[locs[len(locs)-1][1]:]
}

// waitFor polls until cond holds of the screen (mpb draws on its own
// goroutine), failing after 5s.
func (s *screen) waitFor(t *testing.T, what string, cond func(out, frame string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(s.String(), s.frame()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the screen shows\n%q\nlast frame\n%q", what, s.String(), s.frame())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProgressBar draws collectors.Progress on a terminal: a bar with
// percent, counts, rate and ETA, log lines above it, the Progress's own
// periodic log lines left out meanwhile, and gone when the work is done.
func TestProgressBar(t *testing.T) {
	s := &screen{}
	logger, term := newTerminalLogger(&promslog.Config{}, s, mpb.ForceTTY(), mpb.WithWidth(100))
	defer term.Close()
	logger = logger.With("provider", "aws")

	p := collectors.NewProgress(logger, "backfill spot history", "regions", 20)
	p.Add(9)
	bar := regexp.MustCompile(`^aws: backfill spot history\s+\[=+>?-*\]\s+45 %\s+9/20 regions\s+\d+\.\d/s\s+ETA \d+(ms|s)`)
	s.waitFor(t, "the bar", func(_, frame string) bool { return bar.MatchString(frame) })

	logger.Info("listing region", "region", "eu-west-1")
	s.waitFor(t, "a log line above the bar", func(_, frame string) bool {
		line, rest, _ := strings.Cut(frame, "\n")
		return strings.Contains(line, `msg="listing region"`) && strings.Contains(line, "provider=aws") && bar.MatchString(rest)
	})

	// The Progress's own "progress" line says what the bar shows.
	logger.Info("progress", "what", "backfill spot history", "done", 9)
	logger.Info("marker")
	s.waitFor(t, "the marker", func(out, _ string) bool { return strings.Contains(out, "msg=marker") })
	if out := s.String(); strings.Contains(out, "msg=progress") {
		t.Errorf("the periodic progress line was logged under the bar:\n%q", out)
	}

	// Counts are human: 12.3k.
	q := collectors.NewProgress(logger, "store points", "points", 2_000_000)
	q.Add(12_345)
	s.waitFor(t, "two bars, human counts", func(_, frame string) bool {
		lines := strings.Split(strings.TrimRight(frame, "\n"), "\n")
		return len(lines) == 2 && bar.MatchString(lines[0]) && strings.Contains(lines[1], "12.3k/2M points")
	})

	p.Add(11)
	p.Finish()
	q.Add(2_000_000 - 12_345)
	s.waitFor(t, "done: the bars go", func(_, frame string) bool { return !strings.Contains(frame, "[") })
	if !strings.Contains(s.String(), "msg=done") {
		t.Errorf("no done line:\n%q", s.String())
	}
}

// An export's bar, of bytes with no known total: a spinner, sizes in
// KiB/MiB and their rate; its "done" line ends it.
func TestProgressBarBytes(t *testing.T) {
	s := &screen{}
	logger, term := newTerminalLogger(&promslog.Config{}, s, mpb.ForceTTY(), mpb.WithWidth(100))
	p := collectors.NewProgress(logger, "export csv", "bytes", 0)
	p.Add(3 << 20)
	p.Add(300 << 10)
	line := regexp.MustCompile(`^export csv\s+\S+\s+3\.3 MiB\s+\d+\.\d (KiB|MiB|GiB)/s`)
	s.waitFor(t, "the bytes bar", func(_, frame string) bool { return line.MatchString(frame) })
	p.Finish()
	// The done line itself says what="export csv": the bar is a line that
	// starts with the label.
	barLine := regexp.MustCompile(`(?m)^export csv`)
	s.waitFor(t, "the done line, no bar", func(out, frame string) bool {
		return strings.Contains(out, "msg=done") && !barLine.MatchString(frame)
	})
	term.Close()
	n := len(s.String())
	term.Close() // twice is harmless
	logger.Info("after close")
	if len(s.String()) != n {
		t.Errorf("written after Close: %q", s.String()[n:])
	}
}

// Close removes bars still running and writes the log lines mpb holds.
func TestProgressBarClose(t *testing.T) {
	s := &screen{}
	logger, term := newTerminalLogger(&promslog.Config{}, s, mpb.ForceTTY(), mpb.WithWidth(100))
	p := collectors.NewProgress(logger, "walk azure regions", "regions", 60)
	p.Add(1)
	logger.Info("last words")
	term.Close()
	if out, frame := s.String(), s.frame(); !strings.Contains(out, "last words") || strings.Contains(frame, "walk azure") {
		t.Errorf("after Close the screen shows\n%q\nlast frame %q", out, frame)
	}
}

func TestHumanCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1k", 12_345: "12.3k", 451_000: "451k", 2_000_000: "2M", 3_250_000_000: "3.2G"} {
		if got := humanCount(n); got != want {
			t.Errorf("humanCount(%d) = %q, want %q", n, got, want)
		}
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
	p := collectors.NewProgress(logger, "export csv", "bytes", 0)
	p.Add(1 << 20)
	p.Finish()
	clearBar()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\x1b[")) || !bytes.Contains(b, []byte("msg=done")) {
		t.Errorf("the file has %q, want the done line and no escape sequence", b)
	}
}
