package planner

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/price"
)

// HoursPerMonth is the month of the planner: a twelfth of a 365-day year.
const HoursPerMonth = owned.HoursPerYear / 12.0

// Statistics a Request may ask for, of the cheapest price over the window.
const (
	StatMedian = "median"
	StatP10    = "p10"
	StatMean   = "mean"
	StatMin    = "min"
	StatLast   = "last"
)

// Stats lists the statistics, the default first.
var Stats = []string{StatMedian, StatP10, StatMean, StatMin, StatLast}

// Defaults of a Request.
const (
	DefaultMonths = 36
	DefaultWindow = 30 * 24 * time.Hour
	// DefaultSamples is how many steps the window is sampled at when no
	// step is given: 30d at 1h.
	DefaultSamples = 720
)

// The ranges of a Request's numbers. They refuse nonsense, not large real
// questions: beyond them the arithmetic would overflow to ±Inf, which JSON
// cannot carry.
const (
	MaxGPUMemoryGB = 10_000
	MaxGPUHours    = 1e9 // GPU-hours a month: over a million GPUs busy all month
	MaxGPUs        = 1e6 // baseline_gpus, peak_gpus
	MaxMonths      = 600
	MaxWindow      = 100 * 365 * 24 * time.Hour
)

// Request is one planning question: a GPU, a workload, a horizon, and how
// to read the price history. Its parameter names are those of
// /api/v1/breakeven and of `gpuprice breakeven`'s flags.
type Request struct {
	GPUModel    string  `json:"gpu_model"`
	GPUMemoryGB float64 `json:"gpu_memory_gb,omitempty"`
	GPUForm     string  `json:"gpu_form,omitempty"`
	// Geo restricts the rented prices to one coarse location.
	Geo string `json:"geo,omitempty"`

	// The workload: GPU-hours per month (GPUHours), or a profile of
	// BaselineGPUs busy all month plus PeakGPUs more for PeakHours a
	// month.
	GPUHours     float64 `json:"gpu_hours,omitempty"`
	BaselineGPUs float64 `json:"baseline_gpus,omitempty"`
	PeakGPUs     float64 `json:"peak_gpus,omitempty"`
	PeakHours    float64 `json:"peak_hours,omitempty"`

	Months int    `json:"months"`
	Stat   string `json:"stat"`
	// Window is how much history the statistic covers, up to End; Step is
	// the sampling of the price history (default Window / 720).
	Window Duration  `json:"window"`
	Step   Duration  `json:"step"`
	End    time.Time `json:"end"`
}

// Duration renders as a Prometheus duration ("30d") in JSON.
type Duration time.Duration

