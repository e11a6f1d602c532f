package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/mattn/go-isatty"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/query"
)

// `gpuprice history` and `gpuprice export` are the HTTP API's
// /api/v1/history, /api/v1/history/stats and /api/v1/export on the command
// line. Their flags are the endpoints' parameters; the request goes either
// to a running gpuprice (--server) or to the same API served in this
// process over a store opened read-only (sqlite.OpenReader: no lock, so it
// works while a daemon holds the store; or postgres.OpenReader), so that
// both answer alike, errors included.

// sourceOptions are the flags that say where history comes from and which
// series: shared by history and export.
type sourceOptions struct {
	server, storagePath, config *string
	labels                      map[string]*[]string // label filters, by parameter name
	start, end, staleAfter      *string
}

func sourceFlags(cmd *kingpin.CmdClause) sourceOptions {
	o := sourceOptions{
		server:      cmd.Flag("server", "Ask a running gpuprice (e.g. http://localhost:9847) instead of reading a store.").String(),
		storagePath: cmd.Flag("storage.path", "SQLite store to read, read-only (a running daemon may hold it); default the configuration's store (storage.path, data, or with driver postgres storage.dsn).").String(),
		config:      cmd.Flag("config.file", "Configuration whose store is read (without --storage.path): storage.path, or storage.dsn with driver postgres.").String(),
		labels:      map[string]*[]string{},
		start:       cmd.Flag("start", "Start of the range: RFC 3339 or unix seconds.").String(),
		end:         cmd.Flag("end", "End of the range: RFC 3339 or unix seconds (default now).").String(),
		staleAfter:  cmd.Flag("stale_after", "A price is unknown once no refresh vouched for it for this long; default per provider from its poll log (3 × its interval).").String(),
	}
	for _, n := range query.LabelNames {
		o.labels[n] = cmd.Flag(n, "Only series with this "+n+" (repeatable, or comma-separated).").Strings()
	}
	return o
}

// values are the API parameters of the flags.
func (o sourceOptions) values() url.Values {
	v := url.Values{}
	for n, vs := range o.labels {
		if len(*vs) > 0 {
			v.Set(n, strings.Join(*vs, ","))
		}
	}
	for n, s := range map[string]string{"start": *o.start, "end": *o.end, "stale_after": *o.staleAfter} {
		if s != "" {
			v.Set(n, s)
		}
	}
	return v
}

// serve answers the API request path?v: from the server, or from the API
// served in this process over the store. A 200 answer's body goes to out;
// any other is returned as an error with its message.
func (o sourceOptions) serve(ctx context.Context, logger *slog.Logger, path string, v url.Values, out io.Writer) error {
	target := path + "?" + v.Encode()
	if *o.server != "" {
		return fetch(ctx, strings.TrimRight(*o.server, "/")+target, out)
	}
	cfg := config.Builtin()
	if *o.config != "" {
		var err error
		if cfg, err = config.LoadFile(*o.config); err != nil {
			return err
		}
	}
	st, err := openReader(ctx, cfg, *o.storagePath)
	if err != nil {
		return err
	}
	defer st.Close()
	mux := http.NewServeMux()
	api.New(api.Options{Store: st, Logger: logger}).Register(mux)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	w := &streamWriter{header: http.Header{}, out: out}
	if err := serveInProcess(mux, w, req); err != nil {
		return err
	}
	if w.status != http.StatusOK {
		return answerError(w.status, w.errBody.Bytes())
	}
	return w.err
}

// serveInProcess serves req, turning the panic with which a handler breaks
// a connection (an export failing midway, logged by the API) into an error.
func serveInProcess(h http.Handler, w http.ResponseWriter, req *http.Request) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			err = errors.New("the answer failed midway: what was written is incomplete")
		}
	}()
	h.ServeHTTP(w, req)
	return nil
}

// streamWriter is the http.ResponseWriter of an in-process request: a 200
// answer streams to out, any other is kept as the error.
type streamWriter struct {
	header  http.Header
	status  int
	out     io.Writer
	err     error // the first write error to out
	errBody bytes.Buffer
}

func (w *streamWriter) Header() http.Header { return w.header }

