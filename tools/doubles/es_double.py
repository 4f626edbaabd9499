#!/usr/bin/env python3
"""A stand-in for an Elasticsearch cluster's _bulk and index template APIs, with faults.

Test double for the sensor's Elasticsearch output: it keeps documents in memory, handles
_bulk requests item by item as Elasticsearch 8 does (create, index, 409 on a duplicate
create, the errors flag), reads gzip request bodies, checks an API key or basic
credentials, stores index templates, and can check documents against a stored template's
mappings. Faults are set on the command line or at run time through POST /_double/fault:

  --down-at-start S          bind the port but refuse connections for S seconds
  --down-after-requests N    after the Nth _bulk request, store the next request's
                             documents, drop its connection without a response, and stop
                             listening for --down-for seconds (a crash mid-request)
  --fail-requests ST:N[:K]   fail N _bulk requests from the Kth (default: the first)
                             with HTTP status ST, storing nothing (429 or 5xx bursts)
  --fail-items ST:F[:A]      fail a fraction F of the items, chosen by a hash of _id,
                             with status ST for their first A attempts (0: always;
                             default 1 for 429 and 5xx, always for other statuses)
  --slow S[:N]               wait S seconds before responding (the first N _bulk requests)
  --strict-mapping           reject fields that the matching template does not map, and
                             values that do not fit the mapped type, with 400

Only for tests on this machine: it listens on 127.0.0.1 and prints
"listening on http://127.0.0.1:PORT" once the port is bound.

Debug endpoints: GET /_double/docs (every stored document), GET /_double/stats.
"""

import argparse
import base64
import datetime
import fnmatch
import gzip
import hashlib
import http.server
import ipaddress
import json
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
import uuid

ITEM_ERRORS = {
    400: ("mapper_parsing_exception", "failed to parse field [source.ip] of type [ip]"),
    429: ("es_rejected_execution_exception",
          "rejected execution of coordinating operation [write queue full]"),
    500: ("illegal_state_exception", "injected failure"),
    503: ("unavailable_shards_exception", "primary shard is not active"),
}

TEXT_TYPES = {"keyword", "wildcard", "match_only_text", "text", "constant_keyword"}


def error_body(status, error_type, reason):
    return {"error": {"root_cause": [{"type": error_type, "reason": reason}],
                      "type": error_type, "reason": reason}, "status": status}


def parse_status_count(text, default_third):
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected STATUS:VALUE[:VALUE], got {text!r}")
    third = parts[2] if len(parts) == 3 else default_third
    return int(parts[0]), parts[1], third


class Faults:
    """The fault settings; changed under State.lock."""

    def __init__(self):
        self.request_bursts = []   # [status, first request number, count]
        self.item_rules = []       # [status, fraction, attempts]
        self.slow_seconds = 0.0
        self.slow_remaining = None  # None: every request.
        self.down_after_requests = None
        self.down_for = 0.0


