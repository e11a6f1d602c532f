package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// historyStore is a store, held open as a daemon would hold it, with two
// H100 spot series per GPU-hour: aws 5 from t0, 6 from +1h; vastai 4 from
// t0+30m, withdrawn at +2h. Neither provider has refreshes logged (the
// points are backfilled), so prices hold until their next point.
func historyStore(t *testing.T) (string, *sqlite.Store, time.Time) {
	t.Helper()
	dir := t.TempDir()
	s, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	q := func(provider string, usd float64, at time.Duration) price.Quote {
		return price.Quote{Provider: provider, InstanceType: "8x_H100", Region: "us", Geo: "na", PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: usd, EffectiveAt: t0.Add(at)}
	}
	if _, err := s.Backfill(t.Context(), []price.Quote{q("aws", 40, 0), q("aws", 48, time.Hour), q("vastai", 32, 30*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// The withdrawal comes from a refresh that no longer lists vastai's
	// shape; it is vastai's only logged refresh, so from then on its
	// prices would need that log (none follow).
	_, err = s.Record(t.Context(), store.Poll{Provider: "vastai", Start: t0.Add(2*time.Hour - time.Second), Duration: time.Second, OK: true},
		&price.Snapshot{Provider: "vastai", Time: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return dir, s, t0
}

// runCLI parses args as the command cmd would and runs it.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := kingpin.New("gpuprice", "")
	hist := app.Command("history", "")
	ho := historyFlags(hist)
	exp := app.Command("export", "")
	eo := exportFlags(exp)
	cmd, err := app.Parse(args)
	if err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	logger := slog.New(slog.DiscardHandler)
	var out bytes.Buffer
	switch cmd {
	case "history":
		err = runHistory(t.Context(), logger, ho, &out)
	case "export":
		err = runExport(t.Context(), logger, eo, os.Stdout)
	}
	return out.String(), err
}

func TestHistoryCommand(t *testing.T) {
	dir, s, t0 := historyStore(t)
	srv := apiServer(s)
	defer srv.Close()
	window := []string{"--start=" + t0.Format(time.RFC3339), "--end=" + t0.Add(3*time.Hour).Format(time.RFC3339)}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"min by provider, per GPU-hour", []string{"--step=1h", "--agg=min", "--by=provider"}, `
PROVIDER  INSTANCE_TYPE  REGION  ZONE  PRICING  GPU   TIME                  USD/GPU-H
aws       8x_H100        us            spot     H100  2025-06-01T00:00:00Z  5
aws       8x_H100        us            spot     H100  2025-06-01T01:00:00Z  6
aws       8x_H100        us            spot     H100  2025-06-01T02:00:00Z  6
aws       8x_H100        us            spot     H100  2025-06-01T03:00:00Z  6
vastai    8x_H100        us            spot     H100  2025-06-01T01:00:00Z  4
`},
		{"raw points", []string{"--provider=vastai"}, `
PROVIDER  INSTANCE_TYPE  REGION  ZONE  PRICING  GPU   TIME                  USD/H      USD/GPU-H
vastai    8x_H100        us            spot     H100  2025-06-01T00:30:00Z  32         4
vastai    8x_H100        us            spot     H100  2025-06-01T02:00:00Z  withdrawn
`},
		{"csv per instance", []string{"--provider=aws", "--step=2h", "--price=instance", "--format=csv"}, `
provider,instance_type,region,zone,geo,pricing_model,gpu_model,gpu_form,gpu_memory_gb,gpu_count,time,usd_per_hour
aws,8x_H100,us,,na,spot,H100,sxm,80,8,2025-06-01T00:00:00Z,40
aws,8x_H100,us,,na,spot,H100,sxm,80,8,2025-06-01T02:00:00Z,48
`},
		// aws: 5 for 1h, 6 for 2h: mean 17/3, median 6.
		{"stats", []string{"--provider=aws", "--stats", "--below=5.5"}, `
PROVIDER  INSTANCE_TYPE  REGION  ZONE  PRICING  GPU   SERIES  COVERAGE  MIN  P10  MEDIAN  MEAN    P90  MAX  VOLATILITY  SHARE_BELOW  CHANGES
aws       8x_H100        us            spot     H100  1       1         5    5    6       5.6667  6    6    0.0832      0.3333       1
`},
	}
	for _, tt := range tests {
		for _, where := range []string{"--storage.path=" + dir, "--server=" + srv.URL} {
			t.Run(tt.name+" "+strings.SplitN(where, "=", 2)[0], func(t *testing.T) {
				got, err := runCLI(t, append(append([]string{"history", where, "--gpu_model=H100"}, window...), tt.args...)...)
				if err != nil {
					t.Fatal(err)
				}
				if got := trimLines(got); got != strings.TrimPrefix(tt.want, "\n") {
					t.Errorf("\n got:\n%s\nwant:\n%s", got, strings.TrimPrefix(tt.want, "\n"))
				}
			})
		}
	}
	t.Run("errors are the API's", func(t *testing.T) {
		for _, where := range []string{"--storage.path=" + dir, "--server=" + srv.URL} {
			_, err := runCLI(t, "history", where, "--agg=median", "--step=1h")
			if err == nil || !strings.HasSuffix(err.Error(), `bad parameter "agg": "median" is not one of min, max, avg, p10, p50, p90`) {
				t.Errorf("%s: %v", where, err)
			}
		}
	})
	t.Run("no store", func(t *testing.T) {
		_, err := runCLI(t, "history", "--storage.path="+filepath.Join(dir, "nope"))
		if err == nil || !strings.Contains(err.Error(), "does not exist (give --storage.path, or --server") {
			t.Errorf("%v", err)
		}
	})
}

// apiServer serves the API over s, as a daemon would.
func apiServer(s store.Reader) *httptest.Server {
	mux := http.NewServeMux()
	api.New(api.Options{Store: s}).Register(mux)
	return httptest.NewServer(mux)
}

// trimLines drops the spaces tabwriter leaves at the ends of lines.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func TestExportCommand(t *testing.T) {
	dir, s, _ := historyStore(t)
	srv := apiServer(s)
	defer srv.Close()
	for _, where := range []string{"--storage.path=" + dir, "--server=" + srv.URL} {
		t.Run(strings.SplitN(where, "=", 2)[0], func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "h100.csv")
			if _, err := runCLI(t, "export", where, "--provider=aws", "-o", out); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			want := "provider,instance_type,region,zone,geo,pricing_model,gpu_model,gpu_form,gpu_memory_gb,gpu_count,gpu_raw,currency,time,usd_per_hour,gpu_usd_per_hour,withdrawn,currency_per_hour\n" +
				"aws,8x_H100,us,,na,spot,H100,sxm,80,8,,,2025-06-01T00:00:00Z,40,5,false,\n" +
				"aws,8x_H100,us,,na,spot,H100,sxm,80,8,,,2025-06-01T01:00:00Z,48,6,false,\n"
			if string(got) != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v (%v)", fi.Mode(), err)
			}

			// OpenMetrics ends with # EOF; a failed export leaves no file.
			om := filepath.Join(t.TempDir(), "h100.om.txt")
			if _, err := runCLI(t, "export", where, "--format=openmetrics", "--end=2025-06-01T03:00:00Z", "-o", om); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(om); !bytes.HasSuffix(b, []byte("\n# EOF\n")) || !bytes.Contains(b, []byte(`gpuprice_gpu_usd_per_hour{provider="vastai"`)) {
				t.Errorf("openmetrics export:\n%s", b)
			}
			bad := filepath.Join(t.TempDir(), "bad.om.txt")
			_, err = runCLI(t, "export", where, "--format=openmetrics", "--export.resolution=10m", "-o", bad)
			if err == nil || !strings.Contains(err.Error(), `bad parameter "resolution"`) {
				t.Errorf("resolution 10m: %v", err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(bad)); len(entries) != 0 {
				t.Errorf("a failed export left %v", entries)
			}
		})
	}
}

