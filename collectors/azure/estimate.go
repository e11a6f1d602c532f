package azure

// pagesPerRegion is what one region's walk typically costs: its N-series
// rows fill one to three pages of 1000.
const pagesPerRegion = 2

// skuPagesPerRegion is what one region's Resource SKUs typically cost.
const skuPagesPerRegion = 1

// EstimatedRequests implements collectors.WalkEstimator: one walk per
// region, and with a subscription one list of Resource SKUs per region
// (the refreshes that read them again).
func (c *Collector) EstimatedRequests() int {
	n := len(c.regions) * pagesPerRegion
	if c.skus != nil {
		n += len(c.regions) * skuPagesPerRegion
	}
	return n
}
