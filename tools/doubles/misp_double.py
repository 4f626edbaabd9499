#!/usr/bin/env python3
"""A stand-in for a MISP instance: feed files and /attributes/restSearch, with faults.

Test double for the sensor's MISP sync. It serves real MISP files (tests/data/misp):

  GET  /feed/manifest.json, /feed/<uuid>.json
       the feed directory, with ETag and Last-Modified; If-None-Match and
       If-Modified-Since get 304 Not Modified.
  POST /attributes/restSearch
       attributes built from the events of events/*.json and feed/<uuid>.json (or the
       files given with --events), filtered as MISP 2.4 filters them: timestamp
       (attribute timestamp at or after the value), page and limit, to_ids, published,
       tags (a match on attribute or event tags; "!tag" excludes), deleted (absent: only
       live attributes; 0, 1, [0, 1] or "only"), includeEventTags (event tags copied
       into each attribute's Tag list, marked "inherited") and includeContext (the
       event's fields, Orgc and tags). The Authorization header must hold the --key
       value, else 403 with MISP's JSON error body.
  POST /sightings/add
       one sighting in MISP's attribute uuid form, {"uuid": U, "type": "0", "source": S,
       "timestamp": T}, with the same key check. A uuid that restSearch does not serve
       gets MISP's "Could not add the Sighting" message; faults apply as above.

It listens on 127.0.0.1 only and prints two lines on stdout once both ports are bound:
the data port, then "control PORT". With --tls-cert and --tls-key the data port speaks
HTTPS; the control port is always plain HTTP. Control requests (JSON bodies) change it at run time:

  POST /fault      {"mode": M, "count": N, "after": A, "path": P, "seconds": S}
                   M is 500, html (a 200 login page), slow (sleep S seconds, then
                   respond), truncated (half of the JSON body), shape (valid JSON of the
                   wrong shape) or none. Only requests whose path starts with P (default
                   every path) are hit: the first A of them pass, then the next N are hit
                   (default: all).
  POST /down       close the data listener (connections are refused); POST /up reopens
                   it on the same port.
  POST /attribute/modify  {"uuid": U, "value": V, "to_ids": B, "comment": C}
  POST /attribute/delete  {"uuid": U}
  POST /attribute/add     {"event_uuid": E, "type": T, "value": V, "to_ids": B}
                   change the restSearch data; each sets the attribute's timestamp to
                   "timestamp" if given, else to the current time, as MISP does.
  POST /event/add  {"Event": {...}}  publish a new event (MISP's event JSON, with its
                   own Tag and Attribute lists) to restSearch; it gets the next event id
                   unless it has one, and attributes without a timestamp get the current
                   time.
  POST /feed/touch {"uuid": U}   set a feed event's timestamp (manifest and event file)
                   to the current time, so its content and ETag change.
  POST /feed/drop  {"uuid": U}   stop serving the event's file (404) while the manifest
                   still lists it.
  GET  /sightings  the sightings that POST /sightings/add stored: uuid, type, source
                   and timestamp of each, in arrival order.
  GET  /requests   every data request so far: method, path, JSON body, conditional
                   headers, and whether an Authorization header came and matched.
  POST /requests/clear
"""

import argparse
import email.utils
import glob
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import uuid as uuid_module

MISP_AUTH_ERROR = ("Authentication failed. Please make sure you pass the API key of an API "
                   "enabled user along in the Authorization header.")
MISP_INTERNAL_ERROR = "An Internal Error Has Occurred."

LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Users - MISP</title></head>"
              b"<body><form action=\"/users/login\" method=\"post\">"
              b"<input name=\"data[User][email]\"></form></body></html>\n")

# Fields of an event that MISP's includeContext copies into each attribute
# (MispAttribute::__fetchEventsForAttributeContext).
CONTEXT_FIELDS = ["id", "orgc_id", "org_id", "date", "threat_level_id", "info", "published",
                  "uuid", "analysis", "timestamp", "distribution", "publish_timestamp",
                  "sharing_group_id", "extends_uuid"]
