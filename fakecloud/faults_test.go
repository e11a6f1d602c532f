package fakecloud

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHung: Hung is closed once a request is held, and the request ends
// when its client gives up.
func TestHung(t *testing.T) {
	var f Faults
	f.Add(Fault{Kind: Hang, Times: 1})
	srv := httptest.NewServer(f.Wrap(http.NotFoundHandler(), nil))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	done := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		done <- err
	}()
	select {
	case <-f.Hung():
	case <-time.After(10 * time.Second):
		t.Fatal("Hung not closed while a request is held")
	}
	select {
	case err := <-done:
		t.Fatalf("the hung request ended before its client gave up: %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want the client's cancellation", err)
	}
	if f.Requests() != 1 {
		t.Errorf("%d requests", f.Requests())
	}
}
