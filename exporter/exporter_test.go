package exporter

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.prom from the current output")

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixtureStates is a fixed set of provider states: a healthy cloud with a
// fractional size and an unknown GPU, a marketplace with markets, and a
// provider whose prices went stale.
func fixtureStates() []*collectors.State {
	azure := &price.Snapshot{Provider: "azure", Time: t0, Quotes: []price.Quote{
		{Provider: "azure", InstanceType: "Standard_ND96isr_H100_v5", Region: "eastus", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 98.32},
		{Provider: "azure", InstanceType: "Standard_ND96isr_H100_v5", Region: "eastus", Geo: "na", PricingModel: price.Spot,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 39.33},
		{Provider: "azure", InstanceType: "Standard_NV6ads_A10_v5", Region: "westeurope", Geo: "eu", PricingModel: price.OnDemand,
			GPUModel: "A10", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1.0 / 6, USDPerHour: 0.454},
		{Provider: "azure", InstanceType: "Standard_NX99_\"Q\"_v9", Region: "eastus", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: price.Unknown, GPURaw: "Standard_NX99_\"Q\"_v9", GPUCount: 1, USDPerHour: 12.5},
	}}
	vast := &price.Snapshot{Provider: "vastai", Time: t0, Quotes: []price.Quote{
		{Provider: "vastai", InstanceType: "8x_H100_SXM_80GB", Region: "us", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 15.2361, Offers: 3, AvailableGPUs: 24},
		{Provider: "vastai", InstanceType: "1x_RTX_4090_24GB", Region: "", Geo: "", PricingModel: price.Spot,
			GPUModel: "RTX4090", GPUForm: "pcie", GPUMemoryGB: 24, GPUCount: 1, USDPerHour: 0.2},
	}, Markets: []price.Market{
		{Provider: "vastai", Region: "us", Geo: "na", PricingModel: price.OnDemand, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80,
			P10: 1.9, P50: 2.1, P90: 2.6, Offers: 5, SumGPUUSDPerHour: 10.9, AvailableGPUs: 26},
	}}
	lambda := &price.Snapshot{Provider: "lambda", Time: t0, Quotes: []price.Quote{
		{Provider: "lambda", InstanceType: "gpu_8x_h100_sxm5", Region: "us-east-1", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 23.92, Stock: price.StockAvailable},
		{Provider: "lambda", InstanceType: "gpu_8x_h100_sxm5", Region: "us-west-1", Geo: "na", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 23.92, Stock: price.StockNone},
	}}
	return []*collectors.State{
		{Provider: "lambda", Interval: 5 * time.Minute, Snapshot: lambda, Success: true, LastSuccess: t0, LastDuration: time.Second, Errors: map[string]uint64{}},
		{Provider: "azure", Interval: time.Hour, Snapshot: azure, Success: true, LastSuccess: t0, LastAttempt: t0.Add(-3 * time.Second),
			LastDuration: 2500 * time.Millisecond, Errors: map[string]uint64{"zero_price": 4, "http_429": 1}, UnknownGPUs: 1,
			UnknownGPUNames: []string{"Standard_NX99_\"Q\"_v9"},
			Degraded:        "regions westeurope (0 of 2) below 50% of the last good refresh: their last good quotes are kept (until a drop lasts 3 refreshes)"},
		{Provider: "runpod", Interval: 5 * time.Minute, Success: false, Stale: true, LastSuccess: t0.Add(-time.Hour),
			LastDuration: 30 * time.Second, LastError: "timeout", Errors: map[string]uint64{"timeout": 12}},
		{Provider: "vastai", Interval: 2 * time.Minute, Snapshot: vast, Success: true, LastSuccess: t0, LastDuration: 800 * time.Millisecond,
			Errors: map[string]uint64{}},
	}
}

func newFixtureExporter(g prometheus.Gatherer) *Exporter {
	e := New(Options{States: fixtureStates, Gatherer: g})
	e.Render()
	return e
}

