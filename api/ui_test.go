package api

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
				`<td><a href="?chart_gpu_model=A10#history" data-chart="A10" title="A10 price history">A10</a> <span class="muted">pcie</span></td>
<td class="num">24</td>
<td class="num">0.1667</td>
<td>on_demand</td>
<td class="num price">2.724</td>
<td class="num">0.454</td>`,
				`<td>UNKNOWN (Tesla Z9)</td>`, `8x_H100 <span class="muted">(3 offers)</span>`,
				// The chart defaults to the H100.
				`<option selected>H100</option>`,
				`<a href="api/v1/history?format=csv&amp;gpu_model=H100">`,
				// Price table sorted by $/GPU-hour, ascending.
				`<th scope="col" class="num" aria-sort="ascending"><a href="?chart_gpu_model=H100&amp;sort=-gpu_usd_per_hour#prices" data-sort="gpu_usd_per_hour">$/GPU-hour</a></th>`,
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

// uiDemo is the daemon's data path on the demo's fake providers: the real
// Azure and Vast.ai collectors refreshing from fakecloud, a Runner, a SQLite
// store, and the API over them.
func uiDemo(t *testing.T) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Builtin()
	endpoints := map[string]func(url string){}
	for _, f := range collectors.Fakes() {
		endpoints[f.Provider] = func(u string) { f.Point(cfg, u) }
	}
	handlers := map[string]http.Handler{
		"azure":  fakecloud.NewAzure(fakecloud.AzureOptions{}),
		"vastai": fakecloud.NewVastAI(fakecloud.VastAIOptions{}),
	}
	for name, h := range handlers {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		endpoints[name](s.URL)
	}
	// Only the two faked providers: any other would go to the network.
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
	// A day of history for the H100s: each series cost 30% more 20 hours
	// ago and 10% more 8 hours ago than now.
	var past []price.Quote
	now := time.Now()
	for _, s := range runner.States() {
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
	mux := http.NewServeMux()
	New(Options{States: runner.States, Ping: st.Ping, Store: st, Version: "browser-test", Logger: logger}).Register(mux)
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
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	p, err := b.newPage(ctx, 1280, 900, true)
	if err != nil {
		t.Fatal(err)
	}
	// waitReady waits for app.js to finish an update whose URL has
	// parameter k set to v.
	waitReady := func(what, k, v string) {
		t.Helper()
		cond := fmt.Sprintf(`new URLSearchParams(location.search).get(%q) === %q && ['ready', 'error'].includes(document.body.dataset.state)`, k, v)
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

	// The chart: one line per provider over the day of history.
	var lines []struct{ Name, D string }
	p.eval(ctx, `[...document.querySelectorAll('#chart path.series')].map(p => ({name: p.dataset.name, d: p.getAttribute('d')}))`, &lines)
	var names []string
	for _, l := range lines {
		names = append(names, l.Name)
		if n := strings.Count(l.D, "V"); n < 2 {
			t.Errorf("chart line %s has %d price changes, want at least 2 (the history): d=%s", l.Name, n, l.D)
		}
	}
	if !slices.Equal(names, []string{"azure", "vastai"}) {
		t.Errorf("chart lines %v, want azure and vastai", names)
	}
	var legend int
	p.eval(ctx, `document.querySelectorAll('#history .legend li').length`, &legend)
	if legend != len(lines) {
		t.Errorf("legend has %d entries for %d lines", legend, len(lines))
	}

	screenshot(ctx, t, p, "web-ui.png")

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
