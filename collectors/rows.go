package collectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Rows is a JSON array of provider rows decoded one row at a time where
// need be: a row that does not decode into T (a price sent as a string,
// a count as an object) is counted in Bad and left out, rather than
// failing the whole answer, so that one malformed row costs that row
// only. Collectors report Bad as price.SkippedInvalid.
//
// An answer whose rows all decode costs one pass, as a plain []T would;
// only an answer with a bad row is decoded again row by row. A value that
// is not an array at all (an object, a string) is an error, as for []T.
type Rows[T any] struct {
	Items []T
	// Bad counts the rows that did not decode; Err is the first one's
	// error, for messages.
	Bad int
	Err error
	// Set is true when the array was present and not null.
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Rows[T]) UnmarshalJSON(b []byte) error {
	*r = Rows[T]{}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	err := json.Unmarshal(b, &r.Items)
	if err == nil {
		r.Set = true
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
	r.Items = make([]T, 0, len(raw))
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
		r.Items = append(r.Items, v)
	}
	return nil
}

// AllBad reports whether the array had rows and none of them decoded: an
// answer whose format changed, a decoding failure rather than bad rows.
func (r *Rows[T]) AllBad() bool { return r.Bad > 0 && len(r.Items) == 0 }

// AllBadError is the error of an answer none of whose rows decodes (see
// AllBad): a DecodeError of what (the request), naming the rows ("offers");
// nil otherwise.
func (r *Rows[T]) AllBadError(what, rows string) error {
	if !r.AllBad() {
		return nil
	}
	return &DecodeError{What: what, Err: fmt.Errorf("none of %d %s could be read: %w", r.Bad, rows, r.Err)}
}
