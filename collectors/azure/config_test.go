package azure

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigErrors(t *testing.T) {
	configtest.FileErrors(t, map[string]string{
		"bad-region.yml":       `testdata/config/bad-region.yml:5: providers.azure.regions[1]: "west europe" is not an Azure region name`,
		"bad-subscription.yml": `testdata/config/bad-subscription.yml:3: providers.azure.subscription_id: "my-subscription" is not an Azure subscription ID (a GUID)`,
		"bad-client.yml":       `testdata/config/bad-client.yml:4: providers.azure.client_id: client_id, client_secret (or client_secret_file) and tenant_id go together`,
		"bad-arm-endpoint.yml": `testdata/config/bad-arm-endpoint.yml:4: providers.azure.arm_endpoint: "http://127.0.0.1:8080" is not an https URL: the Azure SDK sends credentials over TLS only`,
		"bad-sku-refresh.yml":  `testdata/config/bad-sku-refresh.yml:4: providers.azure.sku_refresh: 1s is shorter than 5s`,
	})
}

// TestConfigSKUs loads a service principal's settings: the secret from
// its file, kept among the configuration's secrets (scrubbed from every
// log line and error).
func TestConfigSKUs(t *testing.T) {
	cfg := configtest.Load(t, "azure-skus.yml")
	az := cfg.Providers[Name].(*Config)
	const secret = "Q8s~fakeClientSecretValue.for-tests_only"
	configtest.Check(t, configtest.Fields{
		"regions":                       {strings.Join(az.Regions, ","), "westus3,swedencentral"},
		"subscription_id":               {az.SubscriptionID, "6f0c1a52-3d8e-4b7a-9c15-2e4d8f7a9b30"},
		"tenant_id":                     {az.TenantID, "72f988bf-86f1-41af-91ab-2d7cd011db47"},
		"client_id":                     {az.ClientID, "0b9a5c1e-7d2f-4e8a-b3c6-5f1d2e9a8c74"},
		"client_secret (from its file)": {az.ClientSecret.Value(), secret},
		"arm_endpoint":                  {az.ARMEndpoint, "https://management.usgovcloudapi.net"},
		"sku_refresh":                   {time.Duration(az.SKURefresh), 12 * time.Hour},
		"secrets":                       {slices.Contains(cfg.Secrets(), secret), true},
		"section secrets":               {slices.Equal(config.SecretsOf(az), []string{secret}), true},
	})
	// The US Government cloud's Resource Manager gets its own audience.
	cc, err := cloudConfig(az.ARMEndpoint, az.AuthorityHost)
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Services["resourceManager"].Audience; got != "https://management.core.usgovcloudapi.net/" {
		t.Errorf("audience %q", got)
	}
	if cc.ActiveDirectoryAuthorityHost != "https://login.microsoftonline.us/" {
		t.Errorf("authority host %q", cc.ActiveDirectoryAuthorityHost)
	}
}

// A disabled provider's secret file is not read, and the credentials
// still form a complete set; the defaults need none.
func TestConfigDisabledSecretFile(t *testing.T) {
	configtest.Load(t, "disabled-secret-file.yml")
	d := defaults()
	if d.SubscriptionID != "" || time.Duration(d.SKURefresh) != 6*time.Hour {
		t.Errorf("defaults: subscription %q, sku_refresh %s", d.SubscriptionID, d.SKURefresh)
	}
}
