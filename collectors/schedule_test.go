package collectors

import (
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name          string
		n             int
		first, ceil   time.Duration
		wantMin, want time.Duration // the range of the wait
	}{
		{"first retry", 1, time.Second, time.Minute, 500 * time.Millisecond, time.Second},
		{"doubles", 3, time.Second, time.Minute, 2 * time.Second, 4 * time.Second},
		{"capped", 10, time.Second, time.Minute, 30 * time.Second, time.Minute},
		{"no overflow", 200, 15 * time.Second, time.Hour, 30 * time.Minute, time.Hour},
		{"first above ceiling", 1, time.Minute, time.Second, 500 * time.Millisecond, time.Second},
		{"no ceiling", 1, time.Second, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 {
				if d := backoff(tc.n, tc.first, tc.ceil); d < tc.wantMin || d > tc.want {
					t.Fatalf("backoff = %v, want in [%v, %v]", d, tc.wantMin, tc.want)
				}
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		name               string
		n                  int
		interval, ra       time.Duration
		wantMin, wantAtMax time.Duration
	}{
		{"first failure", 1, time.Hour, 0, 7500 * time.Millisecond, 15 * time.Second},
		{"third failure", 3, time.Hour, 0, 30 * time.Second, time.Minute},
		{"capped at interval", 20, 10 * time.Minute, 0, 5 * time.Minute, 10 * time.Minute},
		{"retry-after wins", 1, time.Hour, 2 * time.Minute, 2 * time.Minute, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 {
				d := retryDelay(tc.n, tc.interval, tc.ra)
				if d < tc.wantMin || d > tc.wantAtMax {
					t.Fatalf("retryDelay = %v, want in [%v, %v]", d, tc.wantMin, tc.wantAtMax)
				}
			}
		})
	}
}

func TestScheduleNext(t *testing.T) {
	now := time.Now()
	s := schedule{interval: time.Hour}
	within := func(what string, got time.Time, lo, hi time.Duration) {
		t.Helper()
		if d := got.Sub(now); d < lo || d > hi {
			t.Errorf("%s: next refresh in %v, want in [%v, %v]", what, d, lo, hi)
		}
	}
	within("success", s.next(now, nil), 54*time.Minute, 66*time.Minute)
	fail := errors.New("down")
	within("first failure", s.next(now, fail), 7500*time.Millisecond, 15*time.Second)
	within("second failure", s.next(now, fail), 15*time.Second, 30*time.Second)
	within("asked to wait", s.next(now, &HTTPError{StatusCode: 429, RetryAfter: 20 * time.Minute}), 20*time.Minute, 20*time.Minute)
	within("success again", s.next(now, nil), 54*time.Minute, 66*time.Minute)
	within("failure after a success backs off from the start", s.next(now, fail), 7500*time.Millisecond, 15*time.Second)
}
