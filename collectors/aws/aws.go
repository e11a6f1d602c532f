// Package aws collects AWS GPU instance prices with aws-sdk-go-v2:
//
//   - GPU facts from EC2 DescribeInstanceTypes in each region (GPU model,
//     count, memory and manufacturer), mapped through the catalog's AWS
//     aliases, with a small table of fix-ups for AWS's known data bugs
//     (see fixups);
//   - spot prices per availability zone from EC2 DescribeSpotPriceHistory
//     (Linux/UNIX). With a store, the first refresh backfills
//     spot_backfill of history with the original timestamps and later
//     refreshes fetch only what is new since the last stored point; the
//     snapshot holds each zone's current price (zone label set);
//   - on-demand prices per region from the Price List Query API
//     (GetProducts), or from the public bulk offer files, which need no
//     credentials (on_demand_source: bulk).
//
// Regions are the configured ones, or every region enabled for the
// account (DescribeRegions) that offers GPU instance types. A region that
// is not enabled (AuthFailure, OptInRequired) or whose endpoint is dead is
// skipped with one log line rather than failing or stalling the refresh;
// any other failure fails the refresh, so that a transient error never
// withdraws a region's prices. The SDK clients get short connect
// timeouts, the provider's rate limit, and a retryer with more attempts
// for throttling (RequestLimitExceeded, ThrottlingException); the
// Runner's backoff sits above it.
package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/time/rate"

	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider's label value and config section.
const Name = "aws"

// pricingRegion is where the Price List Query API is served from; it has
// nothing to do with the regions priced.
const pricingRegion = "us-east-1"

// defaultMaxResponseBytes bounds one SDK response. A full page is a few
// hundred KB (1000 spot prices, 100 instance types) to about 1 MB (100
// price list products). The SDK decodes an answer whole (the Price List's into
// a generic JSON value, several times its size), up to Concurrency
// regions at once: a huge answer must be refused at a few times the
// largest real one.
const defaultMaxResponseBytes = 4 << 20

// maxAttempts is the SDK retryer's attempts per call: enough to ride out
// throttling during a backfill. probeAttempts is for the first call in a
// region, which also tells a dead endpoint: few, so that a dead region
// costs seconds, not minutes.
const (
	maxAttempts   = 8
	probeAttempts = 3
)

// errNoCredentials is returned (wrapped) when the SDK finds no
// credentials.
var errNoCredentials = errors.New("no AWS credentials: set providers.aws.access_key_id and secret_access_key " +
	"(or secret_access_key_file), or the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE " +
	"with ~/.aws/config), or run with an instance, task or web-identity role; " +
	"on_demand_source: bulk prices on-demand without credentials")

// Collector fetches AWS GPU prices. Between refreshes it keeps only the
// SDK configuration and which regions it already logged as skipped.
type Collector struct {
	cfg      *Config
	history  collectors.Backfiller
	catalog  *price.Catalog
	logger   *slog.Logger
	http     *countingClient // SDK requests: timeouts, rate limit, size limit
	bulkHTTP *http.Client    // offer files: rate limit, retries, no size limit
	backoff  retry.BackoffDelayer
	now      func() time.Time

	mu      sync.Mutex
	sdk     *aws.Config     // loaded on first use: loading may fail
	skipped map[string]bool // regions whose skip was logged
	served  map[string]bool // regions that returned GPU types in this process
	bulkOK  bool            // the credential-less mode was logged
}

// New builds the AWS collector from its section.
func New(s *Config, env collectors.Env) (*Collector, error) {
	return newCollector(s, env, nil), nil
}

