package config

import (
	"reflect"
	"testing"
)

func TestSecrets(t *testing.T) {
	cfg, err := Load([]byte("storage:\n  dsn: postgres://gp:pa55word@db/gp\nproviders:\n  beta:\n    enabled: false\n    api_key: beta-key-1\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Secrets(), []string{"postgres://gp:pa55word@db/gp", "beta-key-1", "pa55word"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets() = %q, want %q", got, want)
	}
	if got := Builtin().Secrets(); len(got) != 0 {
		t.Errorf("built-in defaults have secrets %q", got)
	}
}
