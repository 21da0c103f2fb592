# Reads JSON {"kind": ..., "inputs": [...]} on stdin and prints, for each
# input, Supervisor's/Python's result or "ERR: <message>" (for random_test.go).
import configparser, json, shlex, sys
from supervisor.datatypes import dict_of_key_value_pairs

def env(s):
    return sorted(dict_of_key_value_pairs(s).items())

def split(s):
    return shlex.split(s)

def fmt(s):
    return s % {"here": "/h", "process_num": 3, "name": "n"}

def ini(s):
    p = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    p.read_string(s, "x.conf")
    out = [[k, v] for k, v in p.defaults().items()]
    for sec in p.sections():
        out.extend([[sec + "." + k, v] for k, v in p._sections[sec].items()])
    return out

req = json.load(sys.stdin)
f = {"env": env, "split": split, "fmt": fmt, "ini": ini}[req["kind"]]
res = []
for s in req["inputs"]:
    try:
        res.append(f(s))
    except Exception as e:
        res.append("ERR: " + str(e))
print(json.dumps(res))
