package price

import (
	"cmp"
	"strings"
)

// Label is one label of the price series: its name, what it means, and
// which Quote field holds its value. A text label's value is the field; a
// numeric label's (gpu_memory_gb, gpu_count) is the field formatted with
// FormatNumber.
type Label struct {
	Name string
	// Help says what the label means, for documentation.
	Help string
	// Head is the label's column heading in the command line's tables;
	// Title in the web UI's.
	Head, Title string

	key, metric, market bool
	// Exactly one is set.
	text   func(*Quote) *string
	number func(*Quote) *float64
}

// Labels is the label table: every label of a price series, in DESIGN §3
// order, then gpu_raw, the provider's own GPU name, and currency, the
// currency of the provider's own price where it is not USD, which each
// stored and exported series keeps but which are never metric labels
// (DESIGN §6). Every list of labels (the metrics, the API's parameters and
// answers, the export columns, the store's columns, the headings of the
// command line's and the web UI's tables) is taken from it; the
// structs that must spell the labels out (Quote, Market, SeriesKey and
// their users' JSON, Parquet and SQL forms) have tests that they agree
// with it.
var Labels = []Label{
	{Name: "provider", Head: "PROVIDER", Title: "Provider", Help: "The provider: aws, gcp, azure, vastai, runpod, lambda, owned, static, ...",
		key: true, metric: true, market: true, text: func(q *Quote) *string { return &q.Provider }},
	{Name: "instance_type", Head: "INSTANCE_TYPE", Title: "Instance type", Help: "The provider's own name for what is rented; for marketplaces, a shape name documented per provider.",
		key: true, metric: true, text: func(q *Quote) *string { return &q.InstanceType }},
	{Name: "region", Head: "REGION", Title: "Region", Help: "The provider's own region id, lower-cased.",
		key: true, metric: true, market: true, text: func(q *Quote) *string { return &q.Region }},
	{Name: "zone", Head: "ZONE", Title: "Zone", Help: "The zone, only where the price is per zone (AWS spot).",
		key: true, metric: true, text: func(q *Quote) *string { return &q.Zone }},
	{Name: "geo", Head: "GEO", Title: "Geo", Help: "Coarse location shared by all providers: " + strings.Join(Geos, ", ") + ".",
		metric: true, market: true, text: func(q *Quote) *string { return &q.Geo }},
	{Name: "pricing_model", Head: "PRICING", Title: "Pricing", Help: "How the price is charged: on_demand, spot, reserved_1y, reserved_3y, amortized or fixed.",
		key: true, metric: true, market: true, text: func(q *Quote) *string { return (*string)(&q.PricingModel) }},
	{Name: "gpu_model", Head: "GPU", Title: "GPU", Help: "Canonical GPU model (H100, A100, L4, ...); " + Unknown + " when the catalog does not know the provider's name for it.",
		metric: true, market: true, text: func(q *Quote) *string { return &q.GPUModel }},
	{Name: "gpu_form", Head: "FORM", Title: "Form", Help: "GPU form factor: sxm, pcie, or empty when unknown.",
		metric: true, market: true, text: func(q *Quote) *string { return &q.GPUForm }},
	{Name: "gpu_memory_gb", Head: "MEM_GB", Title: "Memory (GB)", Help: "Marketed memory per GPU in GB.",
		metric: true, market: true, number: func(q *Quote) *float64 { return &q.GPUMemoryGB }},
	{Name: "gpu_count", Head: "GPUS", Title: "GPUs", Help: "GPUs in the instance or offer; may be fractional.",
		key: true, metric: true, number: func(q *Quote) *float64 { return &q.GPUCount }},
	{Name: "gpu_raw", Head: "GPU_RAW", Title: "GPU name", Help: "The provider's own name for the GPU; stored and exported, never a metric label.",
		text: func(q *Quote) *string { return &q.GPURaw }},
	{Name: "currency", Head: "CURRENCY", Title: "Currency", Help: "The currency the provider quotes the price in, where it is not USD (EUR for Scaleway); stored and exported, never a metric label.",
		text: func(q *Quote) *string { return &q.Currency }},
}

// The label sets, each in Labels order.
var (
	// SeriesLabels label gpuprice_gpu_usd_per_hour,
	// gpuprice_instance_usd_per_hour and gpuprice_gpu_available: every
	// label but gpu_raw and currency. They are what answers and queries call a
	// series' labels.
	SeriesLabels = labelsWhere(func(l *Label) bool { return l.metric })
	// MarketLabels label gpuprice_market_gpu_usd_per_hour (with
	// quantile) and gpuprice_available_gpus; read them from
	// Market.Labels.
	MarketLabels = labelsWhere(func(l *Label) bool { return l.market })
	// KeyLabels identify a series: the fields of SeriesKey.
	KeyLabels = labelsWhere(func(l *Label) bool { return l.key })
)

