package api

import (
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Every numeric parameter has a range, and a value outside it is a 400
// that names the parameter and the range: a number far beyond anything
// meaningful (gpu_hours=1e308) would otherwise overflow to ±Inf in the
// arithmetic and fail the answer's encoding. The ranges are wide: they
// refuse nonsense, not large real questions.

// numRange is the allowed range of a numeric parameter: [min, max], or
// (min, max] when minOpen; whole numbers only when whole.
type numRange struct {
	min, max float64
	minOpen  bool
	whole    bool
}

// The ranges of the API's numeric parameters.
var (
	// labelRange is that of the numeric label filters gpu_memory_gb and
	// gpu_count.
	labelRange = numRange{min: 0, minOpen: true, max: 1e6}
	// priceRange is that of a price parameter (max_gpu_usd_per_hour,
	// below), in USD per hour.
	priceRange = numRange{min: 0, max: 1e6}
	// limitRange is that of limit; more than any answer holds is harmless
	// but 10M says so.
	limitRange = numRange{min: 1, max: 1e7, whole: true}
)

// Duration parameters: from the store's resolution to a century.
const (
	minDurationParam = time.Millisecond
	maxDurationParam = 100 * 365 * 24 * time.Hour
)

func (rg numRange) String() string {
	lo := "["
	if rg.minOpen {
		lo = "("
	}
	s := lo + strconv.FormatFloat(rg.min, 'f', -1, 64) + ", " + strconv.FormatFloat(rg.max, 'f', -1, 64) + "]"
	if rg.whole {
		s = "whole numbers in " + s
	}
	return s
}

func (rg numRange) contains(f float64) bool {
	switch {
	case math.IsNaN(f), f > rg.max, f < rg.min, rg.minOpen && f == rg.min:
		return false
	case rg.whole && f != math.Trunc(f):
		return false
	}
	return true
}

// parseFloat reads v as a number: false when it is none, or NaN. A
// number beyond float64 reads as ±Inf, for the caller's range to refuse.
func parseFloat(v string) (float64, bool) {
	f, err := strconv.ParseFloat(v, 64)
	return f, (err == nil || f != 0) && !math.IsNaN(f) // an overflow is ±Inf with an error
}

// parseNumber reads the value v of the numeric parameter name, which must
// lie in rg.
func parseNumber(name, v string, rg numRange) (float64, error) {
	f, ok := parseFloat(v)
	if !ok {
		return 0, badParam(name, v, "is not a number: allowed "+rg.String())
	}
	if !rg.contains(f) {
		return 0, badParam(name, v, "is out of range: allowed "+rg.String())
	}
	return f, nil
}

// durationRange renders the range of a duration parameter.
func durationRange(lo, hi time.Duration, hiOpen bool) string {
	end := "]"
	if hiOpen {
		end = ")"
	}
	return "[" + model.Duration(lo).String() + ", " + model.Duration(hi).String() + end
}
