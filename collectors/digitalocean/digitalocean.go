// Package digitalocean collects GPU Droplet prices (DigitalOcean's GPU
// cloud, which took over Paperspace's) through the API's list of Droplet
// sizes, GET <endpoint>/v2/sizes (endpoint https://api.digitalocean.com by
// default), authenticated with a personal access token sent as
// "Authorization: Bearer <token>".
//
// A size is priced in USD per Droplet-hour (price_hourly), the same in
// each of the regions it lists. The collector returns one on-demand quote
// per GPU size (those with gpu_info) and listed region:
//
//   - instance_type: the size's slug ("gpu-h100x8-640gb"); region: the
//     DigitalOcean region slug ("nyc2"); gpu_count: gpu_info.count.
//   - GPU: gpu_info.model ("nvidia_h100") through the catalog's
//     digitalocean aliases, else price.Unknown with the memory from
//     gpu_info.vram (the total of the size's GPUs) divided by their count.
//   - vCPUs and RAM: vcpus and memory (MiB, shown in GB of 1024 MiB).
//   - Stock: none for a size marked not available (its price is kept for
//     the regions it lists), available for one marked available, unknown
//     when available is missing or null.
//   - Skipped, and counted in a debug log: sizes without GPUs, without a
//     positive price_hourly, or listed in no region; a size that does not
//     decode is counted in the snapshot as price.SkippedInvalid.
//
// Without a token every refresh fails with ErrNoToken, without a request.
// Pages (links.pages.next) are followed up to maxPages.
package digitalocean

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "digitalocean"

// ErrNoToken is the error of every refresh when no token is configured.
var ErrNoToken = errors.New("no API token configured: set providers.digitalocean.api_token or api_token_file (the sizes list needs a token)")

var errPagination = errors.New("the sizes never end: every page links a next one")

// SizesPath is the first page of the sizes below the configured endpoint.
const SizesPath = "/v2/sizes?per_page=200"

// maxPages bounds the walk: the sizes fit in one page of 200.
const maxPages = 10

// Collector is the DigitalOcean collector.
type Collector struct {
	collectors.Base
	maxPages int
	token    config.Secret
}

// New returns a collector for the configured endpoint.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{Base: collectors.NewBase(Name, cfg, env), maxPages: maxPages, token: cfg.APIToken}, nil
}

type size struct {
	Slug        string   `json:"slug"`
	PriceHourly float64  `json:"price_hourly"`
	VCPUs       float64  `json:"vcpus"`
	MemoryMiB   float64  `json:"memory"`
	Regions     []string `json:"regions"`
	// Available is nil when the answer does not say (missing or null).
	Available *bool `json:"available"`
	GPUInfo   *struct {
		Count float64 `json:"count"`
		VRAM  struct {
			Amount float64 `json:"amount"`
		} `json:"vram"`
		Model string `json:"model"`
	} `json:"gpu_info"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	if c.token == "" {
		return nil, ErrNoToken
	}
	var sizes []size
	bad := 0 // sizes that did not decode
	first := c.Endpoint + SizesPath
	next := first
	for page := 1; next != ""; page++ {
		if page > c.maxPages {
			return nil, &collectors.DecodeError{What: "sizes", Err: errPagination}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.token.Value())
		var ans struct {
			Sizes collectors.Rows[size] `json:"sizes"`
			Links struct {
				Pages struct {
					Next string `json:"next"`
				} `json:"pages"`
			} `json:"links"`
		}
		if err := collectors.DoJSON(c.HTTPClient, req, &ans); err != nil {
			var he *collectors.HTTPError
			if errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized {
				return nil, fmt.Errorf("the API token was refused: check providers.digitalocean.api_token or api_token_file: %w", err)
			}
			return nil, fmt.Errorf("list sizes: %w", err)
		}
		if err := ans.Sizes.AllBadError("sizes", "sizes"); err != nil {
			return nil, err
		}
		sizes, bad = append(sizes, ans.Sizes.Items...), bad+ans.Sizes.Bad
		next = ans.Links.Pages.Next
		if next != "" {
			// Follow the API's link, but never off the configured host.
			if u, err := url.Parse(next); err != nil || !sameHost(u, first) {
				return nil, &collectors.DecodeError{What: "sizes", Err: fmt.Errorf("the next page %q is not on the endpoint", next)}
			}
		}
	}
	if len(sizes)+bad == 0 {
		return nil, fmt.Errorf("list sizes: %w", collectors.ErrEmpty)
	}
	var out []price.Quote
	skipped := map[string]int{}
	for _, s := range sizes {
		switch {
		case s.GPUInfo == nil || !(s.GPUInfo.Count > 0):
			skipped["no GPU"]++
			continue
		case !(s.PriceHourly > 0) || s.PriceHourly > 1e4:
			skipped["price_hourly not a positive price"]++
			continue
		case len(s.Regions) == 0:
			skipped["in no region"]++
			continue
		}
		g := s.GPUInfo
		q := price.Quote{Provider: Name, InstanceType: s.Slug, PricingModel: price.OnDemand, GPUModel: price.Unknown,
			GPUCount: g.Count, GPURaw: g.Model, USDPerHour: s.PriceHourly,
			VCPUs: max(s.VCPUs, 0), MemoryGB: max(s.MemoryMiB, 0) / 1024}
		if s.Available != nil {
			q.Stock = price.StockNone
			if *s.Available {
				q.Stock = price.StockAvailable
			}
		}
		if a, ok := c.Catalog.Lookup(Name, g.Model); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		} else if g.VRAM.Amount > 0 {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, "", g.VRAM.Amount/g.Count*1024)
		}
		for _, r := range collectors.NormalizeRegions(s.Regions) {
			q.Region, q.Geo = r, price.Geo(r)
			out = append(out, q)
		}
	}
	collectors.LogSkipped(c.Logger, "DigitalOcean sizes", skipped)
	if len(out) == 0 {
		return nil, fmt.Errorf("list sizes: no GPU size has a price: %w", collectors.ErrEmpty)
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region))
	})
	snap := &price.Snapshot{Provider: Name, Quotes: out}
	snap.Skip(price.SkippedInvalid, bad)
	return snap, nil
}

func sameHost(u *url.URL, base string) bool {
	b, err := url.Parse(base)
	return err == nil && u.Host == b.Host
}
