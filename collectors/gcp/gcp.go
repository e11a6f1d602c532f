// Package gcp collects Google Cloud GPU prices, on-demand and spot, from the
// Cloud Billing Catalog API (ListSkus of the Compute Engine service), and,
// where credentials and a project allow it, which zones offer each GPU from
// the Compute Engine API (AcceleratorTypes aggregated list).
//
// The catalog prices components, not machines: a GPU per hour, a vCPU and
// a GiB of memory of a machine family per hour, local SSD per GiB-month,
// and for A4 and A4X one GPU's share ("slice") of the whole machine. Each
// refresh turns them into two kinds of quotes, per region the SKUs list:
//
//   - one per GPU SKU: instance_type is the accelerator type
//     ("nvidia-l4"), gpu_count 1, the price of one GPU alone. N1's
//     attachable GPUs (T4, V100, P100, P4) are priced this way only.
//   - one per machine type that bundles GPUs (machineShapes: A2, A3, A4,
//     A4X, G2): vCPUs × core + GiB × RAM + GPUs × GPU (+ its bundled local
//     SSD), or GPUs × slice where the family is priced per slice; its
//     vCPUs and RAM are the machine type's.
//
// GPU SKUs are recognised by their descriptions, which is all the catalog
// says: the accelerator type is derived from the GPU's name (gpuhunt's
// way) and looked up in the catalog's gcp aliases, so a new GPU shows up as
// UNKNOWN instead of vanishing. Sole-tenancy, reserved, commitment,
// premium, custom, DWS and TPU SKUs are dropped.
//
// Authentication: an API key (providers.gcp.api_key_file) for the Billing
// Catalog, else application default credentials. Availability needs
// application default credentials and providers.gcp.project (the Compute
// Engine API takes no API key); with it, each quote's Stock says whether a
// zone of its region offers the GPU. Credentials are looked up at the first
// refresh, so a daemon without any still starts and reports the error.
package gcp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	billingapi "cloud.google.com/go/billing/apiv1"
	"cloud.google.com/go/billing/apiv1/billingpb"
	computeapi "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider's label value and config section.
const Name = "gcp"

// ComputeEngineService is the Billing Catalog's name of Compute Engine.
const ComputeEngineService = "services/6F81-5844-456A"

// DefaultComputeEndpoint is the Compute Engine API used when
// providers.gcp.compute_endpoint is empty.
const DefaultComputeEndpoint = "https://compute.googleapis.com"

const (
	// skuPageSize is the largest page the Billing Catalog serves.
	skuPageSize = 5000
	// defaultMaxPages bounds one walk of either API. The Compute Engine
	// service has some 40,000 SKUs, nine pages; a next page still
	// announced after a hundred is a broken API.
	defaultMaxPages = 100
	zonePageSize    = 500
	// availabilityMaxAge is how long the last availability read is used
	// while reading it again fails.
	availabilityMaxAge = 24 * time.Hour
	cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
)

// errPagination is wrapped in a DecodeError when a walk never ends.
var errPagination = errors.New("endless pagination")

// errNoCredentials is the error of every refresh without an API key or
// application default credentials.
var errNoCredentials = errors.New("gcp: no credentials: set providers.gcp.api_key_file (or api_key) to an API key " +
	"of a project with the Cloud Billing API enabled, or provide application default credentials " +
	"(GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`, or the metadata server)")

// Collector fetches Google Cloud GPU prices. It keeps its API clients, once
// built, and the last availability read between refreshes; Collect is
// never called concurrently, so neither needs a lock.
type Collector struct {
	billingURL, computeURL *url.URL
	project                string
	apiKey                 string
	catalog                *price.Catalog
	logger                 *slog.Logger
	maxPages               int
	// base carries every request: the daemon's rate limit, retries with
	// Retry-After, and response size limit.
	base http.RoundTripper
	// findCredentials looks up application default credentials; tests
	// replace it, so that they never probe a metadata server.
	findCredentials func() (*auth.Credentials, error)

	// current is the refresh in progress; see refreshTransport.
	current atomic.Pointer[refresh]
	billing *billingapi.CloudCatalogClient
	compute *computeapi.AcceleratorTypesClient // nil: no availability
	zones   availability
	zonesAt time.Time
}

