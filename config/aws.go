package config

import (
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// AWSMaxSpotBackfill is how far back EC2 keeps spot price history.
const AWSMaxSpotBackfill = 90 * 24 * time.Hour

// The on-demand price sources of the AWS collector.
const (
	// AWSOnDemandPriceList is the Price List Query API (GetProducts, SigV4).
	AWSOnDemandPriceList = "pricelist"
	// AWSOnDemandBulk is the public bulk offer files: no credentials.
	AWSOnDemandBulk = "bulk"
)

// AWS configures the AWS collector: spot prices per availability zone from
// EC2 DescribeSpotPriceHistory (with a history backfill), on-demand prices
// from the Price List API or the public offer files, and GPU facts from EC2
// DescribeInstanceTypes.
//
// Endpoint (the common key) is the base URL of the public bulk offer files
// of EC2, used when OnDemandSource is "bulk": the collector fetches
// <endpoint>/<region>/index.csv.
type AWS struct {
	Common `yaml:",inline"`
	// Regions to price; empty means every region enabled for the account
	// (EC2 DescribeRegions) that offers GPU instance types.
	Regions []string `yaml:"regions"`
	// SpotBackfill is how much spot price history the first refresh
	// stores (at most 90d, what EC2 keeps); later refreshes fetch only
	// what is new. 0 stores current prices only.
	SpotBackfill Duration `yaml:"spot_backfill"`
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
	AccessKeyID         string `yaml:"access_key_id"`
	SecretAccessKey     Secret `yaml:"secret_access_key"`
	SecretAccessKeyFile string `yaml:"secret_access_key_file"`
}

func defaultAWS() AWS {
	return AWS{
		Common: Common{
			Interval: Duration(10 * time.Minute),
			// The first refresh backfills 90 days of spot history: about
			// a thousand requests for every GPU type of 20 regions.
			Timeout:   Duration(15 * time.Minute),
			RateLimit: 20,
			Endpoint:  "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current",
		},
		SpotBackfill:   Duration(AWSMaxSpotBackfill),
		OnDemandSource: AWSOnDemandPriceList,
		Concurrency:    8,
	}
}

// awsRegion matches region names such as us-east-1, ap-southeast-4,
// us-gov-west-1 and eu-isoe-west-1.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

func (a *AWS) validate(key string) error {
	for i, r := range a.Regions {
		if !awsRegion.MatchString(r) {
			return keyErrorf(fmt.Sprintf("%s.regions[%d]", key, i), "%q is not an AWS region name", r)
		}
	}
	if a.SpotBackfill < 0 || time.Duration(a.SpotBackfill) > AWSMaxSpotBackfill {
		return keyErrorf(key+".spot_backfill", "%s is not between 0 and 90d (EC2 keeps 90 days of spot price history)", a.SpotBackfill)
	}
	for _, e := range []struct{ name, value string }{{"ec2_endpoint", a.EC2Endpoint}, {"pricing_endpoint", a.PricingEndpoint}} {
		if e.value == "" {
			continue
		}
		if u, err := url.Parse(e.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return keyErrorf(key+"."+e.name, "%q is not an http(s) URL", e.value)
		}
	}
	switch a.OnDemandSource {
	case AWSOnDemandPriceList, AWSOnDemandBulk:
	default:
		return keyErrorf(key+".on_demand_source", "%q is not pricelist or bulk", a.OnDemandSource)
	}
	if a.Concurrency < 1 {
		return keyErrorf(key+".concurrency", "must be at least 1")
	}
	if (a.AccessKeyID == "") != (a.SecretAccessKey == "") {
		return keyErrorf(key+".access_key_id", "access_key_id and secret_access_key (or secret_access_key_file) go together")
	}
	return nil
}

func (a *AWS) secretFiles() []secretFile {
	return []secretFile{{value: &a.SecretAccessKey, file: a.SecretAccessKeyFile, key: "secret_access_key", fileKey: "secret_access_key_file"}}
}
