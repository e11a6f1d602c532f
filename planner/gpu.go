package planner

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gpuprice/gpuprice/price"
)

// CheckGPU checks that the request's GPU is in the catalog (nil: the
// default one). An unknown model is a ParamError that lists the catalog's
// closest model names, a known model without the asked form or memory one
// that lists the model's variants: a typo must not read as "no prices".
func (r *Request) CheckGPU(cat *price.Catalog) error {
	if cat == nil {
		cat = price.DefaultCatalog()
	}
	if len(cat.Find(r.GPUModel, "", 0)) == 0 {
		msg := fmt.Sprintf("%q is not a GPU model of the catalog", r.GPUModel)
		if close := CloseModels(cat, r.GPUModel, 5); len(close) > 0 {
			msg += "; close matches: " + strings.Join(close, ", ")
		}
		return paramErrorf("gpu_model", "%s (every model: /api/v1/gpus)", msg)
	}
	if len(cat.Find(r.GPUModel, r.GPUForm, r.GPUMemoryGB)) > 0 {
		return nil
	}
	var variants []string
	for _, g := range cat.Find(r.GPUModel, "", 0) {
		variants = append(variants, describeGPU(&Request{GPUModel: g.Model, GPUForm: g.Form, GPUMemoryGB: g.MemoryGB}))
	}
	param := "gpu_memory_gb"
	if r.GPUMemoryGB == 0 || len(cat.Find(r.GPUModel, "", r.GPUMemoryGB)) > 0 {
		param = "gpu_form"
	}
	return paramErrorf(param, "the catalog has no %s; it has %s", describeGPU(&Request{GPUModel: r.GPUModel, GPUForm: r.GPUForm, GPUMemoryGB: r.GPUMemoryGB}),
		strings.Join(variants, ", "))
}

// CloseModels returns up to n of the catalog's model names closest to
// name, closest first: the same name written differently ("rtx 4090",
// "NVIDIA A100", then alone), names containing it or contained in it ("4090",
// "H100-SXM"), then those within a few edits ("H10", "A6000ADA").
func CloseModels(cat *price.Catalog, name string, n int) []string {
	want := squash(name)
	type match struct {
		model string
		score int
	}
	var ms []match
	seen := map[string]bool{}
	for _, g := range cat.GPUs() {
		if seen[g.Model] {
			continue
		}
		seen[g.Model] = true
		m := squash(g.Model)
		score := -1
		switch {
		case m == want:
			score = 0
		case len(want) >= 2 && (strings.Contains(m, want) || strings.Contains(want, m)):
			score = 1 + abs(len(m)-len(want))
		default:
			if d := editDistance(m, want); d <= max(2, len(want)/3) {
				score = 10 + d
			}
		}
		if score >= 0 {
			ms = append(ms, match{g.Model, score})
		}
	}
	slices.SortFunc(ms, func(a, b match) int { return cmp.Or(cmp.Compare(a.score, b.score), cmp.Compare(a.model, b.model)) })
	if len(ms) > 0 && ms[0].score == 0 {
		n = 1 // the name itself, written differently: nothing else is meant
	}
	var out []string
	for _, m := range ms[:min(n, len(ms))] {
		out = append(out, m.model)
	}
	return out
}

// squash upper-cases a GPU name and drops vendor prefixes, spaces, dashes
// and underscores: "NVIDIA rtx-4090" → "RTX4090".
func squash(s string) string {
	s = strings.ToUpper(s)
	for _, v := range []string{"NVIDIA", "AMD", "TESLA", "GEFORCE", "RADEON", "INSTINCT"} {
		s = strings.ReplaceAll(s, v, "")
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, s)
}

// editDistance is the Levenshtein distance of a and b, in bytes (GPU
// model names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// days renders a span of history given in days: "2.5 days", "30 days",
// "1h30m" under a day.
func days(d float64) string {
	switch {
	case d < 1:
		return model.Duration(time.Duration(d * 24 * float64(time.Hour)).Round(time.Second)).String()
	case d < 10 && math.Abs(d-math.Round(d)) >= 0.05:
		return fmt.Sprintf("%.1f days", d)
	case math.Round(d) == 1:
		return "1 day"
	}
	return fmt.Sprintf("%.0f days", d)
}
