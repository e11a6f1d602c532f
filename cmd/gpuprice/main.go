// Command gpuprice is the GPU price daemon: it polls on-demand and spot GPU
// prices from cloud providers and marketplaces, keeps their history, and
// serves them to Prometheus and over a JSON/CSV API.
//
//	gpuprice serve [--config.file=gpuprice.yml]   the daemon
//	gpuprice demo                                 the daemon on built-in fake provider APIs
//	gpuprice collect --provider=azure             one refresh, printed
//	gpuprice check-config gpuprice.yml            validate a config file
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

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
	app.Version(version.Print("gpuprice"))
	app.HelpFlag.Short('h')
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)

	serve := app.Command("serve", "Run the daemon.").Default()
	serveOpts := daemonFlags(serve)
	serveConfig := serve.Flag("config.file", "Configuration file; without it, built-in defaults (SQLite under data/, the providers that need no credentials).").String()

	demo := app.Command("demo", "Run the daemon with every provider pointed at built-in fake APIs (no network or credentials needed).")
	demoOpts := daemonFlags(demo)
	demoInterval := demo.Flag("demo.interval", "Refresh interval of the demo providers.").Default("15s").Duration()

	collect := app.Command("collect", "Run one refresh and print the quotes.")
	collectOpts := collectFlags(collect)

	check := app.Command("check-config", "Validate a configuration file.")
	checkFile := check.Arg("file", "Configuration file.").Required().String()

	cmd := kingpin.MustParse(app.Parse(os.Args[1:]))
	logger := promslog.New(logCfg)
	if version.Version == "" {
		version.Version = "dev" // built without -ldflags (go run): say so
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd {
	case serve.FullCommand():
		err = runServe(ctx, logger, *serveConfig, serveOpts)
	case demo.FullCommand():
		err = runDemo(ctx, logger, *demoInterval, demoOpts)
	case collect.FullCommand():
		err = runCollect(logger, collectOpts, os.Stdout)
	case check.FullCommand():
		err = checkConfig(*checkFile, os.Stdout)
	}
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "gpuprice:", err)
		os.Exit(1)
	}
}

// daemonOptions are the flags shared by serve and demo.
type daemonOptions struct {
	web            *web.FlagConfig
	storagePath    *string
	disableRuntime *bool
}

func daemonFlags(cmd *kingpin.CmdClause) daemonOptions {
	return daemonOptions{
		web:            kingpinflag.AddFlags(cmd, defaultListen),
		storagePath:    cmd.Flag("storage.path", "Directory of the history store (created if missing); overrides storage.path.").String(),
		disableRuntime: cmd.Flag("web.disable-exporter-metrics", "Exclude go_* and process_* metrics from /metrics.").Bool(),
	}
}

func checkConfig(file string, out *os.File) error {
	cfg, err := config.LoadFile(file)
	if err != nil {
		return err
	}
	var enabled []string
	cfg.Providers.Each(func(name string, s config.Provider) {
		if s.Settings().Enabled {
			enabled = append(enabled, fmt.Sprintf("%s (every %s)", name, s.Settings().Interval))
		}
	})
	fmt.Fprintf(out, "%s: OK\nstorage: %s at %s, retention %s\nproviders enabled: %v\n", file, cfg.Storage.Driver, cfg.Storage.Path, cfg.Storage.Retention, enabled)
	return nil
}
