package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/internal/integration"
	"go.yaml.in/yaml/v3"
)

// tool returns the path of a Debian tool the test needs, or skips the test
// when it is missing, unless GPUPRICE_REQUIRE_INTEGRATION is set (CI).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	return integration.Tool(t, name, pkg)
}

// TestPromtool checks the rule files and the compose Prometheus config with
// promtool, and runs the rules' unit tests (prometheus/*_test.yml).
func TestPromtool(t *testing.T) {
	promtool := tool(t, "promtool", "prometheus")
	tests, _ := filepath.Glob("prometheus/*_test.yml")
	if len(tests) == 0 {
		t.Fatal("no promtool unit tests in prometheus/")
	}
	cases := []struct {
		name string
		args []string
	}{
		{"check rules", append([]string{"check", "rules"}, RuleFiles()...)},
		{"check config", []string{"check", "config", "prometheus/prometheus.yml"}},
		{"test rules", append([]string{"test", "rules"}, tests...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command(promtool, c.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
		})
	}
}

// TestRulesAndDashboardsNameKnownMetrics: every gpuprice metric an
// expression names is exported by gpuprice (the golden /metrics file, plus
// the self-metrics it does not show) or recorded by a rule, so a typo in a
// metric name fails here rather than as an empty panel.
func TestRulesAndDashboardsNameKnownMetrics(t *testing.T) {
	known := map[string]bool{
		// Registered by cmd/gpuprice, absent from the exporter's golden file.
		"gpuprice_build_info":                                   true,
		"gpuprice_config_last_reload_successful":                true,
		"gpuprice_config_last_reload_success_timestamp_seconds": true,
	}
	golden, err := os.ReadFile("../exporter/testdata/metrics.prom")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(golden))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			known[f[2]] = true
			if f[3] == "summary" || f[3] == "histogram" {
				known[f[2]+"_sum"], known[f[2]+"_count"] = true, true
			}
		}
	}
	rules, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind == "record" {
			known[r.Name] = true
		}
	}
	panels, err := DashboardExprs(map[string]string{"gpu_model": "H100", "provider": ".*", "geo": ".*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range append(rules, panels...) {
		names := MetricNames(e.Query)
		if len(names) == 0 && e.Kind != "record" && !strings.Contains(e.Query, "up{") {
			t.Errorf("%s names no gpuprice metric: %s", e.Source, e.Query)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s: unknown metric %s", e.Source, n)
			}
		}
	}
}

func TestMetricNames(t *testing.T) {
	cases := []struct {
		name, query string
		want        []string
	}{
		{"plain", `min by (provider) (gpuprice_gpu_usd_per_hour{gpu_model="H100"})`, []string{"gpuprice_gpu_usd_per_hour"}},
		{"recorded", `gpu_pricing_geo:gpuprice_gpu_usd_per_hour:min < on (gpu_model) group_left gpu_pricing:gpuprice_cheap_gpu_usd_per_hour:threshold`,
			[]string{"gpu_pricing:gpuprice_cheap_gpu_usd_per_hour:threshold", "gpu_pricing_geo:gpuprice_gpu_usd_per_hour:min"}},
		{"label values are not names", `up{job="gpuprice", instance="gpuprice_x:1"}`, nil},
		{"repeated once", `gpuprice_collector_success == 0 or gpuprice_collector_success`, []string{"gpuprice_collector_success"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := MetricNames(c.query); !slices.Equal(got, c.want) {
				t.Errorf("MetricNames(%s) = %v, want %v", c.query, got, c.want)
			}
		})
	}
}

