package azure

// pagesPerRegion is what one region's walk typically costs: its N-series
// rows fill one to three pages of 1000.
const pagesPerRegion = 2

// EstimatedRequests implements collectors.WalkEstimator: one walk per
// region.
func (c *Collector) EstimatedRequests() int {
	return len(c.regions) * pagesPerRegion
}
