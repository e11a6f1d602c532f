package price

import "math"

// Quantile returns the p-quantile of sorted, which must be ascending and
// not empty, by linear interpolation between closest ranks (Hyndman and
// Fan's type 7, the default of R and NumPy): with h = (n−1)·p, it is
// x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). It never leaves the range of the
// data, and for one value every quantile is that value.
func Quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	// Rounded to a nano-dollar: interpolation noise
	// (0.8407100000000001) is not a price.
	return math.Round((sorted[lo]+(h-float64(lo))*(sorted[lo+1]-sorted[lo]))*1e9) / 1e9
}

// Quantiles are the 10th, 50th and 90th percentiles of sorted (not
// empty): the quantiles of the exported markets.
func Quantiles(sorted []float64) (p10, p50, p90 float64) {
	return Quantile(sorted, 0.1), Quantile(sorted, 0.5), Quantile(sorted, 0.9)
}
