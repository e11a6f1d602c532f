package owned

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// DefaultAmortization is the amortization period of owned hardware when an
// entry gives none: three years, the usual straight-line depreciation
// period for servers and the length of most GPU vendors' warranties.
const DefaultAmortization = config.Duration(3 * 365 * 24 * time.Hour)

// DefaultInterval is how often the owned prices are re-exported
// (owned_interval). They change only when the configuration or a measured
// power file does.
const DefaultInterval = config.Duration(time.Hour)

// Power statistics of a measured nvidia-smi file (power_statistic).
const (
	PowerMean   = "mean"
	PowerMedian = "median"
	PowerMax    = "max"
)

// Config is the owned source's top-level keys.
type Config struct {
	Entries  []Entry         `yaml:"owned"`
	Interval config.Duration `yaml:"owned_interval"`
}

func defaults() *Config { return &Config{Interval: DefaultInterval} }

// Of returns the owned block of cfg.
func Of(cfg *config.Config) *Config { return cfg.Block(Name).(*Config) }

// Entry is one kind of owned hardware (an entry of the top-level owned:
// list): what it cost, over how long it is written off, what it draws, what
// a kWh costs, what it costs to keep, and how busy it is. Compute turns it
// into a Cost.
type Entry struct {
	// Name is the entry's instance_type label; unique among owned entries.
	Name        string  `yaml:"name"`
	GPUModel    string  `yaml:"gpu_model"`
	GPUForm     string  `yaml:"gpu_form"`
	GPUMemoryGB float64 `yaml:"gpu_memory_gb"`
	// GPUCount is how many GPUs the entry covers; when 0, the GPUs of the
	// entry's model in NvidiaSMIFile are counted.
	GPUCount float64 `yaml:"gpu_count"`
	// PurchaseUSD is what all GPUCount GPUs cost, with the servers around
	// them. Absent: the catalog's price of one such GPU × GPUCount.
	PurchaseUSD *float64 `yaml:"purchase_usd"`
	// Amortization is the straight-line write-off period (default 3y).
	Amortization config.Duration `yaml:"amortization"`
	// PowerWatts is the average draw of the whole entry over busy and idle
	// hours alike (servers included), before PUE.
	PowerWatts float64 `yaml:"power_watts"`
	// NvidiaSMIFile measures the draw instead: the output of
	// `nvidia-smi --query-gpu=... --format=csv` (with or without header
	// and units; rows of several samples or hosts may be appended), read
	// at every refresh. Relative to the config file's directory.
	NvidiaSMIFile string `yaml:"nvidia_smi_file"`
	// NvidiaSMIQuery is the --query-gpu list the file was written with;
	// needed only when the file has no header (csv,noheader).
	NvidiaSMIQuery string `yaml:"nvidia_smi_query"`
	// PowerStatistic reduces the file's power.draw samples to one
	// per-GPU figure: mean (default), median or max.
	PowerStatistic string `yaml:"power_statistic"`
	// HostWatts is added to the measured draw: what the rest of the
	// servers (CPUs, fans, network) draw, which nvidia-smi does not see.
	HostWatts float64 `yaml:"host_watts"`
	// PUE multiplies the power: facility power / IT power (default 1).
	PUE       float64 `yaml:"pue"`
	USDPerKWh float64 `yaml:"usd_per_kwh"`
	// MaintenanceUSDPerYear covers hosting, support contracts, repairs
	// for the whole entry.
	MaintenanceUSDPerYear float64 `yaml:"maintenance_usd_per_year"`
	// Utilization is the share of hours the GPUs do useful work, in
	// (0, 1]. Required: it changes the price more than anything else.
	Utilization float64 `yaml:"utilization"`
	Region      string  `yaml:"region"`
	// Geo defaults to the region's coarse location.
	Geo string `yaml:"geo"`
}

// Measured reports whether the entry's power comes from an nvidia-smi file.
func (o *Entry) Measured() bool { return o.NvidiaSMIFile != "" }

// Purchase returns the entry's purchase price and where it comes from:
// "config", or the catalog's per-GPU price × gpu_count with the catalog's
// source. gpuCount is the entry's count (measured when GPUCount is 0).
func (o *Entry) Purchase(c *price.Catalog, gpuCount float64) (float64, string, error) {
	if o.PurchaseUSD != nil {
		return *o.PurchaseUSD, "config", nil
	}
	g, err := o.catalogGPU(c)
	if err != nil {
		return 0, "", err
	}
	return g.PurchaseUSD * gpuCount, fmt.Sprintf("catalog: %s × %s GPUs (%s)",
		price.FormatNumber(g.PurchaseUSD), price.FormatNumber(gpuCount), g.PurchaseSource), nil
}

// catalogGPU finds the catalog GPU whose price is the entry's default: the
// matches of model, form and memory must agree on one price.
func (o *Entry) catalogGPU(c *price.Catalog) (price.GPU, error) {
	var priced []price.GPU
	for _, g := range c.Find(o.GPUModel, o.GPUForm, o.GPUMemoryGB) {
		if g.PurchaseUSD > 0 {
			priced = append(priced, g)
		}
	}
	what := config.GPUName(o.GPUModel, o.GPUForm, o.GPUMemoryGB)
	if len(priced) == 0 {
		return price.GPU{}, fmt.Errorf("required: the catalog has no purchase price for %s", what)
	}
	for _, g := range priced[1:] {
		if g.PurchaseUSD != priced[0].PurchaseUSD {
			return price.GPU{}, fmt.Errorf("required: the catalog's prices of %s differ by form or memory: give gpu_form and gpu_memory_gb, or purchase_usd", what)
		}
	}
	return priced[0], nil
}

