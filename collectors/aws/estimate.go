package aws

// The figures of a typical refresh, from the recorded walks (README, AWS
// details): about 60 GPU instance types in 20 regions, one page of
// DescribeInstanceTypes per region, and some 45 pages of spot history per
// region for 90 days of backfill.
const (
	// defaultRegions is how many regions an account has enabled when none
	// are configured: those enabled by default (opt-in regions are not).
	defaultRegions      = 17
	typePagesPerRegion  = 1
	spotPagesPerRegion  = 1 // current prices, or what is new since the last walk
	backfillPagesPer90d = 45
	gpuInstanceTypes    = 60 // one Price List walk each
)

// EstimatedRequests implements collectors.WalkEstimator. It estimates the
// largest refresh, the first one with a store: it backfills spot_backfill
// of history in every region.
func (c *Collector) EstimatedRequests() int {
	regions := len(c.cfg.Regions)
	discovery := 0
	if regions == 0 {
		regions, discovery = defaultRegions, 1 // DescribeRegions
	}
	spotPages := spotPagesPerRegion
	if c.history != nil && c.cfg.SpotBackfill > 0 {
		share := float64(c.cfg.SpotBackfill) / float64(MaxSpotBackfill)
		spotPages = max(spotPagesPerRegion, int(share*backfillPagesPer90d+0.5))
	}
	onDemand := gpuInstanceTypes
	if c.cfg.OnDemandSource == OnDemandBulk {
		onDemand = regions // one offer file per region
	}
	return discovery + regions*(typePagesPerRegion+spotPages) + onDemand
}
