package azure

import (
	"regexp"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.azure section.
type Config struct {
	config.Common `yaml:",inline"`
	// Regions to price (armRegionName values); empty means the built-in
	// list of every public Azure region. Each region is walked on its own,
	// which keeps every walk short and consistent.
	Regions []string `yaml:"regions"`
	// Concurrency is how many regions are fetched at once.
	Concurrency int `yaml:"concurrency"`

	// SubscriptionID turns on Resource SKUs (Azure Resource Manager): the
	// GPU count, vCPUs and memory of each size, the zones offering it and
	// whether this subscription may deploy it, per region. Empty: prices
	// only, without credentials.
	SubscriptionID string `yaml:"subscription_id"`
	// TenantID, ClientID and ClientSecret (or ClientSecretFile) are a
	// service principal's credentials for Resource SKUs. Without
	// ClientID, azidentity's default chain is used (AZURE_* environment,
	// workload identity, managed identity, Azure CLI), in TenantID if set.
	TenantID         string        `yaml:"tenant_id"`
	ClientID         string        `yaml:"client_id"`
	ClientSecret     config.Secret `yaml:"client_secret"`
	ClientSecretFile string        `yaml:"client_secret_file"`
	// ARMEndpoint is Azure Resource Manager's base URL and AuthorityHost
	// Microsoft Entra ID's (empty: the public cloud's); both https.
	ARMEndpoint   string `yaml:"arm_endpoint"`
	AuthorityHost string `yaml:"authority_host"`
	// SKURefresh is how often Resource SKUs are read again: they change
	// far less often than prices.
	SKURefresh config.Duration `yaml:"sku_refresh"`
}

func defaults() *Config {
	return &Config{
		Common:      config.Common{Enabled: true, Interval: config.Duration(time.Hour), RateLimit: 5, Endpoint: "https://prices.azure.com/api/retail/prices"},
		Concurrency: 4,
		SKURefresh:  config.Duration(6 * time.Hour),
	}
}

// guid is a subscription or tenant ID.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if c.Concurrency < 1 {
		return config.Errorf("concurrency", "must be at least 1")
	}
	if c.SubscriptionID != "" && !guid.MatchString(c.SubscriptionID) {
		return config.Errorf("subscription_id", "%q is not an Azure subscription ID (a GUID)", c.SubscriptionID)
	}
	if c.TenantID != "" && !guid.MatchString(c.TenantID) && !strings.Contains(c.TenantID, ".") {
		return config.Errorf("tenant_id", "%q is not an Azure tenant ID (a GUID or a domain name)", c.TenantID)
	}
	hasSecret := c.ClientSecret != "" || c.ClientSecretFile != ""
	switch {
	case c.ClientID != "" && (!hasSecret || c.TenantID == ""):
		return config.Errorf("client_id", "client_id, client_secret (or client_secret_file) and tenant_id go together")
	case c.ClientID == "" && hasSecret:
		return config.Errorf("client_secret", "client_secret needs client_id and tenant_id")
	case c.SubscriptionID == "" && (c.ClientID != "" || c.TenantID != ""):
		return config.Errorf("subscription_id", "required with tenant_id and client_id: Resource SKUs are read per subscription")
	}
	for _, k := range []struct{ key, url string }{{"arm_endpoint", c.ARMEndpoint}, {"authority_host", c.AuthorityHost}} {
		if err := config.CheckURL(k.key, k.url); err != nil {
			return err
		}
		if k.url != "" && !strings.HasPrefix(strings.ToLower(k.url), "https://") {
			return config.Errorf(k.key, "%q is not an https URL: the Azure SDK sends credentials over TLS only", k.url)
		}
	}
	if time.Duration(c.SKURefresh) < config.MinInterval {
		return config.Errorf("sku_refresh", "%s is shorter than %s", c.SKURefresh, config.MinInterval)
	}
	return config.CheckEach("regions", c.Regions, func(r string) bool { return r != "" && !strings.ContainsAny(r, " '") },
		"an Azure region name")
}

// SecretFiles implements config.SecretFiler.
func (c *Config) SecretFiles() []config.SecretFile {
	return []config.SecretFile{{Secret: &c.ClientSecret, File: c.ClientSecretFile, Key: "client_secret", FileKey: "client_secret_file"}}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the Retail Prices API.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewAzure, fakecloud.AzureOptions{}), Path: fakecloud.AzurePath},
		// A page of 1000 rows is about 1 MB, and is streamed.
		MaxResponseBytes: 32 << 20})
}
