package metrics

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// family is one metric family of Drover's own: what its HELP and TYPE
// lines say.
type family struct {
	name, typ, help string
}

func gaugeFamily(name, help string) *family   { return &family{name, "gauge", help} }
func counterFamily(name, help string) *family { return &family{name, "counter", help} }

// exposition writes Prometheus's text format (version 0.0.4) straight into
// a buffer: with 500 programs a scrape has about 6,000 series, and building
// client_golang's metric objects for them cost the daemon 20 ms a scrape.
// The samples of a family must be written together; its HELP and TYPE
// lines go before its first sample, so a family with none is left out, as
// client_golang leaves it out.
//
// The buffer goes out to out whenever it holds chunkSize bytes, so a scrape
// needs one small buffer, not one of the whole answer (about 0.5 MB with
// 500 programs): between scrapes 15 s apart the garbage collector frees a
// pooled buffer, and allocating the whole answer again, its fresh pages
// faulted in and zeroed, and the collections it brings on, cost more than
// writing it.
type exposition struct {
	buf     []byte
	cur     *family   // the family whose samples are being written
	out     io.Writer // where full chunks go
	flushed bool      // whether a chunk has gone to out
	err     error     // of the first failed write to out; later chunks are dropped
}

// chunkSize is how much an exposition gathers before writing it out.
const chunkSize = 32 << 10

func (e *exposition) flushIfFull() {
	if len(e.buf) >= chunkSize {
		e.flush()
	}
}

// flush writes out what the buffer holds.
func (e *exposition) flush() {
	if len(e.buf) == 0 {
		return
	}
	if e.err == nil {
		_, e.err = e.out.Write(e.buf)
	}
	e.flushed = true
	e.buf = e.buf[:0]
}

// sample writes one sample of f. labels are name, value pairs, names in
// alphabetical order (client_golang's order); every value must be valid
// UTF-8, which the caller checks (see validLabels).
func (e *exposition) sample(f *family, v float64, labels ...string) {
	e.sampleSuffixed(f, "", v, labels...)
}

// sampleSuffixed writes one sample of f named f.name+suffix: a summary's
// _sum and _count.
func (e *exposition) sampleSuffixed(f *family, suffix string, v float64, labels ...string) {
	if e.cur != f {
		e.cur = f
		e.buf = append(e.buf, "# HELP "...)
		e.buf = append(e.buf, f.name...)
		e.buf = append(e.buf, ' ')
		e.buf = append(e.buf, f.help...)
		e.buf = append(e.buf, "\n# TYPE "...)
		e.buf = append(e.buf, f.name...)
		e.buf = append(e.buf, ' ')
		e.buf = append(e.buf, f.typ...)
		e.buf = append(e.buf, '\n')
	}
	e.buf = append(e.buf, f.name...)
	e.buf = append(e.buf, suffix...)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			e.buf = append(e.buf, '{')
		} else {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, labels[i]...)
		e.buf = append(e.buf, `="`...)
		e.buf = appendLabelValue(e.buf, labels[i+1])
		e.buf = append(e.buf, '"')
	}
	if len(labels) > 0 {
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, ' ')
	e.buf = appendValue(e.buf, v)
	e.buf = append(e.buf, '\n')
	e.flushIfFull()
}

// appendLabelValue escapes a label value as the text format asks:
// backslash, double quote and newline.
func appendLabelValue(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue writes whole numbers (counts, sizes, times in seconds) in
// full and anything else as Go's shortest float, as client_golang does.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// validLabels reports whether every value is valid UTF-8, which Prometheus
// requires of label values.
func validLabels(values ...string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
