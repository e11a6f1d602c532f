package postgres

import (
	"testing"
	"time"
)

// TestWatermark: a remote-write target's watermark survives the store's
// reopening, and each target has its own.
func TestWatermark(t *testing.T) {
	s := openTest(t, "watermark", Options{})
	ctx := t.Context()
	if w, err := s.Watermark(ctx, "vm"); err != nil || !w.IsZero() {
		t.Fatalf("fresh store: %v, %v", w, err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, w := range []time.Time{at.Add(-time.Hour), at} {
		if err := s.SetWatermark(ctx, "vm", w); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, "watermark", Options{})
	defer s.Close()
	if w, err := s.Watermark(ctx, "vm"); err != nil || !w.Equal(at) {
		t.Errorf("after reopening: %v, %v; want %v", w, err, at)
	}
	if w, _ := s.Watermark(ctx, "mimir"); !w.IsZero() {
		t.Errorf("another target's watermark: %v", w)
	}
}
