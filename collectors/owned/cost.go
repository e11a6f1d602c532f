package owned

import (
	"fmt"
	"os"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// HoursPerYear is the year of maintenance contracts and of the 'y' in
// amortization periods (365 days).
const HoursPerYear = 8760

// Cost is what one GPU of an owned entry costs per wall-clock hour, busy or
// not, with every input it comes from. The JSON names are those of the
// configuration keys, so that /api/v1/breakeven shows where each number
// comes from.
type Cost struct {
	Name        string  `json:"name"`
	GPUModel    string  `json:"gpu_model"`
	GPUForm     string  `json:"gpu_form"`
	GPUMemoryGB float64 `json:"gpu_memory_gb"`
	GPUCount    float64 `json:"gpu_count"`
	// GPUCountSource is "config" or "nvidia-smi".
	GPUCountSource string `json:"gpu_count_source"`
	// PurchaseUSD is for all GPUCount GPUs; PurchaseSource is "config" or
	// the catalog's price and source.
	PurchaseUSD       float64 `json:"purchase_usd"`
	PurchaseSource    string  `json:"purchase_source"`
	AmortizationHours float64 `json:"amortization_hours"`
	// Watts is the whole entry's draw before PUE: power_watts, or the
	// measured per-GPU draw × gpu_count, plus host_watts.
	Watts       float64      `json:"watts"`
	PowerSource string       `json:"power_source"`
	Measurement *Measurement `json:"measurement,omitempty"`
	PUE         float64      `json:"pue"`
	USDPerKWh   float64      `json:"usd_per_kwh"`

	MaintenanceUSDPerYear float64 `json:"maintenance_usd_per_year"`
	Utilization           float64 `json:"utilization"`

	// The three parts of one GPU's cost per wall-clock hour (see Compute).
	CapitalUSDPerGPUHour     float64 `json:"capital_usd_per_gpu_hour"`
	MaintenanceUSDPerGPUHour float64 `json:"maintenance_usd_per_gpu_hour"`
	PowerUSDPerGPUHour       float64 `json:"power_usd_per_gpu_hour"`
}

// HourlyUSDPerGPU is one GPU's cost per wall-clock hour: capital +
// maintenance + power.
func (c *Cost) HourlyUSDPerGPU() float64 {
	return c.CapitalUSDPerGPUHour + c.MaintenanceUSDPerGPUHour + c.PowerUSDPerGPUHour
}

// AmortizedUSDPerGPUHour is the price of one useful GPU-hour: the hourly
// cost spread over the share of hours that do useful work.
func (c *Cost) AmortizedUSDPerGPUHour() float64 { return c.HourlyUSDPerGPU() / c.Utilization }

// Compute works out an owned entry's cost, reading its nvidia-smi file if
// it has one: per GPU and per wall-clock hour,
//
//	capital     = purchase_usd / gpu_count / amortization_hours
//	maintenance = maintenance_usd_per_year / gpu_count / 8760
//	power       = watts / 1000 / gpu_count × pue × usd_per_kwh
//
// where watts is power_watts, or the measured per-GPU draw × gpu_count,
// plus host_watts. Every term is per wall-clock hour: the hardware is paid
// for, kept and powered whether it works or not; AmortizedUSDPerGPUHour
// spreads the sum over the useful hours. o must have been loaded by config
// (defaults filled, validated).
func Compute(o *Entry, cat *price.Catalog) (*Cost, error) {
	c := &Cost{
		Name: o.Name, GPUModel: o.GPUModel, GPUForm: o.GPUForm, GPUMemoryGB: o.GPUMemoryGB,
		GPUCount: o.GPUCount, GPUCountSource: "config",
		AmortizationHours: time.Duration(o.Amortization).Hours(),
		PUE:               o.PUE, USDPerKWh: o.USDPerKWh,
		MaintenanceUSDPerYear: o.MaintenanceUSDPerYear, Utilization: o.Utilization,
		Watts: o.PowerWatts + o.HostWatts, PowerSource: "config: power_watts + host_watts",
	}
	if o.Measured() {
		m, err := measure(o, cat)
		if err != nil {
			return nil, err
		}
		c.Measurement = m
		if c.GPUCount == 0 {
			c.GPUCount, c.GPUCountSource = float64(m.GPUs), "nvidia-smi"
		}
		if c.GPUForm == "" {
			c.GPUForm = m.Form
		}
		if c.GPUMemoryGB == 0 {
			c.GPUMemoryGB = m.MemoryGB
		}
		c.Watts = m.WattsPerGPU*c.GPUCount + o.HostWatts
		c.PowerSource = fmt.Sprintf("nvidia-smi %s: %s power.draw %s W per GPU (%d samples of %d GPUs) × gpu_count + host_watts",
			o.NvidiaSMIFile, m.Statistic, price.FormatNumber(m.WattsPerGPU), m.Samples, m.GPUs)
	}
	var err error
	if c.PurchaseUSD, c.PurchaseSource, err = o.Purchase(cat, c.GPUCount); err != nil {
		return nil, fmt.Errorf("purchase_usd: %w", err)
	}
	c.CapitalUSDPerGPUHour = c.PurchaseUSD / c.GPUCount / c.AmortizationHours
	c.MaintenanceUSDPerGPUHour = c.MaintenanceUSDPerYear / c.GPUCount / HoursPerYear
	c.PowerUSDPerGPUHour = c.Watts / 1000 / c.GPUCount * c.PUE * c.USDPerKWh
	return c, nil
}

func measure(o *Entry, cat *price.Catalog) (*Measurement, error) {
	f, err := os.Open(o.NvidiaSMIFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	samples, err := ParseCSV(f, o.NvidiaSMIQuery)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.NvidiaSMIFile, err)
	}
	m, err := Measure(samples, cat, o.GPUModel, o.PowerStatistic)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.NvidiaSMIFile, err)
	}
	return &m, nil
}
