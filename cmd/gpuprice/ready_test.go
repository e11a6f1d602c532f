package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/fakecloud"
)

// TestReadyMeansPrices: a daemon whose every provider has failed since
// start is not ready, and says which providers fail; it is ready once one
// of them publishes.
func TestReadyMeansPrices(t *testing.T) {
	f := startProviderFakes(t)
	f.azure.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	f.vast.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	dir := t.TempDir()
	d := startServe(t, writeConfig(t, dir, f, ""), filepath.Join(dir, "store"))
	waitFor(t, "both providers failed", d.metricsHave(t,
		`gpuprice_collector_errors_total{provider="azure",reason="http_5xx"} 1`,
		`gpuprice_collector_errors_total{provider="vastai",reason="http_5xx"} 1`))
	code, body := d.get(t, "/-/ready")
	if code != 503 || !strings.HasPrefix(body, "Not ready: no provider has published prices yet") ||
		!strings.Contains(body, "\n  azure: last refresh failed: ") || !strings.Contains(body, "\n  vastai: last refresh failed: ") {
		t.Errorf("/-/ready with every provider failing: %d %q", code, body)
	}
	f.vast.Faults.Clear()
	waitFor(t, "ready once vastai publishes", func() bool { code, _ := d.get(t, "/-/ready"); return code == 200 })
	if _, body := d.get(t, "/-/ready"); !strings.HasPrefix(body, "Ready\nfailing providers:\n  azure: last refresh failed: ") {
		t.Errorf("/-/ready body with azure failing: %q", body)
	}
}
