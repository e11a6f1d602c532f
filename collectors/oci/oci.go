// Package oci collects GPU prices from Oracle Cloud Infrastructure through
// the anonymous data files of Oracle's cost estimator, under
// <endpoint> (https://www.oracle.com/a/ocom/docs/cloudestimator2/data by
// default): shapes.json (each compute shape: GPU count and memory, whether
// it may run preemptible, the part numbers it is billed by) and
// products.json (each part number's price per currency).
//
// A GPU shape is billed by one part priced per GPU-hour, so its price is
// that part's USD pay-as-you-go price × the shape's gpuQty. OCI charges
// the same in every commercial region, so the collector returns, for
// every configured region (default us-ashburn-1):
//
//   - an on_demand quote per active, visible GPU shape: instance_type the
//     shape ("BM.GPU.H100.8"); region the OCI region; gpu_count gpuQty;
//   - a spot quote at half that price for the shapes that allow
//     preemptible instances (allowPreemptible): OCI's preemptible
//     capacity is billed at a 50% discount.
//   - GPU: the shape name through the catalog's oci aliases (which know
//     the 40 GB BM.GPU4.8 from the 80 GB BM.GPU.A100-v2.8), else
//     price.Unknown with the memory from gpuMemoryQty, which the files
//     give per shape for some shapes and per GPU for others: the value
//     divided by gpuQty is used unless that is implausibly small.
//   - vCPUs and RAM: two vCPUs per x86 OCPU of the shape's ocpu part, and
//     bundleMemoryQty (GB).
//
// Skipped, and counted in a debug log: hidden or inactive shapes, shapes
// without GPUs, shapes billed by parts the products file does not have,
// and parts without a positive hourly USD pay-as-you-go price (never
// converted from another currency). Stock is unknown.
package oci

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "oci"

// PreemptibleDiscount is the share of the on-demand price a preemptible
// instance costs.
const PreemptibleDiscount = 0.5

// Collector is the OCI collector.
type Collector struct {
	collectors.Base
	regions []string
}

// New returns a collector for the configured endpoint and regions.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{Base: collectors.NewBase(Name, cfg, env), regions: collectors.NormalizeRegions(cfg.Regions)}, nil
}

type valueField struct {
	Value string `json:"value"`
}

// shape is an item of shapes.json.
type shape struct {
	Name             string     `json:"name"`
	Hidden           bool       `json:"hidden"`
	Status           string     `json:"status"`
	GPUQty           float64    `json:"gpuQty"`
	GPUMemoryQty     float64    `json:"gpuMemoryQty"`
	BundleMemoryQty  float64    `json:"bundleMemoryQty"`
	AllowPreemptible bool       `json:"allowPreemptible"`
	SubType          valueField `json:"subType"`
	ProcessorType    valueField `json:"processorType"`
	Products         []struct {
		Type       valueField `json:"type"`
		PartNumber string     `json:"partNumber"`
		Qty        float64    `json:"qty"`
	} `json:"products"`
}

// vcpus is the shape's vCPUs: two per x86 OCPU (each a core with two
// hardware threads), 0 (unknown) for other processors.
func (s *shape) vcpus() float64 {
	if s.ProcessorType.Value != "x86" {
		return 0
	}
	for _, p := range s.Products {
		if p.Type.Value == "ocpu" && p.Qty > 0 {
			return 2 * p.Qty
		}
	}
	return 0
}

// product is an item of products.json.
type product struct {
	PartNumber                string `json:"partNumber"`
	PriceType                 string `json:"pricetype"`
	CurrencyCodeLocalizations []struct {
		CurrencyCode string `json:"currencyCode"`
		Prices       []struct {
			Model string  `json:"model"`
			Value float64 `json:"value"`
		} `json:"prices"`
	} `json:"currencyCodeLocalizations"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	sh, err := getItems[shape](ctx, c, "shapes.json")
	if err != nil {
		return nil, err
	}
	pr, err := getItems[product](ctx, c, "products.json")
	if err != nil {
		return nil, err
	}
	usd := map[string]float64{} // part number → USD per hour
	for _, p := range pr.Items {
		if !strings.EqualFold(p.PriceType, "HOUR") {
			continue
		}
		for _, l := range p.CurrencyCodeLocalizations {
			for _, v := range l.Prices {
				if l.CurrencyCode == "USD" && v.Model == "PAY_AS_YOU_GO" && v.Value > 0 && v.Value < 1e4 {
					usd[p.PartNumber] = v.Value
				}
			}
		}
	}
	var out []price.Quote
	skipped := map[string]int{}
	for _, s := range sh.Items {
		switch {
		case s.Hidden || !strings.EqualFold(s.Status, "ACTIVE"):
			skipped["hidden or not active"]++
			continue
		case s.SubType.Value != "gpu" || !(s.GPUQty > 0):
			skipped["no GPU"]++
			continue
		}
		perGPU, ok := 0.0, false
		for _, p := range s.Products {
			if perGPU, ok = usd[p.PartNumber]; ok {
				break
			}
		}
		if !ok {
			skipped["no hourly USD price for its part"]++
			continue
		}
		q := price.Quote{Provider: Name, InstanceType: s.Name, GPUModel: price.Unknown, GPUCount: s.GPUQty, GPURaw: s.Name,
			VCPUs: s.vcpus(), MemoryGB: max(s.BundleMemoryQty, 0)}
		if a, ok := c.Catalog.Lookup(Name, s.Name); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		} else if mem := s.GPUMemoryQty / s.GPUQty; mem >= 8 {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, "", mem*1024)
		} else {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, "", s.GPUMemoryQty*1024)
		}
		onDemand := perGPU * s.GPUQty
		for _, region := range c.regions {
			q.Region, q.Geo = region, price.Geo(region)
			q.PricingModel, q.USDPerHour = price.OnDemand, onDemand
			out = append(out, q)
			if s.AllowPreemptible {
				q.PricingModel, q.USDPerHour = price.Spot, onDemand*PreemptibleDiscount
				out = append(out, q)
			}
		}
	}
	collectors.LogSkipped(c.Logger, "OCI shapes", skipped)
	if len(out) == 0 && sh.Bad+pr.Bad > 0 {
		// What could be priced did not decode: the format changed.
		return nil, &collectors.DecodeError{What: c.Endpoint, Err: fmt.Errorf("%d items could not be read and no other GPU shape has a price: %w",
			sh.Bad+pr.Bad, cmp.Or(sh.Err, pr.Err))}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read the cost estimator: no GPU shape has an hourly USD price: %w", collectors.ErrEmpty)
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region),
			cmp.Compare(x.PricingModel, y.PricingModel))
	})
	snap := &price.Snapshot{Provider: Name, Quotes: out}
	snap.Skip(price.SkippedInvalid, sh.Bad+pr.Bad)
	return snap, nil
}

// getItems reads the items of one of the cost estimator's files, an item
// that does not decode counted in Bad; an empty list is an empty answer,
// one none of whose items decodes a decode failure.
func getItems[T any](ctx context.Context, c *Collector, file string) (collectors.Rows[T], error) {
	var ans struct {
		Items collectors.Rows[T] `json:"items"`
	}
	u := c.Endpoint + "/" + file
	if err := collectors.GetJSON(ctx, c.HTTPClient, u, &ans); err != nil {
		return ans.Items, fmt.Errorf("read %s: %w", file, err)
	}
	if err := ans.Items.NoRows(u, "items", ""); err != nil {
		return ans.Items, fmt.Errorf("read %s: %w", file, err)
	}
	return ans.Items, nil
}
