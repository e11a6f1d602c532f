package oci

import (
	"testing"

	"github.com/gpuprice/gpuprice/collectors/collectortest"
)

// TestContract runs the collector contract suite against the fake's two
// files. The recorded files hold a hidden shape, a retired one, a
// flexible CPU shape, a shape billed by a part without a price, and the
// A100-v2's per-GPU gpuMemoryQty: none of them may become a wrong quote.
func TestContract(t *testing.T) {
	want := map[collectortest.Row]collectortest.Want{
		collectortest.WrongTypes: {Shapes: []string{"cannot unmarshal string"}},
	}
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		APIs: []collectortest.API[*Config]{
			{Name: "shapes", Unpaged: true, Want: want},
			{Name: "products", Unpaged: true, Want: want},
		},
	})
}
