package api

import (
	"cmp"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// params is a request's query, checked against the names its endpoint
// accepts.
type params url.Values

// parseParams parses r's query and refuses parameters not in allowed: a
// misspelt filter would otherwise silently match everything.
func parseParams(r *http.Request, allowed []string) (params, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad query string: %v", err)
	}
	for name := range v {
		if !slices.Contains(allowed, name) {
			return nil, errorf(http.StatusBadRequest, "unknown parameter %q; this endpoint takes %s", name, strings.Join(allowed, ", "))
		}
	}
	return params(v), nil
}

// one returns the value of a single-valued parameter, "" when absent or
// empty.
func (p params) one(name string) (string, error) {
	var got []string
	for _, s := range p[name] {
		if s != "" {
			got = append(got, s)
		}
	}
	if len(got) > 1 {
		return "", errorf(http.StatusBadRequest, "bad parameter %q: given %d times (%s); it takes one value", name, len(got), strings.Join(got, ", "))
	}
	if len(got) == 0 {
		return "", nil
	}
	return got[0], nil
}

// list returns the values of a parameter that may be repeated and may hold
// several comma-separated values; empty values are dropped.
func (p params) list(name string) []string {
	var out []string
	for _, s := range p[name] {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// label is one quote label that requests can filter on.
type label struct {
	name string
	get  func(q *price.Quote) string
	// norm checks a filter value and brings it to the form get returns.
	norm func(name, v string) (string, error)
	// push sets the store query field for a single filter value; nil when
	// the field cannot be pushed down.
	push func(sq *store.Query, v string)
}

// labels are the filterable labels, in DESIGN §3 order; the series labels
// first, then the GPU's.
var labels = []label{
	{"provider", func(q *price.Quote) string { return q.Provider }, lower,
		func(sq *store.Query, v string) { sq.Provider = v }},
	{"instance_type", func(q *price.Quote) string { return q.InstanceType }, exact,
		func(sq *store.Query, v string) { sq.InstanceType = v }},
	{"region", func(q *price.Quote) string { return q.Region }, lower,
		func(sq *store.Query, v string) { sq.Region = v }},
	{"zone", func(q *price.Quote) string { return q.Zone }, lower,
		func(sq *store.Query, v string) { sq.Zone = v }},
	{"geo", func(q *price.Quote) string { return q.Geo }, oneOf(price.Geos...),
		func(sq *store.Query, v string) { sq.Geo = v }},
	{"pricing_model", func(q *price.Quote) string { return string(q.PricingModel) }, pricingModel,
		func(sq *store.Query, v string) { sq.PricingModel = price.PricingModel(v) }},
	{"gpu_model", func(q *price.Quote) string { return q.GPUModel }, upper,
		func(sq *store.Query, v string) { sq.GPUModel = v }},
	{"gpu_form", func(q *price.Quote) string { return q.GPUForm }, oneOf("sxm", "pcie"),
		func(sq *store.Query, v string) { sq.GPUForm = v }},
	{"gpu_memory_gb", func(q *price.Quote) string { return price.FormatNumber(q.GPUMemoryGB) }, positive,
		func(sq *store.Query, v string) { sq.GPUMemoryGB = wholeNumber(v) }},
	{"gpu_count", func(q *price.Quote) string { return price.FormatNumber(q.GPUCount) }, positive,
		func(sq *store.Query, v string) { sq.GPUCount = wholeNumber(v) }},
}

// labelNames lists the names of labels.
var labelNames = func() []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = l.name
	}
	return out
}()

func exact(_, v string) (string, error) { return v, nil }
func lower(_, v string) (string, error) { return strings.ToLower(v), nil }
func upper(_, v string) (string, error) { return strings.ToUpper(v), nil }

func oneOf(valid ...string) func(name, v string) (string, error) {
	return func(name, v string) (string, error) {
		l := strings.ToLower(v)
		if !slices.Contains(valid, l) {
			return "", badParam(name, v, "is not one of "+strings.Join(valid, ", "))
		}
		return l, nil
	}
}

func pricingModel(name, v string) (string, error) {
	m := price.PricingModel(strings.ToLower(v))
	if !m.Valid() {
		valid := make([]string, len(price.PricingModels))
		for i, m := range price.PricingModels {
			valid[i] = string(m)
		}
		return "", badParam(name, v, "is not one of "+strings.Join(valid, ", "))
	}
	return string(m), nil
}

// positive checks a numeric label value and formats it the label way, so
// that 80, 80.0 and 80.00001 all match the label "80".
func positive(name, v string) (string, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return "", badParam(name, v, "is not a positive number")
	}
	if math.Round(f*1e4) == 0 {
		return "", badParam(name, v, "rounds to 0 at 4 decimals")
	}
	return price.FormatNumber(f), nil
}

