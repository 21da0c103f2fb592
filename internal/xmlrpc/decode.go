package xmlrpc

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

const isoLayout = "20060102T15:04:05"

// DecodeCall parses a methodCall. A call without <params> has no params.
func DecodeCall(r io.Reader) (method string, params []any, err error) {
	d := newDecoder(r)
	if err := d.expectStart("methodCall"); err != nil {
		return "", nil, fmt.Errorf("decode call: %w", err)
	}
	haveName := false
	for {
		tok, err := d.nextElement()
		if err != nil {
			return "", nil, fmt.Errorf("decode call: %w", err)
		}
		if _, ok := tok.(xml.EndElement); ok {
			break
		}
		se := tok.(xml.StartElement)
		switch se.Name.Local {
		case "methodName":
			if method, err = d.text(); err != nil {
				return "", nil, fmt.Errorf("decode call: %w", err)
			}
			haveName = true
		case "params":
			if params, err = d.params(); err != nil {
				return "", nil, fmt.Errorf("decode call: %w", err)
			}
		default:
			return "", nil, fmt.Errorf("decode call: unexpected <%s>", se.Name.Local)
		}
	}
	if !haveName {
		return "", nil, errors.New("decode call: no methodName")
	}
	return method, params, nil
}

// DecodeResponse parses a methodResponse. A fault is returned as a *Fault
// error.
func DecodeResponse(r io.Reader) (any, error) {
	d := newDecoder(r)
	if err := d.expectStart("methodResponse"); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	se, err := d.nextStart()
	if err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	switch se.Name.Local {
	case "params":
		params, err := d.params()
		if err != nil {
			return nil, fmt.Errorf("decode response: %w", err)
		}
		if len(params) != 1 {
			return nil, fmt.Errorf("decode response: %d params, want 1", len(params))
		}
		return params[0], nil
	case "fault":
		if err := d.expectStart("value"); err != nil {
			return nil, fmt.Errorf("decode fault: %w", err)
		}
		v, err := d.value()
		if err != nil {
			return nil, fmt.Errorf("decode fault: %w", err)
		}
		m, _ := v.(map[string]any)
		code, okCode := m["faultCode"].(int)
		str, okString := m["faultString"].(string)
		if !okCode || !okString {
			return nil, errors.New("decode fault: want struct of faultCode and faultString")
		}
		return nil, &Fault{Code: code, String: str}
	default:
		return nil, fmt.Errorf("decode response: unexpected <%s>", se.Name.Local)
	}
}

// MaxDepth is how deeply elements may nest in a document. The decoder
// recurses once per nested value, so an unbounded depth would let one request
// overflow the stack; real calls nest a dozen elements at most (a multicall
// of structs of arrays).
const MaxDepth = 100

// ErrTooDeep is returned for a document nesting more than MaxDepth elements.
var ErrTooDeep = fmt.Errorf("elements nested more than %d deep", MaxDepth)

type decoder struct {
	x     *xml.Decoder
	depth int // elements open
}

func newDecoder(r io.Reader) *decoder {
	x := xml.NewDecoder(&controlMapper{r: bufio.NewReader(r)})
	// Supervisor decodes the body as UTF-8 and hands expat a text string,
	// which makes expat ignore the declared encoding: a declaration of
	// ISO-8859-1 or UTF-16 is accepted and the bytes read as UTF-8 all the
	// same (bytes that are not UTF-8 are rejected by the parser).
	x.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	return &decoder{x: x}
}

// next returns the next start element, end element or character data,
// skipping comments, processing instructions and directives.
func (d *decoder) next() (xml.Token, error) {
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if d.depth++; d.depth > MaxDepth {
				return nil, ErrTooDeep
			}
			return t, nil
		case xml.EndElement:
			d.depth--
			return t, nil
		case xml.CharData:
			return t.Copy(), nil
		}
	}
}

// nextElement skips whitespace and returns the next start or end element.
func (d *decoder) nextElement() (xml.Token, error) {
	for {
		tok, err := d.next()
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok {
			if strings.TrimSpace(string(cd)) != "" {
				return nil, fmt.Errorf("unexpected text %q", truncate(string(cd)))
			}
			continue
		}
		return tok, nil
	}
}

func (d *decoder) nextStart() (xml.StartElement, error) {
	tok, err := d.nextElement()
	if err != nil {
		return xml.StartElement{}, err
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return xml.StartElement{}, fmt.Errorf("unexpected </%s>", tok.(xml.EndElement).Name.Local)
	}
	return se, nil
}

func (d *decoder) expectStart(name string) error {
	se, err := d.nextStart()
	if err != nil {
		return err
	}
	if se.Name.Local != name {
		return fmt.Errorf("unexpected <%s>, want <%s>", se.Name.Local, name)
	}
	return nil
}

