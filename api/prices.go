package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// listParams are the parameters of prices, offers and cheapest.
var listParams = append(slices.Clone(labelNames), "max_gpu_usd_per_hour", "sort", "limit", "format")

// listRequest is a parsed prices, offers or cheapest request.
type listRequest struct {
	filter *filter
	sort   sorter
	limit  int // 0: everything
	format format
}

func parseListRequest(r *http.Request, defaultSort string) (*listRequest, error) {
	p, err := parseParams(r, listParams)
	if err != nil {
		return nil, err
	}
	lr := &listRequest{}
	if lr.filter, err = parseFilter(p, true); err != nil {
		return nil, err
	}
	if lr.sort, err = parseSort(p, defaultSort); err != nil {
		return nil, err
	}
	if lr.limit, err = parseLimit(p); err != nil {
		return nil, err
	}
	fv, err := p.one("format")
	if err != nil {
		return nil, err
	}
	if lr.format, err = negotiate(r, fv); err != nil {
		return nil, err
	}
	return lr, nil
}

// truncate applies the limit.
func truncate[T any](items []T, limit int) []T {
	if limit > 0 && len(items) > limit {
		return items[:limit]
	}
	return items
}

// served returns every quote of every served snapshot that passes f. The
// quotes belong to immutable published snapshots: they are shared, never
// copied or modified.
func (a *API) served(f *filter) []*price.Quote {
	out := []*price.Quote{}
	for _, st := range a.states() {
		if st == nil || st.Snapshot == nil {
			continue
		}
		for i := range st.Snapshot.Quotes {
			if q := &st.Snapshot.Quotes[i]; f.match(q) {
				out = append(out, q)
			}
		}
	}
	return out
}

func (a *API) prices(w http.ResponseWriter, r *http.Request) {
	lr, err := parseListRequest(r, "gpu_usd_per_hour")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	qs := a.served(lr.filter)
	slices.SortFunc(qs, lr.sort.compare)
	writeQuotes(w, lr.format, truncate(qs, lr.limit))
}

// cheapestKey groups quotes for /cheapest. Unknown GPUs are grouped by
// their raw name too: the cheapest of all unrecognized GPUs together would
// compare unrelated hardware.
type cheapestKey struct {
	model, memory, raw string
	pricing            price.PricingModel
}

func (a *API) cheapest(w http.ResponseWriter, r *http.Request) {
	lr, err := parseListRequest(r, "gpu_model")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	qs := a.cheapestQuotes(lr.filter)
	slices.SortFunc(qs, lr.sort.compare)
	writeQuotes(w, lr.format, truncate(qs, lr.limit))
}

// cheapestQuotes returns the cheapest served quote that passes f per
// cheapestKey, in no particular order. The web UI shows cheapestOf the
// prices to rent and of the others apart (ui.go).
func (a *API) cheapestQuotes(f *filter) []*price.Quote { return cheapestOf(a.served(f)) }

// cheapestOf returns the cheapest of qs per GPU model, memory size and
// pricing model (unknown GPUs by their raw name), leaving out what cannot
// be rented now.
func cheapestOf(qs []*price.Quote) []*price.Quote {
	best := map[cheapestKey]*price.Quote{}
	for _, q := range qs {
		if q.Stock == price.StockNone {
			continue // its price is known but it cannot be rented now
		}
		k := cheapestKey{model: q.GPUModel, memory: price.FormatNumber(q.GPUMemoryGB), pricing: q.PricingModel}
		if q.GPUModel == price.Unknown {
			k.raw = q.GPURaw
		}
		if cur, ok := best[k]; !ok || compareQuotes(q, cur) < 0 {
			best[k] = q
		}
	}
	out := make([]*price.Quote, 0, len(best))
	for _, q := range best {
		out = append(out, q)
	}
	return out
}

