package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The decoder walks yaml.v3 nodes itself rather than decoding text with
// KnownFields: it then knows the key path and line of every value, so an
// unknown key or a value of the wrong type is reported as
// `providers.vastai.interval` at its line, and the providers: sections are
// decoded into the types their packages registered.

// decodeValue fills out (addressable) from n, strictly: a mapping key that
// names no field is an error. A null value keeps what out holds (the
// defaults).
func decodeValue(n *yaml.Node, out reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if u, ok := out.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			return &Error{Line: n.Line, Key: path, Msg: err.Error()}
		}
		return nil
	}
	switch out.Kind() {
	case reflect.Struct:
		return decodeMapping(n, path, fieldsOf(out))
	case reflect.Pointer:
		v := reflect.New(out.Type().Elem())
		if !out.IsNil() {
			v.Elem().Set(out.Elem())
		}
		if err := decodeValue(n, v.Elem(), path); err != nil {
			return err
		}
		out.Set(v)
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Line: n.Line, Key: path, Msg: "must be a list"}
		}
		s := reflect.MakeSlice(out.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := decodeValue(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		out.Set(s)
		return nil
	case reflect.Map:
		if p, ok := out.Interface().(Providers); ok {
			return p.decode(n, path)
		}
		return decodeMap(n, out, path)
	}
	if n.Kind != yaml.ScalarNode {
		return &Error{Line: n.Line, Key: path, Msg: "must be " + kindName(out.Type())}
	}
	if err := n.Decode(out.Addr().Interface()); err != nil {
		return &Error{Line: n.Line, Key: path, Msg: fmt.Sprintf("%q is not %s", n.Value, kindName(out.Type()))}
	}
	return nil
}

// decodeMapping decodes each key of mapping n into the field of the same
// name.
func decodeMapping(n *yaml.Node, path string, fields map[string]reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Key: path, Msg: "must be a mapping of keys to values"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := joinKey(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			return &Error{Line: k.Line, Key: key, Msg: "unknown key (check its spelling and indentation)"}
		}
		if err := decodeValue(v, f, key); err != nil {
			return err
		}
	}
	return nil
}

// decodeMap decodes a mapping into a Go map (headers and the like).
func decodeMap(n *yaml.Node, out reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Key: path, Msg: "must be a mapping of keys to values"}
	}
	m := reflect.MakeMapWithSize(out.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := reflect.New(out.Type().Key()).Elem(), reflect.New(out.Type().Elem()).Elem()
		key := joinKey(path, n.Content[i].Value)
		if err := decodeValue(n.Content[i], k, key); err != nil {
			return err
		}
		if err := decodeValue(n.Content[i+1], v, key); err != nil {
			return err
		}
		m.SetMapIndex(k, v)
	}
	out.Set(m)
	return nil
}

// decode fills each provider's registered section from its block.
func (p Providers) decode(n *yaml.Node, path string) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Key: path, Msg: "must be a mapping of provider names to sections"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		s, ok := p[k.Value]
		if !ok {
			return &Error{Line: k.Line, Key: joinKey(path, k.Value),
				Msg: fmt.Sprintf("unknown provider (check its spelling; providers are %s)", strings.Join(p.Names(), ", "))}
		}
		if err := decodeValue(v, reflect.ValueOf(s).Elem(), joinKey(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// fieldsOf maps the YAML keys of struct v to its fields, descending into
// fields tagged ",inline".
func fieldsOf(v reflect.Value) map[string]reflect.Value {
	fields := map[string]reflect.Value{}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !sf.IsExported():
		case opts == "inline":
			for k, f := range fieldsOf(v.Field(i)) {
				fields[k] = f
			}
		case name != "":
			fields[name] = v.Field(i)
		}
	}
	return fields
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// kindName says what a value of type t is written as.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping of keys to values"
	}
	return "a single value"
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every value (never in keys, and so never in
// comments, which are not values). An expanded plain scalar is typed anew
// from its text, so that `interval: ${INTERVAL}` may be a duration.
func expandEnv(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := expandEnv(c, path); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := expandEnv(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := expandEnv(n.Content[i+1], joinKey(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		var missing string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			v, ok := os.LookupEnv(m[2 : len(m)-1])
			if !ok && missing == "" {
				missing = m[2 : len(m)-1]
			}
			return v
		})
		if missing != "" {
			return &Error{Line: n.Line, Key: path, Msg: fmt.Sprintf("environment variable %s is not set", missing)}
		}
		if n.Style == 0 {
			n.Tag = ""
		}
	}
	return nil
}

// parse reads exactly one YAML document.
func parse(data []byte) (*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, errEOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(err)
		}
		docs = append(docs, &doc)
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
		return docs[0].Content[0], nil
	}
	return nil, &Error{Line: docs[1].Line, Msg: "a second YAML document (after ---): a configuration is one document"}
}

// errEOF is what yaml.v3 returns at the end of the input.
var errEOF = func() error {
	return yaml.NewDecoder(strings.NewReader("")).Decode(new(yaml.Node))
}()

// syntaxError locates yaml.v3's syntax errors ("yaml: line 4: could not
// find expected ':'"), whose only structured form is their text.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	return &Error{Line: line, Msg: msg}
}
