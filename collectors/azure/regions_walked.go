package azure

// WalksRegions implements collectors.RegionWalker: every region is one
// filtered walk of its own, and one of them may come back empty while the
// others answer, so the Runner guards each region's quote count.
func (c *Collector) WalksRegions() bool { return true }
