package config

import "time"

// Runpod configures the Runpod GraphQL collector.
type Runpod struct {
	Common `yaml:",inline"`
	// APIKey is optional: gpuTypes answers without one. When set it is
	// sent as the api_key query parameter, as Runpod's own clients do.
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
}

func defaultRunpod() Runpod {
	return Runpod{
		Common: Common{Enabled: true, Interval: Duration(5 * time.Minute), RateLimit: 1, Endpoint: "https://api.runpod.io/graphql"},
	}
}

func (r *Runpod) secretFiles() []secretFile {
	return []secretFile{{value: &r.APIKey, file: r.APIKeyFile, key: "api_key", fileKey: "api_key_file"}}
}