// TestDashboards checks what Grafana would silently get wrong: the data
// source, variables, ids and layout.
func TestDashboards(t *testing.T) {
	names := DashboardFiles()
	if len(names) != 3 {
		t.Fatalf("dashboards: %v, want market, gpu and providers", names)
	}
	wantVars := map[string][]string{
		"gpuprice-market.json":    {"datasource", "gpu_model", "provider", "geo"},
		"gpuprice-gpu.json":       {"datasource", "gpu_model", "provider", "geo"},
		"gpuprice-providers.json": {"datasource", "provider"},
	}
	// A dashboard variable is compared with =~ (multi-value and "All" are
	// regexes); = would match nothing once two values are picked.
	varMatcher := regexp.MustCompile(`\w+\s*(=~|!~|!=|=)\s*"[^"]*\$`)
	uids := map[string]string{}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			d, err := readDashboard(name)
			if err != nil {
				t.Fatal(err)
			}
			if other, dup := uids[d.UID]; dup || d.UID == "" {
				t.Errorf("uid %q empty or also in %s", d.UID, other)
			}
			uids[d.UID] = name
			if !strings.HasPrefix(d.Title, "gpuprice / ") || !slices.Contains(d.Tags, "gpuprice") {
				t.Errorf("title %q, tags %v: want a \"gpuprice / \" title and the gpuprice tag (the dashboards link each other by tag)", d.Title, d.Tags)
			}
			var vars []string
			for _, v := range d.Templating.List {
				vars = append(vars, v.Name)
				switch {
				case v.Type == "datasource":
					if q, _ := v.queryText(); q != "prometheus" {
						t.Errorf("variable %s: data source type %q, want prometheus", v.Name, q)
					}
				case v.Datasource == nil || v.Datasource.UID != "${datasource}":
					t.Errorf("variable %s: data source %+v, want ${datasource}", v.Name, v.Datasource)
				case v.IncludeAll && v.AllValue != ".*":
					t.Errorf("variable %s: allValue %q, want .* (so that All also matches empty labels)", v.Name, v.AllValue)
				}
			}
			if want := wantVars[filepath.Base(name)]; !slices.Equal(vars, want) {
				t.Errorf("variables %v, want %v", vars, want)
			}

			ids := map[int]bool{}
			type rect struct{ x, y, w, h int }
			var placed []rect
			for _, p := range d.allPanels() {
				if ids[p.ID] || p.ID == 0 {
					t.Errorf("panel %q: id %d missing or duplicate", p.Title, p.ID)
				}
				ids[p.ID] = true
				g := p.GridPos
				r := rect{g.X, g.Y, g.W, g.H}
				if p.Title == "" || r.w <= 0 || r.h <= 0 || r.x+r.w > 24 {
					t.Errorf("panel %d %q: no title or bad gridPos %+v", p.ID, p.Title, g)
				}
				for _, o := range placed {
					if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
						t.Errorf("panel %q at %+v overlaps another at %+v", p.Title, r, o)
					}
				}
				placed = append(placed, r)
				if p.Type == "row" {
					continue
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
					t.Errorf("panel %q: data source %+v, %d queries; want ${datasource} and a query", p.Title, p.Datasource, len(p.Targets))
				}
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					if refs[tg.RefID] || tg.Expr == "" || tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
						t.Errorf("panel %q query %q: duplicate refId, empty expr or data source not ${datasource}", p.Title, tg.RefID)
					}
					refs[tg.RefID] = true
					for _, m := range varMatcher.FindAllStringSubmatch(tg.Expr, -1) {
						if m[1] != "=~" {
							t.Errorf("panel %q query %s: a variable compared with %s, want =~: %s", p.Title, tg.RefID, m[1], tg.Expr)
						}
					}
				}
			}
		})
	}
	// Every variable a panel uses is defined (else Grafana sends "$geo").
	for _, name := range names {
		d, _ := readDashboard(name)
		values := map[string]string{}
		for _, v := range d.Templating.List {
			values[v.Name] = "x"
		}
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if _, err := expand(tg.Expr, values); err != nil {
					t.Errorf("%s: panel %q query %s: %v", name, p.Title, tg.RefID, err)
				}
			}
		}
	}
}

