// Package cluster splits the providers between gpuprice replicas that
// share a PostgreSQL store, so that each provider is polled by one replica
// at a time and every replica serves all of them.
//
// Each provider has a lease row in the store (holder, epoch, expires_at).
// A replica refreshes a provider only while it holds its lease: it renews
// its leases every Options.Renew (default 5 s) for Options.TTL (15 s), and
// takes a lease over only once it has expired, with the next epoch. Every
// write of a refresh carries the epoch and is checked in its transaction
// (postgres.WithFence), so that a replica paused past its lease's expiry
// cannot write once another holds it. Leases spread: each replica holds at
// most its fair share (the providers divided by the replicas alive, from
// the members table), giving up the excess, which the others take. A
// replica that does not hold a provider serves it from the store, reloaded
// whenever another replica commits a refresh of it (LISTEN/NOTIFY).
//
// Leases are rows, not session advisory locks, so that a pool recycling
// its connections does not move them.
package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres"
)

// Options tune a Group; the zero value is the default.
type Options struct {
	// Instance names this replica in the leases; default hostname:pid.
	Instance string
	// TTL is how long a lease lasts unless renewed; default 15s.
	TTL time.Duration
	// Renew is how often leases are renewed and taken; default 5s.
	Renew time.Duration
}

func (o Options) withDefaults() Options {
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.TTL <= 0 {
		o.TTL = 15 * time.Second
	}
	if o.Renew <= 0 {
		o.Renew = o.TTL / 3
	}
	return o
}

// Store is what a Group needs of the shared store: *postgres.Store.
type Store interface {
	Acquire(ctx context.Context, provider, holder string, ttl time.Duration) (postgres.Lease, bool, error)
	Release(ctx context.Context, provider, holder string) error
	Leases(ctx context.Context) ([]postgres.Lease, error)
	Heartbeat(ctx context.Context, instance string, ttl time.Duration) (int, error)
	Leave(ctx context.Context, instance string) error
	Listen(ctx context.Context, fn func(provider string)) error
	Reload(ctx context.Context, provider string) (*price.Snapshot, error)
	Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error)
}

// Group is this replica's membership of the HA group: it implements
// collectors.Gate for the Runner, and is a prometheus.Collector of the
// lease self-metrics. It is safe for concurrent use.
type Group struct {
	opts   Options
	st     Store
	runner *collectors.Runner
	logger *slog.Logger

	mu        sync.Mutex
	providers []string          // enabled, sorted
	holds     map[string]*hold  // leases this replica holds
	epochs    map[string]int64  // the last epoch seen of each provider's lease
	holders   map[string]string // the holder seen of each provider's lease
	changed   chan struct{}     // closed and replaced at every change of holds
}

// hold is a lease this replica holds.
type hold struct {
	epoch  int64
	until  time.Time // local time by which it must be renewed
	due    time.Time // first refresh after taking it over: the previous holder's schedule
	ctx    context.Context
	cancel context.CancelFunc
}

var _ collectors.Gate = (*Group)(nil)

// New returns the Group of this replica; Run runs it.
func New(st Store, runner *collectors.Runner, logger *slog.Logger, opts Options) *Group {
	return &Group{opts: opts.withDefaults(), st: st, runner: runner, logger: logger,
		holds: map[string]*hold{}, epochs: map[string]int64{}, holders: map[string]string{}, changed: make(chan struct{})}
}

// Instance is this replica's name in the leases.
func (g *Group) Instance() string { return g.opts.Instance }

// SetProviders sets the providers the group splits: the enabled ones.
// Leases of providers no longer enabled are given up at the next round.
func (g *Group) SetProviders(names []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.providers = slices.Sorted(slices.Values(names))
}

// notify wakes the Hold calls waiting; g.mu is held.
func (g *Group) notify() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// Hold implements collectors.Gate: it waits until this replica holds
// provider's lease and the provider is due (after a takeover, the previous
// holder's schedule is kept), and returns a context done when the lease is
// lost, carrying the lease's fence for the store's writes.
func (g *Group) Hold(ctx context.Context, provider string) (context.Context, func(), error) {
	for {
		g.mu.Lock()
		h, changed := g.holds[provider], g.changed
		g.mu.Unlock()
		if h != nil && h.ctx.Err() == nil {
			if wait := time.Until(h.due); wait > 0 {
				select {
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				case <-h.ctx.Done():
					continue
				case <-time.After(wait):
				}
			}
			rctx, cancel := context.WithCancel(postgres.WithFence(ctx,
				postgres.Fence{Provider: provider, Holder: g.opts.Instance, Epoch: h.epoch}))
			stop := context.AfterFunc(h.ctx, cancel)
			return rctx, func() { stop(); cancel() }, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-changed:
		}
	}
}

