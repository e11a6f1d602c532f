// Package api serves gpuprice's JSON/CSV HTTP API, the health and reload
// endpoints, and the web UI (ui.go).
//
// Live prices (/api/v1/prices, /api/v1/offers, /api/v1/cheapest,
// /api/v1/providers) are read from the snapshots the collectors.Runner
// publishes in memory, never from the store, so they are as fresh as the
// last refresh and cost no I/O. Only history, export and breakeven read
// the store.
//
// # Routes
//
//	GET  /api/v1/prices     every quote of every served snapshot
//	GET  /api/v1/offers     every individual marketplace offer (Vast.ai ...)
//	GET  /api/v1/cheapest   cheapest quote per (gpu_model, gpu_memory_gb, pricing_model)
//	GET  /api/v1/history    price series from the store, raw or resampled (history.go)
//	GET  /api/v1/history/stats  per-series statistics over the window
//	GET  /api/v1/export     raw history in bulk: CSV, Parquet, OpenMetrics (export.go)
//	GET  /api/v1/providers  per-provider refresh status
//	GET  /api/v1/gpus       the GPU catalog, or one provider's alias table
//	GET  /api/v1/breakeven  rent vs buy for a GPU and a workload (breakeven.go)
//	GET  /-/healthy         200 "Healthy"
//	GET  /-/ready           200 "Ready" or 503 "Not ready: ...", with the failing providers
//	POST /-/reload          reload the configuration (403 unless enabled)
//	GET  /                  web UI: cheapest prices, filters, price table, history chart
//	GET  /ui/{file}         the web UI's script and stylesheet
//
// Individual marketplace offers have their own endpoint rather than an
// include=offers switch on /prices: an offer carries an id and a location a
// quote does not have, and a separate endpoint keeps one row shape per
// answer (which CSV needs) and lets filters, sort and limit apply to offers
// directly.
//
// # Parameters
//
// Label filters, accepted by prices, offers, cheapest and history:
// provider, instance_type, region, zone, geo, pricing_model, gpu_model,
// gpu_form, gpu_memory_gb, gpu_count. Each takes one value or several
// separated by commas (or the parameter repeated), and matches a quote
// whose label equals any of them. gpu_model is matched case-insensitively,
// provider, region, zone, geo, pricing_model and gpu_form are lower-cased,
// instance_type is exact. gpu_memory_gb and gpu_count compare as label
// values (at most 4 decimals), so gpu_count=0.1667 matches 1/6.
//
// prices, offers and cheapest also take max_gpu_usd_per_hour, sort
// (gpu_usd_per_hour, usd_per_hour, provider, gpu_model; a "-" prefix sorts
// descending; ties are broken by price and then by series, so answers are
// deterministic) and limit (a positive integer; default: everything).
// cheapest sorts by gpu_model (then price) unless told otherwise.
//
// history takes start and end (RFC 3339 or unix seconds; default end = now,
// start = end - 7d), step (a Prometheus duration such as 1h or 1d, or
// seconds), agg (min, max, avg, p10, p50, p90), by (labels to group the
// aggregation by), price (gpu, the default, or instance) and stale_after.
// Without step it answers each matching series' change points in [start,
// end], starting with the point in effect at start; withdrawal points have
// withdrawn=true and no price. With step it answers a Prometheus-like
// matrix: each series' step function sampled at start, start+step, ... up
// to end, leaving out the samples where its price is unknown (before its
// first point, while withdrawn, or once the poll log stops vouching for it:
// store/query); with agg as well, at each sample time, the series that had
// a price aggregated per by group, each group labelled with the labels all
// its series share. history/stats takes the same parameters and below, and
// summarizes each series (or aggregate) over the window: store/query's
// Summary.
//
// Every endpoint answers JSON by default, and CSV for format=csv or an
// Accept header that names text/csv before application/json; format wins
// over Accept.
//
// Unknown parameters are refused (a misspelt filter must not silently match
// everything); parameters given with an empty value are ignored, so that an
// HTML form's blank fields mean "any".
//
// # Answers
//
// JSON answers are {"data": ...}; list endpoints give an array of objects
// keyed by the label and field names of DESIGN §3, timestamps in RFC 3339
// (UTC). Errors are {"error": "..."}: 400 for a bad or unknown parameter,
// naming it and the bad value; 503 when history is asked of a server without
// a store, or the store fails. CSV answers start with a header row of the
// same names; numbers are written in the shortest exact decimal form, and
// gpu_memory_gb and gpu_count as label values (empty when absent).
package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// DefaultMaxPoints bounds the points one history request may produce.
const DefaultMaxPoints = 1_000_000

