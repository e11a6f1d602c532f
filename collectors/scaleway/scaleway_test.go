package scaleway

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

func TestContract(t *testing.T) {
	collectortest.Run(t, collectortest.Case[*Config, *Collector]{
		FX: collectortest.EURRate,
		APIs: []collectortest.API[*Config]{{Want: map[collectortest.Row]collectortest.Want{
			collectortest.Status5xx:       {InErr: []string{"unknown_error"}},
			collectortest.TooManyRequests: {InErr: []string{"unknown_error"}},
			collectortest.WrongTypes:      {Shapes: []string{"cannot unmarshal string"}},
			// An empty zone is no error (most zones sell no GPU): the
			// refresh is empty once every zone is.
			collectortest.Empty: {Requests: len(AllZones)},
		}}},
	})
}

// zone builds the collector of the fake's zone z.
func zone(t *testing.T, z string) *Collector {
	t.Helper()
	endpoint := collectortest.Serve(t, fakecloud.NewScaleway(fakecloud.ScalewayOptions{}))
	return collectortest.New(t, New, defaults, endpoint, collectors.Env{FX: collectortest.EURRate}, func(c *Config) { c.Zones = []string{z} })
}

// TestFX: the EUR price is kept beside its USD conversion, and without a
// rate young enough nothing is published.
func TestFX(t *testing.T) {
	c := zone(t, "fr-par-2")
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var h100 *price.Quote
	for i := range snap.Quotes {
		if snap.Quotes[i].InstanceType == "H100-SXM-8-80G" {
			h100 = &snap.Quotes[i]
		}
	}
	if h100 == nil || h100.Currency != "EUR" || h100.CurrencyPerHour != 23.028 || h100.USDPerHour != 23.028*1.08 ||
		h100.GPUModel != "H100" || h100.GPUForm != "sxm" || h100.GPUCount != 8 || h100.Geo != "eu" {
		t.Errorf("H100-SXM-8-80G: %+v", h100)
	}
	if len(snap.Quotes) != 5 {
		t.Errorf("%d quotes in fr-par-2, want 5 (the CPU type and the B300 at 0 skipped)", len(snap.Quotes))
	}
	collectortest.StaleRateFails(t, c, &c.FX)
}

// TestUnknownZone names the zone Scaleway does not know.
func TestUnknownZone(t *testing.T) {
	_, err := zone(t, "fr-par-9").Collect(context.Background())
	var he *collectors.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Errorf("%v, want a 404 naming the zone", err)
	}
}
