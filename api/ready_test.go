package api

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
)

// TestReady: /-/ready is 200 only when the store answers and at least one
// provider has published prices (or had them loaded from the store), and
// its body names the providers that are failing either way.
func TestReady(t *testing.T) {
	failed := func(name, err string) *collectors.State {
		return &collectors.State{Provider: name, Attempts: 3, LastAttempt: t0, LastError: err, Errors: map[string]uint64{"http_5xx": 3}}
	}
	serving := &collectors.State{Provider: "vastai", Success: true, Attempts: 1, LastAttempt: t0, LastSuccess: t0}
	seeded := &collectors.State{Provider: "vastai", Success: true, LastSuccess: t0.Add(-time.Minute)}
	pending := &collectors.State{Provider: "lambda"}
	stale := &collectors.State{Provider: "runpod", Stale: true, Attempts: 9, LastSuccess: t0.Add(-2 * time.Hour), LastError: "HTTP 503"}
	storeDown := errors.New("disk I/O error")

	tests := []struct {
		name   string
		states []*collectors.State
		ping   error
		status int
		body   string
	}{
		{"every provider failed since start", []*collectors.State{failed("azure", "HTTP 503"), failed("vastai", "connection refused")}, nil, 503,
			"Not ready: no provider has published prices yet\nfailing providers:\n  azure: last refresh failed: HTTP 503\n  vastai: last refresh failed: connection refused\n"},
		{"first refreshes running", []*collectors.State{pending}, nil, 503,
			"Not ready: no provider has published prices yet\nfailing providers:\n  lambda: no refresh finished yet\n"},
		{"no provider enabled", nil, nil, 503, "Not ready: no provider is enabled\n"},
		{"one serving, one failing", []*collectors.State{failed("azure", "HTTP 503"), serving}, nil, 200,
			"Ready\nfailing providers:\n  azure: last refresh failed: HTTP 503\n"},
		{"all serving", []*collectors.State{serving}, nil, 200, "Ready\n"},
		{"prices loaded from the store", []*collectors.State{seeded, pending}, nil, 200,
			"Ready\nfailing providers:\n  lambda: no refresh finished yet\n"},
		{"stale counts as published since start", []*collectors.State{stale}, nil, 200,
			"Ready\nfailing providers:\n  runpod: prices withdrawn as stale (no successful refresh since 2025-06-01T10:00:00Z); last error: HTTP 503\n"},
		{"store down", []*collectors.State{serving}, storeDown, 503, "Not ready: the store does not answer: disk I/O error\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) {
				o.States = func() []*collectors.State { return tt.states }
				o.Ping = func(context.Context) error { return tt.ping }
			})
			rec := ts.do(http.MethodGet, "/-/ready")
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %q\nwant %d %q", rec.Code, rec.Body, tt.status, tt.body)
			}
		})
	}
}