func (w *streamWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.status != http.StatusOK {
		return w.errBody.Write(p)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.out.Write(p)
	w.err = err
	return n, err
}

// fetch GETs u and copies a 200 answer's body to out.
func fetch(ctx context.Context, u string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return fmt.Errorf("%s: %w", u, answerError(resp.StatusCode, body))
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	return nil
}

// answerError is the error of a non-200 API answer: its {"error": ...}
// message.
func answerError(status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return fmt.Errorf("%d %s: %.200s", status, http.StatusText(status), body)
}

// historyOptions are the flags of `gpuprice history`.
type historyOptions struct {
	source                          sourceOptions
	step, agg, price, below, format *string
	by                              *[]string
	stats, plot                     *bool
	plotWidth, plotHeight           *int
}

func historyFlags(cmd *kingpin.CmdClause) historyOptions {
	return historyOptions{
		source:     sourceFlags(cmd),
		step:       cmd.Flag("step", "Resample every step (1h, 1d, ...); without it, the raw change points.").String(),
		agg:        cmd.Flag("agg", "Aggregate the series at each step: min, max, avg, p10, p50, p90.").String(),
		by:         cmd.Flag("by", "Labels to group the aggregation by (repeatable, or comma-separated): provider, gpu_model, geo, ...").Strings(),
		price:      cmd.Flag("price", "Price to work on: gpu (per GPU-hour) or instance.").Default("gpu").String(),
		stats:      cmd.Flag("stats", "Summarize each series (or aggregate) over the range: min, max, mean, median, p10, p90, volatility, changes.").Bool(),
		below:      cmd.Flag("below", "With --stats: the share of time the price was below this.").String(),
		format:     cmd.Flag("format", "Output format.").Default("table").Enum("table", "json", "csv"),
		plot:       cmd.Flag("plot", "Draw the resampled series as a chart in the terminal (at most 8: aggregate with --agg and --by); without --step, one sample per column.").Bool(),
		plotWidth:  cmd.Flag("plot.width", "Chart width in columns (default: the terminal's, from COLUMNS, else 100).").Int(),
		plotHeight: cmd.Flag("plot.height", "Chart height in lines.").Default("15").Int(),
	}
}

// runHistory prints history: raw change points, resampled or aggregated
// series, or their statistics.
func runHistory(ctx context.Context, logger *slog.Logger, o historyOptions, out io.Writer) error {
	v := o.source.values()
	for n, s := range map[string]string{"step": *o.step, "agg": *o.agg, "price": *o.price, "below": *o.below} {
		if s != "" {
			v.Set(n, s)
		}
	}
	if len(*o.by) > 0 {
		v.Set("by", strings.Join(*o.by, ","))
	}
	plot := plotOptions{width: *o.plotWidth, height: *o.plotHeight, color: isTerminal(out), price: *o.price, step: *o.step, by: *o.by}
	if *o.plot {
		switch {
		case *o.stats || *o.format != "table":
			return errors.New("--plot draws resampled series: it goes with neither --stats nor --format")
		case plot.width <= 0:
			plot.width = plotWidth()
		}
		if plot.step == "" {
			step, err := plotStep(*o.source.start, *o.source.end, plot.width, time.Now())
			if err != nil {
				return err
			}
			plot.step = step
			v.Set("step", step)
		}
	}
	path := "/api/v1/history"
	if *o.stats {
		path = "/api/v1/history/stats"
	} else if *o.below != "" {
		return errors.New("--below needs --stats")
	}
	if *o.format != "table" {
		v.Set("format", *o.format)
		return o.source.serve(ctx, logger, path, v, out)
	}
	var body bytes.Buffer
	if err := o.source.serve(ctx, logger, path, v, &body); err != nil {
		return err
	}
	switch {
	case *o.plot:
		return plotMatrix(out, body.Bytes(), plot)
	case *o.stats:
		return statsTable(out, body.Bytes())
	case *o.step != "":
		return matrixTable(out, body.Bytes(), *o.price)
	}
	return rawTable(out, body.Bytes())
}

// tableLabels are the labels the tables show, under their price.Label
// headings.
var tableLabels = []string{"provider", "instance_type", "region", "zone", "pricing_model", "gpu_model"}

func tableRow(get func(string) string) string {
	var b strings.Builder
	for _, name := range tableLabels {
		b.WriteString(get(name))
		b.WriteByte('\t')
	}
	return b.String()
}

func tableHeader() string {
	var b strings.Builder
	for _, name := range tableLabels {
		b.WriteString(price.LabelNamed(name).Head)
		b.WriteByte('\t')
	}
	return b.String()
}

func rawTable(out io.Writer, body []byte) error {
	var answer struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("decode the history answer: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tableHeader()+"TIME\tUSD/H\tUSD/GPU-H\t")
	for _, s := range answer.Data {
		labels := tableRow(func(n string) string { return fmt.Sprint(s[n]) })
		points, _ := s["points"].([]any)
		for _, p := range points {
			pt, _ := p.(map[string]any)
			if w, _ := pt["withdrawn"].(bool); w {
				fmt.Fprintf(tw, "%s%s\twithdrawn\t\t\n", labels, pt["time"])
				continue
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t\n", labels, pt["time"], cell(pt["usd_per_hour"]), cell(pt["gpu_usd_per_hour"]))
		}
	}
	return tw.Flush()
}

func matrixTable(out io.Writer, body []byte, price string) error {
	var answer struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("decode the history answer: %w", err)
	}
	head := "USD/GPU-H"
	if price == "instance" {
		head = "USD/H"
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tableHeader()+"TIME\t"+head+"\t")
	for _, s := range answer.Data.Result {
		labels := tableRow(func(n string) string { return s.Metric[n] })
		for _, v := range s.Values {
			sec, _ := v[0].(float64)
			t := time.UnixMilli(int64(math.Round(sec * 1000))).UTC().Format(time.RFC3339)
			var price any
			if s, ok := v[1].(string); ok {
				price, _ = strconv.ParseFloat(s, 64)
			}
			fmt.Fprintf(tw, "%s%s\t%s\t\n", labels, t, cell(price))
		}
	}
	return tw.Flush()
}

func statsTable(out io.Writer, body []byte) error {
	var answer struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("decode the stats answer: %w", err)
	}
	cols := []string{"series", "coverage", "min", "p10", "median", "mean", "p90", "max", "volatility", "share_below", "changes"}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tableHeader()+strings.ToUpper(strings.Join(cols, "\t"))+"\t")
	for _, s := range answer.Data {
		line := tableRow(func(n string) string { return fmt.Sprint(s[n]) })
		for _, c := range cols {
			line += cell(s[c]) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// cell renders a JSON number for a table: 4 significant decimals, "-" for
// null.
func cell(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "-"
	}
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 4, 64)
}

// exportOptions are the flags of `gpuprice export`.
type exportOptions struct {
	source                     sourceOptions
	format, output, resolution *string
}

func exportFlags(cmd *kingpin.CmdClause) exportOptions {
	return exportOptions{
		source:     sourceFlags(cmd),
		format:     cmd.Flag("format", "csv, parquet, or openmetrics (for promtool tsdb create-blocks-from openmetrics).").Default("csv").Enum("csv", "parquet", "openmetrics"),
		output:     cmd.Flag("output", "File to write (replaced only once the export is complete); default standard output.").Short('o').String(),
		resolution: cmd.Flag("export.resolution", "OpenMetrics: how often a live series' value is repeated between changes (under Prometheus' 5m lookback).").Default("1m").String(),
	}
}

// runExport writes the raw history of the matching series (everything
// by default) to --output or standard output, with a progress report in
// bytes on the log (a bar on a terminal).
func runExport(ctx context.Context, logger *slog.Logger, o exportOptions, stdout *os.File) error {
	v := o.source.values()
	v.Set("format", *o.format)
	if *o.format == "openmetrics" {
		v.Set("resolution", *o.resolution)
	}
	var out io.Writer = stdout
	var tmp *os.File
	if *o.output != "" && *o.output != "-" {
		var err error
		// Written next to the target and renamed at the end: a failed
		// export leaves no partial file under the name asked for.
		if tmp, err = os.CreateTemp(filepath.Dir(*o.output), "."+filepath.Base(*o.output)+".*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		out = tmp
	} else if *o.format == "parquet" && isatty.IsTerminal(stdout.Fd()) {
		return errors.New("not writing Parquet to a terminal: give --output FILE")
	}
	progress := collectors.NewProgress(logger, "export "+*o.format, "bytes", 0)
	cw := &countingWriter{w: out, add: progress.Add}
	if err := o.source.serve(ctx, logger, "/api/v1/export", v, cw); err != nil {
		return err
	}
	progress.Finish()
	if tmp == nil {
		return nil
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp made it 0600
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), *o.output)
}

// countingWriter reports the bytes written through it.
type countingWriter struct {
	w   io.Writer
	add func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.add(int64(n))
	return n, err
}
