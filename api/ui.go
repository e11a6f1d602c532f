package api

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// The web UI at / is one server-rendered page that shows the current
// prices without JavaScript (the filter form is a plain GET form, the sort
// links are plain links) and that ui/static/app.js enhances: filters apply
// as they change, tables refresh from the JSON API, and a history chart is
// drawn as inline SVG. Everything is embedded and served from here, with a
// Content-Security-Policy that allows nothing from elsewhere, so the page
// works offline and behind strict proxies. Links are relative, so it also
// works when a reverse proxy serves gpuprice under a prefix.
//
// The page takes the API's filter and sort parameters under the same names,
// so that its query string can be handed to /api/v1/cheapest and
// /api/v1/prices as it is, plus its own: unit (hour or month: prices per
// hour or per month of 730 hours), chart_gpu_model, chart_provider,
// chart_range, and compare_gpu_model and compare_provider (the chart's
// second line, see Comparing). Unlike the API it ignores parameters it
// does not know: a page link with a tracking parameter must still open.

//go:embed ui
var uiFiles embed.FS

var uiTemplate = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"usd":    formatUSD,
	"number": price.FormatNumber,
	"known":  formatKnown,
}).ParseFS(uiFiles, "ui/index.html"))

// uiStatic holds the page's script and stylesheet, served under /ui/.
var uiStatic = func() fs.FS {
	sub, err := fs.Sub(uiFiles, "ui/static")
	if err != nil {
		panic(err)
	}
	return sub
}()

