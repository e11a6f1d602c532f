// Package config defines gpuprice's YAML configuration: the daemon's own
// keys, the registry through which each provider package adds its section
// under providers: (and owned and static their top-level keys), strict
// decoding on yaml.v3 nodes (an unknown key or a mistyped value is an error
// naming its key path and line), ${ENV} expansion, *_file secrets, and
// validation whose messages name the offending key.
//
// A Config is immutable once loaded; reloading builds a new one and the
// caller swaps it in only when it is valid.
package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// MinInterval is the shortest refresh interval accepted. Short intervals
// serve tests and demos; the defaults are polite to the providers.
const MinInterval = 5 * time.Second

// Config is the whole configuration file.
type Config struct {
	Storage Storage `yaml:"storage"`
	// Providers holds the section of every registered provider, filled
	// with its defaults where the file has none.
	Providers Providers `yaml:"providers"`
	// MaxGPUUSDPerHour rejects quotes above this price per GPU-hour as
	// implausible (a decimal point slipped, a unit changed upstream).
	MaxGPUUSDPerHour float64 `yaml:"max_gpu_usd_per_hour"`
	// RemoteWrite lists the Prometheus remote-write receivers the prices
	// are pushed to.
	RemoteWrite []RemoteWrite `yaml:"remote_write"`
	// FX converts prices quoted in other currencies to USD.
	FX FX `yaml:"fx"`
	// blocks holds the registered top-level blocks (owned:, static:) by
	// source name; see Block.
	blocks map[string]any
}

// Storage selects and configures the history store.
type Storage struct {
	Driver string `yaml:"driver"` // sqlite | postgres
	// Path is a directory; the SQLite file is Path/gpuprice.db (driver
	// sqlite).
	Path string `yaml:"path"`
	// Retention is how long history is kept; 0 keeps everything.
	Retention Duration `yaml:"retention"`
	// DSN is the PostgreSQL connection string (driver postgres), a URL
	// or key=value pairs as libpq takes them. It holds the password, so
	// it is a secret: never logged, never shown.
	DSN Secret `yaml:"dsn"`
	// DSNFile is a file holding the DSN instead (read with driver
	// postgres only).
	DSNFile string `yaml:"dsn_file"`
}

// Drivers are the storage drivers.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Common holds the settings every provider shares; provider sections embed
// it inline.
type Common struct {
	Enabled bool `yaml:"enabled"`
	// Interval between refreshes; each wait gets up to 10% jitter.
	Interval Duration `yaml:"interval"`
	// Timeout bounds one whole refresh, retries included. Default: the
	// interval, at most 5m.
	Timeout Duration `yaml:"timeout"`
	// StaleAfter is how long the last good prices are served while
	// refreshes fail; after it, the provider's series are withdrawn.
	// Default: 3 × interval.
	StaleAfter Duration `yaml:"stale_after"`
	// RateLimit caps requests per second to the provider.
	RateLimit float64 `yaml:"rate_limit"`
	// Endpoint is the base URL of the provider's API.
	Endpoint string `yaml:"endpoint"`
	// MinQuoteRatio makes a refresh suspect whose quotes number fewer than
	// this share of the last good refresh's, for the provider or for one
	// region of a provider fetched region by region: the last good quotes
	// are kept and the provider is marked degraded. Default
	// DefaultMinQuoteRatio.
	MinQuoteRatio float64 `yaml:"min_quote_ratio"`
	// AcceptDropAfter is how many suspect refreshes in a row make a drop
	// real: it is then accepted, and the series that went are withdrawn.
	// Default DefaultAcceptDropAfter; 1 accepts every drop at once.
	AcceptDropAfter int `yaml:"accept_drop_after"`
}

// Defaults of the suspect-shrink guard (Common.MinQuoteRatio,
// Common.AcceptDropAfter).
const (
	DefaultMinQuoteRatio   = 0.5
	DefaultAcceptDropAfter = 3
)

// Shared implements Section for every type that embeds Common.
func (c *Common) Shared() *Common { return c }