class State:
    """Everything that survives the server going down and up again."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.faults = Faults()
        self.docs = {}        # (index, id) -> {"source": ..., "created": n}
        self.templates = {}   # name -> template body
        self.attempts = {}    # (rule index, id) -> attempts seen
        self.stats = {
            "bulk_requests": 0, "failed_requests": 0, "items": 0, "created": 0,
            "conflicts": 0, "indexed": 0, "item_failures": {}, "rejected_ids": {},
            "gzip_requests": 0, "auth_failures": 0, "dropped_connections": 0,
            "template_puts": 0,
        }


def type_fits(mapping_type, value):
    if mapping_type in TEXT_TYPES:
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if mapping_type == "ip":
        try:
            ipaddress.ip_address(value)
            return True
        except (ValueError, TypeError):
            return False
    if mapping_type == "date":
        if not isinstance(value, str):
            return isinstance(value, int) and not isinstance(value, bool)
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return True
        except ValueError:
            return False
    if mapping_type in ("long", "integer", "short", "byte", "unsigned_long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if mapping_type in ("double", "float", "scaled_float", "half_float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if mapping_type == "boolean":
        return isinstance(value, bool)
    if mapping_type == "geo_point":
        return (isinstance(value, dict) and set(value) == {"lat", "lon"}
                and all(isinstance(value[k], (int, float)) for k in ("lat", "lon")))
    return True


def check_mapping(properties, document, prefix=""):
    """Return (error type, reason) for the first field that breaks the mapping, else None."""
    for key, value in document.items():
        path = prefix + key
        field = properties.get(key)
        if field is None:
            parent = prefix[:-1] or "_doc"
            return ("strict_dynamic_mapping_exception",
                    f"mapping set to strict, dynamic introduction of [{key}] within "
                    f"[{parent}] is not allowed")
        if "properties" in field:
            if not isinstance(value, dict):
                return ("document_parsing_exception",
                        f"object mapping for [{path}] tried to parse field as object, "
                        "but found a concrete value")
            problem = check_mapping(field["properties"], value, path + ".")
            if problem:
                return problem
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if field.get("ignore_malformed"):
                continue
            if not type_fits(field.get("type", "object"), item):
                return ("mapper_parsing_exception",
                        f"failed to parse field [{path}] of type [{field.get('type')}]")
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es-double/1"

    # The owning EsDouble, set on the class by EsDouble.
    double = None

    def log_message(self, format, *args):  # noqa: A002 - the base class names it so.
        if self.double.args.verbose:
            sys.stderr.write("es_double: " + (format % args) + "\n")

    def setup(self):
        super().setup()
        self.double.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.double.track(self.connection, False)

    # Replies.

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
            with self.double.state.lock:
                self.double.state.stats["gzip_requests"] += 1
        return data

    def authorized(self):
        args = self.double.args
        expected = []
        if args.api_key:
            expected.append("ApiKey " + args.api_key)
        if args.basic:
            expected.append("Basic " + base64.b64encode(args.basic.encode()).decode())
        if not expected or self.headers.get("Authorization") in expected:
            return True
        with self.double.state.lock:
            self.double.state.stats["auth_failures"] += 1
        self.read_body()
        self.reply(401, error_body(401, "security_exception",
                                   f"missing authentication credentials for REST request "
                                   f"[{self.path}]"))
        return False

    # Routing.

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] == ["_double"]:
            return self.debug(parts)
        if not self.authorized():
            return None
        if not parts:
            return self.reply(200, {"name": "es-double", "cluster_name": "es-double",
                                    "version": {"number": "8.11.0"},
                                    "tagline": "You Know, for Search"})
        if parts[0] == "_index_template" and len(parts) == 2:
            return self.get_template(parts[1])
        if parts[-1] == "_search":
            query = urllib.parse.parse_qs(url.query)
            size = int(query.get("size", ["10"])[0])
            return self.search(parts[0] if len(parts) == 2 else "*", size)
        return self.reply(404, error_body(404, "no_handler", f"no handler for {url.path}"))

    def do_PUT(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if not self.authorized():
            return None
        if parts[:1] == ["_index_template"] and len(parts) == 2:
            return self.put_template(parts[1])
        if parts[-1:] == ["_bulk"]:
            return self.bulk(parts[0] if len(parts) == 2 else None)
        self.read_body()
        return self.reply(404, error_body(404, "no_handler", f"no handler for {url.path}"))

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if parts == ["_double", "fault"]:
            return self.set_fault()
        if not self.authorized():
            return None
        if parts[-1:] == ["_bulk"]:
            return self.bulk(parts[0] if len(parts) == 2 else None)
        self.read_body()
        return self.reply(404, error_body(404, "no_handler", f"no handler for {url.path}"))

    # Index templates.

    def put_template(self, name):
        try:
            body = json.loads(self.read_body())
        except ValueError as error:
            return self.reply(400, error_body(400, "parse_exception", str(error)))
        if not isinstance(body.get("index_patterns"), list) or not body["index_patterns"]:
            return self.reply(400, error_body(400, "action_request_validation_exception",
                                              "index patterns are missing"))
        if "mappings" not in body.get("template", {}):
            return self.reply(400, error_body(400, "action_request_validation_exception",
                                              "the template has no mappings"))
        with self.double.state.lock:
            self.double.state.templates[name] = body
            self.double.state.stats["template_puts"] += 1
        return self.reply(200, {"acknowledged": True})

    def get_template(self, name):
        with self.double.state.lock:
            body = self.double.state.templates.get(name)
        if body is None:
            return self.reply(404, error_body(404, "resource_not_found_exception",
                                              f"index template matching [{name}] not found"))
        return self.reply(200, {"index_templates": [{"name": name, "index_template": body}]})

    def template_for(self, index):
        for body in self.double.state.templates.values():
            if any(fnmatch.fnmatchcase(index, p) for p in body["index_patterns"]):
                return body
        return None

    # Search and debug.

    def search(self, pattern, size):
        patterns = pattern.split(",")
        with self.double.state.lock:
            hits = [{"_index": index, "_id": doc_id, "_source": doc["source"]}
                    for (index, doc_id), doc in sorted(self.double.state.docs.items())
                    if any(fnmatch.fnmatchcase(index, p) for p in patterns)]
        return self.reply(200, {"took": 1, "timed_out": False,
                                "hits": {"total": {"value": len(hits), "relation": "eq"},
                                         "hits": hits[:size]}})

    def debug(self, parts):
        with self.double.state.lock:
            if parts == ["_double", "docs"]:
                body = {"docs": [{"_index": index, "_id": doc_id, "_source": doc["source"],
                                  "created": doc["created"]}
                                 for (index, doc_id), doc in sorted(
                                     self.double.state.docs.items())]}
            elif parts == ["_double", "stats"]:
                body = json.loads(json.dumps(self.double.state.stats))
            else:
                body = None
        if body is None:
            return self.reply(404, error_body(404, "no_handler", self.path))
        return self.reply(200, body)

    def set_fault(self):
        try:
            fault = json.loads(self.read_body())
        except ValueError as error:
            return self.reply(400, error_body(400, "parse_exception", str(error)))
        state = self.double.state
        with state.lock:
            faults = state.faults
            if "fail_requests" in fault:
                status, count = fault["fail_requests"]
                faults.request_bursts.append([status, state.stats["bulk_requests"] + 1, count])
            if "fail_items" in fault:
                faults.item_rules.append(list(fault["fail_items"]))
            if "slow" in fault:
                faults.slow_seconds, faults.slow_remaining = fault["slow"]
            if fault.get("clear"):
                state.faults = Faults()
        self.reply(200, {"acknowledged": True})
        if "down_for" in fault:
            self.double.go_down(float(fault["down_for"]))
        return None

    # _bulk.

    def bulk(self, path_index):
        state = self.double.state
        body = self.read_body()
        with state.lock:
            state.stats["bulk_requests"] += 1
            number = state.stats["bulk_requests"]
            faults = state.faults
            burst = next((b for b in faults.request_bursts if b[1] <= number < b[1] + b[2]), None)
            slow = 0.0
            if faults.slow_seconds and (faults.slow_remaining is None
                                        or faults.slow_remaining > 0):
                slow = faults.slow_seconds
                if faults.slow_remaining is not None:
                    faults.slow_remaining -= 1
            crash = (faults.down_after_requests is not None
                     and number == faults.down_after_requests + 1)
            if burst:
                state.stats["failed_requests"] += 1
        if burst:
            status = burst[0]
            error_type = "es_rejected_execution_exception" if status == 429 else "internal_error"
            return self.reply(status, error_body(status, error_type, "injected request failure"))
        try:
            items, errors = self.apply_bulk(body, path_index)
        except ValueError as error:
            return self.reply(400, error_body(400, "illegal_argument_exception", str(error)))
        if crash:
            with state.lock:
                state.stats["dropped_connections"] += 1
                state.faults.down_after_requests = None
            self.close_connection = True
            self.double.go_down(self.double.args.down_for)
            return None
        if slow:
            time.sleep(slow)
        return self.reply(200, {"took": 1, "errors": errors, "items": items})

    def apply_bulk(self, body, path_index):
        lines = body.decode().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        else:
            raise ValueError("The bulk request must be terminated by a newline [\\n]")
        items = []
        errors = False
        position = 0
        while position < len(lines):
            action = json.loads(lines[position])
            if len(action) != 1:
                raise ValueError(f"Malformed action/metadata line [{position + 1}]")
            operation, meta = next(iter(action.items()))
            if operation not in ("create", "index"):
                raise ValueError(f"Unsupported action: [{operation}]")
            if position + 1 >= len(lines):
                raise ValueError("Validation Failed: 1: no requests added;")
            source = json.loads(lines[position + 1])
            position += 2
            index = meta.get("_index", path_index)
            doc_id = meta.get("_id") or uuid.uuid4().hex
            result = self.apply_item(operation, index, doc_id, source)
            if result["status"] >= 300:
                errors = True
            items.append({operation: result})
        return items, errors

    def injected_failure(self, doc_id):
        """Return the status of a fault rule that applies to this attempt of doc_id."""
        state = self.double.state
        point = int.from_bytes(hashlib.sha256(doc_id.encode()).digest()[:8], "big") / 2**64
        start = 0.0
        for number, (status, fraction, attempts) in enumerate(state.faults.item_rules):
            if start <= point < start + fraction:
                key = (number, doc_id)
                seen = state.attempts.get(key, 0)
                state.attempts[key] = seen + 1
                if attempts == 0 or seen < attempts:
                    return status
                return None
            start += fraction
        return None

    def apply_item(self, operation, index, doc_id, source):
        state = self.double.state
        with state.lock:
            state.stats["items"] += 1
            base = {"_index": index, "_id": doc_id}
            status = self.injected_failure(doc_id)
            if status is not None:
                error_type, reason = ITEM_ERRORS.get(status, ("exception", "injected failure"))
                state.stats["item_failures"][str(status)] = (
                    state.stats["item_failures"].get(str(status), 0) + 1)
                if status < 500 and status != 429:
                    state.stats["rejected_ids"][doc_id] = status
                return dict(base, status=status, error={"type": error_type, "reason": reason})
            if self.double.args.strict_mapping:
                template = self.template_for(index)
                problem = ("index_not_found_exception", f"no template matches [{index}]")
                if template is not None:
                    problem = check_mapping(
                        template["template"]["mappings"].get("properties", {}), source)
                if problem:
                    state.stats["rejected_ids"][doc_id] = 400
                    return dict(base, status=400,
                                error={"type": problem[0], "reason": problem[1]})
            key = (index, doc_id)
            if operation == "create" and key in state.docs:
                state.stats["conflicts"] += 1
                return dict(base, status=409, error={
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists "
                              "(current version [1])"})
            if operation == "index" and key in state.docs:
                state.docs[key]["source"] = source
                state.stats["indexed"] += 1
                return dict(base, status=200, result="updated", _version=2)
            state.docs[key] = {"source": source, "created": 1}
            state.stats["created"] += 1
            return dict(base, status=201, result="created", _version=1)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that timed out, or a connection dropped by going down, is expected.
        if isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)


class EsDouble:
    def __init__(self, args):
        self.args = args
        self.state = State(args)
        faults = self.state.faults
        for status, first, count in args.fail_requests:
            faults.request_bursts.append([status, int(first), int(count)])
        for status, fraction, attempts in args.fail_items:
            faults.item_rules.append([status, float(fraction), int(attempts)])
        if args.slow:
            seconds, _, count = args.slow.partition(":")
            faults.slow_seconds = float(seconds)
            faults.slow_remaining = int(count) if count else None
        faults.down_after_requests = args.down_after_requests
        self.handler = type("BoundHandler", (Handler,), {"double": self})
        self.connections = set()
        self.connections_lock = threading.Lock()
        self.server = None
        self.port = args.port
        self.down = False
        self.down_lock = threading.Lock()

    def track(self, connection, opened):
        with self.connections_lock:
            if opened:
                self.connections.add(connection)
            else:
                self.connections.discard(connection)

    def make_server(self):
        return Server((self.args.host, self.port), self.handler, bind_and_activate=False)

    def start(self):
        server = self.make_server()
        server.server_bind()
        self.port = server.server_address[1]
        print(f"listening on http://{self.args.host}:{self.port}", flush=True)
        if self.args.down_at_start:
            # Bound but not listening: the kernel refuses connections to the port.
            time.sleep(self.args.down_at_start)
        server.server_activate()
        self.serve(server)

    def serve(self, server):
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def go_down(self, seconds):
        with self.down_lock:
            if self.down:
                return
            self.down = True
        threading.Thread(target=self._down_and_up, args=(seconds,), daemon=True).start()

    def _down_and_up(self, seconds):
        server = self.server
        server.shutdown()
        server.server_close()
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        time.sleep(seconds)
        server = self.make_server()
        server.server_bind()
        server.server_activate()
        self.serve(server)
        with self.down_lock:
            self.down = False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", help="require Authorization: ApiKey <this value>")
    parser.add_argument("--basic", metavar="USER:PASSWORD",
                        help="require these HTTP basic credentials")
    parser.add_argument("--down-at-start", type=float, default=0, metavar="SECONDS")
    parser.add_argument("--down-after-requests", type=int, metavar="N")
    parser.add_argument("--down-for", type=float, default=3, metavar="SECONDS")
    parser.add_argument("--fail-requests", action="append", default=[],
                        type=lambda t: parse_status_count(t, "1"), metavar="STATUS:N[:FIRST]")
    parser.add_argument("--fail-items", action="append", default=[],
                        type=lambda t: parse_status_count(t, None), metavar="STATUS:F[:A]")
    parser.add_argument("--slow", metavar="SECONDS[:N]")
    parser.add_argument("--strict-mapping", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args()

    # --fail-requests ST:N[:FIRST] arrives as (status, N, FIRST); store (status, FIRST, N).
    args.fail_requests = [(status, first, count) for status, count, first in args.fail_requests]
    # --fail-items ST:F[:A]: A defaults to 1 for retryable statuses, to always for others.
    args.fail_items = [(status, fraction,
                        attempts if attempts is not None else (1 if status == 429 or status >= 500
                                                               else 0))
                       for status, fraction, attempts in args.fail_items]

    double = EsDouble(args)
    double.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