func TestDashboardExprs(t *testing.T) {
	exprs, err := DashboardExprs(map[string]string{"gpu_model": "H100", "provider": ".*", "geo": ".*"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		`grafana/dashboards/gpuprice-gpu.json: variable provider`:                     `count by (provider) (gpuprice_gpu_usd_per_hour{gpu_model=~"H100"})`,
		`grafana/dashboards/gpuprice-providers.json: panel "Errors per hour" query A`: `sum by (provider, reason) (rate(gpuprice_collector_errors_total{provider=~".*"}[1m])) * 3600`,
	}
	for _, e := range exprs {
		if strings.Contains(e.Query, "$") {
			t.Errorf("%s: variable left in %s", e.Source, e.Query)
		}
		if w, ok := want[e.Source]; ok {
			if e.Query != w {
				t.Errorf("%s:\n got %s\nwant %s", e.Source, e.Query, w)
			}
			delete(want, e.Source)
		}
	}
	for s := range want {
		t.Errorf("no expression from %s", s)
	}
	if _, err := DashboardExprs(map[string]string{"gpu_model": "H100"}); err == nil || !strings.Contains(err.Error(), "no value for variable(s) provider") {
		t.Errorf("missing variable: err = %v", err)
	}
}

// composeFile is the part of docker-compose.yml the test reads.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Image       string   `yaml:"image"`
	Entrypoint  []string `yaml:"entrypoint"`
	Command     []string `yaml:"command"`
	Volumes     []string `yaml:"volumes"`
	Ports       []string `yaml:"ports"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

// readCompose decodes a compose file.
func readCompose(t *testing.T, name string) composeFile {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// mountsOf returns a service's bind and volume mounts, container path →
// host path (or volume name), checking that each exists or is declared.
func mountsOf(t *testing.T, name string, s composeService, volumes map[string]any) map[string]string {
	t.Helper()
	mounts := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Errorf("%s: volume %q has no target", name, v)
			continue
		}
		host, target := parts[0], parts[1]
		mounts[target] = host
		if strings.HasPrefix(host, ".") {
			if _, err := os.Stat(host); err != nil {
				t.Errorf("%s mounts %s: %v", name, host, err)
			}
		} else if _, ok := volumes[host]; !ok {
			t.Errorf("%s mounts the named volume %s, which is not declared", name, host)
		}
	}
	return mounts
}

// imageEntrypoint returns the exec-form ENTRYPOINT of the Dockerfile.
func imageEntrypoint(t *testing.T, dockerfile string) []string {
	t.Helper()
	df, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var entry []string
	for _, line := range strings.Split(string(df), "\n") {
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			if err := json.Unmarshal([]byte(rest), &entry); err != nil {
				t.Fatalf("Dockerfile ENTRYPOINT is not in exec form: %v", err)
			}
		}
	}
	if len(entry) == 0 {
		t.Fatal("Dockerfile has no ENTRYPOINT")
	}
	return entry
}

// configPath is where the image, compose and the docs put gpuprice's
// configuration.
const configPath = "/etc/gpuprice/gpuprice.yml"

// TestCompose checks that docker-compose.yml (which no test can start
// here: there is no Docker engine) refers to files that exist and that its
// pieces agree: gpuprice serves the shipped configuration at the image's
// config path, the mounts are where the Prometheus config and the Grafana
// provisioning read, every service has a healthcheck and starts after what
// it needs is healthy; and that the demo override runs the image's binary
// in demo mode on a store of its own.
func TestCompose(t *testing.T) {
	c := readCompose(t, "docker-compose.yml")
	for _, want := range []string{"gpuprice", "prometheus", "grafana"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	mounts := map[string]string{} // container path → host path, every service
	for name, s := range c.Services {
		for target, host := range mountsOf(t, name, s, c.Volumes) {
			mounts[target] = host
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" {
			t.Errorf("%s: healthcheck %+v, want an exec-form test (CMD ...)", name, s.Healthcheck)
		}
	}
	for service, needs := range map[string]string{"prometheus": "gpuprice", "grafana": "prometheus"} {
		if got := c.Services[service].DependsOn[needs].Condition; got != "service_healthy" {
			t.Errorf("%s depends on %s with condition %q, want service_healthy", service, needs, got)
		}
	}

	g := c.Services["gpuprice"]
	if g.Build == nil {
		t.Fatal("gpuprice is not built from the repository")
	}
	entry := imageEntrypoint(t, filepath.Join(g.Build.Context, g.Build.Dockerfile))
	if len(g.Entrypoint) != 0 || !slices.Contains(entry, "--config.file="+configPath) || !slices.Contains(entry, "--storage.path=/data") {
		t.Errorf("gpuprice runs %v (the image's %v), want the image's serve of %s on /data", g.Entrypoint, entry, configPath)
	}
	gm := mountsOf(t, "gpuprice", g, c.Volumes)
	if gm[configPath] != "./gpuprice.yml" || gm["/data"] == "" {
		t.Errorf("gpuprice mounts %v, want ./gpuprice.yml at %s and a volume at /data", gm, configPath)
	}
	if hc := g.Healthcheck; hc == nil || hc.Test[1] != entry[0] || !slices.Contains(hc.Test, "healthcheck") {
		t.Errorf("gpuprice healthcheck %+v, want the image's binary (%s) probing itself", hc, entry[0])
	}

	demo := readCompose(t, "docker-compose.demo.yml")
	d := demo.Services["gpuprice"]
	dm := mountsOf(t, "gpuprice (demo)", d, demo.Volumes)
	if len(d.Entrypoint) == 0 || d.Entrypoint[0] != entry[0] || !slices.Contains(d.Entrypoint, "demo") || !slices.Contains(d.Entrypoint, "--storage.path=/data") {
		t.Errorf("demo override runs %v, want %s demo --storage.path=/data", d.Entrypoint, entry[0])
	}
	if dm["/data"] == "" || dm["/data"] == gm["/data"] {
		t.Errorf("demo stores in %q, the real daemon in %q: want a volume of its own", dm["/data"], gm["/data"])
	}

	// Prometheus reads the mounted config and rules.
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	pb, err := os.ReadFile(mounts["/etc/prometheus/prometheus.yml"])
	if err != nil {
		t.Fatalf("prometheus config: %v", err)
	}
	if err := yaml.Unmarshal(pb, &prom); err != nil {
		t.Fatal(err)
	}
	for _, rf := range prom.RuleFiles {
		dir, pattern := filepath.Split(rf)
		host := mounts[strings.TrimSuffix(dir, "/")]
		matches, _ := filepath.Glob(filepath.Join(host, pattern))
		var want []string
		for _, f := range RuleFiles() {
			want = append(want, filepath.FromSlash(f))
		}
		if host == "" || !slices.Equal(matches, want) {
			t.Errorf("rule_files %s: mounted from %q, matches %v; want the rule files %v", rf, host, matches, want)
		}
	}
	if len(prom.ScrapeConfigs) != 1 || prom.ScrapeConfigs[0].JobName != "gpuprice" ||
		len(prom.ScrapeConfigs[0].StaticConfigs) != 1 || !slices.Equal(prom.ScrapeConfigs[0].StaticConfigs[0].Targets, []string{"gpuprice:9847"}) {
		t.Errorf("scrape configs %+v: want job gpuprice scraping gpuprice:9847 (GPUPriceExporterDown selects job=\"gpuprice\")", prom.ScrapeConfigs)
	}

	// Grafana loads the dashboards from where they are mounted.
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	provDir := mounts["/etc/grafana/provisioning"]
	yb, err := os.ReadFile(filepath.Join(provDir, "dashboards", "gpuprice.yml"))
	if err != nil {
		t.Fatalf("dashboard provisioning: %v", err)
	}
	if err := yaml.Unmarshal(yb, &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 || filepath.Clean(mounts[prov.Providers[0].Options.Path]) != filepath.Clean(DashboardsDir) {
		t.Errorf("Grafana reads dashboards from %+v, mounted from %q; want %s", prov.Providers, mounts[prov.Providers[0].Options.Path], DashboardsDir)
	}
	var ds struct {
		Datasources []struct {
			Type, URL string
		} `yaml:"datasources"`
	}
	yb, err = os.ReadFile(filepath.Join(provDir, "datasources", "prometheus.yml"))
	if err == nil {
		err = yaml.Unmarshal(yb, &ds)
	}
	if err != nil || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("data source provisioning: %v %+v; want the compose Prometheus", err, ds.Datasources)
	}
}

// TestDockerfile checks the image's contract: a static build with the
// Makefile's version flags, a non-root distroless final stage with CA
// certificates, the /data volume, port 9847, `serve` of the shipped
// configuration as entrypoint, and a HEALTHCHECK that needs no curl.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	final := stages[len(stages)-1][1]
	checks := []struct {
		name string
		ok   bool
	}{
		{"final stage distroless/static (CA certificates, no shell) or scratch", strings.HasPrefix(final, "gcr.io/distroless/static") || final == "scratch"},
		{"static build", strings.Contains(df, "CGO_ENABLED=0 go build")},
		{"non-root user", regexp.MustCompile(`(?m)^USER (65532|nonroot)`).MatchString(df)},
		{"/data volume", regexp.MustCompile(`(?m)^VOLUME \["/data"\]`).MatchString(df)},
		{"port 9847", regexp.MustCompile(`(?m)^EXPOSE 9847$`).MatchString(df)},
		{"entrypoint serve on /data with " + configPath, strings.Contains(df, `ENTRYPOINT ["/usr/local/bin/gpuprice", "serve", "--storage.path=/data", "--config.file=`+configPath+`"]`)},
		{"shipped config at " + configPath, strings.Contains(df, "COPY deploy/gpuprice.yml "+configPath+"\n")},
		{"shipped config checked at build", strings.Contains(df, "/out/gpuprice check-config deploy/gpuprice.yml")},
		{"HEALTHCHECK by the binary itself", regexp.MustCompile(`(?m)^\s+CMD \["/usr/local/bin/gpuprice", "healthcheck"`).MatchString(df) &&
			strings.Contains(df, "HEALTHCHECK ")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("Dockerfile: no %s", c.name)
		}
	}
	// The same -X version flags as the Makefile's build.
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	xflag := regexp.MustCompile(`-X (github\.com/prometheus/common/version\.\w+)=`)
	var want, got []string
	for _, m := range xflag.FindAllStringSubmatch(string(mk), -1) {
		want = append(want, m[1])
	}
	for _, m := range xflag.FindAllStringSubmatch(df, -1) {
		got = append(got, m[1])
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("Dockerfile sets %v, the Makefile %v", got, want)
	}
}

// TestComposeConfig has Debian's docker-compose validate the compose file,
// alone and with the demo override (service_healthy conditions,
// healthcheck syntax, the merge of the override's /data volume).
func TestComposeConfig(t *testing.T) {
	dc := tool(t, "docker-compose", "docker-compose")
	for _, files := range [][]string{{"docker-compose.yml"}, {"docker-compose.yml", "docker-compose.demo.yml"}} {
		var args []string
		for _, f := range files {
			args = append(args, "-f", f)
		}
		out, err := exec.Command(dc, append(args, "config")...).CombinedOutput()
		if err != nil {
			t.Errorf("docker-compose %s config: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		var merged struct { // as docker-compose prints it (long-form ports)
			Services map[string]struct {
				Entrypoint []string `yaml:"entrypoint"`
				Volumes    []string `yaml:"volumes"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(out, &merged); err != nil {
			t.Fatal(err)
		}
		g := merged.Services["gpuprice"]
		demo := len(files) == 2
		if slices.Contains(g.Entrypoint, "demo") != demo {
			t.Errorf("%v: gpuprice entrypoint %v", files, g.Entrypoint)
		}
		var data string
		for _, v := range g.Volumes {
			if host, rest, _ := strings.Cut(v, ":"); strings.HasPrefix(rest, "/data") {
				if data != "" {
					t.Errorf("%v: two mounts at /data: %v", files, g.Volumes)
				}
				data = host
			}
		}
		if want := map[bool]string{false: "gpuprice-data", true: "gpuprice-demo-data"}[demo]; data != want {
			t.Errorf("%v: /data is %q, want %q", files, data, want)
		}
	}
}

