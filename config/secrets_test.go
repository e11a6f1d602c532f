package config

import (
	"os"
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

// TestSecretFileNotRegular: a secret file that is a device or too large is
// refused, not read forever.
func TestSecretFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	big := dir + "/big.key"
	if err := os.WriteFile(big, make([]byte, 100<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"/dev/zero": "x.yml:3: providers.beta.api_key_file: /dev/zero is not a regular file",
		big:         "x.yml:3: providers.beta.api_key_file: " + big + " is larger than 64 KiB: not a secret",
	} {
		_, err := Load([]byte("providers:\n  beta:\n    api_key_file: "+file+"\n"), "x.yml")
		if err == nil || err.Error() != want {
			t.Errorf("error\n got: %v\nwant: %s", err, want)
		}
	}
}
