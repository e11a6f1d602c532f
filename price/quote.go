// Package price holds gpuprice's domain types: the normalized Quote every
// collector returns, the Snapshot a refresh produces, pricing models, series
// keys, and the embedded GPU catalog that maps each provider's raw GPU names
// to canonical models.
//
// Everything here is plain data: no I/O, no Prometheus, no SQL.
package price

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// PricingModel says how a price is charged.
type PricingModel string

// The pricing models of DESIGN §3.
const (
	OnDemand   PricingModel = "on_demand"
	Spot       PricingModel = "spot"
	Reserved1y PricingModel = "reserved_1y"
	Reserved3y PricingModel = "reserved_3y"
	Amortized  PricingModel = "amortized"
	Fixed      PricingModel = "fixed"
)

// PricingModels lists every valid pricing model, for validation and docs.
var PricingModels = []PricingModel{OnDemand, Spot, Reserved1y, Reserved3y, Amortized, Fixed}

// PricingModelNames are PricingModels as strings, for messages, choices
// and completion.
var PricingModelNames = func() []string {
	out := make([]string, len(PricingModels))
	for i, m := range PricingModels {
		out[i] = string(m)
	}
	return out
}()

// Valid reports whether m is one of PricingModels.
func (m PricingModel) Valid() bool {
	for _, v := range PricingModels {
		if m == v {
			return true
		}
	}
	return false
}

// Stock is a provider's statement about whether a shape can be rented now.
type Stock string

// The stock levels. Providers with only yes/no say StockAvailable or
// StockNone; graded ones (Runpod) say low, medium or high.
const (
	StockUnknown   Stock = ""
	StockNone      Stock = "none"
	StockAvailable Stock = "available"
	StockLow       Stock = "low"
	StockMedium    Stock = "medium"
	StockHigh      Stock = "high"
)

// Level is the stock as the gpuprice_gpu_available value: 0 not rentable
// now, 1 available (or low stock), 2 medium, 3 high; -1 when unknown.
func (s Stock) Level() float64 {
	switch s {
	case StockNone:
		return 0
	case StockAvailable, StockLow:
		return 1
	case StockMedium:
		return 2
	case StockHigh:
		return 3
	}
	return -1
}

// Unknown is the gpu_model of a quote whose raw GPU name the catalog does not
// know. Such quotes are kept (with GPURaw set) rather than dropped.
const Unknown = "UNKNOWN"

// Quote is one price for one rentable shape at one moment (DESIGN §3).
type Quote struct {
	Provider     string       `json:"provider"`
	InstanceType string       `json:"instance_type"`
	Region       string       `json:"region"`
	Zone         string       `json:"zone"`
	Geo          string       `json:"geo"`
	PricingModel PricingModel `json:"pricing_model"`

	GPUModel    string  `json:"gpu_model"`
	GPUForm     string  `json:"gpu_form"`
	GPUMemoryGB float64 `json:"gpu_memory_gb"`
	GPUCount    float64 `json:"gpu_count"`
	// GPURaw is the provider's own name for the GPU, kept so that unknown
	// models can be added to the catalog later. Never a metric label.
	GPURaw string `json:"gpu_raw,omitempty"`

	// VCPUs and MemoryGB are the host's vCPUs and RAM (GB) that come with
	// the instance or offer, where the provider says; 0 when unknown.
	// Never metric labels.
	VCPUs    float64 `json:"vcpus,omitempty"`
	MemoryGB float64 `json:"memory_gb,omitempty"`

	// USDPerHour is the price of the whole instance or offer.
	USDPerHour float64 `json:"usd_per_hour"`
	// Currency and CurrencyPerHour are the price as the provider quotes
	// it, where that is not USD (Scaleway's and OVHcloud's EUR, Golem's
	// GLM): USDPerHour is it converted at the ECB's rate (GLM: at
	// fx.glm_usd_url's). Empty for USD prices.
	Currency        string  `json:"currency,omitempty"`
	CurrencyPerHour float64 `json:"currency_per_hour,omitempty"`

	// ObservedAt is when gpuprice saw the price; EffectiveAt is the
	// provider's own timestamp where it gives one (AWS spot), else zero.
	ObservedAt  time.Time `json:"observed_at"`
	EffectiveAt time.Time `json:"effective_at,omitzero"`

	// Stock is what the provider says about availability now; empty when
	// it says nothing. A StockNone quote keeps its price (and history) but
	// is not rentable now.
	Stock Stock `json:"stock,omitempty"`
	// Zones are the availability zones of Region that offer the shape,
	// comma-separated and sorted ("1,2,3"), where the provider says (Azure
	// Resource SKUs); the price is still per region (Zone stays empty).
	// Empty when unknown or the region has no zones. A string, not a
	// slice, so that quotes stay comparable.
	Zones string `json:"zones,omitempty"`

	// Marketplace shapes only: how many individual offers the shape
	// aggregates, how many GPUs they hold, and the per-GPU-hour price
	// quantiles across those offers (USDPerHour is the cheapest offer's).
	Offers        int     `json:"offers,omitempty"`
	AvailableGPUs float64 `json:"available_gpus,omitempty"`
	P10           float64 `json:"p10_gpu_usd_per_hour,omitempty"`
	P50           float64 `json:"p50_gpu_usd_per_hour,omitempty"`
	P90           float64 `json:"p90_gpu_usd_per_hour,omitempty"`
}

