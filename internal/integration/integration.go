// Package integration finds the real components integration tests run
// (Debian's prometheus, victoria-metrics, chromium, ...).
package integration

import (
	"os"
	"os/exec"
	"testing"
)

// Required says whether a missing component fails the test rather than
// skipping it: GPUPRICE_REQUIRE_INTEGRATION is set, as .ci/run sets it.
func Required() bool { return os.Getenv("GPUPRICE_REQUIRE_INTEGRATION") != "" }

// Tool returns the path of the program name, from Debian's package pkg,
// or skips t when it is missing (fails it when Required).
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if Required() {
			t.Fatalf("%s not found and GPUPRICE_REQUIRE_INTEGRATION is set (apt-get install -y %s)", name, pkg)
		}
		t.Skipf("%s not found (apt-get install -y %s)", name, pkg)
	}
	return p
}