// uiETags are the static files' content hashes: browsers revalidate them on
// every load (Cache-Control: no-cache) and get a 304 until gpuprice is
// upgraded.
var uiETags = func() map[string]string {
	tags := map[string]string{}
	err := fs.WalkDir(uiStatic, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(uiStatic, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tags[path] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	if err != nil {
		panic(err)
	}
	return tags
}()

// uiCSP lets the page load only its own script, stylesheet and API.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// uiDefaults are the values of the page parameters that links leave out;
// app.js has the same.
var uiDefaults = map[string]string{"sort": "gpu_usd_per_hour", "limit": "50", "chart_range": "1d", "unit": "hour"}

// hoursPerMonth is the month of the $/month prices: 730 hours, as the
// planner's (planner.HoursPerMonth).
const hoursPerMonth = 730

// uiOwnPricing are the pricing models of prices nobody rents out: owned
// hardware (amortized) and configured allocations and contracts (fixed).
// The page shows their rows, and any row priced 0 (a free allocation),
// apart from the cheapest prices to rent; app.js does the same.
var uiOwnPricing = []price.PricingModel{price.Amortized, price.Fixed}

// rented reports whether q is a price to rent at, for the page's tables.
func rented(q *price.Quote) bool {
	return !slices.Contains(uiOwnPricing, q.PricingModel) && q.USDPerHour != 0
}

// uiColumn is a column of the quote tables; Sort is its sort key on the
// price table, "" when it cannot be sorted on.
type uiColumn struct {
	Label, Sort string
	Numeric     bool
	Price       string // gpu or instance: a price column, labelled by the unit
	Help        string // the heading's tooltip, where the label is not enough
}

// uiColumns are the quote tables' columns; ui/index.html and app.js write
// the cells in this order. The label columns take their title from the
// price label table. The host's vCPUs and RAM follow the instance type
// they come with.
var uiColumns = []uiColumn{
	labelColumn("gpu_model", "gpu_model"), labelColumn("gpu_memory_gb", ""), labelColumn("gpu_count", ""),
	labelColumn("pricing_model", ""),
	{Label: "$/GPU-hour", Sort: "gpu_usd_per_hour", Numeric: true, Price: "gpu"},
	{Label: "$/hour", Sort: "usd_per_hour", Numeric: true, Price: "instance"},
	labelColumn("provider", "provider"), labelColumn("instance_type", ""),
	{Label: "vCPUs", Numeric: true, Help: "The host's vCPUs that come with the GPUs, where the provider says."},
	{Label: "RAM (GB)", Numeric: true, Help: "The host's RAM in GB that comes with the GPUs (Memory is each GPU's), where the provider says."},
	labelColumn("region", ""), labelColumn("geo", ""),
}

// labelColumn is the column of the label called name, sorted by sort
// ("" for none).
func labelColumn(name, sort string) uiColumn {
	l := price.LabelNamed(name)
	return uiColumn{Label: l.Title, Sort: sort, Numeric: l.Numeric()}
}

// columnsIn returns the columns with the price columns labelled per unit.
func columnsIn(unit string) []uiColumn {
	cols := slices.Clone(uiColumns)
	for i := range cols {
		if cols[i].Price != "" {
			cols[i].Label = priceLabel(cols[i].Price, unit)
		}
	}
	return cols
}

// priceLabel is a price column's heading: $/GPU-hour, $/month, ...
func priceLabel(kind, unit string) string {
	if kind == "gpu" {
		return "$/GPU-" + unit
	}
	return "$/" + unit
}

// uiPage is what ui/index.html renders.
type uiPage struct {
	Version, MetricsPath, MetricsHref string
	Error                             string // a bad parameter; the tables are then empty

	// query is the page's state: the parameters it understands, as given.
	query url.Values

	Providers, PricingModels, Geos, GPUModels []string
	Regions                                   []string // of the current prices, for the region field's suggestions
	ChartModels                               []string // the GPU models but UNKNOWN
	Columns                                   []uiColumn

	// Cheapest are the cheapest prices to rent; Own the cheapest of
	// owned hardware, allocations and contracts (see rented).
	Cheapest, Own, Prices []*price.Quote
	Status                []uiStatus
}

// uiStatus is one provider's row in the status table.
type uiStatus struct {
	providerJSON
	State       string // ok, failing, stale, pending
	ErrorCounts string
}

// uiParams are the parameters the page keeps in its URL.
var uiParams = []string{
	"provider", "pricing_model", "geo", "region", "gpu_model", "max_gpu_usd_per_hour",
	"sort", "limit", "unit", "chart_gpu_model", "chart_provider", "chart_range",
	"compare_gpu_model", "compare_provider",
}

// uiFilters are the page parameters that are the API's filters.
var uiFilters = []string{"provider", "pricing_model", "geo", "region", "gpu_model", "max_gpu_usd_per_hour"}

// Q returns the page parameter name as given ("" when absent); the form
// shows it back.
func (p *uiPage) Q(name string) string {
	return strings.Join(params(p.query).list(name), ",")
}

// uiChoice is an option of a select.
type uiChoice struct {
	Value    string
	Selected bool
}

// Choices returns the options of the select for parameter name: values,
// and the parameter's value first if it is not among them (a link may name
// several values, or one that has no price now), marked selected.
func (p *uiPage) Choices(name string, values []string) []uiChoice {
	cur := p.Q(name)
	out := make([]uiChoice, 0, len(values)+1)
	if cur != "" && !slices.Contains(values, cur) {
		out = append(out, uiChoice{cur, true})
	}
	for _, v := range values {
		out = append(out, uiChoice{v, v == cur})
	}
	return out
}

// Ranges are the history chart's time ranges, shortest first; the
// chart samples each at about 150 points (app.js holds the steps).
func (*uiPage) Ranges() []string { return []string{"1h", "6h", "1d", "7d", "30d"} }

// Limits are the choices offered for the price table's length.
func (*uiPage) Limits() []string { return []string{"25", "50", "100", "500"} }

// Units are the units prices are shown in: per hour, or per month of 730
// hours.
func (*uiPage) Units() []string { return []string{"hour", "month"} }

// Unit is the unit prices are shown in.
func (p *uiPage) Unit() string { return cmp.Or(p.Q("unit"), uiDefaults["unit"]) }

// uiTable names one of the page's quote tables for its template.
type uiTable struct {
	Page  *uiPage
	Table string // cheapest, own or prices
}

// Table returns the template's handle on table name.
func (p *uiPage) Table(name string) uiTable { return uiTable{p, name} }

// APIHref is the API's answer behind a table, in format (csv or json):
// /api/v1/cheapest for the cheapest tables (own: the owned and fixed
// pricing models, else the others), /api/v1/prices with the sort and limit
// for the price table.
func (p *uiPage) APIHref(table, format string) string {
	q := url.Values{}
	for _, k := range uiFilters {
		if v := p.Q(k); v != "" {
			q.Set(k, v)
		}
	}
	path := "api/v1/cheapest"
	switch table {
	case "prices":
		path = "api/v1/prices"
		q.Set("sort", p.sort())
		q.Set("limit", cmp.Or(p.Q("limit"), uiDefaults["limit"]))
	case "cheapest", "own":
		if q.Get("pricing_model") == "" {
			var models []string
			for _, m := range price.PricingModels {
				if slices.Contains(uiOwnPricing, m) == (table == "own") {
					models = append(models, string(m))
				}
			}
			q.Set("pricing_model", strings.Join(models, ","))
		}
	}
	q.Set("format", format)
	return path + "?" + q.Encode()
}

// Href is the page's own link with parameter name set to v and the
// fragment frag. Empty and default values are left out.
func (p *uiPage) Href(name, v, frag string) string {
	q := url.Values{}
	for _, k := range uiParams {
		s := p.Q(k)
		if k == name {
			s = v
		}
		if s != "" && s != uiDefaults[k] {
			q.Set(k, s)
		}
	}
	href := "./"
	if e := q.Encode(); e != "" {
		href = "?" + e
	}
	if frag != "" {
		href += "#" + frag
	}
	return href
}

// sort is the price table's sort key, "-" prefixed when descending.
func (p *uiPage) sort() string {
	return cmp.Or(p.Q("sort"), uiDefaults["sort"])
}

// SortHref is the price table header's link for sort key k: ascending
// first, descending when the table is already sorted ascending on k.
func (p *uiPage) SortHref(k string) string {
	if p.sort() == k {
		return p.Href("sort", "-"+k, "prices")
	}
	return p.Href("sort", k, "prices")
}

// AriaSort is the aria-sort value of the price table's column with sort
// key k.
func (p *uiPage) AriaSort(k string) string {
	switch p.sort() {
	case k:
		return "ascending"
	case "-" + k:
		return "descending"
	}
	return "none"
}

// Comparing reports whether the chart compares two selections, each drawn
// as one line of its cheapest price to rent: the chart's GPU model at its
// provider (any when none), and compare_gpu_model at compare_provider
// (any when none). Without compare_gpu_model the chart draws one line per
// provider (or per pricing model of chart_provider), as before; app.js
// sets compare_gpu_model to the chart's GPU when only a provider to
// compare with is chosen.
func (p *uiPage) Comparing() bool { return p.Q("compare_gpu_model") != "" }

// HistoryHref links the chart's data as CSV, for browsers without
// JavaScript.
func (p *uiPage) HistoryHref() string {
	return historyHref(p.Q("chart_gpu_model"), p.Q("chart_provider"), p.Q("geo"), p.Q("pricing_model"))
}

// CompareHistoryHref links the data of the chart's comparison as CSV, for
// browsers without JavaScript.
func (p *uiPage) CompareHistoryHref() string {
	return historyHref(p.Q("compare_gpu_model"), p.Q("compare_provider"), p.Q("geo"), p.Q("pricing_model"))
}

func historyHref(model, provider, geo, pricing string) string {
	q := url.Values{"format": {"csv"}}
	for k, v := range map[string]string{"gpu_model": model, "provider": provider, "geo": geo, "pricing_model": pricing} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return "api/v1/history?" + q.Encode()
}

// uiRow is one row of a quote table.
type uiRow struct {
	*price.Quote
	ChartHref string  // the page showing this GPU's history
	hours     float64 // in the page's unit: 1, or 730 for a month
}

// GPUPrice and InstancePrice are the row's prices in the page's unit.
func (r uiRow) GPUPrice() string      { return formatUSD(r.GPUUSDPerHour() * r.hours) }
func (r uiRow) InstancePrice() string { return formatUSD(r.USDPerHour * r.hours) }

// Rows returns the table rows of qs.
func (p *uiPage) Rows(qs []*price.Quote) []uiRow {
	hours := 1.0
	if p.Unit() == "month" {
		hours = hoursPerMonth
	}
	rows := make([]uiRow, len(qs))
	for i, q := range qs {
		rows[i] = uiRow{q, p.Href("chart_gpu_model", q.GPUModel, "history"), hours}
	}
	return rows
}

// formatUSD renders a price with three decimals (Azure's fractional GPUs
// give prices such as 0.0757); a price that cannot be computed is a dash.
func formatUSD(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return fmt.Sprintf("%.3f", f)
}

// formatKnown renders a number that is 0 when unknown (the host's vCPUs
// and RAM) as a dash then, as formatUSD does a price.
func formatKnown(f float64) string {
	if s := price.FormatNumber(f); s != "" {
		return s
	}
	return "–"
}

func (a *API) ui(w http.ResponseWriter, r *http.Request) {
	page := &uiPage{
		Version:       a.version,
		MetricsPath:   a.metricsPath,
		MetricsHref:   strings.TrimPrefix(a.metricsPath, "/"),
		Geos:          price.Geos,
		Columns:       uiColumns,
		PricingModels: price.PricingModelNames,
	}
	status := http.StatusOK
	if err := a.fillUI(page, r); err != nil {
		status = http.StatusBadRequest
		page.Error = err.Error()
	}
	var buf bytes.Buffer
	if err := uiTemplate.Execute(&buf, page); err != nil {
		a.fail(w, r, fmt.Errorf("render the web UI: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fillUI reads the page's parameters and fills in the data, from the same
// snapshots and with the same filters as the API. The status table and
// the choices of the form are filled in even when a parameter is bad.
func (a *API) fillUI(page *uiPage, r *http.Request) error {
	states := a.states()
	models, regions := map[string]bool{}, map[string]bool{}
	for _, st := range states {
		if st == nil {
			continue
		}
		page.Providers = append(page.Providers, st.Provider)
		s := uiStatus{providerJSON: toProviderJSON(st), State: providerState(st)}
		s.ErrorCounts = formatErrors(s.Errors)
		page.Status = append(page.Status, s)
		if st.Snapshot != nil {
			for i := range st.Snapshot.Quotes {
				models[st.Snapshot.Quotes[i].GPUModel] = true
				if r := st.Snapshot.Quotes[i].Region; r != "" {
					regions[r] = true
				}
			}
		}
	}
	for m := range models {
		page.GPUModels = append(page.GPUModels, m)
	}
	slices.Sort(page.GPUModels)
	for r := range regions {
		page.Regions = append(page.Regions, r)
	}
	slices.Sort(page.Regions)
	page.ChartModels = slices.DeleteFunc(slices.Clone(page.GPUModels), func(m string) bool { return m == price.Unknown })

	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad query string: %v", err)
	}
	page.query = url.Values{}
	for _, k := range uiParams {
		if v := q[k]; v != nil {
			page.query[k] = v
		}
	}
	// The selects' values are lower case, as the API's filters make them.
	for _, k := range []string{"provider", "pricing_model", "geo", "region", "unit", "chart_provider", "compare_provider"} {
		if v := page.Q(k); v != "" {
			page.query.Set(k, strings.ToLower(v))
		}
	}
	p := params(page.query)
	f, err := parseFilter(p, true)
	if err != nil {
		return err
	}
	sort, err := parseSort(p, uiDefaults["sort"])
	if err != nil {
		return err
	}
	for k, v := range uiDefaults {
		if page.Q(k) == "" {
			page.query.Set(k, v)
		}
	}
	limit, err := parseLimit(p)
	if err != nil {
		return err
	}
	if r := page.Q("chart_range"); !slices.Contains(page.Ranges(), r) {
		return badParam("chart_range", r, "is not one of "+strings.Join(page.Ranges(), ", "))
	}
	page.Columns = columnsIn(page.Unit())
	if u := page.Unit(); !slices.Contains(page.Units(), u) {
		page.Columns = uiColumns
		return badParam("unit", u, "is not one of "+strings.Join(page.Units(), ", "))
	}

	byModel := sorter{key: "gpu_model"}
	var rent, own []*price.Quote
	all := a.served(f)
	for _, q := range all {
		if rented(q) {
			rent = append(rent, q)
		} else {
			own = append(own, q)
		}
	}
	page.Cheapest, page.Own = cheapestOf(rent), cheapestOf(own)
	slices.SortFunc(page.Cheapest, byModel.compare)
	slices.SortFunc(page.Own, byModel.compare)
	page.Prices = all // rent and own keep their own order
	slices.SortFunc(page.Prices, sort.compare)
	page.Prices = truncate(page.Prices, limit)

	// The chart's parameters are checked by /api/v1/history when app.js
	// asks it; here they only select the form's choices.
	chartModel := strings.ToUpper(page.Q("chart_gpu_model"))
	if chartModel == "" {
		chartModel = defaultChartModel(p.list("gpu_model"), page.Cheapest)
	}
	page.query.Set("chart_gpu_model", chartModel)
	if m := page.Q("compare_gpu_model"); m != "" {
		page.query.Set("compare_gpu_model", strings.ToUpper(m))
	}
	return nil
}

// defaultChartModel picks the GPU the chart shows when the URL does not
// say: the one the filter names, else the H100 (the GPU people ask about
// most), else the first in the cheapest table.
func defaultChartModel(filtered []string, cheapest []*price.Quote) string {
	if len(filtered) == 1 {
		return strings.ToUpper(filtered[0])
	}
	for _, q := range cheapest {
		if q.GPUModel == "H100" {
			return "H100"
		}
	}
	for _, q := range cheapest {
		if q.GPUModel != price.Unknown {
			return q.GPUModel
		}
	}
	return ""
}

// providerState sums up a provider's status in a word; app.js says the
// same from /api/v1/providers.
func providerState(st *collectors.State) string {
	switch {
	case st.Stale:
		return "stale"
	case st.Success:
		return "ok"
	case !st.LastAttempt.IsZero():
		return "failing"
	}
	return "pending"
}

// uiAsset serves the page's script and stylesheet.
func (a *API) uiAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	tag, ok := uiETags[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", tag)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, uiStatic, name)
}