func scrape(t testing.TB, h http.Handler, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestGoldenMetrics(t *testing.T) {
	rec := scrape(t, newFixtureExporter(nil), "")
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, ContentType)
	}
	got := rec.Body.Bytes()
	golden := filepath.Join("testdata", "metrics.prom")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("/metrics differs from %s (run go test ./exporter -update after checking the change):\n%s", golden, got)
	}
	// The output must parse as the text format.
	if _, err := textParse(bytes.NewReader(got)); err != nil {
		t.Errorf("output does not parse: %v", err)
	}
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("GPUPRICE_REQUIRE_INTEGRATION") != "" {
			t.Fatal("promtool not found and GPUPRICE_REQUIRE_INTEGRATION is set (apt-get install -y prometheus)")
		}
		t.Skip("promtool not installed")
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "metrics.prom"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(golden)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestGzipSplice checks that the gzip answer is one valid gzip member whose
// content is the plain answer, self-metrics included.
func TestGzipSplice(t *testing.T) {
	reg := NewSelfRegistry(true)
	e := newFixtureExporter(reg)
	rec := scrape(t, e, "gzip, deflate, br")
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	if cl := rec.Header().Get("Content-Length"); cl != fmt.Sprint(rec.Body.Len()) {
		t.Errorf("Content-Length %s, body %d bytes", cl, rec.Body.Len())
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false) // one member, not several concatenated
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body does not decode: %v", err)
	}
	families, err := textParse(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("decoded text does not parse: %v", err)
	}
	for _, name := range []string{"gpuprice_gpu_usd_per_hour", "gpuprice_build_info", "go_goroutines", "process_cpu_seconds_total"} {
		if families[name] == nil {
			t.Errorf("family %s missing from the gzip answer", name)
		}
	}
	plain := scrape(t, e, "")
	if !bytes.HasPrefix(text, e.Families()) || !strings.Contains(plain.Body.String(), "gpuprice_build_info") {
		t.Errorf("gzip and plain answers differ in their price part")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"deflate, gzip":      true,
		"gzip;q=0":           false,
		"gzip; q=0.5":        true,
		"identity":           false,
		"x-gzip":             false,
		"br;q=1.0, gzip;q=0": false,
	} {
		if got := acceptsGzip(in); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestStaleAndFailingProviders(t *testing.T) {
	text := scrape(t, newFixtureExporter(nil), "").Body.String()
	if strings.Contains(text, `gpuprice_gpu_usd_per_hour{provider="runpod"`) {
		t.Error("a stale provider's prices are still exported")
	}
	for _, want := range []string{
		`gpuprice_collector_success{provider="runpod"} 0`,
		`gpuprice_collector_errors_total{provider="runpod",reason="timeout"} 12`,
		`gpuprice_collector_quotes{provider="runpod"} 0`,
		`gpuprice_collector_success{provider="azure"} 1`,
		`gpuprice_collector_unknown_gpu_quotes{provider="azure"} 1`,
		`gpu_count="0.1667"} 2.724`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestInvalidateCoalesces(t *testing.T) {
	calls := 0
	e := New(Options{States: func() []*collectors.State { calls++; return fixtureStates() }})
	for range 10 {
		e.Invalidate()
	}
	select {
	case <-e.dirty:
		e.Render()
	default:
		t.Fatal("Invalidate did not schedule a render")
	}
	select {
	case <-e.dirty:
		t.Fatal("10 Invalidate calls scheduled more than one render")
	default:
	}
	if calls != 1 || e.Series() != 8 {
		t.Errorf("calls=%d series=%d, want 1 and 8", calls, e.Series())
	}
}

func textParse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(r)
}

// syntheticStates returns n price series spread over providers, regions
// and GPUs, with realistic label values.
func syntheticStates(n int) []*collectors.State {
	providers := []string{"aws", "azure", "gcp", "vastai", "runpod", "lambda"}
	gpus := []struct {
		model, form string
		mem         float64
	}{{"H100", "sxm", 80}, {"A100", "sxm", 80}, {"L40S", "pcie", 48}, {"RTX4090", "pcie", 24}, {"H200", "sxm", 141}}
	states := make([]*collectors.State, len(providers))
	for i, p := range providers {
		states[i] = &collectors.State{Provider: p, Success: true, LastSuccess: t0, Interval: time.Minute,
			Snapshot: &price.Snapshot{Provider: p, Time: t0}, Errors: map[string]uint64{"http_429": 3}}
	}
	for i := range n {
		st := states[i%len(states)]
		g := gpus[i%len(gpus)]
		st.Snapshot.Quotes = append(st.Snapshot.Quotes, price.Quote{
			Provider: st.Provider, InstanceType: fmt.Sprintf("p%d.%dxlarge", i%97, i/97), Region: fmt.Sprintf("region-%d", i%31),
			Zone: fmt.Sprintf("region-%d%c", i%31, 'a'+i%3), Geo: price.Geos[i%len(price.Geos)], PricingModel: price.Spot,
			GPUModel: g.model, GPUForm: g.form, GPUMemoryGB: g.mem, GPUCount: 8, USDPerHour: 10 + float64(i%1000)/37,
		})
	}
	return states
}

// BenchmarkRender100k measures the work done once per snapshot change:
// rendering 100k series and compressing them.
func BenchmarkRender100k(b *testing.B) {
	states := syntheticStates(100_000)
	e := New(Options{States: func() []*collectors.State { return states }})
	b.ReportAllocs()
	for b.Loop() {
		e.cache = nil // every provider new
		e.Render()
	}
	body := e.body.Load()
	b.ReportMetric(float64(body.size), "body_bytes")
	b.ReportMetric(float64(gzipSize(body)), "gzip_bytes")
}

// BenchmarkRenderOneProvider100k measures the work done when one of six
// providers, each with a sixth of 100k series, publishes a new snapshot:
// only its parts are rendered and compressed again.
func BenchmarkRenderOneProvider100k(b *testing.B) {
	states := syntheticStates(100_000)
	e := New(Options{States: func() []*collectors.State { return states }})
	e.Render()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st := *states[i%len(states)]
		snap := *st.Snapshot // a new snapshot, same quotes
		st.Snapshot = &snap
		states[i%len(states)] = &st
		e.Render()
	}
	b.ReportMetric(float64(len(states)), "providers")
}

func gzipSize(r *rendered) int {
	n := 0
	for _, p := range r.parts {
		n += len(p.deflate)
	}
	return n
}

// BenchmarkScrape100k measures one scrape at 100k series, with the
// self-metrics registry (go_*, process_*, build info).
func BenchmarkScrape100k(b *testing.B) {
	states := syntheticStates(100_000)
	e := New(Options{States: func() []*collectors.State { return states }, Gatherer: NewSelfRegistry(true)})
	e.Render()
	for _, enc := range []string{"gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				e.ServeHTTP(w, req)
			}
		})
	}
}

