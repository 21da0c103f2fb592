package rpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover/drover/internal/wire"
	"github.com/drover/drover/internal/xmlrpc"
)

func TestGetFleet(t *testing.T) {
	getFleet := func(fleet fleetFunc) (any, error) {
		m := map[string]*method{}
		h := &handler{}
		if fleet != nil {
			h.fleet = fleet
		}
		h.addFleetMethods(m)
		return m["drover.getFleet"].call(t.Context(), nil)
	}
	_, err := getFleet(nil)
	var f *xmlrpc.Fault
	if !errors.As(err, &f) || f.Code != wire.FaultFailed || !strings.Contains(f.String, "fleet not configured") {
		t.Errorf("without [fleet]: %v", err)
	}
	_, err = getFleet(fleetFunc(func(context.Context) ([]wire.FleetNode, error) {
		return nil, errors.New("fleet: Redis unreachable: refused")
	}))
	if !errors.As(err, &f) || f.String != "FAILED: fleet: Redis unreachable: refused" {
		t.Errorf("Redis down: %v", err)
	}
	v, err := getFleet(fleetFunc(func(context.Context) ([]wire.FleetNode, error) {
		return []wire.FleetNode{{Name: "n1", State: wire.FleetUp}}, nil
	}))
	if s, _ := v.(string); err != nil || !strings.HasPrefix(s, `[{"name":"n1","state":"up"`) {
		t.Errorf("getFleet = %v, %v", v, err)
	}
}

// fleetFunc is a Fleet made of its Nodes function; it sends nothing.
type fleetFunc func(context.Context) ([]wire.FleetNode, error)

func (f fleetFunc) Nodes(ctx context.Context) ([]wire.FleetNode, error) { return f(ctx) }

func (f fleetFunc) Send(context.Context, string, string, []string, int) (string, time.Time, error) {
	return "", time.Time{}, errors.New("fleetFunc sends nothing")
}

func (f fleetFunc) Results(context.Context, string) (map[string]wire.FleetResult, error) {
	return nil, errors.New("fleetFunc sends nothing")
}
