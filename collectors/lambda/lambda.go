// Package lambda collects GPU instance prices from Lambda Cloud through its
// instance-types API (GET <endpoint>/api/v1/instance-types, endpoint
// https://cloud.lambda.ai by default), authenticated with an API key sent
// as "Authorization: Bearer <key>".
//
// Lambda prices each instance type once, in US cents per instance-hour,
// the same in every region it serves, on demand only; the answer also
// lists, per type, the regions with capacity available now. The collector
// returns one quote per (instance type, region) for every region of the
// configured list (default: every public Lambda region, PublicRegions):
//
//   - instance_type: the type's name ("gpu_8x_h100_sxm5"); region: the
//     Lambda region ("us-east-1"); pricing_model on_demand;
//     usd_per_hour price_cents_per_hour / 100.
//   - Stock: price.StockAvailable where regions_with_capacity_available
//     names the region, price.StockNone elsewhere. A type whose capacity
//     runs out keeps its series and history, shown as not rentable now,
//     and a region never loses its series for lack of capacity. A type
//     whose answer has no such list (missing or null) has unknown stock:
//     only an empty list says "no capacity anywhere".
//   - GPU: gpu_description ("H100 (80 GB SXM5)") through the catalog's
//     lambda aliases, or, where the answer has none, the description
//     without its "<n>x " ("8x H100 (80 GB SXM5)"), or else the instance
//     type's name with its count left out ("gpu_8x_h100_sxm5" →
//     "gpu_Nx_h100_sxm5", "gpu_1x_gh200" → "gpu_Nx_gh200"), which the
//     catalog lists too. The count comes from specs.gpus, or else the "<n>x " prefix of
//     the description or the "gpu_<n>x_" of the name; the memory from the
//     alias, or else the "(<n> GB" of the description. A GPU none of
//     these names is kept as price.Unknown with the first of them as its
//     raw name, never dropped. Types without GPUs (no specs.gpus, no
//     gpu_description and a name not starting "gpu_": CPU types) are
//     skipped.
//   - vCPUs and RAM: specs.vcpus and specs.memory_gib.
//   - Bad input: a type whose fields have the wrong types, or whose price
//     is null, missing, zero or negative, is skipped and counted as
//     price.SkippedInvalid; the other types go on. An answer none of
//     whose types can be read fails the refresh as a decode error.
//
// Lambda allows about one request per second; a refresh is one request
// (the rate limit, default 1/s, also spaces the retries). Without an API
// key every refresh fails with ErrNoAPIKey, without a request; a key
// Lambda refuses (401, 403) fails it with an *collectors.HTTPError
// (reason http_4xx) whose message says to check the key.
package lambda

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "lambda"

// InstanceTypesPath is appended to the configured endpoint.
const InstanceTypesPath = "/api/v1/instance-types"

// PublicRegions is every public Lambda Cloud region: the PublicRegionCode
// enum of Lambda's Cloud API OpenAPI description (v1.x, as generated into
// public clients), without its test-east-1 and test-west-1.
var PublicRegions = []string{
	"us-east-1", "us-east-2", "us-east-3",
	"us-west-1", "us-west-2", "us-west-3",
	"us-south-1", "us-south-2", "us-south-3",
	"us-midwest-1", "us-midwest-2",
	"europe-central-1", "me-west-1",
	"asia-south-1", "asia-northeast-1", "asia-northeast-2",
	"australia-east-1",
}

// ErrNoAPIKey is the error of every refresh when no API key is configured.
var ErrNoAPIKey = errors.New("no API key configured: set providers.lambda.api_key or providers.lambda.api_key_file (Lambda's instance-types API refuses anonymous requests)")

// Collector is the Lambda collector. It is not safe for concurrent use;
// the Runner never calls Collect concurrently with itself.
type Collector struct {
	collectors.Base
	url     string
	apiKey  config.Secret
	regions []string
	builtin bool // regions is PublicRegions, not a configured list

	// unlisted holds the capacity regions outside PublicRegions already
	// logged, so that a new region is reported once, not every refresh.
	unlisted map[string]bool
}

