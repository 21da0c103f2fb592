package supervisor

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/drover/drover/internal/config"
	"github.com/drover/drover/internal/guard"
)

// ErrReloadInProgress is returned while a reload keeping unchanged
// programs is still applying the previous one.
var ErrReloadInProgress = errors.New("a reload keeping unchanged programs is in progress")

// KeepingReload is what a reload keeping unchanged programs did, by group
// name. FullReload is set when it became a full reload instead: the
// settings named there cannot change while the daemon runs.
type KeepingReload struct {
	Kept, Restarted, Rolled, Removed, Added []string
	Failed                                  []string // "name: reason"; those groups are left as they were
	FullReload                              string
}

// keepingPlan is a validated reload: the reread's diff, to apply.
type keepingPlan struct {
	report                  KeepingReload
	changed, removed, added []string
}

// ReloadKeeping re-reads the config and applies it as `update` does:
// unchanged groups keep running, removed ones stop and go, changed ones
// are rolled (pools with spare process numbers) or stopped and re-added,
// added ones start. When a setting outside the groups changed ([supervisord],
// the servers) it asks for a full reload instead and says why. An invalid
// config is returned and changes nothing.
func (s *Supervisor) ReloadKeeping(ctx context.Context) (KeepingReload, error) {
	plan, err := s.planKeeping()
	if err != nil || plan.report.FullReload != "" {
		return plan.report, err
	}
	defer s.keepMu.Unlock()
	return s.applyKeeping(ctx, plan), nil
}

// planKeeping validates the config and decides; on success without a full
// reload it returns with keepMu held, for applyKeeping's caller to release.
func (s *Supervisor) planKeeping() (keepingPlan, error) {
	if !s.keepMu.TryLock() {
		s.Logf(config.LevelWarn, "reload ignored: %v", ErrReloadInProgress)
		return keepingPlan{}, ErrReloadInProgress
	}
	added, changed, removed, err := s.Reread()
	if err != nil {
		s.keepMu.Unlock()
		if !errors.Is(err, ErrShuttingDown) {
			s.logRefusedReload(err)
		}
		return keepingPlan{}, err
	}
	cfg := s.PendingConfig()
	if fixed := serverChanges(s.started, cfg); len(fixed) > 0 {
		s.keepMu.Unlock()
		why := strings.Join(fixed, ", ") + " changed, which cannot be applied while the daemon runs"
		s.Logf(config.LevelWarn, "reload keeping unchanged programs: %s: reloading every program", why)
		s.reloadWith(cfg)
		return keepingPlan{report: KeepingReload{FullReload: why}}, nil
	}
	var kept []string
	for _, g := range s.activeByActivation() {
		if name := g.Config.Name; !slices.Contains(changed, name) && !slices.Contains(removed, name) {
			kept = append(kept, name)
		}
	}
	s.Logf(config.LevelInfo, "reload keeping unchanged programs: kept %s; changed %s; removed %s; added %s",
		listOrNone(kept), listOrNone(changed), listOrNone(removed), listOrNone(added))
	return keepingPlan{report: KeepingReload{Kept: kept}, changed: changed, removed: removed, added: added}, nil
}

// applyKeeping carries out plan in update's order: removed, changed, added.
func (s *Supervisor) applyKeeping(ctx context.Context, plan keepingPlan) KeepingReload {
	r := plan.report
	fail := func(name string, err error) {
		s.Logf(config.LevelError, "reload: %s left as it was: %v", name, err)
		r.Failed = append(r.Failed, name+": "+err.Error())
	}
	for _, name := range plan.removed {
		if err := s.stopAndRemoveGroup(ctx, name); err != nil {
			fail(name, err)
			continue
		}
		s.Logf(config.LevelInfo, "reload: %s stopped and removed", name)
		r.Removed = append(r.Removed, name)
	}
	for _, name := range plan.changed {
		rolled, err := s.replaceGroup(ctx, name)
		switch {
		case err != nil:
			fail(name, err)
		case rolled:
			s.Logf(config.LevelInfo, "reload: %s rolled to its new config", name)
			r.Rolled = append(r.Rolled, name)
		default:
			s.Logf(config.LevelInfo, "reload: %s restarted with its new config", name)
			r.Restarted = append(r.Restarted, name)
		}
	}
	for _, name := range plan.added {
		if err := s.AddGroup(ctx, name); err != nil {
			fail(name, err)
			continue
		}
		s.Logf(config.LevelInfo, "reload: %s added", name)
		r.Added = append(r.Added, name)
	}
	return r
}

// replaceGroup gives the changed group name its pending config: a pool with
// spare process numbers rolls (rolled), any other group is stopped, removed
// and added again, as update does.
func (s *Supervisor) replaceGroup(ctx context.Context, name string) (rolled bool, err error) {
	if next := s.pendingGroup(name); next != nil && len(next.Spares) > 0 && s.opts.Hooks.Replace != nil {
		if rolled, err := s.opts.Hooks.Replace(ctx, name); rolled || err != nil {
			return rolled, err
		}
	}
	if err := s.stopAndRemoveGroup(ctx, name); err != nil {
		return false, err
	}
	return false, s.AddGroup(ctx, name)
}

// stopAndRemoveGroup stops every process of the active group name and
// drops the group; a process that will not stop keeps the group.
func (s *Supervisor) stopAndRemoveGroup(ctx context.Context, name string) error {
	g := s.Group(name)
	if g == nil {
		return ErrBadName
	}
	if err := StopAll(ctx, g.Processes); err != nil {
		return err
	}
	return s.RemoveGroup(ctx, name)
}

func (s *Supervisor) pendingGroup(name string) *config.Group {
	for _, gc := range s.PendingConfig().Groups {
		if gc.Name == name {
			return gc
		}
	}
	return nil
}

func (s *Supervisor) activeByActivation() []*Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activeByActivationLocked()
}

// serverChanges names the sections of next, outside the program groups,
// that differ from running's: the daemon applies them only when it starts
// (log file, user, sockets, ...). [supervisorctl] is the client's.
func serverChanges(running, next *config.Config) []string {
	var out []string
	if !reflect.DeepEqual(running.Supervisord, next.Supervisord) {
		out = append(out, "[supervisord]")
	}
	if !reflect.DeepEqual(running.UnixHTTPServers, next.UnixHTTPServers) {
		out = append(out, "[unix_http_server]")
	}
	if !reflect.DeepEqual(running.InetHTTPServers, next.InetHTTPServers) {
		out = append(out, "[inet_http_server]")
	}
	if !slices.Equal(running.RPCInterfaces, next.RPCInterfaces) {
		out = append(out, "[rpcinterface:x]")
	}
	return out
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// restartKeeping is Restart under reload_keeps_unchanged: validated and
// decided now, applied in the background so that a signal handler or an
// RPC does not wait for programs to stop and start.
func (s *Supervisor) restartKeeping() error {
	plan, err := s.planKeeping()
	if err != nil || plan.report.FullReload != "" {
		return err
	}
	guard.Go("reload keeping unchanged programs", func() {
		defer s.keepMu.Unlock()
		s.applyKeeping(context.Background(), plan)
	})
	return nil
}
