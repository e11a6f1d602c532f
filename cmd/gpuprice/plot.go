package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/guptarohit/asciigraph"
	"github.com/mattn/go-isatty"
	"github.com/prometheus/common/model"
)

// `gpuprice history --plot` draws the resampled (or aggregated) series of
// /api/v1/history as a chart in the terminal, with asciigraph.

// maxPlotSeries is how many lines one chart can tell apart.
const maxPlotSeries = 8

// plotColors tell the lines apart on a terminal; plotChars off one (a file
// or a pipe gets no escape sequences).
var (
	plotColors = []asciigraph.AnsiColor{asciigraph.Blue, asciigraph.Red, asciigraph.Green, asciigraph.Goldenrod,
		asciigraph.DarkViolet, asciigraph.DarkCyan, asciigraph.Gray, asciigraph.Orange}
	plotChars = []string{"", "•", "*", "+", "#", "o", "x", "="}
)

// plotOptions are the chart's size and look.
type plotOptions struct {
	width, height int
	color         bool
	price         string   // gpu or instance
	step          string   // the history's
	by            []string // the aggregation's groups: they name the lines
}

// plotStep returns a step that gives about width samples over the range
// from start to end (RFC 3339 or unix seconds; empty: the API's default
// of the last 7 days up to now), rounded up to a whole second, or minute
// above a minute.
func plotStep(start, end string, width int, now time.Time) (string, error) {
	e := now
	if end != "" {
		t, err := parseTime(end)
		if err != nil {
			return "", fmt.Errorf("--end: %w", err)
		}
		e = t
	}
	s := e.Add(-7 * 24 * time.Hour)
	if start != "" {
		t, err := parseTime(start)
		if err != nil {
			return "", fmt.Errorf("--start: %w", err)
		}
		s = t
	}
	if !e.After(s) {
		return "", errors.New("--end must be after --start")
	}
	step := e.Sub(s) / time.Duration(max(width-1, 1)) // width samples: no interpolation
	unit := time.Second
	if step > time.Minute {
		unit = time.Minute
	}
	step = (step + unit - 1).Truncate(unit)
	return model.Duration(max(step, time.Second)).String(), nil
}

// parseTime reads RFC 3339 or unix seconds, as the API does.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(f*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or unix seconds", s)
}

// plotWidth is the chart's width: the terminal's columns (COLUMNS), less
// the Y axis' labels, else 100.
func plotWidth() int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 40 {
		return c - 12
	}
	return 100
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd()) && os.Getenv("TERM") != "dumb"
}

// plotMatrix draws a /api/v1/history matrix answer.
func plotMatrix(out io.Writer, body []byte, o plotOptions) error {
	var answer struct {
		Data struct {
			Result []matrixSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("decode the history answer: %w", err)
	}
	result := answer.Data.Result
	switch {
	case len(result) == 0:
		return errors.New("no series match: nothing to plot")
	case len(result) > maxPlotSeries:
		return fmt.Errorf("%d series match; --plot draws at most %d: narrow the filters or aggregate them (--agg=min --by=provider)", len(result), maxPlotSeries)
	}

	// One grid for every series: the union of their sample times, a gap
	// (NaN) where a series' price is unknown.
	var times []float64
	values := make([]map[float64]float64, len(result))
	for i, s := range result {
		values[i] = map[float64]float64{}
		for _, v := range s.Values {
			sec, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				continue
			}
			values[i][sec] = f
			times = append(times, sec)
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	if len(times) < 2 {
		return errors.New("fewer than two samples: nothing to plot (widen the range, or a smaller --step)")
	}
	data := make([][]float64, len(result))
	for i := range result {
		data[i] = make([]float64, len(times))
		for k, t := range times {
			if v, ok := values[i][t]; ok {
				data[i][k] = v
			} else {
				data[i][k] = math.NaN()
			}
		}
	}

	first, last := times[0], times[len(times)-1]
	layout := "01-02 15:04"
	switch span := last - first; {
	case span < 3600:
		layout = "15:04:05"
	case span >= 4*86400:
		layout = "2006-01-02"
	}
	unit := "USD/GPU-h"
	if o.price == "instance" {
		unit = "USD/h"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, v := range d {
			if !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	// Enough decimals for the Y axis' labels to differ: 2 for dollars,
	// more for prices that move by fractions of a cent.
	precision := uint(2)
	for precision < 5 && (hi-lo)/float64(max(o.height, 1)) < math.Pow(10, -float64(precision)) && hi > lo {
		precision++
	}
	opts := []asciigraph.Option{
		asciigraph.Height(o.height),
		asciigraph.Precision(precision),
		asciigraph.XAxisRange(first, last),
		asciigraph.XAxisTickCount(max(2, min(6, o.width/18))),
		asciigraph.XAxisValueFormatter(func(v float64) string { return time.Unix(int64(v), 0).UTC().Format(layout) }),
		asciigraph.Caption(fmt.Sprintf("%s, every %s, %s to %s UTC", unit, o.step,
			time.Unix(int64(first), 0).UTC().Format("2006-01-02 15:04"), time.Unix(int64(last), 0).UTC().Format("2006-01-02 15:04"))),
	}
	if len(times) > o.width {
		// More samples than columns: asciigraph interpolates them down.
		opts = append(opts, asciigraph.Width(o.width))
	}
	legends := seriesNames(result, o.by)
	var legend []string // off a terminal: asciigraph's legend has escapes
	switch {
	case o.color:
		opts = append(opts, asciigraph.SeriesColors(plotColors[:len(result)]...))
		if len(result) > 1 || legends[0] != "" {
			opts = append(opts, asciigraph.SeriesLegends(legends...))
		}
	case len(result) > 1:
		var sets []asciigraph.CharSet
		for i := range result {
			if plotChars[i] == "" {
				sets = append(sets, asciigraph.DefaultCharSet)
				legend = append(legend, "─ "+legends[i])
				continue
			}
			sets = append(sets, asciigraph.CreateCharSet(plotChars[i]))
			legend = append(legend, plotChars[i]+" "+legends[i])
		}
		opts = append(opts, asciigraph.SeriesChars(sets...))
	case legends[0] != "":
		legend = legends
	}
	if _, err := fmt.Fprintln(out, asciigraph.PlotMany(data, opts...)); err != nil {
		return err
	}
	if len(legend) > 0 {
		_, err := fmt.Fprintf(out, "\n        %s\n", strings.Join(legend, "   "))
		return err
	}
	return nil
}

// matrixSeries is one series of a /api/v1/history matrix answer.
type matrixSeries = struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// seriesNames names each series by the aggregation's by labels, else by
// the labels in which the series differ (provider, or
// provider/pricing_model, ...), or by all its labels when there is one;
// the table's labels first, in their order.
func seriesNames(result []matrixSeries, by []string) []string {
	var others []string
	for _, s := range result {
		for k := range s.Metric {
			if !slices.Contains(tableLabels, k) && !slices.Contains(others, k) {
				others = append(others, k)
			}
		}
	}
	slices.Sort(others)
	keys := by
	for _, k := range append(slices.Clone(tableLabels), others...) {
		if len(by) > 0 {
			break
		}
		vary := len(result) == 1
		for _, s := range result[1:] {
			vary = vary || s.Metric[k] != result[0].Metric[k]
		}
		if vary {
			keys = append(keys, k)
		}
	}
	names := make([]string, len(result))
	for i, s := range result {
		var parts []string
		for _, k := range keys {
			if v := s.Metric[k]; v != "" {
				parts = append(parts, v)
			}
		}
		names[i] = strings.Join(parts, "/")
	}
	return names
}
