package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gpuprice/gpuprice/price"
)

// `gpuprice prices` and `gpuprice cheapest` are /api/v1/prices and
// /api/v1/cheapest of a running gpuprice on the command line: current
// prices live in the daemon's memory, not in the store. The filters the API
// has are passed on; --min-memory, which it has not, and --limit after it
// are applied here, to the API's own JSON or CSV answer, so that json and
// csv print exactly what the API says about each quote.

// quotesOptions are the flags of prices and cheapest.
type quotesOptions struct {
	server                                *string
	gpus, counts, providers, pricing, geo *[]string
	regions                               *[]string
	minMemory, maxPrice                   *float64
	limit                                 *int
	format                                *string
	timeout                               *time.Duration
}

func quotesFlags(cmd *kingpin.CmdClause) quotesOptions {
	return quotesOptions{
		server:    cmd.Flag("server.url", "Base URL of the running gpuprice to ask.").Default(defaultServerURL).String(),
		gpus:      cmd.Flag("gpu", "GPU model, as in the catalog: H100, A100, RTX4090 (repeatable, or comma-separated).").Strings(),
		minMemory: cmd.Flag("min-memory", "Only GPUs with at least this much memory each, in GB.").Float64(),
		counts:    cmd.Flag("count", "Only instances with this many GPUs (repeatable, or comma-separated).").Strings(),
		providers: cmd.Flag("provider", "Provider (repeatable, or comma-separated).").Strings(),
		pricing: cmd.Flag("pricing-model", "Pricing model (repeatable, or comma-separated).").
			HintOptions(price.PricingModelNames...).Strings(),
		geo: cmd.Flag("geo", "Coarse location (repeatable, or comma-separated).").
			HintOptions(price.Geos...).Strings(),
		regions:  cmd.Flag("region", "The provider's region id (repeatable, or comma-separated).").Strings(),
		maxPrice: cmd.Flag("max-price", "Only prices up to this many USD per GPU-hour.").Float64(),
		limit:    cmd.Flag("limit", "Print at most this many quotes, the cheapest (0: all).").Int(),
		format:   cmd.Flag("format", "Output format.").Default("table").Enum("table", "json", "csv"),
		timeout:  cmd.Flag("timeout", "Give up after this long.").Default("30s").Duration(),
	}
}

// values are the API parameters of the flags.
func (o quotesOptions) values() url.Values {
	v := url.Values{"sort": {"gpu_usd_per_hour"}} // cheapest first
	join := func(key string, vs []string, fold func(string) string) {
		var out []string
		for _, s := range vs {
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, fold(p))
				}
			}
		}
		if len(out) > 0 {
			v.Set(key, strings.Join(out, ","))
		}
	}
	same := func(s string) string { return s }
	join("gpu_model", *o.gpus, strings.ToUpper) // canonical names are upper-case
	join("gpu_count", *o.counts, same)
	join("provider", *o.providers, strings.ToLower)
	join("pricing_model", *o.pricing, same)
	join("geo", *o.geo, strings.ToLower)
	join("region", *o.regions, strings.ToLower) // region ids are lower-cased (DESIGN §3)
	if *o.maxPrice > 0 {
		v.Set("max_gpu_usd_per_hour", strconv.FormatFloat(*o.maxPrice, 'f', -1, 64))
	}
	if *o.format == "csv" {
		v.Set("format", "csv")
	}
	return v
}

// keep reports whether a quote of the answer passes the filters the API
// does not apply.
func (o quotesOptions) keep(memoryGB float64) bool {
	return *o.minMemory <= 0 || memoryGB >= *o.minMemory
}

