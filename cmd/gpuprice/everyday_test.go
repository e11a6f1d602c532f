package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/version"

	"github.com/gpuprice/gpuprice/api"
	"github.com/gpuprice/gpuprice/collectors"
)

// noRaceExitSleep spares a child built with -race the race detector's
// 1-second sleep at exit.
const noRaceExitSleep = "GORACE=atexit_sleep_ms=0"

// runMain runs the real binary's main (the test binary re-executed) with
// args, and returns its stdout, stderr and exit code.
func runMain(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "GPUPRICE_TEST_MAIN=1", noRaceExitSleep), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestHealthcheck probes the real API handler's /-/healthy and /-/ready and
// servers that fail, through the real binary: exit 0 only for a 200.
func TestHealthcheck(t *testing.T) {
	var ready atomic.Bool
	// Ready once a provider has published: a state with a last success.
	states := func() []*collectors.State {
		st := &collectors.State{Provider: "demo"}
		if ready.Load() {
			st.Success, st.LastSuccess, st.Attempts = true, time.Now(), 1
		}
		return []*collectors.State{st}
	}
	mux := http.NewServeMux()
	api.New(api.Options{States: states}).Register(mux)
	var handler http.Handler = mux
	up := httptest.NewServer(handler)
	defer up.Close()
	authed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "probe" || p != "s3cret" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	defer authed.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there now

	withAuth := strings.Replace(authed.URL, "http://", "http://probe:s3cret@", 1)
	for _, c := range []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"healthy", []string{"--server.url=" + up.URL}, 0, up.URL + "/-/healthy: Healthy", ""},
		{"trailing slash", []string{"--server.url=" + up.URL + "/"}, 0, "/-/healthy: Healthy", ""},
		{"not ready", []string{"--server.url=" + up.URL, "--ready"}, 1, "", "/-/ready: 503 Service Unavailable Not ready"},
		{"basic auth in the URL", []string{"--server.url=" + withAuth}, 0, "/-/healthy: Healthy", ""},
		{"auth refused", []string{"--server.url=" + authed.URL}, 1, "", "401 Unauthorized"},
		{"nothing listening", []string{"--server.url=" + down.URL}, 1, "", "connection refused"},
		{"hangs", []string{"--server.url=" + hang.URL, "--timeout=200ms"}, 1, "", "context deadline exceeded"},
		{"not a URL", []string{"--server.url=localhost:9847"}, 1, "", `--server.url "localhost:9847" is not an http(s) URL`},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runMain(t, nil, append([]string{"healthcheck"}, c.args...)...)
			if code != c.code || !strings.Contains(stdout, c.out) || !strings.Contains(stderr, c.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, stdout, stderr, c.code, c.out, c.err)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("the password is printed: %q %q", stdout, stderr)
			}
		})
	}
	ready.Store(true)
	if _, stderr, code := runMain(t, nil, "healthcheck", "--server.url="+up.URL, "--ready"); code != 0 {
		t.Errorf("ready: exit %d, %s", code, stderr)
	}
}

// TestFillVersion: what -ldflags set wins; otherwise the module version and
// the VCS stamp of `go build`; "dev" when nothing says.
func TestFillVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/gpuprice/gpuprice", Version: "v0.0.0-20261204180126-3276cfcb7264+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "3276cfcb7264dc5698d933d522c83c23846058ac"},
			{Key: "vcs.time", Value: "2026-12-04T18:01:26Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, c := range []struct {
		name                string
		ldVersion, ldRev    string
		bi                  *debug.BuildInfo
		ok                  bool
		version, rev, built string
	}{
		{"go build in a checkout", "", "", stamped, true,
			"v0.0.0-20261204180126-3276cfcb7264+dirty", "3276cfcb7264dc5698d933d522c83c23846058ac-modified", "20261204-18:01:26"},
		{"go install @version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "v1.2.0", "", ""},
		{"go run: (devel), no stamp", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "dev", "", ""},
		{"no build info", "", "", nil, false, "dev", "", ""},
		{"ldflags win", "1.4.0", "abc123", stamped, true, "1.4.0", "abc123", "20261204-18:01:26"},
	} {
		t.Run(c.name, func(t *testing.T) {
			saved := [3]string{version.Version, version.Revision, version.BuildDate}
			defer func() { version.Version, version.Revision, version.BuildDate = saved[0], saved[1], saved[2] }()
			version.Version, version.Revision, version.BuildDate = c.ldVersion, c.ldRev, ""
			fillVersion(c.bi, c.ok)
			if version.Version != c.version || version.Revision != c.rev || version.BuildDate != c.built {
				t.Errorf("version %q, revision %q, build date %q; want %q, %q, %q",
					version.Version, version.Revision, version.BuildDate, c.version, c.rev, c.built)
			}
		})
	}
}