// TestComposeHA checks docker-compose-ha.yml: a PostgreSQL and two
// gpuprice replicas serving the mounted configuration under instance ids
// of their own, and a configuration that loads with the DSN the compose
// file gives.
func TestComposeHA(t *testing.T) {
	b, err := os.ReadFile("docker-compose-ha.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Entrypoint  []string          `yaml:"entrypoint"`
			Volumes     []string          `yaml:"volumes"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Services["postgres"]; !ok {
		t.Error("no postgres service")
	}
	ids := map[string]bool{}
	for _, name := range []string{"gpuprice-1", "gpuprice-2"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if !slices.Contains(s.Entrypoint, "serve") || !slices.Contains(s.Entrypoint, "--config.file=/etc/gpuprice/gpuprice.yml") ||
			!slices.Contains(s.Volumes, "./gpuprice-ha.yml:/etc/gpuprice/gpuprice.yml:ro") {
			t.Errorf("%s: entrypoint %v, volumes %v; want serve on the mounted gpuprice-ha.yml", name, s.Entrypoint, s.Volumes)
		}
		for _, arg := range s.Entrypoint {
			if id, ok := strings.CutPrefix(arg, "--cluster.instance-id="); ok {
				ids[id] = true
			}
		}
		if !strings.HasPrefix(s.Environment["GPUPRICE_DSN"], "postgres://gpuprice:") {
			t.Errorf("%s: GPUPRICE_DSN %q", name, s.Environment["GPUPRICE_DSN"])
		}
	}
	if len(ids) != 2 {
		t.Errorf("instance ids %v, want one per replica", ids)
	}
	cfg, err := os.ReadFile("gpuprice-ha.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s+driver: postgres`).Match(cfg) || !strings.Contains(string(cfg), "${GPUPRICE_DSN}") {
		t.Errorf("gpuprice-ha.yml does not use postgres with ${GPUPRICE_DSN}:\n%s", cfg)
	}
}
