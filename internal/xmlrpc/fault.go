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
