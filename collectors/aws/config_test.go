package aws

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
)

func TestConfigDefaults(t *testing.T) {
	aws := config.Builtin().Providers[Name].(*Config)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"enabled", aws.Enabled, false},
		{"interval", time.Duration(aws.Interval), 10 * time.Minute},
		{"timeout: room for the first backfill", time.Duration(aws.Timeout), 15 * time.Minute},
		{"stale_after", time.Duration(aws.StaleAfter), 30 * time.Minute},
		{"spot_backfill", time.Duration(aws.SpotBackfill), 90 * 24 * time.Hour},
		{"on_demand_source", aws.OnDemandSource, "pricelist"},
		{"regions: all enabled", len(aws.Regions), 0},
		{"endpoint: the public offer files", aws.Endpoint, "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigLoad(t *testing.T) {
	cfg, err := config.LoadFile(filepath.Join("testdata", "config", "aws.yml"))
	if err != nil {
		t.Fatal(err)
	}
	aws := cfg.Providers[Name].(*Config)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"regions", strings.Join(aws.Regions, ","), "us-east-1,eu-west-1,ap-southeast-4"},
		{"spot_backfill", time.Duration(aws.SpotBackfill), 30 * 24 * time.Hour},
		{"timeout", time.Duration(aws.Timeout), 20 * time.Minute},
		{"ec2_endpoint", aws.EC2Endpoint, "http://127.0.0.1:4566"},
		{"on_demand_source", aws.OnDemandSource, "bulk"},
		{"concurrency", aws.Concurrency, 4},
		{"secret_access_key (from its file)", aws.SecretAccessKey.Value(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// A disabled provider's secret file is not read (it may not exist where
// the provider is off), and access_key_id with secret_access_key_file is
// still a complete pair.
func TestConfigDisabledKeyFile(t *testing.T) {
	if _, err := config.LoadFile(filepath.Join("testdata", "config", "aws-disabled-key-file.yml")); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad-aws-region.yml", `testdata/config/bad-aws-region.yml:5: providers.aws.regions[1]: "US East" is not an AWS region name`},
		{"bad-aws-backfill.yml", `testdata/config/bad-aws-backfill.yml:4: providers.aws.spot_backfill: 180d is not between 0 and 90d (EC2 keeps 90 days of spot price history)`},
		{"bad-aws-source.yml", `testdata/config/bad-aws-source.yml:3: providers.aws.on_demand_source: "website" is not pricelist or bulk`},
		{"bad-aws-endpoint.yml", `testdata/config/bad-aws-endpoint.yml:3: providers.aws.ec2_endpoint: "ec2.us-east-1.amazonaws.com" is not an http(s) URL`},
		{"bad-aws-credentials.yml", `testdata/config/bad-aws-credentials.yml:4: providers.aws.access_key_id: access_key_id and secret_access_key (or secret_access_key_file) go together`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := config.LoadFile(filepath.Join("testdata", "config", tc.file))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}
