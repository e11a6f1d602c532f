// Package config defines gpuprice's YAML configuration: its schema, its
// defaults, strict loading (unknown keys are errors with line numbers),
// ${ENV} expansion, *_file secrets, and validation whose messages name the
// offending key.
//
// A Config is immutable once loaded; reloading builds a new one and the
// caller swaps it in only when it is valid.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
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
	Storage   Storage   `yaml:"storage"`
	Providers Providers `yaml:"providers"`
	// MaxGPUUSDPerHour rejects quotes above this price per GPU-hour as
	// implausible (a decimal point slipped, a unit changed upstream).
	MaxGPUUSDPerHour float64 `yaml:"max_gpu_usd_per_hour"`
	// Owned and Static are prices from the configuration itself (owned
	// hardware, fixed prices); see owned.go and static.go. Their
	// collectors run when the lists are not empty, every OwnedInterval
	// and StaticInterval.
	Owned          []Owned  `yaml:"owned"`
	Static         []Static `yaml:"static"`
	OwnedInterval  Duration `yaml:"owned_interval"`
	StaticInterval Duration `yaml:"static_interval"`
	// RemoteWrite is part of the design but not built yet: the key is
	// known so that a configuration using it gets a clear error rather
	// than "unknown key".
	RemoteWrite []RemoteWrite `yaml:"remote_write"`
}

// RemoteWrite is one Prometheus remote-write receiver (not supported yet).
type RemoteWrite struct {
	URL string `yaml:"url"`
}

// Storage selects and configures the history store.
type Storage struct {
	Driver string `yaml:"driver"` // sqlite
	// Path is a directory; the SQLite file is Path/gpuprice.db.
	Path string `yaml:"path"`
	// Retention is how long history is kept; 0 keeps everything.
	Retention Duration `yaml:"retention"`
	// DSN is the PostgreSQL connection string (driver postgres, not
	// supported yet).
	DSN Secret `yaml:"dsn"`
}

// Providers holds one section per price source. Each section embeds Common.
// Adding a provider adds one field here, tagged with its name.
type Providers struct {
	Azure  Azure  `yaml:"azure"`
	VastAI VastAI `yaml:"vastai"`
	Runpod Runpod `yaml:"runpod"`
	Lambda Lambda `yaml:"lambda"`
	AWS    AWS    `yaml:"aws"`
	GCP    GCP    `yaml:"gcp"`
}

// Common holds the settings every provider shares.
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
}

// Settings returns the Common section itself; it lets code handle any
// provider's section through one interface.
func (c *Common) Settings() *Common { return c }

// Provider is implemented by every provider section (through Common).
type Provider interface{ Settings() *Common }

// validator is implemented by provider sections with checks beyond
// Common's; key is the section's dotted path (providers.azure).
type validator interface{ validate(key string) error }

// secretHolder is implemented by provider sections with *_file secrets.
type secretHolder interface{ secretFiles() []secretFile }

// secretFile is a secret and the *_file key that may supply it instead.
type secretFile struct {
	value   *Secret
	file    string // the *_file value
	key     string // the secret's key, e.g. api_key
	fileKey string // e.g. api_key_file
}

// Default returns the built-in configuration: SQLite under data/ and the
// providers that need no credentials (Azure, Vast.ai, Runpod) enabled.
func Default() *Config {
	return &Config{
		Storage: Storage{Driver: "sqlite", Path: "data", Retention: Duration(400 * 24 * time.Hour)},
		Providers: Providers{
			Azure:  defaultAzure(),
			VastAI: defaultVastAI(),
			Runpod: defaultRunpod(),
			Lambda: defaultLambda(),
			AWS:    defaultAWS(),
			GCP:    defaultGCP(),
		},
		MaxGPUUSDPerHour: 200,
		OwnedInterval:    DefaultListInterval,
		StaticInterval:   DefaultListInterval,
	}
}

