package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

type collectOptions struct {
	config    *string
	providers *[]string
	format    *string
	demo      *bool
	timeout   *time.Duration
}

func collectFlags(cmd *kingpin.CmdClause) collectOptions {
	return collectOptions{
		config:    cmd.Flag("config.file", "Configuration file; without it, built-in defaults.").String(),
		providers: cmd.Flag("provider", "Provider to refresh (repeatable; owned and static for those lists); default: every enabled provider.").Enums(append(collectors.Registered(), collectors.RegisteredLists()...)...),
		format:    cmd.Flag("format", "Output format.").Default("table").Enum("table", "json", "csv"),
		demo:      cmd.Flag("demo", "Collect from the built-in fake APIs instead of the real providers.").Bool(),
		timeout:   cmd.Flag("timeout", "Timeout of each provider's refresh; default: its configured timeout.").Duration(),
	}
}

// maxCollectTimeout bounds collect's --timeout: AWS's first 90-day spot
// backfill takes minutes, nothing takes a day.
const maxCollectTimeout = 24 * time.Hour

// runCollect refreshes the chosen providers once and prints their quotes.
// Providers are refreshed one after another; a failing one is reported
// and the others still print.
func runCollect(logger *slog.Logger, o collectOptions, out io.Writer) error {
	if *o.timeout < 0 || *o.timeout > maxCollectTimeout {
		return fmt.Errorf("--timeout: %s is out of range: allowed [0, %s] (0: each provider's configured timeout)", *o.timeout, maxCollectTimeout)
	}
	cfg := config.Builtin()
	if *o.config != "" {
		var err error
		if cfg, err = config.LoadFile(*o.config); err != nil {
			return err
		}
	}
	if *o.demo {
		f, err := startFakes(fakecloud.Drift{})
		if err != nil {
			return err
		}
		defer f.Close()
		cfg = demoConfig(f, time.Hour)
	}
	if len(*o.providers) > 0 {
		enableOnly(cfg, *o.providers)
	}
	jobs, err := collectors.Build(cfg, logger, price.DefaultCatalog(), nil)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return fmt.Errorf("no provider enabled: name one with --provider")
	}
	var quotes []price.Quote
	var failed []string
	for _, job := range jobs {
		if *o.timeout > 0 {
			job.Settings.Timeout = *o.timeout
		}
		snap, err := collectors.RefreshOnce(context.Background(), logger, job)
		if err != nil {
			failed = append(failed, job.Collector.Name()) // RefreshOnce logged why
			continue
		}
		quotes = append(quotes, snap.Quotes...)
	}
	if err := printQuotes(out, *o.format, quotes); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("refresh failed for: %s", strings.Join(failed, ", "))
	}
	return nil
}

// enableOnly disables every provider and list source not in names.
func enableOnly(cfg *config.Config, names []string) {
	cfg.Providers.Each(func(name string, s config.Section) {
		s.Shared().Enabled = slices.Contains(names, name)
	})
	if !slices.Contains(names, owned.Name) {
		owned.Of(cfg).Entries = nil
	}
	if !slices.Contains(names, static.Name) {
		static.Of(cfg).Entries = nil
	}
}

func printQuotes(out io.Writer, format string, quotes []price.Quote) error {
	slices.SortStableFunc(quotes, func(a, b price.Quote) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		if c := strings.Compare(a.GPUModel, b.GPUModel); c != 0 {
			return c
		}
		return cmp.Compare(a.GPUUSDPerHour(), b.GPUUSDPerHour())
	})
	switch format {
	case "json":
		return api.WriteQuotesJSON(out, quotes)
	case "csv":
		return api.WriteQuotesCSV(out, quotes)
	}
	return writeQuoteTable(out, quotes, time.Now())
}
