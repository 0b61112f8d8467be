"""``rpctest`` against a toy provider in a fresh process: ``python tests/toy_cli.py REQUEST_SCHEMA ARGV...``.

The toy stack (:mod:`toystack`) has no server; this script opens a target whose provider answers
every request of its one operation ``add`` (its request schema given as JSON) with ``{}``, records
each request it was sent, runs ``rpctest ARGV`` and prints the requests as a JSON list on the last
line of standard output (``TOY_DELAY=SECONDS`` makes each answer that slow). For tests of what the command line itself does (seeds, progress).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import toystack
from rpctest import cli
from rpctest.contracts import format as fmt
from rpctest.fuzz import engine, target as target_module
from rpctest.model import Reply, RpcError

toystack.register()
REQUEST = json.loads(sys.argv[1])
sent = []


class Opened:
    def __init__(self, *args, **kwargs):
        contract = fmt.ProviderContract("toy", "users", {"add": fmt.OperationSpec("add", request=REQUEST, response={})})
        self.target = engine.Target("toy", contract, self.send)

    def send(self, call):
        if call.operation != "add":
            return Reply(errors=[RpcError("NOPE", "no such operation", kind="not_found")])
        sent.append(json.dumps(call.body, sort_keys=True))
        time.sleep(float(os.environ.get("TOY_DELAY", "0")))  # a slow provider, for progress lines
        return Reply(body={})

    def __enter__(self):
        return self.target

    def __exit__(self, *exc):
        return None


target_module.open_target = Opened
code = cli.main(sys.argv[2:])
print(json.dumps(sent))
sys.exit(code)
