package aws

import (
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigLoad(t *testing.T) {
	aws := configtest.Load(t, "aws.yml").Providers[Name].(*Config)
	configtest.Check(t, configtest.Fields{
		"regions":                           {strings.Join(aws.Regions, ","), "us-east-1,eu-west-1,ap-southeast-4"},
		"spot_backfill":                     {time.Duration(aws.SpotBackfill), 30 * 24 * time.Hour},
		"timeout":                           {time.Duration(aws.Timeout), 20 * time.Minute},
		"ec2_endpoint":                      {aws.EC2Endpoint, "http://127.0.0.1:4566"},
		"on_demand_source":                  {aws.OnDemandSource, "bulk"},
		"concurrency":                       {aws.Concurrency, 4},
		"secret_access_key (from its file)": {aws.SecretAccessKey.Value(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	})
}

func TestConfigErrors(t *testing.T) {
	configtest.FileErrors(t, map[string]string{
		"bad-aws-region.yml":      `testdata/config/bad-aws-region.yml:5: providers.aws.regions[1]: "US East" is not an AWS region name`,
		"bad-aws-backfill.yml":    `testdata/config/bad-aws-backfill.yml:4: providers.aws.spot_backfill: 180d is not between 0 and 90d (EC2 keeps 90 days of spot price history)`,
		"bad-aws-source.yml":      `testdata/config/bad-aws-source.yml:3: providers.aws.on_demand_source: "website" is not pricelist or bulk`,
		"bad-aws-endpoint.yml":    `testdata/config/bad-aws-endpoint.yml:3: providers.aws.ec2_endpoint: "ec2.us-east-1.amazonaws.com" is not an http(s) URL`,
		"bad-aws-credentials.yml": `testdata/config/bad-aws-credentials.yml:4: providers.aws.access_key_id: access_key_id and secret_access_key (or secret_access_key_file) go together`,
	})
}

// A disabled provider's secret file is not read (it may not exist where
// the provider is off), and access_key_id with secret_access_key_file is
// still a complete pair.
func TestConfigDisabledKeyFile(t *testing.T) {
	configtest.Load(t, "aws-disabled-key-file.yml")
}
