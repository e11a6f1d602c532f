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

	"go.yaml.in/yaml/v3"
)

// tool returns the path of a Debian tool the test needs, or skips the test
// when it is missing, unless GPUPRICE_REQUIRE_INTEGRATION is set (CI).
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("GPUPRICE_REQUIRE_INTEGRATION") != "" {
			t.Fatalf("%s not found and GPUPRICE_REQUIRE_INTEGRATION is set (apt-get install -y %s)", name, pkg)
		}
		t.Skipf("%s not found (apt-get install -y %s)", name, pkg)
	}
	return p
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
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image      string   `yaml:"image"`
		Entrypoint []string `yaml:"entrypoint"`
		Command    []string `yaml:"command"`
		Volumes    []string `yaml:"volumes"`
		Ports      []string `yaml:"ports"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestCompose checks that docker-compose.yml (which no test can start
// here: there is no Docker engine) refers to files that exist and that its
// pieces agree: the mounts with the paths the Prometheus config and the
// Grafana provisioning read, the entrypoint with the image's.
func TestCompose(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gpuprice", "prometheus", "grafana"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	mounts := map[string]string{} // container path → host path
	for name, s := range c.Services {
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
			} else if _, ok := c.Volumes[host]; !ok {
				t.Errorf("%s mounts the named volume %s, which is not declared", name, host)
			}
		}
	}

	g := c.Services["gpuprice"]
	if g.Build == nil {
		t.Fatal("gpuprice is not built from the repository")
	}
	dockerfile := filepath.Join(g.Build.Context, g.Build.Dockerfile)
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
	if len(entry) == 0 || len(g.Entrypoint) == 0 || g.Entrypoint[0] != entry[0] {
		t.Errorf("compose runs %v, the image's binary is %v", g.Entrypoint, entry)
	}
	if !slices.Contains(g.Entrypoint, "demo") || mounts["/data"] == "" || !slices.Contains(g.Entrypoint, "--storage.path=/data") {
		t.Errorf("gpuprice: entrypoint %v, mounts %v; want demo mode with its store on the /data volume", g.Entrypoint, mounts)
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
// certificates, the /data volume, port 9847 and `serve` as entrypoint.
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
		{"entrypoint serve on /data", strings.Contains(df, `ENTRYPOINT ["/usr/local/bin/gpuprice", "serve", "--storage.path=/data"]`)},
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
