package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

// haProviders are the six providers of the HA test: Azure and Vast.ai
// against fakes of their own per replica (so that requests show which
// replica polled), and four fixed-price sources.
var haProviders = []string{"azure", "s1", "s2", "s3", "s4", "vastai"}

// haConfig writes a configuration of the six providers, refreshed every
// 5 s, on the PostgreSQL store of dsnFile.
func haConfig(t *testing.T, dir string, f *providerFakes, dsnFile string) string {
	t.Helper()
	text := fmt.Sprintf(`storage:
  driver: postgres
  dsn_file: %s
providers:
  azure:
    interval: 5s
    rate_limit: 200
    concurrency: 8
    endpoint: %s%s
  vastai:
    interval: 5s
    rate_limit: 50
    endpoint: %s%s
  runpod:
    enabled: false
static_interval: 5s
static:
`, dsnFile, f.urls["azure"], fakecloud.AzurePath, f.urls["vastai"], fakecloud.VastAIBasePath)
	for i := 1; i <= 4; i++ {
		text += fmt.Sprintf("  - {provider: s%d, gpu_model: A100, gpu_memory_gb: 80, usd_per_hour: %d, region: r%d}\n", i, i, i)
	}
	path := filepath.Join(dir, "gpuprice.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var leaseLine = regexp.MustCompile(`(?m)^gpuprice_lease_(held|epoch)\{provider="([^"]+)"\} (\d+)$`)

// leases returns a replica's gpuprice_lease_held and gpuprice_lease_epoch
// by provider.
func (d *daemon) leases(t *testing.T) (held, epoch map[string]int) {
	_, body := d.get(t, "/metrics")
	held, epoch = map[string]int{}, map[string]int{}
	for _, m := range leaseLine.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.Atoi(m[3])
		if m[1] == "held" {
			held[m[2]] = v
		} else {
			epoch[m[2]] = v
		}
	}
	return held, epoch
}

func count(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// TestHAGroup runs two replicas on one PostgreSQL store, one of them a
// child process: they split the six providers, each polled by one replica,
// both serve all six; the child paused past its leases' expiry loses them
// to the other and gets its share back once resumed; and when the child is
// killed (-9) the other takes its providers over within the lease's time
// to live and a renewal, with the next epoch, writing no change point twice
// and missing none.
func TestHAGroup(t *testing.T) {
	const ttl, renew = 3 * time.Second, time.Second
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	fa, fb := startProviderFakes(t), startProviderFakes(t)
	dirA, dirB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.Mkdir(dirA, 0o755)
	os.Mkdir(dirB, 0o755)
	cfgA, cfgB := haConfig(t, dirA, fa, dsnFile), haConfig(t, dirB, fb, dsnFile)

	// Replica a: a child process, to be killed.
	addrA := freeAddr(t)
	child := exec.Command(os.Args[0], "serve", "--config.file="+cfgA, "--web.listen-address="+addrA,
		"--cluster.instance-id=a", "--cluster.lease-ttl="+ttl.String(), "--cluster.renew-interval="+renew.String())
	child.Env = append(os.Environ(), "GPUPRICE_TEST_MAIN=1")
	var childLogs syncBuffer
	child.Stderr = &childLogs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			child.Process.Kill()
			child.Wait()
		}
	})
	a := &daemon{base: "http://" + addrA}
	defer func() {
		if t.Failed() {
			t.Logf("replica a's log:\n%s", childLogs.String())
		}
	}()
	waitFor(t, "a holds all six leases", func() bool { held, _ := a.leases(t); return count(held) == 6 })

	// Replica b, in this process.
	addrB := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	b := &daemon{base: "http://" + addrB, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	opts := options(addrB, "")
	id, ttlB, renewB := "b", ttl, renew
	opts.instanceID, opts.leaseTTL, opts.leaseRenew = &id, &ttlB, &renewB
	logger := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	go func() { b.done <- runServe(ctx, logger, cfgB, opts) }()
	t.Cleanup(func() { b.stop(t) })
	defer func() {
		if t.Failed() {
			t.Logf("replica b's log:\n%s", b.logs.String())
		}
	}()

	var heldA, heldB, epochB map[string]int
	split := func() bool {
		heldA, _ = a.leases(t)
		heldB, epochB = b.leases(t)
		if count(heldA) != 3 || count(heldB) != 3 {
			return false
		}
		for _, p := range haProviders {
			if heldA[p]+heldB[p] != 1 {
				return false
			}
		}
		return true
	}
	waitFor(t, "the leases split three and three", split)

	// a paused (SIGSTOP) past its leases' expiry: b takes all six with
	// the next epochs; a, resumed, finds its leases gone (its writes
	// would be refused), and the group splits again.
	_, epochPaused := b.leases(t)
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b holds all six leases while a is paused", func() bool { held, _ := b.leases(t); return count(held) == 6 })
	_, epochTaken := b.leases(t)
	for _, p := range haProviders {
		if want := epochPaused[p] + heldA[p]; epochTaken[p] != want {
			t.Errorf("%s: epoch %d once b took over from the paused a, want %d", p, epochTaken[p], want)
		}
	}
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the leases split again once a resumed", split)

	// Every replica serves every provider, its own and the other's.
	for _, d := range []*daemon{a, b} {
		var want []string
		for _, p := range haProviders {
			want = append(want, fmt.Sprintf(`gpuprice_collector_success{provider="%s"} 1`, p))
		}
		waitFor(t, "all six providers served by "+d.base, d.metricsHave(t, want...))
	}
	for _, p := range haProviders {
		holder := "a"
		if heldB[p] == 1 {
			holder = "b"
		}
		waitFor(t, "b's /api/v1/providers shows "+p+"'s holder", func() bool {
			_, body := b.get(t, "/api/v1/providers?provider="+p)
			return strings.Contains(body, `"holder":"`+holder+`"`)
		})
	}

	// Over two intervals each provider is polled by one replica only, and
	// about once an interval.
	reqA, reqB := fa.azure.Faults.Requests()+fa.vast.Faults.Requests(), fb.azure.Faults.Requests()+fb.vast.Faults.Requests()
	before := pollCounts(t, dsn)
	time.Sleep(10 * time.Second)
	after := pollCounts(t, dsn)
	for _, p := range haProviders {
		if n := after[p] - before[p]; n < 1 || n > 3 {
			t.Errorf("%s refreshed %d times in two intervals, want about 2 (one replica)", p, n)
		}
	}
	if a2, b2 := fa.azure.Faults.Requests()+fa.vast.Faults.Requests(), fb.azure.Faults.Requests()+fb.vast.Faults.Requests(); (heldA["azure"]+heldA["vastai"] == 0 && a2 != reqA) ||
		(heldB["azure"]+heldB["vastai"] == 0 && b2 != reqB) {
		t.Errorf("a replica polled a provider it does not hold: requests a %d→%d, b %d→%d", reqA, a2, reqB, b2)
	}
	azureB, vastB := fb.azure.Faults.Requests(), fb.vast.Faults.Requests()

	// kill -9 a: b takes its three providers over with the next epochs.
	_, epochA := a.leases(t)
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killed = true
	start := time.Now()
	time.Sleep(100 * time.Millisecond) // requests a sent before it died may still arrive
	azureA, vastA := fa.azure.Faults.Requests(), fa.vast.Faults.Requests()
	waitFor(t, "b holds all six leases", func() bool { held, _ := b.leases(t); return count(held) == 6 })
	took := time.Since(start)
	t.Logf("b took a's providers over in %s", took.Round(time.Millisecond))
	if limit := ttl + renew + 2*time.Second; took > limit {
		t.Errorf("takeover took %s, want at most the TTL and a renewal (%s, with slack)", took, limit)
	}
	_, epochAfter := b.leases(t)
	for _, p := range haProviders {
		if heldA[p] == 1 && epochAfter[p] != epochA[p]+1 {
			t.Errorf("%s: epoch %d after the takeover, a had %d", p, epochAfter[p], epochA[p])
		}
		if heldB[p] == 1 && epochAfter[p] != epochB[p] {
			t.Errorf("%s: epoch %d, b held it at %d", p, epochAfter[p], epochB[p])
		}
	}
	waitFor(t, "b polls a's providers", func() bool {
		return (heldA["azure"] == 0 || fb.azure.Faults.Requests() > azureB) && (heldA["vastai"] == 0 || fb.vast.Faults.Requests() > vastB)
	})
	if fa.azure.Faults.Requests() != azureA || fa.vast.Faults.Requests() != vastA {
		t.Error("a's fakes were asked after a died")
	}

	// Prices never changed: every series has one point, and no refresh,
	// by either replica, wrote a second one or a withdrawal.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var series, points int
	if err := conn.QueryRow(t.Context(), "SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM points)").Scan(&series, &points); err != nil {
		t.Fatal(err)
	}
	if series == 0 || points != series {
		t.Errorf("%d points for %d series of unchanging prices, want one each", points, series)
	}
}

// pollCounts returns the number of refreshes logged per provider.
func pollCounts(t *testing.T, dsn string) map[string]int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), "SELECT provider, count(*) FROM polls GROUP BY provider")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	var (
		p string
		n int
	)
	_, err = pgx.ForEachRow(rows, []any{&p, &n}, func() error { out[p] = n; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}