// Builtin returns the built-in defaults as a loaded configuration (derived
// values such as timeouts filled in): what runs without a config file.
func Builtin() *Config {
	cfg, err := Load(nil, "built-in defaults")
	if err != nil {
		panic(err) // the defaults are tested
	}
	return cfg
}

// Each calls fn for every provider section, by name, in declaration order.
func (p *Providers) Each(fn func(name string, section Provider)) {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		fn(name, v.Field(i).Addr().Interface().(Provider))
	}
}

// Get returns the section of the provider called name.
func (p *Providers) Get(name string) (Provider, bool) {
	var found Provider
	p.Each(func(n string, s Provider) {
		if n == name {
			found = s
		}
	})
	return found, found != nil
}

// Names lists every provider section's name.
func (p *Providers) Names() []string {
	var names []string
	p.Each(func(n string, _ Provider) { names = append(names, n) })
	return names
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
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
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

// splitComment splits a YAML line before its comment: a '#' at the start
// or after a blank, outside quotes.
func splitComment(line []byte) (text, comment []byte) {
	var quote byte
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i:i], line[i:]
		}
	}
	return line, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load parses and validates configuration text; name is used in errors and
// to resolve relative *_file paths (its directory).
func Load(data []byte, name string) (*Config, error) {
	// ${ENV} expansion, line by line so that an unset variable is reported
	// with its line.
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		var missing string
		// Comments are left alone: a commented-out ${VAR} is not a
		// reference.
		l, comment := splitComment(line)
		l = envRef.ReplaceAllFunc(l, func(m []byte) []byte {
			v, ok := os.LookupEnv(string(m[2 : len(m)-1]))
			if !ok && missing == "" {
				missing = string(m[2 : len(m)-1])
			}
			return []byte(v)
		})
		lines[i] = append(l, comment...)
		if missing != "" {
			return nil, &Error{File: name, Line: i + 1, Msg: fmt.Sprintf("environment variable %s is not set", missing)}
		}
	}
	data = bytes.Join(lines, []byte("\n"))

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err, nil)
	}
	cfg := Default()
	if len(root.Content) > 0 {
		// Decode with KnownFields through a fresh decoder: yaml.v3 only
		// reports unknown keys when decoding from text.
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, errEOF) {
			return nil, yamlError(name, err, &root)
		}
	}
	if err := cfg.resolve(name); err != nil {
		return nil, located(err, name, &root)
	}
	if err := cfg.Validate(); err != nil {
		return nil, located(err, name, &root)
	}
	return cfg, nil
}

// errEOF is what yaml.v3 returns for an empty document.
var errEOF = func() error {
	err := yaml.NewDecoder(strings.NewReader("")).Decode(new(struct{}))
	return err
}()

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlError turns yaml.v3's errors into Errors with file, line and, for
// unknown keys, the dotted key.
func yamlError(name string, err error, root *yaml.Node) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	var line int
	fmt.Sscan(m[1], &line)
	e := &Error{File: name, Line: line, Msg: m[2]}
	if u := unknownField.FindStringSubmatch(m[2]); u != nil && root != nil {
		e.Key = keyAt(root, line, u[1])
		e.Msg = "unknown key (check its spelling and indentation)"
	}
	return e
}

// keyAt returns the dotted path of the mapping key called field on line.
func keyAt(root *yaml.Node, line int, field string) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if p := walk(c, fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line && k.Value == field {
					return p
				}
				if q := walk(n.Content[i+1], p); q != "" {
					return q
				}
			}
		}
		return ""
	}
	if p := walk(root, ""); p != "" {
		return p
	}
	return field
}

// keyError is a validation failure of one key, located later.
type keyError struct {
	key string
	msg string
}

func (e *keyError) Error() string { return e.key + ": " + e.msg }

func keyErrorf(key, format string, args ...any) error {
	return &keyError{key: key, msg: fmt.Sprintf(format, args...)}
}

