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

// label is a series label that requests can filter on.
type label struct {
	*price.Label
	// norm checks a filter value and brings it to the label's form.
	norm func(name, v string) (string, error)
}

// norms are the checks of the labels whose filter values are not taken as
// they are (text) or as positive numbers.
var norms = map[string]func(name, v string) (string, error){
	"provider":      lower,
	"region":        lower,
	"zone":          lower,
	"geo":           oneOf(price.Geos...),
	"pricing_model": pricingModel,
	"gpu_model":     upper,
	"gpu_form":      oneOf("sxm", "pcie"),
}

// labels are the filterable labels: the series labels, in DESIGN §3 order.
var labels = func() []label {
	out := make([]label, len(price.SeriesLabels))
	for i := range price.SeriesLabels {
		l := &price.SeriesLabels[i]
		norm := norms[l.Name]
		if norm == nil {
			norm = exact
			if l.Numeric() {
				norm = positive
			}
		}
		out[i] = label{l, norm}
	}
	return out
}()

// labelNames lists the names of labels.
var labelNames = price.LabelNames(price.SeriesLabels)

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
		return "", badParam(name, v, "is not one of "+strings.Join(price.PricingModelNames, ", "))
	}
	return string(m), nil
}

// positive checks a numeric label value and formats it the label way, so
// that 80, 80.0 and 80.00001 all match the label "80".
func positive(name, v string) (string, error) {
	f, err := parseNumber(name, v, labelRange)
	if err != nil {
		return "", err
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
		for _, v := range p.list(l.Name) {
			n, err := l.norm(l.Name, v)
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
			if f.maxGPU, err = parseNumber("max_gpu_usd_per_hour", v, priceRange); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// match reports whether q passes every filter. A price that cannot be
// computed never passes a price filter.
func (f *filter) match(q *price.Quote) bool {
	for i, set := range f.sets {
		if set != nil && !set[labels[i].Value(q)] {
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
	var l price.Quote
	for i, set := range f.sets {
		if len(set) == 1 {
			for v := range set {
				pushDown(&l, labels[i].Label, v)
			}
		}
	}
	var sq store.Query
	sq.SetLabels(&l)
	return sq
}

// pushDown sets label of l to the filter value v, a number only when it
// is whole (see wholeNumber).
func pushDown(l *price.Quote, label *price.Label, v string) {
	switch p := label.Field(l).(type) {
	case *string:
		*p = v
	case *float64:
		*p = wholeNumber(v)
	}
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
	return price.CompareLabels(a, b)
}

// parseLimit reads limit: a positive integer, 0 when absent (everything).
func parseLimit(p params) (int, error) {
	v, err := p.one("limit")
	if err != nil || v == "" {
		return 0, err
	}
	n, err := parseNumber("limit", v, limitRange)
	return int(n), err
}