// refresh is one Collect: its context and its page budgets.
type refresh struct {
	ctx                        context.Context
	billingPages, computePages atomic.Int64
}

// New builds the GCP collector from its section. It does not look for
// credentials yet: see Collect.
func New(s *Config, env collectors.Env) (*Collector, error) {
	billingURL, err := endpoint("billing_endpoint", cmp.Or(s.BillingEndpoint, s.Endpoint))
	if err != nil {
		return nil, err
	}
	computeURL, err := endpoint("compute_endpoint", cmp.Or(s.ComputeEndpoint, DefaultComputeEndpoint))
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults(s.RateLimit)
	c := &Collector{
		billingURL:      billingURL,
		computeURL:      computeURL,
		project:         s.Project,
		apiKey:          s.APIKey.Value(),
		catalog:         env.Catalog,
		logger:          env.Logger,
		maxPages:        defaultMaxPages,
		findCredentials: detectCredentials,
	}
	c.base = env.HTTPClient.Transport
	if c.base == nil {
		c.base = http.DefaultTransport
	}
	return c, nil
}

func endpoint(key, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("gcp %s: %w", key, err)
	}
	return u, nil
}

// detectCredentials finds application default credentials: the file named
// by GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or the metadata server.
func detectCredentials() (*auth.Credentials, error) {
	return credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{cloudPlatformScope}})
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// Collect walks every page of the Compute Engine SKUs, reads availability
// when it can, and returns the per-GPU and whole-machine quotes. Until a
// refresh finds credentials, each one looks for them again and fails with
// errNoCredentials. Any failure of the walk fails the refresh (a partial
// catalog would withdraw series); a failure to read availability does not
// (see availability).
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	c.current.Store(&refresh{ctx: ctx})
	defer c.current.Store(nil)
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	p, ws, err := c.walk(ctx)
	if err != nil {
		return nil, err
	}
	if ws.skus == 0 {
		// Compute Engine always has thousands of SKUs: the API is broken.
		return nil, fmt.Errorf("gcp: the catalog listed no Compute Engine SKUs: %w", collectors.ErrEmpty)
	}
	avail := c.availability(ctx)
	quotes, qs := p.quotes(c.catalog, avail)
	c.logger.Debug("catalog walked", "pages", ws.pages, "skus", ws.skus, "dropped", ws.dropped,
		"conflicts", p.conflicts, "gpu_quotes", qs.perGPU, "machine_quotes", qs.machines,
		"machines_unpriced", qs.unpriced, "availability", avail != nil, "duration_seconds", time.Since(start).Seconds())
	snap := &price.Snapshot{Provider: Name, Quotes: quotes}
	// A GPU, core, memory or SSD SKU without a price (no pricing info, no
	// tier, no unit price) is bad input: counted, and the rest goes on.
	// (A wrong-typed field fails its whole page in Google's client, a
	// decode error, so nothing wrong is exported either.)
	snap.Skip(price.SkippedInvalid, ws.dropped[dropNoPrice])
	return snap, nil
}