func TestTableLabelsAreLabels(t *testing.T) {
	for _, name := range tableLabels {
		if price.LabelNamed(name) == nil {
			t.Errorf("table label %q is not in price.Labels", name)
		}
	}
}

// TestHistoryPlot draws the test store's two series as a chart: a line
// and a legend entry each, dollars on the Y axis, times on the X axis, and
// no escape sequences off a terminal.
func TestHistoryPlot(t *testing.T) {
	dir, _, t0 := historyStore(t)
	window := []string{"--storage.path=" + dir, "--start=" + t0.Format(time.RFC3339), "--end=" + t0.Add(3*time.Hour).Format(time.RFC3339)}
	out, err := runCLI(t, append([]string{"history", "--plot", "--plot.width=40", "--plot.height=8"}, window...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		" 6.00 ┤", " 5.00 ┼", " 4.00 ┤     •••", // aws from 5 to 6; vastai's 4 from its first sample
		"06-01 00:00", "06-01 03:00",
		"USD/GPU-h, every 5m, 2025-06-01 00:00 to 2025-06-01 03:00 UTC", // 3h over 39 steps: 4m37s, rounded up
		"─ aws   • vastai",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("escape sequences off a terminal")
	}
	// vastai's line stops where it was withdrawn: its last dot is left of
	// aws's line end.
	lines := strings.Split(out, "\n")
	var awsEnd, vastaiEnd int
	for _, l := range lines {
		if i := strings.LastIndex(l, "•"); i >= 0 {
			vastaiEnd = max(vastaiEnd, len([]rune(l[:i])))
		}
		if i := strings.LastIndexAny(l, "─╯╮"); i >= 0 && strings.Contains(l, "┤") {
			awsEnd = max(awsEnd, len([]rune(l[:i])))
		}
	}
	if vastaiEnd == 0 || vastaiEnd >= awsEnd {
		t.Errorf("vastai ends at column %d, aws at %d: want vastai's gap after its withdrawal", vastaiEnd, awsEnd)
	}

	// One series, by the aggregation: named by its group.
	out, err = runCLI(t, append([]string{"history", "--plot", "--plot.width=30", "--step=30m", "--agg=min", "--by=gpu_model"}, window...)...)
	if err != nil || !strings.Contains(out, "\n        H100\n") || !strings.Contains(out, "every 30m") {
		t.Errorf("min by gpu_model: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stats"}, "--plot draws resampled series: it goes with neither --stats nor --format"},
		{[]string{"--format=csv"}, "--plot draws resampled series: it goes with neither --stats nor --format"},
		{[]string{"--provider=nope"}, "no series match: nothing to plot"},
		{[]string{"--start=yesterday"}, `--start: "yesterday" is not an RFC 3339 time or unix seconds`},
	} {
		_, err := runCLI(t, append([]string{"history", "--plot", "--storage.path=" + dir}, tc.args...)...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %s", tc.args, err, tc.want)
		}
	}
}

func TestPlotStep(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		start, end string
		width      int
		want       string
	}{
		{"", "", 101, "1h41m"}, // the API's default 7 days over 100 steps: 1h40.8m
		{"2026-11-30T23:58:00Z", "", 61, "2s"},
		{"2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 31, "1d"},
		{"1764547200", "1764550800", 61, "1m"},
	} {
		got, err := plotStep(tc.start, tc.end, tc.width, now)
		if err != nil || got != tc.want {
			t.Errorf("plotStep(%q, %q, %d) = %q, %v; want %q", tc.start, tc.end, tc.width, got, err, tc.want)
		}
	}
}
