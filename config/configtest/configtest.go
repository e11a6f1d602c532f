// Package configtest holds what the configuration tests of provider
// sections and list blocks share: loading a file of their testdata/config,
// comparing decoded values, and checking exact load errors.
package configtest

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gpuprice/gpuprice/config"
)

// Dir is where a package's configuration test files are.
const Dir = "testdata/config"

// Load loads the file called name in Dir, failing t on an error.
func Load(t testing.TB, name string) *config.Config {
	t.Helper()
	cfg, err := config.LoadFile(filepath.Join(Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Fields are decoded values and what they must be, {got, want}, by the
// key they come from (and how they came by their value, where it matters).
type Fields map[string][2]any

// Check reports every field whose value is not what it must be.
func Check(t testing.TB, fields Fields) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if got, want := fields[k][0], fields[k][1]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

// FileErrors checks that each file of Dir named in want fails to load with
// exactly the error want gives it, in a subtest per file.
func FileErrors(t *testing.T, want map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		t.Run(name, func(t *testing.T) {
			_, err := config.LoadFile(filepath.Join(Dir, name))
			if err == nil || err.Error() != want[name] {
				t.Errorf("error\n got: %v\nwant: %s", err, want[name])
			}
		})
	}
}

// YAMLErrors checks that each configuration, named in want, fails to load
// (as x.yml) with exactly its error: want holds {yaml, error}. A subtest
// runs per configuration.
func YAMLErrors(t *testing.T, want map[string][2]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		t.Run(name, func(t *testing.T) {
			yaml, msg := want[name][0], want[name][1]
			if _, err := config.Load([]byte(yaml), "x.yml"); err == nil || err.Error() != msg {
				t.Errorf("error\n got: %v\nwant: %s", err, msg)
			}
		})
	}
}
