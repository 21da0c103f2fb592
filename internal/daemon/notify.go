package daemon

import (
	"net"
	"os"
)

// sd_notify states sent to systemd (Type=notify units).
const (
	notifyReady     = "READY=1"
	notifyReloading = "RELOADING=1"
	notifyStopping  = "STOPPING=1"
)

// notifier sends sd_notify(3) datagrams to $NOTIFY_SOCKET. The zero value
// (no socket) sends nothing, so callers need not check.
type notifier struct {
	socket string // "" when not run by a service manager; "@x" is abstract
}

// newNotifier reads $NOTIFY_SOCKET once, before children are started.
func newNotifier() notifier { return notifier{socket: os.Getenv("NOTIFY_SOCKET")} }

// notify sends state; failures are ignored, as sd_notify callers do: the
// service manager going away must not stop supervision.
func (n notifier) notify(state string) {
	if n.socket == "" {
		return
	}
	// Go maps a leading '@' to the abstract namespace.
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	c.Write([]byte(state))
}
