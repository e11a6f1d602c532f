package main

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestCollectTimeoutRange: a negative or absurd --timeout is refused
// rather than silently ignored.
func TestCollectTimeoutRange(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, 25 * time.Hour} {
		cfgFile, format, demo := "", "table", true
		providers := []string{"static"}
		err := runCollect(slog.New(slog.DiscardHandler), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &d}, io.Discard)
		want := "--timeout: " + d.String() + " is out of range: allowed [0, 24h0m0s] (0: each provider's configured timeout)"
		if err == nil || err.Error() != want {
			t.Errorf("--timeout=%s: %v, want %s", d, err, want)
		}
	}
}