// connect builds the API clients once credentials are found. The API key,
// if any, authenticates the Billing Catalog; application default
// credentials are looked up when there is no key (for the catalog) or a
// project is set (for availability).
func (c *Collector) connect(ctx context.Context) error {
	if c.billing != nil {
		return nil
	}
	var creds *auth.Credentials
	if c.apiKey == "" || c.project != "" {
		found, err := c.findCredentials()
		switch {
		case err == nil:
			creds = found
		case c.apiKey == "":
			return fmt.Errorf("%w: %v", errNoCredentials, err)
		default:
			c.logger.Warn("accelerator availability is off: providers.gcp.project needs application default credentials "+
				"(the Compute Engine API takes no API key)", "err", err)
		}
	}
	opts := &httptransport.Options{
		BaseRoundTripper: &refreshTransport{c: c, pages: func(r *refresh) *atomic.Int64 { return &r.billingPages }, next: c.base},
		DisableTelemetry: true,
		APIKey:           c.apiKey,
	}
	if c.apiKey == "" {
		opts.Credentials = creds
	}
	hc, err := httptransport.NewClient(opts)
	if err != nil {
		return fmt.Errorf("gcp: Cloud Billing client: %w", err)
	}
	bc, err := billingapi.NewCloudCatalogRESTClient(ctx, option.WithHTTPClient(hc), option.WithEndpoint(c.billingURL.String()))
	if err != nil {
		return fmt.Errorf("gcp: Cloud Billing client: %w", err)
	}
	if c.project != "" && creds != nil {
		hc, err := httptransport.NewClient(&httptransport.Options{
			BaseRoundTripper: &refreshTransport{c: c, pages: func(r *refresh) *atomic.Int64 { return &r.computePages }, next: c.base},
			DisableTelemetry: true,
			Credentials:      creds,
		})
		if err != nil {
			return fmt.Errorf("gcp: Compute Engine client: %w", err)
		}
		cc, err := computeapi.NewAcceleratorTypesRESTClient(ctx, option.WithHTTPClient(hc), option.WithEndpoint(c.computeURL.String()))
		if err != nil {
			return fmt.Errorf("gcp: Compute Engine client: %w", err)
		}
		c.compute = cc
	}
	c.billing = bc
	return nil
}

// refreshTransport gives every request the context of the refresh in
// progress and counts it against the refresh's page budget. The generated
// REST clients build their list requests without the caller's context; a
// hung page must still end with the refresh's timeout.
type refreshTransport struct {
	c     *Collector
	pages func(*refresh) *atomic.Int64
	next  http.RoundTripper
}

func (t *refreshTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.c.current.Load()
	if r == nil {
		return nil, errors.New("gcp: request outside a refresh")
	}
	if n := t.pages(r).Add(1); n > int64(t.c.maxPages) {
		return nil, &collectors.DecodeError{What: "gcp pages of " + req.URL.Path,
			Err: fmt.Errorf("%w: a next page still announced after %d pages", errPagination, t.c.maxPages)}
	}
	return t.next.RoundTrip(req.WithContext(r.ctx))
}

// walkStats describes one walk of the catalog, for the debug log.
type walkStats struct {
	pages, skus int
	dropped     map[string]int // by drop reason
}

// walk reads every Compute Engine SKU, one page at a time, keeping only
// the component prices (memory stays bounded by the GPU and machine
// families, not by the catalog's size).
func (c *Collector) walk(ctx context.Context) (*prices, walkStats, error) {
	p := newPrices()
	ws := walkStats{dropped: map[string]int{}}
	it := c.billing.ListSkus(ctx, &billingpb.ListSkusRequest{
		Parent: ComputeEngineService, PageSize: skuPageSize, CurrencyCode: "USD",
	})
	var page any
	for {
		sku, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, ws, apiError("list Compute Engine SKUs", c.billingURL.JoinPath("v1", ComputeEngineService, "skus"), err)
		}
		if it.Response != page {
			page = it.Response
			ws.pages++
		}
		ws.skus++
		comp, reason := classify(sku)
		if reason != "" {
			ws.dropped[reason]++
			continue
		}
		regions := sku.GetServiceRegions()
		for i, r := range regions {
			regions[i] = strings.ToLower(r)
		}
		p.add(comp, regions)
	}
	return p, ws, nil
}

// availability reads which regions have a zone offering each accelerator
// type. A failed read keeps the last good one for availabilityMaxAge,
// then leaves stock unknown; it never fails the refresh.
func (c *Collector) availability(ctx context.Context) availability {
	if c.compute == nil {
		return nil
	}
	a, err := c.readZones(ctx)
	if err == nil {
		c.zones, c.zonesAt = a, time.Now()
		return a
	}
	if c.zones != nil && time.Since(c.zonesAt) < availabilityMaxAge {
		c.logger.Warn("reading accelerator availability failed; using the last read", "err", err,
			"reason", collectors.Reason(err), "last_read", c.zonesAt)
		return c.zones
	}
	c.logger.Warn("reading accelerator availability failed; stock left unknown", "err", err, "reason", collectors.Reason(err))
	return nil
}

