package collectors

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Plugin describes one provider to the daemon: everything that differs
// from one provider to the next. A provider package registers exactly one
// from init; the daemon, `gpuprice demo`, `collect` and the configuration
// loader find the provider through it and nowhere else.
type Plugin[S config.Section, C Collector] struct {
	// Name is the provider label value and the section's key under
	// providers:.
	Name string
	// Defaults returns a new section holding the provider's defaults (a
	// pointer to a struct embedding config.Common). Its yaml tags are the
	// section's keys; Validate, Resolve and SecretFiles, where the type
	// has them, run at every load.
	Defaults func() S
	// New builds the collector of an enabled, validated section. It is
	// the package's exported constructor, which tests call too.
	New func(section S, env Env) (C, error)
	// Fake is the provider's fake API in fakecloud.
	Fake Fake[S]
	// MaxResponseBytes bounds one answer of the provider's API read
	// through Env.HTTPClient (0: DefaultMaxResponseBytes). A few times
	// the largest real answer: a huge one is then refused early, and what
	// a refusal costs in memory (the rows decoded until then, a body an
	// SDK reads whole) stays small.
	MaxResponseBytes int64
}

// Fake is a provider's fake API: what `gpuprice demo`, `collect --demo` and
// end-to-end tests point the real client at.
type Fake[S config.Section] struct {
	// Handler serves the fake, its prices moving with drift;
	// fakecloud.Demo makes one of the fake's constructor and options.
	Handler func(drift fakecloud.Drift) http.Handler
	// Path is where, below its base URL, the fake serves what the
	// section's endpoint (the common key) names.
	Path string
	// Point sets section up for the fake served at baseURL: its
	// endpoints, and the credentials and region list the fake expects.
	// Nil, the endpoint is set to baseURL + Path: all that a fake of one
	// anonymous API needs.
	Point func(section S, baseURL string)
}

// FakeAPI is a registered provider's fake, untyped.
type FakeAPI struct {
	Provider string
	Handler  func(drift fakecloud.Drift) http.Handler
	// Point sets the provider's section of cfg up for the fake at baseURL.
	Point func(cfg *config.Config, baseURL string)
}

// ListPlugin describes a price source configured by top-level keys of the
// file (owned:, static:) rather than by a providers: section. B is its
// block: a struct whose yaml tags are those top-level keys.
type ListPlugin[B any] struct {
	Name string
	// Defaults returns a new block with the source's defaults.
	Defaults func() *B
	// New returns the source's collectors with their Runner settings:
	// none when its list is empty, and several where entries name their
	// own providers (static).
	New func(block *B, cfg *config.Config, env Env) ([]Job, error)
	// Demo fills block with the demo's entries, refreshed every interval.
	Demo func(block *B, interval time.Duration)
}

type plugin struct {
	newCollector func(s config.Section, env Env) (Collector, error)
	fake         FakeAPI
	maxBody      int64
}

type listPlugin struct {
	build func(cfg *config.Config, env Env) ([]Job, error)
	demo  func(cfg *config.Config, interval time.Duration)
}

var (
	registryMu sync.Mutex
	plugins    = map[string]plugin{}
	lists      = map[string]listPlugin{}
)

// Register adds a provider. Provider packages call it from init; it panics
// on a duplicate name or a plugin without Defaults or New.
func Register[S config.Section, C Collector](p Plugin[S, C]) {
	if p.Name == "" || p.Defaults == nil || p.New == nil {
		panic(fmt.Sprintf("collectors: plugin %q needs a Name, Defaults and New", p.Name))
	}
	config.RegisterProvider(p.Name, func() config.Section { return p.Defaults() })
	entry := plugin{newCollector: func(s config.Section, env Env) (Collector, error) {
		c, err := p.New(s.(S), env)
		if err != nil {
			return nil, err
		}
		return c, nil
	}, maxBody: p.MaxResponseBytes}
	if p.Fake.Handler != nil {
		point := p.Fake.Point
		if point == nil {
			point = func(s S, baseURL string) { s.Shared().Endpoint = baseURL + p.Fake.Path }
		}
		entry.fake = FakeAPI{Provider: p.Name, Handler: p.Fake.Handler, Point: func(cfg *config.Config, baseURL string) {
			point(cfg.Providers[p.Name].(S), baseURL)
		}}
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	plugins[p.Name] = entry
}

// RegisterList adds a list source. Packages call it from init; it panics on
// a duplicate name.
func RegisterList[B any](p ListPlugin[B]) {
	config.RegisterBlock(p.Name, func() any { return p.Defaults() })
	block := func(cfg *config.Config) *B { return cfg.Block(p.Name).(*B) }
	entry := listPlugin{build: func(cfg *config.Config, env Env) ([]Job, error) { return p.New(block(cfg), cfg, env) }}
	if p.Demo != nil {
		entry.demo = func(cfg *config.Config, interval time.Duration) { p.Demo(block(cfg), interval) }
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	lists[p.Name] = entry
}

// Registered lists the registered providers' names, sorted.
func Registered() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return sortedNames(plugins)
}

// RegisteredLists lists the registered list sources' names, sorted.
func RegisteredLists() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return sortedNames(lists)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the collector of the provider called name from its section
// of cfg.
func New(name string, cfg *config.Config, env Env) (Collector, error) {
	registryMu.Lock()
	p, ok := plugins[name]
	registryMu.Unlock()
	s := cfg.Providers[name]
	if !ok || s == nil {
		return nil, fmt.Errorf("no collector registered for provider %q", name)
	}
	return p.newCollector(s, env)
}

// MaxResponseBytes returns the response size limit of the provider called
// name (Plugin.MaxResponseBytes, or DefaultMaxResponseBytes).
func MaxResponseBytes(name string) int64 {
	registryMu.Lock()
	defer registryMu.Unlock()
	if n := plugins[name].maxBody; n > 0 {
		return n
	}
	return DefaultMaxResponseBytes
}

// Fakes lists every registered provider's fake API, sorted by provider.
func Fakes() []FakeAPI {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []FakeAPI
	for _, name := range sortedNames(plugins) {
		if f := plugins[name].fake; f.Handler != nil {
			out = append(out, f)
		}
	}
	return out
}

// AddDemoLists fills every list source's block of cfg with its demo
// entries, refreshed every interval.
func AddDemoLists(cfg *config.Config, interval time.Duration) {
	registryMu.Lock()
	var demos []func(*config.Config, time.Duration)
	for _, name := range sortedNames(lists) {
		if d := lists[name].demo; d != nil {
			demos = append(demos, d)
		}
	}
	registryMu.Unlock()
	for _, d := range demos {
		d(cfg, interval) // loads configuration: not under the registry's lock
	}
}

// MustLoadDemo loads a list source's demo entries, a constant its tests
// load too; it panics on an error.
func MustLoadDemo(yaml string) *config.Config {
	cfg, err := config.Load([]byte(yaml), "demo entries")
	if err != nil {
		panic(err)
	}
	return cfg
}
