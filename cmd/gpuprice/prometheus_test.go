package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/deploy"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/internal/integration"
)

// requireTool returns the path of a Debian tool, or skips the test when it
// is missing, unless GPUPRICE_REQUIRE_INTEGRATION is set (CI).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	return integration.Tool(t, name, pkg)
}

// TestPrometheusIntegration runs the daemon of `gpuprice demo` in-process
// (the demo's fakes and configuration, refreshing every 5s, with prices
// dipping as with --demo.dip=30s; integrationProviders only) and Debian's
// prometheus scraping it every second with the rules of
// deploy/prometheus/rules loaded: their "for" durations set to 0s, and
// cheap-GPU thresholds set between the demo's normal and dipped H100
// prices. It checks that the scrape is up; that the cheap-GPU alert is
// quiet before the dip and fires during it; that the spot-spike alert fires
// when prices recover; that every rule evaluates without error and no
// health alert fires; and that every PromQL expression of the rules and
// dashboards is accepted by Prometheus and returns data.
//
// Timeline (t0 = start; the fakes count dip periods from t0+10s and dip
// from the first tick starting in a dip): prices normal until
// t0+25s..30s, halved until t0+40s..45s, then normal again; a refresh
// every 5s ± 10%. About 50s in all, mostly waiting; the margin before the
// dip is for a busy CI machine, where the demo takes up to 10s to start.
func TestPrometheusIntegration(t *testing.T) {
	prometheus := requireTool(t, "prometheus", "prometheus")
	t.Parallel()
	const interval, dip, origin = 5 * time.Second, 30 * time.Second, 10 * time.Second

	t0 := time.Now()
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	demoDone := make(chan error, 1)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fakes, err := startFakes(fakecloud.Drift{Tick: interval, Dip: dip, Origin: t0.Add(origin)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fakes.Close)
	load := func() (*config.Config, error) {
		cfg := demoConfig(fakes, interval)
		cfg.Providers.Each(func(name string, s config.Section) {
			c := s.Shared()
			c.Enabled = slices.Contains(integrationProviders, name)
			// A refresh slowed down by a busy machine is late, not failed.
			c.Timeout = config.Duration(4 * interval)
		})
		return cfg, nil
	}
	go func() { demoDone <- runDaemon(ctx, logger, load, options(addr, filepath.Join(dir, "store"))) }()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("demo log:\n%s", logs.String())
		}
		select {
		case err := <-demoDone:
			if err != nil {
				t.Errorf("demo returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("demo did not stop within 15s")
		}
	})
	// Prometheus applies its scrape targets only some 5s after it starts:
	// start it now, while the demo starts, without cheap-GPU thresholds.
	prom := startPrometheus(t, prometheus, dir, addr, map[string]string{thresholdsFile: "groups: []\n"})
	demo := &daemon{base: "http://" + addr}
	// Ready once every source has refreshed: on a loaded machine the
	// first AWS refresh (a backfill) takes well over 10 s. The pre-dip
	// checks below say so if that leaves too little time before the dip.
	waitWithin(t, time.Minute, "demo ready", func() bool { code, _ := demo.get(t, "/-/ready"); return code == 200 })
	// The baseline must see every source's prices: one published later
	// with a cheaper H100 would fire the alert before the dip.
	waitFor(t, "every source published", func() bool {
		_, body := demo.get(t, "/metrics")
		n := 0
		for line := range strings.Lines(body) {
			if strings.HasPrefix(line, "gpuprice_collector_success{") {
				if strings.TrimSpace(line[strings.LastIndexByte(line, ' '):]) != "1" {
					return false
				}
				n++
			}
		}
		return n > 0
	})

	// Thresholds halfway between the normal cheapest H100 and the dipped
	// one: the demo's drift moves prices by at most ±5% (fakecloud.Drift's
	// default amplitude), so outside dips the cheapest stays above
	// 0.95/1.05 = 0.90 of what it is now, and in a dip under
	// DipFactor × 1.05/0.95 = 0.55 of it. Only on-demand and spot prices
	// drift and dip (not configured static or owned ones).
	const amp = 0.05
	factor := ((1-amp)/(1+amp) + fakecloud.DipFactor*(1+amp)/(1-amp)) / 2
	baseline := cheapestRentable(t, demo, "H100")
	threshold := map[string]float64{}
	var thresholds strings.Builder
	thresholds.WriteString("groups:\n  - name: gpuprice.thresholds\n    rules:\n")
	for _, pm := range []string{"on_demand", "spot"} {
		if p, ok := baseline[pm]; ok {
			threshold[pm] = math.Round(p*factor*1e4) / 1e4
			fmt.Fprintf(&thresholds, "      - record: gpu_pricing:gpuprice_cheap_gpu_usd_per_hour:threshold\n        expr: vector(%g)\n        labels: {gpu_model: H100, pricing_model: %s}\n", threshold[pm], pm)
		}
	}
	if len(threshold) == 0 {
		t.Fatalf("the demo serves no on-demand or spot H100 price: %v", baseline)
	}
	t.Logf("cheapest H100 at t0+%s: %v; thresholds %v", time.Since(t0).Round(100*time.Millisecond), baseline, threshold)
	prom.reloadRules(t, thresholdsFile, thresholds.String())

	// Before the dip: scraped, rules evaluated, the cheap-GPU alert quiet.
	waitFor(t, "scrape up, thresholds loaded and rules evaluated", func() bool {
		up, _ := prom.query(`up{job="gpuprice"} == 1`)
		th, _ := prom.query(`gpu_pricing:gpuprice_cheap_gpu_usd_per_hour:threshold{gpu_model="H100"}`)
		rec, _ := prom.query(`gpu_pricing:gpuprice_gpu_usd_per_hour:min{gpu_model="H100"}`)
		return up > 0 && th == len(threshold) && rec > 0
	})
	time.Sleep(2 * time.Second) // a few more evaluations of the alerts
	if a := prom.alerts(t, "GPUPriceCheapGPU"); len(a) > 0 {
		t.Fatalf("GPUPriceCheapGPU %s before the dip (at t0+%s): %v", a[0].State, time.Since(t0).Round(time.Second), a)
	}
	if time.Since(t0) >= origin+dip/2 {
		t.Fatalf("the pre-dip checks ended at t0+%s, past the dip's start: too slow to tell", time.Since(t0))
	}

	// The dip: the cheap-GPU alert fires for H100.
	waitUntil(t, t0.Add(origin+dip+10*time.Second), "GPUPriceCheapGPU firing during the dip", func() bool {
		for _, a := range prom.alerts(t, "GPUPriceCheapGPU") {
			if a.State == "firing" && a.Labels["gpu_model"] == "H100" {
				t.Logf("GPUPriceCheapGPU firing at t0+%s: %v = %s", time.Since(t0).Round(time.Second), a.Labels, a.Value)
				return true
			}
		}
		return false
	})
	// The recovery: spot prices double from their low.
	waitUntil(t, t0.Add(origin+dip+25*time.Second), "GPUPriceSpotSpike firing after the dip", func() bool {
		if a := prom.alerts(t, "GPUPriceSpotSpike"); len(a) > 0 && a[0].State == "firing" {
			t.Logf("GPUPriceSpotSpike firing at t0+%s (%d series), e.g. %v", time.Since(t0).Round(time.Second), len(a), a[0].Labels)
			return true
		}
		return false
	})

	// No rule fails to evaluate (a many-to-many match, a bad function
	// argument), and gpuprice itself looks healthy.
	for _, r := range prom.rules(t) {
		if r.Health != "ok" {
			t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
		}
	}
	for _, name := range []string{"GPUPriceProviderStale", "GPUPriceCollectorFailing", "GPUPriceExporterDown"} {
		if a := prom.alerts(t, name); len(a) > 0 {
			t.Errorf("%s %s in a healthy demo: %v", name, a[0].State, a[0].Labels)
		}
	}

	// Every expression is valid and returns data. Alerts return data only
	// when they fire: theirs is checked above. An expression may be empty
	// only when a gpuprice metric it needs is not exported at all (were
	// the providers exporting it left out of integrationProviders).
	exported := map[string]bool{}
	for _, s := range prom.vector(t, `count by (__name__) ({__name__=~"gpuprice_.+", job="gpuprice"})`) {
		exported[s.Metric["__name__"]] = true
	}
	rules, err := deploy.Rules()
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, r := range rules {
		recorded[r.Name] = r.Kind == "record"
	}
	panels, err := deploy.DashboardExprs(map[string]string{"gpu_model": "H100", "provider": ".*", "geo": ".*"})
	if err != nil {
		t.Fatal(err)
	}
	var checked, empty int
	for _, e := range append(rules, panels...) {
		n, err := prom.query(e.Query)
		switch {
		case err != nil:
			t.Errorf("%s: %v\n%s", e.Source, err, e.Query)
		case e.Kind == "alert" || n > 0:
			checked++
		default:
			var absent []string
			for _, m := range deploy.MetricNames(e.Query) {
				if !recorded[m] && !exported[m] {
					absent = append(absent, m)
				}
			}
			if len(absent) == 0 {
				t.Errorf("%s returns no data:\n%s", e.Source, e.Query)
				continue
			}
			empty++
			t.Logf("%s: no data, as the demo exports no %v", e.Source, absent)
		}
	}
	t.Logf("%d expressions valid with data (alerts: valid), %d empty for want of a metric in the demo; took %s", checked, empty, time.Since(t0).Round(time.Second))
}

