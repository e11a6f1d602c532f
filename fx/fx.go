// Package fx converts prices to USD at the European Central Bank's daily
// reference rates (eurofxref-daily.xml: the value of one euro in some 30
// currencies, published once a working day), and GLM, the Golem Network's
// token, which the ECB does not publish, at a rate read from a
// CoinGecko-style simple-price answer (fx.glm_usd_url). It never guesses:
// a rate older than the configured max_age (glm_max_age for GLM), or a
// currency without a rate, is an error, and the price it would have
// converted is not published.
package fx

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gpuprice/gpuprice/config"
)

// ErrStale is the error of a conversion whose newest rate is older than
// max_age.
var ErrStale = errors.New("exchange rate too old")

// ErrNoRate is the error of a conversion from a currency without a rate.
var ErrNoRate = errors.New("no exchange rate")

// Rates converts amounts to USD. It reads the ECB file when first asked
// and again once its copy is older than the refresh interval; a failed
// read keeps the rates it has, which go on converting until they are
// older than max_age. It is safe for concurrent use.
type Rates struct {
	cfg    config.FX
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	day     time.Time          // the date the ECB gives its rates
	perEUR  map[string]float64 // currency → units per euro; EUR is 1
	fetched time.Time          // when day's rates were read, zero before
	tries   attempts

	glm token // GLM's rate, apart: its own source, clock and lock
}

// retryFloor is the least time between two reads of a source after one
// failed: a refresh converts every quote apart, and a source that is down
// must not be asked again for each of them.
const retryFloor = time.Minute

// attempts remembers a source's last read, for due.
type attempts struct {
	at  time.Time // the last read tried, zero before
	err error     // its error; nil when it succeeded
}

// due reports whether a source whose copy was read at fetched is to be
// read again now: never read, or the copy older than refresh, and no read
// failed in the last retryFloor (nor in the last refresh, if shorter).
func (a *attempts) due(fetched, now time.Time, refresh time.Duration) bool {
	if a.err != nil && now.Sub(a.at) < min(refresh, retryFloor) {
		return false
	}
	return fetched.IsZero() || now.Sub(fetched) >= refresh
}

// read runs fetch and remembers the attempt.
func (a *attempts) read(now time.Time, fetch func() error) error {
	a.at, a.err = now, fetch()
	return a.err
}

// token is the USD rate of one crypto token, read from a simple-price
// answer.
type token struct {
	mu      sync.Mutex
	usd     float64   // US dollars per token; 0 before a read
	at      time.Time // the rate's own time (last_updated_at), else when read
	fetched time.Time // when it was read, zero before
	tries   attempts
}

// New returns Rates reading cfg.ECBURL with client (nil: a client with a
// 30 s timeout); now is the clock (nil: time.Now).
func New(cfg config.FX, client *http.Client, now func() time.Time) *Rates {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Rates{cfg: cfg, client: client, now: now}
}

// USD returns amount, in currency (ISO 4217, "EUR"), in US dollars, and
// the date of the rate used. USD amounts are returned as they are.
func (r *Rates) USD(ctx context.Context, amount float64, currency string) (float64, time.Time, error) {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if currency == "USD" {
		return amount, time.Time{}, nil
	}
	if currency == "GLM" {
		return r.glmUSD(ctx, amount)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.tries.due(r.fetched, now, time.Duration(r.cfg.Refresh)) {
		r.tries.read(now, func() error { return r.fetch(ctx, now) })
	}
	fetchErr := r.tries.err
	if r.perEUR == nil {
		return 0, time.Time{}, fmt.Errorf("%w for %s: %v", ErrNoRate, currency, fetchErr)
	}
	// The ECB dates its rates at 16:00 CET; a day is old a day after it.
	if age := now.Sub(r.day); age > time.Duration(r.cfg.MaxAge)+24*time.Hour {
		msg := fmt.Sprintf("%s: the ECB's rates are of %s, older than fx.max_age (%s)", currency, r.day.Format(time.DateOnly), r.cfg.MaxAge)
		if fetchErr != nil {
			msg += "; reading newer ones failed: " + fetchErr.Error()
		}
		return 0, r.day, fmt.Errorf("%w: %s", ErrStale, msg)
	}
	from, ok := r.perEUR[currency]
	usd, hasUSD := r.perEUR["USD"]
	if !ok || !hasUSD {
		return 0, r.day, fmt.Errorf("%w for %s in the ECB's rates of %s", ErrNoRate, currency, r.day.Format(time.DateOnly))
	}
	return amount / from * usd, r.day, nil
}

// envelope is the part of eurofxref-daily.xml read: Cube/Cube@time with
// Cube@currency, @rate children.
type envelope struct {
	Days []struct {
		Time  string `xml:"time,attr"`
		Rates []struct {
			Currency string  `xml:"currency,attr"`
			Rate     float64 `xml:"rate,attr"`
		} `xml:"Cube"`
	} `xml:"Cube>Cube"`
}

// fetch reads the ECB file; r.mu is held.
func (r *Rates) fetch(ctx context.Context, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.ECBURL, nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("read the ECB's rates: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read the ECB's rates: HTTP %d", resp.StatusCode)
	}
	day, perEUR, err := parse(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read the ECB's rates: %w", err)
	}
	r.day, r.perEUR, r.fetched = day, perEUR, now
	return nil
}

