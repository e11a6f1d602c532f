package collectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// DecodeJSON decodes the JSON value at the start of r into v, as
// json.NewDecoder(r).Decode(v) would, except that it streams: the Rows
// in v — v itself, or fields of v's struct at any depth of structs and
// pointers to structs — are read one row at a time, so that memory holds
// one row of the answer and what was decoded, never the whole answer
// (json.Decoder.Decode reads a value whole before decoding it). A
// Rows with an Each function keeps nothing: each row is handed to Each.
//
// Field names match as for encoding/json (the json tag, or the field
// name, exact first, else without regard to case); unknown fields are
// skipped token by token. A value of the wrong type for a field fails the
// decoding, as with encoding/json, after the rest of the value has been
// read; a row of the wrong type is counted in its Rows and left out. A
// type DecodeJSON cannot stream (one with embedded fields, ",string"
// options, or its own UnmarshalJSON) is decoded with json.Decoder.Decode.
func DecodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if s, ok := v.(rowStreamer); ok {
		return s.streamRows(dec)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || plan(rv.Elem().Type()) == nil {
		return dec.Decode(v)
	}
	var typeErr error
	if err := decodeStruct(dec, rv.Elem(), &typeErr); err != nil {
		return err
	}
	return typeErr
}

// rowStreamer is *Rows[T]: it reads an array from dec one row at a time.
type rowStreamer interface {
	streamRows(dec *json.Decoder) error
}

var rowStreamerType = reflect.TypeFor[rowStreamer]()

// fieldKind says how decodeStruct reads a field.
type fieldKind int

const (
	plainField  fieldKind = iota // json.Decoder.Decode
	rowsField                    // a Rows: streamed
	structField                  // a struct holding Rows: walked
	ptrField                     // a pointer to such a struct: allocated and walked
)

type field struct {
	name  string
	index int
	kind  fieldKind
}

// structPlan is how decodeStruct reads a struct type.
type structPlan struct {
	fields []field
}

// lookup returns the field a key names: the exact name, else the first
// that matches without regard to case (encoding/json's rule).
func (p *structPlan) lookup(key string) *field {
	for i := range p.fields {
		if p.fields[i].name == key {
			return &p.fields[i]
		}
	}
	for i := range p.fields {
		if strings.EqualFold(p.fields[i].name, key) {
			return &p.fields[i]
		}
	}
	return nil
}

var (
	plans   sync.Map   // reflect.Type → *structPlan, or a nil *structPlan: not streamed
	plansMu sync.Mutex // held while plans are made
)

// plan returns how to stream struct type t, or nil when t holds no Rows
// or is not a struct decodeStruct can read like encoding/json would.
func plan(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	return planLocked(t, map[reflect.Type]bool{})
}

// planLocked is plan under plansMu; busy holds the types whose plan is
// being made, so that a type that holds itself (through a pointer or a
// slice) has its inner occurrences decoded whole rather than recursing.
func planLocked(t reflect.Type, busy map[reflect.Type]bool) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	if busy[t] {
		return nil
	}
	busy[t] = true
	p := makePlan(t, busy)
	plans.Store(t, p)
	return p
}

func makePlan(t reflect.Type, busy map[reflect.Type]bool) *structPlan {
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return nil
	}
	p := &structPlan{}
	streams := false
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedded fields: encoding/json's promotion rules
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if strings.Contains(","+opts+",", ",string,") {
			return nil
		}
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, index: i}
		switch {
		case reflect.PointerTo(sf.Type).Implements(rowStreamerType):
			f.kind = rowsField
		case sf.Type.Kind() == reflect.Struct && planLocked(sf.Type, busy) != nil:
			f.kind = structField
		case sf.Type.Kind() == reflect.Pointer && planLocked(sf.Type.Elem(), busy) != nil:
			f.kind = ptrField
		}
		streams = streams || f.kind != plainField
		p.fields = append(p.fields, f)
	}
	if !streams {
		return nil
	}
	return p
}

// decodeStruct reads a JSON object into sv, a struct with a plan; a null
// leaves sv as it is. The first value of the wrong type is kept in typeErr
// and the rest read on, as encoding/json does.
func decodeStruct(dec *json.Decoder, sv reflect.Value, typeErr *error) error {
	open, err := objectStart(dec, sv.Type(), typeErr)
	if err != nil || !open {
		return err
	}
	return decodeMembers(dec, sv, typeErr)
}

// decodePointer reads an object into the struct fv points to, allocated
// if need be; a null sets fv to nil, as encoding/json does.
func decodePointer(dec *json.Decoder, fv reflect.Value, typeErr *error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		fv.SetZero()
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return wrongType(dec, tok, fv.Type(), typeErr)
	}
	if fv.IsNil() {
		fv.Set(reflect.New(fv.Type().Elem()))
	}
	return decodeMembers(dec, fv.Elem(), typeErr)
}

// objectStart reads the token that starts an object for a value of type
// t: true for '{'; false for null, and for a value of another type (then
// read whole and noted in typeErr).
func objectStart(dec *json.Decoder, t reflect.Type, typeErr *error) (bool, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false, wrongType(dec, tok, t, typeErr)
	}
	return true, nil
}

// decodeMembers reads the members of an object whose '{' has been read,
// and its closing '}'.
func decodeMembers(dec *json.Decoder, sv reflect.Value, typeErr *error) error {
	p := plan(sv.Type())
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		f := p.lookup(key)
		if f == nil {
			if err := skipValue(dec); err != nil {
				return err
			}
			continue
		}
		fv := sv.Field(f.index)
		switch f.kind {
		case rowsField:
			err = fv.Addr().Interface().(rowStreamer).streamRows(dec)
		case structField:
			err = decodeStruct(dec, fv, typeErr)
		case ptrField:
			err = decodePointer(dec, fv, typeErr)
		default:
			err = dec.Decode(fv.Addr().Interface())
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// The value was read whole: the decoder goes on.
			if te.Field == "" {
				te.Struct, te.Field = sv.Type().Name(), f.name
			}
			keep(typeErr, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// wrongType reads the rest of a value that started with tok and is not
// of type t, and notes the type error.
func wrongType(dec *json.Decoder, tok json.Token, t reflect.Type, typeErr *error) error {
	offset := dec.InputOffset()
	if err := skipRest(dec, tok); err != nil {
		return err
	}
	keep(typeErr, &json.UnmarshalTypeError{Value: tokenKind(tok), Type: t, Offset: offset})
	return nil
}

// keep sets *first to err unless it holds an error already.
func keep(first *error, err error) {
	if *first == nil {
		*first = err
	}
}

// skipValue reads the next value whole, token by token: nothing of it is
// kept, however long it is.
func skipValue(dec *json.Decoder) error {
	tok, err := skipToken(dec)
	if err != nil {
		return err
	}
	return skipRest(dec, tok)
}

// skipToken is dec.Token for a value being skipped: a number Token
// cannot hold in a float64 (1e700) is read as any other scalar, not an
// error (json.Decoder has read it whole and goes on).
func skipToken(dec *json.Decoder) (json.Token, error) {
	tok, err := dec.Token()
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return json.Number("0"), nil
	}
	return tok, err
}

// skipRest reads the rest of the value that started with tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar is one token
	}
	if d != '{' && d != '[' {
		return fmt.Errorf("unexpected %v", d)
	}
	for depth := 1; depth > 0; {
		tok, err := skipToken(dec)
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// tokenKind names the JSON type a value starting with tok has, as
// json.UnmarshalTypeError.Value does.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}
