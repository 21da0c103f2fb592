package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const xmlHeader = "<?xml version='1.0'?>\n"

// EncodeResponse writes a methodResponse carrying the single value v.
func EncodeResponse(w io.Writer, v any) error {
	m, err := NewResponse(v)
	if err != nil {
		return err
	}
	_, err = m.WriteTo(w)
	return err
}

// NewResponse returns a methodResponse carrying the single value v.
func NewResponse(v any) (*Message, error) {
	m := new(Message)
	if err := writeResponse(m, v); err != nil {
		return nil, err
	}
	return m, nil
}

// WriteResponse writes to w the methodResponse carrying v, byte for byte
// what NewResponse makes, after calling setLength with its size in bytes.
// An answer of up to maxHeld bytes is encoded once and held whole until
// sent, as NewResponse does. A larger one is encoded twice: once only
// counting its bytes past maxHeld, then into w through one chunk, so that
// it never lies whole in memory (getAllProcessInfo of 2,000 programs is
// 2.5 MB, which raised the daemon's peak RSS by as much); v must then
// encode the same both times, as a value taken once does. An encoding
// error comes before setLength and anything written; after it, the
// error is w's.
func WriteResponse(w io.Writer, v any, setLength func(n int)) error {
	m := Message{maxHeld: maxHeld}
	defer m.Release()
	if err := writeResponse(&m, v); err != nil {
		return err
	}
	setLength(m.n)
	if !m.counting {
		_, err := m.WriteTo(w)
		return err
	}
	s := Message{sink: w}
	writeResponse(&s, v) // encodes as the counting pass did, without error
	s.flush()
	err := s.sinkErr
	s.Release()
	return err
}

// maxHeld is the size of the largest answer WriteResponse holds whole:
// below it, encoding twice would cost more CPU than the memory it saves
// (getAllProcessInfo of 500 programs, 0.63 MB, stays one pass).
const maxHeld = 1 << 20

func writeResponse(m *Message, v any) error {
	m.WriteString(xmlHeader + "<methodResponse>\n<params>\n<param>\n")
	if err := writeValue(m, v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	m.WriteString("</param>\n</params>\n</methodResponse>\n")
	return nil
}

// EncodeFault writes a methodResponse carrying the fault f.
func EncodeFault(w io.Writer, f *Fault) error {
	_, err := NewFault(f).WriteTo(w)
	return err
}

// NewFault returns a methodResponse carrying the fault f.
func NewFault(f *Fault) *Message {
	m := new(Message)
	m.WriteString(xmlHeader + "<methodResponse>\n<fault>\n")
	writeStruct(m, [][2]any{{"faultCode", f.Code}, {"faultString", f.String}})
	m.WriteString("</fault>\n</methodResponse>\n")
	return m
}

// EncodeCall writes a methodCall of method with params.
func EncodeCall(w io.Writer, method string, params ...any) error {
	m := new(Message)
	m.WriteString(xmlHeader + "<methodCall>\n<methodName>")
	writeEscaped(m, method)
	m.WriteString("</methodName>\n<params>\n")
	for i, p := range params {
		m.WriteString("<param>\n")
		if err := writeValue(m, p); err != nil {
			return fmt.Errorf("encode param %d of %s: %w", i+1, method, err)
		}
		m.WriteString("</param>\n")
	}
	m.WriteString("</params>\n</methodCall>\n")
	_, err := m.WriteTo(w)
	return err
}

// writeValue appends one <value> element (with its trailing newline).
func writeValue(b *Message, v any) error {
	switch x := v.(type) {
	case string:
		b.WriteString("<value><string>")
		writeEscaped(b, x)
		b.WriteString("</string></value>\n")
	case bool:
		s := "0"
		if x {
			s = "1"
		}
		b.WriteString("<value><boolean>" + s + "</boolean></value>\n")
	case int:
		writeInt(b, int64(x))
	case int64:
		writeInt(b, x)
	case float64:
		b.WriteString("<value><double>" + FormatDouble(x) + "</double></value>\n")
	case []byte:
		b.WriteString("<value><base64>\n")
		writeBase64Lines(b, x)
		b.WriteString("</base64></value>\n")
	case time.Time:
		b.WriteString("<value><dateTime.iso8601>" + x.Format(isoLayout) + "</dateTime.iso8601></value>\n")
	case []any:
		b.WriteString("<value><array><data>\n")
		for _, e := range x {
			if err := writeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteString("</data></array></value>\n")
	case Struct:
		b.WriteString("<value><struct>\n")
		for _, m := range x {
			if err := writeMember(b, m.Name, m.Value); err != nil {
				return err
			}
		}
		b.WriteString("</struct></value>\n")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		members := make([][2]any, len(keys))
		for i, k := range keys {
			members[i] = [2]any{k, x[k]}
		}
		return writeStruct(b, members)
	case Marshaler:
		x.MarshalXMLRPC(b)
	default:
		return writeReflected(b, v)
	}
	return nil
}

// Marshaler is a value that writes its own encoding, one <value> element,
// with BeginArray/EndArray and StructShape: an answer of a fixed
// shape written many times (getAllProcessInfo) goes straight into the
// message instead of being built as generic values first. What it writes
// must be what the generic value would be (a test holds each to that).
type Marshaler interface {
	MarshalXMLRPC(m *Message)
}

// BeginArray starts an array value; EndArray ends it.
func (m *Message) BeginArray() { m.WriteString("<value><array><data>\n") }

// EndArray ends what BeginArray started.
func (m *Message) EndArray() { m.WriteString("</data></array></value>\n") }

// writeReflected handles the remaining integer and float kinds, typed slices
// and string-keyed maps by converting them to the canonical Go values.
func writeReflected(b *Message, v any) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return writeValue(b, rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return writeValue(b, int64(rv.Uint()))
	case reflect.Float32, reflect.Float64:
		return writeValue(b, rv.Float())
	case reflect.String:
		return writeValue(b, rv.String())
	case reflect.Bool:
		return writeValue(b, rv.Bool())
	case reflect.Slice, reflect.Array:
		elems := make([]any, rv.Len())
		for i := range elems {
			elems[i] = rv.Index(i).Interface()
		}
		return writeValue(b, elems)
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return writeValue(b, m)
		}
	}
	return fmt.Errorf("cannot marshal %T", v)
}

