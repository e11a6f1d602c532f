package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"go.yaml.in/yaml/v3"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// benchScaleOptions are the flags of bench-scale.
type benchScaleOptions struct {
	binary  *string
	huge    *bool
	scrapes *int
	timeout *time.Duration
	keep    *bool
	only    *[]string
}

func benchScaleFlags(cmd *kingpin.CmdClause) benchScaleOptions {
	return benchScaleOptions{
		binary:  cmd.Flag("bench.binary", "The gpuprice binary run as the daemon (default: this one), to compare builds.").String(),
		huge:    cmd.Flag("bench.huge", "Every fake answers every request with a body far over the client's limit, at once: each refresh must fail early with an error naming the limit.").Bool(),
		scrapes: cmd.Flag("bench.scrapes", "Scrapes of /metrics timed once every provider has refreshed.").Default("10").Int(),
		timeout: cmd.Flag("bench.timeout", "Give up waiting for the first refreshes after this long.").Default("3m").Duration(),
		keep:    cmd.Flag("bench.keep", "Keep the run's directory (configuration, store, daemon log) and print its path.").Bool(),
		only:    cmd.Flag("bench.provider", "Enable only this provider (repeatable; default: every provider with a fake).").Strings(),
	}
}

// The scale of bench-scale's fakes: DESIGN §10's figures.
const (
	benchVastOffers = 30_000
	benchAzureRows  = 100_000
	benchGCPFiller  = 40_000
)

// runBenchScale runs a daemon (gpuprice serve, a child process) against
// fakes at full scale served from this process — 30k Vast.ai offers, 100k
// Azure price rows, a 40k-SKU GCP catalog, AWS's 20 regions with a 90-day
// spot backfill, the other providers' recorded answers — and prints each
// provider's first refresh, the scrape times of /metrics and the daemon's
// peak RSS. With huge, every fake answers with a body over the limit
// instead, and every provider must fail with an error naming it.
func runBenchScale(ctx context.Context, o benchScaleOptions, out io.Writer) error {
	binary := *o.binary
	if binary == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		binary = self
	}
	dir, err := os.MkdirTemp("", "gpuprice-bench-scale-")
	if err != nil {
		return err
	}
	if *o.keep {
		fmt.Fprintln(out, "run directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	f, err := startScaledFakes(*o.huge)
	if err != nil {
		return err
	}
	defer f.Close()
	cfgFile := filepath.Join(dir, "gpuprice.yml")
	cfg := benchConfig(f, *o.only)
	text, err := configYAML(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfgFile, text, 0o600); err != nil {
		return err
	}
	addr, err := loopbackAddr()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, binary, "serve", "--config.file="+cfgFile, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	defer stop()

	base := "http://" + addr
	enabled := enabledProviders(cfg)
	fmt.Fprintf(out, "daemon %s (pid %d) against %d fakes; waiting for every provider's first refresh\n", binary, pid, len(enabled))
	statuses, err := waitRefreshed(ctx, base, enabled, *o.timeout)
	refreshed := time.Since(start)
	if err != nil {
		return fmt.Errorf("%w (daemon log: %s)", err, logFile.Name())
	}
	hwmRefresh := vmHWM(pid)

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "provider\tresult\trefresh s\tquotes\terror")
	failedRight, failedWrong := 0, 0
	for _, s := range statuses {
		result := "ok"
		if !s.Success {
			result = "failed"
			if strings.Contains(s.LastError, collectors.ErrTooLarge.Error()+": over the limit of") {
				failedRight++
			} else {
				failedWrong++
			}
		}
		msg := s.LastError
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%d\t%s\n", s.Name, result, s.LastDurationSeconds, s.Quotes, msg)
	}
	tw.Flush()
	fmt.Fprintf(out, "every first refresh done after %.1f s; peak RSS so far %s\n", refreshed.Seconds(), mib(hwmRefresh))

	var scrapes scrapeStats
	if !*o.huge {
		scrapes, err = timeScrapes(ctx, base, *o.scrapes)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "/metrics: %d series; gzip scrape median %s, max %s (%s); identity median %s, max %s (%s)\n",
			scrapes.series, ms(scrapes.gzip.median()), ms(scrapes.gzip.max()), mib(scrapes.gzipBytes),
			ms(scrapes.identity.median()), ms(scrapes.identity.max()), mib(scrapes.identityBytes))
	}
	hwm := vmHWM(pid)
	stop()
	// The child's rusage maxrss counts this process's RSS at the fork
	// too: VmHWM, read before the daemon stops, is the daemon's own.
	fmt.Fprintf(out, "peak RSS of the daemon: %s (VmHWM)\n", mib(hwm))
	if *o.huge && (failedWrong > 0 || failedRight != len(statuses)) {
		return fmt.Errorf("%d of %d providers did not fail with the size limit's error", len(statuses)-failedRight, len(statuses))
	}
	if !*o.huge {
		for _, s := range statuses {
			if !s.Success {
				return fmt.Errorf("provider %s failed: %s", s.Name, s.LastError)
			}
		}
	}
	return nil
}