// New returns a collector for the configured endpoint. It does not check
// the API key: a missing key fails each refresh (see ErrNoAPIKey), which
// shows on /api/v1/providers and in the metrics without stopping the
// daemon or the other providers.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	u, err := url.Parse(cfg.Endpoint) // checked by config
	if err != nil {
		return nil, fmt.Errorf("lambda endpoint: %w", err)
	}
	c := &Collector{
		url:      strings.TrimRight(u.String(), "/") + InstanceTypesPath,
		apiKey:   cfg.APIKey,
		Base:     collectors.NewBase(Name, cfg, env),
		unlisted: map[string]bool{},
	}
	regions := cfg.Regions
	if len(regions) == 0 {
		regions, c.builtin = PublicRegions, true
	}
	c.regions = collectors.NormalizeRegions(regions)
	return c, nil
}

// answer is the instance-types answer. A refusal may come as Lambda's
// error envelope.
type answer struct {
	// Data is decoded one instance type at a time (see Collect).
	Data  map[string]json.RawMessage `json:"data"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type entry struct {
	InstanceType struct {
		Name              string   `json:"name"`
		Description       string   `json:"description"`
		GPUDescription    string   `json:"gpu_description"`
		PriceCentsPerHour *float64 `json:"price_cents_per_hour"`
		Specs             struct {
			GPUs      float64 `json:"gpus"`
			VCPUs     float64 `json:"vcpus"`
			MemoryGiB float64 `json:"memory_gib"`
		} `json:"specs"`
	} `json:"instance_type"`
	// Regions is nil when the answer has no list (missing or null): then
	// capacity is unknown, not none. An empty list says none.
	Regions *[]region `json:"regions_with_capacity_available"`
}

type region struct {
	Name string `json:"name"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	if c.apiKey == "" {
		return nil, ErrNoAPIKey
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey.Value())
	var ans answer
	if err := collectors.DoJSON(c.HTTPClient, req, &ans); err != nil {
		var he *collectors.HTTPError
		if errors.As(err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden) {
			return nil, fmt.Errorf("the API key was refused: check providers.lambda.api_key or api_key_file: %w", err)
		}
		return nil, fmt.Errorf("list instance types: %w", err)
	}
	if ans.Data == nil {
		msg := `the answer has no "data" object`
		if ans.Error != nil {
			msg += fmt.Sprintf(" (error %s: %s)", ans.Error.Code, ans.Error.Message)
		}
		return nil, &collectors.DecodeError{What: c.url, Err: errors.New(msg)}
	}
	if len(ans.Data) == 0 {
		return nil, fmt.Errorf("list instance types: %w", collectors.ErrEmpty)
	}
	entries := make(map[string]entry, len(ans.Data))
	var bad int
	var firstErr error
	for key, raw := range ans.Data {
		var e entry
		if err := json.Unmarshal(raw, &e); err != nil {
			bad++
			if firstErr == nil {
				firstErr = fmt.Errorf("instance type %s: %w", key, err)
			}
			continue
		}
		entries[key] = e
	}
	if len(entries) == 0 {
		return nil, &collectors.DecodeError{What: c.url,
			Err: fmt.Errorf("none of %d instance types could be read: %w", bad, firstErr)}
	}
	quotes, unpriced := c.quotes(entries)
	snap := &price.Snapshot{Provider: Name, Quotes: quotes}
	snap.Skip(price.SkippedInvalid, bad+unpriced)
	return snap, nil
}

