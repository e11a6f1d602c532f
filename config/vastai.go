package config

import "time"

// VastAI configures the Vast.ai offer search collector.
type VastAI struct {
	Common `yaml:",inline"`
	// APIKey is optional: offer search works without one.
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	// Limit is the maximum number of offers asked for per search.
	Limit int `yaml:"limit"`
	// VerifiedOnly restricts the search to verified hosts.
	VerifiedOnly bool `yaml:"verified_only"`
}

func defaultVastAI() VastAI {
	return VastAI{
		Common: Common{Enabled: true, Interval: Duration(2 * time.Minute), RateLimit: 1, Endpoint: "https://console.vast.ai/api/v0"},
		Limit:  10000,
	}
}

func (v *VastAI) validate(key string) error {
	if v.Limit < 1 {
		return keyErrorf(key+".limit", "must be at least 1")
	}
	return nil
}

func (v *VastAI) secretFiles() []secretFile {
	return []secretFile{{value: &v.APIKey, file: v.APIKeyFile, key: "api_key", fileKey: "api_key_file"}}
}
