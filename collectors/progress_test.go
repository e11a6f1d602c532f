package collectors

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProgressCadenceAndFigures(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	clock := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := NewProgress(logger, "backfill spot history", "requests", 100)
	p.start, p.lastReport, p.now = clock, clock, func() time.Time { return clock }
	var seen []int64
	p.Observe(func(done, total int64) { seen = append(seen, done) })

	clock = clock.Add(2 * time.Second)
	p.Add(10) // too soon: no log line
	clock = clock.Add(8 * time.Second)
	p.Add(10) // 20 done in 10s: 2/s, 80 left: ETA 40s
	clock = clock.Add(5 * time.Second)
	p.Add(5)
	p.Finish()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2 (one progress, one done):\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"msg=progress", "done=20", "total=100", "percent=20", "rate_per_second=2", "eta=40s"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("progress line lacks %q: %s", want, lines[0])
		}
	}
	if !strings.Contains(lines[1], "msg=done") || !strings.Contains(lines[1], "done=25") {
		t.Errorf("done line: %s", lines[1])
	}
	if len(seen) != 3 || seen[2] != 25 {
		t.Errorf("observer saw %v, want every update", seen)
	}
}