// cheapestRentable returns the cheapest per-GPU price of gpu per pricing
// model in the daemon's /metrics, leaving out what cannot be rented now
// (gpuprice_gpu_available 0), as the recording rules do.
func cheapestRentable(t *testing.T, d *daemon, gpu string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	outOfStock := map[string]bool{}
	if f := families["gpuprice_gpu_available"]; f != nil {
		for _, m := range f.GetMetric() {
			if m.GetGauge().GetValue() == 0 {
				outOfStock[labelKey(m.GetLabel())] = true
			}
		}
	}
	out := map[string]float64{}
	for _, m := range families["gpuprice_gpu_usd_per_hour"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["gpu_model"] != gpu || outOfStock[labelKey(m.GetLabel())] {
			continue
		}
		v, pm := m.GetGauge().GetValue(), labels["pricing_model"]
		if old, ok := out[pm]; !ok || v < old {
			out[pm] = v
		}
	}
	return out
}

// labelKey identifies a series of /metrics by its labels, in their order.
func labelKey(labels []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(l.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// waitUntil polls cond every 250ms until deadline.
func waitUntil(t *testing.T, deadline time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// integrationProviders are the demo providers TestPrometheusIntegration
// runs: clouds with on-demand and spot prices (azure; aws with spot prices
// per zone), a marketplace (vastai: market distribution and available
// GPUs) and providers stating stock (runpod, lambda:
// gpuprice_gpu_available). All the demo's fakes refreshing every 5s do not
// fit on 2 cores under the race detector (gcp's fake serves 6,000 SKUs).
var integrationProviders = []string{"azure", "vastai", "runpod", "aws", "lambda"}

// thresholdsFile is the rule file of the cheap-GPU thresholds.
const thresholdsFile = "gpuprice-thresholds.yml"

// promServer is a running prometheus and its HTTP API.
type promServer struct {
	base     string
	logs     *syncBuffer
	rulesDir string
	process  *os.Process
}

// reloadRules replaces the rule file name and has prometheus reload.
func (p *promServer) reloadRules(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.rulesDir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// forLine matches the "for:" of an alerting rule.
var forLine = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+\s*$`)

// startPrometheus runs prometheus on a loopback port, scraping gpuprice at
// target every second and evaluating deploy's rules every second, with
// every alert's "for" set to 0s. replace substitutes rule files by name.
func startPrometheus(t *testing.T, bin, dir, target string, replace map[string]string) *promServer {
	t.Helper()
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range deploy.RuleFiles() {
		text, err := deploy.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(name)
		if r, ok := replace[base]; ok {
			text = []byte(r)
		}
		text = forLine.ReplaceAll(text, []byte("${1}0s"))
		if err := os.WriteFile(filepath.Join(rulesDir, base), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %s/*.yml
scrape_configs:
  - job_name: gpuprice
    static_configs:
      - targets: [%q]
`, rulesDir, target)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := &promServer{base: "http://" + addr, logs: &syncBuffer{}, rulesDir: rulesDir}
	cmd := exec.Command(bin, "--config.file="+configFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.process = cmd.Process
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.logs.String())
		}
	})
	waitFor(t, "prometheus ready", func() bool {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", p.logs.String())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// apiGet decodes the data of a Prometheus API answer into data.
func (p *promServer) apiGet(path string, params url.Values, data any) error {
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("%s: %s", answer.ErrorType, answer.Error)
	}
	return json.Unmarshal(answer.Data, data)
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// query evaluates an instant query now and returns how many results it
// has (1 for a scalar).
func (p *promServer) query(q string) (int, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.apiGet("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return 0, err
	}
	switch data.ResultType {
	case "scalar", "string":
		return 1, nil
	}
	var results []json.RawMessage
	if err := json.Unmarshal(data.Result, &results); err != nil {
		return 0, err
	}
	return len(results), nil
}

// vector evaluates an instant query that gives a vector.
func (p *promServer) vector(t *testing.T, q string) []promSample {
	t.Helper()
	var data struct {
		Result []promSample `json:"result"`
	}
	if err := p.apiGet("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return data.Result
}

type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
	Value  string            `json:"value"`
}

// alerts returns the pending and firing alerts called name.
func (p *promServer) alerts(t *testing.T, name string) []promAlert {
	t.Helper()
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	if err := p.apiGet("/api/v1/alerts", nil, &data); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	return slices.DeleteFunc(data.Alerts, func(a promAlert) bool { return a.Labels["alertname"] != name })
}

type promRule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

// rules returns every loaded rule with its evaluation health.
func (p *promServer) rules(t *testing.T) []promRule {
	t.Helper()
	var data struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.apiGet("/api/v1/rules", nil, &data); err != nil {
		t.Fatalf("rules: %v", err)
	}
	var out []promRule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	if len(out) == 0 {
		t.Fatal("prometheus loaded no rule")
	}
	return out
}