// GPUUSDPerHour is the price per GPU-hour: USDPerHour / GPUCount. It is NaN
// when the GPU count is not positive (or is NaN).
func (q *Quote) GPUUSDPerHour() float64 {
	if !(q.GPUCount > 0) {
		return math.NaN()
	}
	return q.USDPerHour / q.GPUCount
}

// Key returns the quote's series identity.
func (q *Quote) Key() SeriesKey {
	return SeriesKey{
		Provider:     q.Provider,
		InstanceType: q.InstanceType,
		Region:       q.Region,
		Zone:         q.Zone,
		PricingModel: q.PricingModel,
		GPUCount:     FormatNumber(q.GPUCount),
	}
}

// SeriesKey identifies one price series: the values of KeyLabels
// (provider, instance_type, region, zone, pricing_model, gpu_count), in
// their order. GPUCount is the formatted label value, so that keys compare
// equal exactly when their labels do.
type SeriesKey struct {
	Provider     string
	InstanceType string
	Region       string
	Zone         string
	PricingModel PricingModel
	GPUCount     string
}

// CompareQuotes orders quotes by series key (KeyLabels: provider, instance
// type, region, zone, pricing model, GPU count): the order snapshots,
// /metrics and tests share.
func CompareQuotes(a, b *Quote) int {
	for i := range KeyLabels {
		if c := KeyLabels[i].Compare(a, b); c != 0 {
			return c
		}
	}
	return 0
}

// Labels returns the key's labels as a quote's, every other field zero:
// the inverse of Quote.Key, with gpu_count rounded as its label value is.
func (k SeriesKey) Labels() Quote {
	return Quote{Provider: k.Provider, InstanceType: k.InstanceType, Region: k.Region, Zone: k.Zone,
		PricingModel: k.PricingModel, GPUCount: parseNumber(k.GPUCount)}
}

// Compare orders keys as CompareQuotes orders their quotes (gpu_count
// numerically), without building them.
func (k SeriesKey) Compare(o SeriesKey) int {
	if c := cmp.Or(
		strings.Compare(k.Provider, o.Provider),
		strings.Compare(k.InstanceType, o.InstanceType),
		strings.Compare(k.Region, o.Region),
		strings.Compare(k.Zone, o.Zone),
		strings.Compare(string(k.PricingModel), string(o.PricingModel)),
	); c != 0 {
		return c
	}
	return cmp.Compare(parseNumber(k.GPUCount), parseNumber(o.GPUCount))
}

// String renders the key for logs and error messages.
func (k SeriesKey) String() string {
	return strings.Join([]string{k.Provider, k.InstanceType, k.Region, k.Zone, string(k.PricingModel), k.GPUCount}, "/")
}

