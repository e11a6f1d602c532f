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

	// GLMUSDURL answers the US dollar value of one GLM, the Golem
	// Network's token, in CoinGecko's simple-price form
	// ({"golem": {"usd": 0.27, "last_updated_at": 1733300000}}). The ECB
	// publishes no rate for it. Empty: GLM prices are never converted.
	GLMUSDURL string `yaml:"glm_usd_url"`
	// GLMRefresh is how often the GLM rate is read again: a token's
	// price moves by the hour, not by the day.
	GLMRefresh Duration `yaml:"glm_refresh"`
	// GLMMaxAge is how old the GLM rate may be (by its own
	// last_updated_at) before GLM prices are no longer published.
	GLMMaxAge Duration `yaml:"glm_max_age"`
}

// DefaultFX is the fx: block when the file has none.
var DefaultFX = FX{
	ECBURL:     "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
	Refresh:    Duration(6 * time.Hour),
	MaxAge:     Duration(3 * 24 * time.Hour),
	GLMUSDURL:  "https://api.coingecko.com/api/v3/simple/price?ids=golem&vs_currencies=usd&include_last_updated_at=true",
	GLMRefresh: Duration(15 * time.Minute),
	GLMMaxAge:  Duration(2 * time.Hour),
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
	if err := CheckURL("fx.glm_usd_url", f.GLMUSDURL); err != nil {
		return err
	}
	if f.GLMRefresh <= 0 {
		return Errorf("fx.glm_refresh", "must be positive")
	}
	if f.GLMMaxAge <= 0 {
		return Errorf("fx.glm_max_age", "must be positive")
	}
	return nil
}
