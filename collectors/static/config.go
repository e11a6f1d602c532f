package static

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// DefaultInterval is how often the static prices are re-exported
// (static_interval). They change only when the configuration does.
const DefaultInterval = config.Duration(time.Hour)

// Config is the static source's top-level keys.
type Config struct {
	Entries  []Entry         `yaml:"static"`
	Interval config.Duration `yaml:"static_interval"`
}

func defaults() *Config { return &Config{Interval: DefaultInterval} }

// Of returns the static block of cfg.
func Of(cfg *config.Config) *Config { return cfg.Block(Name).(*Config) }

// Entry is one fixed price (an entry of the top-level static: list) for
// what has no price API: an academic allocation (often free), a negotiated
// contract, a provider without an API. Entries are exported under their own
// provider name, with pricing_model fixed unless told otherwise.
type Entry struct {
	// Provider is the provider label; it must not be the name of another
	// collector (a providers: section, owned).
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
func (s *Entry) GPUUSDPerHour() float64 { return *s.USDPerHour / s.GPUCount }

// Resolve implements config.Resolver: it fills the entries' defaults.
func (c *Config) Resolve(string) error {
	cat := price.DefaultCatalog()
	for i := range c.Entries {
		s := &c.Entries[i]
		config.CompleteGPU(cat, s.GPUModel, &s.GPUForm, &s.GPUMemoryGB)
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
	return nil
}

var providerName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if err := config.CheckInterval("static_interval", c.Interval); err != nil {
		return err
	}
	cat := price.DefaultCatalog()
	taken := append(config.ProviderNames(), config.BlockNames()...)
	seen := map[price.SeriesKey]int{}
	for i := range c.Entries {
		s := &c.Entries[i]
		key := fmt.Sprintf("static[%d]", i)
		switch {
		case !providerName.MatchString(s.Provider):
			return config.Errorf(key+".provider", "%q is not a provider name (lower-case letters, digits, - and _)", s.Provider)
		case slices.Contains(taken, s.Provider):
			return config.Errorf(key+".provider", "%q is taken by a collector: give the static prices a name of their own (e.g. %s-contract)", s.Provider, s.Provider)
		}
		if err := config.InEntry(key, s.validate(cat)); err != nil {
			return err
		}
		q := price.Quote{Provider: s.Provider, InstanceType: s.InstanceType, Region: s.Region, Zone: s.Zone, PricingModel: s.PricingModel, GPUCount: s.GPUCount}
		if j, dup := seen[q.Key()]; dup {
			return config.Errorf(key, "the same series as static[%d] (provider, instance_type, region, zone, pricing_model, gpu_count): give it its own instance_type", j)
		}
		seen[q.Key()] = i
	}
	return nil
}

func (s *Entry) validate(cat *price.Catalog) error {
	if err := config.CheckGPU(cat, s.GPUModel, s.GPUForm, s.GPUMemoryGB); err != nil {
		return err
	}
	if s.GPUCount < 0 || !config.Finite(s.GPUCount) {
		return config.Errorf("gpu_count", "must be positive")
	}
	if s.USDPerHour == nil {
		return config.Errorf("usd_per_hour", "required (0 is allowed: a free allocation)")
	}
	if *s.USDPerHour < 0 || !config.Finite(*s.USDPerHour) {
		return config.Errorf("usd_per_hour", "must not be negative")
	}
	if !s.PricingModel.Valid() {
		return config.Errorf("pricing_model", "%q is not a pricing model (fixed, on_demand, spot, reserved_1y, reserved_3y, amortized)", s.PricingModel)
	}
	if s.MaxGPUHoursPerMonth < 0 || !config.Finite(s.MaxGPUHoursPerMonth) {
		return config.Errorf("max_gpu_hours_per_month", "must not be negative (0: no cap)")
	}
	return config.CheckGeo(s.Geo)
}