func writeStruct(b *Message, members [][2]any) error {
	b.WriteString("<value><struct>\n")
	for _, m := range members {
		if err := writeMember(b, m[0].(string), m[1]); err != nil {
			return err
		}
	}
	b.WriteString("</struct></value>\n")
	return nil
}

func writeMember(b *Message, name string, v any) error {
	writeMemberName(b, name)
	if err := writeValue(b, v); err != nil {
		return err
	}
	b.WriteString("</member>\n")
	return nil
}

// writeMemberName starts a struct member: its name, before the value.
func writeMemberName(b *Message, name string) {
	b.WriteString("<member>\n<name>")
	writeEscaped(b, name)
	b.WriteString("</name>\n")
}

// writeInt appends an <int> value without allocating.
func writeInt(b *Message, n int64) {
	b.WriteString("<value><int>")
	b.writeDecimal(n)
	b.WriteString("</int></value>\n")
}

// writeEscaped escapes exactly what Python escapes (&, <, >). Invalid UTF-8
// (e.g. a log chunk cut mid-character) becomes U+FFFD so that the document
// stays well-formed.
func writeEscaped[S string | []byte](b *Message, s S) {
	i := 0
	for ; i+8 <= len(s); i += 8 { // 8 bytes at a time while none is special
		if mayNeedEscape(uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '&' || c == '<' || c == '>' {
			writeEscapedRest(b, s[:i], string(s[i:]))
			return
		}
	}
	appendText(b, s) // names, paths, states: most strings
}

// mayNeedEscape reports whether one of the 8 bytes in x is not ASCII or is
// '&', '<' or '>' ('<' and '>' differ only in bit 1).
func mayNeedEscape(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	return (x&highs)|hasZero(x^(ones*'&'))|hasZero((x|ones*2)^(ones*'>')) != 0
}

// writeEscapedRest writes done, which needs no escaping, then escapes rest.
func writeEscapedRest[S string | []byte](b *Message, done S, rest string) {
	appendText(b, done)
	rest = strings.ToValidUTF8(rest, "\uFFFD")
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
}

// writeBase64Lines mimics base64.encodebytes: 76-character lines, each
// terminated by a newline.
func writeBase64Lines(b *Message, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
}

// FormatDouble formats f as Python's repr(float) does (also how Supervisor
// names a float in a fault text).
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	if exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:]); f != 0 && (exp < -4 || exp >= 16) {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
