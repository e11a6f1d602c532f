package collectortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpuprice/gpuprice/price"
)

// render is the form of a snapshot in a golden file: a line of JSON per
// quote, then per market, under a heading each. One object per line keeps
// the file's diffs readable.
func render(t *testing.T, provider string, snap *price.Snapshot) []byte {
	t.Helper()
	if snap == nil {
		t.Fatal("a refresh returned neither a snapshot nor an error")
	}
	if snap.Provider != provider {
		t.Errorf("snapshot of provider %q, want %q", snap.Provider, provider)
	}
	var b bytes.Buffer
	if err := lines(&b, "quotes", snap.Quotes); err != nil {
		t.Fatal(err)
	}
	if len(snap.Markets) > 0 {
		if err := lines(&b, "markets", snap.Markets); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func lines[T any](b *bytes.Buffer, heading string, items []T) error {
	fmt.Fprintf(b, "# %s\n", heading)
	for _, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("%s: %w", heading, err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return nil
}

// golden compares got with the file at path, which go test -update
// rewrites, and returns what the file holds.
func golden(t *testing.T, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !equal(t, got, want) {
		t.Errorf("the recorded answer differs from %s; run go test -update and review the diff", path)
	}
	return want
}

// equal reports whether two renderings are the same, logging the first
// line where they differ.
func equal(t *testing.T, got, want []byte) bool {
	t.Helper()
	if bytes.Equal(got, want) {
		return true
	}
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(g), len(w)) {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			t.Logf("line %d (of %d, want %d):\n got %s\nwant %s", i+1, len(g), len(w), gl, wl)
			break
		}
	}
	return false
}
