package config

import (
	"fmt"
	"strings"
	"time"
)

// Lambda configures the Lambda Cloud instance-types collector.
type Lambda struct {
	Common `yaml:",inline"`
	// APIKey is required: the instance-types API refuses anonymous
	// requests. Without it the provider's refreshes fail with an error
	// naming these keys; the other providers are not affected.
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	// Regions to price (Lambda region names such as us-east-1); empty
	// means the built-in list of every public Lambda region. A price
	// applies in every region, and each region gets its own series whose
	// availability says whether Lambda has capacity there now.
	Regions []string `yaml:"regions"`
}

func defaultLambda() Lambda {
	return Lambda{
		// Lambda allows about one API request per second.
		Common: Common{Enabled: false, Interval: Duration(5 * time.Minute), RateLimit: 1, Endpoint: "https://cloud.lambda.ai"},
	}
}

func (l *Lambda) validate(key string) error {
	for i, r := range l.Regions {
		if r == "" || strings.ContainsAny(r, " \t'/") {
			return keyErrorf(fmt.Sprintf("%s.regions[%d]", key, i), "%q is not a Lambda region name", r)
		}
	}
	return nil
}

func (l *Lambda) secretFiles() []secretFile {
	return []secretFile{{value: &l.APIKey, file: l.APIKeyFile, key: "api_key", fileKey: "api_key_file"}}
}
