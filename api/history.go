package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/export"
	"github.com/gpuprice/gpuprice/store/query"
)

// historyParams are the parameters of /api/v1/history; statsParams those
// of /api/v1/history/stats.
var (
	historyParams = append(slices.Clone(labelNames), "start", "end", "step", "agg", "by", "price", "stale_after", "format")
	statsParams   = append(slices.Clone(historyParams), "below")
)

// defaultRange is the history range when start is not given.
const defaultRange = 7 * 24 * time.Hour

// historyRequest is a parsed history or stats request.
type historyRequest struct {
	filter     *filter
	start, end time.Time
	step       time.Duration // 0: raw change points
	stepParam  string        // step as given, for error messages
	agg        query.Agg
	by         []string
	price      query.Price
	staleAfter time.Duration // 0: from the poll log
	below      float64       // stats: NaN for none
	format     format
}

func (a *API) parseHistoryRequest(r *http.Request, allowed []string) (*historyRequest, error) {
	p, err := parseParams(r, allowed)
	if err != nil {
		return nil, err
	}
	hr := &historyRequest{below: math.NaN()}
	if hr.filter, err = parseFilter(p, false); err != nil {
		return nil, err
	}
	hr.end = a.now()
	if v, err := p.one("end"); err != nil {
		return nil, err
	} else if v != "" {
		if hr.end, err = parseTime("end", v); err != nil {
			return nil, err
		}
	}
	hr.start = hr.end.Add(-defaultRange)
	if v, err := p.one("start"); err != nil {
		return nil, err
	} else if v != "" {
		if hr.start, err = parseTime("start", v); err != nil {
			return nil, err
		}
	}
	if hr.start.After(hr.end) {
		return nil, badParam("start", formatTime(hr.start), "is after end "+formatTime(hr.end))
	}
	if hr.step, hr.stepParam, err = durationParam(p, "step"); err != nil {
		return nil, err
	}
	if hr.staleAfter, _, err = durationParam(p, "stale_after"); err != nil {
		return nil, err
	}
	v, err := p.one("agg")
	if err != nil {
		return nil, err
	}
	if hr.agg, err = query.ParseAgg(v); err != nil {
		return nil, badParam("agg", v, "is not one of min, max, avg, p10, p50, p90")
	}
	if hr.agg != query.None && hr.step == 0 {
		return nil, errorf(http.StatusBadRequest, "missing parameter \"step\": agg=%s aggregates samples taken every step (e.g. step=1h)", hr.agg)
	}
	by := p.list("by")
	if hr.by, err = query.ParseBy(by); err != nil {
		return nil, badParam("by", strings.Join(by, ","), "names a label that is not one of "+strings.Join(query.LabelNames, ", "))
	}
	if len(hr.by) > 0 && hr.agg == query.None {
		return nil, errorf(http.StatusBadRequest, "missing parameter \"agg\": by=%s groups the series of an aggregation (e.g. agg=min)", strings.Join(hr.by, ","))
	}
	if v, err = p.one("price"); err != nil {
		return nil, err
	}
	if hr.price, err = query.ParsePrice(v); err != nil {
		return nil, badParam("price", v, "is not gpu (per GPU-hour) or instance")
	}
	if v, err = p.one("below"); err != nil {
		return nil, err
	} else if v != "" {
		if hr.below, err = parseNumber("below", v, priceRange); err != nil {
			return nil, err
		}
	}
	fv, err := p.one("format")
	if err != nil {
		return nil, err
	}
	if hr.format, err = negotiate(r, fv); err != nil {
		return nil, err
	}
	return hr, nil
}

// maxUnixSeconds bounds numeric times: larger values are almost certainly
// milliseconds.
const maxUnixSeconds = 1e11

