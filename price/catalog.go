package price

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// GPU is one catalog entry: a canonical GPU model in one form and memory size.
type GPU struct {
	Model        string  `yaml:"model" json:"gpu_model"`
	Form         string  `yaml:"form" json:"gpu_form"`
	MemoryGB     float64 `yaml:"memory_gb" json:"gpu_memory_gb"`
	Vendor       string  `yaml:"vendor" json:"vendor"`
	Architecture string  `yaml:"architecture" json:"architecture"`
	// PurchaseUSD is a typical purchase price of one such GPU (the card or
	// module alone, no server around it), the owned provider's default;
	// 0 when the catalog has none. PurchaseSource says where it comes from.
	PurchaseUSD    float64 `yaml:"purchase_usd,omitempty" json:"purchase_usd,omitempty"`
	PurchaseSource string  `yaml:"purchase_source,omitempty" json:"purchase_source,omitempty"`
}

// Alias maps one provider's raw name for a GPU (or, for providers that
// only name instance sizes, for a whole size) to a catalog GPU. Fields left
// empty are not determined by the raw name: the collector fills them from
// other data (memory from MiB via SnapMemory, count from the offer).
type Alias struct {
	Raw      string  `yaml:"raw"`
	Model    string  `yaml:"model"`
	Form     string  `yaml:"form,omitempty"`
	MemoryGB float64 `yaml:"memory_gb,omitempty"`
	// Count is how many GPUs one unit of the raw name stands for: the GPUs
	// per VM where the raw name is an instance size (Azure), or the fraction
	// of one GPU where it is a partition (Standard_NV6ads_A10_v5 = 1/6, a
	// Runpod MIG 1g.24gb slice = 1/4). Zero means the raw name does not say.
	Count float64 `yaml:"count,omitempty"`
}

// Catalog is the GPU catalog: known GPUs and per-provider alias tables.
// It is immutable after loading and safe for concurrent use.
type Catalog struct {
	gpus    []GPU
	aliases map[string]map[string]Alias // provider → normalized raw → alias
}

type catalogFile struct {
	GPUs    []GPU              `yaml:"gpus"`
	Aliases map[string][]Alias `yaml:"aliases"`
}

//go:embed catalog.yaml
var catalogYAML []byte

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// DefaultCatalog returns the catalog embedded in the binary. It panics if the
// embedded file is invalid, which the package tests rule out.
func DefaultCatalog() *Catalog {
	defaultOnce.Do(func() {
		c, err := ParseCatalog(catalogYAML)
		if err != nil {
			panic(fmt.Sprintf("embedded GPU catalog: %v", err))
		}
		defaultCatalog = c
	})
	return defaultCatalog
}