STUB_FIELDS = ["org_id", "distribution", "id", "info", "orgc_id", "uuid"]
# Attribute keys that are nested data, not columns of MISP's attributes table.
NESTED_KEYS = {"Tag", "Galaxy", "ShadowAttribute", "Sighting", "RelatedAttribute",
               "AttributeTag", "EventTag", "Event", "Object"}


def http_date(seconds):
    return email.utils.formatdate(seconds, usegmt=True)


def parse_http_date(text):
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return None


def as_int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_flag(value):
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def resolve_time(value, now):
    """Convert a restSearch time filter, a Unix time or a relative time such as 30d, to a
    Unix time, as MISP's AppModel::resolveTimeDelta does."""
    text = str(value)
    if text.isdigit():
        return int(text)
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    if text and text[-1].lower() in units and text[:-1].isdigit():
        return int(now - int(text[:-1]) * units[text[-1].lower()])
    return int(now + 1)


class Document:
    """One served file: its bytes, ETag and Last-Modified."""

    def __init__(self, body, modified):
        self.body = body
        self.modified = int(modified)
        self.etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]


class State:
    """Everything the double serves, plus faults and the request log, under one lock."""

    def __init__(self, data_dir, key, event_files):
        self.lock = threading.Lock()
        self.key = key
        self.requests = []
        self.sightings = []
        self.fault = {"mode": "none", "count": None, "after": 0, "path": "", "seconds": 0.0}
        self.feed_dir = os.path.join(data_dir, "feed")
        self.feed = {}  # Path below /feed/ -> Document.
        self.manifest = {}
        self.feed_events = {}
        self.load_feed()
        self.events = {}  # Event uuid -> event dict without attributes.
        self.attributes = []  # Attribute dicts in restSearch form, in id order.
        self.next_event_id = 9001
        self.next_attribute_id = 1
        for path in event_files:
            with open(path, encoding="utf-8") as f:
                self.add_event(json.load(f)["Event"])

    def add_event(self, event):
        if not event.get("id"):
            # Feeds and some exports carry no id; a MISP instance assigns one on import.
            event["id"] = str(self.next_event_id)
            self.next_event_id += 1
        for attribute in self.flatten(event):
            attribute.setdefault("id", str(self.next_attribute_id))
            self.next_attribute_id += 1
            self.attributes.append(attribute)

    def load_feed(self):
        manifest_path = os.path.join(self.feed_dir, "manifest.json")
        with open(manifest_path, "rb") as f:
            body = f.read()
        self.feed["manifest.json"] = Document(body, os.path.getmtime(manifest_path))
        self.manifest = json.loads(body)
        for event_uuid in self.manifest:
            path = os.path.join(self.feed_dir, event_uuid + ".json")
            with open(path, "rb") as f:
                body = f.read()
            self.feed[event_uuid + ".json"] = Document(body, os.path.getmtime(path))
            self.feed_events[event_uuid] = json.loads(body)

    def flatten(self, event):
        """Returns the event's attributes, object attributes included, as restSearch
        entries, and keeps the event's own fields in self.events."""
        info = {k: v for k, v in event.items() if k not in ("Attribute", "Object")}
        info.setdefault("orgc_id", "1")
        info.setdefault("org_id", "1")
        info.setdefault("distribution", "3")
        info.setdefault("sharing_group_id", "0")
        info.setdefault("publish_timestamp", info.get("timestamp", "0"))
        info.setdefault("extends_uuid", "")
        self.events[event["uuid"]] = info
        result = []
        for attribute in event.get("Attribute", []) or []:
            result.append(self.entry(attribute, info, "0", None))
        for number, misp_object in enumerate(event.get("Object", []) or [], start=1):
            object_id = str(misp_object.get("id", number))
            for attribute in misp_object.get("Attribute", []) or []:
                entry = self.entry(attribute, info, object_id, attribute.get("object_relation"))
                if as_flag(misp_object.get("deleted", False)):
                    entry["deleted"] = True
                result.append(entry)
        return result

    @staticmethod
    def entry(attribute, event, object_id, relation):
        entry = {k: v for k, v in attribute.items() if k not in NESTED_KEYS}
        entry["event_id"] = event["id"]
        entry["object_id"] = object_id
        entry["object_relation"] = relation
        entry.setdefault("deleted", False)
        entry.setdefault("distribution", "5")
        entry.setdefault("sharing_group_id", "0")
        entry.setdefault("disable_correlation", False)
        entry["_event_uuid"] = event["uuid"]
        entry["_tags"] = [dict(tag) for tag in attribute.get("Tag", []) or []]
        return entry

    def find(self, attribute_uuid):
        for attribute in self.attributes:
            if attribute["uuid"] == attribute_uuid:
                return attribute
        return None

    def take_fault(self, path):
        """Returns the fault for a data request on `path`, counting it down."""
        with self.lock:
            fault = self.fault
            if fault["mode"] == "none" or not path.startswith(fault["path"]):
                return None
            if fault["after"] > 0:
                fault["after"] -= 1
                return None
            if fault["count"] is not None:
                if fault["count"] <= 0:
                    return None
                fault["count"] -= 1
            return dict(fault)

    def search(self, query, now):
        event_tags = {u: [t.get("name") for t in e.get("Tag", []) or []]
                      for u, e in self.events.items()}
        selected = []
        for attribute in self.attributes:
            event = self.events[attribute["_event_uuid"]]
            if "timestamp" in query and query["timestamp"] not in (None, 0, "0", ""):
                if as_int(attribute.get("timestamp")) < resolve_time(query["timestamp"], now):
                    continue
            if "last" in query and query["last"]:
                if as_int(event.get("publish_timestamp")) < resolve_time(query["last"], now):
                    continue
            if "to_ids" in query and query["to_ids"] not in (None, ""):
                if as_flag(attribute.get("to_ids")) != as_flag(query["to_ids"]):
                    continue
            if "published" in query and query["published"] not in (None, ""):
                if as_flag(event.get("published")) != as_flag(query["published"]):
                    continue
            if not self.deleted_matches(query, as_flag(attribute.get("deleted"))):
                continue
            tags = [t.get("name") for t in attribute["_tags"]] + event_tags[event["uuid"]]
            if not self.tags_match(query.get("tags"), tags):
                continue
            selected.append(attribute)
        if "limit" in query and as_int(query["limit"]) > 0:
            limit = as_int(query["limit"])
            page = max(as_int(query.get("page"), 1), 1)
            selected = selected[(page - 1) * limit:page * limit]
        return [self.render(a, query) for a in selected]

    @staticmethod
    def deleted_matches(query, deleted):
        if "deleted" not in query or query["deleted"] in (None, ""):
            return not deleted
        requested = query["deleted"]
        if requested == "only":
            return deleted
        values = requested if isinstance(requested, list) else [requested]
        return any(as_flag(v) == deleted for v in values)

    @staticmethod
    def tags_match(tag_filter, tags):
        if not tag_filter:
            return True
        tag_filter = tag_filter if isinstance(tag_filter, list) else [tag_filter]
        positives = [t for t in tag_filter if not t.startswith("!")]
        negatives = [t[1:] for t in tag_filter if t.startswith("!")]
        if any(t in tags for t in negatives):
            return False
        return not positives or any(t in tags for t in positives)

    def render(self, attribute, query):
        event = self.events[attribute["_event_uuid"]]
        entry = {k: v for k, v in attribute.items() if not k.startswith("_")}
        if as_flag(query.get("includeContext")):
            context = {k: event.get(k) for k in CONTEXT_FIELDS}
            context["Tag"] = [dict(t, local=t.get("local", False)) for t in event.get("Tag", [])]
            context["Orgc"] = event.get("Orgc", {})
            entry["Event"] = context
        else:
            entry["Event"] = {k: event.get(k) for k in STUB_FIELDS}
        tags = [dict(t) for t in attribute["_tags"]]
        if as_flag(query.get("includeEventTags")):
            tags += [dict(t, inherited=1) for t in event.get("Tag", []) or []]
        if tags:
            entry["Tag"] = tags
        return entry


