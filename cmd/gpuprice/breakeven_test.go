package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/planner"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

var beEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// breakevenSetup writes a config with one owned H100 entry and a store
// holding two H100 on_demand series (3.0 and 2.0 per GPU-hour), and keeps
// the store open for writing, as a running daemon would.
func breakevenSetup(t *testing.T) (cfgPath, storeDir string, st *sqlite.Store, cfg *config.Config) {
	t.Helper()
	dir := t.TempDir()
	storeDir = filepath.Join(dir, "data")
	cfgPath = filepath.Join(dir, "gpuprice.yml")
	text := "storage: {path: " + storeDir + "}\n" + `owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, purchase_usd: 240000, amortization: 4y,
     power_watts: 10200, pue: 1.5, usd_per_kwh: 0.1, maintenance_usd_per_year: 12000, utilization: 0.5}
`
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if cfg, err = config.LoadFile(cfgPath); err != nil {
		t.Fatal(err)
	}
	if st, err = sqlite.Open(storeDir, sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := func(provider, instance string, usd float64) price.Quote {
		return price.Quote{Provider: provider, InstanceType: instance, Region: "us", PricingModel: price.OnDemand, GPUModel: "H100",
			GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: usd, EffectiveAt: beEnd.Add(-48 * time.Hour)}
	}
	if _, err := st.Backfill(context.Background(), []price.Quote{q("azure", "nd96", 24), q("vastai", "8x_H100", 16)}); err != nil {
		t.Fatal(err)
	}
	return cfgPath, storeDir, st, cfg
}

func breakevenArgs(t *testing.T, args ...string) breakevenOptions {
	t.Helper()
	app := kingpin.New("gpuprice", "")
	o := breakevenFlags(app.Command("breakeven", ""))
	if _, err := app.Parse(append([]string{"breakeven"}, args...)); err != nil {
		t.Fatal(err)
	}
	return o
}

var beRequest = []string{"--gpu_model=H100", "--gpu_hours=1460", "--months=12", "--window=1d", "--step=1h", "--end=" + beEnd.Format(time.RFC3339)}

// The same plan from the store (read-only, while "the daemon" holds it) and
// from a server's /api/v1/breakeven, printed the same way.
func TestBreakevenStoreAndServer(t *testing.T) {
	cfgPath, storeDir, st, cfg := breakevenSetup(t)

	var local bytes.Buffer
	o := breakevenArgs(t, append([]string{"--config.file=" + cfgPath, "--storage.path=" + storeDir}, beRequest...)...)
	if err := runBreakeven(context.Background(), o, &local); err != nil {
		t.Fatal(err)
	}
	// 1460 GPU-h a month: 2 owned GPUs busy all the time, c = 1.2186 per
	// GPU-hour, so 1779.225 a month; renting at the cheapest 2.0: 2920.
	for _, want := range []string{
		"Rent or buy H100: 1460 GPU-h a month; owning it takes ceil(1460 / 730) = 2 GPUs, over 12 months.",
		"on_demand  2          2    2       2     100%      1 day    vastai/8x_H100/us (100%)",
		"rent on_demand  2920       35040",
		"own lab-h100    1779.22    21350.70",
		"lab-h100    on_demand  2               1.218647                    61%        100%: buy",
		"Cheapest: own lab-h100.",
	} {
		if !strings.Contains(local.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, local.String())
		}
	}

	mux := http.NewServeMux()
	api.New(api.Options{Store: st, Config: func() *config.Config { return cfg }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var remote bytes.Buffer
	if err := runBreakeven(context.Background(), breakevenArgs(t, append([]string{"--server=" + srv.URL + "/"}, beRequest...)...), &remote); err != nil {
		t.Fatal(err)
	}
	if remote.String() != local.String() {
		t.Errorf("the server's plan prints differently:\n%s\nfrom the store's:\n%s", remote.String(), local.String())
	}

	var js bytes.Buffer
	if err := runBreakeven(context.Background(), breakevenArgs(t, append([]string{"--server=" + srv.URL, "--format=json"}, beRequest...)...), &js); err != nil {
		t.Fatal(err)
	}
	var p planner.Plan
	if err := json.Unmarshal(js.Bytes(), &p); err != nil || p.Cheapest != "own lab-h100" {
		t.Errorf("JSON plan: %v, cheapest %q", err, p.Cheapest)
	}
}

func TestBreakevenErrors(t *testing.T) {
	cfgPath, storeDir, st, cfg := breakevenSetup(t)
	mux := http.NewServeMux()
	api.New(api.Options{Store: st, Config: func() *config.Config { return cfg }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no workload, local", []string{"--config.file=" + cfgPath, "--gpu_model=H100"},
			"--gpu_hours: required: GPU-hours per month (or a profile: baseline_gpus, peak_gpus, peak_hours)"},
		{"no workload, server", []string{"--server=" + srv.URL, "--gpu_model=H100"},
			srv.URL + `: 400 Bad Request: bad parameter "gpu_hours": required: GPU-hours per month (or a profile: baseline_gpus, peak_gpus, peak_hours)`},
		{"no store", []string{"--storage.path=" + filepath.Join(storeDir, "nope"), "--gpu_model=H100", "--gpu_hours=1"},
			"no store in " + filepath.Join(storeDir, "nope") + ": gpuprice.db does not exist (give --storage.path, or --server to ask a running gpuprice)"},
		{"huge workload, local", []string{"--config.file=" + cfgPath, "--gpu_model=H100", "--gpu_hours=1e308"},
			"--gpu_hours: 1e+308 is out of range: allowed (0, 1000000000] GPU-hours per month"},
		{"huge workload, server", []string{"--server=" + srv.URL, "--gpu_model=H100", "--gpu_hours=1e308"},
			srv.URL + `: 400 Bad Request: bad parameter "gpu_hours": 1e+308 is out of range: allowed (0, 1000000000] GPU-hours per month`},
		{"bad window", []string{"--gpu_model=H100", "--gpu_hours=1", "--window=monthly"}, `--window: "monthly" is not a positive duration (like 30d or 1h)`},
		{"unknown GPU, local", []string{"--config.file=" + cfgPath, "--gpu_model=h10", "--gpu_hours=1"},
			`--gpu_model: "H10" is not a GPU model of the catalog; close matches: H100, H100NVL, A10, A100, A10G (every model: /api/v1/gpus)`},
		{"unknown GPU, server", []string{"--server=" + srv.URL, "--gpu_model=RTX 4090", "--gpu_hours=1"},
			srv.URL + `: 400 Bad Request: bad parameter "gpu_model": "RTX 4090" is not a GPU model of the catalog; close matches: RTX4090 (every model: /api/v1/gpus)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runBreakeven(context.Background(), breakevenArgs(t, tc.args...), &bytes.Buffer{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// The real binary has the command; an unknown GPU exits 1.
func TestBreakevenCommand(t *testing.T) {
	cfgPath, _, _, _ := breakevenSetup(t)
	cmd := exec.Command(os.Args[0], append([]string{"breakeven", "--config.file=" + cfgPath}, beRequest...)...)
	cmd.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Cheapest: own lab-h100.") {
		t.Errorf("gpuprice breakeven: %v\n%s", err, out)
	}

	cmd = exec.Command(os.Args[0], "breakeven", "--config.file="+cfgPath, "--gpu_model=A1000", "--gpu_hours=10")
	cmd.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), `"A1000" is not a GPU model of the catalog; close matches: A100`) {
		t.Errorf("unknown GPU: %v\n%s", err, out)
	}
}

// A window longer than the store's history: the plan says how many days
// its prices rest on, and warns, in the table and (for JSON) on stderr.
func TestBreakevenShortHistory(t *testing.T) {
	cfgPath, storeDir, _, _ := breakevenSetup(t)
	args := []string{"--config.file=" + cfgPath, "--storage.path=" + storeDir, "--gpu_model=H100", "--gpu_hours=1460",
		"--window=7d", "--step=1h", "--end=" + beEnd.Format(time.RFC3339)}
	var out bytes.Buffer
	if err := runBreakeven(context.Background(), breakevenArgs(t, args...), &out); err != nil {
		t.Fatal(err)
	}
	warn := "Warning: on_demand prices rest on 2 days of history (since 2026-10-30T00:00:00Z), fewer than the 1w window asked: the store has no earlier on_demand price of H100."
	if !strings.Contains(out.String(), warn) || !strings.Contains(out.String(), "29%       2 days") {
		t.Errorf("output lacks the warning or the 2 days of history:\n%s", out.String())
	}

	cmd := exec.Command(os.Args[0], append([]string{"breakeven", "--format=json"}, args...)...)
	cmd.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var p planner.Plan
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil || len(p.Warnings) != 1 || p.Prices[0].HistoryDays != 2 {
		t.Errorf("JSON: %v, warnings %q, history %v days", err, p.Warnings, p.Prices[0].HistoryDays)
	}
	if !strings.Contains(stderr.String(), "warning: on_demand prices rest on 2 days of history") {
		t.Errorf("stderr: %q", stderr.String())
	}
}
