package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// The kill -9 test: a child process (this test binary, re-executed) writes
// refreshes in a loop and prints "committed N" after each successful
// Record; the parent SIGKILLs it at random moments, then checks that the
// file is intact and holds every refresh the child reported.
const (
	crashDirEnv   = "GPUPRICE_STORE_CRASH_DIR"   // set: run as the child, on this store
	crashStartEnv = "GPUPRICE_STORE_CRASH_START" // first refresh the child writes
	crashSeries   = 300
	crashRounds   = 12
)

var crashBase = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// crashTime is when refresh i ended.
func crashTime(i int) time.Time { return crashBase.Add(time.Duration(i) * time.Minute) }

// crashQuote is series j in refresh i, and whether refresh i lists it.
// Each series changes price every 4 refreshes and, after the first
// refresh, is missing from about one refresh in 17, so refreshes write
// changes and withdrawals.
func crashQuote(i, j int) (price.Quote, bool) {
	return price.Quote{
		Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: fmt.Sprintf("z%03d", j),
		Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8,
		USDPerHour: 10 + float64(j) + 0.5*float64((i+j)/4),
	}, i == 0 || (7*i+j)%17 != 0
}

// crashBackfill is history before the first refresh, written by every
// child before its refreshes in small batches, so that some kills land in
// the middle of a backfill.
func crashBackfill() []price.Quote {
	var qs []price.Quote
	for j := range 60 {
		for k := range 50 {
			q, _ := crashQuote(0, j)
			q.USDPerHour = 5 + float64(k%7)
			q.EffectiveAt = crashBase.Add(-time.Duration(50-k) * time.Minute)
			qs = append(qs, q)
		}
	}
	return qs
}

// crashChild is the child's loop; it never returns.
func crashChild(dir string) {
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := Open(dir, Options{BackfillBatch: 500})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if _, err := s.Backfill(ctx, crashBackfill()); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("backfilled")
	deadline := time.Now().Add(30 * time.Second) // in case the parent is gone
	for i := start; time.Now().Before(deadline); i++ {
		var quotes []price.Quote
		for j := range crashSeries {
			if q, ok := crashQuote(i, j); ok {
				quotes = append(quotes, q)
			}
		}
		end := crashTime(i)
		poll := store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)}
		if _, err := s.Record(ctx, poll, &price.Snapshot{Provider: "aws", Time: end, Quotes: quotes}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", i)
	}
	os.Exit(3)
}

func TestKill9(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
	}
	if testing.Short() {
		t.Skip("kill -9 loop skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	committed := map[int]bool{}
	next := 0
	for round := range crashRounds {
		// Even rounds kill at a random moment after the child starts
		// (opening, backfilling or refreshing); odd ones at a random
		// moment after its first commit.
		var delay time.Duration
		if round%2 == 0 {
			delay = time.Duration(rng.IntN(400)) * time.Millisecond
		} else {
			delay = time.Duration(rng.IntN(300)) * time.Millisecond
		}
		roundStart := time.Now()
		got := runCrashChild(t, dir, next, round%2 == 0, delay)
		for _, i := range got {
			committed[i] = true
			next = max(next, i+1)
		}
		t.Logf("round %d: killed after %v, %d refreshes reported committed (%v)", round, delay, len(got), time.Since(roundStart))
		verifyCrash(t, dir, committed)
		if t.Failed() {
			return
		}
	}
	if len(committed) == 0 {
		t.Fatal("no child reported a commit")
	}

	// The backfill, re-run by every child and perhaps cut short, is
	// complete once re-run to the end, and idempotent afterwards.
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bf := crashBackfill()
	res, err := s.Backfill(t.Context(), bf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points+res.Skipped != len(bf) || res.NewSeries != 0 {
		t.Errorf("backfill re-run: %+v, want %d points written or skipped", res, len(bf))
	}
	res, err = s.Backfill(t.Context(), bf)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Result{Skipped: len(bf)}); res != want {
		t.Errorf("second backfill re-run: %+v, want %+v", res, want)
	}
}

// runCrashChild starts a child writing refreshes from start on, kills it
// delay after its start (or after its first commit), and returns the
// refreshes it reported committed.
func runCrashChild(t *testing.T, dir string, start int, fromStart bool, delay time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashStartEnv+"="+strconv.Itoa(start))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var (
		got    []int
		failed string
	)
	handle := func(line string) {
		if n, ok := strings.CutPrefix(line, "committed "); ok {
			i, err := strconv.Atoi(n)
			if err != nil {
				failed = "bad line " + line
			}
			got = append(got, i)
		} else if strings.HasPrefix(line, "error") {
			failed = line
		}
	}
	var kill <-chan time.Time
	if fromStart {
		kill = time.After(delay)
	}
	timeout := time.After(20 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break wait // exited by itself: reported below
			}
			handle(line)
			if kill == nil && len(got) > 0 {
				kill = time.After(delay)
			}
		case <-kill:
			break wait
		case <-timeout:
			failed = "no commit within 20s"
			break wait
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for line := range lines { // what it printed before it died
		handle(line)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 { // -1: killed by a signal
		failed = fmt.Sprintf("child ended with %v, not by our kill", err)
	}
	if failed != "" {
		t.Fatalf("child: %s\nstderr:\n%s", failed, stderr.String())
	}
	return got
}

// verifyCrash opens the store after a kill and checks it: integrity, and
// the price in effect at every reported refresh.
func verifyCrash(t *testing.T, dir string, committed map[int]bool) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	if rows, err := s.w.Query("PRAGMA foreign_key_check"); err != nil {
		t.Fatal(err)
	} else {
		if rows.Next() {
			t.Error("foreign_key_check found orphan points")
		}
		rows.Close()
	}

	history, err := s.History(t.Context(), store.Query{Start: crashBase.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	points := map[string][]store.Point{}
	for _, sr := range history {
		points[sr.Labels.Zone] = sr.Points
	}
	polls, err := s.Polls(t.Context(), "aws", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	logged := map[int64]bool{}
	for _, p := range polls {
		logged[p.End().UnixMilli()] = true
	}

	var missing []string
	for i := range committed {
		end := crashTime(i)
		if !logged[end.UnixMilli()] {
			missing = append(missing, fmt.Sprintf("poll of refresh %d", i))
		}
		for j := range crashSeries {
			q, listed := crashQuote(i, j)
			want := store.Point{USDPerHour: q.USDPerHour}
			if !listed {
				want = store.Point{Withdrawn: true}
			}
			pts := points[q.Zone]
			// The point in effect at the refresh's end: the last one not after it.
			k, _ := slices.BinarySearchFunc(pts, end, func(p store.Point, t time.Time) int { return p.Time.Compare(t) })
			if k < len(pts) && pts[k].Time.Equal(end) {
				k++
			}
			if k == 0 {
				missing = append(missing, fmt.Sprintf("series %s at refresh %d: no point", q.Zone, i))
				continue
			}
			if got := pts[k-1]; got.USDPerHour != want.USDPerHour || got.Withdrawn != want.Withdrawn {
				missing = append(missing, fmt.Sprintf("series %s at refresh %d: %+v in effect, want %+v", q.Zone, i, got, want))
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Fatalf("%d committed facts missing, e.g. %q", len(missing), missing[:min(5, len(missing))])
	}
}
