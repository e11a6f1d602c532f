package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/cluster"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/exporter"
	"github.com/gpuprice/gpuprice/exporter/remotewrite"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/postgres"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// runServe runs the daemon on a config file, or on the built-in defaults.
func runServe(ctx context.Context, logger *slog.Logger, file string, opts daemonOptions) error {
	load := func() (*config.Config, error) { return config.Builtin(), nil }
	if file != "" {
		load = func() (*config.Config, error) { return config.LoadFile(file) }
	}
	return runDaemon(ctx, logger, load, opts)
}

// runDaemon runs the daemon until ctx is done (SIGINT or SIGTERM). load is
// called at start and on every reload (SIGHUP, POST /-/reload).
func runDaemon(ctx context.Context, logger *slog.Logger, load func() (*config.Config, error), opts daemonOptions) error {
	s, err := newService(ctx, logger, load, opts)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx)
}

// service is the daemon's parts: newService builds them from the
// configuration, run runs them until shutdown, close releases them.
type service struct {
	logger      *slog.Logger
	load        func() (*config.Config, error)
	storagePath string // --storage.path, which overrides every loaded config's
	web         *web.FlagConfig
	lifecycle   bool // --web.enable-lifecycle: POST /-/reload allowed
	catalog     *price.Catalog
	store       *storeGate
	runner      *collectors.Runner
	exp         *exporter.Exporter
	remote      *remotewrite.Writer // nil without remote_write targets
	srv         *http.Server
	reg         *prometheus.Registry
	cluster     cluster.Options
	queue       *writeQueue    // with driver postgres
	group       *cluster.Group // with driver postgres, once the store is open
	groupDone   chan struct{}  // closed when the group has left

	// maxQueries and maxExportRows are --query.max-concurrency and
	// --query.max-export-rows.
	maxQueries    int
	maxExportRows int64

	reloadOK, reloadTime prometheus.Gauge

	mu      sync.Mutex // serializes reloads; guards cfg, jobs and started
	cfg     *config.Config
	jobs    []collectors.Job // the configuration's jobs, until start runs them
	started bool             // the store is open and the jobs run
}