// newCollector builds the collector; backoff, when set, replaces the SDK
// retryer's delays (tests).
func newCollector(s *Config, env collectors.Env, backoff retry.BackoffDelayer) *Collector {
	env = env.WithDefaults(s.RateLimit) // the SDK clients get their own HTTP client below
	c := &Collector{
		cfg:     s,
		history: env.Backfiller,
		catalog: env.Catalog,
		logger:  env.Logger,
		backoff: backoff,
		now:     time.Now,
		skipped: map[string]bool{},
		served:  map[string]bool{},
	}
	limit := rate.Inf
	if s.RateLimit > 0 {
		limit = rate.Limit(s.RateLimit)
	}
	limiter := rate.NewLimiter(limit, max(1, int(s.RateLimit)))
	base := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = 5 * time.Second
			t.ResponseHeaderTimeout = 30 * time.Second
			t.MaxIdleConnsPerHost = max(16, 2*s.Concurrency)
		})
	c.http = &countingClient{base: base, limiter: limiter, maxBody: defaultMaxResponseBytes}
	// The offer files are single multi-hundred-MB downloads: no size
	// limit, and the daemon's own retries (they are plain HTTPS).
	c.bulkHTTP = collectors.NewHTTPClient(collectors.HTTPOptions{RateLimit: s.RateLimit, MaxResponseBytes: 1 << 62})
	return c
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// countingClient is the SDK's HTTP client: it waits for the rate limit,
// counts requests, and bounds response bodies.
type countingClient struct {
	base     aws.HTTPClient // set before first use, then read-only
	limiter  *rate.Limiter
	maxBody  int64
	requests atomic.Int64
}

func (h *countingClient) Do(req *http.Request) (*http.Response, error) {
	if err := h.limiter.Wait(req.Context()); err != nil {
		return nil, err
	}
	h.requests.Add(1)
	if req.Body != nil && req.Body != http.NoBody {
		// The SDK may close its request stream as soon as the answer is in,
		// racing the transport's final read of the body; the transport
		// then drops the connection under the answer being read. Request
		// bodies here are small forms and JSON: hand the transport a copy
		// (the SDK keeps its own stream, to rewind it for a retry).
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := h.base.Do(req)
	if resp != nil {
		resp.Body = collectors.LimitBody(resp.Body, h.maxBody)
	}
	return resp, err
}

// sdkConfig returns the SDK configuration, loading it on first use. Loading
// reads the environment and the shared config files, which may be broken:
// that must fail a refresh, not the daemon's start.
func (c *Collector) sdkConfig(ctx context.Context) (*aws.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sdk != nil {
		return c.sdk, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{
		// The SDK needs its own client type here: it adds a custom CA
		// bundle (AWS_CA_BUNDLE) to it. The counting wrapper goes on after.
		awsconfig.WithHTTPClient(c.http.base),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = 20 * time.Second
				// The retry quota would fail a throttled backfill after
				// some 100 retries; the rate limit paces requests instead.
				o.RateLimiter = ratelimit.None
				if c.backoff != nil {
					o.Backoff = c.backoff
				}
			})
		}),
	}
	if c.cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.cfg.AccessKeyID, c.cfg.SecretAccessKey.Value(), "")))
	}
	// The SDK's own warnings (a response body not drained, a clock skew)
	// go to the provider's log, at debug level.
	opts = append(opts, awsconfig.WithLogger(logging.LoggerFunc(func(cl logging.Classification, format string, v ...any) {
		c.logger.Debug("aws sdk: "+fmt.Sprintf(format, v...), "classification", string(cl))
	})))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS SDK configuration: %w", err)
	}
	if cfg.Region == "" {
		// Only DescribeRegions uses it: every other client names its
		// region. A partition's users (GovCloud, China) set AWS_REGION.
		cfg.Region = pricingRegion
	}
	c.http.base = cfg.HTTPClient
	cfg.HTTPClient = c.http
	c.sdk = &cfg
	return c.sdk, nil
}

func (c *Collector) ec2Client(cfg *aws.Config, region string) *ec2.Client {
	return ec2.NewFromConfig(*cfg, func(o *ec2.Options) {
		o.Region = region
		if c.cfg.EC2Endpoint != "" {
			o.BaseEndpoint = aws.String(c.cfg.EC2Endpoint)
		}
	})
}

func (c *Collector) pricingClient(cfg *aws.Config) *pricing.Client {
	return pricing.NewFromConfig(*cfg, func(o *pricing.Options) {
		o.Region = pricingRegion
		if c.cfg.PricingEndpoint != "" {
			o.BaseEndpoint = aws.String(c.cfg.PricingEndpoint)
		}
	})
}

