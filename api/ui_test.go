package api

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/gpuprice/gpuprice/collectors/all"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/azure"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

var (
	tagRE  = regexp.MustCompile(`<[^>]*>`)
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
)

// tableRows returns the text of the cells of the rows of the tbody with
// the given id in page, tags stripped and spaces collapsed.
func tableRows(t *testing.T, page, id string) [][]string {
	t.Helper()
	start := strings.Index(page, `<tbody id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no tbody %s in the page", id)
	}
	end := strings.Index(page[start:], "</tbody>")
	var rows [][]string
	for _, r := range rowRE.FindAllStringSubmatch(page[start:start+end], -1) {
		var cells []string
		for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
			cells = append(cells, strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(c[1], ""))), " "))
		}
		rows = append(rows, cells)
	}
	return rows
}

// quoteIDs names the rows of a quote table like ids: the provider,
// instance type and pricing model columns.
func quoteIDs(rows [][]string) []string {
	out := []string{}
	for _, r := range rows {
		if len(r) < len(uiColumns) {
			continue // "No prices match."
		}
		instance, _, _ := strings.Cut(r[7], " ") // drop "(n offers)"
		out = append(out, r[6]+"/"+instance+"/"+r[3])
	}
	return out
}

func TestUIPage(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*Options)
		target   string
		status   int
		cheapest []string // quoteIDs of the cheapest table
		prices   []string // quoteIDs of the price table
		want     []string // in the page
		notWant  []string
	}{
		{
			name: "everything", target: "/", status: 200,
			// By GPU model, then price; unknown GPUs apart by raw name.
			cheapest: []string{Z1, A4, A3, V2, A1, V1, V3, V4},
			prices:   []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1},
			want: []string{
				`version 1.2.3-test`,
				// The cheapest row of the A10 at 1/6 GPU, with its chart link.
				`<td class="wrap"><a href="?chart_gpu_model=A10#history" data-chart="A10" title="A10 price history">A10</a> <span class="muted">pcie</span></td>
<td class="num">24</td>
<td class="num">0.1667</td>
<td>on_demand</td>
<td class="num price">2.724</td>
<td class="num">0.454</td>`,
				`<td class="wrap">UNKNOWN (Tesla Z9)</td>`, `8x_H100 <span class="muted">(3 offers)</span>`,
				// The host's vCPUs and RAM where the provider says, a dash
				// where not.
				`<td class="wrap">Standard_NV6ads_A10_v5</td>
<td class="num">6</td>
<td class="num">55</td>
<td class="wrap">westeurope</td>`,
				`<td class="wrap">1x_RTX4090 <span class="muted">(12 offers)</span></td>
<td class="num">8.5</td>
<td class="num">31.3</td>`,
				`<td class="wrap">p5.48xlarge</td>
<td class="num">–</td>
<td class="num">–</td>
<td class="wrap">us-east-1 <span class="muted">us-east-1a</span></td>`,
				`<th scope="col" class="num" title="The host&#39;s vCPUs that come with the GPUs, where the provider says.">vCPUs</th>`,
				// The chart defaults to the H100.
				`<option selected>H100</option>`,
				`<a href="api/v1/history?format=csv&amp;gpu_model=H100">`,
				// Price table sorted by $/GPU-hour, ascending.
				`<th scope="col" class="num" data-price="gpu" aria-sort="ascending"><a href="?chart_gpu_model=H100&amp;sort=-gpu_usd_per_hour#prices" data-sort="gpu_usd_per_hour">$/GPU-hour</a></th>`,
				// Each table's API answer, as CSV and JSON; the cheapest
				// to rent leave owned and fixed prices out.
				`<a id="cheapest-csv" href="api/v1/cheapest?format=csv&amp;pricing_model=on_demand%2Cspot%2Creserved_1y%2Creserved_3y">CSV</a>`,
				`<a id="own-json" href="api/v1/cheapest?format=json&amp;pricing_model=amortized%2Cfixed">JSON</a>`,
				`<a id="prices-csv" href="api/v1/prices?format=csv&amp;limit=50&amp;sort=gpu_usd_per_hour">CSV</a>`,
				"None match: configure owned: or static: entries.",
				// The region field suggests the regions of the prices.
				`<datalist id="regions"><option value="eastus"><option value="eu-west-1">`,
				`<th scope="col" aria-sort="none"><a href="?chart_gpu_model=H100&amp;sort=provider#prices" data-sort="provider">Provider</a></th>`,
				// Provider status.
				`<td>runpod</td><td><span class="state-stale">stale</span></td>`,
				`<td><time datetime="2025-06-01T10:00:00Z">2025-06-01 10:00:00 UTC</time></td>
<td class="num">0</td><td>http_5xx=4 timeout=2</td><td>runpod: 503 Service Unavailable</td>`,
				`<td>lambda</td><td><span class="state-pending">pending</span></td>
<td>never</td>`,
				`<td>aws</td><td><span class="state-ok">ok</span></td>`,
				// The API's links.
				`<a href="metrics">/metrics</a>`,
				`href="api/v1/prices"`, `href="api/v1/prices?gpu_model=H100&amp;pricing_model=spot&amp;limit=20"`,
				`href="api/v1/cheapest"`, `href="api/v1/offers"`,
				`href="api/v1/history?gpu_model=H100&amp;pricing_model=spot&amp;step=1d&amp;agg=min"`,
				`href="api/v1/providers"`, `href="api/v1/gpus"`, `href="api/v1/gpus?provider=azure"`,
				`href="-/healthy"`, `href="-/ready"`, `/-/reload`,
				// Assets are local and relative.
				`<link rel="stylesheet" href="ui/style.css">`, `<script src="ui/app.js" defer></script>`,
			},
			notWant: []string{"http://", "https://", `class="error"`, "<style", "style="},
		},
		{
			name:   "filters",
			target: "/?provider=azure,vastai&pricing_model=SPOT&max_gpu_usd_per_hour=3&utm_source=mail", status: 200,
			cheapest: []string{V2}, prices: []string{V2},
			want: []string{
				// A value that is not one of the choices is shown as one.
				`<select id="f-provider" name="provider"><option value="">any</option><option selected>azure,vastai</option><option>aws</option>`,
				`<option selected>spot</option>`, `name="max_gpu_usd_per_hour" type="number" min="0" step="0.01" value="3"`,
				// Links keep the filters, and drop what the page does not know.
				`href="?chart_gpu_model=H100&amp;max_gpu_usd_per_hour=3&amp;pricing_model=spot&amp;provider=azure%2Cvastai#history"`,
			},
			notWant: []string{"utm_source"},
		},
		{
			name: "one GPU model charts that model", target: "/?gpu_model=a100", status: 200,
			cheapest: []string{A4}, prices: []string{A4},
			want: []string{`<option selected>A100</option>`, `value="a100"`},
		},
		{
			name: "sort and limit", target: "/?sort=-usd_per_hour&limit=3&chart_gpu_model=B200&chart_range=7d&chart_provider=Azure", status: 200,
			cheapest: []string{Z1, A4, A3, V2, A1, V1, V3, V4}, prices: []string{A1, A2, Z2},
			want: []string{
				`aria-sort="descending"><a href="?chart_gpu_model=B200&amp;chart_provider=azure&amp;chart_range=7d&amp;limit=3&amp;sort=usd_per_hour#prices" data-sort="usd_per_hour">`,
				`<option selected>3</option><option>25</option>`,
				`<select id="c-gpu" name="chart_gpu_model" form="filters"><option selected>B200</option><option>A10</option>`,
				`<option value="azure" selected>azure: one per pricing model</option>`,
				`<option selected>7d</option>`,
			},
		},
		{
			name: "bad parameter", target: "/?geo=mars", status: 400,
			cheapest: []string{}, prices: []string{},
			want: []string{
				`<p class="error" role="alert">bad parameter &#34;geo&#34;: &#34;mars&#34; is not one of na, sa, eu, asia, oc, me, af</p>`,
				`<td>vastai</td><td><span class="state-ok">ok</span></td>`, "No prices match.",
			},
		},
		{
			name: "bad chart range", target: "/?chart_range=2y", status: 400,
			cheapest: []string{}, prices: []string{},
			want: []string{`bad parameter &#34;chart_range&#34;: &#34;2y&#34; is not one of 1h, 6h, 1d, 7d, 30d`},
		},
		{
			name: "no providers", target: "/", status: 200, edit: func(o *Options) { o.States = nil },
			cheapest: []string{}, prices: []string{},
			want: []string{"No provider is enabled.", "No prices match.", `<select id="c-gpu" name="chart_gpu_model" form="filters"></select>`},
		},
		{
			name: "metrics path and no version", target: "/", status: 200,
			edit:     func(o *Options) { o.MetricsPath = "/prom/metrics"; o.Version = "" },
			cheapest: []string{Z1, A4, A3, V2, A1, V1, V3, V4}, prices: []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1},
			want: []string{`<a href="prom/metrics">/prom/metrics</a>`, `version unknown`},
		},
	}
	tests = append(tests, []struct {
		name     string
		edit     func(*Options)
		target   string
		status   int
		cheapest []string
		prices   []string
		want     []string
		notWant  []string
	}{
		{
			name: "owned and allocations apart", target: "/?gpu_model=H100", status: 200, edit: withOwned,
			// Vast.ai's spot H100 is the cheapest to rent; the free
			// allocation, the contract and the owned H100s are not in that
			// table, though cheaper.
			cheapest: []string{V2, A1}, prices: []string{O2, O3, O1, V2, Z2, A2, A1},
			want: []string{
				`<tbody id="own-rows">`,
				`<td>amortized</td>
<td class="num price">2.000</td>`,
				`<td class="wrap">campus</td>`, `<td class="wrap">colo</td>`,
			},
		},
		{
			name: "per month", target: "/?unit=Month&region=us-east-1", status: 200,
			cheapest: []string{A2, A1}, prices: []string{A2, A1},
			want: []string{
				`<option value="month" selected>month (730 h)</option>`,
				`value="us-east-1"`,
				`data-price="gpu">$/GPU-month</th>`, `data-price="instance">$/month</th>`,
				// A1: 98.32 an hour for 8 GPUs: 12.29 × 730 a GPU-month, 71773.6 a month.
				`<td class="num price">8971.700</td>
<td class="num">71773.600</td>`,
				`href="api/v1/prices?format=json&amp;limit=50&amp;region=us-east-1&amp;sort=gpu_usd_per_hour"`,
				`href="?chart_gpu_model=H100&amp;region=us-east-1&amp;unit=month#history"`,
			},
		},
		{
			name: "compare", target: "/?chart_provider=vastai&compare_gpu_model=a100&compare_provider=AWS", status: 200,
			cheapest: []string{Z1, A4, A3, V2, A1, V1, V3, V4}, prices: []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1},
			want: []string{
				// The chart's provider is the first line's, not a line per
				// pricing model.
				`<label for="c-provider" id="c-provider-label">Provider</label>`,
				`<option value="">any provider</option><option value="aws">aws</option>`,
				`<option value="vastai" selected>vastai</option>`,
				`<select id="c-compare-gpu" name="compare_gpu_model" form="filters"><option value="">nothing</option><option>A10</option><option selected>A100</option>`,
				`<select id="c-compare-provider" name="compare_provider" form="filters"><option value="">any provider</option><option selected>aws</option>`,
				// Without JavaScript, both lines' data.
				`<a href="api/v1/history?format=csv&amp;gpu_model=H100&amp;provider=vastai">`,
				`<a href="api/v1/history?format=csv&amp;gpu_model=A100&amp;provider=aws">`,
				// Links keep the comparison.
				`href="?chart_gpu_model=A10&amp;chart_provider=vastai&amp;compare_gpu_model=A100&amp;compare_provider=aws#history"`,
			},
			notWant: []string{"one per pricing model"},
		},
		{
			name: "no comparison", target: "/?compare_provider=aws", status: 200,
			cheapest: []string{Z1, A4, A3, V2, A1, V1, V3, V4}, prices: []string{V3, V4, V1, A3, A4, V2, Z1, Z2, A2, A1},
			want: []string{
				`<label for="c-provider" id="c-provider-label">Lines</label>`,
				`<option value="">one per provider</option><option value="aws">aws: one per pricing model</option>`,
				`<option value="">nothing</option><option>A10</option>`,
			},
			notWant: []string{"gpu_model=A100&amp;provider=aws"},
		},
		{
			name: "bad unit", target: "/?unit=day", status: 400, cheapest: []string{}, prices: []string{},
			want: []string{`bad parameter &#34;unit&#34;: &#34;day&#34; is not one of hour, month`},
		},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newTestServer(t, tt.edit).do(http.MethodGet, tt.target)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			h := rec.Header()
			if h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Content-Security-Policy") != uiCSP {
				t.Errorf("Content-Type %q, Content-Security-Policy %q", h.Get("Content-Type"), h.Get("Content-Security-Policy"))
			}
			body := rec.Body.String()
			if got := quoteIDs(tableRows(t, body, "cheapest-rows")); !slices.Equal(got, tt.cheapest) {
				t.Errorf("cheapest %v, want %v", got, tt.cheapest)
			}
			if got := quoteIDs(tableRows(t, body, "prices-rows")); !slices.Equal(got, tt.prices) {
				t.Errorf("prices %v, want %v", got, tt.prices)
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %s", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("page has %s", s)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", body)
			}
		})
	}
}

