package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

func TestExport(t *testing.T) {
	ts := newTestServer(t, nil)
	t.Run("csv by default, everything by default", func(t *testing.T) {
		rows := ts.getCSV(t, "/api/v1/export?provider=aws&gpu_model=H100")
		want := [][]string{
			historyHeader,
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T07:00:00Z", "39", "4.875", "false", ""},
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T10:00:00Z", "40", "5", "false", ""},
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T13:00:00Z", "48", "6", "false", ""},
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T15:00:00Z", "", "", "true", ""},
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T17:00:00Z", "44", "5.5", "false", ""},
			{"aws", "p5.48xlarge", "us-east-1", "us-east-1a", "na", "spot", "H100", "sxm", "80", "8", "", "", "2025-06-01T19:00:00Z", "50", "6.25", "false", ""},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("\n got %q\nwant %q", rows, want)
		}
	})
	t.Run("multi-valued filters and a range", func(t *testing.T) {
		rows := ts.getCSV(t, "/api/v1/export?provider=azure,vastai&pricing_model=spot&start=2025-06-01T12:00:00Z&end=2025-06-01T18:00:00Z")
		if got := column(t, rows, "provider"); strings.Join(got, ",") != "azure,vastai" {
			t.Errorf("providers %v", got)
		}
		if q := ts.store.lastQuery(); !q.Start.Equal(t0) || !q.End.Equal(t0.Add(6*time.Hour)) || q.Provider != "" || q.PricingModel != price.Spot {
			t.Errorf("store query %+v", q)
		}
	})
	tests := []struct {
		format, contentType, file string
		check                     func(body string) bool
	}{
		{"parquet", "application/vnd.apache.parquet", "gpuprice-history.parquet",
			func(b string) bool { return strings.HasPrefix(b, "PAR1") && strings.HasSuffix(b, "PAR1") }},
		{"openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", "gpuprice-history.om.txt",
			func(b string) bool {
				return strings.HasPrefix(b, "# HELP gpuprice_gpu_usd_per_hour ") && strings.HasSuffix(b, "\n# EOF\n") &&
					strings.Contains(b, `gpuprice_instance_usd_per_hour{provider="aws",instance_type="g5.xlarge",region="eu-west-1",geo="eu",pricing_model="on_demand",gpu_model="A10G",gpu_memory_gb="24",gpu_count="1"} 1 1748779200`+"\n")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			rec := ts.do(http.MethodGet, "/api/v1/export?format="+tt.format+"&end=2025-06-01T18:00:00Z")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="`+tt.file+`"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			if !tt.check(rec.Body.String()) {
				t.Errorf("body:\n%.2000s", rec.Body)
			}
		})
	}
	t.Run("store unavailable", func(t *testing.T) {
		ts := newTestServer(t, func(o *Options) { o.Store = &memStore{err: errors.New("database is locked")} })
		rec := ts.do(http.MethodGet, "/api/v1/export?format=parquet")
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("status %d %v: %s", rec.Code, rec.Header(), rec.Body)
		}
		checkError(t, rec, "reading history from the store: database is locked")
	})
}

// failingStore streams one long series, then fails.
type failingStore struct{ memStore }

func (f *failingStore) HistoryEach(_ context.Context, _ store.Query, fn func(store.Series) error) error {
	s := store.Series{Labels: price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", GPUCount: 8}}
	for i := range 10000 {
		s.Points = append(s.Points, store.Point{Time: t0.Add(time.Duration(i) * time.Minute), USDPerHour: float64(i)})
	}
	if err := fn(s); err != nil {
		return err
	}
	return errors.New("disk I/O error")
}

// TestExportFailsMidway checks that an export failing after it started
// writing breaks the connection rather than end like a complete file.
func TestExportFailsMidway(t *testing.T) {
	api := New(Options{Store: &failingStore{}})
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("read %d bytes without an error", len(b))
	}
}

// slowStore streams a few long series slowly.
type slowStore struct{ memStore }

func (f *slowStore) HistoryEach(ctx context.Context, _ store.Query, fn func(store.Series) error) error {
	for j := range 3 {
		time.Sleep(150 * time.Millisecond)
		s := store.Series{Labels: price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: string(rune('a' + j)), GPUCount: 8}}
		for i := range 2000 {
			s.Points = append(s.Points, store.Point{Time: t0.Add(time.Duration(i) * time.Minute), USDPerHour: float64(i)})
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// TestExportOutlivesWriteTimeout serves an export that takes longer than
// the server's WriteTimeout, as a large one does: it completes.
func TestExportOutlivesWriteTimeout(t *testing.T) {
	mux := http.NewServeMux()
	New(Options{Store: &slowStore{}}).Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(b), err)
	}
	if rows := strings.Count(string(b), "\n"); rows != 1+3*2000 {
		t.Errorf("%d rows, want 6001", rows)
	}
}
