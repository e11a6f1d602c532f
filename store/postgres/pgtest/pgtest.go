// Package pgtest runs a real PostgreSQL server for a test binary: one per
// test package, started by the first test that asks for it (initdb, then
// postgres as a child process, in a temporary directory, listening on a
// free loopback port and on a unix socket in that directory) and stopped by
// Main, from TestMain; DSN gives each test a fresh schema of it.
//
// The server binaries are looked up on PATH, then under
// /usr/lib/postgresql/*/bin (Debian's postgresql package), newest version
// first. Without them tests skip, unless GPUPRICE_REQUIRE_INTEGRATION=1,
// when they fail. PostgreSQL refuses to run as root: as root, the helper
// runs the server as the postgres user, in a directory it owns.
//
// Tests run the server without fsync, for speed; benchmarks (-test.bench
// set) with PostgreSQL's durable defaults, so that their figures are those
// of a real deployment.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"testing"
	"time"

	"github.com/gpuprice/gpuprice/internal/integration"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL cluster owned by the test binary.
type Server struct {
	bin      string // directory of initdb, pg_ctl, postgres
	dir      string // temporary directory: data/, the socket, the log
	port     int
	password string
	durable  bool
	asUser   *user.User // set when running as root

	mu      sync.Mutex
	schemas map[string]bool
	proc    *os.Process // the running server, nil when stopped
	exited  chan error
}

var (
	once        sync.Once
	server      *Server
	unavailable string // why there is no server
)

// Main runs the tests and stops the package's server, if one was started.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that does more: it runs the tests, stops the
// server and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		os.RemoveAll(server.dir)
	}
	return code
}

// errNoBinaries is the reason to skip rather than fail.
var errNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) on PATH or under /usr/lib/postgresql/*/bin: install Debian's postgresql package")

// Get returns the package's server, starting it on the first call: tests
// that need none cost nothing. Without server binaries it skips t (fails
// it with GPUPRICE_REQUIRE_INTEGRATION set, integration.Required); a server that fails to start fails t.
func Get(t testing.TB) *Server {
	t.Helper()
	once.Do(func() {
		durable := false
		if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
			durable = true
		}
		var err error
		if server, err = Start(durable); err != nil {
			server, unavailable = nil, err.Error()
		}
	})
	if server != nil {
		return server
	}
	if unavailable != errNoBinaries.Error() || integration.Required() {
		t.Fatalf("pgtest: %s", unavailable)
	}
	t.Skipf("pgtest: %s", unavailable)
	return nil
}

// New starts a server of t's own, stopped when t ends, for a test that
// stops and restarts it (Stop, Restart); it skips or fails as Get does.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start(false)
	if err != nil {
		if errors.Is(err, errNoBinaries) && !integration.Required() {
			t.Skipf("pgtest: %v", err)
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop() // may be stopped already
		os.RemoveAll(s.dir)
	})
	return s
}

// DSN returns the connection string of a fresh, empty schema for t, the
// schema first on its search_path.
func DSN(t testing.TB) string {
	t.Helper()
	return Get(t).Schema(t, Unique(t))
}

var unique atomic.Int64

// Unique returns a schema name for t that no other call returns, in this
// test binary, so that -count=N runs start empty too; pass it to Schema
// again to reopen the same schema.
func Unique(t testing.TB) string {
	return fmt.Sprintf("%s#%d", t.Name(), unique.Add(1))
}

// Schema returns the connection string of the schema derived from name
// (the same name gives the same schema, so that a store can be reopened),
// creating the schema if it does not exist.
func (s *Server) Schema(t testing.TB, name string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	schema := "t_" + hex.EncodeToString(sum[:8])
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.schemas[schema] {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.URL(""))
		if err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
			t.Fatalf("pgtest: create schema: %v", err)
		}
		s.schemas[schema] = true
	}
	return s.URL(schema)
}

// URL is the connection string of the server's database over TCP, with a
// password, and the schema first on the search_path when not empty.
func (s *Server) URL(schema string) string {
	v := url.Values{"sslmode": {"disable"}}
	if schema != "" {
		v.Set("search_path", schema)
	}
	return (&url.URL{Scheme: "postgres", User: url.UserPassword("gpuprice", s.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/gpuprice", RawQuery: v.Encode()}).String()
}

// Password is the password of the server's user, for tests that check it
// is never shown.
func (s *Server) Password() string { return s.password }

// Start creates a cluster in a new temporary directory and starts it.
// Durable keeps PostgreSQL's fsync and synchronous commits.
func Start(durable bool) (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gpuprice-pgtest-*")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, durable: durable, password: randomHex(12), schemas: map[string]bool{}}
	if os.Geteuid() == 0 {
		if s.asUser, err = user.Lookup("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A free port can be taken between asking and listening: try again.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err == nil {
			if err = s.Restart(); err == nil {
				break
			}
		}
		if try == 4 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, strings.Replace(s.URL(""), "/gpuprice?", "/postgres?", 1))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE DATABASE gpuprice")
		conn.Close(ctx)
	}
	if err != nil {
		s.Stop()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create database: %w", err)
	}
	return s, nil
}

func (s *Server) initdb() error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	return s.run("initdb", "-D", filepath.Join(s.dir, "data"), "-U", "gpuprice", "--pwfile", pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
}

// Restart starts the server (again, after Stop), waiting until it accepts
// connections. The server is a child of the test binary that gets SIGQUIT
// (immediate shutdown) should the binary die first, so that a test
// binary killed at its timeout leaves no server behind.
func (s *Server) Restart() error {
	args := []string{"-D", filepath.Join(s.dir, "data"),
		"-c", "listen_addresses=127.0.0.1",
		"-p", strconv.Itoa(s.port),
		"-c", "unix_socket_directories=" + s.dir,
		"-c", "max_connections=200",
	}
	if !s.durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, strings.Replace(s.URL(""), "/gpuprice?", "/postgres?", 1))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			s.mu.Lock()
			s.proc, s.exited = cmd.Process, exited
			s.mu.Unlock()
			return nil
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			return fmt.Errorf("postgres exited: %v\n%s", werr, tail(log, 2000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			return fmt.Errorf("postgres not accepting connections after a minute: %v\n%s", err, tail(log, 2000))
		}
	}
}

// Stop stops the server (fast shutdown: connections are closed) and waits
// for it to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.proc, s.exited = nil, nil
	s.mu.Unlock()
	if proc == nil {
		return nil
	}
	if err := proc.Signal(syscall.SIGINT); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		proc.Kill()
		return errors.New("postgres did not stop within 30s: killed")
	}
}

// command is one of the server's programs, run as the postgres user when
// root.
func (s *Server) command(prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s.asUser != nil {
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Env = append(os.Environ(), "HOME="+s.dir, "USER="+s.asUser.Username)
	}
	return cmd
}

// run runs one of the server's programs to its end.
func (s *Server) run(prog string, args ...string) error {
	out, err := s.command(prog, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", prog, strings.Join(args, " "), err, out)
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// findBinaries returns the directory holding initdb and postgres: PATH's
// initdb's (Debian puts only wrappers on PATH, and no initdb), else the
// newest /usr/lib/postgresql/<version>/bin.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); exists(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if exists(filepath.Join(dir, "postgres")) && exists(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	return "", errNoBinaries
}

// version is the major version in /usr/lib/postgresql/<version>/bin.
func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
