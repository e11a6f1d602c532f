// Package exporter serves gpuprice's /metrics.
//
// Prices change when a provider refreshes (minutes apart) but are scraped
// every few seconds, at up to 100k series. So the price families (and the
// per-provider collector gauges, which change at the same moments) are
// rendered to exposition text once per change, gzip-compressed once, and
// written as bytes on each scrape: a scrape does no per-series work. The
// few self-metrics (build info, config reload, go_*/process_*) come from an
// ordinary client_golang registry, gathered per scrape and appended; for
// gzip the two parts are spliced into one gzip member (see writeGzip).
package exporter

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// ContentType is the Prometheus text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Options configures an Exporter.
type Options struct {
	// States returns the providers' published states (collectors.Runner.States).
	States func() []*collectors.State
	// Gatherer supplies the self-metrics appended to every scrape; nil
	// means none.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
}

// Exporter renders and serves /metrics. It is safe for concurrent use.
type Exporter struct {
	opts  Options
	body  atomic.Pointer[rendered]
	mu    sync.Mutex // serializes Render
	buf   []byte     // render buffer, reused; guarded by mu
	lbuf  []byte     // label sets of the quotes, reused; guarded by mu
	dirty chan struct{}
	pool  sync.Pool // *scrapeBuf
}

// rendered is one immutable render of the price families.
type rendered struct {
	plain []byte
	// deflate is plain compressed as raw DEFLATE blocks, sync-flushed and
	// not final, so that more blocks can follow it.
	deflate []byte
	crc     uint32 // CRC-32 of plain
	series  int
	at      time.Time
}

// New returns an Exporter with an empty body; call Render (or Run) to fill it.
func New(opts Options) *Exporter {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{opts: opts, dirty: make(chan struct{}, 1)}
	e.body.Store(compress(nil, 0))
	return e
}

// Invalidate schedules a re-render; it never blocks, and bursts of calls
// coalesce into one render. Wire it to the Runner's onChange.
func (e *Exporter) Invalidate() {
	select {
	case e.dirty <- struct{}{}:
	default:
	}
}

// Run re-renders after each Invalidate until ctx is done.
func (e *Exporter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.dirty:
			e.Render()
		}
	}
}

// Render renders the price families from the current states and publishes
// the result; scrapes in flight keep the body they started with.
func (e *Exporter) Render() {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	var series int
	e.buf, e.lbuf, series = appendFamilies(e.buf[:0], e.lbuf[:0], e.opts.States())
	plain := slices.Clone(e.buf)
	e.body.Store(compress(plain, series))
	e.opts.Logger.Debug("rendered /metrics", "series", series, "bytes", len(plain), "duration_seconds", time.Since(start).Seconds())
}

func compress(plain []byte, series int) *rendered {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	fw.Write(plain)
	fw.Flush() // byte-aligned, not final: the scrape appends its own blocks
	return &rendered{plain: plain, deflate: z.Bytes(), crc: crc32.ChecksumIEEE(plain), series: series, at: time.Now()}
}

// Series returns how many price series the current body holds.
func (e *Exporter) Series() int { return e.body.Load().series }

type scrapeBuf struct {
	self bytes.Buffer
	z    bytes.Buffer
	fw   *flate.Writer
}

// ServeHTTP writes the current body and the self-metrics.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := e.body.Load()
	sb, _ := e.pool.Get().(*scrapeBuf)
	if sb == nil {
		sb = &scrapeBuf{}
	}
	defer e.pool.Put(sb)
	sb.self.Reset()
	if e.opts.Gatherer != nil {
		mfs, err := e.opts.Gatherer.Gather()
		if err != nil {
			e.opts.Logger.Warn("gathering self-metrics", "err", err)
		}
		enc := expfmt.NewEncoder(&sb.self, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			enc.Encode(mf)
		}
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Length", strconv.Itoa(len(body.plain)+sb.self.Len()))
		w.Write(body.plain)
		w.Write(sb.self.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	writeGzip(w, body, sb)
}

// writeGzip writes one gzip member holding body.plain followed by
// sb.self, without recompressing body: a gzip member is a header, DEFLATE
// blocks and a trailer (CRC-32 and length of the whole text). body.deflate
// ends in a sync flush, byte-aligned and not final, so a fresh
// compressor's blocks for the self-metrics can follow it directly (they
// never refer back into body's data), and crc32.Update extends body's CRC.
func writeGzip(w http.ResponseWriter, body *rendered, sb *scrapeBuf) {
	sb.z.Reset()
	if sb.fw == nil {
		sb.fw, _ = flate.NewWriter(&sb.z, flate.BestSpeed)
	} else {
		sb.fw.Reset(&sb.z)
	}
	sb.fw.Write(sb.self.Bytes())
	sb.fw.Close()

	// RFC 1952 header: magic, CM=deflate, no flags, no mtime, XFL 0, OS unknown.
	header := [10]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc32.Update(body.crc, crc32.IEEETable, sb.self.Bytes()))
	binary.LittleEndian.PutUint32(trailer[4:], uint32(len(body.plain)+sb.self.Len()))
	w.Header().Set("Content-Length", strconv.Itoa(len(header)+len(body.deflate)+sb.z.Len()+len(trailer)))
	w.Write(header[:])
	w.Write(body.deflate)
	w.Write(sb.z.Bytes())
	w.Write(trailer[:])
}

