package xmlrpc

import "fmt"

// Fault is an XML-RPC fault: a numeric code and a human-readable string
// (Supervisor uses "NAME" or "NAME: detail").
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("%d: %s", f.Code, f.String)
}

// Struct is an XML-RPC struct whose members are encoded in the given order
// (a map is encoded with sorted keys). Python's dicts keep insertion order,
// so Supervisor's structs have a fixed member order this reproduces.
// Decoding always yields map[string]any.
type Struct []Member

// Member is one member of a Struct.
type Member struct {
	Name  string
	Value any
}
