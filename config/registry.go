package config

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Section is one provider's configuration: its block under providers:.
// A provider package declares its own section type, a struct embedding
// Common with its own keys beside it, and registers it with its defaults
// (collectors.Register does that). A section may also implement Validator,
// Resolver and SecretFiler.
type Section interface {
	// Shared returns the settings every provider has.
	Shared() *Common
}

// Validator is implemented by sections and blocks with checks of their own.
// Validate sees the section after defaults, derived values and secrets are
// filled in; its errors name the bad key with Errorf, relative to the
// section (a block's keys are top-level keys).
type Validator interface{ Validate() error }

// Resolver is implemented by sections and blocks that derive values after
// decoding. dir is the configuration file's directory, against which
// relative paths are resolved.
type Resolver interface{ Resolve(dir string) error }

// SecretFiler is implemented by sections whose secrets may be read from
// files: api_key beside api_key_file.
type SecretFiler interface{ SecretFiles() []SecretFile }

// SecretFile pairs a secret with the *_file key that may supply it instead.
type SecretFile struct {
	Secret  *Secret
	File    string // the *_file key's value
	Key     string // the secret's key, e.g. api_key
	FileKey string // e.g. api_key_file
}

var (
	registryMu sync.Mutex
	sections   = map[string]func() Section{}
	// blocks are price sources configured by top-level keys rather than a
	// providers: section (owned:, static:): each is a struct whose fields
	// are top-level keys.
	blocks = map[string]func() any{}
)

// RegisterProvider makes name a section under providers:, decoded into the
// value defaults returns (a pointer to a struct, holding the provider's
// defaults). Provider packages call it, through collectors.Register, from
// init; it panics on a duplicate name.
func RegisterProvider(name string, defaults func() Section) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := sections[name]; dup {
		panic(fmt.Sprintf("config: provider %q registered twice", name))
	}
	sections[name] = defaults
}

// RegisterBlock adds the fields of the struct that defaults returns (a
// pointer) to the top level of the file, under the source called name
// (Config.Block). It panics on a duplicate name or a key that is taken.
func RegisterBlock(name string, defaults func() any) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := blocks[name]; dup {
		panic(fmt.Sprintf("config: block %q registered twice", name))
	}
	taken := map[string]bool{}
	addKeys := func(v any) {
		for key := range fieldsOf(reflect.ValueOf(v).Elem()) {
			if taken[key] {
				panic(fmt.Sprintf("config: block %q: top-level key %q is taken", name, key))
			}
			taken[key] = true
		}
	}
	addKeys(&Config{})
	for _, other := range blocks {
		addKeys(other())
	}
	addKeys(defaults())
	blocks[name] = defaults
}

// ProviderNames lists the registered providers: sections, sorted.
func ProviderNames() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return sortedKeys(sections)
}

// BlockNames lists the registered top-level blocks, sorted.
func BlockNames() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return sortedKeys(blocks)
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// defaultSection returns a new section of name holding its defaults.
func defaultSection(name string) Section {
	registryMu.Lock()
	f := sections[name]
	registryMu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}

// Providers holds every registered provider's section by name. Sections
// are pointers: code that changes one changes the configuration.
type Providers map[string]Section

// Names lists the sections' names, sorted.
func (p Providers) Names() []string { return sortedKeys(p) }

// Each calls fn for every section, by name, sorted.
func (p Providers) Each(fn func(name string, s Section)) {
	for _, name := range p.Names() {
		fn(name, p[name])
	}
}

// KeyAuth is a section's api_key, given as a value or as the file that
// holds it (api_key_file). Embedded inline, it makes the section a
// SecretFiler.
type KeyAuth struct {
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
}

// SecretFiles implements SecretFiler.
func (k *KeyAuth) SecretFiles() []SecretFile {
	return []SecretFile{{Secret: &k.APIKey, File: k.APIKeyFile, Key: "api_key", FileKey: "api_key_file"}}
}

// CheckEach returns the error of the first of values that valid refuses,
// naming it as key[i]: "<value>" is not <what>.
func CheckEach(key string, values []string, valid func(string) bool, what string) error {
	for i, v := range values {
		if !valid(v) {
			return Errorf(fmt.Sprintf("%s[%d]", key, i), "%q is not %s", v, what)
		}
	}
	return nil
}