// newService loads the configuration, opens a SQLite store (a PostgreSQL
// one is opened by run, with retries) and builds the Runner, the exporter
// and the HTTP server. Nothing runs yet.
func newService(ctx context.Context, logger *slog.Logger, load func() (*config.Config, error), opts daemonOptions) (*service, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	// No configured secret (a provider key, the storage DSN) reaches the
	// log, whoever echoes it: the store's driver, a provider, net/http.
	scrubber := collectors.NewScrubber(cfg.Secrets())
	logger = slog.New(scrubber.Handler(logger.Handler()))
	s := &service{logger: logger, load: load, storagePath: *opts.storagePath, web: opts.web, lifecycle: *opts.enableLifecycle,
		maxQueries: *opts.maxQueries, maxExportRows: *opts.maxExportRows, catalog: price.DefaultCatalog(),
		cfg: cfg, store: &storeGate{}, cluster: opts.clusterOptions()}
	s.overrideStorage(cfg)
	logger.Info("starting gpuprice", "version", version.Info(), "build_context", version.BuildContext())
	if cfg.Storage.Driver == config.SQLite {
		st, err := sqlite.Open(cfg.Storage.Path, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", scrubber.Error(err))
		}
		s.store.set(st)
		logger.Info("store opened", "driver", cfg.Storage.Driver, "path", cfg.Storage.Path)
	}
	if err := s.build(!*opts.disableRuntime); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// build makes everything that reads the store; s.store and s.cfg are set.
func (s *service) build(runtimeMetrics bool) error {
	reg := exporter.NewSelfRegistry(runtimeMetrics)
	s.reg = reg
	s.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuprice_config_last_reload_successful", Help: "Whether the last configuration reload attempt was successful."})
	s.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuprice_config_last_reload_success_timestamp_seconds", Help: "Timestamp of the last successful configuration reload."})
	reg.MustRegister(s.reloadOK, s.reloadTime)
	// The exporter renders /metrics again whenever a State changes.
	var rec collectors.Recorder = s.store
	if s.cfg.Storage.Driver == config.Postgres {
		// A database can go away and come back: keep the refreshes
		// meanwhile, to write them in order.
		s.queue = &writeQueue{st: s.store, logger: s.logger}
		rec = s.queue
	}
	s.runner = collectors.NewRunner(s.logger, rec, func() { s.exp.Invalidate() })
	s.exp = exporter.New(exporter.Options{States: s.runner.States, Gatherer: reg, Logger: s.logger})

	if len(s.cfg.RemoteWrite) > 0 {
		var err error
		s.remote, err = remotewrite.New(s.cfg.RemoteWrite, remotewrite.Options{
			Families: s.exp.Families, History: s.store, Registerer: reg, Logger: s.logger, Replica: s.cluster.Instance})
		if err != nil {
			return err
		}
	}
	var err error
	if s.jobs, err = collectors.Build(s.cfg, s.logger, s.catalog, s.store); err != nil {
		return err
	}
	s.srv = newHTTPServer(s.handler(), s.logger, defaultHTTPLimits)
	return nil
}

// handler routes /metrics to the exporter and everything else to the API
// and web UI.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.exp)
	var reload func() error // nil: POST /-/reload is refused
	if s.lifecycle {
		reload = s.reload
	}
	api.New(api.Options{
		States:   s.runner.States,
		Ping:     s.store.Ping,
		NotReady: s.notReady,
		Store:    s.store,
		Catalog:  s.catalog,
		Reload:   reload,
		// Bounds for what anyone who reaches the port may ask.
		MaxHeavyQueries: s.maxQueries,
		MaxExportRows:   s.maxExportRows,
		Logger:          s.logger,
		Version:         version.Version,
		// The owned: and static: entries /api/v1/breakeven compares.
		Config: s.config,
	}).Register(mux)
	return mux
}

// run starts the exporter, the reload loop and the HTTP server, then, once
// the store is open, the refreshes and the retention loop, and stops them
// when ctx is done.
func (s *service) run(ctx context.Context) error {
	if open, _ := s.store.opened(); open {
		s.start(ctx)
	} else {
		go func() {
			if openPostgres(ctx, s.logger, s.config().Storage.DSN.Value(), s.store) {
				s.start(ctx)
			}
		}()
	}
	s.exp.Render()
	go s.exp.Run(ctx)
	if s.remote != nil {
		go s.remote.Run(ctx)
	}
	s.reloaded()
	go s.reloadOnSIGHUP(ctx)

	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(s.srv, s.web, s.logger) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down: stopping refreshes, draining HTTP, closing the store")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Warn("HTTP shutdown", "err", err)
	}
	s.runner.Stop()
	if s.groupDone != nil {
		select { // it gives its leases up, so that another replica takes them at once
		case <-s.groupDone:
		case <-time.After(10 * time.Second):
		}
	}
	return nil
}

// jobNames are the providers of jobs.
func jobNames(jobs []collectors.Job) []string {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Collector.Name()
	}
	return names
}

// start seeds the Runner with the stored prices and starts the refreshes
// and the retention loop; the store is open.
func (s *service) start(ctx context.Context) {
	seeds, err := s.store.LastKnown(ctx)
	if err != nil {
		s.logger.Error("loading the last known prices; serving none until the first refreshes", "err", err)
	}
	s.mu.Lock()
	if pg, ok := s.store.open().(*postgres.Store); ok {
		// Every process on one PostgreSQL store is in its HA group.
		s.group = cluster.New(pg, s.runner, s.logger, s.cluster)
		s.group.SetProviders(jobNames(s.jobs))
		s.runner.SetGate(s.group)
		s.reg.MustRegister(s.group)
		s.groupDone = make(chan struct{})
		go func() {
			defer close(s.groupDone)
			s.group.Run(ctx)
		}()
		s.logger.Info("joined the HA group of the store", "instance", s.group.Instance())
	}
	s.runner.Seed(seeds)
	s.runner.Apply(s.jobs)
	s.jobs, s.started = nil, true
	s.mu.Unlock()
	// Ready may be true from here on (seeded prices): /metrics serves
	// them before the first scrape can ask.
	s.exp.Render()
	go retentionLoop(ctx, s.logger, s.store, func() time.Duration { return time.Duration(s.config().Storage.Retention) })
	if s.queue != nil {
		go s.queue.run(ctx, 2*time.Second)
	}
}

