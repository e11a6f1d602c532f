package collectors

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// funcCollector is a Collector whose behaviour each test scripts.
type funcCollector struct {
	name      string
	allowZero bool
	collect   func(ctx context.Context) (*price.Snapshot, error)
}

func (f *funcCollector) Name() string           { return f.name }
func (f *funcCollector) AllowsZeroPrices() bool { return f.allowZero }
func (f *funcCollector) Collect(ctx context.Context) (*price.Snapshot, error) {
	return f.collect(ctx)
}

func quote(instance string, usd, count float64) price.Quote {
	return price.Quote{InstanceType: instance, Region: "EastUS", PricingModel: price.OnDemand,
		GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: count, USDPerHour: usd}
}

func snapshot(qs ...price.Quote) *price.Snapshot { return &price.Snapshot{Quotes: qs} }

func fastSettings() Settings {
	return Settings{Interval: 20 * time.Millisecond, Timeout: time.Second, StaleAfter: time.Hour, MaxGPUUSDPerHour: 200}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// waitFor polls cond until it holds or fails the test after 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// captureHandler keeps every record logged through it, for tests that
// check what was logged rather than how it reads.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func newCaptureHandler() *captureHandler {
	return &captureHandler{mu: &sync.Mutex{}, records: &[]slog.Record{}}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, r)
	return nil
}
func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}
func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// logged returns the records at level whose message is msg, each as its
// attributes.
func (h *captureHandler) logged(level slog.Level, msg string) []map[string]slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range *h.records {
		if r.Level != level || r.Message != msg {
			continue
		}
		attrs := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
		out = append(out, attrs)
	}
	return out
}
