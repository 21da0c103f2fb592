# Prints supervisord's view of configs as JSON, for python_test.go.
# Reads a JSON list of config paths (or [path, args...]) on stdin; prints a list of
# {"config": {...}} or {"error": "<text after Error: >"}, one per path,
# each parsed with the config's directory as working directory.
import json, os, sys
from supervisor.options import ServerOptions
from supervisor.datatypes import Automatic, RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.events import getEventNameByType

def logname(v):
    if v is Automatic:
        return "AUTO"
    return v

def restart(v):
    if v is RestartUnconditionally:
        return "always"
    if v is RestartWhenExitUnexpected:
        return "unexpected"
    return "never"

class UsageError(Exception):
    pass

def usage(msg):
    raise UsageError(str(msg))

def dump(entry):
  # entry is a path, or [path, supervisord args...]
  path, args = (entry, []) if isinstance(entry, str) else (entry[0], entry[1:])
  os.chdir(os.path.dirname(path))
  o = ServerOptions()
  o.usage = usage
  try:
    o.realize(args=['-c', path] + args)
  except UsageError as e:
    return {"error": str(e)}
  s = o.configroot.supervisord
  out = {
      "supervisord": {
          "logfile": o.logfile, "logfile_maxbytes": o.logfile_maxbytes,
          "logfile_backups": o.logfile_backups, "loglevel": o.loglevel,
          "pidfile": o.pidfile, "umask": o.umask, "nodaemon": bool(o.nodaemon),
          "silent": bool(o.silent), "minfds": o.minfds, "minprocs": o.minprocs,
          "nocleanup": bool(o.nocleanup), "childlogdir": o.childlogdir,
          "user": o.user or "", "directory": o.directory or "",
          "strip_ansi": bool(o.strip_ansi), "identifier": o.identifier,
          "environment": s.environment,
      },
      "groups": [],
      "servers": [],
      "warnings": o.parse_warnings,
      "infos": o.parse_infos,
  }
  for g in o.process_group_configs:
      gd = {"name": g.name, "priority": g.priority, "processes": []}
      if hasattr(g, "buffer_size"):
          gd["buffer_size"] = g.buffer_size
          gd["events"] = sorted(getEventNameByType(e) for e in g.pool_events)
      if hasattr(g, "socket_config"):
          gd["socket"] = g.socket_config.url
      for p in g.process_configs:
          gd["processes"].append({
              "name": p.name, "command": p.command, "directory": p.directory or "",
              "umask": -1 if p.umask is None else p.umask, "priority": p.priority,
              "autostart": p.autostart, "autorestart": restart(p.autorestart),
              "startsecs": p.startsecs, "startretries": p.startretries,
              "exitcodes": p.exitcodes, "stopsignal": p.stopsignal,
              "stopwaitsecs": p.stopwaitsecs, "stopasgroup": p.stopasgroup,
              "killasgroup": p.killasgroup, "uid": -1 if p.uid is None else p.uid,
              "redirect_stderr": p.redirect_stderr,
              "stdout_logfile": logname(p.stdout_logfile),
              "stdout_logfile_maxbytes": p.stdout_logfile_maxbytes,
              "stdout_logfile_backups": p.stdout_logfile_backups,
              "stdout_capture_maxbytes": p.stdout_capture_maxbytes,
              "stdout_events_enabled": p.stdout_events_enabled,
              "stdout_syslog": p.stdout_syslog,
              "stderr_logfile": logname(p.stderr_logfile),
              "stderr_logfile_maxbytes": p.stderr_logfile_maxbytes,
              "stderr_logfile_backups": p.stderr_logfile_backups,
              "stderr_capture_maxbytes": p.stderr_capture_maxbytes,
              "stderr_events_enabled": p.stderr_events_enabled,
              "stderr_syslog": p.stderr_syslog,
              "environment": p.environment or {},
              "serverurl": p.serverurl or "AUTO",
          })
      out["groups"].append(gd)
  for c in o.server_configs:
      d = {"section": c["section"], "username": c["username"] or "", "password": c["password"] or ""}
      if "file" in c:
          d.update(file=c["file"], chmod=c["chmod"], chown=list(c["chown"]))
      else:
          d.update(host=c["host"], port=c["port"])
      out["servers"].append(d)
  return {"config": out}

print(json.dumps([dump(p) for p in json.load(sys.stdin)]))