// wholeNumber returns the label value v as a number when it is a whole
// number, else 0 (no store filter). Only whole numbers are pushed down to
// the store: a store comparing floats would not find 1/6 from "0.1667", and
// the in-memory filter catches what the store lets through.
func wholeNumber(v string) float64 {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != math.Trunc(f) {
		return 0
	}
	return f
}

// filter selects quotes by label and price.
type filter struct {
	// sets[i] holds the accepted values of labels[i]; nil accepts any.
	sets   []map[string]bool
	maxGPU float64 // max_gpu_usd_per_hour; +Inf when not given
}

// parseFilter reads the label filters and, when withPrice, the price
// filter.
func parseFilter(p params, withPrice bool) (*filter, error) {
	f := &filter{sets: make([]map[string]bool, len(labels)), maxGPU: math.Inf(1)}
	for i, l := range labels {
		for _, v := range p.list(l.name) {
			n, err := l.norm(l.name, v)
			if err != nil {
				return nil, err
			}
			if f.sets[i] == nil {
				f.sets[i] = map[string]bool{}
			}
			f.sets[i][n] = true
		}
	}
	if withPrice {
		v, err := p.one("max_gpu_usd_per_hour")
		if err != nil {
			return nil, err
		}
		if v != "" {
			m, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(m) || m < 0 {
				return nil, badParam("max_gpu_usd_per_hour", v, "is not a non-negative number")
			}
			f.maxGPU = m
		}
	}
	return f, nil
}

// match reports whether q passes every filter. A price that cannot be
// computed never passes a price filter.
func (f *filter) match(q *price.Quote) bool {
	for i, set := range f.sets {
		if set != nil && !set[labels[i].get(q)] {
			return false
		}
	}
	if !math.IsInf(f.maxGPU, 1) && !(q.GPUUSDPerHour() <= f.maxGPU) {
		return false
	}
	return true
}

// storeQuery returns the store query for the filters that name a single
// value; the rest are applied to the answer with match.
func (f *filter) storeQuery() store.Query {
	var sq store.Query
	for i, set := range f.sets {
		if len(set) == 1 {
			for v := range set {
				labels[i].push(&sq, v)
			}
		}
	}
	return sq
}

// sortKeys are the accepted sort parameter values, without "-".
var sortKeys = []string{"gpu_usd_per_hour", "usd_per_hour", "provider", "gpu_model"}

// sorter orders quotes by a sort key, then by price, then by series, so
// that equal keys still give a deterministic answer.
type sorter struct {
	key  string
	desc bool
}

func parseSort(p params, def string) (sorter, error) {
	v, err := p.one("sort")
	if err != nil {
		return sorter{}, err
	}
	if v == "" {
		v = def
	}
	s := sorter{key: strings.TrimPrefix(v, "-"), desc: strings.HasPrefix(v, "-")}
	if !slices.Contains(sortKeys, s.key) {
		return sorter{}, badParam("sort", v, "is not one of "+strings.Join(sortKeys, ", ")+" (prefix - to sort descending)")
	}
	return s, nil
}

func (s sorter) compare(a, b *price.Quote) int {
	var c int
	switch s.key {
	case "gpu_usd_per_hour":
		c = comparePrice(a.GPUUSDPerHour(), b.GPUUSDPerHour(), s.desc)
	case "usd_per_hour":
		c = comparePrice(a.USDPerHour, b.USDPerHour, s.desc)
	case "provider":
		c = strings.Compare(a.Provider, b.Provider)
	case "gpu_model":
		c = strings.Compare(a.GPUModel, b.GPUModel)
	}
	if s.desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return compareQuotes(a, b)
}

// comparePrice orders prices so that the ones that cannot be computed (NaN)
// come last whichever the direction; the caller negates the result for a
// descending sort.
func comparePrice(a, b float64, desc bool) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an != bn:
		last := 1
		if desc {
			last = -1
		}
		if an {
			return last
		}
		return -last
	}
	return cmp.Compare(a, b)
}

// compareQuotes is the tie-break: cheaper per GPU first, then by series.
func compareQuotes(a, b *price.Quote) int {
	if c := comparePrice(a.GPUUSDPerHour(), b.GPUUSDPerHour(), false); c != 0 {
		return c
	}
	if c := cmp.Compare(a.USDPerHour, b.USDPerHour); c != 0 {
		return c
	}
	return compareLabels(a, b)
}

// compareLabels orders quotes by their labels in §3 order.
func compareLabels(a, b *price.Quote) int {
	for _, l := range labels {
		if c := strings.Compare(l.get(a), l.get(b)); c != 0 {
			return c
		}
	}
	return strings.Compare(a.GPURaw, b.GPURaw)
}

// parseLimit reads limit: a positive integer, 0 when absent (everything).
func parseLimit(p params) (int, error) {
	v, err := p.one("limit")
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, badParam("limit", v, "is not a positive integer")
	}
	return n, nil
}
