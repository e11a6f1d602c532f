package azure

import (
	"context"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// azureRow is a westus3 pay-as-you-go row of size with the given
// retailPrice JSON ("" leaves the field out).
func azureRow(size, retailPrice string) string {
	p := ""
	if retailPrice != "" {
		p = `"retailPrice": ` + retailPrice + `, `
	}
	return `{"currencyCode": "USD", ` + p + `"armRegionName": "westus3", "effectiveStartDate": "2024-01-01T00:00:00Z",
	  "meterName": "x", "productName": "Virtual Machines NC Series", "skuName": "x", "serviceName": "Virtual Machines",
	  "unitOfMeasure": "1 Hour", "type": "Consumption", "armSkuName": ` + size + `}`
}

// TestBadRowsAreSkippedAndCounted: rows with a null, missing or
// wrong-typed price, or a missing or wrong-typed size, are skipped and
// counted; the rest of the page is priced. A page none of whose rows can
// be read is a decode failure.
func TestBadRowsAreSkippedAndCounted(t *testing.T) {
	good := azureRow(`"Standard_NC24ads_A100_v4"`, "3.673")
	bad := []string{
		azureRow(`"Standard_NC48ads_A100_v4"`, `"7.346"`),
		azureRow(`"Standard_NC96ads_A100_v4"`, "null"),
		azureRow(`"Standard_NC40ads_H100_v5"`, ""),
		azureRow(`null`, "6.98"),
		azureRow(`42`, "6.98"),
		`"Standard_NC80adis_H100_v5"`,
	}
	serve := func(body string) string { return collectortest.Serve(t, fakecloud.Answer(body)) }
	body := `{"BillingCurrency": "USD", "Items": [` + good + `, ` + strings.Join(bad, ", ") + `], "NextPageLink": null}`
	snap, err := newCollector(t, serve(body), []string{"westus3"}, nil).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != 1 || snap.Quotes[0].InstanceType != "Standard_NC24ads_A100_v4" || snap.Quotes[0].USDPerHour != 3.673 {
		t.Errorf("quotes %+v, want the good row's only", snap.Quotes)
	}
	if got := snap.Skipped[price.SkippedInvalid]; got != len(bad) {
		t.Errorf("skipped %v, want %s: %d", snap.Skipped, price.SkippedInvalid, len(bad))
	}

	t.Run("no row readable", func(t *testing.T) {
		body := `{"Items": [` + strings.Join([]string{bad[0], bad[4], bad[5]}, ", ") + `], "NextPageLink": null}`
		_, err := newCollector(t, serve(body), []string{"westus3"}, nil).Collect(context.Background())
		if got := collectors.Reason(err); got != "decode" || !strings.Contains(err.Error(), "none of 3 rows could be read") {
			t.Errorf("reason %q (err %v), want decode: none of 3 rows could be read", got, err)
		}
	})
}
