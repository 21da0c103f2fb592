package daemon

import (
	"net"
	"path/filepath"
	"testing"
)

func TestNotifySendsDatagram(t *testing.T) {
	for _, name := range []string{"path", "@abstract"} {
		addr := filepath.Join(shortTempDir(t), "notify")
		if name[0] == '@' {
			addr = "@drover-test-" + filepath.Base(filepath.Dir(addr))
		}
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("NOTIFY_SOCKET", addr)
		newNotifier().notify(notifyReady)
		buf := make([]byte, 64)
		n, err := conn.Read(buf)
		conn.Close()
		if err != nil || string(buf[:n]) != "READY=1" {
			t.Errorf("%s: got %q, %v; want READY=1", name, buf[:n], err)
		}
	}
}

func TestNotifyWithoutSocketIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	newNotifier().notify(notifyStopping) // must not panic or block
}