// readZones walks the project's accelerator types in every zone. Types
// that are obsolete or deleted in a zone do not count as offered there.
// A list without any accelerator type is an error (collectors.ErrEmpty),
// so that it never makes every GPU unavailable.
func (c *Collector) readZones(ctx context.Context) (availability, error) {
	it := c.compute.AggregatedList(ctx, &computepb.AggregatedListAcceleratorTypesRequest{
		Project: c.project, MaxResults: proto.Uint32(zonePageSize),
	}, gax.WithRetry(func() gax.Retryer { return nil })) // the daemon's transport retries
	a := availability{}
	for {
		pair, err := it.Next()
		if errors.Is(err, iterator.Done) {
			if len(a) == 0 {
				// Every project sees accelerator types in some zone: an
				// empty list is a broken answer, not "offered nowhere".
				return nil, fmt.Errorf("gcp: list accelerator types: no zone lists any: %w", collectors.ErrEmpty)
			}
			return a, nil
		}
		if err != nil {
			return nil, apiError("list accelerator types", c.computeURL.JoinPath("compute/v1/projects", c.project, "aggregated/acceleratorTypes"), err)
		}
		zone := strings.TrimPrefix(pair.Key, "zones/")
		i := strings.LastIndexByte(zone, '-')
		if i <= 0 {
			continue // not a zone scope
		}
		region := strings.ToLower(zone[:i])
		for _, at := range pair.Value.GetAcceleratorTypes() {
			switch at.GetDeprecated().GetState() {
			case "OBSOLETE", "DELETED":
				continue
			}
			if a[at.GetName()] == nil {
				a[at.GetName()] = map[string]bool{}
			}
			a[at.GetName()][region] = true
		}
	}
}

// apiError turns an error of a Google client into the daemon's kinds, for
// gpuprice_collector_errors_total{reason}: an HTTP status into a
// *collectors.HTTPError (with Retry-After and Google's status and message),
// an undecodable or oversized answer into a *collectors.DecodeError. A
// url.Error loses its URL's query, which holds the API key.
func apiError(what string, u *url.URL, err error) error {
	var (
		ge *googleapi.Error
		ue *url.Error
	)
	switch {
	case errors.As(err, &ge):
		resp := &http.Response{
			StatusCode: ge.Code, Header: ge.Header, Body: io.NopCloser(strings.NewReader(ge.Body)),
			Request: &http.Request{Method: http.MethodGet, URL: u},
		}
		var he *collectors.HTTPError
		if errors.As(collectors.CheckResponse(resp), &he) {
			if msg := googleMessage(ge); msg != "" {
				he.Body = msg
			}
			return fmt.Errorf("gcp: %s: %w", what, he)
		}
	case errors.Is(err, collectors.ErrTooLarge), errors.Is(err, proto.Error):
		return fmt.Errorf("gcp: %s: %w", what, &collectors.DecodeError{What: u.String(), Err: err})
	case errors.As(err, &ue):
		redacted := ue.URL
		if p, perr := url.Parse(ue.URL); perr == nil {
			p.RawQuery, p.User = "", nil
			redacted = p.String()
		} else {
			redacted = u.String()
		}
		return fmt.Errorf("gcp: %s: %s %s: %w", what, ue.Op, redacted, ue.Err)
	}
	return fmt.Errorf("gcp: %s: %w", what, err)
}

// googleMessage renders Google's error as "STATUS: message", or "".
func googleMessage(ge *googleapi.Error) string {
	var body struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(ge.Body), &body)
	switch {
	case body.Error.Status != "" && ge.Message != "":
		return body.Error.Status + ": " + ge.Message
	case ge.Message != "":
		return ge.Message
	}
	return ""
}
