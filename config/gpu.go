package config

import (
	"math"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/price"
)

// The checks below are shared by the sources whose entries name a GPU and
// a place themselves (owned:, static:); keys are relative to the entry.

// CompleteGPU fills a GPU's form and memory from the catalog, each when
// every catalog GPU matching what is given agrees on it (an H100 is 80 GB
// in both forms).
func CompleteGPU(cat *price.Catalog, model string, form *string, memGB *float64) {
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

// CheckGPU checks that model (with form and memory where given) is a
// catalog GPU.
func CheckGPU(cat *price.Catalog, model, form string, memGB float64) error {
	switch {
	case model == "":
		return Errorf("gpu_model", "required (a catalog model such as H100, A100, MI300X)")
	case len(cat.Find(model, "", 0)) == 0:
		return Errorf("gpu_model", "%q is not in the GPU catalog (see /api/v1/gpus)", model)
	case form != "" && form != "sxm" && form != "pcie":
		return Errorf("gpu_form", "%q is not sxm, pcie or empty", form)
	case memGB < 0 || !Finite(memGB):
		return Errorf("gpu_memory_gb", "must not be negative")
	case len(cat.Find(model, form, memGB)) == 0:
		return Errorf("gpu_memory_gb", "the catalog has no %s", GPUName(model, form, memGB))
	}
	return nil
}

// GPUName names a GPU as a person writes it: "H100 sxm 80GB".
func GPUName(model, form string, memGB float64) string {
	s := model
	if form != "" {
		s += " " + form
	}
	if memGB > 0 {
		s += " " + price.FormatNumber(memGB) + "GB"
	}
	return s
}

// CheckGeo checks that geo is empty or one of price.Geos.
func CheckGeo(geo string) error {
	if geo != "" && !slices.Contains(price.Geos, geo) {
		return Errorf("geo", "%q is not one of %s", geo, strings.Join(price.Geos, ", "))
	}
	return nil
}

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// InEntry prefixes the key of an entry's error with the entry's path
// (owned[2]).
func InEntry(entry string, err error) error {
	if err == nil {
		return nil
	}
	return inSection(entry, err)
}