func (a *API) offers(w http.ResponseWriter, r *http.Request) {
	lr, err := parseListRequest(r, "gpu_usd_per_hour")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []price.Offer{}
	for _, st := range a.states() {
		if st == nil || st.Snapshot == nil {
			continue
		}
		for _, o := range st.Snapshot.Offers {
			if lr.filter.match(&o.Quote) {
				out = append(out, o)
			}
		}
	}
	slices.SortFunc(out, func(a, b price.Offer) int {
		if c := lr.sort.compare(&a.Quote, &b.Quote); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out = truncate(out, lr.limit)
	if lr.format == formatCSV {
		header := append([]string{"id", "location"}, quoteHeader...)
		writeCSV(w, header, func(emit func([]string)) {
			rec := make([]string, 0, len(header))
			for i := range out {
				rec = append(rec[:0], out[i].ID, out[i].Location)
				emit(appendQuoteCSV(rec, &out[i].Quote))
			}
		})
		return
	}
	writeJSONList(w, out, func(o *price.Offer) any {
		return offerJSON{ID: o.ID, Location: o.Location, quoteJSON: toQuoteJSON(&o.Quote)}
	})
}

// quoteJSON is a quote as the API answers it: the §3 labels and fields,
// with gpu_usd_per_hour computed and marketplace fields only when set.
type quoteJSON struct {
	labelsJSON
	USDPerHour    number `json:"usd_per_hour"`
	GPUUSDPerHour number `json:"gpu_usd_per_hour"`
	// The provider's own price where it is not in USD.
	Currency        string    `json:"currency,omitempty"`
	CurrencyPerHour number    `json:"currency_per_hour,omitempty"`
	ObservedAt      time.Time `json:"observed_at"`
	EffectiveAt     time.Time `json:"effective_at,omitzero"`
	Stock           string    `json:"stock,omitempty"`
	// Zones, VCPUs and MemoryGB: what the provider says of the instance
	// (zones: Azure with Resource SKUs), only when set.
	Zones         []string `json:"zones,omitempty"`
	VCPUs         number   `json:"vcpus,omitempty"`
	MemoryGB      number   `json:"memory_gb,omitempty"`
	Offers        int      `json:"offers,omitempty"`
	AvailableGPUs number   `json:"available_gpus,omitempty"`
	P10           number   `json:"p10_gpu_usd_per_hour,omitempty"`
	P50           number   `json:"p50_gpu_usd_per_hour,omitempty"`
	P90           number   `json:"p90_gpu_usd_per_hour,omitempty"`
}

func toQuoteJSON(q *price.Quote) quoteJSON {
	return quoteJSON{
		labelsJSON:      toLabelsJSON(q),
		USDPerHour:      number(q.USDPerHour),
		GPUUSDPerHour:   number(q.GPUUSDPerHour()),
		Currency:        q.Currency,
		CurrencyPerHour: number(q.CurrencyPerHour),
		ObservedAt:      q.ObservedAt.UTC(),
		EffectiveAt:     q.EffectiveAt.UTC(),
		Stock:           string(q.Stock),
		Zones:           zones(q.Zones),
		VCPUs:           number(q.VCPUs),
		MemoryGB:        number(q.MemoryGB),
		Offers:          q.Offers,
		AvailableGPUs:   number(q.AvailableGPUs),
		P10:             number(q.P10),
		P50:             number(q.P50),
		P90:             number(q.P90),
	}
}

// zones splits a quote's comma-separated zones; nil for none.
func zones(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// offerJSON is an offer: its id and location, then the quote's keys.
type offerJSON struct {
	ID       string `json:"id"`
	Location string `json:"location,omitempty"`
	quoteJSON
}

// quoteHeader is the CSV header of a quote, matching appendQuoteCSV. New
// columns go at the end, so that scripts reading columns by position keep
// working (the README lists them).
var quoteHeader = append(price.LabelNames(price.SeriesLabels),
	"usd_per_hour", "gpu_usd_per_hour", "observed_at", "effective_at", "gpu_raw", "stock",
	"offers", "available_gpus", "p10_gpu_usd_per_hour", "p50_gpu_usd_per_hour", "p90_gpu_usd_per_hour",
	"vcpus", "memory_gb", "zones", "currency", "currency_per_hour",
)

// appendQuoteCSV appends q's CSV fields to rec: its series labels as label
// values, then its fields, the marketplace and host ones only when set.
func appendQuoteCSV(rec []string, q *price.Quote) []string {
	offers := ""
	if q.Offers != 0 {
		offers = strconv.Itoa(q.Offers)
	}
	rec = price.AppendValues(rec, price.SeriesLabels, q)
	return append(rec,
		formatFloat(q.USDPerHour), formatFloat(q.GPUUSDPerHour()), formatTime(q.ObservedAt), formatTime(q.EffectiveAt), q.GPURaw, string(q.Stock),
		offers, formatOptional(q.AvailableGPUs), formatOptional(q.P10), formatOptional(q.P50), formatOptional(q.P90),
		formatOptional(q.VCPUs), formatOptional(q.MemoryGB), q.Zones, q.Currency, formatOptional(q.CurrencyPerHour),
	)
}

// writeQuotes answers a list of quotes in format f.
func writeQuotes(w http.ResponseWriter, f format, qs []*price.Quote) {
	if f == formatCSV {
		writeCSV(w, quoteHeader, func(emit func([]string)) {
			rec := make([]string, 0, len(quoteHeader))
			for _, q := range qs {
				emit(appendQuoteCSV(rec[:0], q))
			}
		})
		return
	}
	writeJSONList(w, qs, func(q **price.Quote) any { return toQuoteJSON(*q) })
}

// WriteQuotesJSON writes qs as the /api/v1/prices JSON answer does, for
// command-line tools that print quotes.
func WriteQuotesJSON(w io.Writer, qs []price.Quote) error {
	out := make([]quoteJSON, len(qs))
	for i := range qs {
		out[i] = toQuoteJSON(&qs[i])
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Data []quoteJSON `json:"data"`
	}{out})
}

// WriteQuotesCSV writes qs as the /api/v1/prices CSV answer does.
func WriteQuotesCSV(w io.Writer, qs []price.Quote) error {
	cw := csv.NewWriter(w)
	cw.Write(quoteHeader)
	rec := make([]string, 0, len(quoteHeader))
	for i := range qs {
		cw.Write(appendQuoteCSV(rec[:0], &qs[i]))
	}
	cw.Flush()
	return cw.Error()
}