// Options are what the API serves from. Only States is required.
type Options struct {
	// States returns every provider's current published state. It is
	// called once per request and must be safe for concurrent use
	// (collectors.Runner.States is).
	States func() []*collectors.State
	// Ping checks that the store is open and answers, for /-/ready; nil
	// means there is nothing to check. It must be safe for concurrent use
	// and return soon (it is given the request's context).
	Ping func(ctx context.Context) error
	// NotReady says why the daemon cannot serve yet, before any check of
	// the store or the providers (the store still opening: "store:
	// connection refused (retrying in 4s)"); nil or "" means nothing. It
	// must not return secrets.
	NotReady func() string
	// Store holds the history; nil makes /api/v1/history, /api/v1/export
	// and /api/v1/breakeven answer 503. A read-only view
	// (sqlite.OpenReader) is enough.
	Store store.Reader
	// Catalog is the GPU catalog; nil means price.DefaultCatalog().
	Catalog *price.Catalog
	// Reload reloads the configuration for POST /-/reload; nil makes that
	// endpoint answer 403 (the daemon's --web.enable-lifecycle is off). It may be called concurrently with itself and
	// with a SIGHUP reload, and must serialize them.
	Reload func() error
	// Logger receives failures at the HTTP boundary (store errors, failed
	// reloads); nil discards them.
	Logger *slog.Logger
	// Version is shown on the web UI.
	Version string
	// MetricsPath is where the exporter is served, for the web UI's
	// link; default "/metrics". The API does not serve it.
	MetricsPath string
	// Config returns the current configuration, whose owned: and static:
	// entries /api/v1/breakeven compares with renting; nil means none. It
	// must be safe for concurrent use.
	Config func() *config.Config
	// MaxPoints bounds the points one history request may answer (raw
	// points, or samples with step); default DefaultMaxPoints.
	MaxPoints int
	// MaxSamples bounds the samples a resampled history request may take
	// (matched series × steps); default query.DefaultLimits.MaxSamples.
	MaxSamples int
	// MaxExportRows bounds the rows (CSV, Parquet) or samples
	// (OpenMetrics) one /api/v1/export may write, checked before writing
	// with a store that is a store.Counter; 0: no bound (the history
	// command's in-process API).
	MaxExportRows int64
	// MaxHeavyQueries bounds the history, history/stats, export and
	// breakeven requests served at once; beyond it they get 429 with
	// Retry-After. 0: no bound.
	MaxHeavyQueries int
}

// API serves the HTTP API. It holds no mutable state of its own and is safe
// for concurrent use.
type API struct {
	states      func() []*collectors.State
	ping        func(ctx context.Context) error
	notReady    func() string
	store       store.Reader
	catalog     *price.Catalog
	reload      func() error
	logger      *slog.Logger
	version     string
	metricsPath string
	maxPoints   int
	maxSamples  int
	now         func() time.Time // the default history end; tests pin it
	config      func() *config.Config

	// maxExportRows and heavySlots (a semaphore of MaxHeavyQueries; nil:
	// no bound) are the export and concurrency bounds (limits.go).
	maxExportRows int64
	heavySlots    chan struct{}
}

