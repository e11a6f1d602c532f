// Package exporter serves gpuprice's /metrics.
//
// Prices change when a provider refreshes (minutes apart) but are scraped
// every few seconds, at up to 100k series. So the price families (and the
// per-provider collector gauges, which change at the same moments) are
// rendered to exposition text once per change, gzip-compressed once, and
// written as bytes on each scrape: a scrape does no per-series work. Each
// provider's lines of each family are a part of their own, rendered and
// compressed again only when that provider's snapshot changes. The few
// self-metrics (build info, config reload, go_*/process_*) come from an
// ordinary client_golang registry, gathered per scrape and appended; for
// gzip every part is spliced into one gzip member (see writeGzip).
package exporter

import (
	"bytes"
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

	"github.com/klauspost/compress/flate"

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
	opts Options
	body atomic.Pointer[rendered]
	mu   sync.Mutex // serializes Render
	lbuf []byte     // label sets of the quotes, reused; guarded by mu
	// cache holds each provider's parts from the last render, with the
	// snapshot they were rendered from; guarded by mu.
	cache map[string]*providerParts
	dirty chan struct{}
	pool  sync.Pool // *scrapeBuf
}

// part is a stretch of the body, rendered and compressed on its own.
type part struct {
	plain []byte
	// deflate is plain compressed as raw DEFLATE blocks, sync-flushed and
	// not final, so that other parts' blocks can follow it.
	deflate []byte
}

func newPart(plain []byte) *part {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	fw.Write(plain)
	fw.Flush() // byte-aligned, not final: the next part's blocks follow
	return &part{plain: plain, deflate: z.Bytes()}
}

// rendered is one immutable render of the price and collector families:
// its parts in output order.
type rendered struct {
	parts  []*part
	size   int    // bytes of text
	crc    uint32 // CRC-32 of the text
	series int

	textOnce sync.Once
	text     []byte // the parts' text in one slice, made on demand
}

func newRendered(parts []*part, series int) *rendered {
	r := &rendered{parts: parts, series: series}
	for _, p := range parts {
		r.size += len(p.plain)
		r.crc = crc32.Update(r.crc, crc32.IEEETable, p.plain)
	}
	return r
}

// providerParts are one snapshot's lines of each price family, as parts
// (nil where it has none).
type providerParts struct {
	snap   *price.Snapshot
	parts  [numFamilies]*part
	series int
}

