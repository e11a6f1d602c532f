package api

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/gpuprice/gpuprice/price"
)

func TestProviders(t *testing.T) {
	ts := newTestServer(t, nil)
	list := ts.getList(t, "/api/v1/providers")
	var names []string
	for _, p := range list {
		names = append(names, p["provider"].(string))
	}
	if want := []string{"aws", "azure", "lambda", "runpod", "vastai"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("providers %v, want %v", names, want)
	}
	tests := []struct {
		name string
		i    int
		want map[string]any
	}{
		{"serving", 0, map[string]any{
			"provider": "aws", "success": true, "last_attempt": "2025-06-01T11:59:55Z", "last_success": "2025-06-01T12:00:00Z",
			"last_duration_seconds": 5.0, "last_error": "", "interval_seconds": 600.0, "quotes": 4.0, "offers": 0.0,
			"stale": false, "attempts": 3.0, "errors": map[string]any{"http_5xx": 1.0}, "unknown_gpus": 0.0,
			"unknown_gpu_names": []any{}, "degraded": "",
		}},
		{"not refreshed yet", 2, map[string]any{
			"provider": "lambda", "success": false, "last_attempt": nil, "last_success": nil,
			"last_duration_seconds": 0.0, "last_error": "", "interval_seconds": 300.0, "quotes": 0.0, "offers": 0.0,
			"stale": false, "attempts": 0.0, "errors": map[string]any{}, "unknown_gpus": 0.0,
			"unknown_gpu_names": []any{}, "degraded": "",
		}},
		{"stale", 3, map[string]any{
			"provider": "runpod", "success": false, "last_attempt": "2025-06-01T11:59:50Z", "last_success": "2025-06-01T10:00:00Z",
			"last_duration_seconds": 1.5, "last_error": "runpod: 503 Service Unavailable", "interval_seconds": 300.0,
			"quotes": 0.0, "offers": 0.0, "stale": true, "attempts": 30.0,
			"errors": map[string]any{"http_5xx": 4.0, "timeout": 2.0}, "unknown_gpus": 0.0,
			"unknown_gpu_names": []any{}, "degraded": "",
		}},
		{"marketplace", 4, map[string]any{
			"provider": "vastai", "success": true, "last_attempt": "2025-06-01T11:59:59Z", "last_success": "2025-06-01T12:00:00Z",
			"last_duration_seconds": 0.8, "last_error": "", "interval_seconds": 120.0, "quotes": 4.0, "offers": 4.0,
			"stale": false, "attempts": 7.0, "errors": map[string]any{}, "unknown_gpus": 2.0,
			"unknown_gpu_names": []any{"CMP 170HX", "RTX 9090"},
			"degraded":          "3 quotes, the last good refresh had 8 (below 50%): the last good quotes are kept (suspect refresh 1 of 3)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(list[tt.i], tt.want) {
				t.Errorf("\n got %v\nwant %v", list[tt.i], tt.want)
			}
		})
	}
	t.Run("filter and CSV", func(t *testing.T) {
		rows := ts.getCSV(t, "/api/v1/providers?provider=RunPod,lambda&format=csv")
		want := [][]string{
			providerHeader,
			{"lambda", "false", "", "", "0", "", "300", "0", "0", "false", "0", "", "0", "", ""},
			{"runpod", "false", "2025-06-01T11:59:50Z", "2025-06-01T10:00:00Z", "1.5", "runpod: 503 Service Unavailable", "300",
				"0", "0", "true", "30", "http_5xx=4 timeout=2", "0", "", ""},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("\n got %q\nwant %q", rows, want)
		}
	})
}

