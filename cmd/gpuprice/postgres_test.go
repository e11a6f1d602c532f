package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

// TestServePostgresDownAtStartup starts the daemon on a PostgreSQL store
// whose server is down: it serves /-/healthy, says on /-/ready why it is
// not ready (without the password, there or in its logs), retries, and
// once the server is up opens the store, refreshes and becomes ready; the
// history commands read the same store.
func TestServePostgresDownAtStartup(t *testing.T) {
	srv := pgtest.New(t)
	dsn := srv.Schema(t, pgtest.Unique(t))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	defer func(b struct{ first, max time.Duration }) { openBackoff = b }(openBackoff)
	openBackoff.first, openBackoff.max = 20*time.Millisecond, 200*time.Millisecond

	f := startProviderFakes(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := writeConfig(t, dir, f, "storage:\n  driver: postgres\n  dsn_file: dsn\n")
	d := startServe(t, cfgFile, "")

	waitFor(t, "healthy", func() bool { code, _ := d.get(t, "/-/healthy"); return code == 200 })
	var why string
	waitFor(t, "a reason on /-/ready", func() bool {
		code, body := d.get(t, "/-/ready")
		why = body
		return code == 503 && strings.Contains(body, "retrying in")
	})
	if !strings.HasPrefix(why, "Not ready: history store: connect to postgres://gpuprice@127.0.0.1:") || !strings.Contains(why, "connection refused") {
		t.Errorf("/-/ready: %q, want the connection failure", why)
	}
	if code, body := d.get(t, "/api/v1/history?provider=azure&start=0"); code == 200 {
		t.Errorf("history without a store: %d %.200s", code, body)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ready once the database is up", func() bool { code, _ := d.get(t, "/-/ready"); return code == 200 })
	waitFor(t, "both providers in /metrics", d.metricsHave(t, h100EastUS, `gpuprice_collector_success{provider="vastai"} 1`))
	var body string
	waitFor(t, "history in the database", func() bool {
		var code int
		code, body = d.get(t, "/api/v1/history?provider=azure&instance_type=Standard_ND96isr_H100_v5&region=eastus&pricing_model=on_demand&start=0")
		return code == 200 && strings.Contains(body, `"usd_per_hour":98.32`)
	})
	_, providers := d.get(t, "/api/v1/providers")
	d.stop(t)

	cfg, err := config.LoadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := openReader(t.Context(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	series, err := r.History(t.Context(), store.Query{Provider: "vastai"})
	if err != nil || len(series) == 0 {
		t.Errorf("history command's reader: %d series, %v", len(series), err)
	}

	for what, text := range map[string]string{"/-/ready": why, "/api/v1/providers": providers, "the logs": d.logs.String()} {
		if strings.Contains(text, srv.Password()) {
			t.Errorf("%s show the database password:\n%s", what, text)
		}
	}
	if !strings.Contains(d.logs.String(), "cannot open the store; retrying") || !strings.Contains(d.logs.String(), "store opened") {
		t.Errorf("logs lack the retries or the opening:\n%s", d.logs)
	}
}