// parseTime reads an RFC 3339 time or unix seconds (fractions allowed).
func parseTime(name, v string) (time.Time, error) {
	// An RFC 3339 time has no spaces: a space is the "+" of a zone offset
	// that was not escaped in the URL (start=...T14:00:00+02:00).
	if t, err := time.Parse(time.RFC3339, strings.ReplaceAll(v, " ", "+")); err == nil {
		return t, nil
	}
	f, ok := parseFloat(v)
	if !ok {
		return time.Time{}, badParam(name, v, "is neither RFC 3339 nor unix seconds")
	}
	if math.Abs(f) >= maxUnixSeconds {
		return time.Time{}, badParam(name, v, "is out of range: allowed unix seconds in (-1e11, 1e11) or an RFC 3339 time (milliseconds given?)")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// durationParam reads an optional duration parameter, from 1ms (the
// store's resolution) to a century: a Prometheus duration (1h, 1d, 1h30m)
// or seconds. It returns the value as given too, for error messages.
func durationParam(p params, name string) (time.Duration, string, error) {
	v, err := p.one(name)
	if err != nil || v == "" {
		return 0, "", err
	}
	d, err := parseDuration(name, v)
	return d, v, err
}

// parseDuration reads a Prometheus duration (1h, 1d, 1h30m) or seconds in
// [minDurationParam, maxDurationParam].
func parseDuration(name, v string) (time.Duration, error) {
	outOfRange := badParam(name, v, "is out of range: allowed "+durationRange(minDurationParam, maxDurationParam, false))
	var d time.Duration
	if f, ok := parseFloat(v); ok || math.IsNaN(f) {
		if math.IsNaN(f) || f*float64(time.Second) < float64(minDurationParam) || f*float64(time.Second) > float64(maxDurationParam) {
			return 0, outOfRange
		}
		d = time.Duration(f * float64(time.Second))
	} else if md, err := model.ParseDuration(v); err == nil {
		d = time.Duration(md)
	} else if strings.HasPrefix(v, "-") || strings.Contains(err.Error(), "out of range") {
		return 0, outOfRange // a negative duration, or one beyond int64 nanoseconds
	} else {
		return 0, badParam(name, v, "is neither a duration (like 1h or 1d) nor seconds")
	}
	if d < minDurationParam || d > maxDurationParam {
		return 0, outOfRange
	}
	return d, nil
}

// queryRequest is hr as a store/query request.
func (a *API) queryRequest(hr *historyRequest) query.Request {
	return query.Request{
		Query: hr.filter.storeQuery(), Match: hr.filter.match,
		Start: hr.start, End: hr.end, Step: hr.step, Agg: hr.agg, By: hr.by, Price: hr.price,
		StaleAfter: hr.staleAfter,
		Limits:     query.Limits{MaxPoints: a.maxPoints, MaxSamples: a.maxSamples},
	}
}

// historyFailed answers the error of a history query: 400 for a request
// over the limits, 503 for the store, nothing when the client left.
func (a *API) historyFailed(w http.ResponseWriter, r *http.Request, err error) {
	var le *query.LimitError
	switch {
	case errors.As(err, &le):
		a.fail(w, r, errorf(http.StatusBadRequest, "%s", le.Error()))
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// the client left
	default:
		a.fail(w, r, errorf(http.StatusServiceUnavailable, "reading history from the store: %v", err))
	}
}

// storeAvailable answers 503 when there is no store to read history from.
func (a *API) storeAvailable(w http.ResponseWriter, r *http.Request) bool {
	if a.store == nil {
		a.fail(w, r, errorf(http.StatusServiceUnavailable, "history is unavailable: this server has no store"))
		return false
	}
	return true
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	hr, err := a.parseHistoryRequest(r, historyParams)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.storeAvailable(w, r) {
		return
	}
	if hr.step == 0 {
		a.rawHistory(w, r, hr)
		return
	}
	// Checked before asking the store: no filter can make this fit.
	if steps := query.StepCount(hr.start, hr.end, hr.step); steps > a.maxPoints {
		a.fail(w, r, badParam("step", hr.stepParam, fmt.Sprintf(
			"gives %d samples from start to end, more than the %d allowed: increase step or shorten start..end", steps, a.maxPoints)))
		return
	}
	series, err := query.Run(r.Context(), a.store, a.queryRequest(hr))
	if err != nil {
		a.historyFailed(w, r, err)
		return
	}
	writeMatrix(w, hr.format, hr.price, hr.agg != query.None, series)
}

// errTooManyPoints stops a raw history read that went over the bound.
var errTooManyPoints = errors.New("too many points")

// rawHistory answers the change points of every matching series.
func (a *API) rawHistory(w http.ResponseWriter, r *http.Request, hr *historyRequest) {
	sq := hr.filter.storeQuery()
	sq.Start, sq.End = hr.start, hr.end
	var series []store.Series
	n := 0
	err := a.store.HistoryEach(r.Context(), sq, func(s store.Series) error {
		// The store filtered on single values only; apply every filter.
		if !hr.filter.match(&s.Labels) {
			return nil
		}
		if n += len(s.Points); n > a.maxPoints {
			return errTooManyPoints
		}
		series = append(series, s)
		return nil
	})
	if errors.Is(err, errTooManyPoints) {
		a.fail(w, r, errorf(http.StatusBadRequest, "history would return more than the %d points allowed (%d from %d series so far): narrow the filters or shorten start..end; /api/v1/export streams raw points without a bound",
			a.maxPoints, n, len(series)+1))
		return
	}
	if err != nil {
		a.historyFailed(w, r, err)
		return
	}
	slices.SortStableFunc(series, func(a, b store.Series) int { return price.CompareLabels(&a.Labels, &b.Labels) })
	writeHistory(w, hr.format, series)
}

// seriesJSON is a series as the raw answer has it: its labels, then its
// points.
type seriesJSON struct {
	labelsJSON
	Points []pointJSON `json:"points"`
}

// labelsJSON are a series' labels (price.Labels) as answers name them;
// TestLabelsJSON holds the two together.
type labelsJSON struct {
	Provider     string `json:"provider"`
	InstanceType string `json:"instance_type"`
	Region       string `json:"region"`
	Zone         string `json:"zone"`
	Geo          string `json:"geo"`
	PricingModel string `json:"pricing_model"`
	GPUModel     string `json:"gpu_model"`
	GPUForm      string `json:"gpu_form"`
	GPUMemoryGB  number `json:"gpu_memory_gb"`
	GPUCount     number `json:"gpu_count"`
	GPURaw       string `json:"gpu_raw,omitempty"`
	Currency     string `json:"currency,omitempty"`
}

func toLabelsJSON(l *price.Quote) labelsJSON {
	return labelsJSON{
		Provider: l.Provider, InstanceType: l.InstanceType, Region: l.Region, Zone: l.Zone, Geo: l.Geo,
		PricingModel: string(l.PricingModel), GPUModel: l.GPUModel, GPUForm: l.GPUForm,
		GPUMemoryGB: number(l.GPUMemoryGB), GPUCount: number(l.GPUCount), GPURaw: l.GPURaw, Currency: l.Currency,
	}
}

// pointJSON is one point; a withdrawal has withdrawn=true and null prices.
type pointJSON struct {
	Time          time.Time `json:"time"`
	USDPerHour    number    `json:"usd_per_hour"`
	GPUUSDPerHour number    `json:"gpu_usd_per_hour"`
	Withdrawn     bool      `json:"withdrawn,omitempty"`
	// CurrencyPerHour is the instance price in the series' currency,
	// where it is not USD.
	CurrencyPerHour number `json:"currency_per_hour,omitempty"`
}

// historyHeader is the CSV header of the raw answer, one row per point:
// the columns of the CSV export.
var historyHeader = export.Header

// labelCells are the label columns of historyHeader for l: price.Labels.
func labelCells(rec []string, l *price.Quote) []string {
	return price.AppendValues(rec, price.Labels, l)
}

// writeHistory answers raw series: each point with both prices.
func writeHistory(w http.ResponseWriter, f format, series []store.Series) {
	prices := func(p *store.Point, count float64) (float64, float64) {
		if p.Withdrawn {
			return math.NaN(), math.NaN()
		}
		return p.USDPerHour, query.PerGPU.Of(p.USDPerHour, count)
	}
	if f == formatCSV {
		writeCSV(w, historyHeader, func(emit func([]string)) {
			rec := make([]string, 0, len(historyHeader))
			for i := range series {
				l := &series[i].Labels
				for j := range series[i].Points {
					p := &series[i].Points[j]
					usd, gpu := prices(p, l.GPUCount)
					emit(append(labelCells(rec[:0], l),
						formatTime(p.Time), formatFloat(usd), formatFloat(gpu), strconv.FormatBool(p.Withdrawn), formatOptional(p.CurrencyPerHour)))
				}
			}
		})
		return
	}
	writeJSONList(w, series, func(s *store.Series) any {
		out := seriesJSON{labelsJSON: toLabelsJSON(&s.Labels), Points: make([]pointJSON, len(s.Points))}
		for i := range s.Points {
			p := &s.Points[i]
			usd, gpu := prices(p, s.Labels.GPUCount)
			out.Points[i] = pointJSON{Time: p.Time.UTC(), USDPerHour: number(usd), GPUUSDPerHour: number(gpu), Withdrawn: p.Withdrawn,
				CurrencyPerHour: number(p.CurrencyPerHour)}
		}
		return out
	})
}

// writeMatrix answers resampled (or aggregated) series. JSON is a
// Prometheus range query's answer: {"data": {"resultType": "matrix",
// "result": [{"metric": {...}, "values": [[unix seconds, "price"], ...]}]}};
// a series' metric holds its non-empty labels (DESIGN §6), and __name__
// unless it is an aggregate, as PromQL would. CSV has a row per sample: the
// label columns, time and the price, named after its field.
func writeMatrix(w http.ResponseWriter, f format, p query.Price, aggregated bool, series []query.Series) {
	if f == formatCSV {
		header := append(price.LabelNames(price.SeriesLabels), "time", p.Field())
		writeCSV(w, header, func(emit func([]string)) {
			rec := make([]string, 0, len(header))
			for i := range series {
				rec = price.AppendValues(rec[:0], price.SeriesLabels, &series[i].Labels)
				for _, s := range series[i].Samples {
					emit(append(rec[:len(price.SeriesLabels)], formatTime(s.Time), formatFloat(s.Value)))
				}
			}
		})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"data":{"resultType":"matrix","result":[`)
	var b []byte
	for i := range series {
		s := &series[i]
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n{\"metric\":{"...)
		first := true
		field := func(k, v string) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, v)
		}
		if !aggregated {
			field("__name__", p.Metric())
		}
		for j := range price.SeriesLabels {
			l := &price.SeriesLabels[j]
			if v := l.Value(&s.Labels); v != "" {
				field(l.Name, v)
			}
		}
		b = append(b, `},"values":[`...)
		for j, sm := range s.Samples {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendFloat(b, float64(sm.Time.UnixMilli())/1000, 'f', -1, 64)
			b = append(b, ",\""...)
			b = strconv.AppendFloat(b, sm.Value, 'f', -1, 64)
			b = append(b, "\"]"...)
		}
		b = append(b, "]}"...)
		bw.Write(b)
	}
	bw.WriteString("]}}\n")
	_ = bw.Flush() // a write error means the client left
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

func (a *API) historyStats(w http.ResponseWriter, r *http.Request) {
	hr, err := a.parseHistoryRequest(r, statsParams)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !a.storeAvailable(w, r) {
		return
	}
	if hr.step > 0 {
		if steps := query.StepCount(hr.start, hr.end, hr.step); steps > a.maxPoints {
			a.fail(w, r, badParam("step", hr.stepParam, fmt.Sprintf(
				"gives %d samples from start to end, more than the %d allowed: increase step or shorten start..end", steps, a.maxPoints)))
			return
		}
	}
	stats, err := query.Stats(r.Context(), a.store, a.queryRequest(hr), hr.below)
	if err != nil {
		a.historyFailed(w, r, err)
		return
	}
	writeStats(w, hr.format, hr.price, stats)
}

// statsJSON is one series' summary: its labels (for an aggregate, those
// its members share), how many series it stands for, and the statistics
// of store/query's Summary. Statistics that cannot be computed are null.
type statsJSON struct {
	labelsJSON
	Series     int       `json:"series"`
	Price      string    `json:"price"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Coverage   number    `json:"coverage"`
	Min        number    `json:"min"`
	Max        number    `json:"max"`
	Mean       number    `json:"mean"`
	Median     number    `json:"median"`
	P10        number    `json:"p10"`
	P90        number    `json:"p90"`
	Volatility number    `json:"volatility"`
	Below      number    `json:"below"`
	ShareBelow number    `json:"share_below"`
	Changes    int       `json:"changes"`
}

// statsHeader is the CSV header of /api/v1/history/stats.
var statsHeader = append(slices.Clone(historyHeader[:len(price.Labels)]), "series", "price", "start", "end", "coverage",
	"min", "max", "mean", "median", "p10", "p90", "volatility", "below", "share_below", "changes")

func writeStats(w http.ResponseWriter, f format, p query.Price, stats []query.SeriesSummary) {
	if f == formatCSV {
		writeCSV(w, statsHeader, func(emit func([]string)) {
			rec := make([]string, 0, len(statsHeader))
			for i := range stats {
				s := &stats[i]
				emit(append(labelCells(rec[:0], &s.Labels), strconv.Itoa(s.Members), p.String(),
					formatTime(s.Start), formatTime(s.End), formatFloat(s.Coverage),
					formatFloat(s.Min), formatFloat(s.Max), formatFloat(s.Mean), formatFloat(s.Median),
					formatFloat(s.P10), formatFloat(s.P90), formatFloat(s.Volatility),
					formatFloat(s.Below), formatFloat(s.ShareBelow), strconv.Itoa(s.Changes)))
			}
		})
		return
	}
	writeJSONList(w, stats, func(s *query.SeriesSummary) any {
		return statsJSON{
			labelsJSON: toLabelsJSON(&s.Labels), Series: s.Members, Price: p.String(),
			Start: s.Start.UTC(), End: s.End.UTC(), Coverage: number(s.Coverage),
			Min: number(s.Min), Max: number(s.Max), Mean: number(s.Mean), Median: number(s.Median),
			P10: number(s.P10), P90: number(s.P90), Volatility: number(s.Volatility),
			Below: number(s.Below), ShareBelow: number(s.ShareBelow), Changes: s.Changes,
		}
	})
}
