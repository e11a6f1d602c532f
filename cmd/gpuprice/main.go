// Command gpuprice is the GPU price daemon: it polls on-demand and spot GPU
// prices from cloud providers and marketplaces, keeps their history, and
// serves them to Prometheus and over a JSON/CSV API.
//
//	gpuprice serve [--config.file=gpuprice.yml]   the daemon
//	gpuprice demo                                 the daemon on built-in fake provider APIs
//	gpuprice collect --provider=azure             one refresh, printed
//	gpuprice prices --gpu=H100 --pricing-model=spot   current prices of a running daemon, cheapest first
//	gpuprice cheapest --min-memory=80             the cheapest price per GPU
//	gpuprice check-config gpuprice.yml            validate a config file
//	gpuprice healthcheck                          probe a running daemon (container HEALTHCHECK)
//	gpuprice completion bash|zsh|fish             shell completion script
//	gpuprice breakeven --gpu_model=H100 --gpu_hours=5000   rent vs buy
//	gpuprice history --gpu_model=H100 --step=1d --agg=min --by=provider   history queries
//	gpuprice export --format=openmetrics -o h100.om.txt                  bulk history export
//	gpuprice store copy --from=sqlite:data --config.file=gpuprice.yml     SQLite history into PostgreSQL
//	gpuprice bench-scale [--bench.huge]           the daemon against full-scale fakes: refresh and scrape times, peak RSS
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	_ "github.com/gpuprice/gpuprice/collectors/all"
	"github.com/gpuprice/gpuprice/config"
)

// defaultListen is gpuprice's port (DESIGN §8).
const defaultListen = ":9847"

func main() {
	app := kingpin.New("gpuprice", "GPU price daemon: live on-demand and spot GPU prices, their history, and a Prometheus exporter.")
	fillVersion(debug.ReadBuildInfo())
	app.Version(version.Print("gpuprice"))
	app.HelpFlag.Short('h')
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)
	commands := addCommands(app, logCfg)

	cmd := kingpin.MustParse(app.Parse(os.Args[1:]))
	logger := promslog.New(logCfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := commands[cmd](ctx, logger); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "gpuprice:", err)
		os.Exit(1)
	}
}

// command runs one parsed command.
type command func(ctx context.Context, logger *slog.Logger) error

// addCommands defines the commands and their flags, and returns what runs
// each, by its full name.
func addCommands(app *kingpin.Application, logCfg *promslog.Config) map[string]command {
	serve := app.Command("serve", "Run the daemon.")
	if !completing(os.Args[1:]) {
		serve.Default()
	}
	serveOpts := daemonFlags(serve)
	serveConfig := serve.Flag("config.file", "Configuration file; without it, built-in defaults (SQLite under data/, the providers that need no credentials).").String()

	demo := app.Command("demo", "Run the daemon with every provider pointed at built-in fake APIs (no network or credentials needed).")
	demoOpts := daemonFlags(demo)
	demoInterval := demo.Flag("demo.interval", "Refresh interval of the demo providers.").Default("15s").Duration()
	demoDip := demo.Flag("demo.dip", "Every this long, halve every price of the fakes for the second half of the period, to watch price alerts fire (0: never).").Default("0s").Duration()

	collect := app.Command("collect", "Run one refresh and print the quotes.")
	collectOpts := collectFlags(collect)

	breakeven := app.Command("breakeven", "Compare renting and buying GPUs for a workload, from price history and the owned: and static: entries.")
	breakevenOpts := breakevenFlags(breakeven)

	history := app.Command("history", "Query price history: change points, resampled or aggregated series, statistics (/api/v1/history).")
	historyOpts := historyFlags(history)
	export := app.Command("export", "Export raw price history as CSV, Parquet or OpenMetrics (/api/v1/export).")
	exportOpts := exportFlags(export)

	storeCmd := app.Command("store", "Manage history stores.")
	storeCopy := storeCmd.Command("copy", "Copy a history (series, points, withdrawals, poll log) into a PostgreSQL store; run again, it writes only what is missing.")
	storeCopyOpts := storeCopyFlags(storeCopy)

	check := app.Command("check-config", "Validate a configuration file.")
	checkFile := check.Arg("file", "Configuration file.").Required().String()

	prices := app.Command("prices", "Current prices of a running gpuprice, cheapest first (/api/v1/prices).")
	pricesOpts := quotesFlags(prices)
	cheapest := app.Command("cheapest", "The cheapest current price per GPU model, memory and pricing model of a running gpuprice (/api/v1/cheapest).")
	cheapestOpts := quotesFlags(cheapest)

	health := app.Command("healthcheck", "Probe a running gpuprice's /-/healthy (or /-/ready): exit 0 when it answers 200, 1 otherwise (the container HEALTHCHECK).")
	healthOpts := healthcheckFlags(health)

	benchScale := app.Command("bench-scale", "Run the daemon (a child gpuprice serve) against fakes at full scale (30k Vast.ai offers, 100k Azure rows, 40k GCP SKUs, AWS 90-day spot backfill) and print refresh times, scrape times and its peak RSS.")
	benchScaleOpts := benchScaleFlags(benchScale)

	completion := app.Command("completion", "Print a shell completion script: source <(gpuprice completion bash).")
	completionShell := completion.Arg("shell", "bash, zsh or fish.").Required().HintOptions(completionShells...).Enum(completionShells...)

	return map[string]command{
		serve.FullCommand(): func(ctx context.Context, logger *slog.Logger) error {
			return runServe(ctx, logger, *serveConfig, serveOpts)
		},
		demo.FullCommand(): func(ctx context.Context, logger *slog.Logger) error {
			return runDemo(ctx, logger, *demoInterval, *demoDip, demoOpts)
		},
		collect.FullCommand(): func(context.Context, *slog.Logger) error {
			cliLogger, clearBar := newCLILogger(logCfg, os.Stderr)
			defer clearBar()
			return runCollect(cliLogger, collectOpts, os.Stdout)
		},
		check.FullCommand(): func(context.Context, *slog.Logger) error { return checkConfig(*checkFile, os.Stdout) },
		prices.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			return runQuotes(ctx, "/api/v1/prices", pricesOpts, os.Stdout, time.Now())
		},
		cheapest.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			return runQuotes(ctx, "/api/v1/cheapest", cheapestOpts, os.Stdout, time.Now())
		},
		health.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			return runHealthcheck(ctx, healthOpts, os.Stdout)
		},
		benchScale.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			return runBenchScale(ctx, benchScaleOpts, os.Stdout)
		},
		completion.FullCommand(): func(context.Context, *slog.Logger) error {
			return writeCompletion(app, *completionShell, os.Stdout)
		},
		breakeven.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			return runBreakeven(ctx, breakevenOpts, os.Stdout)
		},
		history.FullCommand(): func(ctx context.Context, logger *slog.Logger) error {
			return runHistory(ctx, logger, historyOpts, os.Stdout)
		},
		storeCopy.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			cliLogger, clearBar := newCLILogger(logCfg, os.Stderr)
			defer clearBar()
			return runStoreCopy(ctx, cliLogger, storeCopyOpts, os.Stdout)
		},
		export.FullCommand(): func(ctx context.Context, _ *slog.Logger) error {
			cliLogger, clearBar := newCLILogger(logCfg, os.Stderr)
			defer clearBar()
			return runExport(ctx, cliLogger, exportOpts, os.Stdout)
		},
	}
}