// discardWriter is a ResponseWriter that drops the body, so that the
// benchmark measures the exporter, not a recorder's copying.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// TestSyntheticOutputIsValid keeps the benchmark input honest.
func TestSyntheticOutputIsValid(t *testing.T) {
	e := New(Options{States: func() []*collectors.State { return syntheticStates(1000) }})
	e.Render()
	fams, err := textParse(bytes.NewReader(e.Families()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fams["gpuprice_gpu_usd_per_hour"].GetMetric()); n != 1000 {
		t.Errorf("%d series, want 1000", n)
	}
}

// TestRenderReusesParts: when one provider publishes a new snapshot, only
// its parts are rendered again, and the body (identity and gzip) is what
// a render of everything in one piece gives.
func TestRenderReusesParts(t *testing.T) {
	states := fixtureStates()
	e := New(Options{States: func() []*collectors.State { return states }})
	e.Render()
	azureParts := e.cache["azure"].parts

	lambda := *states[0]
	snap := *lambda.Snapshot
	snap.Quotes = slices.Clone(snap.Quotes)
	snap.Quotes[0].USDPerHour *= 2
	lambda.Snapshot = &snap
	states[0] = &lambda
	e.Render()

	if e.cache["azure"].parts != azureParts {
		t.Error("azure's parts were rendered again though its snapshot did not change")
	}
	want, _ := appendFamilies(nil, states)
	if got := scrape(t, e, "").Body.Bytes(); !bytes.Equal(got, want) {
		t.Errorf("identity body differs from a render in one piece:\n%s\nwant:\n%s", got, want)
	}
	zr, err := gzip.NewReader(scrape(t, e, "gzip").Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("gzip body (err %v) differs from a render in one piece", err)
	}
}

// appendFamilies renders every family from states in one piece: what the
// Exporter's parts put together must give, and returns the number of price
// series (gpuprice_gpu_usd_per_hour samples).
func appendFamilies(b []byte, states []*collectors.State) ([]byte, int) {
	byName := slices.Clone(states)
	slices.SortFunc(byName, func(a, b *collectors.State) int { return strings.Compare(a.Provider, b.Provider) })
	var all []familyLines
	var lbuf []byte
	series := 0
	for _, st := range byName {
		if st.Snapshot != nil {
			var l familyLines
			lbuf = l.appendSnapshot(lbuf[:0], st.Snapshot)
			all = append(all, l)
			series += len(st.Snapshot.Quotes)
		}
	}
	for f, fam := range families {
		n := 0
		for _, l := range all {
			n += len(l[f])
		}
		if n == 0 && !fam.always {
			continue
		}
		b = header(b, fam.name, fam.typ, fam.help)
		for _, l := range all {
			b = append(b, l[f]...)
		}
	}
	return appendCollectorFamilies(b, states), series
}

// TestPartialMarketStatistics: a market whose provider gives only a median
// and no offer count (Akash) exports quantile 0.5 and available GPUs,
// without made-up 0.1/0.9 quantiles or a _count of 0, and the output
// passes promtool.
func TestPartialMarketStatistics(t *testing.T) {
	akash := &price.Snapshot{Provider: "akash", Time: t0, Quotes: []price.Quote{
		{Provider: "akash", InstanceType: "h100-80gi-sxm5", Region: "global", PricingModel: price.OnDemand,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 1, USDPerHour: 1.21, P50: 1.58, AvailableGPUs: 24},
	}, Markets: []price.Market{
		{Provider: "akash", Region: "global", PricingModel: price.OnDemand, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80,
			P10: math.NaN(), P50: 1.58, P90: math.NaN(), AvailableGPUs: 24},
	}}
	states := func() []*collectors.State {
		return []*collectors.State{{Provider: "akash", Interval: 15 * time.Minute, Snapshot: akash, Success: true, LastSuccess: t0,
			LastDuration: time.Second, Errors: map[string]uint64{}}}
	}
	e := New(Options{States: states})
	e.Render()
	body := scrape(t, e, "").Body.String()
	for _, want := range []string{
		`gpuprice_market_gpu_usd_per_hour{provider="akash",region="global",geo="",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80",quantile="0.5"} 1.58`,
		`gpuprice_available_gpus{provider="akash",region="global",geo="",pricing_model="on_demand",gpu_model="H100",gpu_form="sxm",gpu_memory_gb="80"} 24`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no line %s in\n%s", want, body)
		}
	}
	for _, absent := range []string{`quantile="0.1"`, `quantile="0.9"`, "gpuprice_market_gpu_usd_per_hour_count", "gpuprice_market_gpu_usd_per_hour_sum", "NaN"} {
		if strings.Contains(body, absent) {
			t.Errorf("%s in\n%s", absent, body)
		}
	}
	if _, err := textParse(strings.NewReader(body)); err != nil {
		t.Errorf("output does not parse: %v", err)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

// TestAvailabilityTriState: gpuprice_gpu_available has a sample only
// where the provider states stock (0 not rentable now, 1..3 rentable),
// none where it is unknown; and gpuprice_available_gpus is written for
// markets with offers only, never as 0 for a provider without markets.
func TestAvailabilityTriState(t *testing.T) {
	for _, tc := range []struct {
		stock price.Stock
		want  string // the sample's value; "" for no sample
	}{
		{price.StockUnknown, ""},
		{price.StockNone, "0"},
		{price.StockAvailable, "1"},
		{price.StockLow, "1"},
		{price.StockMedium, "2"},
		{price.StockHigh, "3"},
	} {
		t.Run("stock "+cmp.Or(string(tc.stock), "unknown"), func(t *testing.T) {
			snap := &price.Snapshot{Provider: "azure", Time: t0, Quotes: []price.Quote{{Provider: "azure",
				InstanceType: "Standard_ND96isr_H100_v5", Region: "westus3", Geo: "na", PricingModel: price.OnDemand,
				GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 98.32, Stock: tc.stock}}}
			body, _ := appendFamilies(nil, []*collectors.State{{Provider: "azure", Snapshot: snap, Success: true}})
			var got []string
			for line := range strings.SplitSeq(string(body), "\n") {
				if strings.HasPrefix(line, "gpuprice_gpu_available{") {
					got = append(got, line[strings.LastIndexByte(line, ' ')+1:])
				}
				if strings.HasPrefix(line, "gpuprice_available_gpus") {
					t.Errorf("a provider without markets has %q", line)
				}
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if !slices.Equal(got, want) {
				t.Errorf("gpuprice_gpu_available samples %q, want %q", got, want)
			}
		})
	}
}