// ParseCatalog parses and checks a catalog file: unknown keys are errors,
// every GPU needs a well-formed model token, form, memory, vendor and
// architecture, every alias must name a catalog GPU (and its form and
// memory, where it gives them), and no raw name may appear twice for one
// provider (compared as Lookup compares them).
func ParseCatalog(data []byte) (*Catalog, error) {
	var f catalogFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(f.GPUs) == 0 {
		return nil, errors.New("gpus: none listed")
	}
	c := &Catalog{gpus: f.GPUs, aliases: make(map[string]map[string]Alias, len(f.Aliases))}
	seen := map[GPU]bool{}
	for _, g := range f.GPUs {
		if !isModelToken(g.Model) {
			return nil, fmt.Errorf("gpu %q: model must be an upper-case token of letters and digits", g.Model)
		}
		if g.Form != "" && g.Form != "sxm" && g.Form != "pcie" {
			return nil, fmt.Errorf("gpu %s: form %q is not sxm, pcie or empty", g.Model, g.Form)
		}
		if !isPositive(g.MemoryGB) || g.Vendor == "" || g.Architecture == "" {
			return nil, fmt.Errorf("gpu %s: memory_gb, vendor and architecture are required", describe(g.Model, g.Form, g.MemoryGB))
		}
		if err := checkPurchase(g); err != nil {
			return nil, err
		}
		key := GPU{Model: g.Model, Form: g.Form, MemoryGB: g.MemoryGB}
		if seen[key] {
			return nil, fmt.Errorf("gpu %s listed twice", describe(g.Model, g.Form, g.MemoryGB))
		}
		seen[key] = true
	}
	for provider, list := range f.Aliases {
		if provider == "" || provider != strings.ToLower(provider) || strings.ContainsAny(provider, " \t") {
			return nil, fmt.Errorf("aliases: provider %q must be a lower-case name", provider)
		}
		m := make(map[string]Alias, len(list))
		for _, a := range list {
			k := normalizeRaw(a.Raw)
			if k == "" {
				return nil, fmt.Errorf("aliases.%s: an alias for %s has an empty raw name", provider, a.Model)
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("aliases.%s: %q listed twice", provider, a.Raw)
			}
			if !c.has(a.Model, a.Form, a.MemoryGB) {
				return nil, fmt.Errorf("aliases.%s: %q maps to %s, which is not in gpus", provider, a.Raw, describe(a.Model, a.Form, a.MemoryGB))
			}
			if a.Count != 0 && !isPositive(a.Count) {
				return nil, fmt.Errorf("aliases.%s: %q has count %g, want a positive number or none", provider, a.Raw, a.Count)
			}
			m[k] = a
		}
		c.aliases[provider] = m
	}
	sort.SliceStable(c.gpus, func(i, j int) bool {
		a, b := c.gpus[i], c.gpus[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Form != b.Form {
			return a.Form < b.Form
		}
		return a.MemoryGB < b.MemoryGB
	})
	return c, nil
}

// isModelToken reports whether s is a canonical model name: upper-case
// letters and digits only, starting with a letter.
func isModelToken(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// isPositive reports whether v is a finite number above zero (NaN is not).
func isPositive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// describe renders a GPU for error messages, leaving out what is not set:
// "A100 sxm 80GB", "A100 sxm", "GH200 96GB", "MI300X".
func describe(model, form string, memGB float64) string {
	s := model
	if s == "" {
		s = `""`
	}
	if form != "" {
		s += " " + form
	}
	if memGB != 0 {
		s += " " + strconv.FormatFloat(memGB, 'g', -1, 64) + "GB"
	}
	return s
}

// has reports whether some GPU matches model and, where not empty/zero,
// form and memory.
func (c *Catalog) has(model, form string, memGB float64) bool {
	for _, g := range c.gpus {
		if g.Model == model && (form == "" || g.Form == form) && (memGB == 0 || g.MemoryGB == memGB) {
			return true
		}
	}
	return false
}

// GPUs returns every catalog GPU, sorted by model, form and memory. The
// caller must not modify the result.
func (c *Catalog) GPUs() []GPU { return c.gpus }

// Aliases returns provider's alias table, sorted by raw name.
func (c *Catalog) Aliases(provider string) []Alias {
	out := make([]Alias, 0, len(c.aliases[provider]))
	for _, a := range c.aliases[provider] {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Raw < out[j].Raw })
	return out
}

// Lookup finds provider's alias for a raw GPU or instance-size name. Matching
// ignores case and repeated spaces, nothing else: a name the table does not
// list is unknown, never guessed.
func (c *Catalog) Lookup(provider, raw string) (Alias, bool) {
	a, ok := c.aliases[provider][normalizeRaw(raw)]
	return a, ok
}

// Vendor returns the vendor of model ("nvidia", "amd", ...), or "".
func (c *Catalog) Vendor(model string) string {
	for _, g := range c.gpus {
		if g.Model == model {
			return g.Vendor
		}
	}
	return ""
}

// SnapMemory returns the marketed memory size of model (in form, if form is
// not empty) nearest to mib MiB, when one lies within 7%; otherwise mib
// converted to GB and rounded; 0 when mib is not a positive number. Providers
// report usable memory (81559 MiB for an 80 GB H100), which is never the
// marketed figure.
func (c *Catalog) SnapMemory(model, form string, mib float64) float64 {
	if !isPositive(mib) {
		return 0
	}
	gb := mib / 1024
	best, bestDiff := 0.0, math.Inf(1)
	for _, g := range c.gpus {
		if g.Model != model || (form != "" && g.Form != "" && g.Form != form) {
			continue
		}
		if d := math.Abs(g.MemoryGB-gb) / g.MemoryGB; d < bestDiff {
			best, bestDiff = g.MemoryGB, d
		}
	}
	if bestDiff <= 0.07 {
		return best
	}
	return math.Round(gb)
}

func normalizeRaw(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
