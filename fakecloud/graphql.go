package fakecloud

import (
	"fmt"
	"strconv"
	"strings"
)

// This file holds the small GraphQL reader the Runpod fake uses: enough of
// the language for the queries clients send (one query operation, variable
// definitions, fields with aliases, arguments and nested selections,
// literal and variable argument values), and clear errors for what it does
// not serve (mutations, fragments, directives). It parses; it does not
// know any schema.

// gqlField is one field of a selection set.
type gqlField struct {
	alias string // the response key: the alias, or the name
	name  string
	args  map[string]any // resolved values: nil, bool, float64, string, []any, map[string]any
	sel   []gqlField     // nil for a leaf field
}

// gqlError is a GraphQL error: the message of one entry of "errors".
type gqlError struct{ msg string }

func (e *gqlError) Error() string { return e.msg }

func gqlErrorf(format string, args ...any) error {
	return &gqlError{msg: fmt.Sprintf(format, args...)}
}

// gqlToken is one lexical token: a name, a punctuator, a string, a number,
// or the end of the document (kind 0).
type gqlToken struct {
	kind byte // 'n' name, 'p' punctuator, 's' string, '#' number, 0 end
	text string
	line int
}

type gqlParser struct {
	src  string
	pos  int
	line int
	tok  gqlToken
	vars map[string]any // the request's variables
	defs map[string]bool
}

// parseGraphQL reads a document holding one query operation and returns
// its top-level selection set, with every argument resolved against vars.
func parseGraphQL(src string, vars map[string]any) ([]gqlField, error) {
	p := &gqlParser{src: src, line: 1, vars: vars, defs: map[string]bool{}}
	if err := p.next(); err != nil {
		return nil, err
	}
	switch {
	case p.tok.kind == 'p' && p.tok.text == "{":
		// shorthand query
	case p.tok.kind == 'n' && p.tok.text == "query":
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.tok.kind == 'n' { // operation name
			if err := p.next(); err != nil {
				return nil, err
			}
		}
		if p.is("(") {
			if err := p.variableDefinitions(); err != nil {
				return nil, err
			}
		}
	case p.tok.kind == 'n' && (p.tok.text == "mutation" || p.tok.text == "subscription"):
		return nil, gqlErrorf("this fake serves queries only, not %s", p.tok.text)
	case p.tok.kind == 'n' && p.tok.text == "fragment":
		return nil, gqlErrorf("this fake does not serve fragments")
	default:
		return nil, p.unexpected()
	}
	sel, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != 0 {
		return nil, gqlErrorf("this fake serves one operation per document; found %q after it (line %d)", p.tok.text, p.tok.line)
	}
	return sel, nil
}

func (p *gqlParser) is(punct string) bool { return p.tok.kind == 'p' && p.tok.text == punct }

func (p *gqlParser) unexpected() error {
	if p.tok.kind == 0 {
		return gqlErrorf("Syntax Error: Unexpected <EOF>.")
	}
	return gqlErrorf("Syntax Error: Unexpected %q (line %d).", p.tok.text, p.tok.line)
}

func (p *gqlParser) expect(punct string) error {
	if !p.is(punct) {
		if p.tok.kind == 0 {
			return gqlErrorf("Syntax Error: Expected %q, found <EOF>.", punct)
		}
		return gqlErrorf("Syntax Error: Expected %q, found %q (line %d).", punct, p.tok.text, p.tok.line)
	}
	return p.next()
}

func (p *gqlParser) name() (string, error) {
	if p.tok.kind != 'n' {
		return "", p.unexpected()
	}
	n := p.tok.text
	return n, p.next()
}

// next reads the next token, skipping white space, commas and comments,
// which GraphQL ignores.
func (p *gqlParser) next() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == ',':
			p.pos++
		case strings.HasPrefix(p.src[p.pos:], "\ufeff"): // a byte order mark
			p.pos += len("\ufeff")
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return p.token()
		}
	}
	p.tok = gqlToken{line: p.line}
	return nil
}