// Run takes, renews and gives up leases every Options.Renew and follows
// the other replicas' refreshes, until ctx ends; then it leaves the group,
// giving its leases up at once.
func (g *Group) Run(ctx context.Context) {
	go g.follow(ctx)
	tick := time.NewTicker(g.opts.Renew)
	defer tick.Stop()
	for {
		g.round(ctx)
		select {
		case <-ctx.Done():
			g.leave()
			return
		case <-tick.C:
		}
	}
}

// leave drops every hold and leaves the group.
func (g *Group) leave() {
	g.mu.Lock()
	for p, h := range g.holds {
		h.cancel()
		delete(g.holds, p)
	}
	g.notify()
	g.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.st.Leave(ctx, g.opts.Instance); err != nil {
		g.logger.Warn("leaving the HA group", "err", err)
	}
}

// round is one renewal: heartbeat, renew what is held, give up the excess
// over the fair share, take free leases up to it.
func (g *Group) round(ctx context.Context) {
	start := time.Now()
	g.expire(start)
	ctx, cancel := context.WithTimeout(ctx, g.opts.Renew)
	defer cancel()
	members, err := g.st.Heartbeat(ctx, g.opts.Instance, g.opts.TTL)
	if err != nil {
		g.expire(start)
		if ctx.Err() == nil {
			g.logger.Warn("HA group heartbeat failed", "err", err)
		}
		return
	}
	leases, err := g.st.Leases(ctx)
	if err != nil {
		g.expire(start)
		g.logger.Warn("reading the leases failed", "err", err)
		return
	}
	g.mu.Lock()
	providers := slices.Clone(g.providers)
	g.mu.Unlock()
	fair := (len(providers) + members - 1) / max(members, 1)

	byProvider := map[string]postgres.Lease{}
	for _, l := range leases {
		byProvider[l.Provider] = l
	}
	// Renew what is held (and still enabled), in provider order.
	var mine []string
	for _, p := range providers {
		if g.holding(p) {
			if l, ok := g.acquire(ctx, p, start); ok {
				byProvider[p] = l
				mine = append(mine, p)
			}
		}
	}
	g.dropDisabled(ctx, providers)
	// More than the fair share: give up the last ones, so that a replica
	// that joined gets its share without waiting for an expiry.
	for len(mine) > fair {
		p := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		g.release(ctx, p)
		delete(byProvider, p)
	}
	// Fewer: take free or expired leases.
	for _, p := range providers {
		if len(mine) >= fair {
			break
		}
		if l, found := byProvider[p]; g.holding(p) || (found && l.Held && l.Holder != g.opts.Instance) {
			continue
		}
		if l, ok := g.acquire(ctx, p, start); ok {
			byProvider[p] = l
			mine = append(mine, p)
		}
	}
	g.mu.Lock()
	for _, p := range providers {
		if l, found := byProvider[p]; found {
			g.epochs[p] = max(g.epochs[p], l.Epoch)
			if l.Held {
				g.holders[p] = l.Holder
			} else {
				g.holders[p] = ""
			}
		}
	}
	holders := maps.Clone(g.holders)
	g.mu.Unlock()
	for p, h := range holders {
		g.runner.SetHolder(p, h)
	}
}

func (g *Group) holding(provider string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.holds[provider]
	return h != nil && h.ctx.Err() == nil
}

// acquire takes or renews provider's lease; a lease newly taken makes the
// store reload the provider (the previous holder wrote it) before any
// refresh of it may start.
func (g *Group) acquire(ctx context.Context, provider string, start time.Time) (postgres.Lease, bool) {
	l, held, err := g.st.Acquire(ctx, provider, g.opts.Instance, g.opts.TTL)
	if err != nil {
		if ctx.Err() == nil {
			g.logger.Warn("acquiring a lease failed", "provider", provider, "err", err)
		}
		return l, false
	}
	g.mu.Lock()
	h := g.holds[provider]
	if held && h != nil && h.epoch == l.Epoch && h.ctx.Err() == nil {
		h.until = start.Add(g.opts.TTL)
		g.mu.Unlock()
		return l, true
	}
	if h != nil { // lost, or renewed too late: a new epoch
		h.cancel()
		delete(g.holds, provider)
		g.notify()
	}
	g.mu.Unlock()
	if !held {
		return l, false
	}
	if _, err := g.st.Reload(ctx, provider); err != nil {
		g.logger.Warn("reloading a provider taken over failed; giving the lease up", "provider", provider, "err", err)
		g.st.Release(ctx, provider, g.opts.Instance)
		return l, false
	}
	hctx, cancel := context.WithCancel(context.Background())
	nh := &hold{epoch: l.Epoch, until: start.Add(g.opts.TTL), due: g.due(ctx, provider), ctx: hctx, cancel: cancel}
	g.mu.Lock()
	g.holds[provider] = nh
	g.epochs[provider] = l.Epoch
	g.notify()
	g.mu.Unlock()
	g.logger.Info("took a provider's lease", "provider", provider, "epoch", l.Epoch)
	return l, true
}