// notReady says why prices cannot be served while the store is not open
// (a PostgreSQL store still connecting); "" once it is: /-/ready then
// checks the store and the providers itself.
func (s *service) notReady() string {
	if open, why := s.store.opened(); !open {
		return why
	}
	return ""
}

// close stops the refreshes, if any run, and closes the store.
func (s *service) close() {
	if s.runner != nil {
		s.runner.Stop()
	}
	if err := s.store.Close(); err != nil {
		s.logger.Error("closing the store", "err", err)
	}
}

func (s *service) reloadOnSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.reload()
		}
	}
}

// reload loads the configuration again and applies it; a bad one is
// logged and the running one kept.
func (s *service) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.switchConfig(); err != nil {
		s.reloadOK.Set(0)
		s.logger.Error("reload failed; keeping the previous configuration", "err", err)
		return err
	}
	s.reloaded()
	s.logger.Info("configuration reloaded")
	return nil
}

// switchConfig makes the loaded configuration the running one, restarting
// only the providers whose section changed; s.mu must be held.
func (s *service) switchConfig() error {
	next, err := s.load()
	if err != nil {
		return err
	}
	s.overrideStorage(next)
	jobs, err := collectors.Build(next, s.logger, s.catalog, s.store)
	if err != nil {
		return err
	}
	if next.Storage.Driver != s.cfg.Storage.Driver || next.Storage.Path != s.cfg.Storage.Path || next.Storage.DSN != s.cfg.Storage.DSN {
		s.logger.Warn("storage driver, path and dsn changes take effect at the next restart")
	}
	if !reflect.DeepEqual(next.RemoteWrite, s.cfg.RemoteWrite) {
		s.logger.Warn("remote_write changes take effect at the next restart")
	}
	if s.started {
		if s.group != nil {
			s.group.SetProviders(jobNames(jobs))
		}
		s.runner.Apply(jobs)
	} else {
		s.jobs = jobs // start runs them once the store is open
	}
	s.cfg = next
	return nil
}

func (s *service) reloaded() {
	s.reloadOK.Set(1)
	s.reloadTime.SetToCurrentTime()
}

// config returns the running configuration.
func (s *service) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

func (s *service) overrideStorage(cfg *config.Config) {
	if s.storagePath != "" {
		cfg.Storage.Path = s.storagePath
	}
}

// retentionLoop deletes history older than the retention, hourly.
func retentionLoop(ctx context.Context, logger *slog.Logger, st interface {
	DeleteBefore(context.Context, time.Time) (int64, error)
}, retention func() time.Duration) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if r := retention(); r > 0 {
			n, err := st.DeleteBefore(ctx, time.Now().Add(-r))
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Error("applying retention", "err", err)
			case n > 0:
				logger.Info("applied retention", "points_deleted", n, "retention", r)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// clusterOptions are the HA group's flags.
func (o daemonOptions) clusterOptions() cluster.Options {
	var c cluster.Options
	if o.instanceID != nil {
		c.Instance = *o.instanceID
	}
	if c.Instance == "" {
		// The default is settled here, not in the group, so that remote
		// write's replica label names the replica as its leases do.
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.leaseTTL != nil {
		c.TTL = *o.leaseTTL
	}
	if o.leaseRenew != nil {
		c.Renew = *o.leaseRenew
	}
	return c
}
