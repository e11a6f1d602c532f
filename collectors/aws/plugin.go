package aws

import (
	"regexp"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// MaxSpotBackfill is how far back EC2 keeps spot price history.
const MaxSpotBackfill = 90 * 24 * time.Hour

// The on-demand price sources (on_demand_source).
const (
	// OnDemandPriceList is the Price List Query API (GetProducts, SigV4).
	OnDemandPriceList = "pricelist"
	// OnDemandBulk is the public bulk offer files: no credentials.
	OnDemandBulk = "bulk"
)

// Config is the providers.aws section: spot prices per availability zone
// from EC2 DescribeSpotPriceHistory (with a history backfill), on-demand
// prices from the Price List API or the public offer files, and GPU facts
// from EC2 DescribeInstanceTypes.
//
// Endpoint (the common key) is the base URL of the public bulk offer files
// of EC2, used when OnDemandSource is "bulk": the collector fetches
// <endpoint>/<region>/index.csv.
type Config struct {
	config.Common `yaml:",inline"`
	// Regions to price; empty means every region enabled for the account
	// (EC2 DescribeRegions) that offers GPU instance types.
	Regions []string `yaml:"regions"`
	// SpotBackfill is how much spot price history the first refresh
	// stores (at most 90d, what EC2 keeps); later refreshes fetch only
	// what is new. 0 stores current prices only.
	SpotBackfill config.Duration `yaml:"spot_backfill"`
	// EC2Endpoint and PricingEndpoint override the SDK's endpoints (tests,
	// proxies, VPC endpoints). The EC2 endpoint serves every region: the
	// region travels in the request signature.
	EC2Endpoint     string `yaml:"ec2_endpoint"`
	PricingEndpoint string `yaml:"pricing_endpoint"`
	// OnDemandSource is "pricelist" (default) or "bulk".
	OnDemandSource string `yaml:"on_demand_source"`
	// Concurrency is how many regions are fetched at once.
	Concurrency int `yaml:"concurrency"`
	// AccessKeyID and SecretAccessKey are static credentials; when empty,
	// the SDK's default chain is used (environment, shared config and
	// credentials files, SSO, web identity, container and instance roles).
	AccessKeyID         string        `yaml:"access_key_id"`
	SecretAccessKey     config.Secret `yaml:"secret_access_key"`
	SecretAccessKeyFile string        `yaml:"secret_access_key_file"`
}

func defaults() *Config {
	return &Config{
		Common: config.Common{
			Interval: config.Duration(10 * time.Minute),
			// The first refresh backfills 90 days of spot history: about
			// a thousand requests for every GPU type of 20 regions.
			Timeout:   config.Duration(15 * time.Minute),
			RateLimit: 20,
			Endpoint:  "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current",
		},
		SpotBackfill:   config.Duration(MaxSpotBackfill),
		OnDemandSource: OnDemandPriceList,
		Concurrency:    8,
	}
}

// regionName matches region names such as us-east-1, ap-southeast-4,
// us-gov-west-1 and eu-isoe-west-1.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if err := config.CheckEach("regions", c.Regions, regionName.MatchString, "an AWS region name"); err != nil {
		return err
	}
	if c.SpotBackfill < 0 || time.Duration(c.SpotBackfill) > MaxSpotBackfill {
		return config.Errorf("spot_backfill", "%s is not between 0 and 90d (EC2 keeps 90 days of spot price history)", c.SpotBackfill)
	}
	if err := config.CheckURL("ec2_endpoint", c.EC2Endpoint); err != nil {
		return err
	}
	if err := config.CheckURL("pricing_endpoint", c.PricingEndpoint); err != nil {
		return err
	}
	switch c.OnDemandSource {
	case OnDemandPriceList, OnDemandBulk:
	default:
		return config.Errorf("on_demand_source", "%q is not pricelist or bulk", c.OnDemandSource)
	}
	if c.Concurrency < 1 {
		return config.Errorf("concurrency", "must be at least 1")
	}
	// The secret's file is read only for an enabled provider: a disabled
	// one's secret_access_key_file counts as given.
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "" && c.SecretAccessKeyFile == "") {
		return config.Errorf("access_key_id", "access_key_id and secret_access_key (or secret_access_key_file) go together")
	}
	return nil
}

// SecretFiles implements config.SecretFiler.
func (c *Config) SecretFiles() []config.SecretFile {
	return []config.SecretFile{{Secret: &c.SecretAccessKey, File: c.SecretAccessKeyFile, Key: "secret_access_key", FileKey: "secret_access_key_file"}}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves EC2, the Price List API and the offer files,
		// spot prices changing every two hours.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewAWS, fakecloud.AWSOptions{ChangesPerDay: 12}), Point: pointAtFake}})
}

// pointAtFake: the fake takes any static key. Two regions, a first
// refresh backfilling half a day of spot prices, and on-demand prices from
// the offer files (two downloads, where the Price List takes one call per
// instance type): the first refresh takes well under a second and leaves
// some history to show.
func pointAtFake(c *Config, baseURL string) {
	c.EC2Endpoint, c.PricingEndpoint, c.Endpoint = baseURL, baseURL, baseURL+fakecloud.AWSOfferPath
	c.AccessKeyID, c.SecretAccessKey = "AKIDDEMO", "demo-secret"
	c.Regions = []string{"us-east-1", "eu-west-1"}
	c.SpotBackfill = config.Duration(12 * time.Hour)
	c.OnDemandSource = OnDemandBulk
}