func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(coding) != "gzip" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// The families rendered from states, in output order.
const (
	helpGPU = "Price per GPU-hour in USD (usd_per_hour / gpu_count); for marketplaces the cheapest available offer of the shape. " +
		"Cached: refreshed on each provider's interval, not at scrape time."
	helpInstance = "Price of the whole instance or offer per hour in USD. Cached: refreshed on each provider's interval, not at scrape time."
	helpMarket   = "Marketplace price distribution per GPU-hour in USD across the offers of a GPU in a region (quantile 0.1, 0.5, 0.9; " +
		"_count is the number of offers, _sum their total). Cached: refreshed on each provider's interval."
	helpStock = "Whether the shape can be rented now, where the provider says: 0 not now (its price is kept), 1 available or low stock, " +
		"2 medium, 3 high. Cached: refreshed on each provider's interval."
	helpAvailable = "GPUs in rentable marketplace offers. Cached: refreshed on each provider's interval."
)

var marketLabels = price.LabelNames(price.MarketLabels)

// appendFamilies renders every family from states, using lbuf as scratch
// space, and returns the number of price series (gpuprice_gpu_usd_per_hour
// samples).
func appendFamilies(b, lbuf []byte, states []*collectors.State) ([]byte, []byte, int) {
	var quotes []*price.Quote
	var markets []*price.Market
	for _, st := range states {
		if st.Snapshot == nil {
			continue
		}
		for i := range st.Snapshot.Quotes {
			quotes = append(quotes, &st.Snapshot.Quotes[i])
		}
		for i := range st.Snapshot.Markets {
			markets = append(markets, &st.Snapshot.Markets[i])
		}
	}
	slices.SortFunc(quotes, price.CompareQuotes)
	slices.SortFunc(markets, compareMarket)

	// Both quote families share each quote's label set: render it once.
	ends := make([]int, len(quotes))
	for i, q := range quotes {
		lbuf = appendQuoteLabels(lbuf, q)
		ends[i] = len(lbuf)
	}
	family := func(name, help string, value func(*price.Quote) float64) {
		b = header(b, name, "gauge", help)
		start := 0
		for i, q := range quotes {
			b = append(b, name...)
			b = append(b, lbuf[start:ends[i]]...)
			b = appendValue(b, value(q))
			start = ends[i]
		}
	}
	family("gpuprice_gpu_usd_per_hour", helpGPU, (*price.Quote).GPUUSDPerHour)
	family("gpuprice_instance_usd_per_hour", helpInstance, func(q *price.Quote) float64 { return q.USDPerHour })
	// Availability, for the quotes whose provider states it.
	start, wroteHeader := 0, false
	for i, q := range quotes {
		if q.Stock != price.StockUnknown {
			if !wroteHeader {
				b = header(b, "gpuprice_gpu_available", "gauge", helpStock)
				wroteHeader = true
			}
			b = append(b, "gpuprice_gpu_available"...)
			b = append(b, lbuf[start:ends[i]]...)
			b = appendValue(b, q.Stock.Level())
		}
		start = ends[i]
	}

	vals := make([]string, len(price.MarketLabels))
	marketVals := func(m *price.Market) []string {
		labels := m.Labels()
		for i := range price.MarketLabels {
			vals[i] = price.MarketLabels[i].Value(&labels)
		}
		return vals
	}
	if len(markets) > 0 {
		// A summary: the quantiles of the offers' per-GPU-hour prices,
		// with _count the number of offers and _sum their total (so the
		// mean price is _sum / _count). promtool rejects a "quantile"
		// label on any other type.
		const market = "gpuprice_market_gpu_usd_per_hour"
		b = header(b, market, "summary", helpMarket)
		for _, m := range markets {
			vals := marketVals(m)
			for _, qv := range []struct {
				q string
				v float64
			}{{"0.1", m.P10}, {"0.5", m.P50}, {"0.9", m.P90}} {
				b = sample(b, market, marketLabels, vals, "quantile", qv.q, qv.v)
			}
			b = sample(b, market+"_sum", marketLabels, vals, "", "", m.SumGPUUSDPerHour)
			b = sample(b, market+"_count", marketLabels, vals, "", "", float64(m.Offers))
		}
		b = header(b, "gpuprice_available_gpus", "gauge", helpAvailable)
		for _, m := range markets {
			b = sample(b, "gpuprice_available_gpus", marketLabels, marketVals(m), "", "", m.AvailableGPUs)
		}
	}
	b = appendCollectorFamilies(b, states)
	return b, lbuf, len(quotes)
}