// due is when a provider taken over is next refreshed: its last refresh,
// by whichever replica, plus its interval, so that taking it over does not
// poll it twice in one interval.
func (g *Group) due(ctx context.Context, provider string) time.Time {
	var interval time.Duration
	for _, st := range g.runner.States() {
		if st.Provider == provider {
			interval = st.Interval
			break
		}
	}
	// Only a refresh within the last interval can put the next one off:
	// read no further back than that (and a little).
	polls, err := g.st.Polls(ctx, provider, time.Now().Add(-max(2*interval, time.Minute)), time.Time{})
	if err != nil || len(polls) == 0 {
		return time.Time{}
	}
	p := polls[len(polls)-1]
	if !p.OK {
		return p.End().Add(min(interval, 15*time.Second))
	}
	return p.End().Add(interval)
}

// release gives provider's lease up.
func (g *Group) release(ctx context.Context, provider string) {
	g.mu.Lock()
	if h := g.holds[provider]; h != nil {
		h.cancel()
		delete(g.holds, provider)
		g.notify()
	}
	g.mu.Unlock()
	if err := g.st.Release(ctx, provider, g.opts.Instance); err != nil {
		g.logger.Warn("giving a lease up failed", "provider", provider, "err", err)
		return
	}
	g.logger.Info("gave a provider's lease up to another replica", "provider", provider)
}

// dropDisabled gives up the leases of providers no longer enabled.
func (g *Group) dropDisabled(ctx context.Context, enabled []string) {
	g.mu.Lock()
	var gone []string
	for p := range g.holds {
		if !slices.Contains(enabled, p) {
			gone = append(gone, p)
		}
	}
	g.mu.Unlock()
	for _, p := range gone {
		g.release(ctx, p)
	}
}

// expire drops the holds that could not be renewed in time: past their
// local deadline another replica may hold them (their writes would be
// refused anyway).
func (g *Group) expire(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, h := range g.holds {
		if now.After(h.until) {
			h.cancel()
			delete(g.holds, p)
			g.notify()
			g.logger.Warn("lost a provider's lease: not renewed in time", "provider", p)
		}
	}
}

// follow serves the providers this replica does not hold from the store:
// it reloads each one another replica commits a refresh of, and all of
// them whenever it (re)starts listening, having maybe missed some.
func (g *Group) follow(ctx context.Context) {
	wait := time.Second
	for ctx.Err() == nil {
		g.mu.Lock()
		providers := slices.Clone(g.providers)
		g.mu.Unlock()
		for _, p := range providers {
			g.observe(ctx, p)
		}
		err := g.st.Listen(ctx, func(p string) { g.observe(ctx, p) })
		if ctx.Err() != nil {
			return
		}
		g.logger.Warn("listening for other replicas' refreshes failed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// observe reloads provider from the store and publishes it, unless this
// replica holds it (then it wrote it itself).
func (g *Group) observe(ctx context.Context, provider string) {
	g.mu.Lock()
	enabled := slices.Contains(g.providers, provider)
	holder := g.holders[provider]
	g.mu.Unlock()
	if !enabled || g.holding(provider) {
		return
	}
	snap, err := g.st.Reload(ctx, provider)
	if err != nil {
		if ctx.Err() == nil {
			g.logger.Warn("reloading another replica's refresh failed", "provider", provider, "err", err)
		}
		return
	}
	if snap != nil {
		g.runner.Observe(provider, snap, holder)
	}
}

var (
	leaseHeldDesc = prometheus.NewDesc("gpuprice_lease_held",
		"1 while this replica holds the provider's lease in the HA group (and so refreshes it), else 0.", []string{"provider"}, nil)
	leaseEpochDesc = prometheus.NewDesc("gpuprice_lease_epoch",
		"The epoch of the provider's lease this replica last saw; it grows at every change of holder.", []string{"provider"}, nil)
)

// Describe implements prometheus.Collector.
func (g *Group) Describe(ch chan<- *prometheus.Desc) {
	ch <- leaseHeldDesc
	ch <- leaseEpochDesc
}

// Collect implements prometheus.Collector: both gauges for every enabled
// provider.
func (g *Group) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.providers {
		held := 0.0
		if h := g.holds[p]; h != nil && h.ctx.Err() == nil {
			held = 1
		}
		ch <- prometheus.MustNewConstMetric(leaseHeldDesc, prometheus.GaugeValue, held, p)
		ch <- prometheus.MustNewConstMetric(leaseEpochDesc, prometheus.GaugeValue, float64(g.epochs[p]), p)
	}
}
