package xmlrpc

// Field is one member of a StructShape: its name, and whether its value
// is an int (else a string).
type Field struct {
	Name string
	Int  bool
}

// StructShape is a struct whose members are always the same, in the same
// order, with values of the same types: all its text but the values is
// fixed, and is kept as the len(fields)+1 runs between them. Writing one
// is then one append of fixed text per value (getAllProcessInfo writes
// 500 structs of 14 members per call), where the generic encoder writes
// each member's tags, name and value tags apart.
type StructShape struct {
	runs []string
}

// NewStructShape returns the shape of a struct of fields.
func NewStructShape(fields ...Field) *StructShape {
	var m Message
	defer m.Release()
	s := &StructShape{runs: make([]string, 0, len(fields)+1)}
	run := "<value><struct>\n"
	closing := ""
	for _, f := range fields {
		writeMemberName(&m, f.Name)
		open := "<value><string>"
		if f.Int {
			open = "<value><int>"
		}
		s.runs = append(s.runs, closing+run+m.String()+open)
		m.Release()
		run = ""
		closing = "</string></value>\n</member>\n"
		if f.Int {
			closing = "</int></value>\n</member>\n"
		}
	}
	s.runs = append(s.runs, closing+run+"</struct></value>\n")
	return s
}

// Begin starts a struct of shape s in m: its values follow, in the
// shape's order, each through the StructWriter's String or Int.
func (s *StructShape) Begin(m *Message) StructWriter {
	m.WriteString(s.runs[0])
	return StructWriter{m: m, runs: s.runs[1:]}
}

// StructWriter writes the values of one struct of a StructShape; the
// last one ends the struct.
type StructWriter struct {
	m    *Message
	runs []string // the text after each value still to write
}

// String writes the next value, a string, escaped.
func (w *StructWriter) String(s string) {
	writeEscaped(w.m, s)
	w.next()
}

// Text writes the next value, a string held in bytes, escaped.
func (w *StructWriter) Text(s []byte) {
	writeEscaped(w.m, s)
	w.next()
}

// Int writes the next value, an int.
func (w *StructWriter) Int(n int64) {
	w.m.writeDecimal(n)
	w.next()
}

// next writes the fixed text after a value.
func (w *StructWriter) next() {
	w.m.WriteString(w.runs[0])
	w.runs = w.runs[1:]
}