func (p *gqlParser) token() error {
	start, c := p.pos, p.src[p.pos]
	switch {
	case c == '_' || isAlpha(c):
		for p.pos < len(p.src) && (p.src[p.pos] == '_' || isAlpha(p.src[p.pos]) || isDigit(p.src[p.pos])) {
			p.pos++
		}
		p.tok = gqlToken{kind: 'n', text: p.src[start:p.pos], line: p.line}
	case c == '-' || isDigit(c):
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		p.tok = gqlToken{kind: '#', text: p.src[start:p.pos], line: p.line}
	case c == '"':
		if strings.HasPrefix(p.src[p.pos:], `"""`) {
			return gqlErrorf("this fake does not read block strings (line %d)", p.line)
		}
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] != '"' {
			if p.src[p.pos] == '\\' {
				p.pos++
			}
			if p.pos < len(p.src) && p.src[p.pos] == '\n' {
				return gqlErrorf("Syntax Error: Unterminated string (line %d).", p.line)
			}
			p.pos++
		}
		if p.pos >= len(p.src) {
			return gqlErrorf("Syntax Error: Unterminated string (line %d).", p.line)
		}
		p.pos++
		s, err := strconv.Unquote(p.src[start:p.pos])
		if err != nil {
			return gqlErrorf("Syntax Error: Invalid string %s (line %d).", p.src[start:p.pos], p.line)
		}
		p.tok = gqlToken{kind: 's', text: s, line: p.line}
	case strings.HasPrefix(p.src[p.pos:], "..."):
		p.pos += 3
		p.tok = gqlToken{kind: 'p', text: "...", line: p.line}
	case strings.IndexByte("{}()[]:$!=@|&", c) >= 0:
		p.pos++
		p.tok = gqlToken{kind: 'p', text: string(c), line: p.line}
	default:
		return gqlErrorf("Syntax Error: Unexpected character %q (line %d).", c, p.line)
	}
	return nil
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// variableDefinitions reads ($a: Type, $b: [Type!]! = default) and
// records the names, so that using an undefined variable is an error.
func (p *gqlParser) variableDefinitions() error {
	if err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		if err := p.expect("$"); err != nil {
			return err
		}
		n, err := p.name()
		if err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		if err := p.typeRef(); err != nil {
			return err
		}
		if p.is("=") {
			if err := p.next(); err != nil {
				return err
			}
			def, err := p.value(true)
			if err != nil {
				return err
			}
			if _, given := p.vars[n]; !given {
				if p.vars == nil {
					p.vars = map[string]any{}
				}
				p.vars[n] = def
			}
		}
		p.defs[n] = true
	}
	return p.next()
}

func (p *gqlParser) typeRef() error {
	if p.is("[") {
		if err := p.next(); err != nil {
			return err
		}
		if err := p.typeRef(); err != nil {
			return err
		}
		if err := p.expect("]"); err != nil {
			return err
		}
	} else if _, err := p.name(); err != nil {
		return err
	}
	if p.is("!") {
		return p.next()
	}
	return nil
}

func (p *gqlParser) selectionSet() ([]gqlField, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []gqlField
	for !p.is("}") {
		if p.is("...") {
			return nil, gqlErrorf("this fake does not serve fragments (line %d)", p.tok.line)
		}
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, gqlErrorf("Syntax Error: Expected Name, found \"}\".")
	}
	return out, p.next()
}

func (p *gqlParser) field() (gqlField, error) {
	n, err := p.name()
	if err != nil {
		return gqlField{}, err
	}
	f := gqlField{alias: n, name: n}
	if p.is(":") {
		if err := p.next(); err != nil {
			return f, err
		}
		if f.name, err = p.name(); err != nil {
			return f, err
		}
	}
	if p.is("(") {
		if err := p.next(); err != nil {
			return f, err
		}
		f.args = map[string]any{}
		for !p.is(")") {
			a, err := p.name()
			if err != nil {
				return f, err
			}
			if err := p.expect(":"); err != nil {
				return f, err
			}
			if f.args[a], err = p.value(false); err != nil {
				return f, err
			}
		}
		if err := p.next(); err != nil {
			return f, err
		}
	}
	if p.is("@") {
		return f, gqlErrorf("this fake does not serve directives (line %d)", p.tok.line)
	}
	if p.is("{") {
		if f.sel, err = p.selectionSet(); err != nil {
			return f, err
		}
	}
	return f, nil
}

// value reads an argument value; variables are replaced by their values
// (constant values, in defaults, may not use them).
func (p *gqlParser) value(constant bool) (any, error) {
	t := p.tok
	switch {
	case t.kind == 'p' && t.text == "$":
		if constant {
			return nil, gqlErrorf("a default value cannot use a variable (line %d)", t.line)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		if !p.defs[n] {
			return nil, gqlErrorf("Variable \"$%s\" is not defined.", n)
		}
		return p.vars[n], nil
	case t.kind == '#':
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, gqlErrorf("Syntax Error: Invalid number %q (line %d).", t.text, t.line)
		}
		return v, p.next()
	case t.kind == 's':
		return t.text, p.next()
	case t.kind == 'n':
		var v any = t.text // an enum value
		switch t.text {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		}
		return v, p.next()
	case t.kind == 'p' && t.text == "[":
		if err := p.next(); err != nil {
			return nil, err
		}
		list := []any{}
		for !p.is("]") {
			v, err := p.value(constant)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, p.next()
	case t.kind == 'p' && t.text == "{":
		if err := p.next(); err != nil {
			return nil, err
		}
		obj := map[string]any{}
		for !p.is("}") {
			k, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			if obj[k], err = p.value(constant); err != nil {
				return nil, err
			}
		}
		return obj, p.next()
	}
	return nil, p.unexpected()
}
