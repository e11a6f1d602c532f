package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// `gpuprice store copy` moves a history into a PostgreSQL store: every
// series with its points (withdrawals included) and the poll log, skipping
// what the target has, so that it can be run again (after an interruption,
// or to catch up) and writes nothing twice. The target's DSN comes from a
// file or the configuration, never from a flag: it holds the password.

type storeCopyOptions struct {
	from, config, toDSNFile *string
}

func storeCopyFlags(cmd *kingpin.CmdClause) storeCopyOptions {
	return storeCopyOptions{
		from:      cmd.Flag("from", "Source store: sqlite:DIR (the directory of a SQLite store, read-only: a daemon may run on it), or postgres:FILE (a file holding a PostgreSQL DSN).").Default("sqlite:data").String(),
		config:    cmd.Flag("config.file", "Configuration whose PostgreSQL store (storage.dsn or storage.dsn_file, driver postgres) is the target.").String(),
		toDSNFile: cmd.Flag("to.dsn_file", "File holding the target PostgreSQL DSN, instead of --config.file's.").String(),
	}
}

// copyBatch is about how many points one import transaction holds.
const copyBatch = 50000

func runStoreCopy(ctx context.Context, logger *slog.Logger, o storeCopyOptions, out io.Writer) error {
	dsn, err := copyTarget(o)
	if err != nil {
		return err
	}
	src, err := openCopySource(ctx, *o.from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	logger.Info("copying history", "from", *o.from, "to", postgres.Describe(dsn))

	start := time.Now()
	progress := collectors.NewProgress(logger, "copy history", "points", 0)
	var (
		total store.Result
		nser  int
		batch []store.Series
		inB   int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := dst.Import(ctx, batch)
		if err != nil {
			return err
		}
		total.NewSeries += res.NewSeries
		total.Points += res.Points
		total.Skipped += res.Skipped
		progress.Add(int64(inB))
		batch, inB = batch[:0], 0
		return nil
	}
	err = src.HistoryEach(ctx, store.Query{}, func(sr store.Series) error {
		nser++
		batch = append(batch, sr)
		if inB += len(sr.Points); inB >= copyBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("copy history: %w", err)
	}
	progress.Finish()

	polls, err := src.Polls(ctx, "", time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("copy polls: %w", err)
	}
	added := 0
	for len(polls) > 0 {
		n := min(len(polls), 10000)
		a, err := dst.ImportPolls(ctx, polls[:n])
		if err != nil {
			return fmt.Errorf("copy polls: %w", err)
		}
		added += a
		polls = polls[n:]
	}
	fmt.Fprintf(out, "copied %d series (%d new), %d points (%d new, %d already there), %d polls new, in %s\n",
		nser, total.NewSeries, total.Points+total.Skipped, total.Points, total.Skipped, added, time.Since(start).Round(time.Millisecond))
	return nil
}

// copyTarget returns the target DSN: --to.dsn_file's, or the
// configuration's PostgreSQL store's.
func copyTarget(o storeCopyOptions) (string, error) {
	if *o.toDSNFile != "" {
		return readDSNFile(*o.toDSNFile, "--to.dsn_file")
	}
	if *o.config == "" {
		return "", fmt.Errorf("give the target: --config.file (with storage.driver postgres) or --to.dsn_file")
	}
	cfg, err := config.LoadFile(*o.config)
	if err != nil {
		return "", err
	}
	if cfg.Storage.Driver != config.Postgres {
		return "", fmt.Errorf("%s: storage.driver is %s: the target of a copy is a PostgreSQL store", *o.config, cfg.Storage.Driver)
	}
	return cfg.Storage.DSN.Value(), nil
}

func readDSNFile(path, flag string) (string, error) {
	dsn, err := config.ReadSecretFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return dsn, nil
}

// openCopySource opens the source named by --from read-only.
func openCopySource(ctx context.Context, from string) (historyReader, error) {
	kind, arg, _ := strings.Cut(from, ":")
	switch {
	case kind == "sqlite" && arg != "":
		r, err := sqlite.OpenReader(arg, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return r, nil
	case kind == "postgres" && arg != "":
		dsn, err := readDSNFile(arg, "--from")
		if err != nil {
			return nil, err
		}
		r, err := postgres.OpenReader(ctx, dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("--from %q: want sqlite:DIR or postgres:FILE", from)
}