// Owned hardware and configured prices besides the fixture's: O1 owned
// H100s at 2.0 per GPU-hour, O2 a free H100 allocation, O3 an H100
// contract at 1.5.
const (
	O1 = "owned/lab-h100/amortized"
	O2 = "campus/1x_H100/fixed"
	O3 = "colo/8x_H100/on_demand"
)

func withOwned(o *Options) {
	states := o.States
	h100 := func(provider, instance string, model price.PricingModel, count, usd float64) price.Quote {
		return price.Quote{Provider: provider, InstanceType: instance, Region: "ca-qc", Geo: "na", PricingModel: model,
			GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: count, USDPerHour: usd, ObservedAt: t0}
	}
	extra := []*collectors.State{
		{Provider: "owned", Interval: time.Hour, Success: true, LastSuccess: t0, Errors: map[string]uint64{},
			Snapshot: &price.Snapshot{Provider: "owned", Time: t0, Quotes: []price.Quote{h100("owned", "lab-h100", price.Amortized, 8, 16)}}},
		{Provider: "campus", Interval: time.Hour, Success: true, LastSuccess: t0, Errors: map[string]uint64{},
			Snapshot: &price.Snapshot{Provider: "campus", Time: t0, Quotes: []price.Quote{h100("campus", "1x_H100", price.Fixed, 1, 0)}}},
		// A contract priced as on demand, free of charge: not to rent either.
		{Provider: "colo", Interval: time.Hour, Success: true, LastSuccess: t0, Errors: map[string]uint64{},
			Snapshot: &price.Snapshot{Provider: "colo", Time: t0, Quotes: []price.Quote{h100("colo", "8x_H100", price.OnDemand, 8, 0)}}},
	}
	o.States = func() []*collectors.State { return append(states(), extra...) }
}

