package postgres

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

// TestLeases plays two replicas over one provider's lease: renewal keeps
// the epoch, a takeover waits for expiry and bumps it, a release hands over
// at once, and a write under a lost lease is refused and changes nothing.
func TestLeases(t *testing.T) {
	name := pgtest.Unique(t)
	a, b := openTest(t, name, Options{}), openTest(t, name, Options{})
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	const ttl = 300 * time.Millisecond
	acquire := func(s *Store, holder string, wantHeld bool, wantEpoch int64) Lease {
		t.Helper()
		l, held, err := s.Acquire(ctx, "aws", holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if held != wantHeld || l.Epoch != wantEpoch {
			t.Fatalf("Acquire by %s: held %t epoch %d (holder %s), want held %t epoch %d", holder, held, l.Epoch, l.Holder, wantHeld, wantEpoch)
		}
		return l
	}
	acquire(a, "a", true, 1)
	acquire(a, "a", true, 1) // renewal
	if l := acquire(b, "b", false, 1); l.Holder != "a" || !l.Held {
		t.Errorf("lease seen by b: %+v", l)
	}
	fenceA := WithFence(ctx, Fence{Provider: "aws", Holder: "a", Epoch: 1})
	if _, err := a.Record(fenceA, okPoll(0), snapshot(0, spot("1a", 30, time.Time{}))); err != nil {
		t.Fatalf("write under the lease: %v", err)
	}

	time.Sleep(ttl + 50*time.Millisecond)
	acquire(b, "b", true, 2) // taken over after expiry
	acquire(a, "a", false, 2)
	_, err := a.Record(fenceA, okPoll(10), snapshot(10, spot("1a", 31, time.Time{})))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("write under a lost lease: %v, want ErrFenced", err)
	}
	_, err = a.Backfill(fenceA, []price.Quote{spot("1a", 29, t0.Add(-time.Hour))})
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("backfill under a lost lease: %v, want ErrFenced", err)
	}
	if _, err := b.Reload(ctx, "aws"); err != nil {
		t.Fatal(err)
	}
	// b knows a's point: an unchanged price writes nothing.
	fenceB := WithFence(ctx, Fence{Provider: "aws", Holder: "b", Epoch: 2})
	if res, err := b.Record(fenceB, okPoll(20), snapshot(20, spot("1a", 30, time.Time{}))); err != nil || res != (store.Result{}) {
		t.Errorf("b's first refresh: %+v, %v; want nothing new", res, err)
	}
	if got, want := historyOf(t, b), map[string][]string{"1a": {"01-01 30"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("history: %v, want %v", got, want)
	}
	if polls, _ := b.Polls(ctx, "aws", time.Time{}, time.Time{}); len(polls) != 2 {
		t.Errorf("%d polls, want a's and b's (not the fenced one)", len(polls))
	}

	if err := b.Release(ctx, "aws", "b"); err != nil {
		t.Fatal(err)
	}
	acquire(a, "a", true, 3)
	leases, err := b.Leases(ctx)
	if err != nil || len(leases) != 1 || leases[0].Holder != "a" || leases[0].Epoch != 3 || !leases[0].Held {
		t.Errorf("Leases: %+v, %v", leases, err)
	}
	// A fence of another provider is refused.
	if _, err := a.Record(WithFence(ctx, Fence{Provider: "gcp", Holder: "a", Epoch: 3}), okPoll(30), snapshot(30)); !errors.Is(err, ErrFenced) {
		t.Errorf("write of aws under gcp's fence: %v", err)
	}
}

func okPoll(minute int) store.Poll {
	return store.Poll{Provider: "aws", Start: t0.Add(time.Duration(minute) * time.Minute), Duration: time.Second, OK: true}
}

func snapshot(minute int, quotes ...price.Quote) *price.Snapshot {
	end := t0.Add(time.Duration(minute)*time.Minute + time.Second)
	for i := range quotes {
		quotes[i].EffectiveAt, quotes[i].ObservedAt = time.Time{}, end
	}
	return &price.Snapshot{Provider: "aws", Time: end, Quotes: quotes}
}

func TestMembers(t *testing.T) {
	name := pgtest.Unique(t)
	s := openTest(t, name, Options{})
	defer s.Close()
	ctx := t.Context()
	for i, instance := range []string{"a", "b", "a"} {
		n, err := s.Heartbeat(ctx, instance, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(i+1, 2); n != want {
			t.Errorf("heartbeat %d of %s: %d members, want %d", i, instance, n, want)
		}
	}
	if _, _, err := s.Acquire(ctx, "aws", "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Heartbeat(ctx, "a", time.Minute); n != 1 {
		t.Errorf("%d members after b left, want 1", n)
	}
	if _, held, _ := s.Acquire(ctx, "aws", "a", time.Minute); !held {
		t.Error("b's lease not released when it left")
	}
}

// TestListen checks that a committed refresh is notified to listeners, of
// this process or another.
func TestListen(t *testing.T) {
	name := pgtest.Unique(t)
	a, b := openTest(t, name, Options{}), openTest(t, name, Options{})
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan string, 4)
	listening := make(chan error, 1)
	go func() { listening <- b.Listen(ctx, func(p string) { got <- p }) }()
	deadline := time.After(10 * time.Second)
	for {
		// The listener may not be listening yet: record until it hears.
		if _, err := a.Record(ctx, okPoll(0), snapshot(0, spot("1a", 30, time.Time{}))); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "aws" {
				t.Errorf("notified %q, want aws", p)
			}
			cancel()
			if err := <-listening; !errors.Is(err, context.Canceled) {
				t.Errorf("Listen returned %v after cancel", err)
			}
			return
		case err := <-listening:
			t.Fatalf("Listen: %v", err)
		case <-deadline:
			t.Fatal("no notification")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestLeaseSurvivesConnectionRecycling: with every pooled connection
// closed after 20ms, a holder renewing its lease keeps it at the same
// epoch and a second replica never gets it. Leases are rows, not session
// locks, so a connection's end cannot drop one.
func TestLeaseSurvivesConnectionRecycling(t *testing.T) {
	name := pgtest.Unique(t)
	dsn := pgtest.Get(t).Schema(t, name) + "&pool_max_conn_lifetime=20ms&pool_max_conn_lifetime_jitter=0s&pool_health_check_period=10ms"
	a, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := openTest(t, name, Options{})
	defer b.Close()
	ctx := t.Context()
	const ttl = 2 * time.Second
	before := a.pool.Stat().NewConnsCount()
	for i := range 40 {
		l, held, err := a.Acquire(ctx, "aws", "a", ttl)
		if err != nil || !held || l.Epoch != 1 {
			t.Fatalf("renewal %d by a: %+v held %t, %v; want held at epoch 1", i, l, held, err)
		}
		if l, held, err := b.Acquire(ctx, "aws", "b", ttl); err != nil || held || l.Holder != "a" {
			t.Fatalf("b's try %d: %+v held %t, %v; want a's lease", i, l, held, err)
		}
		// Let the pool close the connection the renewal used.
		deadline := time.Now().Add(time.Second)
		for n := a.pool.Stat().NewConnsCount(); a.pool.Stat().NewConnsCount() == n && time.Now().Before(deadline); {
			if _, err := a.pool.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if opened := a.pool.Stat().NewConnsCount() - before; opened < 20 {
		t.Fatalf("the pool opened %d connections over 40 renewals: it did not recycle them", opened)
	}
}