// Market is the price distribution of a marketplace's offers for one GPU in
// one region and pricing model, across every offer size (DESIGN §6,
// gpuprice_market_gpu_usd_per_hour and gpuprice_available_gpus). A
// provider that publishes statistics rather than offers (Akash) sets the
// quantiles it does not know to NaN, Offers to 0 (unknown) and
// AvailableGPUs to NaN when it does not count them, and those are not
// exported.
type Market struct {
	Provider     string       `json:"provider"`
	Region       string       `json:"region"`
	Geo          string       `json:"geo"`
	PricingModel PricingModel `json:"pricing_model"`
	GPUModel     string       `json:"gpu_model"`
	GPUForm      string       `json:"gpu_form"`
	GPUMemoryGB  float64      `json:"gpu_memory_gb"`

	P10 float64 `json:"p10_gpu_usd_per_hour"`
	P50 float64 `json:"p50_gpu_usd_per_hour"`
	P90 float64 `json:"p90_gpu_usd_per_hour"`
	// Offers and SumGPUUSDPerHour (the sum of the offers' per-GPU-hour
	// prices) make the distribution a summary: its mean is Sum / Offers.
	Offers           int     `json:"offers"`
	SumGPUUSDPerHour float64 `json:"sum_gpu_usd_per_hour"`
	AvailableGPUs    float64 `json:"available_gpus"`
}

// MarshalJSON implements json.Marshaler: an unknown (NaN) quantile or
// count of available GPUs is null.
func (m Market) MarshalJSON() ([]byte, error) {
	type plain Market // Market's fields and tags, without this method
	orNull := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	// The outer fields shadow plain's of the same JSON name.
	return json.Marshal(struct {
		plain
		P10           *float64 `json:"p10_gpu_usd_per_hour"`
		P50           *float64 `json:"p50_gpu_usd_per_hour"`
		P90           *float64 `json:"p90_gpu_usd_per_hour"`
		AvailableGPUs *float64 `json:"available_gpus"`
	}{plain(m), orNull(m.P10), orNull(m.P50), orNull(m.P90), orNull(m.AvailableGPUs)})
}

// Offer is one individual marketplace offer, kept in memory for the API only:
// its ID is ephemeral and never becomes a label or a stored series.
type Offer struct {
	ID       string `json:"id"`
	Location string `json:"location,omitempty"`
	Quote
}

// Snapshot is everything one successful refresh of one provider returned.
// A published Snapshot is immutable: readers may hold it without locks.
type Snapshot struct {
	Provider string `json:"provider"`
	// Time is when the refresh finished; every quote's ObservedAt.
	Time    time.Time `json:"time"`
	Quotes  []Quote   `json:"quotes"`
	Markets []Market  `json:"markets,omitempty"`
	Offers  []Offer   `json:"offers,omitempty"`
	// Skipped counts, by reason, the rows of the provider's answer the
	// collector left out because they could not be priced: a null,
	// missing or wrong-typed price, count or name (reason SkippedInvalid).
	// Rows left out by design (Vast.ai offers that cannot be rented, a
	// tier a GPU type is not sold in) are not counted here.
	Skipped map[string]int `json:"skipped,omitempty"`
}

// SkippedInvalid is the Snapshot.Skipped reason of a row whose price,
// count or name is null, missing or of the wrong type.
const SkippedInvalid = "invalid_row"

// Skip counts n rows of snapshot s skipped for reason.
func (s *Snapshot) Skip(reason string, n int) {
	if n <= 0 {
		return
	}
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason] += n
}

// FormatNumber renders a label value the DESIGN way: at most 4 decimals, no
// trailing zeros ("8", "0.1667", "80"); 0 and non-finite values render empty,
// meaning "absent". A non-zero value that rounds to zero renders "0".
func FormatNumber(v float64) string {
	return string(AppendNumber(nil, v))
}

// parseNumber is the inverse of FormatNumber: 0 for "" (absent) or
// anything else that is not a number.
func parseNumber(label string) float64 {
	v, _ := strconv.ParseFloat(label, 64)
	return v
}

// AppendNumber appends FormatNumber(v) to b without allocating.
func AppendNumber(b []byte, v float64) []byte {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return b
	}
	// From 1e11 up a float64 has no fourth decimal left to round, and v*1e4
	// would eventually overflow to Inf.
	if math.Abs(v) < 1e11 {
		v = math.Round(v*1e4) / 1e4
	}
	if v == 0 {
		v = 0 // -0.00001 rounds to -0, which would render "-0"
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
