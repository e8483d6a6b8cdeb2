#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check "funnelctl --json show" documents against
Documentation/funnel-show.schema.json (JSON Schema 2020-12); TAP on stdout.

  show_schema.py --dump FILE    the "show --json" documents of each test
                                snapshot in FILE (test_show --dump), and
                                documents the schema must refuse, made
                                from the first of them
  show_schema.py NAME=FILE...   each FILE is one document (a running
                                funneld's "show --json"), named NAME

Exit status 1 if a result is not ok.
"""

import copy
import json
import os
import sys

import jsonschema

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCHEMA = os.path.join(TOP, "Documentation", "funnel-show.schema.json")

n = 0
failed = False


def tap(good, name, why=""):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if good else "not ", n, name))
    if not good:
        failed = True
        for line in str(why).splitlines()[:8]:
            print("#   " + line)


def errors(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.path))


def dump_documents(path):
    """(name, document) of each "---- NAME: show --json" section"""
    docs = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("---- ") and line.endswith(": show --json"):
            docs.append((line[5:-len(": show --json")],
                         json.loads(lines[i + 1])))
    return docs


def mutations(doc):
    """(what, document) pairs the schema must refuse"""
    def changed(what, fn):
        d = copy.deepcopy(doc)
        fn(d)
        return (what, d)

    def carrier(d):
        return d["carriers"][0]

    def stream(d):
        return d["carriers"][0]["streams"][0]

    return [
        changed("no schema_version", lambda d: d.pop("schema_version", None)),
        changed("schema_version 1 (the version before tcp_buffers)",
                lambda d: d.update(schema_version=1)),
        changed("schema_version 2 (the version before origin and proxy)",
                lambda d: d.update(schema_version=2)),
        changed("schema_version 3 (the version before identity and principal of services and maps)",
                lambda d: d.update(schema_version=3)),
        changed("schema_version 4 (the version before plugin of services and maps)",
                lambda d: d.update(schema_version=4)),
        changed("schema_version 6 (the version before marks_ignored of carriers)",
                lambda d: d.update(schema_version=6)),
        changed("schema_version 7 (the version before addresses and udp_port of peers)",
                lambda d: d.update(schema_version=7)),
        changed("schema_version 8 (the version before the counters rx-abandoned and tx-deferred)",
                lambda d: d.update(schema_version=8)),
        changed("a carrier's counters without rx-abandoned",
                lambda d: carrier(d)["stats"].pop("rx-abandoned")),
        changed("a carrier's counters without tx-deferred",
                lambda d: carrier(d)["stats"].pop("tx-deferred")),
        changed("a stream's counters without tx-deferred",
                lambda d: stream(d)["stats"].pop("tx-deferred")),
        changed("a peer without addresses",
                lambda d: d["peers"][0].pop("addresses")),
        changed("a peer with no address",
                lambda d: d["peers"][0].update(addresses=[])),
        changed("a peer's addresses a string",
                lambda d: d["peers"][0].update(addresses="192.0.2.1:9899")),
        changed("a peer without udp_port",
                lambda d: d["peers"][0].pop("udp_port")),
        changed("a peer's udp_port 65536",
                lambda d: d["peers"][0].update(udp_port=65536)),
        changed("a carrier without marks_ignored",
                lambda d: carrier(d).pop("marks_ignored")),
        changed("a carrier's marks_ignored negative",
                lambda d: carrier(d).update(marks_ignored=-1)),
        changed("a service without plugin",
                lambda d: d["services"][0].pop("plugin")),
        changed("a map without plugin",
                lambda d: d["maps"][0].pop("plugin")),
        changed("a map's plugin one the table does not have",
                lambda d: d["maps"][0].update(plugin="x500")),
        changed("a service without identity",
                lambda d: d["services"][0].pop("identity")),
        changed("a service without last_refusal",
                lambda d: d["services"][0].pop("last_refusal")),
        changed("a service's last_refusal a number",
                lambda d: d["services"][0].update(last_refusal=1)),
        changed("a map without principal",
                lambda d: d["maps"][0].pop("principal")),
        changed("a map's identity a number",
                lambda d: d["maps"][0].update(identity=1)),
        changed("a flow without origin",
                lambda d: stream(d)["flows"][0].pop("origin")),
        changed("a flow's origin a number",
                lambda d: stream(d)["flows"][0].update(origin=5)),
        changed("a service without proxy",
                lambda d: d["services"][0].pop("proxy")),
        changed("a service's proxy v1",
                lambda d: d["services"][0].update(proxy="v1")),
        changed("a carrier without tcp_buffers",
                lambda d: d["carriers"][0].pop("tcp_buffers")),
        changed("tcp_buffers.queued negative",
                lambda d: d["tcp_buffers"].update(queued=-1)),
        changed("a member the schema does not know",
                lambda d: d.update(extra=1)),
        changed("a carrier without its state",
                lambda d: carrier(d).pop("state")),
        changed("a stream's rx-frames negative",
                lambda d: stream(d)["stats"].update({"rx-frames": -1})),
        changed("a stream's rx-frames a string",
                lambda d: stream(d)["stats"].update({"rx-frames": "1"})),
        changed("a counter the schema does not know",
                lambda d: stream(d)["stats"].update({"rx-oops": 0})),
        changed("plaintext a number", lambda d: d.update(plaintext=1)),
        changed("a listen address a number",
                lambda d: d["listens"].append(9899)),
        changed("a map's stream negative",
                lambda d: d["maps"][0].update(stream=-5)),
        changed("a counter above 2^64 - 1",
                lambda d: carrier(d)["stats"].update({"tx-bytes": 1 << 64})),
        changed("idle_ms a fraction",
                lambda d: stream(d)["flows"][0].update(idle_ms=1.5)),
        changed("peers an object", lambda d: d.update(peers={})),
    ]


def main(argv):
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    try:
        cls.check_schema(schema)
        tap(True, "funnel-show.schema.json is a valid JSON Schema 2020-12")
    except jsonschema.SchemaError as e:
        tap(False, "funnel-show.schema.json is a valid JSON Schema", e)
        return 1
    v = cls(schema)
    version = schema["properties"]["schema_version"]["const"]

    if argv[:1] == ["--dump"]:
        docs = dump_documents(argv[1])
        tap(len(docs) >= 4, "%d show --json documents in %s" %
            (len(docs), os.path.basename(argv[1])))
        for name, doc in docs:
            e = errors(v, doc)
            tap(not e, "snapshot %s: show --json valid (schema_version %s)"
                % (name, doc.get("schema_version")),
                "\n".join("%s: %s" % (list(x.path), x.message) for x in e))
        for what, bad in mutations(docs[0][1]):
            tap(bool(errors(v, bad)), "refused: %s" % what)
    else:
        for arg in argv:
            name, path = arg.split("=", 1)
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            e = errors(v, doc)
            tap(not e and doc.get("schema_version") == version,
                "%s: show --json valid, schema_version %s, %d carriers" %
                (name, doc.get("schema_version"), len(doc.get("carriers", []))),
                "\n".join("%s: %s" % (list(x.path), x.message) for x in e))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
