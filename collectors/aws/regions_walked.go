package aws

// WalksRegions implements collectors.RegionWalker: spot prices are one
// walk per region, and one of them may come back empty while the others
// answer, so the Runner guards each region's quote count.
func (c *Collector) WalksRegions() bool { return true }