// Default returns the built-in configuration: SQLite under data/, every
// registered provider's section with its defaults (those that need no
// credentials enabled), and every registered block's defaults.
func Default() *Config {
	cfg := &Config{
		Storage:          Storage{Driver: SQLite, Path: "data", Retention: Duration(400 * 24 * time.Hour)},
		Providers:        Providers{},
		MaxGPUUSDPerHour: 200,
		FX:               DefaultFX,
		blocks:           map[string]any{},
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	for name, f := range sections {
		cfg.Providers[name] = f()
	}
	for name, f := range blocks {
		cfg.blocks[name] = f()
	}
	return cfg
}

// Block returns the top-level block registered as name (a pointer to its
// struct, which the caller asserts to its type), or nil.
func (c *Config) Block(name string) any { return c.blocks[name] }

// Builtin returns the built-in defaults as a loaded configuration (derived
// values such as timeouts filled in): what runs without a config file.
func Builtin() *Config {
	cfg, err := Load(nil, "built-in defaults")
	if err != nil {
		panic(err) // the defaults are tested
	}
	return cfg
}

// Error is a configuration error located in a file.
type Error struct {
	File string
	Line int    // 0 when unknown
	Key  string // dotted path such as providers.azure.interval; may be empty
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf returns the error of one key: sections and blocks report their
// validation failures with it, the key relative to the section. The loader
// adds the section's path, the file and the line.
func Errorf(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// LoadFile reads, parses and validates a configuration file. Relative
// *_file paths are resolved against the file's directory.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(data, path)
}

// Load parses and validates configuration text; name is used in errors and
// to resolve relative *_file paths (its directory).
func Load(data []byte, name string) (*Config, error) {
	cfg := Default()
	root, err := parse(data)
	if err == nil && root != nil {
		if err = expandEnv(root, ""); err == nil {
			err = cfg.decode(root)
		}
	}
	if err == nil {
		err = cfg.resolve(filepath.Dir(name))
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, locate(err, name, root)
	}
	return cfg, nil
}

// decode fills cfg from the document's top-level mapping: its own keys and
// those of every registered block.
func (c *Config) decode(root *yaml.Node) error {
	fields := fieldsOf(reflect.ValueOf(c).Elem())
	for _, b := range c.blocks {
		for k, f := range fieldsOf(reflect.ValueOf(b).Elem()) {
			fields[k] = f
		}
	}
	return decodeMapping(root, "", fields)
}

// locate adds the file and, where the error has a key but no line, the line
// of the key (or of its nearest ancestor present in the file).
func locate(err error, name string, root *yaml.Node) error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{File: name, Msg: err.Error()}
	}
	located := *e
	located.File = name
	if located.Line == 0 && located.Key != "" && root != nil {
		located.Line = lineOf(root, located.Key)
	}
	return &located
}

