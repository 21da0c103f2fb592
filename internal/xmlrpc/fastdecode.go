package xmlrpc

import (
	"fmt"
	"strconv"
	"strings"
)

// DecodeResponseString is DecodeResponse of a whole body. A response in the
// plain form Supervisor's and Drover's servers write (ASCII text; strings,
// ints, booleans, arrays and structs; no attributes, comments, CDATA or
// character references) is parsed by a scanner about ten times faster than
// encoding/xml: `supervisorctl status` of 500 programs spent most of its
// CPU decoding the answer. Anything else, faults included, goes to
// DecodeResponse, so the result is always DecodeResponse's (a fuzz test
// holds the scanner to that).
//
// The body is a string so that the scanner's strings are substrings of it,
// not copies: any of them keeps the whole body in memory, which suits a
// client that drops the answer soon.
func DecodeResponseString(body string) (any, error) {
	if v, ok := scanResponse(body); ok {
		return v, nil
	}
	return DecodeResponse(strings.NewReader(body))
}

// DecodeStructArrayString decodes a response whose value is an array of
// structs (getAllProcessInfo's) without building the array and its maps:
// it calls member for each member of element i with its name and value,
// as DecodeResponseString's maps would hold them, and returns the number
// of elements. With 500 processes the maps were about a tenth of the
// memory `supervisorctl status` touched. member may be called again for
// the same element and name with the same value (when a plain scan gives
// up part way and the decoder takes over); the last call for a name
// holds, as the last of a struct's duplicate members does in a map. A
// fault is a *Fault; another value is an error.
func DecodeStructArrayString(body string, member func(i int, name string, v any)) (int, error) {
	if n, ok := scanStructArray(body, member); ok {
		return n, nil
	}
	v, err := DecodeResponseString(body)
	if err != nil {
		return 0, err
	}
	list, ok := v.([]any)
	if !ok {
		return 0, fmt.Errorf("a %T, not an array", v)
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("an array member is a %T, not a struct", item)
		}
		for name, v := range m {
			member(i, name, v)
		}
	}
	return len(list), nil
}

// scanStructArray is scanResponse for an array of structs, reporting
// members instead of building maps; not ok for anything else.
func scanStructArray(b string, member func(i int, name string, v any)) (int, bool) {
	s := newScanner(b)
	if !s.open("methodResponse") || !s.open("params") || !s.open("param") || !s.open("value") ||
		!s.open("array") || !s.open("data") {
		return 0, false
	}
	n := 0
	for {
		s.space()
		if s.close("data") {
			break
		}
		if !s.open("value") || !s.open("struct") || !s.members(func(name string, v any) { member(n, name, v) }) ||
			!s.close("value") {
			return 0, false
		}
		n++
	}
	if !s.close("array") || !s.close("value") || !s.close("param") || !s.close("params") {
		return 0, false
	}
	return n, true
}

// scanner reads the plain subset; ok false means "not plain", never an
// error of the document: DecodeResponse then decides.
type scanner struct {
	b     string
	i     int
	depth int // elements open, bounded by MaxDepth as in the decoder
	// size is the size of the last struct read, the size hint of the
	// next one's map: the structs of an array are alike.
	size int
}

// scanResponse parses <methodResponse><params><param><value>… up to
// </params>; like DecodeResponse it reads nothing after that.
func scanResponse(b string) (any, bool) {
	s := newScanner(b)
	if !s.open("methodResponse") || !s.open("params") || !s.open("param") || !s.open("value") {
		return nil, false
	}
	v, ok := s.value()
	if !ok || !s.close("param") || !s.close("params") {
		return nil, false
	}
	return v, true
}

// newScanner returns a scanner of b past its XML declaration.
func newScanner(b string) *scanner {
	s := &scanner{b: b}
	for _, h := range []string{`<?xml version='1.0'?>`, `<?xml version="1.0"?>`} {
		if strings.HasPrefix(b, h) {
			s.i = len(h)
			break
		}
	}
	return s
}

// space skips the whitespace the decoder skips between elements.
func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t') {
		s.i++
	}
}

// open consumes whitespace and the start tag <name>.
func (s *scanner) open(name string) bool {
	s.space()
	if !s.tag(name, false) {
		return false
	}
	s.depth++
	return s.depth <= MaxDepth
}

// close consumes whitespace and the end tag </name>.
func (s *scanner) close(name string) bool {
	s.space()
	if !s.tag(name, true) {
		return false
	}
	s.depth--
	return true
}

// tag consumes <name> or </name> exactly.
func (s *scanner) tag(name string, end bool) bool {
	i := s.i
	if i >= len(s.b) || s.b[i] != '<' {
		return false
	}
	i++
	if end {
		if i >= len(s.b) || s.b[i] != '/' {
			return false
		}
		i++
	}
	if !strings.HasPrefix(s.b[i:], name) || i+len(name) >= len(s.b) || s.b[i+len(name)] != '>' {
		return false
	}
	s.i = i + len(name) + 1
	return true
}

