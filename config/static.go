package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/price"
)

// Static is one fixed price (an entry of the top-level static: list) for
// what has no price API: an academic allocation (often free), a negotiated
// contract, a provider without an API. Entries are exported under their own
// provider name, with pricing_model fixed unless told otherwise.
type Static struct {
	// Provider is the provider label; it must not be the name of a
	// providers: section, nor "owned".
	Provider string `yaml:"provider"`
	// InstanceType defaults to "<count>x_<gpu_model>_<memory>GB".
	InstanceType string  `yaml:"instance_type"`
	GPUModel     string  `yaml:"gpu_model"`
	GPUForm      string  `yaml:"gpu_form"`
	GPUMemoryGB  float64 `yaml:"gpu_memory_gb"`
	// GPUCount is the GPUs the price is for (default 1).
	GPUCount float64 `yaml:"gpu_count"`
	// USDPerHour is the price of all GPUCount GPUs per hour. Required; 0
	// is a real price (a free allocation).
	USDPerHour *float64 `yaml:"usd_per_hour"`
	// PricingModel defaults to fixed.
	PricingModel price.PricingModel `yaml:"pricing_model"`
	Region       string             `yaml:"region"`
	Zone         string             `yaml:"zone"`
	// Geo defaults to the region's coarse location.
	Geo string `yaml:"geo"`
	// MaxGPUHoursPerMonth caps what the planner may use of this option
	// (an allocation's size); 0: no cap.
	MaxGPUHoursPerMonth float64 `yaml:"max_gpu_hours_per_month"`
}

// GPUUSDPerHour is the entry's price per GPU-hour.
func (s *Static) GPUUSDPerHour() float64 { return *s.USDPerHour / s.GPUCount }

func (s *Static) setDefaults() {
	s.Region, s.Zone = strings.ToLower(s.Region), strings.ToLower(s.Zone)
	if s.GPUCount == 0 {
		s.GPUCount = 1
	}
	if s.PricingModel == "" {
		s.PricingModel = price.Fixed
	}
	if s.Geo == "" {
		s.Geo = price.Geo(s.Region)
	}
	if s.InstanceType == "" && s.GPUModel != "" {
		s.InstanceType = price.FormatNumber(s.GPUCount) + "x_" + s.GPUModel
		if s.GPUMemoryGB > 0 {
			s.InstanceType += "_" + price.FormatNumber(s.GPUMemoryGB) + "GB"
		}
	}
}

var providerName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// ownedProvider is the provider label of the owned entries.
const ownedProvider = "owned"

func (c *Config) validateStatic(cat *price.Catalog) error {
	seen := map[price.SeriesKey]int{}
	sections := c.Providers.Names()
	for i := range c.Static {
		s := &c.Static[i]
		key := fmt.Sprintf("static[%d]", i)
		switch {
		case !providerName.MatchString(s.Provider):
			return keyErrorf(key+".provider", "%q is not a provider name (lower-case letters, digits, - and _)", s.Provider)
		case s.Provider == ownedProvider || slices.Contains(sections, s.Provider):
			return keyErrorf(key+".provider", "%q is taken by a collector: give the static prices a name of their own (e.g. %s-contract)", s.Provider, s.Provider)
		}
		if err := checkGPU(key, cat, s.GPUModel, s.GPUForm, s.GPUMemoryGB); err != nil {
			return err
		}
		if s.GPUCount < 0 || !finite(s.GPUCount) {
			return keyErrorf(key+".gpu_count", "must be positive")
		}
		if s.USDPerHour == nil {
			return keyErrorf(key+".usd_per_hour", "required (0 is allowed: a free allocation)")
		}
		if *s.USDPerHour < 0 || !finite(*s.USDPerHour) {
			return keyErrorf(key+".usd_per_hour", "must not be negative")
		}
		if !s.PricingModel.Valid() {
			return keyErrorf(key+".pricing_model", "%q is not a pricing model (fixed, on_demand, spot, reserved_1y, reserved_3y, amortized)", s.PricingModel)
		}
		if s.MaxGPUHoursPerMonth < 0 || !finite(s.MaxGPUHoursPerMonth) {
			return keyErrorf(key+".max_gpu_hours_per_month", "must not be negative (0: no cap)")
		}
		if err := checkGeo(key, s.Geo); err != nil {
			return err
		}
		q := price.Quote{Provider: s.Provider, InstanceType: s.InstanceType, Region: s.Region, Zone: s.Zone, PricingModel: s.PricingModel, GPUCount: s.GPUCount}
		if j, dup := seen[q.Key()]; dup {
			return keyErrorf(key, "the same series as static[%d] (provider, instance_type, region, zone, pricing_model, gpu_count): give it its own instance_type", j)
		}
		seen[q.Key()] = i
	}
	return nil
}