// located adds the file and, when the key is present in the file, its line.
func located(err error, name string, root *yaml.Node) error {
	var ke *keyError
	if !errors.As(err, &ke) {
		return &Error{File: name, Msg: err.Error()}
	}
	return &Error{File: name, Line: lineOf(root, ke.key), Key: ke.key, Msg: ke.msg}
}

// lineOf returns the line of the dotted key in the document, or of its
// nearest present ancestor, or 0.
func lineOf(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
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

// resolve reads *_file secrets and fills derived defaults.
func (c *Config) resolve(name string) error {
	dir := "."
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		dir = name[:i]
	}
	var err error
	c.Providers.Each(func(pname string, s Provider) {
		if err != nil {
			return
		}
		cm := s.Settings()
		if cm.Endpoint == "" {
			// An empty endpoint means the provider's own.
			def, _ := Default().Providers.Get(pname)
			cm.Endpoint = def.Settings().Endpoint
		}
		if cm.Timeout == 0 {
			cm.Timeout = Duration(min(time.Duration(cm.Interval), 5*time.Minute))
		}
		if cm.StaleAfter == 0 {
			cm.StaleAfter = 3 * cm.Interval
		}
		if h, ok := s.(secretHolder); ok {
			for _, sf := range h.secretFiles() {
				if err == nil {
					err = readSecretFile(sf, dir, "providers."+pname)
				}
			}
		}
	})
	c.resolveLists(dir)
	return err
}

func readSecretFile(sf secretFile, dir, section string) error {
	if sf.file == "" {
		return nil
	}
	if *sf.value != "" {
		return keyErrorf(section+"."+sf.fileKey, "%s and %s are mutually exclusive", sf.key, sf.fileKey)
	}
	file := sf.file
	if !strings.HasPrefix(file, "/") {
		file = dir + "/" + file
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return keyErrorf(section+"."+sf.fileKey, "%v", err)
	}
	*sf.value = Secret(strings.TrimSpace(string(b)))
	return nil
}

// Validate checks every value; the error names the first bad key.
func (c *Config) Validate() error {
	switch c.Storage.Driver {
	case "sqlite":
		if c.Storage.Path == "" {
			return keyErrorf("storage.path", "must not be empty")
		}
	case "postgres":
		return keyErrorf("storage.driver", "postgres is not supported yet (use sqlite)")
	default:
		return keyErrorf("storage.driver", "%q is not supported (use sqlite)", c.Storage.Driver)
	}
	if len(c.RemoteWrite) > 0 {
		return keyErrorf("remote_write", "not supported yet: remove it and let Prometheus scrape /metrics (or federate) instead")
	}
	if c.MaxGPUUSDPerHour <= 0 {
		return keyErrorf("max_gpu_usd_per_hour", "must be positive")
	}
	var err error
	c.Providers.Each(func(name string, s Provider) {
		if err == nil {
			err = validateCommon("providers."+name, s.Settings())
		}
		if v, ok := s.(validator); ok && err == nil {
			err = v.validate("providers." + name)
		}
	})
	if err != nil {
		return err
	}
	return c.validateLists()
}

func validateCommon(key string, c *Common) error {
	if time.Duration(c.Interval) < MinInterval {
		return keyErrorf(key+".interval", "%s is below the minimum of %s", c.Interval, model.Duration(MinInterval))
	}
	if c.Timeout <= 0 {
		return keyErrorf(key+".timeout", "must be positive")
	}
	if c.StaleAfter < c.Interval {
		return keyErrorf(key+".stale_after", "%s is shorter than the interval %s", c.StaleAfter, c.Interval)
	}
	if c.RateLimit <= 0 {
		return keyErrorf(key+".rate_limit", "must be positive (requests per second)")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return keyErrorf(key+".endpoint", "%q is not an http(s) URL", c.Endpoint)
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
		return fmt.Errorf("line %d: %q is not a duration (use e.g. 90s, 5m, 1h, 90d)", n.Line, n.Value)
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