def make_handler(state, double):
    class DataHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body, content_type="application/json", headers=None,
                 length=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def send_json(self, status, value, headers=None):
            self.send(status, json.dumps(value).encode(), headers=headers)

        def read_body(self):
            length = as_int(self.headers.get("Content-Length"), 0)
            return self.rfile.read(length) if length > 0 else b""

        def record(self, body):
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            authorization = self.headers.get("Authorization")
            with state.lock:
                state.requests.append({
                    "method": self.command,
                    "path": self.path,
                    "body": parsed,
                    "if_none_match": self.headers.get("If-None-Match"),
                    "if_modified_since": self.headers.get("If-Modified-Since"),
                    "authorization_present": authorization is not None,
                    "authorization_ok": authorization == state.key,
                    "accept": self.headers.get("Accept"),
                })

        def apply_fault(self, fault, status, body):
            """Respond with the fault instead of `body`. Return True if it responded."""
            mode = fault["mode"]
            if mode == "500":
                self.send_json(500, {"name": MISP_INTERNAL_ERROR, "message": MISP_INTERNAL_ERROR,
                                     "url": self.path})
            elif mode == "html":
                self.send(200, LOGIN_PAGE, content_type="text/html; charset=UTF-8")
            elif mode == "truncated":
                self.send(status, body[:len(body) // 2])
            elif mode == "shape":
                self.send_json(200, {"response": []} if self.command == "POST" else [1, 2])
            elif mode == "slow":
                time.sleep(fault["seconds"])
                return False
            else:
                return False
            return True

        def do_GET(self):
            self.record(b"")
            path = self.path.split("?", 1)[0]
            document = None
            if path.startswith("/feed/"):
                with state.lock:
                    document = state.feed.get(path[len("/feed/"):])
            if document is None:
                self.send_json(404, {"name": "Not Found", "message": "Not Found",
                                     "url": self.path})
                return

            fault = state.take_fault(path)
            if fault and self.apply_fault(fault, 200, document.body):
                return

            validators = {"ETag": document.etag, "Last-Modified": http_date(document.modified)}
            if self.not_modified(document):
                self.send_response(304)
                for name, value in validators.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send(200, document.body, headers=validators)

        def not_modified(self, document):
            """Return True if the conditional headers match `document`. If-None-Match,
            when present, decides alone."""
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match is not None:
                return document.etag in [t.strip() for t in if_none_match.split(",")]
            if_modified_since = self.headers.get("If-Modified-Since")
            if if_modified_since is not None:
                since = parse_http_date(if_modified_since)
                return since is not None and document.modified <= since
            return False

        def do_POST(self):
            body = self.read_body()
            self.record(body)
            path = self.path.split("?", 1)[0]
            if path == "/sightings/add":
                self.add_sighting(path, body)
                return
            if path != "/attributes/restSearch":
                self.send_json(404, {"name": "Not Found", "message": "Not Found",
                                     "url": self.path})
                return
            if self.headers.get("Authorization") != state.key:
                self.send_json(403, {"name": MISP_AUTH_ERROR, "message": MISP_AUTH_ERROR,
                                     "url": self.path})
                return
            try:
                query = json.loads(body) if body else {}
            except ValueError:
                self.send_json(400, {"name": "Invalid JSON input.", "message":
                                     "Invalid JSON input.", "url": self.path})
                return
            with state.lock:
                result = state.search(query, time.time())
            payload = json.dumps({"response": {"Attribute": result}}).encode()
            fault = state.take_fault(path)
            if fault and self.apply_fault(fault, 200, payload):
                return
            self.send(200, payload)

        def add_sighting(self, path, body):
            """Store one sighting as MISP's SightingsController::add does for the uuid form."""
            if self.headers.get("Authorization") != state.key:
                self.send_json(403, {"name": MISP_AUTH_ERROR, "message": MISP_AUTH_ERROR,
                                     "url": self.path})
                return
            fault = state.take_fault(path)
            if fault and self.apply_fault(fault, 200, b"{}"):
                return
            try:
                request = json.loads(body) if body else {}
            except ValueError:
                request = None
            if not isinstance(request, dict):
                self.send_json(400, {"name": "Invalid JSON input.", "message":
                                     "Invalid JSON input.", "url": self.path})
                return
            with state.lock:
                attribute = state.find(request.get("uuid"))
                if attribute is not None:
                    sighting = {"uuid": request.get("uuid"),
                                "type": str(request.get("type", "0")),
                                "source": request.get("source", ""),
                                "timestamp": as_int(request.get("timestamp"), int(time.time()))}
                    state.sightings.append(sighting)
            if attribute is None:
                self.send_json(200, {"message": "Could not add the Sighting. Reason: No valid "
                                                "attributes found."})
                return
            self.send_json(200, {"Sighting": {
                "attribute_id": attribute["id"], "event_id": attribute["event_id"],
                "date_sighting": str(sighting["timestamp"]), "type": sighting["type"],
                "source": sighting["source"], "uuid": str(uuid_module.uuid4())}})

    class ControlHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, value):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/requests":
                with state.lock:
                    self.reply(200, list(state.requests))
            elif self.path == "/sightings":
                with state.lock:
                    self.reply(200, list(state.sightings))
            else:
                self.reply(404, {"error": "unknown control path " + self.path})

        def do_POST(self):
            length = as_int(self.headers.get("Content-Length"), 0)
            try:
                request = json.loads(self.rfile.read(length)) if length > 0 else {}
            except ValueError:
                self.reply(400, {"error": "invalid JSON"})
                return
            now = int(time.time())
            with state.lock:
                error = self.control(request, now)
            if error:
                self.reply(400, {"error": error})
                return
            # Close or open the data listener before replying, so that a client which has
            # read the reply never reaches the old state.
            if self.path == "/down":
                double.stop_data()
            elif self.path == "/up":
                double.start_data()
            self.reply(200, {"ok": True})

        def control(self, request, now):
            stamp = str(request.get("timestamp", now))
            if self.path == "/fault":
                state.fault = {"mode": str(request.get("mode", "none")),
                               "count": request.get("count"),
                               "after": int(request.get("after", 0)),
                               "path": request.get("path", ""),
                               "seconds": float(request.get("seconds", 0))}
            elif self.path in ("/down", "/up"):
                pass
            elif self.path == "/requests/clear":
                state.requests.clear()
            elif self.path in ("/attribute/modify", "/attribute/delete"):
                attribute = state.find(request.get("uuid"))
                if attribute is None:
                    return "no attribute " + str(request.get("uuid"))
                if self.path == "/attribute/delete":
                    attribute["deleted"] = True
                for key in ("value", "to_ids", "comment"):
                    if key in request:
                        attribute[key] = request[key]
                attribute["timestamp"] = stamp
            elif self.path == "/attribute/add":
                event_uuid = request.get("event_uuid")
                if event_uuid not in state.events:
                    return "no event " + str(event_uuid)
                new = {"uuid": request.get("uuid", str(uuid_module.uuid4())),
                       "type": request["type"], "category": "Network activity",
                       "value": request["value"], "to_ids": request.get("to_ids", True),
                       "comment": "", "timestamp": stamp}
                attribute = State.entry(new, state.events[event_uuid], "0", None)
                attribute["id"] = str(state.next_attribute_id)
                state.next_attribute_id += 1
                state.attributes.append(attribute)
            elif self.path == "/event/add":
                event = request.get("Event")
                if not isinstance(event, dict) or not event.get("uuid"):
                    return "the body needs an Event object with a uuid"
                if event["uuid"] in state.events:
                    return "event " + event["uuid"] + " exists"
                event.setdefault("timestamp", stamp)
                event.setdefault("publish_timestamp", stamp)
                for attribute in event.get("Attribute", []) or []:
                    attribute.setdefault("timestamp", stamp)
                state.add_event(event)
            elif self.path == "/feed/touch":
                event_uuid = request.get("uuid")
                if event_uuid not in state.manifest:
                    return "no feed event " + str(event_uuid)
                state.manifest[event_uuid]["timestamp"] = int(stamp)
                event = state.feed_events[event_uuid]
                event["Event"]["timestamp"] = stamp
                state.feed["manifest.json"] = Document(
                    json.dumps(state.manifest, indent=2).encode(), now)
                state.feed[event_uuid + ".json"] = Document(json.dumps(event).encode(), now)
            elif self.path == "/feed/drop":
                if state.feed.pop(str(request.get("uuid")) + ".json", None) is None:
                    return "no feed event file for " + str(request.get("uuid"))
            else:
                return "unknown control path " + self.path
            return None

    return DataHandler, ControlHandler


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that timed out during a "slow" fault has closed its socket by the
        # time the response is written, which is the expected outcome, not an error.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class Double:
    def __init__(self, state, port, tls_context=None):
        self.state = state
        self.port = port
        self.tls_context = tls_context
        self.data_handler, self.control_handler = make_handler(state, self)
        self.data_server = None
        self.data_thread = None
        self.data_lock = threading.Lock()

    def start_data(self):
        with self.data_lock:
            if self.data_server is not None:
                return
            self.data_server = ThreadingServer(("127.0.0.1", self.port), self.data_handler)
            if self.tls_context is not None:
                self.data_server.socket = self.tls_context.wrap_socket(
                    self.data_server.socket, server_side=True)
            self.port = self.data_server.server_address[1]
            self.data_thread = threading.Thread(target=self.data_server.serve_forever,
                                                daemon=True)
            self.data_thread.start()

    def stop_data(self):
        with self.data_lock:
            if self.data_server is None:
                return
            self.data_server.shutdown()
            self.data_server.server_close()
            self.data_server = None


def main():
    script_dir = os.path.dirname(os.path.abspath(__file__))
    default_data = os.path.join(script_dir, "..", "..", "tests", "data", "misp")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=default_data,
                        help="MISP test data folder with feed/ and events/")
    parser.add_argument("--key", required=True, help="API key that restSearch accepts")
    parser.add_argument("--events", nargs="*",
                        help="event files for restSearch (default: events/*.json and the "
                             "feed's event files)")
    parser.add_argument("--port", type=int, default=0, help="data port (default: any free)")
    parser.add_argument("--fault", default="none",
                        help="fault from the start: 500, html, slow, truncated, shape or down")
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--tls-cert", help="PEM certificate chain for HTTPS on the data port")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    arguments = parser.parse_args()

    event_files = arguments.events
    if not event_files:
        event_files = sorted(glob.glob(os.path.join(arguments.data, "events", "*.json")))
        manifest_path = os.path.join(arguments.data, "feed", "manifest.json")
        with open(manifest_path, encoding="utf-8") as f:
            event_files += [os.path.join(arguments.data, "feed", u + ".json")
                            for u in json.load(f)]
    state = State(arguments.data, arguments.key, event_files)
    if arguments.fault not in ("none", "down"):
        state.fault = {"mode": arguments.fault, "count": None, "after": 0, "path": "",
                       "seconds": arguments.slow_seconds}

    tls_context = None
    if arguments.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(arguments.tls_cert, arguments.tls_key)
    double = Double(state, arguments.port, tls_context)
    double.start_data()
    if arguments.fault == "down":
        double.stop_data()
    control = ThreadingServer(("127.0.0.1", 0), double.control_handler)
    print(double.port, flush=True)
    print("control", control.server_address[1], flush=True)
    try:
        control.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
