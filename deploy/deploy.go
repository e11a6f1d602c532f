// Package deploy holds gpuprice's Prometheus rules (prometheus/rules) and
// Grafana dashboards (grafana/dashboards), embedded, and lists the PromQL
// expressions they use, so that tests can check every one of them: with
// promtool here, and against a real Prometheus scraping `gpuprice demo` in
// cmd/gpuprice. The daemon itself does not import this package.
package deploy

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed prometheus/rules/*.yml grafana/dashboards/*.json
var files embed.FS

// Rule and dashboard locations inside the package directory.
const (
	RulesDir      = "prometheus/rules"
	DashboardsDir = "grafana/dashboards"
)

// ReadFile returns an embedded file, named by its path in the package
// directory ("prometheus/rules/gpuprice-alerts.yml").
func ReadFile(name string) ([]byte, error) { return files.ReadFile(name) }

// RuleFiles returns the paths of the rule files, sorted.
func RuleFiles() []string { return glob(RulesDir, "*.yml") }

// DashboardFiles returns the paths of the dashboards, sorted.
func DashboardFiles() []string { return glob(DashboardsDir, "*.json") }

func glob(dir, pattern string) []string {
	names, err := fs.Glob(files, path.Join(dir, pattern))
	if err != nil {
		panic(err) // the patterns are constants
	}
	sort.Strings(names)
	return names
}

// Expr is one PromQL expression of a rule file or a dashboard.
type Expr struct {
	// Source says where the expression is, e.g.
	// `grafana/dashboards/gpuprice-gpu.json: panel "Offers now" query B`.
	Source string
	// Kind is "record", "alert", "panel" or "variable".
	Kind string
	// Name is the recorded series or the alert, for rules.
	Name string
	// Query is the PromQL, with a dashboard's variables replaced.
	Query string
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// Rules returns the expression of every recording and alerting rule.
func Rules() ([]Expr, error) {
	var out []Expr
	for _, name := range RuleFiles() {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var rf ruleFile
		if err := yaml.Unmarshal(b, &rf); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				e := Expr{Kind: "record", Name: r.Record, Query: strings.TrimSpace(r.Expr)}
				if r.Alert != "" {
					e.Kind, e.Name = "alert", r.Alert
				}
				e.Source = fmt.Sprintf("%s: %s %s", name, e.Kind, e.Name)
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": "...", "refId": ...}
	Datasource *datasource     `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// queryText returns a variable's query whichever form Grafana saved it in.
func (v variable) queryText() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var o struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &o); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object", v.Name)
	}
	return o.Query, nil
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's panels
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func readDashboard(name string) (*dashboard, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &d, nil
}

// allPanels returns the panels of d, those inside rows included.
func (d *dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// BuiltinVars are the values given to Grafana's own variables when a
// dashboard's expressions are listed, unless the caller sets them.
var BuiltinVars = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__range":         "1h",
	"__range_s":       "3600",
}

// varRef matches $var, ${var}, ${var:format} and [[var]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// expand replaces the variables of q by their values.
func expand(q string, vars map[string]string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(q, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := BuiltinVars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for variable(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// labelValues matches Grafana's label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// variableQuery turns a Prometheus variable query into PromQL that returns
// data exactly when the variable has values: label_values(m, l) becomes
// count by (l) (m).
func variableQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if m := labelValues.FindStringSubmatch(q); m != nil {
		return fmt.Sprintf("count by (%s) (%s)", m[2], m[1]), nil
	}
	if inner, ok := strings.CutPrefix(q, "query_result("); ok && strings.HasSuffix(inner, ")") {
		return strings.TrimSuffix(inner, ")"), nil
	}
	return "", fmt.Errorf("unsupported variable query %q (use label_values or query_result)", q)
}

// DashboardExprs returns the expression of every panel query and query
// variable of every dashboard, with the dashboard variables replaced by
// vars (name → value, e.g. "gpu_model" → "H100") and Grafana's built-ins
// by BuiltinVars. A variable without a value is an error.
func DashboardExprs(vars map[string]string) ([]Expr, error) {
	var out []Expr
	for _, name := range DashboardFiles() {
		d, err := readDashboard(name)
		if err != nil {
			return nil, err
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			raw, err := v.queryText()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			q, err := variableQuery(raw)
			if err == nil {
				q, err = expand(q, vars)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: variable %s: %w", name, v.Name, err)
			}
			out = append(out, Expr{Source: fmt.Sprintf("%s: variable %s", name, v.Name), Kind: "variable", Query: q})
		}
		for _, p := range d.allPanels() {
			for _, t := range p.Targets {
				q, err := expand(t.Expr, vars)
				if err != nil {
					return nil, fmt.Errorf("%s: panel %q query %s: %w", name, p.Title, t.RefID, err)
				}
				out = append(out, Expr{Source: fmt.Sprintf("%s: panel %q query %s", name, p.Title, t.RefID), Kind: "panel", Query: q})
			}
		}
	}
	return out, nil
}

// quoted matches a PromQL string literal.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)

// metricName matches gpuprice's metric names and the recorded ones built
// on them (level:gpuprice_...:operation).
var metricName = regexp.MustCompile(`\b(?:[a-z_]+:)?gpuprice_[a-z0-9_]+(?::[a-z0-9_]+)?\b`)

// MetricNames returns the gpuprice metric names (and recorded series named
// after them) that q refers to, sorted and without duplicates. Label values
// are ignored, so job="gpuprice" names nothing.
func MetricNames(q string) []string {
	q = quoted.ReplaceAllString(q, `""`)
	seen := map[string]bool{}
	var out []string
	for _, m := range metricName.FindAllString(q, -1) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}