// TestVersionFlag: `gpuprice --version` of the real binary (a test binary:
// no -ldflags, no VCS stamp) says dev rather than nothing.
func TestVersionFlag(t *testing.T) {
	stdout, stderr, code := runMain(t, nil, "--version")
	out := stdout + stderr // kingpin prints the version on stdout
	if code != 0 || !strings.Contains(out, "gpuprice, version dev (") || !strings.Contains(out, "go version:       go") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestCompletion sources each shell's script and completes through the
// real binary, installed as `gpuprice` on PATH as a user's would be: a
// partial command, a flag, and an enum flag's values.
func TestCompletion(t *testing.T) {
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nGPUPRICE_TEST_MAIN=1 " + noRaceExitSleep + " exec " + shellQuote(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "gpuprice"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}

	scripts := map[string]string{}
	for _, shell := range completionShells {
		stdout, stderr, code := runMain(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(stdout, "--completion-bash") {
			t.Fatalf("completion %s: exit %d, %s%s", shell, code, stdout, stderr)
		}
		scripts[shell] = filepath.Join(t.TempDir(), "gpuprice."+shell)
		os.WriteFile(scripts[shell], []byte(stdout), 0o644)
	}
	if _, stderr, code := runMain(t, nil, "completion", "powershell"); code == 0 || !strings.Contains(stderr, "must be one of bash,zsh,fish") {
		t.Errorf("completion powershell: exit %d, %s", code, stderr)
	}

	// Each case: the words typed (the last one being completed) and
	// candidates the shell must offer.
	cases := []struct {
		words []string
		want  []string
	}{
		{[]string{"col"}, []string{"collect"}},
		{[]string{""}, []string{"serve", "demo", "collect", "check-config", "healthcheck", "completion"}},
		{[]string{"collect", "--form"}, []string{"--format"}},
		{[]string{"collect", "--format", ""}, []string{"table", "json", "csv"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
	}
	drivers := map[string]struct {
		tool   string
		script func(script string, words []string) string
	}{
		"bash": {"bash", func(script string, words []string) string {
			// Bash calls the function with COMP_WORDS and COMP_CWORD set.
			return "source " + script + "\nCOMP_WORDS=(gpuprice " + shellWords(words) + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)) +
				"\n_gpuprice_bash_autocomplete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		}},
		"zsh": {"zsh", func(script string, words []string) string {
			// Outside the completion system: compadd and compdef stubbed,
			// words and CURRENT set as zsh sets them.
			return "compdef() { :; }\ncompadd() { shift; print -rl -- ${(P)1}; }\ntypeset -A compstate; compstate[nmatches]=1\n" +
				"source " + script + "\nwords=(gpuprice " + shellWords(words) + ")\nCURRENT=" + strconv.Itoa(len(words)+1) + "\n_gpuprice\n"
		}},
		"fish": {"fish", func(script string, words []string) string {
			return "source " + script + "\ncomplete -C " + shellQuote("gpuprice "+strings.Join(words, " ")) + "\n"
		}},
	}
	for _, shell := range completionShells {
		d := drivers[shell]
		t.Run(shell, func(t *testing.T) {
			exe := requireTool(t, d.tool, d.tool)
			for _, c := range cases {
				args := []string{"-c", d.script(scripts[shell], c.words)}
				if shell == "zsh" {
					args = append([]string{"-f"}, args...)
				}
				cmd := exec.Command(exe, args...)
				cmd.Env = append(append(os.Environ(), env...), "HOME="+t.TempDir())
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%q: %v\n%s", c.words, err, out)
					continue
				}
				got := map[string]bool{}
				for _, l := range strings.Split(string(out), "\n") {
					got[strings.SplitN(l, "\t", 2)[0]] = true
				}
				for _, w := range c.want {
					if !got[w] {
						t.Errorf("%s completes %q to\n%s\nwant %q among them", shell, c.words, out, w)
					}
				}
			}
		})
	}
}

func shellWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
