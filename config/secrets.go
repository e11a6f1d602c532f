package config

import (
	"net/url"
	"reflect"
	"slices"
)

// Secrets returns the value of every Secret of c that is set — every
// provider's keys, the storage DSN — and the password inside a URL-form
// DSN, each once: what must never appear in a log line, an API answer or
// the poll log, whatever an upstream error echoes back. Sections of
// disabled providers count too: a key may sit in an environment shared
// with other tools.
func (c *Config) Secrets() []string {
	out := SecretsOf(c)
	for _, name := range BlockNames() {
		out = appendNew(out, SecretsOf(c.blocks[name])...)
	}
	if u, err := url.Parse(string(c.Storage.DSN)); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = appendNew(out, pw)
		}
	}
	return out
}

// SecretsOf returns the value of every Secret set in v (a section, a
// block), each once.
func SecretsOf(v any) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		case reflect.String:
			if v.Type() == reflect.TypeFor[Secret]() {
				out = appendNew(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}

// appendNew appends the non-empty values of vs not in out yet.
func appendNew(out []string, vs ...string) []string {
	for _, s := range vs {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
