# Prints supervisorctl's view of each config path read from stdin (JSON list):
# {"ctl": {...}} or {"error": "..."}; for ctl_test.go.
import json, os, sys
from supervisor.options import ClientOptions

class UsageError(Exception):
    pass

def usage(msg):
    raise UsageError(str(msg))

def dump(path):
    os.chdir(os.path.dirname(path))
    o = ClientOptions()
    o.usage = usage
    try:
        o.realize(args=['-c', path])
    except UsageError as e:
        return {"error": str(e)}
    return {"ctl": {"serverurl": o.serverurl, "username": o.username or "",
                    "password": o.password or "", "prompt": o.prompt,
                    "history_file": o.history_file or ""}}

print(json.dumps([dump(p) for p in json.load(sys.stdin)]))
