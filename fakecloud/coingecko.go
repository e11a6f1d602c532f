package fakecloud

import (
	"encoding/json"
	"net/http"
	"time"
)

// CoinGeckoPath is the path of CoinGecko's simple-price answer; the GLM
// rate's URL adds ?ids=golem&vs_currencies=usd&include_last_updated_at=true.
const CoinGeckoPath = "/api/v3/simple/price"

// CoinGeckoQuery is the query of the GLM rate's URL.
const CoinGeckoQuery = "?ids=golem&vs_currencies=usd&include_last_updated_at=true"

// CoinGeckoOptions configures NewCoinGecko.
type CoinGeckoOptions struct {
	// UpdatedAt returns the rate's last_updated_at (default: now).
	UpdatedAt func() time.Time
	// USD is what one GLM is worth in US dollars (default 0.27).
	USD float64
}

// CoinGecko is a fake of CoinGecko's anonymous GET /api/v3/simple/price
// for the Golem token: {"golem": {"usd": ..., "last_updated_at": ...}},
// last_updated_at only when the query asks for it. An unknown id answers
// {} as CoinGecko does.
type CoinGecko struct {
	oneAPI
	opts CoinGeckoOptions
}

// NewCoinGecko returns the fake.
func NewCoinGecko(opts CoinGeckoOptions) *CoinGecko {
	if opts.UpdatedAt == nil {
		opts.UpdatedAt = time.Now
	}
	if opts.USD == 0 {
		opts.USD = 0.27
	}
	c := &CoinGecko{opts: opts}
	c.handler = c.Faults.Wrap(http.HandlerFunc(c.serve), func(status int, msg string) (string, []byte) {
		b, _ := json.Marshal(map[string]any{"status": map[string]any{"error_code": status, "error_message": msg}})
		return "application/json", b
	})
	return c
}

func (c *CoinGecko) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CoinGeckoPath {
		writeJSON(w, http.StatusNotFound, []byte(`{"error":"Incorrect path. Please check https://www.coingecko.com/api/documentation"}`))
		return
	}
	q := r.URL.Query()
	if q.Get("ids") != "golem" || q.Get("vs_currencies") != "usd" {
		writeJSON(w, http.StatusOK, []byte(`{}`))
		return
	}
	p := map[string]any{"usd": c.opts.USD}
	if q.Get("include_last_updated_at") == "true" {
		p["last_updated_at"] = c.opts.UpdatedAt().Unix()
	}
	b, _ := json.Marshal(map[string]any{"golem": p})
	writeJSON(w, http.StatusOK, b)
}