// startName returns the name of the start tag at s.i (no attributes),
// without consuming it; "" if there is none.
func (s *scanner) startName() string {
	i := s.i
	if i+1 >= len(s.b) || s.b[i] != '<' {
		return ""
	}
	j := i + 1
	for j < len(s.b) && (s.b[j] >= 'a' && s.b[j] <= 'z' || s.b[j] >= 'A' && s.b[j] <= 'Z' || s.b[j] >= '0' && s.b[j] <= '9' || s.b[j] == '.') {
		j++
	}
	if j == i+1 || j >= len(s.b) || s.b[j] != '>' {
		return ""
	}
	return s.b[i+1 : j]
}

// text reads character data up to the next '<', decoding the five
// predefined entities; not plain: any other '&', a control byte other than
// tab and newline (the decoder maps them; it turns \r into \n), a byte
// outside ASCII, or "]]>".
func (s *scanner) text() (string, bool) {
	start := s.i
	plain := true
	for s.i < len(s.b) && s.b[s.i] != '<' {
		c := s.b[s.i]
		switch {
		case c == '&':
			plain = false
		case c == ']' && strings.HasPrefix(s.b[s.i:], "]]>"):
			return "", false
		case c >= 0x80 || c < 0x20 && c != '\t' && c != '\n':
			return "", false
		}
		s.i++
	}
	if s.i >= len(s.b) {
		return "", false
	}
	raw := s.b[start:s.i]
	if plain {
		return raw, true
	}
	var out strings.Builder
	for len(raw) > 0 {
		k := strings.IndexByte(raw, '&')
		if k < 0 {
			out.WriteString(raw)
			break
		}
		out.WriteString(raw[:k])
		raw = raw[k:]
		found := false
		for _, e := range [...][2]string{{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", `"`}, {"&apos;", "'"}} {
			if strings.HasPrefix(raw, e[0]) {
				out.WriteString(e[1])
				raw = raw[len(e[0]):]
				found = true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	return out.String(), true
}

// element reads the text of a <name> element whose start tag is consumed,
// through its end tag.
func (s *scanner) element(name string) (string, bool) {
	t, ok := s.text()
	if !ok || !s.tag(name, true) {
		return "", false
	}
	s.depth--
	return t, true
}

// value reads the content of a <value> whose start tag is consumed,
// through </value>.
func (s *scanner) value() (any, bool) {
	t, ok := s.text()
	if !ok {
		return nil, false
	}
	if s.tag("value", true) {
		s.depth--
		return t, true // untyped: a string, whitespace and all
	}
	if strings.TrimSpace(t) != "" {
		return nil, false
	}
	kind := s.startName()
	if kind == "" || !s.open(kind) {
		return nil, false
	}
	var v any
	switch kind {
	case "string":
		v, ok = s.element(kind)
	case "int", "i4":
		var t string
		if t, ok = s.element(kind); ok {
			n, err := strconv.Atoi(strings.TrimSpace(t))
			v, ok = n, err == nil
		}
	case "boolean":
		var t string
		t, ok = s.element(kind)
		v = t == "1"
	case "array":
		v, ok = s.array()
	case "struct":
		v, ok = s.structure()
	default:
		return nil, false
	}
	if !ok || !s.close("value") {
		return nil, false
	}
	return v, true
}

func (s *scanner) array() (any, bool) {
	if !s.open("data") {
		return nil, false
	}
	elems := []any{}
	for {
		s.space()
		if s.close("data") {
			break
		}
		if !s.open("value") {
			return nil, false
		}
		v, ok := s.value()
		if !ok {
			return nil, false
		}
		elems = append(elems, v)
	}
	return elems, s.close("array")
}

func (s *scanner) structure() (any, bool) {
	m := make(map[string]any, s.size)
	if !s.members(func(name string, v any) { m[name] = v }) {
		return nil, false
	}
	s.size = len(m)
	return m, true
}

// members reads the members of a struct whose start tag is consumed,
// through </struct>, giving each to add.
func (s *scanner) members(add func(name string, v any)) bool {
	for {
		if s.close("struct") {
			return true
		}
		if !s.open("member") {
			return false
		}
		var name string
		var v any
		var haveName, haveValue, ok bool
		for !s.close("member") {
			switch {
			case s.open("name"):
				name, ok = s.element("name")
				haveName = true
			case s.open("value"):
				v, ok = s.value()
				haveValue = true
			default:
				return false
			}
			if !ok {
				return false
			}
		}
		if !haveName || !haveValue {
			return false
		}
		add(name, v)
	}
}
