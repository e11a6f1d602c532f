package sqlite

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

func TestReader(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	defer s.Close()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	q := price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a",
		PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, USDPerHour: 30}
	record := func(minute int, quotes ...price.Quote) {
		t.Helper()
		end := t0.Add(time.Duration(minute) * time.Minute)
		_, err := s.Record(t.Context(), store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
			&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes})
		if err != nil {
			t.Fatal(err)
		}
	}
	record(0, q)

	// The daemon's store holds the lock; the reader does not need it.
	r, err := OpenReader(dir, Options{})
	if err != nil {
		t.Fatalf("OpenReader while the store is open: %v", err)
	}
	defer r.Close()

	same := func(what string) {
		t.Helper()
		want, err := s.History(t.Context(), store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.History(t.Context(), store.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reader sees\n%+v\nstore has\n%+v", what, got, want)
		}
		wantPolls, _ := s.Polls(t.Context(), "", time.Time{}, time.Time{})
		gotPolls, err := r.Polls(t.Context(), "", time.Time{}, time.Time{})
		if err != nil || !reflect.DeepEqual(gotPolls, wantPolls) {
			t.Errorf("%s: reader polls %+v (%v), store %+v", what, gotPolls, err, wantPolls)
		}
	}
	same("after the first refresh")
	q.USDPerHour = 31
	record(10, q)
	same("a commit made after the reader opened")

	if _, err := r.db.Exec("DELETE FROM polls"); err == nil {
		t.Error("a write through the reader succeeded")
	}
}

func TestOpenReaderRefuses(t *testing.T) {
	t.Run("no store", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		_, err := OpenReader(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), "gpuprice.db does not exist") {
			t.Fatalf("OpenReader: %v, want a missing-store error", err)
		}
	})
	t.Run("a newer schema version", func(t *testing.T) {
		dir := t.TempDir()
		s := openTest(t, dir, Options{})
		if _, err := s.w.Exec("UPDATE meta SET value = '4' WHERE key = 'schema_version'"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := OpenReader(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), "schema version 4, this gpuprice knows versions 1 to 3") {
			t.Fatalf("OpenReader: %v, want a schema version error", err)
		}
	})
}

// TestOpenReaderVersion1: a file of schema version 1 is read as it is,
// without the currency columns it lacks, and left at version 1.
func TestOpenReaderVersion1(t *testing.T) {
	dir := t.TempDir()
	writeV1(t, dir)
	r, err := OpenReader(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	series, err := r.History(t.Context(), store.Query{})
	if err != nil || len(series) != 1 || len(series[0].Points) != 1 {
		t.Fatalf("History: %+v, %v", series, err)
	}
	if l, p := series[0].Labels, series[0].Points[0]; l.Provider != "lambda" || l.Currency != "" || p.USDPerHour != 0.75 || p.CurrencyPerHour != 0 {
		t.Errorf("read back %+v %+v", l, p)
	}
	counts, err := r.Count(t.Context(), store.Query{})
	if err != nil || len(counts) != 1 || counts[0].Points != 1 {
		t.Errorf("Count: %+v, %v", counts, err)
	}
	var v string
	if err := r.db.QueryRow("SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v); err != nil || v != "1" {
		t.Errorf("schema version %q, %v; want 1, untouched", v, err)
	}
}