// String renders d as a Prometheus duration.
func (d Duration) String() string { return model.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(model.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := model.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ParamError is a bad request parameter; Param is its name.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

func paramErrorf(param, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Profile reports whether the workload is given as baseline and peaks.
func (r *Request) Profile() bool { return r.BaselineGPUs > 0 || r.PeakGPUs > 0 || r.PeakHours > 0 }

// MonthlyGPUHours is the workload in GPU-hours per month.
func (r *Request) MonthlyGPUHours() float64 {
	if r.Profile() {
		return r.BaselineGPUs*HoursPerMonth + r.PeakGPUs*r.PeakHours
	}
	return r.GPUHours
}

// GPUsToOwn is how many GPUs owning the whole workload takes: the peak
// (baseline + peak GPUs) of a profile, or the fewest GPUs that can deliver
// GPUHours in a month.
func (r *Request) GPUsToOwn() float64 {
	if r.Profile() {
		return r.BaselineGPUs + r.PeakGPUs
	}
	return math.Ceil(r.GPUHours/HoursPerMonth - 1e-9)
}

// Normalize checks r and fills its defaults; End defaults to now.
func (r *Request) Normalize(now time.Time) error {
	r.GPUModel = strings.ToUpper(strings.TrimSpace(r.GPUModel))
	r.GPUForm = strings.ToLower(r.GPUForm)
	r.Geo = strings.ToLower(r.Geo)
	switch {
	case r.GPUModel == "":
		return paramErrorf("gpu_model", "required (a catalog model such as H100, A100, MI300X)")
	case !(r.GPUMemoryGB >= 0 && r.GPUMemoryGB <= MaxGPUMemoryGB):
		return paramErrorf("gpu_memory_gb", "%s is out of range: allowed [0, %d] GB (0: any)", shown(r.GPUMemoryGB), MaxGPUMemoryGB)
	case r.GPUForm != "" && r.GPUForm != "sxm" && r.GPUForm != "pcie":
		return paramErrorf("gpu_form", "%q is not sxm or pcie", r.GPUForm)
	case r.Geo != "" && !slices.Contains(price.Geos, r.Geo):
		return paramErrorf("geo", "%q is not one of %s", r.Geo, strings.Join(price.Geos, ", "))
	}
	if r.Profile() {
		if r.GPUHours != 0 {
			return paramErrorf("gpu_hours", "give either gpu_hours or a profile (baseline_gpus, peak_gpus, peak_hours), not both")
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"baseline_gpus", r.BaselineGPUs}, {"peak_gpus", r.PeakGPUs}} {
			if !(f.v >= 0 && f.v <= MaxGPUs) || f.v != math.Trunc(f.v) {
				return paramErrorf(f.name, "%s is out of range: allowed whole numbers of GPUs in [0, %d]", shown(f.v), int(MaxGPUs))
			}
		}
		switch {
		case !(r.PeakHours >= 0 && r.PeakHours <= HoursPerMonth):
			return paramErrorf("peak_hours", "%s is out of range: allowed [0, %g] (hours in a month)", shown(r.PeakHours), HoursPerMonth)
		case r.PeakGPUs > 0 && r.PeakHours == 0:
			return paramErrorf("peak_hours", "required with peak_gpus: how many hours a month the peak lasts")
		case r.PeakGPUs == 0 && r.PeakHours > 0:
			return paramErrorf("peak_gpus", "required with peak_hours: how many GPUs the peak adds")
		case r.MonthlyGPUHours() == 0:
			return paramErrorf("baseline_gpus", "the workload is empty: give baseline_gpus or peak_gpus")
		}
	} else if r.GPUHours == 0 {
		return paramErrorf("gpu_hours", "required: GPU-hours per month (or a profile: baseline_gpus, peak_gpus, peak_hours)")
	} else if !(r.GPUHours > 0 && r.GPUHours <= MaxGPUHours) {
		return paramErrorf("gpu_hours", "%s is out of range: allowed (0, %d] GPU-hours per month", shown(r.GPUHours), int(MaxGPUHours))
	}
	if r.Months == 0 {
		r.Months = DefaultMonths
	}
	if r.Months < 1 || r.Months > MaxMonths {
		return paramErrorf("months", "%d is out of range: allowed [1, %d]", r.Months, MaxMonths)
	}
	if r.Stat == "" {
		r.Stat = StatMedian
	}
	if !slices.Contains(Stats, r.Stat) {
		return paramErrorf("stat", "%q is not one of %s", r.Stat, strings.Join(Stats, ", "))
	}
	if r.Window == 0 {
		r.Window = Duration(DefaultWindow)
	}
	if r.Window < 0 || r.Window > Duration(MaxWindow) {
		return paramErrorf("window", "%s is out of range: allowed (0, %s]", r.Window, Duration(MaxWindow))
	}
	if r.Step == 0 {
		r.Step = Duration(max(time.Duration(r.Window)/DefaultSamples, time.Second))
	}
	if r.Step < Duration(time.Second) || r.Step > r.Window {
		return paramErrorf("step", "must be between 1s and the window (%s)", r.Window)
	}
	if r.End.IsZero() {
		r.End = now
	}
	r.End = r.End.UTC()
	return nil
}

// Values renders r as /api/v1/breakeven's parameters, leaving out what is
// not set: what `gpuprice breakeven --server` sends.
func (r *Request) Values() url.Values {
	v := url.Values{}
	set := func(name, s string) {
		if s != "" {
			v.Set(name, s)
		}
	}
	num := func(name string, x float64) {
		if x != 0 {
			v.Set(name, strconv.FormatFloat(x, 'f', -1, 64))
		}
	}
	set("gpu_model", r.GPUModel)
	num("gpu_memory_gb", r.GPUMemoryGB)
	set("gpu_form", r.GPUForm)
	set("geo", r.Geo)
	num("gpu_hours", r.GPUHours)
	num("baseline_gpus", r.BaselineGPUs)
	num("peak_gpus", r.PeakGPUs)
	num("peak_hours", r.PeakHours)
	if r.Months != 0 {
		v.Set("months", strconv.Itoa(r.Months))
	}
	set("stat", r.Stat)
	if r.Window != 0 {
		v.Set("window", r.Window.String())
	}
	if r.Step != 0 {
		v.Set("step", r.Step.String())
	}
	if !r.End.IsZero() {
		v.Set("end", r.End.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// Start is the window's start.
func (r *Request) Start() time.Time { return r.End.Add(-time.Duration(r.Window)) }

// shown renders a request's number in an error message.
func shown(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
