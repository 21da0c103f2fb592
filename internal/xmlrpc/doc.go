// Package xmlrpc is the XML-RPC codec shared by the daemon's RPC server and
// internal/client, the one client. It speaks the dialect of Supervisor 4.2:
// responses are laid out byte for byte like Python's xmlrpc.client.dumps, and
// decoding is as lax as Supervisor's own unmarshaller (untyped values are
// strings, a boolean is true only for "1", missing params mean no arguments).
//
// Go values map to XML-RPC types as follows: int (and the other integer
// kinds) ↔ int/i4, bool ↔ boolean, string ↔ string, float64 ↔ double,
// []byte ↔ base64, time.Time ↔ dateTime.iso8601, []any (or any slice) ↔
// array, map[string]any (or any map with string keys, or Struct to fix the
// member order) ↔ struct. Decoding always yields int, bool, string, float64,
// []byte, time.Time, []any and map[string]any (and nil for <nil/>), and
// *big.Int for an integer beyond 64 bits (Python's ints have no bound).
// Elements may nest MaxDepth deep. A Marshaler writes its own value: an
// answer of a fixed shape written often (getAllProcessInfo), byte for byte
// what the generic value would be.
//
// Like Python, the encoder writes control characters such as ESC raw, which
// strict XML parsers reject; the decoder accepts them so that log output
// with colour codes survives a round trip.
package xmlrpc