// New returns an Exporter with an empty body; call Render (or Run) to fill it.
func New(opts Options) *Exporter {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{opts: opts, dirty: make(chan struct{}, 1)}
	e.body.Store(newRendered(nil, 0))
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
// the result; scrapes in flight keep the body they started with. Only the
// providers whose snapshot changed since the last render are rendered and
// compressed again.
func (e *Exporter) Render() {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	states := e.opts.States()
	byName := slices.Clone(states)
	slices.SortFunc(byName, func(a, b *collectors.State) int { return strings.Compare(a.Provider, b.Provider) })

	cache := make(map[string]*providerParts, len(states))
	provs := make([]*providerParts, 0, len(states))
	rendered, series := 0, 0
	for _, st := range byName {
		if st.Snapshot == nil {
			continue
		}
		pp := e.cache[st.Provider]
		if pp == nil || pp.snap != st.Snapshot {
			var lines familyLines
			e.lbuf = lines.appendSnapshot(e.lbuf[:0], st.Snapshot)
			pp = &providerParts{snap: st.Snapshot, series: len(st.Snapshot.Quotes)}
			for f := range lines {
				if len(lines[f]) > 0 {
					pp.parts[f] = newPart(lines[f])
				}
			}
			rendered++
		}
		cache[st.Provider] = pp
		provs = append(provs, pp)
		series += pp.series
	}
	e.cache = cache

	var parts []*part
	for f := range numFamilies {
		var lines []*part
		for _, pp := range provs {
			if pp.parts[f] != nil {
				lines = append(lines, pp.parts[f])
			}
		}
		if len(lines) > 0 || families[f].always {
			parts = append(parts, headerParts[f])
			parts = append(parts, lines...)
		}
	}
	parts = append(parts, newPart(appendCollectorFamilies(nil, states)))
	body := newRendered(parts, series)
	e.body.Store(body)
	e.opts.Logger.Debug("rendered /metrics", "series", series, "providers_rendered", rendered, "bytes", body.size,
		"duration_seconds", time.Since(start).Seconds())
}

// Families returns the current price and collector families in the text
// format, without the self-metrics: what remote write sends. The slice is
// never modified; it is the same one until the next render.
func (e *Exporter) Families() []byte {
	r := e.body.Load()
	r.textOnce.Do(func() {
		r.text = make([]byte, 0, r.size)
		for _, p := range r.parts {
			r.text = append(r.text, p.plain...)
		}
	})
	return r.text
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
		h.Set("Content-Length", strconv.Itoa(body.size+sb.self.Len()))
		for _, p := range body.parts {
			w.Write(p.plain)
		}
		w.Write(sb.self.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	writeGzip(w, body, sb)
}

// writeGzip writes one gzip member holding body's parts followed by
// sb.self, without recompressing body: a gzip member is a header, DEFLATE
// blocks and a trailer (CRC-32 and length of the whole text). Each part's
// blocks end in a sync flush, byte-aligned and not final, so the next
// part's blocks (and a fresh compressor's for the self-metrics) follow
// directly: no part refers back into another's data. body.crc is the
// CRC of all parts, and crc32.Update extends it.
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
	binary.LittleEndian.PutUint32(trailer[4:], uint32(body.size+sb.self.Len()))
	n := len(header) + sb.z.Len() + len(trailer)
	for _, p := range body.parts {
		n += len(p.deflate)
	}
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.Write(header[:])
	for _, p := range body.parts {
		w.Write(p.deflate)
	}
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

// The price families, in output order. Each provider's lines of a family
// are one part of the body.
const (
	famGPU = iota
	famInstance
	famStock
	famMarket
	famAvailable
	numFamilies
)

var families = [numFamilies]struct {
	name, typ, help string
	always          bool // its header is written when no provider has lines
}{
	famGPU:       {"gpuprice_gpu_usd_per_hour", "gauge", helpGPU, true},
	famInstance:  {"gpuprice_instance_usd_per_hour", "gauge", helpInstance, true},
	famStock:     {"gpuprice_gpu_available", "gauge", helpStock, false},
	famMarket:    {"gpuprice_market_gpu_usd_per_hour", "summary", helpMarket, false},
	famAvailable: {"gpuprice_available_gpus", "gauge", helpAvailable, false},
}

// headerParts are the families' HELP and TYPE lines, compressed once.
var headerParts = func() (out [numFamilies]*part) {
	for f, fam := range families {
		out[f] = newPart(header(nil, fam.name, fam.typ, fam.help))
	}
	return out
}()

// familyLines are one snapshot's lines of each price family.
type familyLines [numFamilies][]byte

// appendSnapshot renders snap's lines of each family into l, using lbuf
// as scratch space for the quotes' label sets, which both quote families
// share.
func (l *familyLines) appendSnapshot(lbuf []byte, snap *price.Snapshot) []byte {
	quotes := make([]*price.Quote, len(snap.Quotes))
	for i := range snap.Quotes {
		quotes[i] = &snap.Quotes[i]
	}
	slices.SortFunc(quotes, price.CompareQuotes)
	ends := make([]int, len(quotes))
	for i, q := range quotes {
		lbuf = appendQuoteLabels(lbuf, q)
		ends[i] = len(lbuf)
	}
	// Each quote family's lines are about its label sets and a name and
	// value each: grow them once.
	for _, f := range []int{famGPU, famInstance} {
		l[f] = make([]byte, 0, len(lbuf)+len(quotes)*(len(families[f].name)+24))
	}
	quoteFamily := func(f int, value func(*price.Quote) float64, has func(*price.Quote) bool) {
		name := families[f].name
		start := 0
		for i, q := range quotes {
			if has == nil || has(q) {
				l[f] = append(l[f], name...)
				l[f] = append(l[f], lbuf[start:ends[i]]...)
				l[f] = appendValue(l[f], value(q))
			}
			start = ends[i]
		}
	}
	quoteFamily(famGPU, (*price.Quote).GPUUSDPerHour, nil)
	quoteFamily(famInstance, func(q *price.Quote) float64 { return q.USDPerHour }, nil)
	// Availability, for the quotes whose provider states it.
	quoteFamily(famStock, func(q *price.Quote) float64 { return q.Stock.Level() },
		func(q *price.Quote) bool { return q.Stock != price.StockUnknown })

	markets := make([]*price.Market, len(snap.Markets))
	for i := range snap.Markets {
		markets[i] = &snap.Markets[i]
	}
	slices.SortFunc(markets, compareMarket)
	vals := make([]string, len(price.MarketLabels))
	for _, m := range markets {
		labels := m.Labels()
		for i := range price.MarketLabels {
			vals[i] = price.MarketLabels[i].Value(&labels)
		}
		// A summary: the quantiles of the offers' per-GPU-hour prices,
		// with _count the number of offers and _sum their total (so the
		// mean price is _sum / _count). promtool rejects a "quantile"
		// label on any other type. A market whose provider gives only
		// some statistics (Akash: the median, no offer count) leaves the
		// others out: a NaN quantile, no _sum and _count without
		// offers, and no available GPUs when they are NaN (unknown).
		market := families[famMarket].name
		for _, qv := range []struct {
			q string
			v float64
		}{{"0.1", m.P10}, {"0.5", m.P50}, {"0.9", m.P90}} {
			if !math.IsNaN(qv.v) {
				l[famMarket] = sample(l[famMarket], market, marketLabels, vals, "quantile", qv.q, qv.v)
			}
		}
		if m.Offers > 0 {
			l[famMarket] = sample(l[famMarket], market+"_sum", marketLabels, vals, "", "", m.SumGPUUSDPerHour)
			l[famMarket] = sample(l[famMarket], market+"_count", marketLabels, vals, "", "", float64(m.Offers))
		}
		if !math.IsNaN(m.AvailableGPUs) {
			l[famAvailable] = sample(l[famAvailable], families[famAvailable].name, marketLabels, vals, "", "", m.AvailableGPUs)
		}
	}
	return lbuf
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
	gauge("gpuprice_collector_unknown_gpu_names", "Distinct raw GPU names in the current snapshot that the catalog does not know (listed in /api/v1/providers as unknown_gpu_names).",
		func(st *collectors.State) float64 { return float64(len(st.UnknownGPUNames)) })

	b = header(b, "gpuprice_collector_errors_total", "counter", "Failed refreshes, rejected quotes and unreadable rows of providers' answers (invalid_row), by reason.")
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
