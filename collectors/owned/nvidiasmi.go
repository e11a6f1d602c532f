package owned

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/price"
)

// Sample is one row of `nvidia-smi --query-gpu=... --format=csv` output:
// one GPU at one moment. Numbers the file does not give (a field not
// queried, "[N/A]", "[Not Supported]") are NaN.
type Sample struct {
	// ID is the GPU's uuid, or its index when the query has no uuid.
	ID             string
	Name           string
	MemoryTotalMiB float64
	PowerDrawW     float64
}

// columns maps the query fields gpuprice reads to their position; the
// alternatives are nvidia-smi's aliases and newer drivers' variants, in
// order of preference.
var fieldAliases = map[string][]string{
	"uuid":         {"uuid", "gpu_uuid"},
	"index":        {"index"},
	"name":         {"name", "gpu_name"},
	"memory.total": {"memory.total"},
	"power.draw":   {"power.draw", "power.draw.average", "power.draw.instant"},
}

// headerField matches one field of a header line: a query field name with
// an optional unit ("power.draw [W]"). Data never looks like this: it has
// digits first, upper case or spaces.
var headerField = regexp.MustCompile(`^[a-z][a-z0-9_.]*( \[[^\]]*\])?$`)

// ParseCSV reads the output of `nvidia-smi --query-gpu=FIELDS
// --format=csv` with or without its header (noheader) and units
// (nounits). query is the FIELDS list; it is needed only when the output
// has no header, and then gives the columns. Several samples (nvidia-smi
// -l, or files of several hosts appended) may follow each other; a header
// repeated between them is skipped. The query must include name and
// power.draw, and uuid or index to tell GPUs apart across samples.
func ParseCSV(r io.Reader, query string) ([]Sample, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Both other output forms say so near their top.
	head, _ := br.Peek(4096)
	if bytes.Contains(head, []byte("NVIDIA-SMI")) || bytes.Contains(head, []byte("<nvidia_smi_log>")) {
		return nil, errors.New("this is nvidia-smi's table or XML output; write the file with nvidia-smi --query-gpu=uuid,name,memory.total,power.draw --format=csv")
	}
	var err error
	cr := csv.NewReader(br)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	cr.Comment = '#'

	var cols map[string]int
	if query != "" {
		if cols, err = columnsOf(strings.Split(query, ",")); err != nil {
			return nil, fmt.Errorf("nvidia_smi_query: %w", err)
		}
	}
	var out []Sample
	width := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if isHeader(rec) {
			hc, err := columnsOf(rec)
			if err != nil {
				return nil, fmt.Errorf("line %d: header: %w", line, err)
			}
			cols, width = hc, len(rec)
			continue
		}
		if cols == nil {
			return nil, fmt.Errorf("line %d: the output has no header: give nvidia_smi_query, the --query-gpu list it was written with", line)
		}
		if width == 0 {
			width = len(strings.Split(query, ","))
		}
		if len(rec) != width {
			return nil, fmt.Errorf("line %d: %d fields, want %d (as in the header or query)", line, len(rec), width)
		}
		s := Sample{ID: rec[cols["id"]], Name: rec[cols["name"]], MemoryTotalMiB: math.NaN()}
		if i, ok := cols["memory.total"]; ok {
			if s.MemoryTotalMiB, err = number(rec[i], "MiB"); err != nil {
				return nil, fmt.Errorf("line %d: memory.total: %w", line, err)
			}
		}
		if s.PowerDrawW, err = number(rec[cols["power.draw"]], "W"); err != nil {
			return nil, fmt.Errorf("line %d: power.draw: %w", line, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("no GPU rows")
	}
	return out, nil
}

func isHeader(rec []string) bool {
	for _, f := range rec {
		if !headerField.MatchString(f) {
			return false
		}
	}
	return true
}

// columnsOf finds the positions of the fields gpuprice reads in a header
// or query list. "id" is uuid's position, or index's.
func columnsOf(fields []string) (map[string]int, error) {
	pos := map[string]int{}
	for i, f := range fields {
		name, _, _ := strings.Cut(strings.TrimSpace(f), " [")
		if _, dup := pos[name]; !dup {
			pos[name] = i
		}
	}
	cols := map[string]int{}
	for want, aliases := range fieldAliases {
		for _, a := range aliases {
			if i, ok := pos[a]; ok {
				cols[want] = i
				break
			}
		}
	}
	for _, need := range []string{"name", "power.draw"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("no %s field (query at least uuid,name,memory.total,power.draw)", need)
		}
	}
	if i, ok := cols["uuid"]; ok {
		cols["id"] = i
	} else if i, ok := cols["index"]; ok {
		cols["id"] = i
	} else {
		return nil, errors.New("no uuid or index field: GPUs cannot be told apart across samples")
	}
	return cols, nil
}