// expectEnd consumes whitespace up to the end of the current element.
func (d *decoder) expectEnd() error {
	tok, err := d.nextElement()
	if err != nil {
		return err
	}
	if se, ok := tok.(xml.StartElement); ok {
		return fmt.Errorf("unexpected <%s>", se.Name.Local)
	}
	return nil
}

// text reads character data up to the end of the current element.
func (d *decoder) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := d.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", fmt.Errorf("unexpected <%s> in text", t.Name.Local)
		case xml.EndElement:
			return unmapControls(b.String()), nil
		}
	}
}

// params reads <param><value>…</value></param>… up to </params>.
func (d *decoder) params() ([]any, error) {
	params := []any{}
	for {
		tok, err := d.nextElement()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return params, nil
		}
		if se := tok.(xml.StartElement); se.Name.Local != "param" {
			return nil, fmt.Errorf("unexpected <%s>, want <param>", se.Name.Local)
		}
		if err := d.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if err := d.expectEnd(); err != nil {
			return nil, err
		}
		params = append(params, v)
	}
}

// value reads the content of a <value> element whose start tag has been
// consumed, through its end tag. A value without a type element is a string.
func (d *decoder) value() (any, error) {
	var untyped strings.Builder
	for {
		tok, err := d.next()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			untyped.Write(t)
		case xml.EndElement:
			return unmapControls(untyped.String()), nil
		case xml.StartElement:
			if strings.TrimSpace(untyped.String()) != "" {
				return nil, fmt.Errorf("unexpected text before <%s>", t.Name.Local)
			}
			v, err := d.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			return v, d.expectEnd()
		}
	}
}

// typed reads a typed value element whose start tag has been consumed.
func (d *decoder) typed(kind string) (any, error) {
	switch kind {
	case "array":
		return d.array()
	case "struct":
		return d.structure()
	case "nil":
		return nil, d.expectEnd()
	}
	s, err := d.text()
	if err != nil {
		return nil, err
	}
	switch kind {
	case "string":
		return s, nil
	case "int", "i4", "i8":
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if errors.Is(err, strconv.ErrRange) {
			// Python's ints have no bound: Supervisor passes such a number
			// to the method, so it is a value here too (*big.Int), which
			// methods refuse with a fault rather than the parser with 400.
			if b, ok := new(big.Int).SetString(strings.TrimSpace(s), 10); ok {
				return b, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bad %s %q", kind, truncate(s))
		}
		return n, nil
	case "boolean":
		return s == "1", nil
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // Python's float() gives inf or 0 too
			return nil, fmt.Errorf("bad double %q", truncate(s))
		}
		return f, nil
	case "dateTime.iso8601":
		s = strings.TrimSpace(s)
		t, err := time.Parse(isoLayout, s)
		if err != nil {
			if t, err = time.Parse("2006-01-02T15:04:05", s); err != nil {
				return nil, fmt.Errorf("bad dateTime.iso8601 %q", truncate(s))
			}
		}
		return t, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, fmt.Errorf("bad base64: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown type <%s>", kind)
}

func (d *decoder) array() ([]any, error) {
	if err := d.expectStart("data"); err != nil {
		return nil, err
	}
	elems := []any{}
	for {
		tok, err := d.nextElement()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return elems, d.expectEnd()
		}
		if se := tok.(xml.StartElement); se.Name.Local != "value" {
			return nil, fmt.Errorf("unexpected <%s> in array", se.Name.Local)
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
	}
}

func (d *decoder) structure() (map[string]any, error) {
	m := map[string]any{}
	for {
		tok, err := d.nextElement()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return m, nil
		}
		if se := tok.(xml.StartElement); se.Name.Local != "member" {
			return nil, fmt.Errorf("unexpected <%s> in struct", se.Name.Local)
		}
		name, v, err := d.member()
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

// member reads <name> and <value> (in either order) up to </member>.
func (d *decoder) member() (name string, v any, err error) {
	var haveName, haveValue bool
	for {
		tok, err := d.nextElement()
		if err != nil {
			return "", nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			break
		}
		switch se := tok.(xml.StartElement); se.Name.Local {
		case "name":
			if name, err = d.text(); err != nil {
				return "", nil, err
			}
			haveName = true
		case "value":
			if v, err = d.value(); err != nil {
				return "", nil, err
			}
			haveValue = true
		default:
			return "", nil, fmt.Errorf("unexpected <%s> in member", se.Name.Local)
		}
	}
	if !haveName || !haveValue {
		return "", nil, errors.New("struct member without name or value")
	}
	return name, v, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
