package api

import (
	"context"
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
)

// historyParams are the parameters of /api/v1/history.
var historyParams = append(slices.Clone(labelNames), "start", "end", "step", "agg", "format")

// defaultRange is the history range when start is not given.
const defaultRange = 7 * 24 * time.Hour

// historyRequest is a parsed history request.
type historyRequest struct {
	filter     *filter
	start, end time.Time
	step       time.Duration // 0: raw change points
	stepParam  string        // step as given, for error messages
	agg        string        // "" : one answer series per store series
	format     format
}

func (a *API) parseHistoryRequest(r *http.Request) (*historyRequest, error) {
	p, err := parseParams(r, historyParams)
	if err != nil {
		return nil, err
	}
	hr := &historyRequest{}
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
	if v, err := p.one("step"); err != nil {
		return nil, err
	} else if v != "" {
		if hr.step, err = parseStep(v); err != nil {
			return nil, err
		}
		hr.stepParam = v
	}
	if hr.agg, err = p.one("agg"); err != nil {
		return nil, err
	}
	if hr.agg != "" {
		if _, ok := aggregators[hr.agg]; !ok {
			return nil, badParam("agg", hr.agg, "is not one of min, avg, max, p50")
		}
		if hr.step == 0 {
			return nil, errorf(http.StatusBadRequest, "missing parameter \"step\": agg=%s aggregates samples taken every step (e.g. step=1h)", hr.agg)
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
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return time.Time{}, badParam(name, v, "is neither RFC 3339 nor unix seconds")
	}
	if math.Abs(f) >= maxUnixSeconds {
		return time.Time{}, badParam(name, v, "is out of range for unix seconds (milliseconds?)")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// parseStep reads a Prometheus duration (1h, 1d, 1h30m) or seconds.
func parseStep(v string) (time.Duration, error) {
	var d time.Duration
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64/float64(time.Second) {
			return 0, badParam("step", v, "is out of range")
		}
		d = time.Duration(f * float64(time.Second))
	} else if md, err := model.ParseDuration(v); err == nil {
		d = time.Duration(md)
	} else {
		return 0, badParam("step", v, "is neither a duration (like 1h or 1d) nor seconds")
	}
	if d <= 0 {
		return 0, badParam("step", v, "is not positive")
	}
	return d, nil
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	hr, err := a.parseHistoryRequest(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if a.store == nil {
		a.fail(w, r, errorf(http.StatusServiceUnavailable, "history is unavailable: this server has no store"))
		return
	}
	var steps int
	if hr.step > 0 {
		// Checked before asking the store: no filter can make this fit.
		steps = sampleCount(hr.start, hr.end, hr.step)
		if steps > a.maxPoints {
			a.fail(w, r, badParam("step", hr.stepParam, fmt.Sprintf(
				"gives %d samples from start to end, more than the %d allowed: increase step or shorten start..end", steps, a.maxPoints)))
			return
		}
	}
	sq := hr.filter.storeQuery()
	sq.Start, sq.End = hr.start, hr.end
	series, err := a.store.History(r.Context(), sq)
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client left
		}
		a.fail(w, r, errorf(http.StatusServiceUnavailable, "reading history from the store: %v", err))
		return
	}
	// The store filtered on single values only; apply every filter.
	series = slices.DeleteFunc(series, func(s store.Series) bool { return !hr.filter.match(&s.Labels) })
	slices.SortStableFunc(series, func(a, b store.Series) int { return compareLabels(&a.Labels, &b.Labels) })

	if hr.step == 0 {
		n := 0
		for _, s := range series {
			n += len(s.Points)
		}
		if n > a.maxPoints {
			a.fail(w, r, errorf(http.StatusBadRequest, "history would return %d points from %d series, more than the %d allowed: narrow the filters or shorten start..end",
				n, len(series), a.maxPoints))
			return
		}
		writeHistory(w, hr.format, rawSeries(series))
		return
	}
	if n := len(series) * steps; n > a.maxPoints {
		a.fail(w, r, errorf(http.StatusBadRequest, "history would take %d samples (%d series × %d steps), more than the %d allowed: narrow the filters, shorten start..end or increase step",
			n, len(series), steps, a.maxPoints))
		return
	}
	ts := sampleTimes(hr.start, hr.step, steps)
	if hr.agg != "" {
		writeHistory(w, hr.format, aggregate(series, ts, hr.agg))
		return
	}
	writeHistory(w, hr.format, resampleAll(series, ts))
}

// sample is one point of an answer series. USD is NaN for a withdrawal.
type sample struct {
	t         time.Time
	usd, gpu  float64
	withdrawn bool
}

// answerSeries is one series of a history answer.
type answerSeries struct {
	labels  price.Quote
	samples []sample
}

// rawSeries turns store series into answer series, computing the per-GPU
// price from the series' GPU count.
func rawSeries(series []store.Series) []answerSeries {
	out := make([]answerSeries, len(series))
	for i, s := range series {
		out[i] = answerSeries{labels: s.Labels, samples: make([]sample, len(s.Points))}
		for j, p := range s.Points {
			sm := sample{t: p.Time, usd: p.USDPerHour, withdrawn: p.Withdrawn}
			if p.Withdrawn {
				sm.usd = math.NaN()
			}
			sm.gpu = perGPU(sm.usd, s.Labels.GPUCount)
			out[i].samples[j] = sm
		}
	}
	return out
}

// perGPU is usd per GPU, NaN when the count is unknown.
func perGPU(usd, count float64) float64 {
	if count <= 0 {
		return math.NaN()
	}
	return usd / count
}

// seriesJSON is a series as the API answers it: its labels, then its points.
type seriesJSON struct {
	Provider     string      `json:"provider"`
	InstanceType string      `json:"instance_type"`
	Region       string      `json:"region"`
	Zone         string      `json:"zone"`
	Geo          string      `json:"geo"`
	PricingModel string      `json:"pricing_model"`
	GPUModel     string      `json:"gpu_model"`
	GPUForm      string      `json:"gpu_form"`
	GPUMemoryGB  number      `json:"gpu_memory_gb"`
	GPUCount     number      `json:"gpu_count"`
	GPURaw       string      `json:"gpu_raw,omitempty"`
	Points       []pointJSON `json:"points"`
}

// pointJSON is one point; a withdrawal has withdrawn=true and null prices.
type pointJSON struct {
	Time          time.Time `json:"time"`
	USDPerHour    number    `json:"usd_per_hour"`
	GPUUSDPerHour number    `json:"gpu_usd_per_hour"`
	Withdrawn     bool      `json:"withdrawn,omitempty"`
}

// historyHeader is the CSV header of history: one row per point.
var historyHeader = []string{
	"provider", "instance_type", "region", "zone", "geo", "pricing_model",
	"gpu_model", "gpu_form", "gpu_memory_gb", "gpu_count", "gpu_raw",
	"time", "usd_per_hour", "gpu_usd_per_hour", "withdrawn",
}

func writeHistory(w http.ResponseWriter, f format, series []answerSeries) {
	if f == formatCSV {
		writeCSV(w, historyHeader, func(emit func([]string)) {
			rec := make([]string, 0, len(historyHeader))
			for i := range series {
				l := &series[i].labels
				for _, s := range series[i].samples {
					emit(append(rec[:0],
						l.Provider, l.InstanceType, l.Region, l.Zone, l.Geo, string(l.PricingModel),
						l.GPUModel, l.GPUForm, price.FormatNumber(l.GPUMemoryGB), price.FormatNumber(l.GPUCount), l.GPURaw,
						formatTime(s.t), formatFloat(s.usd), formatFloat(s.gpu), strconv.FormatBool(s.withdrawn)))
				}
			}
		})
		return
	}
	writeJSONList(w, series, func(s *answerSeries) any {
		l := &s.labels
		out := seriesJSON{
			Provider: l.Provider, InstanceType: l.InstanceType, Region: l.Region, Zone: l.Zone, Geo: l.Geo,
			PricingModel: string(l.PricingModel), GPUModel: l.GPUModel, GPUForm: l.GPUForm,
			GPUMemoryGB: number(l.GPUMemoryGB), GPUCount: number(l.GPUCount), GPURaw: l.GPURaw,
			Points: make([]pointJSON, len(s.samples)),
		}
		for i, sm := range s.samples {
			out.Points[i] = pointJSON{Time: sm.t.UTC(), USDPerHour: number(sm.usd), GPUUSDPerHour: number(sm.gpu), Withdrawn: sm.withdrawn}
		}
		return out
	})
}
