// Package configtest checks configuration sections in the tests of the
// packages that register them.
package configtest

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gpuprice/gpuprice/config"
)

// Field is one value of a loaded section and the value it must have. It
// is an unnamed struct type so that tables may list fields unkeyed.
type Field = struct {
	Name      string
	Got, Want any
}

// Check reports every field whose value is not the one wanted.
func Check(t testing.TB, fields []Field) {
	t.Helper()
	for _, f := range fields {
		if f.Got != f.Want {
			t.Errorf("%s = %v, want %v", f.Name, f.Got, f.Want)
		}
	}
}

// Load loads testdata/config/<file>, failing the test on an error.
func Load(t testing.TB, file string) *config.Config {
	t.Helper()
	cfg, err := config.LoadFile(filepath.Join("testdata", "config", file))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Errors loads each file of testdata/config named in want and checks that
// it is refused with exactly the error given for it.
func Errors(t *testing.T, want map[string]string) {
	t.Helper()
	for _, file := range slices.Sorted(maps.Keys(want)) {
		t.Run(file, func(t *testing.T) {
			_, err := config.LoadFile(filepath.Join("testdata", "config", file))
			if err == nil || err.Error() != want[file] {
				t.Errorf("error\n got: %v\nwant: %s", err, want[file])
			}
		})
	}
}
