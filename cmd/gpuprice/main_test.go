package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// TestMain lets a test run the real binary's main as a child process: the
// test binary re-executes itself with GPUPRICE_TEST_MAIN=1. It stops the
// PostgreSQL server the postgres tests start (pgtest).
func TestMain(m *testing.M) {
	if os.Getenv("GPUPRICE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

// providerFakes are stand-ins for the real provider APIs, on their own
// ports, as a proxy or mirror would be.
type providerFakes struct {
	azure   *fakecloud.Azure
	vast    *fakecloud.VastAI
	servers []*fakecloud.Server
	urls    map[string]string
}

func startProviderFakes(t *testing.T) *providerFakes {
	t.Helper()
	f := &providerFakes{
		azure: fakecloud.NewAzure(fakecloud.AzureOptions{PageSize: 40}),
		vast:  fakecloud.NewVastAI(fakecloud.VastAIOptions{}),
		urls:  map[string]string{},
	}
	for name, h := range map[string]http.Handler{"azure": f.azure, "vastai": f.vast} {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			t.Fatal(err)
		}
		f.servers = append(f.servers, s)
		f.urls[name] = s.URL
	}
	t.Cleanup(func() {
		for _, s := range f.servers {
			s.Close()
		}
	})
	return f
}

// writeConfig writes a config pointing every provider at f.
func writeConfig(t *testing.T, dir string, f *providerFakes, extra string) string {
	t.Helper()
	text := fmt.Sprintf(`providers:
  azure:
    interval: 1h
    rate_limit: 200
    concurrency: 8
    endpoint: %s%s
  vastai:
    interval: 1h
    rate_limit: 50
    endpoint: %s%s
  runpod:
    enabled: false # on by default, and tests never call a real provider
%s`, f.urls["azure"], fakecloud.AzurePath, f.urls["vastai"], fakecloud.VastAIBasePath, extra)
	path := filepath.Join(dir, "gpuprice.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func options(addr, storage string) daemonOptions {
	addrs := []string{addr}
	systemd := false
	cfgFile := ""
	lifecycle := true // the tests reload over HTTP; the flag's default is off (TestLifecycleFlag)
	return daemonOptions{
		web:             &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &cfgFile},
		storagePath:     &storage,
		disableRuntime:  new(bool),
		enableLifecycle: &lifecycle,
		maxQueries:      new(int),   // no bound
		maxExportRows:   new(int64), // no bound
	}
}

// daemon runs serve in-process until the test stops it.
type daemon struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func startServe(t *testing.T, configFile, storage string) *daemon {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{base: "http://" + addr, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(d.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { d.done <- runServe(ctx, logger, configFile, options(addr, storage)) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t *testing.T) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("daemon returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not stop within 15s")
	}
}

func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 50ms for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 20*time.Second, what, cond)
}

