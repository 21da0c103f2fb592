package xmlrpc

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"
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

// structWindow is how much of an answer DecodeStructArray holds at once
// (more only for a struct longer than that).
const structWindow = 32 << 10

// DecodeStructArray decodes a response read from r whose value is an array
// of structs (getAllProcessInfo's) without building the array and its
// maps, and without holding the whole answer: it reads it through a window
// of structWindow bytes and calls member for each member of element i with
// its name and value, as DecodeResponse's maps would hold them, then
// returns the number of elements. The name and a string value (Str) given
// to member may lie in the window and are valid only during the call:
// keep a copy. A string, int or boolean value is given unboxed. With 500 processes the answer is 0.64 MB, which
// `supervisorctl status` once read whole and then boxed member by member.
// member may be called again for the same element and name with the same
// value (when a plain scan gives up part way and the decoder takes over);
// the last call for a name holds, as the last of a struct's duplicate
// members does in a map. A fault is a *Fault; another value is an error.
func DecodeStructArray(r io.Reader, member func(i int, name string, v Value)) (int, error) {
	return decodeStructArray(r, member, structWindow)
}

// decodeStructArray is DecodeStructArray through a window of size bytes.
func decodeStructArray(r io.Reader, member func(i int, name string, v Value), size int) (int, error) {
	w := &window{r: r, buf: make([]byte, 0, size)}
	w.fill()
	s := &scanner{b: w.text()}
	s.skipDeclaration()
	if !s.open("methodResponse") || !s.open("params") || !s.open("param") || !s.open("value") ||
		!s.open("array") || !s.open("data") {
		return decodeStructsFrom(0, "", w.buf, r, member)
	}
	n := 0
	for {
		if w.err == nil && !w.holdsElement(s.i) {
			s.i = w.refill(s.i)
			s.b = w.text()
		}
		start := s.i
		s.space()
		if s.close("data") {
			if s.close("array") && s.close("value") && s.close("param") && s.close("params") {
				return n, nil
			}
			return decodeStructsFrom(n, structsHead, w.buf[start:], r, member)
		}
		if !s.open("value") || !s.open("struct") || !s.members(func(name string, v Value) { member(n, name, v.detached()) }) ||
			!s.close("value") {
			return decodeStructsFrom(n, structsHead, w.buf[start:], r, member)
		}
		n++
	}
}

// structsHead opens an array of structs in a response: the decoder takes
// over after the scanner with it and the rest of the answer.
const structsHead = "<methodResponse><params><param><value><array><data>"

// decodeStructsFrom is DecodeStructArray by the decoder, of the answer
// head+held+the rest of r, whose elements are those from element first on.
func decodeStructsFrom(first int, head string, held []byte, r io.Reader, member func(i int, name string, v Value)) (int, error) {
	v, err := DecodeResponse(io.MultiReader(strings.NewReader(head), bytes.NewReader(held), r))
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
			member(first+i, name, ValueOf(v))
		}
	}
	return first + len(list), nil
}

// window holds the part of an answer being scanned.
type window struct {
	r    io.Reader
	buf  []byte
	held int   // where the last whole element in buf ends (markHeld)
	err  error // of the last read; io.EOF at the end
}

// text is the window as the scanner reads it. It aliases buf, which
// refill overwrites: the scanner's strings of it are valid until then.
func (w *window) text() string {
	if len(w.buf) == 0 {
		return ""
	}
	return unsafe.String(&w.buf[0], len(w.buf))
}

// fill reads until the window is full or the answer ends.
func (w *window) fill() {
	for len(w.buf) < cap(w.buf) && w.err == nil {
		var n int
		n, w.err = w.r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
	}
	w.markHeld()
}

// holdsElement reports whether the window from i holds a whole element
// of a plain array of structs (through the '>' after a "</struct>") or the
// end of the array (through "</params>"), so that a scan from i stops on
// the document, not on the window's end.
func (w *window) holdsElement(i int) bool {
	return i < w.held || bytes.Contains(w.buf[i:], []byte("</params>"))
}

// markHeld sets held past the last "</struct>" of the window and the '>'
// after it, 0 if there is none: elements before it are whole.
func (w *window) markHeld() {
	w.held = 0
	if k := bytes.LastIndex(w.buf, []byte("</struct>")); k >= 0 {
		if j := bytes.IndexByte(w.buf[k+len("</struct>"):], '>'); j >= 0 {
			w.held = k + len("</struct>") + j + 1
		}
	}
}