// startScaledFakes serves every provider's fake, those with a scale at
// full scale.
func startScaledFakes(huge bool) (*fakes, error) {
	scaled := map[string]http.Handler{
		"vastai": fakecloud.NewVastAI(fakecloud.VastAIOptions{Synthesize: benchVastOffers}),
		"azure":  fakecloud.NewAzure(fakecloud.AzureOptions{Synthesize: benchAzureRows}),
		"gcp":    fakecloud.NewGCP(fakecloud.GCPOptions{Filler: benchGCPFiller}),
		"aws":    fakecloud.NewAWS(fakecloud.AWSOptions{}),
	}
	return startFakesWith(func(fake collectors.FakeAPI) (http.Handler, error) {
		h, ok := scaled[fake.Provider]
		if !ok {
			h = fake.Handler(fakecloud.Drift{})
		}
		if huge {
			faulty, ok := h.(fakecloud.Faulty)
			if !ok {
				return nil, fmt.Errorf("fake %s has no faults", fake.Provider)
			}
			for _, api := range []string{"", "ec2", "pricing", "offers", "compute", "products", "shapes"} {
				if q := faulty.FaultQueue(api); q != nil {
					q.Add(fakecloud.Fault{Kind: fakecloud.Huge})
				}
			}
		}
		return h, nil
	})
}

// benchConfig is every provider (or those of only) enabled against the fakes, refreshing
// once an hour (the run sees the first refresh only); AWS walks every
// region of its fake with the default 90-day spot backfill and the Price
// List, as a new production store would.
func benchConfig(f *fakes, only []string) *config.Config {
	cfg := config.Default()
	f.point(cfg)
	def := config.Default()
	cfg.Providers.Each(func(name string, s config.Section) {
		c := s.Shared()
		c.Enabled = len(only) == 0 || slices.Contains(only, name)
		c.Interval = config.Duration(time.Hour)
		c.RateLimit = 1000
		if name == "aws" {
			// Back to the production defaults that pointAtFake shortens.
			a, d := reflect.ValueOf(s).Elem(), reflect.ValueOf(def.Providers[name]).Elem()
			for _, field := range []string{"Regions", "SpotBackfill", "OnDemandSource"} {
				a.FieldByName(field).Set(d.FieldByName(field))
			}
		}
		if name == "vastai" {
			reflect.ValueOf(s).Elem().FieldByName("Limit").SetInt(2 * benchVastOffers)
		}
	})
	return cfg
}

func enabledProviders(cfg *config.Config) []string {
	var names []string
	cfg.Providers.Each(func(name string, s config.Section) {
		if s.Shared().Enabled {
			names = append(names, name)
		}
	})
	slices.Sort(names)
	return names
}

