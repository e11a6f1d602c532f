package api

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
)

// landingTemplate is the page at /: links to everything the server offers.
// It is self-contained (no scripts, fonts or stylesheets from elsewhere) so
// that it works offline and behind strict proxies. Links are relative, so
// the page also works when a reverse proxy serves gpuprice under a prefix.
var landingTemplate = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gpuprice</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { margin-bottom: 0; }
.version { color: #666; margin-top: 0; }
code { background: #f3f3f3; padding: 0 .2em; }
li { margin: .2em 0; }
</style>
</head>
<body>
<h1>gpuprice</h1>
<p class="version">version {{with .Version}}{{.}}{{else}}unknown{{end}}</p>
<p>Live GPU prices from cloud providers and marketplaces, their history, and a Prometheus exporter.</p>

<h2>Metrics</h2>
<ul>
<li><a href="{{.MetricsHref}}">{{.MetricsPath}}</a> – Prometheus exposition</li>
</ul>

<h2>API</h2>
<p>Answers are JSON <code>{"data": ...}</code>; add <code>format=csv</code> for CSV.</p>
<ul>
<li><a href="api/v1/prices">/api/v1/prices</a> – every current price;
  e.g. <a href="api/v1/prices?gpu_model=H100&amp;pricing_model=spot&amp;limit=20">H100 spot, cheapest 20</a>,
  <a href="api/v1/prices?geo=eu&amp;max_gpu_usd_per_hour=2&amp;format=csv">under $2/GPU-hour in eu, as CSV</a></li>
<li><a href="api/v1/cheapest">/api/v1/cheapest</a> – the cheapest offer per GPU, memory and pricing model;
  e.g. <a href="api/v1/cheapest?gpu_model=H100,H200,B200">H100, H200 and B200</a></li>
<li><a href="api/v1/offers">/api/v1/offers</a> – individual marketplace offers;
  e.g. <a href="api/v1/offers?gpu_model=RTX4090&amp;limit=50">RTX 4090, cheapest 50</a></li>
<li><a href="api/v1/history?gpu_model=H100&amp;pricing_model=spot">/api/v1/history</a> – price changes over the last 7 days;
  e.g. <a href="api/v1/history?gpu_model=H100&amp;pricing_model=spot&amp;step=1d&amp;agg=min">cheapest H100 spot per day</a></li>
<li><a href="api/v1/providers">/api/v1/providers</a> – refresh status per provider</li>
<li><a href="api/v1/gpus">/api/v1/gpus</a> – the GPU catalog;
  e.g. <a href="api/v1/gpus?provider=azure">Azure's names for them</a></li>
</ul>

<h2>Health</h2>
<ul>
<li><a href="-/healthy">/-/healthy</a></li>
<li><a href="-/ready">/-/ready</a></li>
<li><code>POST /-/reload</code> – reload the configuration, e.g. <code>curl -X POST localhost:9847/-/reload</code></li>
</ul>
</body>
</html>
`))

func (a *API) landing(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	err := landingTemplate.Execute(&buf, struct{ Version, MetricsPath, MetricsHref string }{
		Version:     a.version,
		MetricsPath: a.metricsPath,
		MetricsHref: strings.TrimPrefix(a.metricsPath, "/"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}
