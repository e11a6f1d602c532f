package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRemoteWrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token"), []byte("t0ken\n"), 0o600)
	text := `remote_write:
  - url: http://mimir:9009/api/v1/push
    headers: {X-Scope-OrgID: team-a}
    bearer_token_file: token
    history: {max_age: 2h}
  - url: http://vm:8428/api/v1/write
    name: vm
    send_interval: 15s
    basic_auth: {username: gpuprice, password: secret}
    queue: {max_samples_per_send: 500, capacity: 5000}
`
	cfg, err := Load([]byte(text), filepath.Join(dir, "gpuprice.yml"))
	if err != nil {
		t.Fatal(err)
	}
	mimir, vm := cfg.RemoteWrite[0], cfg.RemoteWrite[1]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"name from the URL", mimir.TargetName(), "mimir:9009/api/v1/push"},
		{"send_interval default", time.Duration(mimir.SendInterval), DefaultSendInterval},
		{"remote_timeout default", time.Duration(mimir.RemoteTimeout), DefaultRemoteTimeout},
		{"max_samples_per_send default", mimir.Queue.MaxSamplesPerSend, DefaultMaxSamplesPerSend},
		{"history.max_age", time.Duration(mimir.History.MaxAge), 2 * time.Hour},
		{"bearer_token_file relative to the config", mimir.BearerTokenFile, filepath.Join(dir, "token")},
		{"header", mimir.Headers["X-Scope-OrgID"], "team-a"},
		{"name", vm.TargetName(), "vm"},
		{"send_interval", time.Duration(vm.SendInterval), 15 * time.Second},
		{"history off by default", vm.History.MaxAge, Duration(0)},
		{"basic_auth password", string(vm.BasicAuth.Password), "secret"},
		{"queue.capacity", vm.Queue.Capacity, 5000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRemoteWriteErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no url", "remote_write:\n  - {name: x}\n", "x.yml:2: remote_write[0].url: must be set"},
		{"bad url", "remote_write:\n  - {url: mimir:9009}\n", `x.yml:2: remote_write[0].url: "mimir:9009" is not an http(s) URL`},
		{"send_interval too long", "remote_write:\n  - url: http://a/push\n    send_interval: 5m\n",
			"x.yml:3: remote_write[0].send_interval: 5m is not between 0 and 1m (PromQL looks back 5m for a sample)"},
		{"same name twice", "remote_write:\n  - {url: http://a/push}\n  - {url: http://a/push}\n",
			`x.yml:3: remote_write[1].name: "a/push" is the name of remote_write[0] too: give each target its own`},
		{"unknown key", "remote_write:\n  - url: http://a/push\n    sendinterval: 5s\n",
			"x.yml:3: remote_write[0].sendinterval: unknown key (check its spelling and indentation)"},
		{"two kinds of auth", "remote_write:\n  - url: http://a/push\n    basic_auth: {username: u, password: p}\n    bearer_token_file: t\n",
			"x.yml:4: remote_write[0].bearer_token_file: basic_auth and bearer_token_file are mutually exclusive"},
		{"capacity below a send", "remote_write:\n  - url: http://a/push\n    queue: {max_samples_per_send: 100, capacity: 10}\n",
			"x.yml:3: remote_write[0].queue.capacity: 10 is below queue.max_samples_per_send (100)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.text), "x.yml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("err\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}