func TestUIAssets(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		name, target, ifNoneMatch string
		status                    int
		contentType               string
	}{
		{"script", "/ui/app.js", "", 200, "text/javascript; charset=utf-8"},
		{"stylesheet", "/ui/style.css", "", 200, "text/css; charset=utf-8"},
		{"unchanged script", "/ui/app.js", uiETags["app.js"], 304, ""},
		{"changed script", "/ui/app.js", `"0000"`, 200, "text/javascript; charset=utf-8"},
		{"no such file", "/ui/index.html", "", 404, "text/plain; charset=utf-8"},
		{"no listing", "/ui/", "", 404, "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.ifNoneMatch != "" {
				header = append(header, "If-None-Match: "+tt.ifNoneMatch)
			}
			rec := ts.do(http.MethodGet, tt.target, header...)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("status %d, Content-Type %q; want %d, %q", rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.contentType)
			}
			if tt.status == 200 {
				if rec.Header().Get("ETag") == "" || rec.Header().Get("Cache-Control") != "no-cache" {
					t.Errorf("ETag %q, Cache-Control %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
				}
				// Nothing is loaded from elsewhere; the SVG namespace is a
				// name, not a fetch.
				text := strings.ReplaceAll(rec.Body.String(), "'http://www.w3.org/2000/svg'", "")
				if strings.Contains(text, "http://") || strings.Contains(text, "https://") {
					t.Errorf("%s names another server", tt.target)
				}
			}
		})
	}
}