func TestGPUs(t *testing.T) {
	ts := newTestServer(t, nil)
	catalog := price.DefaultCatalog()
	t.Run("catalog", func(t *testing.T) {
		list := ts.getList(t, "/api/v1/gpus")
		if len(list) != len(catalog.GPUs()) {
			t.Fatalf("%d GPUs, want %d", len(list), len(catalog.GPUs()))
		}
		g := catalog.GPUs()[0]
		want := map[string]any{"gpu_model": g.Model, "gpu_form": g.Form, "gpu_memory_gb": g.MemoryGB, "vendor": g.Vendor, "architecture": g.Architecture}
		if !reflect.DeepEqual(list[0], want) {
			t.Errorf("first GPU\n got %v\nwant %v", list[0], want)
		}
		rows := ts.getCSV(t, "/api/v1/gpus?format=csv")
		if !reflect.DeepEqual(rows[0], gpuHeader) || len(rows) != len(catalog.GPUs())+1 {
			t.Errorf("CSV header %v, %d rows", rows[0], len(rows))
		}
	})
	t.Run("aliases", func(t *testing.T) {
		list := ts.getList(t, "/api/v1/gpus?provider=azure")
		aliases := catalog.Aliases("azure")
		if len(aliases) == 0 || len(list) != len(aliases) {
			t.Fatalf("%d aliases, want %d", len(list), len(aliases))
		}
		var nv6 map[string]any
		for _, a := range list {
			if a["provider"] != "azure" {
				t.Errorf("alias of provider %v", a["provider"])
			}
			if a["raw"] == "Standard_NV6ads_A10_v5" {
				nv6 = a
			}
		}
		want := map[string]any{"provider": "azure", "raw": "Standard_NV6ads_A10_v5", "gpu_model": "A10", "gpu_form": "pcie", "gpu_memory_gb": 24.0, "gpu_count": 0.1667}
		if !reflect.DeepEqual(nv6, want) {
			t.Errorf("NV6ads alias\n got %v\nwant %v", nv6, want)
		}
		rows := ts.getCSV(t, "/api/v1/gpus?provider=azure,vastai&format=csv")
		if want := len(aliases) + len(catalog.Aliases("vastai")) + 1; !reflect.DeepEqual(rows[0], aliasHeader) || len(rows) != want {
			t.Errorf("CSV header %v, %d rows, want %d", rows[0], len(rows), want)
		}
	})
	t.Run("provider without aliases", func(t *testing.T) {
		if list := ts.getList(t, "/api/v1/gpus?provider=nosuch"); len(list) != 0 {
			t.Errorf("got %v", list)
		}
	})
}

func TestLifecycle(t *testing.T) {
	failReload := error(nil)
	ts := newTestServer(t, nil)
	ts.api.reload = func() error { ts.reloads++; return failReload }
	noReload := newTestServer(t, func(o *Options) { o.Reload = nil })
	why := newTestServer(t, func(o *Options) {
		o.NotReady = func() string { return "store: connection refused (retrying in 4s)" }
	})

	tests := []struct {
		name         string
		srv          *testServer
		setup        func()
		method, path string
		status       int
		body         string
		reloads      int
	}{
		{"healthy", ts, nil, http.MethodGet, "/-/healthy", 200, "Healthy\n", 0},
		{"healthy HEAD", ts, nil, http.MethodHead, "/-/healthy", 200, "", 0},
		{"not ready, and why", why, nil, http.MethodGet, "/-/ready", 503, "Not ready: store: connection refused (retrying in 4s)\n", 0},
		{"reload", ts, nil, http.MethodPost, "/-/reload", 200, "Reloaded\n", 1},
		{"reload fails", ts, func() { failReload = errors.New("config line 3: unknown key \"intervall\"") },
			http.MethodPost, "/-/reload", 500, `{"error":"reload failed, the previous configuration is kept: config line 3: unknown key \"intervall\""}` + "\n", 2},
		{"reload needs POST", ts, nil, http.MethodGet, "/-/reload", 405, "", 2},
		{"reload disabled", noReload, nil, http.MethodPost, "/-/reload", 403, `{"error":"reload over HTTP is disabled: start gpuprice with --web.enable-lifecycle, or send it SIGHUP"}` + "\n", 0},
		{"API needs GET", ts, nil, http.MethodPost, "/api/v1/prices", 405, "", 2},
		{"unknown path", ts, nil, http.MethodGet, "/api/v1/nope", 404, "", 2},
		{"unknown path below /", ts, nil, http.MethodGet, "/favicon.ico", 404, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			rec := tt.srv.do(tt.method, tt.path)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body, tt.body)
			}
			if tt.srv.reloads != tt.reloads {
				t.Errorf("%d reloads, want %d", tt.srv.reloads, tt.reloads)
			}
		})
	}
}
