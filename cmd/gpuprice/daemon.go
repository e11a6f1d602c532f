package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/exporter"
	"github.com/gpuprice/gpuprice/price"
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

// runDaemon wires the store, the Runner, the exporter and the HTTP server,
// and runs them until ctx is done (SIGINT or SIGTERM). load is called at
// start and on every reload (SIGHUP, POST /-/reload).
func runDaemon(ctx context.Context, logger *slog.Logger, load func() (*config.Config, error), opts daemonOptions) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	if *opts.storagePath != "" {
		cfg.Storage.Path = *opts.storagePath
	}
	logger.Info("starting gpuprice", "version", version.Info(), "build_context", version.BuildContext())

	st, err := sqlite.Open(cfg.Storage.Path, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the store", "err", err)
		}
	}()
	logger.Info("store opened", "driver", cfg.Storage.Driver, "path", cfg.Storage.Path)

	reg := exporter.NewSelfRegistry(!*opts.disableRuntime)
	reloadOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuprice_config_last_reload_successful", Help: "Whether the last configuration reload attempt was successful."})
	reloadTime := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gpuprice_config_last_reload_success_timestamp_seconds", Help: "Timestamp of the last successful configuration reload."})
	reg.MustRegister(reloadOK, reloadTime)

	var exp *exporter.Exporter
	runner := collectors.NewRunner(logger, st, func() { exp.Invalidate() })
	exp = exporter.New(exporter.Options{States: runner.States, Gatherer: reg, Logger: logger})
	defer runner.Stop()

	seeds, err := st.LastKnown(ctx)
	if err != nil {
		return fmt.Errorf("load last known prices: %w", err)
	}
	runner.Seed(seeds)
	catalog := price.DefaultCatalog()
	providers, err := collectors.Build(cfg, logger, catalog, st)
	if err != nil {
		return err
	}
	runner.Apply(providers)
	exp.Render()
	go exp.Run(ctx)
	reloadOK.Set(1)
	reloadTime.SetToCurrentTime()

	var mu sync.Mutex // serializes reloads
	current := cfg
	reload := func() error {
		mu.Lock()
		defer mu.Unlock()
		next, err := load()
		if err == nil {
			if *opts.storagePath != "" {
				next.Storage.Path = *opts.storagePath
			}
			var ps []collectors.Provider
			if ps, err = collectors.Build(next, logger, catalog, st); err == nil {
				if next.Storage.Driver != current.Storage.Driver || next.Storage.Path != current.Storage.Path {
					logger.Warn("storage driver and path changes take effect at the next restart")
				}
				runner.Apply(ps)
				current = next
			}
		}
		if err != nil {
			reloadOK.Set(0)
			logger.Error("reload failed; keeping the previous configuration", "err", err)
			return err
		}
		reloadOK.Set(1)
		reloadTime.SetToCurrentTime()
		logger.Info("configuration reloaded")
		return nil
	}
	go func() {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload()
			}
		}
	}()
	go retentionLoop(ctx, logger, st, func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(current.Storage.Retention)
	})

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", exp)
	api.New(api.Options{
		States:  runner.States,
		Ready:   runner.Ready,
		Store:   st,
		Catalog: catalog,
		Reload:  reload,
		Logger:  logger,
		Version: version.Version,
		// The owned: and static: entries /api/v1/breakeven compares.
		Config: func() *config.Config {
			mu.Lock()
			defer mu.Unlock()
			return current
		},
	}).Register(mux)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(srv, opts.web, logger) }()

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: stopping refreshes, draining HTTP, closing the store")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("HTTP shutdown", "err", err)
	}
	runner.Stop()
	return nil
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