func appendCollectorFamilies(b []byte, states []*collectors.State) []byte {
	provider := []string{"provider"}
	gauge := func(name, help string, value func(*collectors.State) float64) {
		b = header(b, name, "gauge", help)
		for _, st := range states {
			b = sample(b, name, provider, []string{st.Provider}, "", "", value(st))
		}
	}
	gauge("gpuprice_collector_success", "1 if the provider's last refresh succeeded, else 0.", func(st *collectors.State) float64 {
		if st.Success {
			return 1
		}
		return 0
	})
	gauge("gpuprice_collector_degraded", "1 if the provider's last successful refresh shrank suspiciously and its last good quotes are served instead (for at most accept_drop_after refreshes), else 0.",
		func(st *collectors.State) float64 {
			if st.Degraded != "" {
				return 1
			}
			return 0
		})
	gauge("gpuprice_collector_last_success_timestamp_seconds", "Unix time of the provider's last successful refresh (0: none yet); alert on staleness with it.",
		func(st *collectors.State) float64 { return unixSeconds(st.LastSuccess) })
	gauge("gpuprice_collector_duration_seconds", "Duration of the provider's last refresh.",
		func(st *collectors.State) float64 { return st.LastDuration.Seconds() })
	gauge("gpuprice_collector_interval_seconds", "Configured refresh interval of the provider.",
		func(st *collectors.State) float64 { return st.Interval.Seconds() })
	gauge("gpuprice_collector_quotes", "Quotes in the provider's current snapshot (0 when none is served).", func(st *collectors.State) float64 {
		if st.Snapshot == nil {
			return 0
		}
		return float64(len(st.Snapshot.Quotes))
	})
	gauge("gpuprice_collector_unknown_gpu_quotes", "Quotes in the current snapshot whose GPU the catalog does not know (exported with gpu_model=\"UNKNOWN\").",
		func(st *collectors.State) float64 { return float64(st.UnknownGPUs) })

	b = header(b, "gpuprice_collector_errors_total", "counter", "Failed refreshes and rejected quotes, by reason.")
	labels := []string{"provider", "reason"}
	for _, st := range states {
		reasons := make([]string, 0, len(st.Errors))
		for r := range st.Errors {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			b = sample(b, "gpuprice_collector_errors_total", labels, []string{st.Provider, r}, "", "", float64(st.Errors[r]))
		}
	}
	return b
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func header(b []byte, name, typ, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// sample appends one line: name{labels="values",extra="v"} value.
func sample(b []byte, name string, labels, values []string, extraLabel, extraValue string, v float64) []byte {
	b = append(b, name...)
	b = append(b, '{')
	for i, l := range labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabel(b, l, values[i])
	}
	if extraLabel != "" {
		b = append(b, ',')
		b = appendLabel(b, extraLabel, extraValue)
	}
	b = append(b, '}')
	return appendValue(b, v)
}

// appendQuoteLabels appends q's series labels: `{provider="...",...}`.
func appendQuoteLabels(b []byte, q *price.Quote) []byte {
	b = append(b, '{')
	for i := range price.SeriesLabels {
		l := &price.SeriesLabels[i]
		if i > 0 {
			b = append(b, ',')
		}
		if !l.Numeric() {
			b = appendLabel(b, l.Name, l.Value(q))
			continue
		}
		// A number needs no escaping; appended, it needs no allocation.
		b = append(b, l.Name...)
		b = append(b, '=', '"')
		b = l.AppendValue(b, q)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendValue appends " value\n".
func appendValue(b []byte, v float64) []byte {
	b = append(b, ' ')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// compareMarket orders markets by their labels, numbers by value.
func compareMarket(a, b *price.Market) int {
	al, bl := a.Labels(), b.Labels()
	for i := range price.MarketLabels {
		if c := price.MarketLabels[i].Compare(&al, &bl); c != 0 {
			return c
		}
	}
	return 0
}