// parse reads the newest day of rates of an eurofxref file.
func parse(r io.Reader) (time.Time, map[string]float64, error) {
	var env envelope
	if err := xml.NewDecoder(r).Decode(&env); err != nil {
		return time.Time{}, nil, err
	}
	if len(env.Days) == 0 {
		return time.Time{}, nil, errors.New("the file holds no day of rates")
	}
	d := env.Days[0]
	day, err := time.Parse(time.DateOnly, d.Time)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("the day %q is not a date", d.Time)
	}
	perEUR := map[string]float64{"EUR": 1}
	for _, c := range d.Rates {
		if c.Rate > 0 && !math.IsInf(c.Rate, 0) && c.Currency != "" {
			perEUR[strings.ToUpper(c.Currency)] = c.Rate
		}
	}
	if perEUR["USD"] == 0 {
		return time.Time{}, nil, fmt.Errorf("no USD rate on %s", d.Time)
	}
	return day, perEUR, nil
}

// glmUSD converts GLM at the rate of cfg.GLMUSDURL, read again once its
// copy is older than cfg.GLMRefresh; a failed read keeps the rate it has
// until it is older than cfg.GLMMaxAge.
func (r *Rates) glmUSD(ctx context.Context, amount float64) (float64, time.Time, error) {
	if r.cfg.GLMUSDURL == "" {
		return 0, time.Time{}, fmt.Errorf("%w for GLM: fx.glm_usd_url is not set", ErrNoRate)
	}
	t := &r.glm
	t.mu.Lock()
	defer t.mu.Unlock()
	now := r.now()
	if t.tries.due(t.fetched, now, time.Duration(r.cfg.GLMRefresh)) {
		t.tries.read(now, func() error { return r.fetchGLM(ctx, now) })
	}
	fetchErr := t.tries.err
	if t.usd == 0 {
		return 0, time.Time{}, fmt.Errorf("%w for GLM: %v", ErrNoRate, fetchErr)
	}
	if age := now.Sub(t.at); age > time.Duration(r.cfg.GLMMaxAge) {
		msg := fmt.Sprintf("GLM: the rate is of %s, older than fx.glm_max_age (%s)", t.at.UTC().Format(time.RFC3339), r.cfg.GLMMaxAge)
		if fetchErr != nil {
			msg += "; reading a newer one failed: " + fetchErr.Error()
		}
		return 0, t.at, fmt.Errorf("%w: %s", ErrStale, msg)
	}
	return amount * t.usd, t.at, nil
}

// fetchGLM reads the GLM rate; r.glm.mu is held.
func (r *Rates) fetchGLM(ctx context.Context, now time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.GLMUSDURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("read the GLM rate: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read the GLM rate: HTTP %d", resp.StatusCode)
	}
	usd, at, err := parseSimplePrice(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read the GLM rate: %w", err)
	}
	if at.IsZero() {
		// No last_updated_at: the rate is as old as the answer.
		at = now
	}
	r.glm.usd, r.glm.at, r.glm.fetched = usd, at, now
	return nil
}

// parseSimplePrice reads a simple-price answer for one token,
// {"<id>": {"usd": 0.27, "last_updated_at": <unix seconds>}}, returning
// its USD rate and the time of that rate (zero when the answer gives
// none).
func parseSimplePrice(r io.Reader) (float64, time.Time, error) {
	var ans map[string]struct {
		USD           *float64 `json:"usd"`
		LastUpdatedAt int64    `json:"last_updated_at"`
	}
	if err := json.NewDecoder(r).Decode(&ans); err != nil {
		return 0, time.Time{}, err
	}
	if len(ans) != 1 {
		return 0, time.Time{}, fmt.Errorf("the answer prices %d tokens, want one", len(ans))
	}
	for id, p := range ans {
		if p.USD == nil || !(*p.USD > 0) || math.IsInf(*p.USD, 0) {
			return 0, time.Time{}, fmt.Errorf("no positive USD rate for %q", id)
		}
		var at time.Time
		if p.LastUpdatedAt > 0 && p.LastUpdatedAt < 1<<40 {
			at = time.Unix(p.LastUpdatedAt, 0).UTC()
		}
		return *p.USD, at, nil
	}
	return 0, time.Time{}, errors.New("the answer prices no token")
}