// refill drops the window's bytes before i, which the scanner is done
// with, and reads on; it doubles the window if it is still full of one
// element. It returns where i's byte is now.
func (w *window) refill(i int) int {
	for w.err == nil {
		w.buf = w.buf[:copy(w.buf, w.buf[i:])]
		i = 0
		if len(w.buf) == cap(w.buf) {
			w.buf = append(w.buf, make([]byte, cap(w.buf))...)[:len(w.buf)]
		}
		w.fill()
		if w.holdsElement(0) {
			break
		}
	}
	return i
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
	s.skipDeclaration()
	return s
}

// skipDeclaration skips the XML declaration the servers write.
func (s *scanner) skipDeclaration() {
	for _, h := range []string{`<?xml version='1.0'?>`, `<?xml version="1.0"?>`} {
		if strings.HasPrefix(s.b[s.i:], h) {
			s.i += len(h)
			break
		}
	}
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
	v, ok := s.typedValue()
	return v.Any(), ok
}

// typedValue is value with a string, int or boolean unboxed.
func (s *scanner) typedValue() (Value, bool) {
	t, ok := s.text()
	if !ok {
		return Value{}, false
	}
	if s.tag("value", true) {
		s.depth--
		return Value{Kind: KindString, Str: t}, true // untyped: a string, whitespace and all
	}
	if strings.TrimSpace(t) != "" {
		return Value{}, false
	}
	kind := s.startName()
	if kind == "" || !s.open(kind) {
		return Value{}, false
	}
	var v Value
	switch kind {
	case "string":
		v.Kind = KindString
		v.Str, ok = s.element(kind)
	case "int", "i4":
		v.Kind = KindInt
		var t string
		if t, ok = s.element(kind); ok {
			var err error
			v.Int, err = strconv.Atoi(strings.TrimSpace(t))
			ok = err == nil
		}
	case "boolean":
		v.Kind = KindBool
		var t string
		t, ok = s.element(kind)
		if t == "1" {
			v.Int = 1
		}
	case "array":
		v.Other, ok = s.array()
	case "struct":
		v.Other, ok = s.structure()
	default:
		return Value{}, false
	}
	if !ok || !s.close("value") {
		return Value{}, false
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
	if !s.members(func(name string, v Value) { m[name] = v.Any() }) {
		return nil, false
	}
	s.size = len(m)
	return m, true
}

// members reads the members of a struct whose start tag is consumed,
// through </struct>, giving each to add.
func (s *scanner) members(add func(name string, v Value)) bool {
	for {
		if s.close("struct") {
			return true
		}
		if !s.open("member") {
			return false
		}
		var name string
		var v Value
		var haveName, haveValue, ok bool
		for !s.close("member") {
			switch {
			case s.open("name"):
				name, ok = s.element("name")
				haveName = true
			case s.open("value"):
				v, ok = s.typedValue()
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

// Value is a struct member's value as DecodeStructArray gives it: a
// string, int or boolean unboxed, another type (Kind KindOther) in Other.
type Value struct {
	Kind  ValueKind
	Str   string // of a KindString
	Int   int    // of a KindInt; 1 or 0 for a KindBool
	Other any    // of a KindOther
}

// ValueKind says which field of a Value holds it.
type ValueKind uint8

// The kinds of Value.
const (
	KindOther ValueKind = iota
	KindString
	KindInt
	KindBool
)

// ValueOf is v, a decoded value, as a Value.
func ValueOf(v any) Value {
	switch v := v.(type) {
	case string:
		return Value{Kind: KindString, Str: v}
	case int:
		return Value{Kind: KindInt, Int: v}
	case bool:
		if v {
			return Value{Kind: KindBool, Int: 1}
		}
		return Value{Kind: KindBool}
	}
	return Value{Other: v}
}

// detached is v with the strings within an array or a struct (Other)
// copied out of the window, which the caller may keep as they are.
func (v Value) detached() Value {
	if v.Kind == KindOther {
		v.Other = detach(v.Other)
	}
	return v
}

// detach copies the strings of a scanned array or struct.
func detach(v any) any {
	switch v := v.(type) {
	case string:
		return strings.Clone(v)
	case []any:
		for i, e := range v {
			v[i] = detach(e)
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[strings.Clone(k)] = detach(e)
		}
		return m
	}
	return v
}

// Any is v as the decoder gives it.
func (v Value) Any() any {
	switch v.Kind {
	case KindString:
		return v.Str
	case KindInt:
		return v.Int
	case KindBool:
		return v.Int == 1
	}
	return v.Other
}