// regionResult is what one region contributed to a refresh.
type regionResult struct {
	region  string
	skipped bool
	types   map[string]gpuFacts // GPU instance types offered
	spot    []price.Quote       // current spot price per (type, zone)
	points  int                 // spot history points stored
	pages   int                 // spot history pages fetched
	bad     int                 // spot history items that could not be read
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	start := time.Now()
	reqs := c.http.requests.Load()
	cfg, err := c.sdkConfig(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if c.cfg.OnDemandSource == OnDemandBulk {
			return c.collectBulkOnly(ctx, err)
		}
		return nil, fmt.Errorf("%w (%v)", errNoCredentials, err)
	}

	regions, err := c.regions(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var last map[price.SeriesKey]time.Time
	if c.history != nil && c.cfg.SpotBackfill > 0 {
		if last, err = c.history.LastPoints(ctx); err != nil {
			return nil, fmt.Errorf("aws: read last stored points: %w", err)
		}
	}
	results, err := c.collectRegions(ctx, cfg, regions, last)
	if err != nil {
		return nil, err
	}

	snap := &price.Snapshot{Provider: Name}
	facts := map[string]gpuFacts{}
	offered := map[string][]string{} // instance type → regions
	var used, skipped []string
	points, pages, bad := 0, 0, 0
	for _, r := range results {
		if r.skipped {
			skipped = append(skipped, r.region)
			continue
		}
		used = append(used, r.region)
		snap.Quotes = append(snap.Quotes, r.spot...)
		points += r.points
		pages += r.pages
		bad += r.bad
		for name, f := range r.types {
			facts[name] = f
			offered[name] = append(offered[name], r.region)
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("aws: every region was skipped (%s): check the credentials and the regions", strings.Join(skipped, ", "))
	}
	if len(facts) == 0 {
		// Not one GPU type in any region: DescribeInstanceTypes is broken.
		return nil, fmt.Errorf("aws: no GPU instance types in %d regions: %w", len(used), collectors.ErrEmpty)
	}
	od, odBad, err := c.onDemand(ctx, cfg, facts, offered)
	if err != nil {
		return nil, err
	}
	snap.Skip(price.SkippedInvalid, bad+odBad)
	if len(od) == 0 {
		// Not one on-demand price for any GPU type: the source is broken,
		// and serving spot alone would withdraw every on-demand series.
		return nil, fmt.Errorf("aws: %s source priced none of %d GPU instance types: %w", c.cfg.OnDemandSource, len(facts), collectors.ErrEmpty)
	}
	snap.Quotes = append(snap.Quotes, od...)
	slices.SortFunc(snap.Quotes, func(a, b price.Quote) int { return price.CompareQuotes(&a, &b) })
	level := slog.LevelDebug
	if points >= 10000 || len(skipped) > 0 {
		level = slog.LevelInfo // a backfill, or regions left out
	}
	c.logger.Log(ctx, level, "aws refresh", "regions", len(used), "skipped_regions", len(skipped), "gpu_instance_types", len(facts),
		"spot_quotes", len(snap.Quotes)-len(od), "on_demand_quotes", len(od), "spot_history_pages", pages,
		"spot_points_backfilled", points, "requests", c.http.requests.Load()-reqs, "duration_seconds", time.Since(start).Seconds())
	return snap, nil
}

// regions returns the configured regions, or every region enabled for the
// account.
func (c *Collector) regions(ctx context.Context, cfg *aws.Config) ([]string, error) {
	if len(c.cfg.Regions) > 0 {
		return collectors.NormalizeRegions(c.cfg.Regions), nil
	}
	home := cfg.Region
	if home == "" {
		home = pricingRegion
	}
	out, err := c.ec2Client(cfg, home).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, apiError("DescribeRegions", home, err)
	}
	var regions []string
	for _, r := range out.Regions {
		if r.RegionName != nil && aws.ToString(r.OptInStatus) != "not-opted-in" {
			regions = append(regions, *r.RegionName)
		}
	}
	if len(regions) == 0 {
		return nil, fmt.Errorf("aws: DescribeRegions listed no enabled region: %w", collectors.ErrEmpty)
	}
	sort.Strings(regions)
	return regions, nil
}

// collectRegions runs collectRegion for every region, Concurrency at a
// time. The first failure cancels the others and fails the refresh.
func (c *Collector) collectRegions(ctx context.Context, cfg *aws.Config, regions []string, last map[price.SeriesKey]time.Time) ([]regionResult, error) {
	var progress *collectors.Progress
	if c.history != nil && c.cfg.SpotBackfill > 0 && !hasSpot(last) {
		progress = collectors.NewProgress(c.logger, "backfill aws spot history", "regions", int64(len(regions)))
	}
	results := make([]regionResult, len(regions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.cfg.Concurrency, 1))
	for i, region := range regions {
		g.Go(func() error {
			return collectors.Safely(func() error {
				r, err := c.collectRegion(gctx, cfg, region, last)
				if err != nil {
					return err
				}
				results[i] = r
				if progress != nil {
					progress.Add(1)
				}
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if progress != nil {
		progress.Finish()
	}
	return results, nil
}

func hasSpot(last map[price.SeriesKey]time.Time) bool {
	for k := range last {
		if k.PricingModel == price.Spot {
			return true
		}
	}
	return false
}

// collectRegion fetches one region's GPU instance types and spot prices.
func (c *Collector) collectRegion(ctx context.Context, cfg *aws.Config, region string, last map[price.SeriesKey]time.Time) (regionResult, error) {
	res := regionResult{region: region}
	client := c.ec2Client(cfg, region)
	types, err := c.instanceTypes(ctx, client, region)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if why, ok := unusable(err); ok {
			if why == whyUnreachable && c.hadPrices(region, last) {
				// A region that served prices is down for now, not dead:
				// fail the refresh, so that its prices are kept until
				// stale rather than withdrawn by a snapshot without it.
				return res, err
			}
			c.logSkip(region, why, err)
			res.skipped = true
			return res, nil
		}
		return res, err
	}
	c.mu.Lock()
	delete(c.skipped, region) // log again should it fail again
	if len(types) > 0 {
		c.served[region] = true
	}
	c.mu.Unlock()
	res.types = types
	if len(types) == 0 {
		c.logger.Debug("no GPU instance types in region", "region", region)
		return res, nil
	}
	if err := c.spot(ctx, client, region, types, last, &res); err != nil {
		return res, err
	}
	return res, nil
}

// hadPrices reports whether region served prices before: in this process,
// or in the store's history.
func (c *Collector) hadPrices(region string, last map[price.SeriesKey]time.Time) bool {
	c.mu.Lock()
	served := c.served[region]
	c.mu.Unlock()
	if served {
		return true
	}
	for k := range last {
		if k.Region == region {
			return true
		}
	}
	return false
}

// logSkip logs a skipped region once, until it works again.
func (c *Collector) logSkip(region, why string, err error) {
	c.mu.Lock()
	logged := c.skipped[region]
	c.skipped[region] = true
	c.mu.Unlock()
	if logged {
		c.logger.Debug("skipping region", "region", region, "reason", why)
		return
	}
	c.logger.Warn("skipping region", "region", region, "reason", why, "err", err)
}

const whyUnreachable = "endpoint unreachable"

// unusable reports whether err (from the first call in a region) means the
// region cannot be used at all: not enabled for the account, or an
// endpoint that cannot be reached (which collectRegion only believes of a
// region that never served prices).
func unusable(err error) (string, bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AuthFailure", "OptInRequired":
			// Also what bad credentials get: with every region skipped,
			// the refresh fails saying to check them.
			return "region not enabled for the account (" + ae.ErrorCode() + ")", true
		}
		return "", false
	}
	var send *smithyhttp.RequestSendError
	var dns *net.DNSError
	if errors.As(err, &send) || errors.As(err, &dns) {
		return whyUnreachable, true
	}
	return "", false
}

// sdkError is an SDK failure that also reads as a collectors.HTTPError
// (or DecodeError), so that the Runner classifies it.
type sdkError struct {
	msg  string
	errs []error
}

func (e *sdkError) Error() string   { return e.msg }
func (e *sdkError) Unwrap() []error { return e.errs }

// apiError wraps an SDK error of op in region with what the Runner needs:
// the HTTP status of the last attempt, or a decode failure.
func apiError(op, region string, err error) error {
	where := op
	if region != "" {
		where += " in " + region
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("aws %s: %w", where, err)
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) || errors.Is(err, collectors.ErrTooLarge) {
		return &collectors.DecodeError{What: "aws " + where, Err: err}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.HTTPStatusCode() > 0 {
		he := &collectors.HTTPError{Method: http.MethodPost, StatusCode: re.HTTPStatusCode()}
		if re.Response.Request != nil && re.Response.Request.URL != nil {
			u := *re.Response.Request.URL
			u.RawQuery = ""
			he.URL = u.String()
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			he.Body = ae.ErrorCode() + ": " + ae.ErrorMessage()
		}
		return &sdkError{msg: fmt.Sprintf("aws %s: %v", where, err), errs: []error{err, he}}
	}
	return fmt.Errorf("aws %s: %w", where, err)
}
