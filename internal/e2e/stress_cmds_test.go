package e2e

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover/drover/internal/client"
)

// Commands for the stress scripts (testdata/robust_stress_*.txtar).

// rpcstorm DURATION CLIENTS PROGRAMS OP...: CLIENTS concurrent clients call
// the daemon for DURATION, each going round the OPs (start, stop: of the
// programs p1 … pPROGRAMS in turn, without waiting; info:
// getAllProcessInfo). A fault is an answer (ALREADY_STARTED, NOT_RUNNING
// …); any other failure (no connection, HTTP error, timeout) fails.
func cmdRPCStorm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: rpcstorm DURATION CLIENTS PROGRAMS OP...")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	clients, err := strconv.Atoi(args[1])
	ts.Check(err)
	programs, err := strconv.Atoi(args[2])
	ts.Check(err)
	ops := args[3:]
	for _, op := range ops {
		if op != "start" && op != "stop" && op != "info" {
			ts.Fatalf("rpcstorm: unknown op %q", op)
		}
	}
	var calls, faults atomic.Int64
	var mu sync.Mutex
	var failures []error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				name := fmt.Sprintf("p%d", (i*7+c)%programs+1)
				var err error
				switch ops[i%len(ops)] {
				case "start":
					_, err = rpcCall(ts, "supervisor.startProcess", name, false)
				case "stop":
					_, err = rpcCall(ts, "supervisor.stopProcess", name, false)
				case "info":
					_, err = rpcCall(ts, "supervisor.getAllProcessInfo")
				}
				calls.Add(1)
				var fault *client.Fault
				switch {
				case errors.As(err, &fault):
					faults.Add(1)
				case err != nil:
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	ts.Logf("rpcstorm: %d calls (%d faults) from %d clients in %v", calls.Load(), faults.Load(), clients, d)
	if len(failures) > 0 {
		ts.Fatalf("%d clients failed, first: %v", len(failures), failures[0])
	}
}

// hupstorm PID N INTERVAL: send SIGHUP (reload) to PID N times, INTERVAL
// apart.
func cmdHUPStorm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: hupstorm PID N INTERVAL")
	}
	pid, err := strconv.Atoi(args[0])
	ts.Check(err)
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	interval, err := time.ParseDuration(args[2])
	ts.Check(err)
	for range n {
		ts.Check(syscall.Kill(pid, syscall.SIGHUP))
		time.Sleep(interval)
	}
}

// waitrunning [timeout]: wait until the daemon answers getState with
// RUNNING (after a reload: it answers RESTARTING, then nothing, while it
// reloads).
func cmdWaitRunning(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: waitrunning [timeout]")
	}
	poll(ts, waitArg(ts, args, 0), "waitrunning", func() (bool, string) {
		v, err := rpcCall(ts, "supervisor.getState")
		if err != nil {
			return false, err.Error()
		}
		st, _ := v.(map[string]any)
		return st["statename"] == "RUNNING", fmt.Sprint(v)
	})
}
