package collectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Rows is a JSON array of provider rows decoded one row at a time: a row
// that does not decode into T (a price sent as a string, a count as an
// object) is counted in Bad and left out, rather than failing the whole
// answer, so that one malformed row costs that row only. Collectors
// report Bad as price.SkippedInvalid. A value that is not an array at all
// (an object, a string) is an error, as for []T.
//
// Read through DecodeJSON (DoJSON), the array is streamed: one row is
// decoded at a time from the answer, never the whole answer at once; with
// Each set, not even the rows are kept. Through json.Unmarshal
// (UnmarshalJSON), the array's bytes are in memory already: an array
// whose rows all decode costs one pass, and only one with a bad row is
// decoded again row by row.
type Rows[T any] struct {
	// Items are the rows that decoded, in order; none when Each is set.
	Items []T
	// Each, when set before decoding, is given every row that decodes, in
	// order, instead of Items: a collector that keeps only what it
	// aggregates of each row holds no more of a long answer than that.
	// The row is reused once Each returns: Each copies what it keeps.
	Each func(row *T)
	// Bad counts the rows that did not decode; Err is the first one's
	// error, for messages.
	Bad int
	Err error
	// Good counts the rows that decoded (len(Items) without Each).
	Good int
	// Set is true when the array was present and not null.
	Set bool
}

// streamRows implements rowStreamer: the array's rows are read from dec
// one at a time (json.Decoder.Decode of one row), a row of the wrong type
// counted in Bad.
func (r *Rows[T]) streamRows(dec *json.Decoder) error {
	*r = Rows[T]{Each: r.Each}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil // null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		offset := dec.InputOffset()
		if err := skipRest(dec, tok); err != nil {
			return err
		}
		return &json.UnmarshalTypeError{Value: tokenKind(tok), Type: reflect.TypeFor[[]T](), Offset: offset}
	}
	r.Set = true
	// One row value serves every row (Each copies what it keeps): a row
	// costs what its fields allocate, not one more object.
	v := new(T)
	var zero T
	for dec.More() {
		*v = zero // encoding/json merges into what a value holds
		if err := dec.Decode(v); err != nil {
			// A syntax or read error ends the answer; a row of the wrong
			// type was read whole, and the decoder goes on.
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return err
			}
			r.Bad++
			if r.Err == nil {
				r.Err = err
			}
			continue
		}
		r.add(v)
	}
	_, err = dec.Token() // ']'
	return err
}

// add keeps a row that decoded, or hands it to Each.
func (r *Rows[T]) add(v *T) {
	r.Good++
	if r.Each != nil {
		r.Each(v)
		return
	}
	r.Items = append(r.Items, *v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Rows[T]) UnmarshalJSON(b []byte) error {
	*r = Rows[T]{Each: r.Each}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	err := json.Unmarshal(b, &r.Items)
	if err == nil {
		r.Set = true
		r.Good = len(r.Items)
		if r.Each != nil {
			items := r.Items
			r.Items = nil
			for i := range items {
				r.Each(&items[i])
			}
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err // not an array: the answer's shape is wrong, not a row
	}
	if r.Each == nil {
		r.Items = make([]T, 0, len(raw))
	}
	r.Set = true
	for _, m := range raw {
		var v T
		if err := json.Unmarshal(m, &v); err != nil {
			r.Bad++
			if r.Err == nil {
				r.Err = err
			}
			continue
		}
		r.add(&v)
	}
	return nil
}

// AllBad reports whether the array had rows and none of them decoded: an
// answer whose format changed, a decoding failure rather than bad rows.
func (r *Rows[T]) AllBad() bool { return r.Bad > 0 && r.Good == 0 }

// AllBadError is the error of an answer none of whose rows decodes (see
// AllBad): a DecodeError of what (the request), naming the rows ("offers");
// nil otherwise.
func (r *Rows[T]) AllBadError(what, rows string) error {
	if !r.AllBad() {
		return nil
	}
	return &DecodeError{What: what, Err: fmt.Errorf("none of %d %s could be read: %w", r.Bad, rows, r.Err)}
}

// NoRows is the error of an answer without a row to use: none of its rows
// decodes (AllBadError, which names what), or it has none: ErrEmpty, after
// op when op is not empty ("read the catalog"), since ErrEmpty does not
// say what was read. Nil when a row decoded.
func (r *Rows[T]) NoRows(what, rows, op string) error {
	if err := r.AllBadError(what, rows); err != nil {
		return err
	}
	switch {
	case r.Good > 0:
		return nil
	case op != "":
		return fmt.Errorf("%s: %w", op, ErrEmpty)
	}
	return ErrEmpty
}

// NoneUsable is the error of an answer of which a collector could price no
// row. Where some rows did not decode, what could be priced may have been
// among them (the format changed): a DecodeError of what, "<Bad>
// <unread>: <the first one's error>". Otherwise the answer had nothing to
// price: ErrEmpty, after empty.
func (r *Rows[T]) NoneUsable(what, unread, empty string) error {
	if r.Bad > 0 {
		return &DecodeError{What: what, Err: fmt.Errorf("%d %s: %w", r.Bad, unread, r.Err)}
	}
	return fmt.Errorf("%s: %w", empty, ErrEmpty)
}