// runQuotes asks the server's path (/api/v1/prices or /api/v1/cheapest)
// and prints the answer, filtered, in the chosen format.
func runQuotes(ctx context.Context, path string, o quotesOptions, out io.Writer, now time.Time) error {
	base, err := url.Parse(strings.TrimSuffix(*o.server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("--server.url %q is not an http(s) URL", *o.server)
	}
	if *o.limit < 0 {
		return fmt.Errorf("--limit must not be negative")
	}
	u := base.JoinPath(path)
	u.RawQuery = o.values().Encode()
	ctx, cancel := context.WithTimeout(ctx, *o.timeout)
	defer cancel()
	var body bytes.Buffer
	if err := fetch(ctx, u.String(), &body); err != nil {
		return err
	}
	if *o.format == "csv" {
		return o.printCSV(out, &body)
	}
	var answer struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body.Bytes(), &answer); err != nil {
		return fmt.Errorf("%s: decode the answer: %w", u.Redacted(), err)
	}
	var kept []json.RawMessage
	var quotes []price.Quote
	for _, raw := range answer.Data {
		var q price.Quote // the API's keys are the quote's JSON names
		if err := json.Unmarshal(raw, &q); err != nil {
			return fmt.Errorf("%s: decode a quote: %w", u.Redacted(), err)
		}
		if !o.keep(q.GPUMemoryGB) {
			continue
		}
		if *o.limit > 0 && len(kept) == *o.limit {
			break
		}
		kept, quotes = append(kept, raw), append(quotes, q)
	}
	if *o.format == "json" {
		if kept == nil {
			kept = []json.RawMessage{}
		}
		b, err := json.MarshalIndent(struct {
			Data []json.RawMessage `json:"data"`
		}{kept}, "", "  ")
		if err != nil {
			return err
		}
		_, err = out.Write(append(b, '\n'))
		return err
	}
	if len(quotes) == 0 {
		_, err := fmt.Fprintln(out, "no prices match")
		return err
	}
	return writeQuoteTable(out, quotes, now)
}

// printCSV copies the API's CSV answer, without the rows the API did not
// filter out and past the limit.
func (o quotesOptions) printCSV(out io.Writer, body io.Reader) error {
	r := csv.NewReader(body)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("decode the CSV answer: %w", err)
	}
	memCol := slices.Index(header, "gpu_memory_gb")
	if memCol < 0 {
		return fmt.Errorf("the CSV answer has no gpu_memory_gb column: %v", header)
	}
	w := csv.NewWriter(out)
	w.Write(header)
	for n := 0; *o.limit == 0 || n < *o.limit; {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("decode the CSV answer: %w", err)
		}
		mem, _ := strconv.ParseFloat(rec[memCol], 64) // empty: unknown, 0
		if o.keep(mem) {
			w.Write(rec)
			n++
		}
	}
	w.Flush()
	return w.Error()
}

// writeQuoteTable prints quotes as a table in their order: where (region
// and zone), what (the GPUs, and the host's vCPUs and RAM where the
// provider says), both prices, stock, and how long ago the price was seen.
func writeQuoteTable(out io.Writer, quotes []price.Quote, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tINSTANCE_TYPE\tREGION\tZONE\tGEO\tPRICING\tGPU\tFORM\tMEM_GB\tGPUS\tVCPUS\tRAM_GB\tUSD/GPU-H\tUSD/H\tSTOCK\tAGE\t")
	for _, q := range quotes {
		gpu := q.GPUModel
		if gpu == price.Unknown && q.GPURaw != "" {
			gpu += " (" + q.GPURaw + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t%.4f\t%s\t%s\t\n",
			q.Provider, q.InstanceType, dash(q.Region), dash(q.Zone), dash(q.Geo), q.PricingModel, gpu, dash(q.GPUForm),
			dash(price.FormatNumber(q.GPUMemoryGB)), price.FormatNumber(q.GPUCount),
			dash(price.FormatNumber(q.VCPUs)), dash(price.FormatNumber(q.MemoryGB)), q.GPUUSDPerHour(), q.USDPerHour,
			dash(string(q.Stock)), age(now, q.ObservedAt))
	}
	return tw.Flush()
}

// dash shows an absent value.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age says how long ago t was, to the second under an hour, to the minute
// under a day, to the hour beyond: how stale the price may be.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Hour:
		return d.Truncate(time.Second).String()
	case d < 24*time.Hour:
		return strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s")
	default:
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}
