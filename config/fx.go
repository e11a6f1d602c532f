package config

import "time"

// FX configures the conversion of prices quoted in other currencies than
// USD (fx:).
type FX struct {
	// ECBURL is the ECB's daily reference rates file.
	ECBURL string `yaml:"ecb_url"`
	// Refresh is how often the file is read again.
	Refresh Duration `yaml:"refresh"`
	// MaxAge is how old the newest rate may be before prices in that
	// currency are no longer published (the ECB publishes on working
	// days only).
	MaxAge Duration `yaml:"max_age"`
}

// DefaultFX is the fx: block when the file has none.
var DefaultFX = FX{
	ECBURL:  "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
	Refresh: Duration(6 * time.Hour),
	MaxAge:  Duration(3 * 24 * time.Hour),
}

func (f *FX) validate() error {
	if f.ECBURL == "" {
		return Errorf("fx.ecb_url", "must be set")
	}
	if err := CheckURL("fx.ecb_url", f.ECBURL); err != nil {
		return err
	}
	if f.Refresh <= 0 {
		return Errorf("fx.refresh", "must be positive")
	}
	if f.MaxAge <= 0 {
		return Errorf("fx.max_age", "must be positive")
	}
	return nil
}
