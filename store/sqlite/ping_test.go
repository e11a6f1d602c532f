package sqlite

import (
	"context"
	"testing"
)

func TestPing(t *testing.T) {
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Errorf("Ping of an open store: %v", err)
	}
	st.Close()
	if err := st.Ping(context.Background()); err == nil {
		t.Error("Ping of a closed store: no error")
	}
}
