package akash

import (
	"testing"

	"github.com/gpuprice/gpuprice/collectors/collectortest"
)

// TestContract runs the collector contract suite against the fake, whose
// recorded answer holds a model without bids (price null) and one whose
// statistics are all 0: both are skipped, never priced at 0.
func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{{Unpaged: true, Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"Service Unavailable"}},
			collectortest.TooManyRequests: {InErr: []string{"Too Many Requests"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
		}}},
	})
}