// lineOf returns the line of the dotted key in the document, or of its
// nearest present ancestor, or 0.
func lineOf(n *yaml.Node, key string) int {
	line := 0
	for _, part := range strings.Split(key, ".") {
		part, index, indexed := strings.Cut(part, "[")
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
		if indexed {
			var idx int
			fmt.Sscanf(index, "%d]", &idx)
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// resolve fills derived defaults and reads the *_file secrets of enabled
// providers (a disabled provider's missing file is no error: it is not
// used).
func (c *Config) resolve(dir string) error {
	dsn := SecretFile{Secret: &c.Storage.DSN, File: c.Storage.DSNFile, Key: "storage.dsn", FileKey: "storage.dsn_file"}
	if err := readSecretFile(dsn, dir, c.Storage.Driver == Postgres); err != nil {
		return err
	}
	for _, name := range c.Providers.Names() {
		s := c.Providers[name]
		cm := s.Shared()
		if cm.Endpoint == "" {
			// An empty endpoint means the provider's own.
			cm.Endpoint = defaultSection(name).Shared().Endpoint
		}
		if cm.Timeout == 0 {
			cm.Timeout = Duration(min(time.Duration(cm.Interval), 5*time.Minute))
		}
		if cm.StaleAfter == 0 {
			cm.StaleAfter = 3 * cm.Interval
		}
		if cm.MinQuoteRatio == 0 {
			cm.MinQuoteRatio = DefaultMinQuoteRatio
		}
		if cm.AcceptDropAfter == 0 {
			cm.AcceptDropAfter = DefaultAcceptDropAfter
		}
		section := "providers." + name
		if h, ok := s.(SecretFiler); ok {
			for _, sf := range h.SecretFiles() {
				if err := readSecretFile(sf, dir, cm.Enabled); err != nil {
					return inSection(section, err)
				}
			}
		}
		if r, ok := s.(Resolver); ok {
			if err := r.Resolve(dir); err != nil {
				return inSection(section, err)
			}
		}
	}
	for i := range c.RemoteWrite {
		c.RemoteWrite[i].resolve(dir)
	}
	for _, name := range BlockNames() {
		if r, ok := c.blocks[name].(Resolver); ok {
			if err := r.Resolve(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// inSection prefixes the key of a section's error with the section's path.
func inSection(section string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return &Error{Key: section, Msg: err.Error()}
	}
	in := *e
	in.Key = joinKey(section, e.Key)
	return &in
}

// maxSecretFileBytes bounds a secret file: keys are short, and a device
// or a huge file named by mistake must not hang or fill the loader.
const maxSecretFileBytes = 64 << 10

// readSmallFile reads the regular file name, refusing anything else (a
// device, a FIFO, a directory) and a file over max bytes.
func readSmallFile(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB: not a secret", name, max>>10)
	}
	return b, nil
}

// readSecretFile reads sf's file into its secret, when read is set (the
// provider is enabled: a disabled one's file may well not exist).
func readSecretFile(sf SecretFile, dir string, read bool) error {
	if sf.File == "" {
		return nil
	}
	if *sf.Secret != "" {
		return Errorf(sf.FileKey, "%s and %s are mutually exclusive", sf.Key, sf.FileKey)
	}
	if !read {
		return nil
	}
	file := sf.File
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	v, err := ReadSecretFile(file)
	if err != nil {
		return Errorf(sf.FileKey, "%v", err)
	}
	*sf.Secret = Secret(v)
	return nil
}

// ReadSecretFile reads a secret from the file at path: a regular file of
// at most 64 KiB, trimmed, not empty.
func ReadSecretFile(path string) (string, error) {
	b, err := readSmallFile(path, maxSecretFileBytes)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// Validate checks every value; the error names the first bad key.
func (c *Config) Validate() error {
	switch c.Storage.Driver {
	case SQLite:
		if c.Storage.Path == "" {
			return Errorf("storage.path", "must not be empty")
		}
	case Postgres:
		if c.Storage.DSN == "" {
			return Errorf("storage.dsn", "required with driver postgres (or storage.dsn_file), e.g. postgres://gpuprice@db.example/gpuprice")
		}
	default:
		return Errorf("storage.driver", "%q is not supported (use sqlite or postgres)", c.Storage.Driver)
	}
	if err := validateRemoteWrite(c.RemoteWrite); err != nil {
		return err
	}
	if err := c.FX.validate(); err != nil {
		return err
	}
	if c.MaxGPUUSDPerHour <= 0 {
		return Errorf("max_gpu_usd_per_hour", "must be positive")
	}
	for _, name := range c.Providers.Names() {
		s := c.Providers[name]
		err := validateCommon(s.Shared())
		if v, ok := s.(Validator); ok && err == nil {
			err = v.Validate()
		}
		if err != nil {
			return inSection("providers."+name, err)
		}
	}
	for _, name := range BlockNames() {
		if v, ok := c.blocks[name].(Validator); ok {
			if err := v.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckInterval refuses a refresh interval, the value of key, shorter
// than MinInterval.
func CheckInterval(key string, interval Duration) error {
	if time.Duration(interval) < MinInterval {
		return Errorf(key, "%s is below the minimum of %s", interval, model.Duration(MinInterval))
	}
	return nil
}

func validateCommon(c *Common) error {
	if err := CheckInterval("interval", c.Interval); err != nil {
		return err
	}
	if c.Timeout <= 0 {
		return Errorf("timeout", "must be positive")
	}
	if c.StaleAfter < c.Interval {
		return Errorf("stale_after", "%s is shorter than the interval %s", c.StaleAfter, c.Interval)
	}
	if c.RateLimit <= 0 {
		return Errorf("rate_limit", "must be positive (requests per second)")
	}
	// Zero is left by sections built in code without Load: the guard off.
	if !(c.MinQuoteRatio >= 0 && c.MinQuoteRatio <= 1) {
		return Errorf("min_quote_ratio", "%g is out of range: allowed (0, 1] (a share of the last good refresh's quotes)", c.MinQuoteRatio)
	}
	if c.AcceptDropAfter < 0 || c.AcceptDropAfter > 1000 {
		return Errorf("accept_drop_after", "%d is out of range: allowed [1, 1000] refreshes (1: accept every drop at once)", c.AcceptDropAfter)
	}
	return CheckURL("endpoint", c.Endpoint)
}

// CheckURL returns the error of key when value is neither empty nor an
// http(s) URL with a host. (An empty value is checked by the caller, where
// it is not allowed.)
func CheckURL(key, value string) error {
	if value == "" {
		return nil
	}
	if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(key, "%q is not an http(s) URL", value)
	}
	return nil
}

// Duration is a model.Duration ("90s", "1h", "90d", "3y") whose YAML errors
// carry their line.
type Duration model.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. 90s, 5m, 1h, 90d)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

// String renders the duration the way it is written in the file.
func (d Duration) String() string { return model.Duration(d).String() }

// Secret is a credential: it renders as <secret> in YAML, JSON and logs.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Value returns the secret itself, for the one place that sends it.
func (s Secret) Value() string { return string(s) }
