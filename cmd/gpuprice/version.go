package main

import (
	"runtime/debug"
	"time"

	"github.com/prometheus/common/version"
)

// fillVersion completes prometheus/common/version, which `make build` and
// the Dockerfile set with -ldflags, from the build information the Go
// toolchain records in every binary, so that a plain `go build` or
// `go install github.com/gpuprice/gpuprice/cmd/gpuprice@v1.2.0` still
// says what it is: the module version (v1.2.0, or the pseudo-version
// `go build` derives from the checkout, +dirty with local changes) and the
// VCS revision and commit time (stamped by `go build` in a git checkout,
// unless -buildvcs=false). What -ldflags set wins; a version nothing
// gives is "dev" (go run, go test).
func fillVersion(bi *debug.BuildInfo, ok bool) {
	var rev, vcsTime string
	modified := false
	if ok {
		if version.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				vcsTime = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version.Version == "" {
		version.Version = "dev"
	}
	if version.Revision == "" && rev != "" {
		if modified {
			rev += "-modified" // as prometheus/common/version says it
		}
		version.Revision = rev
	}
	if version.BuildDate == "" && vcsTime != "" {
		// The commit's time, in the Makefile's BuildDate format.
		if t, err := time.Parse(time.RFC3339, vcsTime); err == nil {
			version.BuildDate = t.UTC().Format("20060102-15:04:05")
		}
	}
}
