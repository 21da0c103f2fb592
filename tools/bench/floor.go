package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// spawnFloor times the least any supervisor can take to start n programs on
// this machine now: a loop of os.StartProcess of the same command, with no
// pipes and no logs. os.StartProcess returns once the child has exec'd, so
// the end of the loop is "all children exist". The children are killed and
// reaped before it returns.
func spawnFloor(ctx context.Context, argv []string, n int) (time.Duration, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	defer devnull.Close()
	attr := &os.ProcAttr{Files: []*os.File{devnull, devnull, devnull}}
	kids := make([]*os.Process, 0, n)
	defer func() {
		for _, p := range kids {
			p.Kill()
			p.Wait()
		}
	}()
	t0 := time.Now()
	for range n {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		p, err := os.StartProcess(argv[0], argv, attr)
		if err != nil {
			return 0, fmt.Errorf("floor: start %s: %w", argv[0], err)
		}
		kids = append(kids, p)
	}
	return time.Since(t0), nil
}

// overFloor is how many floors took is, less startsecs
// (the wait every supervisor adds before RUNNING).
func overFloor(took, startsecs, floor time.Duration) float64 {
	return (took - startsecs).Seconds() / floor.Seconds()
}
