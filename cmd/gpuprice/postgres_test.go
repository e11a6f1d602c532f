package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// TestServePostgresDownAtStartup starts the daemon on a PostgreSQL store
// whose server is down: it serves /-/healthy, says on /-/ready why it is
// not ready (without the password, there or in its logs), retries, and
// once the server is up opens the store, refreshes and becomes ready; the
// history commands read the same store.
func TestServePostgresDownAtStartup(t *testing.T) {
	srv := pgtest.New(t)
	dsn := srv.Schema(t, pgtest.Unique(t))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	defer func(b struct{ first, max time.Duration }) { openBackoff = b }(openBackoff)
	openBackoff.first, openBackoff.max = 20*time.Millisecond, 200*time.Millisecond

	f := startProviderFakes(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := writeConfig(t, dir, f, "storage:\n  driver: postgres\n  dsn_file: dsn\n")
	d := startServe(t, cfgFile, "")

	waitFor(t, "healthy", func() bool { code, _ := d.get(t, "/-/healthy"); return code == 200 })
	var why string
	waitFor(t, "a reason on /-/ready", func() bool {
		code, body := d.get(t, "/-/ready")
		why = body
		return code == 503 && strings.Contains(body, "retrying in")
	})
	if !strings.HasPrefix(why, "Not ready: history store: connect to postgres://gpuprice@127.0.0.1:") || !strings.Contains(why, "connection refused") {
		t.Errorf("/-/ready: %q, want the connection failure", why)
	}
	if code, body := d.get(t, "/api/v1/history?provider=azure&start=0"); code == 200 {
		t.Errorf("history without a store: %d %.200s", code, body)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Log(d.logs.String())
		}
	}()
	waitFor(t, "ready once the database is up", func() bool { code, _ := d.get(t, "/-/ready"); return code == 200 })
	waitFor(t, "both providers in /metrics", d.metricsHave(t, h100EastUS, `gpuprice_collector_success{provider="vastai"} 1`))
	var body string
	waitFor(t, "history in the database", func() bool {
		var code int
		code, body = d.get(t, "/api/v1/history?provider=azure&instance_type=Standard_ND96isr_H100_v5&region=eastus&pricing_model=on_demand&start=0")
		return code == 200 && strings.Contains(body, `"usd_per_hour":98.32`)
	})
	_, providers := d.get(t, "/api/v1/providers")
	d.stop(t)

	cfg, err := config.LoadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := openReader(t.Context(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	series, err := r.History(t.Context(), store.Query{Provider: "vastai"})
	if err != nil || len(series) == 0 {
		t.Errorf("history command's reader: %d series, %v", len(series), err)
	}

	for what, text := range map[string]string{"/-/ready": why, "/api/v1/providers": providers, "the logs": d.logs.String()} {
		if strings.Contains(text, srv.Password()) {
			t.Errorf("%s show the database password:\n%s", what, text)
		}
	}
	if !strings.Contains(d.logs.String(), "cannot open the store; retrying") || !strings.Contains(d.logs.String(), "store opened") {
		t.Errorf("logs lack the retries or the opening:\n%s", d.logs)
	}
}

// TestStoreCopy copies a SQLite history (points, withdrawals, failed and
// successful polls) into PostgreSQL twice: the second run writes nothing,
// and both stores then hold the same history.
func TestStoreCopy(t *testing.T) {
	dir := t.TempDir()
	lite, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 31, 23, 0, 0, 0, time.UTC) // a refresh in each of two months
	q := func(zone string, usd float64) price.Quote {
		return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: zone, Geo: "na",
			PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, GPURaw: "H100", USDPerHour: usd}
	}
	for i, quotes := range [][]price.Quote{{q("a", 30), q("b", 31)}, {q("a", 32)}, nil, {q("a", 32), q("b", 33)}} {
		end := t0.Add(time.Duration(i) * 30 * time.Minute)
		poll := store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: quotes != nil, Quotes: len(quotes)}
		var snap *price.Snapshot
		if quotes != nil {
			snap = &price.Snapshot{Provider: "aws", Time: end, Quotes: quotes}
		} else {
			poll.Error = "503"
		}
		if _, err := lite.Record(t.Context(), poll, snap); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lite.Backfill(t.Context(), []price.Quote{func() price.Quote { x := q("c", 29); x.EffectiveAt = t0.Add(-48 * time.Hour); return x }()}); err != nil {
		t.Fatal(err)
	}
	lite.Close()

	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(pgtest.DSN(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	from, to := "sqlite:"+dir, dsnFile
	opts := storeCopyOptions{from: &from, config: new(string), toDSNFile: &to}
	var out strings.Builder
	logger := slog.New(slog.DiscardHandler)
	if err := runStoreCopy(t.Context(), logger, opts, &out); err != nil {
		t.Fatal(err)
	}
	if want := "copied 3 series (3 new), 6 points (6 new, 0 already there), 4 polls new"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("first copy: %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := runStoreCopy(t.Context(), logger, opts, &out); err != nil {
		t.Fatal(err)
	}
	if want := "copied 3 series (0 new), 6 points (0 new, 6 already there), 0 polls new"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("second copy: %q, want %q", out.String(), want)
	}

	src, err := openCopySource(t.Context(), from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pgFrom := "postgres:" + dsnFile
	dst, err := openCopySource(t.Context(), pgFrom)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	want, _ := src.History(t.Context(), store.Query{})
	got, err := dst.History(t.Context(), store.Query{})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("history after the copy:\n got %+v (%v)\nwant %+v", got, err, want)
	}
	wantPolls, _ := src.Polls(t.Context(), "", time.Time{}, time.Time{})
	gotPolls, err := dst.Polls(t.Context(), "", time.Time{}, time.Time{})
	if err != nil || !reflect.DeepEqual(gotPolls, wantPolls) {
		t.Errorf("polls after the copy:\n got %+v (%v)\nwant %+v", gotPolls, err, wantPolls)
	}

}

// TestWriteQueue stops the database under the daemon's writes: the
// refreshes meanwhile are kept, and written in order once it is back, so
// that every change point has its own time.
func TestWriteQueue(t *testing.T) {
	srv := pgtest.New(t)
	st, err := postgres.Open(t.Context(), srv.Schema(t, pgtest.Unique(t)), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := &writeQueue{st: st, logger: slog.New(slog.DiscardHandler)}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	record := func(minute int, usd float64) error {
		end := t0.Add(time.Duration(minute) * time.Minute)
		q := price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "a",
			PricingModel: price.Spot, GPUCount: 8, USDPerHour: usd, ObservedAt: end}
		_, err := w.Record(t.Context(), store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: 1},
			&price.Snapshot{Provider: "aws", Time: end, Quotes: []price.Quote{q}})
		return err
	}
	if err := record(0, 30); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := record(10, 31); err == nil || !strings.Contains(err.Error(), "1 refreshes waiting") {
		t.Fatalf("write with the database down: %v", err)
	}
	if err := record(20, 32); err == nil || !strings.Contains(err.Error(), "2 refreshes waiting") {
		t.Fatalf("second write with the database down: %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := record(30, 32); err != nil {
		t.Fatalf("first write with the database back: %v", err)
	}
	series, err := st.History(t.Context(), store.Query{})
	if err != nil || len(series) != 1 {
		t.Fatalf("History: %v, %v", series, err)
	}
	var got []string
	for _, p := range series[0].Points {
		got = append(got, fmt.Sprintf("@%d %g", int(p.Time.Sub(t0)/time.Minute), p.USDPerHour))
	}
	if want := []string{"@0 30", "@10 31", "@20 32"}; !reflect.DeepEqual(got, want) {
		t.Errorf("points %q, want %q: every change at its own time", got, want)
	}
	if polls, _ := st.Polls(t.Context(), "aws", time.Time{}, time.Time{}); len(polls) != 4 {
		t.Errorf("%d polls logged, want all 4", len(polls))
	}

	// A refresh the store refuses (here a snapshot of another provider)
	// is its caller's error, also when it was queued behind kept ones.
	srv.Stop()
	if err := record(40, 33); err == nil {
		t.Fatal("write with the database down again: no error")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(50 * time.Minute)
	_, err = w.Record(t.Context(), store.Poll{Provider: "aws", Start: end, OK: true},
		&price.Snapshot{Provider: "gcp", Time: end})
	if err == nil || strings.Contains(err.Error(), "waiting") {
		t.Errorf("a refused refresh behind a kept one: %v, want the store's refusal", err)
	}
	if len(w.q) != 0 {
		t.Errorf("%d refreshes still kept, want none (the kept one written, the refused one dropped)", len(w.q))
	}
}

// TestExportLimitPostgres: the daemon's export limit holds on a PostgreSQL
// store as on SQLite: the store counts (store.Counter), through the
// storeGate, before anything is written.
func TestExportLimitPostgres(t *testing.T) {
	st, err := postgres.Open(t.Context(), pgtest.DSN(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var quotes []price.Quote
	for i := range 30 {
		quotes = append(quotes, price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: fmt.Sprintf("us-east-1%c", 'a'+i%3),
			PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, USDPerHour: 30 + float64(i), EffectiveAt: time.Date(2025, 6, 1, i, 0, 0, 0, time.UTC)})
	}
	if _, err := st.Backfill(t.Context(), quotes); err != nil {
		t.Fatal(err)
	}
	gate := &storeGate{}
	gate.set(st)
	defer gate.Close()
	mux := http.NewServeMux()
	api.New(api.Options{Store: gate, MaxExportRows: 20}).Register(mux)
	for _, tt := range []struct {
		query string
		code  int
		body  string
	}{
		{"", http.StatusBadRequest, "the export would write 30 rows, more than this server's limit of 20 per request"},
		{"?start=2025-06-01T00:00:00Z&end=2025-06-01T14:00:00Z", http.StatusOK, "provider,instance_type"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/export"+tt.query, nil))
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("/api/v1/export%s: %d %.300s; want %d and %q", tt.query, rec.Code, rec.Body.String(), tt.code, tt.body)
		}
	}
}