// New returns an API serving from opts.
func New(opts Options) *API {
	a := &API{
		states:      opts.States,
		ping:        opts.Ping,
		notReady:    opts.NotReady,
		store:       opts.Store,
		catalog:     opts.Catalog,
		reload:      opts.Reload,
		logger:      opts.Logger,
		version:     opts.Version,
		metricsPath: opts.MetricsPath,
		maxPoints:   opts.MaxPoints,
		maxSamples:  opts.MaxSamples,
		config:      opts.Config,
		now:         time.Now,
	}
	a.maxExportRows = opts.MaxExportRows
	if a.states == nil {
		a.states = func() []*collectors.State { return nil }
	}
	if a.catalog == nil {
		a.catalog = price.DefaultCatalog()
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.metricsPath == "" {
		a.metricsPath = "/metrics"
	}
	if a.maxPoints <= 0 {
		a.maxPoints = DefaultMaxPoints
	}
	if opts.MaxHeavyQueries > 0 {
		a.heavySlots = make(chan struct{}, opts.MaxHeavyQueries)
	}
	return a
}

// Register adds the API's routes to mux. The web UI is registered for
// "/" exactly, so other paths stay 404 and a wrong method on a known path
// gets 405 from the mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/prices", a.prices)
	mux.HandleFunc("GET /api/v1/offers", a.offers)
	mux.HandleFunc("GET /api/v1/cheapest", a.cheapest)
	mux.HandleFunc("GET /api/v1/history", a.heavy(a.history))
	mux.HandleFunc("GET /api/v1/history/stats", a.heavy(a.historyStats))
	mux.HandleFunc("GET /api/v1/export", a.heavy(a.export))
	mux.HandleFunc("GET /api/v1/providers", a.providers)
	mux.HandleFunc("GET /api/v1/gpus", a.gpus)
	mux.HandleFunc("GET /api/v1/breakeven", a.heavy(a.breakeven))
	mux.HandleFunc("GET /-/healthy", a.healthy)
	mux.HandleFunc("GET /-/ready", a.readyz)
	mux.HandleFunc("POST /-/reload", a.reloadz)
	mux.HandleFunc("GET /{$}", a.ui)
	mux.HandleFunc("GET /ui/{file}", a.uiAsset)
}

// format is an answer's encoding.
type format int

const (
	formatJSON format = iota
	formatCSV
)

// negotiate picks the answer's format: the format parameter if given, else
// the first of text/csv and application/json the Accept header names.
// Quality values are ignored: clients that want CSV say so plainly.
func negotiate(r *http.Request, v string) (format, error) {
	switch v {
	case "json":
		return formatJSON, nil
	case "csv":
		return formatCSV, nil
	case "":
	default:
		return 0, badParam("format", v, "is not json or csv")
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return formatCSV, nil
		case "application/json":
			return formatJSON, nil
		}
	}
	return formatJSON, nil
}

// httpError is an error with the status it answers.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// badParam is the 400 for parameter name given value v; why says what is
// wrong with it.
func badParam(name, v, why string) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf("bad parameter %q: %q %s", name, v, why)}
}

func errorf(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// fail answers err as JSON {"error": ...}; errors that are not httpErrors
// are 500s and logged.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{http.StatusInternalServerError, err.Error()}
	}
	if he.status >= 500 {
		a.logger.Error("API request failed", "path", r.URL.Path, "query", r.URL.RawQuery, "status", he.status, "err", he.msg)
	}
	writeError(w, he.status, he.msg)
}

// writeError answers {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

// writeJSON answers {"data": v}. It encodes the whole answer before
// writing any of it, so that a value JSON cannot carry (a NaN or an
// infinity that escaped the parameter ranges: a bug) is a logged 500
// rather than a 200 with an empty body.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(struct {
		Data any `json:"data"`
	}{v})
	if err != nil {
		a.fail(w, r, fmt.Errorf("encoding the answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n')) // a write error means the client left
}

// writeJSONList answers {"data": [...]} one element at a time, so that a
// large answer is never held whole in memory. conv must not fail: every
// float in its result is a number, which encodes non-finite values as null.
func writeJSONList[T any](w http.ResponseWriter, items []T, conv func(*T) any) {
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"data":[`)
	for i := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n') // one element per line: greppable, diffable
		b, _ := json.Marshal(conv(&items[i]))
		bw.Write(b)
	}
	bw.WriteString("]}\n")
	_ = bw.Flush() // a write error means the client left
}

// writeCSV answers a CSV table; rows calls emit once per row, reusing rec.
func writeCSV(w http.ResponseWriter, header []string, rows func(emit func([]string))) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	rows(func(rec []string) { _ = cw.Write(rec) })
	cw.Flush()
}

// number is a float64 that encodes NaN and ±Inf as JSON null instead of
// failing the whole answer: a price that cannot be computed (a GPU count of
// zero in an unchecked offer, a withdrawn point) is absent, not an error.
type number float64

// MarshalJSON implements json.Marshaler.
func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64), nil
}

// formatFloat renders a CSV number; non-finite values are empty.
func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// formatOptional renders a CSV number that is absent when zero.
func formatOptional(f float64) string {
	if f == 0 {
		return ""
	}
	return formatFloat(f)
}

// formatTime renders a CSV timestamp; the zero time is empty.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
