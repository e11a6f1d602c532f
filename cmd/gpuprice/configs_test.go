package main

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/config"
)

// fencedBlock is one fenced code block of a Markdown file.
type fencedBlock struct {
	line int    // of the opening fence
	info string // the words after the fence: "yaml", "yaml web-config"
	text string
}

// fencedBlocks returns the ``` blocks of a Markdown document.
func fencedBlocks(t *testing.T, doc []byte) []fencedBlock {
	t.Helper()
	var out []fencedBlock
	var cur *fencedBlock
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch fence := strings.TrimLeft(line, " "); {
		case cur == nil && strings.HasPrefix(fence, "```"): // also in a list item
			cur = &fencedBlock{line: n, info: strings.TrimSpace(strings.TrimPrefix(fence, "```"))}
			body.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("line %d: fenced block never closed", cur.line)
	}
	return out
}

// readmeFixtures are the files the README's configuration examples name
// and a user provides (an nvidia-smi log): the examples are checked in a
// directory that has them, as the user's would.
const readmeFixtures = "testdata/readme"

// TestReadmeYAML runs every YAML block of the README through what checks
// it for real. A block fenced as plain ```yaml is a gpuprice configuration
// and must pass check-config as written; any other YAML says what it is
// in the fence's info string, which GitHub ignores after the language:
//
//	```yaml web-config         exporter-toolkit web configuration (--web.config.file)
//	```yaml prometheus-rule    one rule of a Prometheus rule group (checked by promtool)
//	```yaml helm-values        values of the Helm chart (rendered by deploy/helm's TestReadmeValues)
//
// exampleDSN is the database the examples' ${GPUPRICE_DSN} names.
const exampleDSN = "postgres://gpuprice@db.example:5432/gpuprice"

func TestReadmeYAML(t *testing.T) {
	t.Setenv("GPUPRICE_DSN", exampleDSN)
	doc, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(readmeFixtures)); err != nil {
		t.Fatal(err)
	}
	configs := 0
	for _, b := range fencedBlocks(t, doc) {
		lang, kind, _ := strings.Cut(b.info, " ")
		if lang != "yaml" && lang != "yml" {
			continue
		}
		name := "README.md:" + strconv.Itoa(b.line)
		t.Run(strings.ReplaceAll(name, ":", "_"), func(t *testing.T) {
			switch kind {
			case "":
				configs++
				file := filepath.Join(dir, "readme-"+strconv.Itoa(b.line)+".yml")
				if err := os.WriteFile(file, []byte(b.text), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := checkConfig(file, io.Discard); err != nil {
					// The error's line is the block's.
					msg := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
					t.Errorf("%s: a ```yaml block is a gpuprice configuration and must pass check-config (mark other YAML, e.g. ```yaml web-config): %s", name, msg)
				}
			case "web-config":
				var c web.Config
				dec := yaml.NewDecoder(strings.NewReader(b.text))
				dec.KnownFields(true)
				if err := dec.Decode(&c); err != nil {
					t.Errorf("%s: not an exporter-toolkit web configuration: %v", name, err)
				}
			case "prometheus-rule":
				checkRuleFragment(t, name, b.text)
			case "helm-values":
				// Checked in deploy/helm, the module that has Helm.
			default:
				t.Errorf("%s: unknown YAML kind %q in the fence (want none for a gpuprice config, web-config or prometheus-rule)", name, kind)
			}
		})
	}
	if configs == 0 {
		t.Error("no gpuprice configuration in the README")
	}
}

// checkRuleFragment checks a rule written as in a group's rules: list, by
// wrapping it in a group and running promtool check rules.
func checkRuleFragment(t *testing.T, name, text string) {
	promtool := requireTool(t, "promtool", "prometheus")
	file := filepath.Join(t.TempDir(), "rule.yml")
	wrapped := "groups:\n  - name: readme\n    rules:\n" + text
	if err := os.WriteFile(file, []byte(wrapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("%s: promtool check rules: %v\n%s\n%s", name, err, out, wrapped)
	}
}

// notGPUPriceConfigs are the YAML files under deploy/ that configure
// something else; every other YAML file there is a gpuprice configuration.
var notGPUPriceConfigs = regexp.MustCompile(`^(prometheus|grafana|helm)/|^docker-compose[^/]*\.ya?ml$`)

// commentedKey matches a commented-out key: "    # api_key_file: ..."
// at the indentation it would have, or "#   - name: ..." with it after
// the "# " (a commented list entry).
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# (\s*(?:- )?[a-z0-9_]+:(?: |$))`)

// uncomment returns a configuration with its commented-out keys and list
// entries uncommented and every provider disabled.
func uncomment(b []byte) []byte {
	b = commentedKey.ReplaceAll(b, []byte("$1$2"))
	return bytes.ReplaceAll(b, []byte("enabled: true"), []byte("enabled: false"))
}

// TestDeployConfigs runs check-config over every gpuprice configuration
// under deploy/, as shipped, and again with its commented-out keys
// uncommented (and every provider disabled, so that no secret file is
// read): the keys a user is invited to uncomment must exist and hold
// valid values.
func TestDeployConfigs(t *testing.T) {
	t.Setenv("GPUPRICE_DSN", exampleDSN)
	root := "../../deploy"
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if ext := filepath.Ext(rel); (ext == ".yml" || ext == ".yaml") && !notGPUPriceConfigs.MatchString(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no gpuprice configuration under deploy/")
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(root, rel)
			var summary bytes.Buffer
			if err := checkConfig(path, &summary); err != nil {
				t.Fatalf("as shipped: %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			uncommented := uncomment(b)
			if bytes.Equal(uncommented, b) {
				return
			}
			file := filepath.Join(t.TempDir(), filepath.Base(rel))
			if err := os.WriteFile(file, uncommented, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := checkConfig(file, io.Discard); err != nil {
				t.Errorf("with its commented keys uncommented: %v", err)
			}
		})
	}
}

// TestShippedConfig: deploy/gpuprice.yml has a section for every
// provider, enables exactly those that need no credentials, and holds
// owned and static examples, commented out (they would be exported as
// real prices) and valid once uncommented.
func TestShippedConfig(t *testing.T) {
	const shipped = "../../deploy/gpuprice.yml"
	var summary bytes.Buffer
	if err := checkConfig(shipped, &summary); err != nil {
		t.Fatal(err)
	}
	if want := "providers enabled: [azure (every 1h) runpod (every 5m) vastai (every 2m)]"; !strings.Contains(summary.String(), want) {
		t.Errorf("check-config says:\n%s\nwant %q", summary.String(), want)
	}
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Providers map[string]yaml.Node `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range config.ProviderNames() {
		if _, ok := doc.Providers[p]; !ok {
			t.Errorf("no providers.%s section", p)
		}
	}
	cfg, err := config.Load(b, shipped)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(owned.Of(cfg).Entries), len(static.Of(cfg).Entries); n != 0 || m != 0 {
		t.Errorf("%d owned and %d static entries active as shipped, want the examples commented out", n, m)
	}
	cfg, err = config.Load(uncomment(b), shipped)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(owned.Of(cfg).Entries), len(static.Of(cfg).Entries); n == 0 || m == 0 {
		t.Errorf("uncommented: %d owned and %d static examples, want some of each", n, m)
	}
}