// configYAML writes cfg's providers and fx sections as a configuration
// file: the keys that differ from the defaults, secrets in clear (the
// fakes' dummy keys).
func configYAML(cfg *config.Config) ([]byte, error) {
	def := config.Default()
	providers := map[string]any{}
	for name, s := range cfg.Providers {
		providers[name] = diffYAML(reflect.ValueOf(s).Elem(), reflect.ValueOf(def.Providers[name]).Elem())
	}
	doc := map[string]any{
		"providers": providers,
		"fx":        diffYAML(reflect.ValueOf(&cfg.FX).Elem(), reflect.ValueOf(&def.FX).Elem()),
	}
	return yaml.Marshal(doc)
}

// diffYAML returns the yaml keys of struct v whose values differ from
// def's, with their values.
func diffYAML(v, def reflect.Value) map[string]any {
	out := map[string]any{}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		fv, dv := v.Field(i), def.Field(i)
		if opts == "inline" {
			for k, x := range diffYAML(fv, dv) {
				out[k] = x
			}
			continue
		}
		if reflect.DeepEqual(fv.Interface(), dv.Interface()) {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		switch x := fv.Interface().(type) {
		case config.Secret:
			out[name] = x.Value()
		case config.Duration:
			out[name] = time.Duration(x).String()
		default:
			if fv.Kind() == reflect.Struct {
				out[name] = diffYAML(fv, dv)
			} else {
				out[name] = x
			}
		}
	}
	return out
}

// loopbackAddr returns a loopback address with a free port.
func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// benchStatus is the part of /api/v1/providers read here.
type benchStatus struct {
	Name                string     `json:"provider"`
	Success             bool       `json:"success"`
	LastAttempt         *time.Time `json:"last_attempt"`
	LastDurationSeconds float64    `json:"last_duration_seconds"`
	LastError           string     `json:"last_error"`
	Quotes              int        `json:"quotes"`
}

// waitRefreshed polls the daemon until every provider has finished a
// refresh, successful or not.
func waitRefreshed(ctx context.Context, base string, providers []string, timeout time.Duration) ([]benchStatus, error) {
	deadline := time.Now().Add(timeout)
	for {
		statuses, err := providerStatuses(ctx, base)
		if err == nil {
			done := map[string]bool{}
			for _, s := range statuses {
				done[s.Name] = s.LastAttempt != nil
			}
			all := true
			for _, p := range providers {
				all = all && done[p]
			}
			if all {
				return statuses, nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not every provider refreshed")
			}
			return nil, fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func providerStatuses(ctx context.Context, base string) ([]benchStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/providers", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/api/v1/providers: HTTP %d", resp.StatusCode)
	}
	var ans struct {
		Data []benchStatus `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return nil, err
	}
	return ans.Data, nil
}

type durations []time.Duration

func (d durations) median() time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func (d durations) max() time.Duration { return slices.Max(d) }

type scrapeStats struct {
	gzip, identity           durations
	gzipBytes, identityBytes int64
	series                   int
}

// timeScrapes scrapes /metrics n times with gzip and n times without.
func timeScrapes(ctx context.Context, base string, n int) (scrapeStats, error) {
	var st scrapeStats
	// A transport that neither asks for gzip nor decompresses: the bytes
	// are timed as Prometheus receives them.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, gz := range []bool{true, false} {
		for range max(n, 1) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
			if err != nil {
				return st, err
			}
			if gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return st, err
			}
			var size int64
			series := 0
			if gz {
				size, err = io.Copy(io.Discard, resp.Body)
			} else {
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				for sc.Scan() {
					size += int64(len(sc.Bytes())) + 1
					if line := sc.Bytes(); len(line) > 0 && line[0] != '#' {
						series++
					}
				}
				err = sc.Err()
			}
			resp.Body.Close()
			took := time.Since(start)
			if err != nil {
				return st, err
			}
			if gz {
				st.gzip, st.gzipBytes = append(st.gzip, took), size
			} else {
				st.identity, st.identityBytes, st.series = append(st.identity, took), size, series
			}
		}
	}
	return st, nil
}

// vmHWM returns the peak resident set size of process pid (Linux), or 0.
func vmHWM(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
