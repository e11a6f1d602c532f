package azure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

const (
	// skuMaxAge is how long a region's last good Resource SKUs are used
	// while reading them again fails; after it, that region's stock is
	// unknown.
	skuMaxAge = 24 * time.Hour
	// skuTimeout bounds one refresh of the Resource SKUs, so that a slow
	// Resource Manager never holds the prices back for long; it gets at
	// most half of what is left of the refresh's own timeout.
	skuTimeout = 2 * time.Minute
)

// Restriction reason codes that keep a subscription from deploying a size:
// NotAvailableForSubscription (capacity or policy) and QuotaId (the
// subscription's offer type does not allow it).
var blockingReasons = []armcompute.ResourceSKURestrictionsReasonCode{
	armcompute.ResourceSKURestrictionsReasonCodeNotAvailableForSubscription,
	armcompute.ResourceSKURestrictionsReasonCodeQuotaID,
}

// skuInfo is what Resource SKUs say of one VM size in one region.
type skuInfo struct {
	// gpus, vcpus and memoryGB are the capabilities GPUs, vCPUs and
	// MemoryGB; 0 when the SKU does not state them.
	gpus, vcpus, memoryGB float64
	// zones offer the size and do not restrict it for the subscription;
	// sorted, nil in a region without zones.
	zones []string
	// restricted: the subscription may not deploy the size in the region.
	restricted bool
}

// regionSKUs is one region's N-series sizes, by lower-cased name, as last
// read. A region whose answer listed no virtual machine at all has none:
// an empty answer says nothing, so its stock stays unknown.
type regionSKUs struct {
	sizes map[string]*skuInfo
	at    time.Time // when it was read
}

// skuSource reads Resource SKUs per region and keeps them between
// refreshes. Collect is never called concurrently, and the regions of one
// read each write their own entry under mu.
type skuSource struct {
	subscription string
	options      arm.ClientOptions
	// credential builds the token credential at the first read; tests
	// replace it with a static token.
	credential func() (azcore.TokenCredential, error)
	refresh    time.Duration
	logger     *slog.Logger
	maxPages   int
	now        func() time.Time

	client *armcompute.ResourceSKUsClient

	mu      sync.Mutex
	regions map[string]*regionSKUs // last good read per region
}

// newSKUSource returns nil when s configures no subscription: prices only.
func newSKUSource(s *Config, env collectors.Env) (*skuSource, error) {
	if s.SubscriptionID == "" {
		return nil, nil
	}
	cfg, err := cloudConfig(s.ARMEndpoint, s.AuthorityHost)
	if err != nil {
		return nil, err
	}
	opts := policy.ClientOptions{
		Cloud: cfg,
		// The daemon's client rate-limits and retries; the SDK's own
		// retries would multiply its attempts.
		Transport: env.HTTPClient,
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{Disabled: true},
	}
	src := &skuSource{
		subscription: s.SubscriptionID,
		options:      arm.ClientOptions{ClientOptions: opts},
		refresh:      time.Duration(s.SKURefresh),
		logger:       env.Logger,
		maxPages:     defaultMaxPages,
		now:          time.Now,
		regions:      map[string]*regionSKUs{},
	}
	tenant, clientID, secret := s.TenantID, s.ClientID, s.ClientSecret.Value()
	// Microsoft's authorities are validated by instance discovery at
	// login.microsoftonline.com; any other (a proxy, a fake) cannot be.
	noDiscovery := !knownAuthority(cfg.ActiveDirectoryAuthorityHost)
	src.credential = func() (azcore.TokenCredential, error) {
		co := azcore.ClientOptions{Cloud: cfg, Transport: env.HTTPClient, Telemetry: opts.Telemetry}
		if clientID != "" {
			return azidentity.NewClientSecretCredential(tenant, clientID, secret,
				&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDiscovery})
		}
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: co, TenantID: tenant,
			DisableInstanceDiscovery: noDiscovery})
	}
	return src, nil
}

// cloudConfig is the Azure cloud at armEndpoint and authorityHost: the
// public cloud's endpoints where they are empty, and the token audience
// of the known cloud whose Resource Manager armEndpoint is (the public
// cloud's for any other host, such as a proxy or a fake).
func cloudConfig(armEndpoint, authorityHost string) (cloud.Configuration, error) {
	cfg := cloud.AzurePublic
	if armEndpoint != "" {
		u, err := url.Parse(armEndpoint)
		if err != nil {
			return cfg, fmt.Errorf("azure arm_endpoint: %w", err)
		}
		for _, known := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureChina, cloud.AzureGovernment} {
			if k, err := url.Parse(known.Services[cloud.ResourceManager].Endpoint); err == nil && strings.EqualFold(k.Host, u.Host) {
				cfg = known
			}
		}
		audience := cfg.Services[cloud.ResourceManager].Audience
		cfg.Services = map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: strings.TrimRight(armEndpoint, "/"), Audience: audience},
		}
	}
	if authorityHost != "" {
		cfg.ActiveDirectoryAuthorityHost = strings.TrimRight(authorityHost, "/") + "/"
	}
	return cfg, nil
}