func labelsWhere(in func(*Label) bool) []Label {
	var out []Label
	for i := range Labels {
		if in(&Labels[i]) {
			out = append(out, Labels[i])
		}
	}
	return out
}

// AppendValues appends q's values of the labels ls to dst, in order: a
// CSV record's label cells.
func AppendValues(dst []string, ls []Label, q *Quote) []string {
	for i := range ls {
		dst = append(dst, ls[i].Value(q))
	}
	return dst
}

// LabelNamed returns the label called name, nil when there is none.
func LabelNamed(name string) *Label {
	for i := range Labels {
		if Labels[i].Name == name {
			return &Labels[i]
		}
	}
	return nil
}

// LabelNames returns the names of labels.
func LabelNames(labels []Label) []string {
	out := make([]string, len(labels))
	for i := range labels {
		out[i] = labels[i].Name
	}
	return out
}

// Key reports whether l is one of KeyLabels.
func (l *Label) Key() bool { return l.key }

// Numeric reports whether l's value is a formatted number.
func (l *Label) Numeric() bool { return l.number != nil }

// Value returns l's value in q.
func (l *Label) Value(q *Quote) string {
	if l.number != nil {
		return FormatNumber(*l.number(q))
	}
	return *l.text(q)
}

// AppendValue appends Value(q) to b without allocating.
func (l *Label) AppendValue(b []byte, q *Quote) []byte {
	if l.number != nil {
		return AppendNumber(b, *l.number(q))
	}
	return append(b, *l.text(q)...)
}

// Is reports whether Value(q) is v, without allocating.
func (l *Label) Is(q *Quote, v string) bool {
	if l.number != nil {
		var buf [32]byte
		return string(AppendNumber(buf[:0], *l.number(q))) == v
	}
	return *l.text(q) == v
}

// SetValue sets l's field of q to the label value v; for a numeric label,
// to the number v formats, 0 when v is not one.
func (l *Label) SetValue(q *Quote, v string) {
	if l.number != nil {
		*l.number(q) = parseNumber(v)
		return
	}
	*l.text(q) = v
}

// Number returns the number of a numeric label in q, unformatted; 0 for a
// text label.
func (l *Label) Number(q *Quote) float64 {
	if l.number != nil {
		return *l.number(q)
	}
	return 0
}

// Field returns a pointer to q's field of l: a *string, or a *float64 for
// a numeric label. It is for decoders (database/sql's Scan) that fill a
// quote's labels.
func (l *Label) Field(q *Quote) any {
	if l.number != nil {
		return l.number(q)
	}
	return l.text(q)
}

// Compare orders q and r by l: numbers by value, text as strings.
func (l *Label) Compare(q, r *Quote) int {
	if l.number != nil {
		return cmp.Compare(*l.number(q), *l.number(r))
	}
	return strings.Compare(*l.text(q), *l.text(r))
}

// Copy sets l's field of dst to src's.
func (l *Label) Copy(dst, src *Quote) {
	if l.number != nil {
		*l.number(dst) = *l.number(src)
		return
	}
	*l.text(dst) = *l.text(src)
}

// Clear sets l's field of q to its absent value.
func (l *Label) Clear(q *Quote) {
	if l.number != nil {
		*l.number(q) = 0
		return
	}
	*l.text(q) = ""
}

// LabelsOnly returns q's labels (all of Labels) with every price and
// observation field zero.
func (q *Quote) LabelsOnly() Quote {
	var out Quote
	for i := range Labels {
		Labels[i].Copy(&out, q)
	}
	return out
}

// CompareLabels orders quotes by their label values, compared as strings,
// in Labels order (gpu_raw last): the order of API answers.
func CompareLabels(q, r *Quote) int {
	for i := range Labels {
		if c := strings.Compare(Labels[i].Value(q), Labels[i].Value(r)); c != 0 {
			return c
		}
	}
	return 0
}

// Labels returns the market's labels (MarketLabels) as a quote's, every
// other field zero.
func (m *Market) Labels() Quote {
	return Quote{Provider: m.Provider, Region: m.Region, Geo: m.Geo, PricingModel: m.PricingModel,
		GPUModel: m.GPUModel, GPUForm: m.GPUForm, GPUMemoryGB: m.GPUMemoryGB}
}
