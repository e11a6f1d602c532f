package aws

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/exporter"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// daemon is the serve wiring of cmd/gpuprice for one provider: store,
// Runner (seeded from the store), exporter and API.
type daemon struct {
	st     *sqlite.Store
	runner *collectors.Runner
	exp    *exporter.Exporter
	mux    *http.ServeMux
}

func startDaemon(t *testing.T, cfg *config.Config, dir string) *daemon {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	d := &daemon{st: openStore(t, dir), mux: http.NewServeMux()}
	d.runner = collectors.NewRunner(logger, d.st, func() { d.exp.Invalidate() })
	d.exp = exporter.New(exporter.Options{States: d.runner.States, Logger: logger})
	seeds, err := d.st.LastKnown(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d.runner.Seed(seeds)
	ps, err := collectors.Build(cfg, logger, price.DefaultCatalog(), d.st)
	if err != nil {
		t.Fatal(err)
	}
	d.runner.Apply(ps)
	api.New(api.Options{States: d.runner.States, Ping: d.st.Ping, Store: d.st, Logger: logger}).Register(d.mux)
	return d
}

// waitRefresh waits for the provider's first refresh in this process.
func (d *daemon) waitRefresh(t *testing.T) *collectors.State {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ss := d.runner.States(); len(ss) == 1 && ss[0].Attempts > 0 {
			if !ss[0].Success {
				t.Fatalf("refresh failed: %s", ss[0].LastError)
			}
			return ss[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no refresh within 60s")
	return nil
}

func (d *daemon) stop() {
	d.runner.Stop()
	d.st.Close()
}

func (d *daemon) get(t *testing.T, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	if path == "/metrics" {
		d.exp.Render()
		d.exp.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	} else {
		d.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	}
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", path, rec.Code, body)
	}
	return string(body)
}

// historyPoint is a point of /api/v1/history.
type historyPoint struct {
	Time       time.Time `json:"time"`
	USDPerHour float64   `json:"usd_per_hour"`
}

// spotHistory returns the spot history of one (type, zone) from the API.
func (d *daemon) spotHistory(t *testing.T, instanceType, zone string) []historyPoint {
	t.Helper()
	q := url.Values{"provider": {Name}, "instance_type": {instanceType}, "zone": {zone}, "pricing_model": {"spot"},
		"start": {time.Now().Add(-6 * 24 * time.Hour).UTC().Format(time.RFC3339)}}
	var out struct {
		Data []struct {
			Zone   string         `json:"zone"`
			Points []historyPoint `json:"points"`
		} `json:"data"`
	}
	body := d.get(t, "/api/v1/history?"+q.Encode())
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("history of %s %s: %v: %.300s", instanceType, zone, err, body)
	}
	if len(out.Data) != 1 || out.Data[0].Zone != zone {
		t.Fatalf("history of %s %s: %d series", instanceType, zone, len(out.Data))
	}
	return out.Data[0].Points
}

// TestServeBackfillAndRestart is the "done when": with credentials
// for the fake, the daemon's wiring (collectors.Build, Runner, SQLite
// store, exporter, API) exposes on-demand and per-zone spot prices for
// every GPU instance type of the configured regions, /api/v1/history
// returns the backfilled spot history with its original timestamps, and a
// restart neither fetches that history again nor duplicates it.
func TestServeBackfillAndRestart(t *testing.T) {
	// The fake runs on the real clock: the collector asks for "the last
	// three days" of it.
	f, u := startFake(t, fakecloud.AWSOptions{InstanceTypes: []string{"p5.48xlarge", "p4d.24xlarge", "g6.*", "g6f.large"}})
	cfg := config.Builtin()
	cfg.Providers.Each(func(_ string, s config.Section) { s.Shared().Enabled = false })
	regions := []string{"us-east-1", "eu-west-1"}
	a := testConfig(u, regions...)
	a.SpotBackfill = config.Duration(3 * 24 * time.Hour)
	a.Interval = config.Duration(time.Hour)
	a.StaleAfter = config.Duration(3 * time.Hour)
	cfg.Providers[Name] = &a
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// First start: backfill.
	d := startDaemon(t, cfg, dir)
	st := d.waitRefresh(t)
	firstEnd := time.Now()
	spot, onDemand := map[string][]string{}, map[string]bool{} // type → zones; type/region
	for _, q := range st.Snapshot.Quotes {
		switch q.PricingModel {
		case price.Spot:
			spot[q.InstanceType] = append(spot[q.InstanceType], q.Zone)
		case price.OnDemand:
			onDemand[q.InstanceType+"/"+q.Region] = true
		}
	}
	// us-east-1 offers all 11 types; eu-west-1 the g6 family at least.
	if len(spot) != 11 || !onDemand["p5.48xlarge/us-east-1"] || !onDemand["g6.xlarge/eu-west-1"] || !onDemand["g6f.large/us-east-1"] {
		t.Fatalf("spot types %d, on-demand %v: want all 11 types with spot per zone and on-demand per region", len(spot), onDemand)
	}
	metrics := d.get(t, "/metrics")
	for _, want := range []string{
		`gpuprice_instance_usd_per_hour{provider="aws",instance_type="p5.48xlarge",region="us-east-1",zone="",geo="na",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",gpu_count="8"} 55.04`,
		`gpuprice_gpu_usd_per_hour{provider="aws",instance_type="g6f.large",region="us-east-1",zone="",geo="na",pricing_model="on_demand",gpu_model="L4",gpu_form="pcie",gpu_memory_gb="24",gpu_count="0.125"} 1.6`,
		`gpuprice_instance_usd_per_hour{provider="aws",instance_type="g6.xlarge",region="eu-west-1",zone="eu-west-1a",geo="eu",pricing_model="spot"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The history: original timestamps, changes only, as the fake has it.
	history := map[string][]historyPoint{}
	total := 0
	for typ, zones := range spot {
		for _, zone := range zones {
			pts := d.spotHistory(t, typ, zone)
			if len(pts) < 2 {
				t.Fatalf("%s %s: %d points for three days", typ, zone, len(pts))
			}
			for i, p := range pts {
				h := f.SpotHistory(zone, typ, p.Time, p.Time)
				if len(h) != 1 || !h[0].Time.Equal(p.Time) || h[0].USD != p.USDPerHour {
					t.Fatalf("%s %s point %d %+v: the fake has %+v there", typ, zone, i, p, h)
				}
				if i > 0 && (!p.Time.After(pts[i-1].Time) || p.USDPerHour == pts[i-1].USDPerHour) {
					t.Fatalf("%s %s points %d, %d: %+v then %+v is not a change", typ, zone, i-1, i, pts[i-1], p)
				}
			}
			history[typ+" "+zone] = pts
			total += len(pts)
		}
	}
	t.Logf("first start: %d spot series, %d points", len(history), total)
	d.stop()

	// Restart: served from the store at once, then one incremental page
	// per region, nothing duplicated.
	calls := f.Calls()
	d = startDaemon(t, cfg, dir)
	defer d.stop()
	if ss := d.runner.States(); len(ss) != 1 || ss[0].Snapshot == nil || len(ss[0].Snapshot.Quotes) != len(st.Snapshot.Quotes) {
		t.Errorf("after the restart, the last known prices are not served before the first refresh")
	}
	d.waitRefresh(t)
	after := f.Calls()
	for _, r := range regions {
		key := "ec2 DescribeSpotPriceHistory " + r
		if n := after[key] - calls[key]; n != 1 {
			t.Errorf("%s: %d requests after the restart, want 1 (only what is new)", key, n)
		}
	}
	for key, before := range history {
		typ, zone, _ := strings.Cut(key, " ")
		pts := d.spotHistory(t, typ, zone)
		// Changes since the first refresh may have been added; the rest
		// is exactly what was there.
		if len(pts) < len(before) {
			t.Fatalf("%s: %d points after the restart, %d before", key, len(pts), len(before))
		}
		for i, p := range pts {
			if i < len(before) && (!p.Time.Equal(before[i].Time) || p.USDPerHour != before[i].USDPerHour) {
				t.Fatalf("%s point %d: %+v after the restart, %+v before", key, i, p, before[i])
			}
			if i >= len(before) && !p.Time.After(firstEnd.Add(-resumeMargin)) {
				t.Fatalf("%s: point %+v added by the restart is older than the first refresh", key, p)
			}
		}
	}
}