// uiDemoConfig has what the page shows apart from the cheapest prices to
// rent: owned H100s, a free allocation, a contract, and a free H100 priced
// on demand (which hides the cheapest H100 to rent on demand from
// /api/v1/cheapest: the page must find it all the same).
const uiDemoConfig = `
owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, purchase_usd: 240000, power_watts: 10200, usd_per_kwh: 0.12, utilization: 0.7}
static:
  - {provider: campus-cluster, gpu_model: H100, gpu_form: sxm, usd_per_hour: 0, region: ca-qc}
  - {provider: colo-contract, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, usd_per_hour: 8.8, region: eu-west}
  - {provider: dept-grant, gpu_model: H100, gpu_form: pcie, usd_per_hour: 0, pricing_model: on_demand, region: ca-on}
`

// uiDemo is the daemon's data path on the demo's fake providers: the real
// Azure, Vast.ai and Runpod collectors refreshing from fakecloud, owned and
// static entries, a Runner, a SQLite store, and the API over them.
func uiDemo(t *testing.T) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	cfg, err := config.Load([]byte(uiDemoConfig), "ui-demo.yml")
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string]func(url string){}
	for _, f := range collectors.Fakes() {
		endpoints[f.Provider] = func(u string) { f.Point(cfg, u) }
	}
	handlers := map[string]http.Handler{
		"azure":  fakecloud.NewAzure(fakecloud.AzureOptions{}),
		"vastai": fakecloud.NewVastAI(fakecloud.VastAIOptions{}),
		"runpod": fakecloud.NewRunpod(fakecloud.RunpodOptions{}),
	}
	for name, h := range handlers {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		endpoints[name](s.URL)
	}
	// Only the faked providers: any other would go to the network.
	// The fakes take any rate.
	cfg.Providers.Each(func(name string, s config.Section) {
		s.Shared().Enabled = handlers[name] != nil
		s.Shared().RateLimit = 500
	})
	cfg.Providers["azure"].(*azure.Config).Concurrency = 8
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	runner := collectors.NewRunner(logger, st, nil)
	t.Cleanup(runner.Stop)
	ps, err := collectors.Build(cfg, logger, price.DefaultCatalog(), st)
	if err != nil {
		t.Fatal(err)
	}
	runner.Apply(ps)
	deadline := time.Now().Add(20 * time.Second)
	for !runner.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("providers not refreshed within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A day of history for the H100s to rent: each series cost 30% more
	// 20 hours ago and 10% more 8 hours ago than now.
	var past []price.Quote
	now := time.Now()
	for _, s := range runner.States() {
		if handlers[s.Provider] == nil {
			continue
		}
		for _, q := range s.Snapshot.Quotes {
			if q.GPUModel != "H100" {
				continue
			}
			for _, p := range []struct {
				ago    time.Duration
				factor float64
			}{{20 * time.Hour, 1.3}, {8 * time.Hour, 1.1}} {
				old := q
				old.ObservedAt, old.EffectiveAt, old.USDPerHour = now.Add(-p.ago), time.Time{}, q.USDPerHour*p.factor
				past = append(past, old)
			}
		}
	}
	if _, err := st.Backfill(context.Background(), past); err != nil {
		t.Fatal(err)
	}
	// Vast.ai says what host comes with its GPUs: its quotes get vCPUs and
	// RAM where its collector does not fill them in, so that the page
	// shows both known and unknown ones. Copies: published snapshots are
	// never modified.
	states := func() []*collectors.State {
		out := slices.Clone(runner.States())
		for i, st := range out {
			if st.Provider != "vastai" || st.Snapshot == nil {
				continue
			}
			c, snap := *st, *st.Snapshot
			snap.Quotes = slices.Clone(snap.Quotes)
			for j := range snap.Quotes {
				q := &snap.Quotes[j]
				if q.VCPUs == 0 {
					q.VCPUs = 12 * q.GPUCount
				}
				if q.MemoryGB == 0 {
					q.MemoryGB = 48 * q.GPUCount
				}
			}
			c.Snapshot = &snap
			out[i] = &c
		}
		return out
	}
	mux := http.NewServeMux()
	New(Options{States: states, Ping: st.Ping, Store: st, Version: "browser-test", Logger: logger}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestUIBrowser loads the web UI in headless Chromium against the demo's
// fake providers: the page must load without a console error, show the
// demo's prices, filter and sort them, draw the history chart, and show the
// prices with JavaScript off too. It leaves a screenshot in
// $GPUPRICE_ARTIFACTS (or a temporary directory).
func TestUIBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	b := launchChromium(t)
	base := uiDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p, err := b.newPage(ctx, 1280, 900, true)
	if err != nil {
		t.Fatal(err)
	}
	// waitReady waits for app.js to finish an update whose URL has
	// parameter k set to v ("": absent).
	waitReady := func(what, k, v string) {
		t.Helper()
		cond := fmt.Sprintf(`(new URLSearchParams(location.search).get(%q) ?? '') === %q && ['ready', 'error'].includes(document.body.dataset.state)`, k, v)
		if err := p.waitFor(ctx, what, cond); err != nil {
			t.Fatal(err)
		}
		var state, status string
		p.eval(ctx, `document.body.dataset.state`, &state)
		p.eval(ctx, `document.querySelector('#status').textContent`, &status)
		if state != "ready" {
			t.Fatalf("%s: page state %q: %s", what, state, status)
		}
	}
	rows := func(tbody string) [][]string {
		t.Helper()
		var out [][]string
		expr := fmt.Sprintf(`[...document.querySelectorAll('#%s tr')].map(tr => [...tr.cells].map(td => td.textContent.trim().replace(/\s+/g, ' ')))`, tbody)
		if err := p.eval(ctx, expr, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	col := func(rows [][]string, i int) []string {
		var out []string
		for _, r := range rows {
			if len(r) > i {
				out = append(out, r[i])
			}
		}
		return out
	}

	if err := p.navigate(ctx, base+"/"); err != nil {
		t.Fatal(err)
	}
	waitReady("first update", "chart_gpu_model", "H100")

	// The cheapest table has the demo's H100s, from both providers.
	cheapest := rows("cheapest-rows")
	var h100 []string
	for _, r := range cheapest {
		if len(r) == len(uiColumns) && strings.HasPrefix(r[0], "H100 ") {
			h100 = append(h100, r[6]+" "+r[3])
		}
	}
	if len(h100) < 2 {
		t.Errorf("cheapest table has H100 rows %v, want at least 2; rows: %v", h100, cheapest)
	}

	// The chart: one line per provider over the day of history (the
	// owned and configured H100s have a flat line since their first
	// refresh).
	var lines []struct{ Name, D string }
	p.eval(ctx, `[...document.querySelectorAll('#chart path.series')].map(p => ({name: p.dataset.name, d: p.getAttribute('d')}))`, &lines)
	var names []string
	for _, l := range lines {
		names = append(names, l.Name)
		if n := strings.Count(l.D, "V"); n < 2 && slices.Contains([]string{"azure", "runpod", "vastai"}, l.Name) {
			t.Errorf("chart line %s has %d price changes, want at least 2 (the history): d=%s", l.Name, n, l.D)
		}
	}
	if want := []string{"azure", "campus-cluster", "dept-grant", "owned", "runpod", "vastai"}; !slices.Equal(names, want) {
		t.Errorf("chart lines %v, want %v", names, want)
	}

	// The host's vCPUs and RAM: Vast.ai's (12 and 48 GB a GPU, unless
	// its collector says), a dash where a provider does not say.
	hosts := map[string]bool{}
	for _, r := range cheapest {
		if len(r) != len(uiColumns) {
			continue
		}
		known := r[8] != "–" && r[9] != "–"
		if r[6] == "vastai" && !known {
			t.Errorf("Vast.ai row without its host's vCPUs and RAM: %v", r)
		}
		if known {
			var vcpus, ram float64
			if _, err := fmt.Sscan(r[8], &vcpus); err != nil || vcpus <= 0 {
				t.Errorf("vCPUs %q in %v", r[8], r)
			}
			if _, err := fmt.Sscan(r[9], &ram); err != nil || ram <= 0 {
				t.Errorf("RAM %q in %v", r[9], r)
			}
		}
		hosts[r[6]+" "+strconv.FormatBool(known)] = true
	}
	if !hosts["vastai true"] {
		t.Errorf("host columns by provider and known: %v, want Vast.ai's known", hosts)
	}
	for _, r := range rows("own-rows") {
		if len(r) == len(uiColumns) && (r[8] != "–" || r[9] != "–") {
			t.Errorf("owned or configured row with a host's vCPUs and RAM: %v", r)
		}
	}

	// Runpod's long names wrap: the cheapest table fits the page.
	var fit struct {
		Scroll, Client int
		Longest        string
	}
	p.eval(ctx, `(() => { const w = document.querySelector('#cheapest .scroll');
		const names = [...document.querySelectorAll('#cheapest-rows tr')].map(tr => tr.cells[7] ? tr.cells[7].textContent : '');
		return {scroll: w.scrollWidth, client: w.clientWidth, longest: names.sort((a, b) => b.length - a.length)[0]}; })()`, &fit)
	if fit.Scroll > fit.Client || len(fit.Longest) < 40 {
		t.Errorf("the cheapest table is %dpx wide in %dpx; its longest instance type is %q (want Runpod's, over 40 characters)", fit.Scroll, fit.Client, fit.Longest)
	}

	// Owned hardware, allocations and free prices are apart from the
	// cheapest to rent, whose H100 on demand is a real offer.
	rent, own := rows("cheapest-rows"), rows("own-rows")
	var ownIDs []string
	for _, r := range own {
		if len(r) == len(uiColumns) {
			ownIDs = append(ownIDs, r[6]+"/"+r[3]+"/"+r[4])
		}
	}
	if want := []string{"colo-contract/fixed/1.100", "campus-cluster/fixed/0.000", "dept-grant/on_demand/0.000", "owned/amortized/1.849"}; !slices.Equal(ownIDs, want) {
		t.Errorf("owned and allocations %v, want %v", ownIDs, want)
	}
	var h100OnDemand string
	for _, r := range rent {
		if len(r) != len(uiColumns) || r[3] == "fixed" || r[3] == "amortized" || r[4] == "0.000" {
			t.Errorf("cheapest to rent has %v", r)
		}
		if len(r) == len(uiColumns) && strings.HasPrefix(r[0], "H100 pcie") && r[3] == "on_demand" {
			h100OnDemand = r[6]
		}
	}
	if h100OnDemand == "" || h100OnDemand == "dept-grant" {
		t.Errorf("the cheapest H100 pcie to rent on demand is %q, want a provider's offer; rows %v", h100OnDemand, rent)
	}
	var legend int
	p.eval(ctx, `document.querySelectorAll('#history .legend li').length`, &legend)
	if legend != len(lines) {
		t.Errorf("legend has %d entries for %d lines", legend, len(lines))
	}

	screenshot(ctx, t, p, "web-ui.png")

	// The links to the tables' API answers give the same rows.
	var linked struct{ CSV, JSON int }
	if err := p.eval(ctx, `(async () => ({
		csv: (await (await fetch(document.querySelector('#prices-csv').href)).text()).trim().split(String.fromCharCode(10)).length - 1,
		json: (await (await fetch(document.querySelector('#own-json').href)).json()).data.length}))()`, &linked); err != nil {
		t.Error(err)
	}
	// The API selects by pricing model: the owned and fixed rows (not the
	// free one priced on demand, which the API's cheapest to rent has).
	ownByModel := 0
	for _, r := range own {
		if len(r) > 3 && (r[3] == "fixed" || r[3] == "amortized") {
			ownByModel++
		}
	}
	if pr := rows("prices-rows"); linked.CSV != len(pr) || linked.JSON != ownByModel {
		t.Errorf("the CSV link has %d rows for the price table's %d, the JSON link %d for the %d owned and fixed", linked.CSV, len(pr), linked.JSON, ownByModel)
	}

	// Prices per month: 730 hours.
	hourly := rows("cheapest-rows")
	p.eval(ctx, `(() => { const s = document.querySelector('#f-unit'); s.value = 'month'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	waitReady("prices per month", "unit", "month")
	var heads []string
	p.eval(ctx, `[...document.querySelectorAll('#prices th[data-price]')].map(th => th.textContent)`, &heads)
	if !slices.Equal(heads, []string{"$/GPU-month", "$/month"}) {
		t.Errorf("price headings %v", heads)
	}
	monthly := rows("cheapest-rows")
	if len(monthly) != len(hourly) {
		t.Fatalf("%d rows per month, %d per hour", len(monthly), len(hourly))
	}
	for i := range monthly {
		var h, m float64
		fmt.Sscan(hourly[i][4], &h)
		fmt.Sscan(monthly[i][4], &m)
		if math.Abs(m-730*h) > 0.0006*730 { // the hourly price is rounded to 3 decimals
			t.Errorf("row %d: %s a GPU-hour, %s a GPU-month", i, hourly[i][4], monthly[i][4])
		}
	}
	screenshot(ctx, t, p, "web-ui-month.png")

	// The region filter, from a region of the price table.
	region := rows("prices-rows")[0][10]
	region, _, _ = strings.Cut(region, " ") // without the zone
	p.eval(ctx, fmt.Sprintf(`(() => { const i = document.querySelector('#f-region'); i.value = %q; i.dispatchEvent(new Event('input', {bubbles: true})); })()`, region), nil)
	waitReady("region filter", "region", region)
	for _, table := range []string{"cheapest-rows", "prices-rows"} {
		for _, row := range rows(table) {
			if len(row) == len(uiColumns) && !strings.HasPrefix(row[10], region) {
				t.Errorf("%s: row %v passed the filter region=%s", table, row, region)
			}
		}
	}
	p.eval(ctx, `(() => { for (const [id, v] of [['#f-region', ''], ['#f-unit', 'hour']]) { const e = document.querySelector(id); e.value = v; }
		document.querySelector('#f-unit').dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	waitReady("back to every region, per hour", "chart_gpu_model", "H100")

	testCompare(ctx, t, p, waitReady)

	// Sorting by provider, then the other way round.
	for _, dir := range []string{"provider", "-provider"} {
		if err := p.eval(ctx, `document.querySelector('#prices a[data-sort="provider"]').click()`, nil); err != nil {
			t.Fatal(err)
		}
		waitReady("sort "+dir, "sort", dir)
		got := col(rows("prices-rows"), 6)
		want := slices.Sorted(slices.Values(got))
		if dir == "-provider" {
			slices.Reverse(want)
		}
		first := map[string]string{"provider": "azure", "-provider": "vastai"}[dir]
		if len(got) != 50 || !slices.Equal(got, want) || got[0] != first {
			t.Errorf("sort %s: providers in the price table %v", dir, got)
		}
	}

	// Filters apply as they change, and land in the URL.
	p.eval(ctx, `(() => { const s = document.querySelector('#f-provider'); s.value = 'vastai'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil)
	waitReady("provider filter", "provider", "vastai")
	p.eval(ctx, `(() => { const i = document.querySelector('#f-gpu'); i.value = 'H100'; i.dispatchEvent(new Event('input', {bubbles: true})); })()`, nil)
	waitReady("GPU filter", "gpu_model", "H100")
	for _, table := range []string{"cheapest-rows", "prices-rows"} {
		r := rows(table)
		if len(r) == 0 {
			t.Errorf("%s: empty after filtering on vastai H100", table)
		}
		for _, row := range r {
			if len(row) != len(uiColumns) || row[6] != "vastai" || !strings.HasPrefix(row[0], "H100 ") {
				t.Errorf("%s: row %v passed the filter provider=vastai, gpu_model=H100", table, row)
			}
		}
	}
	var link string
	p.eval(ctx, `location.href`, &link)
	if problems := p.Problems(); len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}

	// The same link with JavaScript off: the server renders the filtered
	// tables and the form as they were.
	noJS, err := b.newPage(ctx, 1280, 900, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := noJS.navigate(ctx, link); err != nil {
		t.Fatal(err)
	}
	if err := noJS.waitFor(ctx, "page without JavaScript", `document.readyState === 'complete' && document.querySelector('#cheapest-rows')`); err != nil {
		t.Fatal(err)
	}
	var static struct {
		State, Provider, GPU string
		Rows                 [][]string
	}
	noJS.eval(ctx, `({state: document.body.dataset.state, provider: document.querySelector('#f-provider').value,
		gpu: document.querySelector('#f-gpu').value,
		rows: [...document.querySelectorAll('#cheapest-rows tr')].map(tr => [...tr.cells].map(td => td.textContent.trim().replace(/\s+/g, ' ')))})`, &static)
	if static.State != "static" || static.Provider != "vastai" || static.GPU != "H100" {
		t.Errorf("without JavaScript: state %q, provider %q, GPU model %q; want static, vastai, H100", static.State, static.Provider, static.GPU)
	}
	if !slices.EqualFunc(static.Rows, rows("cheapest-rows"), slices.Equal) {
		t.Errorf("without JavaScript the cheapest table is\n%v\nwith it\n%v", static.Rows, rows("cheapest-rows"))
	}
	if problems := noJS.Problems(); len(problems) > 0 {
		t.Errorf("the page without JavaScript reported problems:\n%s", strings.Join(problems, "\n"))
	}
	screenshot(ctx, t, noJS, "web-ui-nojs.png")
}

// testCompare drives the chart's comparison on a page showing the H100's
// history: two providers' H100s, then the H100 at one provider and the
// A100 at any, each drawn as one line from the history API's answers that
// the chart's links give.
func testCompare(ctx context.Context, t *testing.T, p *page, waitReady func(what, k, v string)) {
	t.Helper()
	choose := func(id, v string) {
		t.Helper()
		if err := p.eval(ctx, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
			if (s.value !== %q) throw new Error('no option ' + %q + ' in ' + %q);
			s.dispatchEvent(new Event('change', {bubbles: true})); })()`, id, v, v, v, id), nil); err != nil {
			t.Fatal(err)
		}
	}
	type line struct {
		Name, D, Class string
	}
	type drawn struct {
		Lines  []line
		Legend []string
		Label  string
		Option string
		// Last are the latest prices of the chart's and the comparison's
		// lines as their JSON links answer them: the cheapest nonzero
		// price over the series at the last sample.
		Last    map[string]float64
		Links   map[string]string
		CSVRows map[string]int
	}
	read := func() drawn {
		t.Helper()
		var d drawn
		err := p.eval(ctx, `(async () => {
			const last = {}, links = {}, csvRows = {};
			for (const name of ['chart', 'compare']) {
				const a = document.querySelector('#' + name + '-json');
				if (!a) continue;
				links[name] = a.getAttribute('href');
				const data = (await (await fetch(a.href)).json()).data;
				let t = -1, best = Infinity;
				for (const s of data.result) for (const [ts, v] of s.values) {
					const f = Number(v);
					if (!(f > 0)) continue;
					if (Number(ts) > t) { t = Number(ts); best = f; } else if (Number(ts) === t) best = Math.min(best, f);
				}
				last[name] = best;
				const csv = await (await fetch(document.querySelector('#' + name + '-csv').href)).text();
				csvRows[name] = csv.trim().split(String.fromCharCode(10)).length - 1;
			}
			return {
				lines: [...document.querySelectorAll('#chart path.series')].map(p => ({name: p.dataset.name, d: p.getAttribute('d'), class: p.getAttribute('class')})),
				legend: [...document.querySelectorAll('#history .legend li')].map(li => li.textContent),
				label: document.querySelector('#c-provider-label').textContent,
				option: document.querySelector('#c-provider').selectedOptions[0].textContent,
				last, links, csvRows};
		})()`, &d)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	check := func(what string, d drawn, names [2]string, history bool) {
		t.Helper()
		if len(d.Lines) != 2 || d.Lines[0].Name != names[0] || d.Lines[1].Name != names[1] {
			t.Fatalf("%s: chart lines %v, want %v", what, d.Lines, names)
		}
		if d.Lines[0].Class == d.Lines[1].Class || !strings.Contains(d.Lines[1].Class, "dashed") {
			t.Errorf("%s: lines of classes %q and %q, want distinct ones, the comparison dashed", what, d.Lines[0].Class, d.Lines[1].Class)
		}
		if history {
			for _, l := range d.Lines {
				if n := strings.Count(l.D, "V"); n < 2 {
					t.Errorf("%s: line %s has %d price changes, want at least 2 (the history): d=%s", what, l.Name, n, l.D)
				}
			}
		}
		if len(d.Legend) != 2 {
			t.Fatalf("%s: legend %v, want 2 entries", what, d.Legend)
		}
		for i, name := range []string{"chart", "compare"} {
			want := fmt.Sprintf("%s: %.3f", names[i], d.Last[name])
			if d.Legend[i] != want {
				t.Errorf("%s: legend entry %q, want %q from its link %s", what, d.Legend[i], want, d.Links[name])
			}
			if d.CSVRows[name] == 0 {
				t.Errorf("%s: the CSV link of %s has no rows", what, name)
			}
		}
	}

	// Two providers' H100s: the chart at Vast.ai, then Runpod to compare
	// with, whose GPU the page takes from the chart's.
	choose("#c-provider", "vastai")
	waitReady("chart at vastai", "chart_provider", "vastai")
	choose("#c-compare-provider", "runpod")
	waitReady("compare with runpod", "compare_gpu_model", "H100")
	var search string
	p.eval(ctx, `location.search`, &search)
	if !strings.Contains(search, "compare_provider=runpod") {
		t.Errorf("the URL %q does not keep the provider to compare with", search)
	}
	d := read()
	check("vastai and runpod", d, [2]string{"H100 at vastai", "H100 at runpod"}, true)
	if d.Label != "Provider" || d.Option != "vastai" {
		t.Errorf("comparing, the chart's provider choice reads %q: %q, want Provider: vastai", d.Label, d.Option)
	}
	for name, want := range map[string][]string{
		"chart":   {"gpu_model=H100", "provider=vastai", "agg=min", "by=provider", "pricing_model=on_demand%2Cspot%2Creserved_1y%2Creserved_3y"},
		"compare": {"gpu_model=H100", "provider=runpod", "agg=min", "by=provider"},
	} {
		for _, w := range want {
			if !strings.Contains(d.Links[name], w) {
				t.Errorf("the %s link %s lacks %s", name, d.Links[name], w)
			}
		}
	}
	screenshot(ctx, t, p, "web-ui-compare.png")

	// Another GPU at any provider: the A100 has prices since the first
	// refresh only.
	choose("#c-compare-provider", "")
	waitReady("compare at any provider", "compare_provider", "")
	choose("#c-compare-gpu", "A100")
	waitReady("compare with the A100", "compare_gpu_model", "A100")
	check("H100 at vastai and A100", read(), [2]string{"H100 at vastai", "A100 at any provider"}, false)

	// Nothing to compare with: one line per provider again.
	choose("#c-compare-gpu", "")
	waitReady("no comparison", "compare_gpu_model", "")
	choose("#c-provider", "")
	waitReady("one line per provider", "chart_provider", "")
	if d := read(); len(d.Lines) < 3 || d.Label != "Lines" || d.Option != "one per provider" || d.Links["compare"] != "" {
		t.Errorf("without a comparison: lines %v, provider choice %q: %q, links %v", d.Lines, d.Label, d.Option, d.Links)
	}
}

// screenshot saves a PNG of page p as name in $GPUPRICE_ARTIFACTS, or in
// a temporary directory: never in the repository.
func screenshot(ctx context.Context, t *testing.T, p *page, name string) {
	t.Helper()
	dir := os.Getenv("GPUPRICE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := p.screenshot(ctx, f); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}