// number parses a value with an optional unit; "[N/A]" and the like are
// NaN.
func number(v, unit string) (float64, error) {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), unit))
	if strings.HasPrefix(v, "[") || v == "N/A" || v == "" {
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("%q is not a number of %s", v, unit)
	}
	return f, nil
}

// Measurement is what an nvidia-smi file says about one GPU model.
type Measurement struct {
	// Raw is nvidia-smi's name of the GPUs ("NVIDIA H200").
	Raw string `json:"gpu_raw"`
	// GPUs counts the distinct GPUs of the model; Samples the power
	// samples the statistic is taken over.
	GPUs    int `json:"gpus"`
	Samples int `json:"samples"`
	// WattsPerGPU is Statistic over the samples' power.draw.
	WattsPerGPU float64 `json:"watts_per_gpu"`
	Statistic   string  `json:"statistic"`
	// MemoryGB is the marketed size snapped from memory.total, 0 when the
	// file does not give it.
	MemoryGB float64 `json:"gpu_memory_gb,omitempty"`
	Form     string  `json:"gpu_form,omitempty"`
	// Skipped counts rows of other GPU models, or with no power reading.
	Skipped int `json:"skipped,omitempty"`
}

// Measure reduces samples to the GPUs of model (mapped through the
// catalog's nvidia-smi table) and their power draw per GPU: the mean, the
// median (of an even count: the mean of the middle two) or the max of
// every sample of every such GPU.
func Measure(samples []Sample, cat *price.Catalog, model, statistic string) (Measurement, error) {
	m := Measurement{Statistic: statistic}
	ids := map[string]bool{}
	var watts []float64
	var others []string
	for _, s := range samples {
		a, ok := cat.Lookup("nvidia-smi", s.Name)
		if !ok || a.Model != model {
			m.Skipped++
			if !slices.Contains(others, s.Name) {
				others = append(others, s.Name)
			}
			continue
		}
		ids[s.ID] = true
		if m.Raw == "" {
			m.Raw, m.Form, m.MemoryGB = s.Name, a.Form, a.MemoryGB
			if m.MemoryGB == 0 {
				m.MemoryGB = cat.SnapMemory(a.Model, a.Form, s.MemoryTotalMiB)
			}
		}
		if math.IsNaN(s.PowerDrawW) {
			m.Skipped++
			continue
		}
		watts = append(watts, s.PowerDrawW)
	}
	if len(ids) == 0 {
		return m, fmt.Errorf("no %s GPU in the file (it lists %s; names are mapped through the catalog's nvidia-smi table)", model, strings.Join(others, ", "))
	}
	if len(watts) == 0 {
		return m, fmt.Errorf("no power.draw reading for the %s GPUs", model)
	}
	m.GPUs, m.Samples = len(ids), len(watts)
	switch statistic {
	case PowerMax:
		m.WattsPerGPU = slices.Max(watts)
	case PowerMedian:
		slices.Sort(watts)
		n := len(watts)
		m.WattsPerGPU = (watts[(n-1)/2] + watts[n/2]) / 2
	default:
		sum := 0.0
		for _, w := range watts {
			sum += w
		}
		m.WattsPerGPU = sum / float64(len(watts))
	}
	return m, nil
}
