package fakecloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
)

// OCIPath is the directory of Oracle's cost-estimator data files; a
// collector's endpoint is the server's URL followed by it.
const OCIPath = "/a/ocom/docs/cloudestimator2/data"

// The cost estimator's two files, hand-written in their format: shapes
// (GPU count and memory, whether preemptible, the part number each is
// billed by, hidden and retired shapes, a flexible CPU shape, a shape
// whose part number is not in products) and products (prices per part
// number and currency; a GPU part is priced per GPU-hour).
var (
	//go:embed testdata/oci/shapes.json
	ociShapes []byte
	//go:embed testdata/oci/products.json
	ociProducts []byte
)

// OCIOptions configures NewOCI.
type OCIOptions struct {
	// Drift moves the USD prices over time.
	Drift
	// HugeBytes is how many bytes a Huge answer streams (default 4 GiB).
	HugeBytes int64
}

// OCI is a fake of Oracle's anonymous cost-estimator files,
// GET .../products.json and .../shapes.json. Each file has its own fault
// queue (FaultQueue "products", "shapes"). Faults: the generic kinds come
// from Faults.Wrap (plain-text errors, as a web server's); WrongTypes
// sends numbers as strings; Empty answers {"items": []}; Huge streams an
// endless items array; EndlessPages does not apply.
type OCI struct {
	Products, Shapes Faults

	opts     OCIOptions
	products http.Handler
	shapes   http.Handler
}

// FaultQueue implements Faulty.
func (o *OCI) FaultQueue(api string) *Faults {
	return map[string]*Faults{"products": &o.Products, "shapes": &o.Shapes}[api]
}

// NewOCI returns the fake.
func NewOCI(opts OCIOptions) *OCI {
	if opts.HugeBytes <= 0 {
		opts.HugeBytes = 4 << 30
	}
	o := &OCI{opts: opts}
	plain := func(status int, msg string) (string, []byte) { return "text/plain; charset=utf-8", []byte(msg) }
	o.products = o.Products.Wrap(o.file(ociProducts, true), plain)
	o.shapes = o.Shapes.Wrap(o.file(ociShapes, false), plain)
	return o
}

// ServeHTTP implements http.Handler.
func (o *OCI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case OCIPath + "/products.json":
		o.products.ServeHTTP(w, r)
	case OCIPath + "/shapes.json":
		o.shapes.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// file serves one data file; prices says it is products.json, whose USD
// prices drift.
func (o *OCI) file(data []byte, prices bool) http.Handler {
	var doc struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		panic(fmt.Sprintf("fakecloud: OCI data: %v", err))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft, _ := FaultOf(r)
		switch ft.Kind {
		case Empty:
			writeJSON(w, http.StatusOK, []byte(`{"items": []}`))
			return
		case Huge:
			one, _ := json.Marshal(doc.Items[0])
			streamHuge(w, o.opts.HugeBytes, `{"items": [`, func(int) []byte { return one }, func(int) string { return "]}" })
			return
		}
		items := doc.Items
		if prices {
			items = o.drifted(items)
		}
		var doc any = map[string]any{"items": items}
		if ft.Kind == WrongTypes {
			doc = numbersAsStrings(doc)
		}
		b, _ := json.Marshal(doc)
		writeJSON(w, http.StatusOK, b)
	})
}

// numbersAsStrings copies v with every number written as a string.
func numbersAsStrings(v any) any {
	switch t := v.(type) {
	case float64:
		return fmt.Sprint(t)
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, e := range t {
			c[k] = numbersAsStrings(e)
		}
		return c
	case []map[string]any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = numbersAsStrings(e)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = numbersAsStrings(e)
		}
		return c
	}
	return v
}

// drifted copies products with their USD prices moved by the drift.
func (o *OCI) drifted(items []map[string]any) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, it := range items {
		c := make(map[string]any, len(it))
		for k, v := range it {
			c[k] = v
		}
		part, _ := it["partNumber"].(string)
		locs, _ := it["currencyCodeLocalizations"].([]any)
		var nl []any
		for _, l := range locs {
			lm, _ := l.(map[string]any)
			if lm["currencyCode"] != "USD" {
				nl = append(nl, lm)
				continue
			}
			prices, _ := lm["prices"].([]any)
			var np []any
			for _, p := range prices {
				pm, _ := p.(map[string]any)
				v, _ := pm["value"].(float64)
				np = append(np, map[string]any{"model": pm["model"], "value": math.Round(o.opts.Drift.Apply(part, v)*1e4) / 1e4})
			}
			nl = append(nl, map[string]any{"currencyCode": "USD", "prices": np})
		}
		c["currencyCodeLocalizations"] = nl
		out[i] = c
	}
	return out
}
