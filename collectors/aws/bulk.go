package aws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// The public bulk offer files (on_demand_source: bulk) price on-demand
// instances without credentials: one CSV per region,
// <endpoint>/<region>/index.csv, hundreds of MB each (the all-region file
// is several GB). They are streamed line by line and never held in
// memory: a line is parsed only if it can be a Linux on-demand row, and
// only its price is kept.

// offerPreamble is how many disclaimer rows precede the header.
const offerPreamble = 5

// offerColumns are the columns read; the header must name them all.
var offerColumns = []string{
	"TermType", "Unit", "PricePerUnit", "Currency", "Instance Type", "Tenancy", "Operating System",
	"CapacityStatus", "Pre Installed S/W", "GPU",
}

// optionalOfferColumns are checked when the file has them.
var optionalOfferColumns = []string{"License Model", "MarketOption", "Region Code"}

// offerRow is the on-demand Linux price of one instance type in a file.
type offerRow struct {
	instanceType string
	usd          float64
	gpus         float64 // the GPU column; fractional for GPU partitions
}

// offerNeedles must all appear in a line for it to be parsed: a cheap
// filter that skips the reserved, Windows, dedicated and reservation rows
// that make up most of the file.
var offerNeedles = [][]byte{[]byte(`"OnDemand"`), []byte(`"Linux"`), []byte(`"Shared"`), []byte(`"Used"`)}