// knownAuthority reports whether host is the Microsoft Entra ID authority
// of a known Azure cloud.
func knownAuthority(host string) bool {
	for _, c := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureChina, cloud.AzureGovernment} {
		if strings.EqualFold(strings.TrimRight(c.ActiveDirectoryAuthorityHost, "/"), strings.TrimRight(host, "/")) {
			return true
		}
	}
	return false
}

// read refreshes the Resource SKUs of every region of regions not read
// within the refresh period (a failed read is tried again at the next
// call), concurrency at a time, and returns what is known of each region
// now. It never fails: a region that cannot be read keeps its last good
// SKUs for skuMaxAge, and is unknown after that; the failures are logged
// once per read.
func (s *skuSource) read(ctx context.Context, regions []string, concurrency int) map[string]*regionSKUs {
	now := s.now()
	var due []string
	s.mu.Lock()
	for _, r := range regions {
		if rs := s.regions[r]; rs == nil || now.Sub(rs.at) >= s.refresh {
			due = append(due, r)
		}
	}
	s.mu.Unlock()
	if len(due) > 0 {
		s.readRegions(ctx, due, concurrency, now)
	}

	out := map[string]*regionSKUs{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range regions {
		if rs := s.regions[r]; rs != nil && now.Sub(rs.at) < skuMaxAge {
			out[r] = rs
		}
	}
	return out
}

// readRegions reads due, keeping each region that answers.
func (s *skuSource) readRegions(ctx context.Context, due []string, concurrency int, now time.Time) {
	parent := ctx
	timeout := skuTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl)/2)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if s.client == nil {
		cred, err := s.credential()
		if err == nil {
			s.client, err = armcompute.NewResourceSKUsClient(s.subscription, cred, &s.options)
		}
		if err != nil {
			s.logger.Warn("Resource SKUs are off: no Azure credential; stock left unknown", "err", err)
			return
		}
	}
	var (
		failedMu sync.Mutex
		failed   []string
		firstErr error
	)
	g := errgroup.Group{}
	g.SetLimit(max(concurrency, 1))
	for _, region := range due {
		g.Go(func() error {
			sizes, err := s.readRegion(ctx, region)
			if err == nil {
				s.mu.Lock()
				s.regions[region] = &regionSKUs{sizes: sizes, at: now}
				s.mu.Unlock()
			} else {
				failedMu.Lock()
				failed = append(failed, region)
				if firstErr == nil {
					firstErr = err
				}
				failedMu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	switch {
	case len(failed) > 0 && parent.Err() != nil:
		// The refresh ended (its prices failed, or it was stopped): its
		// cancelled reads are no news.
		s.logger.Debug("Resource SKUs read cut short by the refresh's end", "regions", len(failed), "err", parent.Err())
	case len(failed) > 0:
		slices.Sort(failed)
		s.logger.Warn("reading Azure Resource SKUs failed; those regions keep their last read for up to 24h, then stock is unknown",
			"regions", strings.Join(failed, ","), "err", firstErr, "reason", collectors.Reason(firstErr))
	}
	s.logger.Debug("Resource SKUs read", "regions", len(due), "failed", len(failed), "duration_seconds", time.Since(start).Seconds())
}

// readRegion walks the Resource SKUs of one location and keeps its
// N-series virtual machine sizes. No size at all is not an error, but
// nil: nothing is known.
func (s *skuSource) readRegion(ctx context.Context, region string) (map[string]*skuInfo, error) {
	filter := "location eq '" + odataString(region) + "'"
	pager := s.client.NewListPager(&armcompute.ResourceSKUsClientListOptions{Filter: &filter})
	sizes := map[string]*skuInfo{}
	vms := 0
	for pages := 0; pager.More(); pages++ {
		if pages == s.maxPages {
			return nil, &collectors.DecodeError{What: "azure Resource SKUs pages",
				Err: fmt.Errorf("%w: nextLink still present after %d pages", errPagination, pages)}
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, armError(region, err)
		}
		for _, sku := range page.Value {
			if sku == nil || !strings.EqualFold(deref(sku.ResourceType), "virtualMachines") {
				continue
			}
			vms++
			name := strings.ToLower(deref(sku.Name))
			if !strings.HasPrefix(name, "standard_n") {
				continue // not a GPU family
			}
			if info := skuInfoOf(sku, region); info != nil {
				sizes[name] = info
			}
		}
	}
	if vms == 0 {
		return nil, nil
	}
	return sizes, nil
}

// skuInfoOf reads sku's capabilities and what it says of region; nil when
// it does not list region.
func skuInfoOf(sku *armcompute.ResourceSKU, region string) *skuInfo {
	listed := slices.ContainsFunc(sku.Locations, func(l *string) bool { return strings.EqualFold(deref(l), region) })
	info := &skuInfo{}
	offered := map[string]bool{}
	for _, li := range sku.LocationInfo {
		if li == nil || !strings.EqualFold(deref(li.Location), region) {
			continue
		}
		listed = true
		for _, z := range li.Zones {
			if z != nil && *z != "" {
				offered[*z] = true
			}
		}
	}
	if !listed {
		return nil
	}
	for _, c := range sku.Capabilities {
		if c == nil {
			continue
		}
		v, err := strconv.ParseFloat(deref(c.Value), 64)
		if err != nil || v < 0 {
			continue
		}
		switch deref(c.Name) {
		case "GPUs":
			info.gpus = v
		case "vCPUs":
			info.vcpus = v
		case "MemoryGB":
			info.memoryGB = v
		}
	}
	for _, r := range sku.Restrictions {
		if r == nil || r.ReasonCode == nil || !slices.Contains(blockingReasons, *r.ReasonCode) {
			continue
		}
		var locations []*string
		var zones []*string
		if r.RestrictionInfo != nil {
			locations, zones = r.RestrictionInfo.Locations, r.RestrictionInfo.Zones
		}
		if len(locations) == 0 {
			locations = r.Values
		}
		if !slices.ContainsFunc(locations, func(l *string) bool { return strings.EqualFold(deref(l), region) }) {
			continue
		}
		switch {
		case r.Type != nil && *r.Type == armcompute.ResourceSKURestrictionsTypeZone:
			for _, z := range zones {
				delete(offered, deref(z))
			}
		default: // Location
			info.restricted = true
		}
	}
	for z := range offered {
		info.zones = append(info.zones, z)
	}
	slices.Sort(info.zones)
	return info
}

// apply sets each quote's stock, zones, vCPUs and memory from the
// Resource SKUs of its region, and its GPU count where the SKU states one
// and the catalog has no fraction of a GPU for the size (partitions of a
// GPU, NVadsA10 v5, report a whole GPU). A region without SKUs leaves its
// quotes' stock unknown; a size its region's SKUs do not list is not
// offered there to this subscription (stock none), like a restricted one.
func apply(quotes []price.Quote, skus map[string]*regionSKUs, logger *slog.Logger) {
	for i := range quotes {
		q := &quotes[i]
		rs := skus[q.Region]
		if rs == nil || rs.sizes == nil {
			continue
		}
		info := rs.sizes[strings.ToLower(q.InstanceType)]
		if info == nil {
			q.Stock = price.StockNone
			continue
		}
		q.Stock = price.StockAvailable
		if info.restricted {
			q.Stock = price.StockNone
		}
		q.Zones = strings.Join(info.zones, ",")
		q.VCPUs, q.MemoryGB = info.vcpus, info.memoryGB
		// gpu_count is part of the series key: a count the catalog knows
		// stays, so that a series does not split when the SKUs cannot be
		// read; a disagreement is logged for the catalog to be fixed. Only
		// an unknown GPU, whose count is a guess of 1, takes the SKU's.
		switch {
		case !(info.gpus > 0) || info.gpus == q.GPUCount:
		case q.GPUModel == price.Unknown:
			q.GPUCount = info.gpus
		case q.GPUCount >= 1:
			logger.Debug("Resource SKUs count other GPUs than the catalog; the catalog's count is kept",
				"size", q.InstanceType, "catalog", q.GPUCount, "skus", info.gpus)
		}
	}
}

// armError turns an error of the Resource Manager client into the
// daemon's kinds, for the reason logged: a status into a
// *collectors.HTTPError with Resource Manager's error code.
func armError(region string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		he := &collectors.HTTPError{Method: http.MethodGet, StatusCode: re.StatusCode, Body: re.ErrorCode}
		if re.RawResponse != nil {
			if req := re.RawResponse.Request; req != nil {
				he.Method, he.URL = req.Method, collectors.Redact(req.URL)
			}
		}
		return fmt.Errorf("azure Resource SKUs in %s: %w", region, he)
	}
	return fmt.Errorf("azure Resource SKUs in %s: %w", region, err)
}

// deref is *p, or the zero value for nil: the SDK's models are all
// pointers.
func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}
