package collectors

import (
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// checker validates one provider's answers. Collectors need not validate
// what they return: one checker per provider keeps every provider to the
// same rules, and remembers the unknown GPUs it already logged, so that
// each is logged once rather than at every refresh. It is not safe for
// concurrent use.
type checker struct {
	provider  string
	maxPerGPU float64 // 0: no upper bound
	allowZero bool
	logger    *slog.Logger
	unknown   map[string]bool // raw GPU names already logged
}

func newChecker(logger *slog.Logger, provider string, c Collector, maxPerGPU float64) *checker {
	allowZero := false
	if z, ok := c.(ZeroPriceAllower); ok {
		allowZero = z.AllowsZeroPrices()
	}
	return &checker{provider: provider, maxPerGPU: maxPerGPU, allowZero: allowZero, logger: logger, unknown: map[string]bool{}}
}

// check returns a new snapshot of in's plausible quotes, markets and
// offers, stamped with the provider and now; in is not modified. It counts
// what it dropped by reason (the State's Errors), and returns how many of
// the dropped were quotes: a snapshot whose every quote was dropped fails
// the refresh.
func (c *checker) check(in *price.Snapshot, now time.Time) (out *price.Snapshot, rejected map[string]int, rejectedQuotes int) {
	if in == nil {
		in = &price.Snapshot{}
	}
	out = &price.Snapshot{Provider: c.provider, Time: now}
	rejected = map[string]int{}
	out.Quotes = c.quotes(in.Quotes, now, rejected)
	rejectedQuotes = sum(rejected)
	out.Markets = c.markets(in.Markets, rejected)
	out.Offers = c.offers(in.Offers, now, rejected)
	// Rows the collector could not read are counted like rejected quotes,
	// under the collector's reason, but do not count as rejected quotes:
	// an answer with a few bad rows and good ones is a success.
	for reason, n := range in.Skipped {
		if n > 0 {
			rejected[reason] += n
		}
	}
	return out, rejected, rejectedQuotes
}

func (c *checker) quotes(in []price.Quote, now time.Time, rejected map[string]int) []price.Quote {
	out := make([]price.Quote, 0, len(in))
	seen := make(map[price.SeriesKey]bool, len(in))
	for _, q := range in {
		c.stamp(&q, now)
		reason := quoteProblem(&q, c.allowZero, c.maxPerGPU)
		if reason == "" {
			k := q.Key()
			if seen[k] {
				reason = "duplicate_series"
			}
			seen[k] = true
		}
		if reason != "" {
			rejected[reason]++
			continue
		}
		if q.GPUModel == price.Unknown && !c.unknown[q.GPURaw] {
			c.unknown[q.GPURaw] = true
			c.logger.Warn("unknown GPU: exported as UNKNOWN; add it to the catalog (price/catalog.yaml)",
				"provider", c.provider, "raw", q.GPURaw, "instance_type", q.InstanceType)
		}
		out = append(out, q)
	}
	return out
}

func (c *checker) markets(in []price.Market, rejected map[string]int) []price.Market {
	var out []price.Market
	for _, m := range in {
		m.Provider = c.provider
		if m.Geo == "" {
			m.Geo = price.Geo(m.Region)
		}
		if !plausibleMarket(&m) {
			rejected["invalid_price"]++
			continue
		}
		out = append(out, m)
	}
	return out
}

// plausibleMarket reports whether m's statistics are prices and counts. A
// market of offers must have them all; one of published statistics
// (Offers 0: Akash) may leave those it does not know NaN, but not all.
func plausibleMarket(m *price.Market) bool {
	stats := []float64{m.P10, m.P50, m.P90, m.AvailableGPUs}
	known := 0
	for _, v := range stats {
		switch {
		case plausible(v):
			known++
		case !math.IsNaN(v) || m.Offers > 0:
			return false
		}
	}
	return known > 0
}

func (c *checker) offers(in []price.Offer, now time.Time, rejected map[string]int) []price.Offer {
	var out []price.Offer
	for _, o := range in {
		c.stamp(&o.Quote, now)
		if quoteProblem(&o.Quote, c.allowZero, c.maxPerGPU) != "" {
			rejected["invalid_offer"]++
			continue
		}
		out = append(out, o)
	}
	return out
}

// stamp sets what the provider's series key and the store rely on:
// providers name regions in any case, and leave the geo and the time to
// the Runner.
func (c *checker) stamp(q *price.Quote, now time.Time) {
	q.Provider = c.provider
	q.Region, q.Zone = strings.ToLower(q.Region), strings.ToLower(q.Zone)
	if q.Geo == "" {
		q.Geo = price.Geo(q.Region)
	}
	q.ObservedAt = now
}

// quoteProblem returns why q is implausible, or "".
func quoteProblem(q *price.Quote, allowZero bool, maxPerGPU float64) string {
	switch {
	case q.InstanceType == "" || !q.PricingModel.Valid():
		return "invalid_quote"
	case math.IsNaN(q.GPUCount) || math.IsInf(q.GPUCount, 0) || q.GPUCount <= 0:
		return "invalid_gpu_count"
	case !plausible(q.USDPerHour) || !plausible(q.CurrencyPerHour):
		return "invalid_price"
	case q.USDPerHour == 0 && !allowZero:
		return "zero_price"
	case maxPerGPU > 0 && q.GPUUSDPerHour() > maxPerGPU:
		return "absurd_price"
	}
	return ""
}

func plausible(v float64) bool { return v >= 0 && !math.IsNaN(v) && !math.IsInf(v, 0) }

// unknownNames returns the distinct raw names of the quotes whose GPU the
// catalog does not know, sorted; nil when there are none.
func unknownNames(qs []price.Quote) []string {
	var names []string
	seen := map[string]bool{}
	for i := range qs {
		if q := &qs[i]; q.GPUModel == price.Unknown && !seen[q.GPURaw] {
			seen[q.GPURaw] = true
			names = append(names, q.GPURaw)
		}
	}
	slices.Sort(names)
	return names
}

func countUnknown(qs []price.Quote) int {
	n := 0
	for i := range qs {
		if qs[i].GPUModel == price.Unknown {
			n++
		}
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
