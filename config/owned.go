package config

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// DefaultAmortization is the amortization period of owned hardware when an
// entry gives none: three years, the usual straight-line depreciation
// period for servers and the length of most GPU vendors' warranties.
const DefaultAmortization = Duration(3 * 365 * 24 * time.Hour)

// DefaultListInterval is how often the owned and static prices are
// re-exported (owned_interval, static_interval). They change only when the
// configuration or a measured power file does.
const DefaultListInterval = Duration(time.Hour)

// Power statistics of a measured nvidia-smi file (power_statistic).
const (
	PowerMean   = "mean"
	PowerMedian = "median"
	PowerMax    = "max"
)

// Owned is one kind of owned hardware (an entry of the top-level owned:
// list): what it cost, over how long it is written off, what it draws, what
// a kWh costs, what it costs to keep, and how busy it is. The owned
// collector turns it into an amortized price per GPU-hour:
//
//	capital     = purchase_usd / gpu_count / amortization (hours)
//	maintenance = maintenance_usd_per_year / gpu_count / 8760
//	power       = watts / 1000 / gpu_count × pue × usd_per_kwh
//	price       = (capital + maintenance + power) / utilization
//
// where watts is power_watts, or the measured per-GPU draw × gpu_count,
// plus host_watts. Every term is per GPU and per wall-clock hour: the
// hardware is paid for, kept and powered whether it works or not, and
// only utilization of its hours do useful work.
type Owned struct {
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
	Amortization Duration `yaml:"amortization"`
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
func (o *Owned) Measured() bool { return o.NvidiaSMIFile != "" }

// Purchase returns the entry's purchase price and where it comes from:
// "config", or the catalog's per-GPU price × gpu_count with the catalog's
// source. gpuCount is the entry's count (measured when GPUCount is 0).
func (o *Owned) Purchase(c *price.Catalog, gpuCount float64) (float64, string, error) {
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
func (o *Owned) catalogGPU(c *price.Catalog) (price.GPU, error) {
	var priced []price.GPU
	for _, g := range c.Find(o.GPUModel, o.GPUForm, o.GPUMemoryGB) {
		if g.PurchaseUSD > 0 {
			priced = append(priced, g)
		}
	}
	what := gpuName(o.GPUModel, o.GPUForm, o.GPUMemoryGB)
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

func gpuName(model, form string, memGB float64) string {
	s := model
	if form != "" {
		s += " " + form
	}
	if memGB > 0 {
		s += " " + price.FormatNumber(memGB) + "GB"
	}
	return s
}

// resolveLists fills the owned and static entries' defaults and resolves
// nvidia_smi_file paths against dir, the config file's directory.
func (c *Config) resolveLists(dir string) {
	cat := price.DefaultCatalog()
	for i := range c.Owned {
		o := &c.Owned[i]
		fillGPU(cat, o.GPUModel, &o.GPUForm, &o.GPUMemoryGB)
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
		if o.NvidiaSMIFile != "" && !strings.HasPrefix(o.NvidiaSMIFile, "/") {
			o.NvidiaSMIFile = dir + "/" + o.NvidiaSMIFile
		}
	}
	for i := range c.Static {
		s := &c.Static[i]
		fillGPU(cat, s.GPUModel, &s.GPUForm, &s.GPUMemoryGB)
		s.setDefaults()
	}
}

// fillGPU completes a GPU's form and memory from the catalog, each when
// every catalog GPU matching what is given agrees on it (an H100 is 80 GB
// in both forms).
func fillGPU(cat *price.Catalog, model string, form *string, memGB *float64) {
	gs := cat.Find(model, *form, *memGB)
	if len(gs) == 0 {
		return
	}
	sameForm, sameMem := true, true
	for _, g := range gs[1:] {
		sameForm = sameForm && g.Form == gs[0].Form
		sameMem = sameMem && g.MemoryGB == gs[0].MemoryGB
	}
	if sameForm {
		*form = gs[0].Form
	}
	if sameMem {
		*memGB = gs[0].MemoryGB
	}
}

// validateLists checks the owned and static entries and their intervals.
func (c *Config) validateLists() error {
	for _, iv := range []struct {
		key string
		d   Duration
	}{{"owned_interval", c.OwnedInterval}, {"static_interval", c.StaticInterval}} {
		if time.Duration(iv.d) < MinInterval {
			return keyErrorf(iv.key, "%s is below the minimum of %s", iv.d, Duration(MinInterval))
		}
	}
	cat := price.DefaultCatalog()
	names := map[string]int{}
	for i := range c.Owned {
		key := fmt.Sprintf("owned[%d]", i)
		if j, dup := names[c.Owned[i].Name]; dup {
			return keyErrorf(key+".name", "%q is already the name of owned[%d]", c.Owned[i].Name, j)
		}
		names[c.Owned[i].Name] = i
		if err := c.Owned[i].validate(key, cat); err != nil {
			return err
		}
	}
	return c.validateStatic(cat)
}

func (o *Owned) validate(key string, cat *price.Catalog) error {
	if o.Name == "" || strings.ContainsAny(o.Name, " \t\n") {
		return keyErrorf(key+".name", "%q is not a name (non-empty, no spaces): it is the instance_type label", o.Name)
	}
	if err := checkGPU(key, cat, o.GPUModel, o.GPUForm, o.GPUMemoryGB); err != nil {
		return err
	}
	if o.GPUCount < 0 || !finite(o.GPUCount) || (o.GPUCount == 0 && !o.Measured()) {
		return keyErrorf(key+".gpu_count", "must be positive (or give nvidia_smi_file to count the GPUs)")
	}
	if o.PurchaseUSD != nil {
		if *o.PurchaseUSD < 0 || !finite(*o.PurchaseUSD) {
			return keyErrorf(key+".purchase_usd", "must not be negative")
		}
	} else if _, err := o.catalogGPU(cat); err != nil {
		return keyErrorf(key+".purchase_usd", "%v", err)
	}
	if o.Amortization <= 0 {
		return keyErrorf(key+".amortization", "must be positive")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"power_watts", o.PowerWatts}, {"host_watts", o.HostWatts}, {"usd_per_kwh", o.USDPerKWh}, {"maintenance_usd_per_year", o.MaintenanceUSDPerYear}} {
		if f.v < 0 || !finite(f.v) {
			return keyErrorf(key+"."+f.name, "must not be negative")
		}
	}
	if o.Measured() {
		if o.PowerWatts > 0 {
			return keyErrorf(key+".nvidia_smi_file", "power_watts and nvidia_smi_file are mutually exclusive")
		}
		if _, err := os.Stat(o.NvidiaSMIFile); err != nil {
			return keyErrorf(key+".nvidia_smi_file", "%v", err)
		}
		if !slices.Contains([]string{PowerMean, PowerMedian, PowerMax}, o.PowerStatistic) {
			return keyErrorf(key+".power_statistic", "%q is not one of mean, median, max", o.PowerStatistic)
		}
	} else {
		if o.NvidiaSMIQuery != "" {
			return keyErrorf(key+".nvidia_smi_query", "only applies with nvidia_smi_file")
		}
		if o.PowerStatistic != "" {
			return keyErrorf(key+".power_statistic", "only applies with nvidia_smi_file")
		}
	}
	powered := o.PowerWatts > 0 || o.HostWatts > 0 || o.Measured()
	switch {
	case powered && o.USDPerKWh == 0:
		return keyErrorf(key+".usd_per_kwh", "required with power_watts, host_watts or nvidia_smi_file")
	case !powered && o.USDPerKWh > 0:
		return keyErrorf(key+".usd_per_kwh", "given without power_watts or nvidia_smi_file: the power would cost nothing")
	}
	if o.PUE < 1 || !finite(o.PUE) {
		return keyErrorf(key+".pue", "must be at least 1 (facility power / IT power)")
	}
	if !(o.Utilization > 0 && o.Utilization <= 1) {
		return keyErrorf(key+".utilization", "must be in (0, 1]: the share of hours the GPUs do useful work")
	}
	return checkGeo(key, o.Geo)
}

// checkGPU checks that model (with form and memory where given) is a
// catalog GPU.
func checkGPU(key string, cat *price.Catalog, model, form string, memGB float64) error {
	switch {
	case model == "":
		return keyErrorf(key+".gpu_model", "required (a catalog model such as H100, A100, MI300X)")
	case len(cat.Find(model, "", 0)) == 0:
		return keyErrorf(key+".gpu_model", "%q is not in the GPU catalog (see /api/v1/gpus)", model)
	case form != "" && form != "sxm" && form != "pcie":
		return keyErrorf(key+".gpu_form", "%q is not sxm, pcie or empty", form)
	case memGB < 0 || !finite(memGB):
		return keyErrorf(key+".gpu_memory_gb", "must not be negative")
	case len(cat.Find(model, form, memGB)) == 0:
		return keyErrorf(key+".gpu_memory_gb", "the catalog has no %s", gpuName(model, form, memGB))
	}
	return nil
}

func checkGeo(key, geo string) error {
	if geo != "" && !slices.Contains(price.Geos, geo) {
		return keyErrorf(key+".geo", "%q is not one of %s", geo, strings.Join(price.Geos, ", "))
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