// quotes turns the instance types into one quote per type and region,
// and counts the GPU types it could not price.
func (c *Collector) quotes(data map[string]entry) (out []price.Quote, unpriced int) {
	out = make([]price.Quote, 0, len(data)*len(c.regions))
	noGPUs := 0
	for key, e := range data {
		it := e.InstanceType
		if it.Name == "" {
			it.Name = key
		}
		q, ok := c.gpu(it.Name, it.Description, it.GPUDescription, it.Specs.GPUs)
		if !ok {
			noGPUs++
			continue
		}
		if p := it.PriceCentsPerHour; p == nil || !(*p > 0) {
			unpriced++
			continue
		}
		q.InstanceType = it.Name
		q.PricingModel = price.OnDemand
		q.USDPerHour = *it.PriceCentsPerHour / 100
		q.VCPUs, q.MemoryGB = max(it.Specs.VCPUs, 0), max(it.Specs.MemoryGiB, 0)
		var (
			capacity map[string]bool // nil: unknown
			regions  []region
		)
		if e.Regions != nil {
			regions, capacity = *e.Regions, make(map[string]bool, len(*e.Regions))
		}
		for _, r := range regions {
			name := strings.ToLower(strings.TrimSpace(r.Name))
			capacity[name] = true
			if c.builtin && name != "" && !slices.Contains(c.regions, name) && !c.unlisted[name] {
				c.unlisted[name] = true
				c.Logger.Warn("Lambda has capacity in a region missing from the built-in list; it is not priced",
					"region", name, "instance_type", it.Name, "hint", "list it in providers.lambda.regions")
			}
		}
		for _, r := range c.regions {
			q.Region = r
			switch {
			case capacity == nil:
				q.Stock = price.StockUnknown
			case capacity[r]:
				q.Stock = price.StockAvailable
			default:
				q.Stock = price.StockNone
			}
			out = append(out, q)
		}
	}
	if noGPUs > 0 || unpriced > 0 {
		c.Logger.Debug("skipped instance types", "types", len(data), "no_gpus", noGPUs, "no_price", unpriced)
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region))
	})
	return out, unpriced
}

var (
	countPrefix = regexp.MustCompile(`^(\d+)x `)              // "8x H100 (80 GB SXM5)"
	countInName = regexp.MustCompile(`^gpu_(\d+)x_`)          // "gpu_8x_h100_sxm5"
	memoryGB    = regexp.MustCompile(`\((\d+(?:\.\d+)?) ?GB`) // "H100 (80 GB SXM5)"
)

// gpu returns a quote with the GPU fields of an instance type filled in;
// false when the type has no GPU.
func (c *Collector) gpu(name, description, gpuDescription string, gpus float64) (price.Quote, bool) {
	// A GPU type says so in one of three places; CPU types ("cpu_4x_general",
	// "4x vCPU") in none.
	if gpus <= 0 && strings.TrimSpace(gpuDescription) == "" && !strings.HasPrefix(name, "gpu_") {
		return price.Quote{}, false
	}
	count := gpus
	if count <= 0 {
		count = leadingCount(countPrefix, description)
	}
	if count <= 0 {
		count = leadingCount(countInName, name)
	}
	if count <= 0 {
		return price.Quote{}, false
	}
	// The names of the GPU, best first: gpu_description, the description
	// without its count, the type's name without its prefix.
	var names []string
	if raw := strings.Join(strings.Fields(gpuDescription), " "); raw != "" {
		names = append(names, raw)
	}
	if loc := countPrefix.FindStringIndex(description); loc != nil {
		if raw := strings.Join(strings.Fields(description[loc[1]:]), " "); raw != "" {
			names = append(names, raw)
		}
	}
	if loc := countInName.FindStringIndex(name); loc != nil && loc[1] < len(name) {
		names = append(names, "gpu_Nx_"+name[loc[1]:])
	}
	if len(names) == 0 {
		names = append(names, name)
	}
	q := price.Quote{Provider: Name, GPUModel: price.Unknown, GPUCount: count, GPURaw: names[0]}
	for _, raw := range names {
		if a, ok := c.Catalog.Lookup(Name, raw); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB, q.GPURaw = a.Model, a.Form, a.MemoryGB, raw
			break
		}
	}
	if q.GPUMemoryGB == 0 {
		for _, raw := range names {
			if m := memoryGB.FindStringSubmatch(raw); m != nil {
				gb, _ := strconv.ParseFloat(m[1], 64)
				q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, q.GPUForm, gb*1024)
				break
			}
		}
	}
	return q, true
}

func leadingCount(re *regexp.Regexp, s string) float64 {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return float64(n)
}