// Resolve implements config.Resolver: it fills the entries' defaults and
// resolves nvidia_smi_file against dir, the config file's directory.
func (c *Config) Resolve(dir string) error {
	cat := price.DefaultCatalog()
	for i := range c.Entries {
		o := &c.Entries[i]
		config.CompleteGPU(cat, o.GPUModel, &o.GPUForm, &o.GPUMemoryGB)
		if o.Amortization == 0 {
			o.Amortization = DefaultAmortization
		}
		if o.PUE == 0 {
			o.PUE = 1
		}
		if o.Measured() && o.PowerStatistic == "" {
			o.PowerStatistic = PowerMean
		}
		o.Region = strings.ToLower(o.Region)
		if o.Geo == "" {
			o.Geo = price.Geo(o.Region)
		}
		if o.NvidiaSMIFile != "" && !filepath.IsAbs(o.NvidiaSMIFile) {
			o.NvidiaSMIFile = filepath.Join(dir, o.NvidiaSMIFile)
		}
	}
	return nil
}

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if err := config.CheckInterval("owned_interval", c.Interval); err != nil {
		return err
	}
	cat := price.DefaultCatalog()
	names := map[string]int{}
	for i := range c.Entries {
		key := fmt.Sprintf("owned[%d]", i)
		if j, dup := names[c.Entries[i].Name]; dup {
			return config.Errorf(key+".name", "%q is already the name of owned[%d]", c.Entries[i].Name, j)
		}
		names[c.Entries[i].Name] = i
		if err := c.Entries[i].validate(cat); err != nil {
			return config.InEntry(key, err)
		}
	}
	return nil
}

func (o *Entry) validate(cat *price.Catalog) error {
	if o.Name == "" || strings.ContainsAny(o.Name, " \t\n") {
		return config.Errorf("name", "%q is not a name (non-empty, no spaces): it is the instance_type label", o.Name)
	}
	if err := config.CheckGPU(cat, o.GPUModel, o.GPUForm, o.GPUMemoryGB); err != nil {
		return err
	}
	if o.GPUCount < 0 || !config.Finite(o.GPUCount) || (o.GPUCount == 0 && !o.Measured()) {
		return config.Errorf("gpu_count", "must be positive (or give nvidia_smi_file to count the GPUs)")
	}
	if o.PurchaseUSD != nil {
		if *o.PurchaseUSD < 0 || !config.Finite(*o.PurchaseUSD) {
			return config.Errorf("purchase_usd", "must not be negative")
		}
	} else if _, err := o.catalogGPU(cat); err != nil {
		return config.Errorf("purchase_usd", "%v", err)
	}
	if o.Amortization <= 0 {
		return config.Errorf("amortization", "must be positive")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"power_watts", o.PowerWatts}, {"host_watts", o.HostWatts}, {"usd_per_kwh", o.USDPerKWh}, {"maintenance_usd_per_year", o.MaintenanceUSDPerYear}} {
		if f.v < 0 || !config.Finite(f.v) {
			return config.Errorf(f.name, "must not be negative")
		}
	}
	if err := o.validatePower(); err != nil {
		return err
	}
	if o.PUE < 1 || !config.Finite(o.PUE) {
		return config.Errorf("pue", "must be at least 1 (facility power / IT power)")
	}
	if !(o.Utilization > 0 && o.Utilization <= 1) {
		return config.Errorf("utilization", "must be in (0, 1]: the share of hours the GPUs do useful work")
	}
	return config.CheckGeo(o.Geo)
}

// validatePower checks that the power is configured or measured, not both,
// and priced when there is any.
func (o *Entry) validatePower() error {
	if o.Measured() {
		if o.PowerWatts > 0 {
			return config.Errorf("nvidia_smi_file", "power_watts and nvidia_smi_file are mutually exclusive")
		}
		if _, err := os.Stat(o.NvidiaSMIFile); err != nil {
			return config.Errorf("nvidia_smi_file", "%v", err)
		}
		if !slices.Contains([]string{PowerMean, PowerMedian, PowerMax}, o.PowerStatistic) {
			return config.Errorf("power_statistic", "%q is not one of mean, median, max", o.PowerStatistic)
		}
	} else {
		if o.NvidiaSMIQuery != "" {
			return config.Errorf("nvidia_smi_query", "only applies with nvidia_smi_file")
		}
		if o.PowerStatistic != "" {
			return config.Errorf("power_statistic", "only applies with nvidia_smi_file")
		}
	}
	powered := o.PowerWatts > 0 || o.HostWatts > 0 || o.Measured()
	switch {
	case powered && o.USDPerKWh == 0:
		return config.Errorf("usd_per_kwh", "required with power_watts, host_watts or nvidia_smi_file")
	case !powered && o.USDPerKWh > 0:
		return config.Errorf("usd_per_kwh", "given without power_watts or nvidia_smi_file: the power would cost nothing")
	}
	return nil
}
