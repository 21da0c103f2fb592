package fleet

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// maxClockSkew is how far in the future a command's issue time may be:
// the nodes' clocks differ a little, not by minutes.
const maxClockSkew = 30 * time.Second

// command is one fleet action as it travels in the command stream: its
// JSON is signed as it is, so every field (the id and the times included)
// is covered by the signature.
type command struct {
	ID      string   `json:"id"`
	Action  string   `json:"action"`
	Group   string   `json:"group"`
	Nodes   []string `json:"nodes"` // the target nodes by name, chosen by the sender
	Batch   int      `json:"batch,omitempty"`
	From    string   `json:"from"`
	Issued  int64    `json:"issued_ms"`
	Expires int64    `json:"expires_ms"`
}

// Why a command is refused before it is looked at.
var (
	errUnsigned     = errors.New("unsigned")
	errBadSignature = errors.New("bad signature")
	errNoSecret     = errors.New("this node has no secret in [fleet], so it runs no fleet command")
)

func newCommandID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// seal returns the body and signature of c.
func seal(secret string, c command) (body, sig string, err error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", "", err
	}
	return string(b), sign(secret, b), nil
}

// open checks the signature of a stream entry and decodes it. It says
// nothing of time: see check.
func open(secret, body, sig string) (command, error) {
	var c command
	switch {
	case secret == "":
		return c, errNoSecret
	case sig == "":
		return c, errUnsigned
	case !hmac.Equal([]byte(sig), []byte(sign(secret, []byte(body)))):
		return c, errBadSignature
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.ID == "" {
		return c, fmt.Errorf("unreadable command: %v", err)
	}
	return c, nil
}

// check refuses a command that expired or claims to come from the future.
func (c command) check(now time.Time) error {
	switch ms := now.UnixMilli(); {
	case ms > c.Expires:
		return fmt.Errorf("expired %s ago", time.Duration(ms-c.Expires)*time.Millisecond)
	case c.Issued > ms+maxClockSkew.Milliseconds():
		return fmt.Errorf("issued %s in the future", time.Duration(c.Issued-ms)*time.Millisecond)
	}
	return nil
}

func (c command) targets(node string) bool { return slices.Contains(c.Nodes, node) }