// daemonOptions are the flags shared by serve and demo.
type daemonOptions struct {
	web            *web.FlagConfig
	storagePath    *string
	disableRuntime *bool
	// enableLifecycle allows POST /-/reload; off by default, as in
	// Prometheus: without it anyone who reaches the port could make the
	// daemon re-read its files.
	enableLifecycle *bool
	// maxQueries and maxExportRows bound the history queries served at
	// once and the size of one export (api.Options).
	maxQueries    *int
	maxExportRows *int64
	// The HA group's (driver postgres); nil fields take the defaults.
	instanceID           *string
	leaseTTL, leaseRenew *time.Duration
}

func daemonFlags(cmd *kingpin.CmdClause) daemonOptions {
	return daemonOptions{
		web:             kingpinflag.AddFlags(cmd, defaultListen),
		storagePath:     cmd.Flag("storage.path", "Directory of the history store (created if missing); overrides storage.path.").String(),
		disableRuntime:  cmd.Flag("web.disable-exporter-metrics", "Exclude go_* and process_* metrics from /metrics.").Bool(),
		enableLifecycle: cmd.Flag("web.enable-lifecycle", "Enable configuration reload via HTTP request (POST /-/reload).").Bool(),
		maxQueries:      cmd.Flag("query.max-concurrency", "Maximum history queries (history, history/stats, export, breakeven) served at once; beyond it they get 429 with Retry-After.").Default("4").Int(),
		maxExportRows:   cmd.Flag("query.max-export-rows", "Maximum rows (CSV, Parquet) or samples (OpenMetrics) one /api/v1/export may write; 0: no limit.").Default("5000000").Int64(),
		instanceID:      cmd.Flag("cluster.instance-id", "This replica's name in the HA group of the processes sharing a PostgreSQL store; default hostname:pid.").String(),
		leaseTTL:        cmd.Flag("cluster.lease-ttl", "How long a provider's lease lasts unless renewed (HA group).").Default("15s").Hidden().Duration(),
		leaseRenew:      cmd.Flag("cluster.renew-interval", "How often leases are renewed and taken (HA group).").Default("5s").Hidden().Duration(),
	}
}

// checkConfig is the check-config command: the loader the daemon uses,
// then a summary of what the file configures.
func checkConfig(file string, out io.Writer) error {
	cfg, err := config.LoadFile(file)
	if err != nil {
		return err
	}
	var enabled []string
	cfg.Providers.Each(func(name string, s config.Section) {
		if c := s.Shared(); c.Enabled {
			enabled = append(enabled, fmt.Sprintf("%s (every %s)", name, c.Interval))
		}
	})
	fmt.Fprintf(out, "%s: OK\nstorage: %s at %s, retention %s\nproviders enabled: %v\n", file, cfg.Storage.Driver, describeStorage(cfg.Storage), cfg.Storage.Retention, enabled)
	return nil
}