// waitWithin polls cond every 50ms for up to d.
func waitWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) metricsHave(t *testing.T, wants ...string) func() bool {
	return func() bool {
		_, body := d.get(t, "/metrics")
		for _, w := range wants {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	}
}

const h100EastUS = `gpuprice_instance_usd_per_hour{provider="azure",instance_type="Standard_ND96isr_H100_v5",region="eastus",zone="",geo="na",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",gpu_count="8"} 98.32`

// TestServeEndToEnd runs the daemon on a config file pointing at servers
// that speak the real Azure and Vast.ai protocols, then restarts it while
// those servers hang, to check that history and the last known prices
// survive.
func TestServeEndToEnd(t *testing.T) {
	f := startProviderFakes(t)
	dir := t.TempDir()
	storage := filepath.Join(dir, "store")
	cfg := writeConfig(t, dir, f, "")

	d := startServe(t, cfg, storage)
	waitFor(t, "ready", func() bool { code, _ := d.get(t, "/-/ready"); return code == 200 })
	waitFor(t, "both providers in /metrics", d.metricsHave(t, h100EastUS,
		`gpuprice_gpu_usd_per_hour{provider="vastai"`, `gpuprice_collector_success{provider="azure"} 1`,
		`gpuprice_collector_success{provider="vastai"} 1`, `gpuprice_market_gpu_usd_per_hour_count{provider="vastai"`))

	code, body := d.get(t, "/api/v1/prices?provider=azure&instance_type=Standard_ND96isr_H100_v5&region=eastus&pricing_model=on_demand")
	var prices struct {
		Data []struct {
			USDPerHour    float64 `json:"usd_per_hour"`
			GPUUSDPerHour float64 `json:"gpu_usd_per_hour"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &prices); code != 200 || err != nil || len(prices.Data) != 1 {
		t.Fatalf("prices: %d %v %s", code, err, body)
	}
	if p := prices.Data[0]; p.USDPerHour != 98.32 || p.GPUUSDPerHour != 12.29 {
		t.Errorf("ND96isr_H100_v5 eastus: %+v, want 98.32 per hour, 12.29 per GPU-hour", p)
	}
	if code, body := d.get(t, "/api/v1/cheapest?gpu_model=H100&format=csv"); code != 200 || !strings.HasPrefix(body, "provider,instance_type,") {
		t.Errorf("cheapest CSV: %d %.200s", code, body)
	}
	if code, body := d.get(t, "/api/v1/prices?gpu_modle=H100"); code != 400 || !strings.Contains(body, "gpu_modle") {
		t.Errorf("misspelt parameter: %d %s", code, body)
	}

	// A bad config on reload is refused and the old one kept.
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(good, []byte("bogus_key: 1\n")...), 0o644)
	resp, err := http.Post(d.base+"/-/reload", "", nil)
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("reload of a bad config: %v %v", resp, err)
	}
	waitFor(t, "reload failure metric", d.metricsHave(t, "gpuprice_config_last_reload_successful 0", h100EastUS))
	os.WriteFile(cfg, good, 0o644)
	if resp, err := http.Post(d.base+"/-/reload", "", nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("reload of a good config: %v %v", resp, err)
	}
	waitFor(t, "reload success metric", d.metricsHave(t, "gpuprice_config_last_reload_successful 1"))
	d.stop(t)
	if !strings.Contains(d.logs.String(), "shutting down") {
		t.Error("no shutdown log line")
	}

	// Restart while every provider hangs: the last known prices are served
	// from the store at once, and history is still there.
	f.azure.Faults.Add(fakecloud.Fault{Kind: fakecloud.Hang})
	f.vast.Faults.Add(fakecloud.Fault{Kind: fakecloud.Hang})
	d2 := startServe(t, cfg, storage)
	waitFor(t, "ready after restart", func() bool { code, _ := d2.get(t, "/-/ready"); return code == 200 })
	if !d2.metricsHave(t, h100EastUS, `gpuprice_gpu_usd_per_hour{provider="vastai"`)() {
		t.Error("last known prices not served after restart")
	}
	code, body = d2.get(t, "/api/v1/history?provider=azure&instance_type=Standard_ND96isr_H100_v5&region=eastus&pricing_model=on_demand&start=0")
	if code != 200 || !strings.Contains(body, `"usd_per_hour":98.32`) {
		t.Errorf("history after restart: %d %.300s", code, body)
	}
}

// TestProviderFailureIsolated: a provider that only answers 503 shows as
// failing, exports no price, and does not hold back the other one.
func TestProviderFailureIsolated(t *testing.T) {
	f := startProviderFakes(t)
	f.azure.Faults.Add(fakecloud.Fault{Kind: fakecloud.Status5xx})
	dir := t.TempDir()
	d := startServe(t, writeConfig(t, dir, f, ""), filepath.Join(dir, "store"))
	waitFor(t, "vastai up, azure failing", d.metricsHave(t,
		`gpuprice_collector_success{provider="vastai"} 1`, `gpuprice_collector_success{provider="azure"} 0`,
		`gpuprice_collector_errors_total{provider="azure",reason="http_5xx"} 1`))
	if d.metricsHave(t, `gpuprice_gpu_usd_per_hour{provider="azure"`)() {
		t.Error("a failing provider exports prices")
	}
	code, body := d.get(t, "/api/v1/providers?provider=azure")
	if code != 200 || !strings.Contains(body, "HTTP 503") {
		t.Errorf("providers: %d %s", code, body)
	}
}

func TestBadConfigStopsStartup(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpuprice.yml")
	os.WriteFile(cfg, []byte("providers:\n  vastai:\n    interval: 1s\n"), 0o644)
	err := runServe(context.Background(), slog.New(slog.DiscardHandler), cfg, options(freeAddr(t), filepath.Join(dir, "s")))
	want := cfg + ":3: providers.vastai.interval: 1s is below the minimum of 5s"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestSIGTERM runs the real binary, stops it with SIGTERM, and checks that
// it exits 0 having closed the store (which another process can then open).
func TestSIGTERM(t *testing.T) {
	f := startProviderFakes(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, f, "")
	storage := filepath.Join(dir, "store")
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--config.file="+cfg, "--storage.path="+storage, "--web.listen-address="+addr)
	cmd.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{base: "http://" + addr}
	waitFor(t, "child ready", func() bool { code, _ := d.get(t, "/-/ready"); return code == 200 })
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "reload on SIGHUP", func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no exit 15s after SIGTERM\n%s", logs.String())
	}
	st, err := sqlite.Open(storage, sqlite.Options{})
	if err != nil {
		t.Fatalf("store not released: %v", err)
	}
	st.Close()
}

func TestCollectDemoCSV(t *testing.T) {
	var out bytes.Buffer
	cfgFile, format, demo, timeout := "", "csv", true, time.Duration(0)
	providers := []string{"azure"}
	err := runCollect(slog.New(slog.DiscardHandler), collectOptions{config: &cfgFile, providers: &providers, format: &format, demo: &demo, timeout: &timeout}, &out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 100 || rows[0][0] != "provider" {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		if r[0] != "azure" {
			t.Fatalf("row of provider %q, want only azure", r[0])
		}
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gpuprice.yml")
	os.WriteFile(cfg, []byte("providers:\n  azure:\n    interval: 30m\n  vastai:\n    enabled: false\n"), 0o644)
	out, err := os.CreateTemp(dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkConfig(cfg, out); err != nil {
		t.Fatal(err)
	}
	out.Seek(0, 0)
	text, _ := io.ReadAll(bufio.NewReader(out))
	if !strings.Contains(string(text), "OK") || !strings.Contains(string(text), "azure (every 30m)") || strings.Contains(string(text), "vastai") {
		t.Errorf("check-config output:\n%s", text)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
