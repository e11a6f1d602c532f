package main

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

// TestLifecycleFlag: POST /-/reload works only with --web.enable-lifecycle,
// which is off by default (the Prometheus convention).
func TestLifecycleFlag(t *testing.T) {
	app := kingpin.New("t", "")
	opts := daemonFlags(app.Command("serve", ""))
	if _, err := app.Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	if *opts.enableLifecycle {
		t.Fatal("--web.enable-lifecycle is on by default")
	}
	for _, enabled := range []bool{false, true} {
		addr := freeAddr(t)
		o := options(addr, filepath.Join(t.TempDir(), "store"))
		*o.enableLifecycle = enabled
		startNoProviders(t, addr, o)
		resp, err := http.Post("http://"+addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusForbidden
		if enabled {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("lifecycle enabled=%v: POST /-/reload answered %d, want %d", enabled, resp.StatusCode, want)
		}
	}
}

// TestQueryFlagDefaults: the daemon bounds history queries by default.
func TestQueryFlagDefaults(t *testing.T) {
	app := kingpin.New("t", "")
	opts := daemonFlags(app.Command("serve", ""))
	if _, err := app.Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	if *opts.maxQueries != 4 || *opts.maxExportRows != 5_000_000 {
		t.Errorf("--query.max-concurrency %d, --query.max-export-rows %d; want 4 and 5000000", *opts.maxQueries, *opts.maxExportRows)
	}
}