// parseOffer streams an offer file and calls fn for every plain Linux
// on-demand hourly USD row (shared tenancy, no pre-installed software,
// capacity status Used). It holds one line at a time. Such a row whose
// price cannot be read is skipped and counted in bad, unless not one of
// them can be read (the format changed), which is an error.
func parseOffer(r io.Reader, region string, fn func(offerRow)) (bad int, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var (
		long   []byte // a line longer than the buffer, assembled
		fields [][]byte
		col    map[string]int
		lineNo int
		good   int
		badErr error
	)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && line[len(line)-1] != '\n' && (err == nil || errors.Is(err, io.EOF)) {
			// The file ends in the middle of a line: it was cut off.
			return bad, fmt.Errorf("line %d: %w", lineNo+1, io.ErrUnexpectedEOF)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return bad, err
		}
		if len(line) > 0 {
			lineNo++
			line = bytes.TrimRight(line, "\r\n")
			switch {
			case lineNo <= offerPreamble:
			case col == nil:
				fields = splitCSV(line, fields[:0])
				col = map[string]int{}
				for i, f := range fields {
					col[string(f)] = i
				}
				for _, name := range offerColumns {
					if _, ok := col[name]; !ok {
						return bad, fmt.Errorf("header (line %d) has no %q column", lineNo, name)
					}
				}
			default:
				if row, ok, perr := offerLine(line, col, region, &fields); perr != nil {
					bad++
					if badErr == nil {
						badErr = fmt.Errorf("line %d: %w", lineNo, perr)
					}
				} else if ok {
					good++
					fn(row)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			if col == nil {
				return bad, fmt.Errorf("no header after %d lines: %w", lineNo, io.ErrUnexpectedEOF)
			}
			if good == 0 && bad > 0 {
				return bad, fmt.Errorf("none of %d on-demand rows could be read: %w", bad, badErr)
			}
			return bad, nil
		}
	}
}

// offerLine parses one data line if it is a plain Linux on-demand hourly
// USD price.
func offerLine(line []byte, col map[string]int, region string, fields *[][]byte) (offerRow, bool, error) {
	for _, n := range offerNeedles {
		if !bytes.Contains(line, n) {
			return offerRow{}, false, nil
		}
	}
	*fields = splitCSV(line, (*fields)[:0])
	get := func(name string) string {
		i, ok := col[name]
		if !ok || i >= len(*fields) {
			return ""
		}
		return string((*fields)[i])
	}
	sw, license, market, rc := get("Pre Installed S/W"), get("License Model"), get("MarketOption"), get("Region Code")
	if get("TermType") != "OnDemand" || get("Operating System") != "Linux" || get("Tenancy") != "Shared" ||
		get("CapacityStatus") != "Used" || !strings.EqualFold(get("Unit"), "Hrs") || get("Currency") != "USD" ||
		(sw != "" && sw != "NA") || (license != "" && license != "No License required") ||
		(market != "" && market != "OnDemand") || (rc != "" && rc != region) || get("Instance Type") == "" {
		return offerRow{}, false, nil
	}
	usd, err := strconv.ParseFloat(get("PricePerUnit"), 64)
	if err != nil || usd < 0 {
		return offerRow{}, false, fmt.Errorf("price %q of %s: %v", get("PricePerUnit"), get("Instance Type"), err)
	}
	if usd == 0 {
		return offerRow{}, false, nil // a $0.0000000000 row is no price
	}
	row := offerRow{instanceType: get("Instance Type"), usd: usd}
	if g := get("GPU"); g != "" && g != "NA" {
		row.gpus, _ = strconv.ParseFloat(g, 64)
	}
	return row, true, nil
}

// splitCSV splits one CSV line into fields, reusing out. Fields may be
// quoted (with "" for a quote inside); a quoted field's quotes are
// removed, and "" is unescaped into a fresh slice.
func splitCSV(line []byte, out [][]byte) [][]byte {
	for i := 0; ; {
		if i < len(line) && line[i] == '"' {
			j := i + 1
			escaped := false
			for j < len(line) {
				if line[j] == '"' {
					if j+1 < len(line) && line[j+1] == '"' {
						escaped = true
						j += 2
						continue
					}
					break
				}
				j++
			}
			f := line[i+1 : min(j, len(line))]
			if escaped {
				f = bytes.ReplaceAll(f, []byte(`""`), []byte(`"`))
			}
			out = append(out, f)
			i = j + 1 // past the closing quote
			if i < len(line) && line[i] == ',' {
				i++
				continue
			}
			return out
		}
		j := bytes.IndexByte(line[i:], ',')
		if j < 0 {
			return append(out, line[i:])
		}
		out = append(out, line[i:i+j])
		i += j + 1
	}
}

// offerURL is region's offer file.
func (c *Collector) offerURL(region string) string {
	return strings.TrimRight(c.cfg.Endpoint, "/") + "/" + region + "/index.csv"
}

// bulkPrices streams the offer file of each region, a few at a time, and
// returns the on-demand price of every instance type keep accepts, the
// GPU count the files give per instance type, and how many rows could not
// be read.
func (c *Collector) bulkPrices(ctx context.Context, regions []string, keep func(instanceType string) bool) (map[odKey]float64, map[string]float64, int, error) {
	var (
		mu     sync.Mutex
		prices = map[odKey]float64{}
		gpus   = map[string]float64{}
		bad    int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(min(max(c.cfg.Concurrency, 1), 4)) // each stream holds a connection and a buffer
	for _, region := range regions {
		g.Go(func() error {
			return collectors.Safely(func() error {
				unread, err := c.fetchOffer(gctx, region, func(row offerRow) {
					if !keep(row.instanceType) {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					k := odKey{row.instanceType, region}
					if old, seen := prices[k]; !seen || betterPrice(row.usd, old) {
						prices[k] = row.usd
					}
					if row.gpus > 0 {
						gpus[row.instanceType] = row.gpus
					}
				})
				mu.Lock()
				bad += unread
				mu.Unlock()
				return err
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, 0, err
	}
	return prices, gpus, bad, nil
}

// fetchOffer downloads and parses one region's offer file; bad counts
// the rows that could not be read.
func (c *Collector) fetchOffer(ctx context.Context, region string, fn func(offerRow)) (bad int, err error) {
	u := c.offerURL(region)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.bulkHTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("aws offer file of %s: %w", region, err)
	}
	defer resp.Body.Close()
	if err := collectors.CheckResponse(resp); err != nil {
		return 0, err
	}
	bad, err = parseOffer(resp.Body, region, fn)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &collectors.DecodeError{What: "aws offer file " + u, Err: err}
	}
	return bad, nil
}

// offerGPUs names the GPU of each GPU family for when there are no
// credentials, and so no DescribeInstanceTypes: the offer files give the
// GPU count, not the model. It is a fallback only; with credentials the
// facts come from EC2. mib is given where the catalog alias leaves the
// memory open.
var offerGPUs = map[string]struct {
	raw string
	mib float64
}{
	"p3": {"NVIDIA V100", 16384}, "p3dn": {"NVIDIA V100", 32768},
	"p4d": {"NVIDIA A100", 40960}, "p4de": {"NVIDIA A100", 81920},
	"p5": {"NVIDIA H100", 0}, "p5e": {"NVIDIA H200", 0}, "p5en": {"NVIDIA H200", 0},
	"p6-b200": {"NVIDIA B200", 0}, "p6-b300": {"NVIDIA B300", 0},
	"g4dn": {"NVIDIA T4", 0}, "g4ad": {"AMD Radeon Pro V520", 0}, "g5": {"NVIDIA A10G", 0}, "g5g": {"NVIDIA T4g", 0},
	"g6": {"NVIDIA L4", 0}, "gr6": {"NVIDIA L4", 0}, "g6f": {"NVIDIA L4", 0}, "gr6f": {"NVIDIA L4", 0},
	"g6e": {"NVIDIA L40S", 0},
}

// collectBulkOnly prices on-demand instances of the configured regions
// from the offer files alone, when the SDK found no credentials: no spot
// prices, and GPU facts from the files' GPU column and offerGPUs.
func (c *Collector) collectBulkOnly(ctx context.Context, credErr error) (*price.Snapshot, error) {
	if len(c.cfg.Regions) == 0 {
		return nil, fmt.Errorf("%w (%v); without credentials, list providers.aws.regions to price from the offer files", errNoCredentials, credErr)
	}
	c.mu.Lock()
	first := !c.bulkOK
	c.bulkOK = true
	c.mu.Unlock()
	if first {
		c.logger.Warn("no AWS credentials: on-demand prices only, from the public offer files; no spot prices", "err", credErr)
	}
	// Every type with a GPU column is kept; the GPU count decides below.
	prices, gpus, bad, err := c.bulkPrices(ctx, collectors.NormalizeRegions(c.cfg.Regions), func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	snap := &price.Snapshot{Provider: Name}
	snap.Skip(price.SkippedInvalid, bad)
	for k, usd := range prices {
		n := gpus[k.instanceType]
		if !(n > 0) {
			continue // not a GPU type
		}
		f := gpuFacts{count: n, raw: "instance family " + family(k.instanceType), model: price.Unknown}
		if g, ok := offerGPUs[family(k.instanceType)]; ok {
			f.raw = g.raw
			if a, ok := c.catalog.Lookup(Name, g.raw); ok {
				f.model, f.form, f.memGB = a.Model, a.Form, a.MemoryGB
				if f.memGB == 0 {
					f.memGB = c.catalog.SnapMemory(a.Model, a.Form, g.mib)
				}
			}
		}
		f.count = roundCount(f.count)
		snap.Quotes = append(snap.Quotes, f.quote(k.instanceType, k.region, "", price.OnDemand, usd))
	}
	slices.SortFunc(snap.Quotes, func(a, b price.Quote) int { return price.CompareQuotes(&a, &b) })
	return snap, nil
}

// regionsOf lists the regions of offered, sorted.
func regionsOf(offered map[string][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, rs := range offered {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}
