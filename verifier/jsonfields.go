package verifier

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// object is one JSON object of a store being read: its members by name, and
// where it is ("trust anchor 2", "platform[0].sw-components[1]") for errors.
// Members are taken as they are read; whatever is left is unknown and an
// error, so that a misspelt member (say "extensible-measurement") is never
// silently ignored and its check silently skipped.
type object struct {
	where string
	m     map[string]json.RawMessage
}

// parseObject reads a JSON object, refusing a member given twice (which
// encoding/json would silently resolve to the last one).
func parseObject(raw json.RawMessage, where string) (*object, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || probe == nil {
		return nil, storeErr(where, "", "not a JSON object%s", jsonWhy(raw, err))
	}
	m := make(map[string]json.RawMessage, len(probe))
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, storeErr(where, "", "not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, storeErr(where, "", "not a JSON object")
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, storeErr(where, name, "bad value")
		}
		if _, dup := m[name]; dup {
			return nil, storeErr(where, name, "given twice")
		}
		m[name] = v
	}
	return &object{where: where, m: m}, nil
}

// parseArray reads a JSON array of any values.
func parseArray(raw json.RawMessage, where, field string) ([]json.RawMessage, error) {
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil || a == nil {
		return nil, storeErr(where, field, "not a JSON array%s", jsonWhy(raw, err))
	}
	return a, nil
}

// jsonWhy says why raw is not the JSON value wanted, for a store error: the
// line and column of a syntax error (the whole file is checked when its
// top level is read, so a syntax error is only ever reported there, with
// the file's own line numbers), or the kind of value found instead.
func jsonWhy(raw []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineColumn(raw, syn.Offset)
		return fmt.Sprintf(": invalid JSON at line %d, column %d: %v", line, col, syn)
	}
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 {
		return ": the input is empty"
	}
	switch t[0] {
	case '{':
		return " (it is an object)"
	case '[':
		return " (it is an array)"
	case '"':
		return " (it is a string)"
	case 't', 'f':
		return " (it is a boolean)"
	case 'n':
		return " (it is null)"
	}
	return " (it is a number)"
}

// lineColumn turns the byte offset json.SyntaxError gives (the bytes read
// when the error was found) into a 1-based line and column.
func lineColumn(data []byte, offset int64) (line, column int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 1 {
		offset = 1
	}
	before := data[:offset-1]
	line = 1 + bytes.Count(before, []byte("\n"))
	column = len(before) - bytes.LastIndexByte(before, '\n')
	return line, column
}

func storeErr(where, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		return fmt.Errorf("%w: %s: %q: %s", ErrStore, where, field, msg)
	}
	return fmt.Errorf("%w: %s: %s", ErrStore, where, msg)
}

// take removes and returns a member; a JSON null counts as absent.
func (o *object) take(name string) (json.RawMessage, bool) {
	raw, ok := o.m[name]
	delete(o.m, name)
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, false
	}
	return raw, true
}

// hexField reads a hex byte string whose length must be one of sizes (any
// length when sizes is empty).
func (o *object) hexField(name string, required bool, sizes ...int) ([]byte, error) {
	raw, ok := o.take(name)
	if !ok {
		if required {
			return nil, storeErr(o.where, name, "missing")
		}
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, storeErr(o.where, name, "not a string (byte strings are hex)")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, storeErr(o.where, name, "not hex: %v", err)
	}
	if len(sizes) > 0 && !slices.Contains(sizes, len(b)) {
		return nil, storeErr(o.where, name, "%d bytes, must be %s", len(b), sizeList(sizes))
	}
	return b, nil
}

func (o *object) stringField(name string, required bool) (string, error) {
	raw, ok := o.take(name)
	if !ok {
		if required {
			return "", storeErr(o.where, name, "missing")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", storeErr(o.where, name, "not a string")
	}
	return s, nil
}

// done reports the members nobody took.
func (o *object) done() error {
	if len(o.m) == 0 {
		return nil
	}
	names := make([]string, 0, len(o.m))
	for n := range o.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return storeErr(o.where, names[0], "unknown member (known members are listed in the verifier package documentation)")
}

func sizeList(sizes []int) string {
	s := make([]string, len(sizes))
	for i, n := range sizes {
		s[i] = fmt.Sprint(n)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// duplicateMember returns the first member name given twice in one object
// anywhere in raw. A JWK ("pkey", a single key file) is parsed by a JWK
// library that, like encoding/json, takes the last of two "x" or "y": a
// key written twice is refused instead, as every other member of a store
// is (parseObject), so that no other reader of the file can see another
// key than the verifier trusts. Invalid JSON is left to the parser that
// follows.
func duplicateMember(raw []byte) (string, bool) {
	type level struct {
		object, wantKey bool
		seen            map[string]bool
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch v := t.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, level{object: true, wantKey: true, seen: map[string]bool{}})
				continue
			case '[':
				stack = append(stack, level{})
				continue
			}
			stack = stack[:len(stack)-1] // '}' or ']': the value is complete
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				if stack[n-1].seen[v] {
					return v, true
				}
				stack[n-1].seen[v], stack[n-1].wantKey = true, false
				continue
			}
		}
		// A value was read: in an object, a member name comes next.
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
}
