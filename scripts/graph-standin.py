#!/usr/bin/env python3
"""A tiny Graph API and relay /healthz stand-in on 127.0.0.1 for the Setup
screen's screenshots (scripts/setup-screenshots.sh). The tests use the Rust
stand-in in tests/common/graph.rs; this one only answers the doctor's calls,
in the same shapes, with Meta's reference pages cited there.

    graph-standin.py PORT            # a bare page: nothing subscribed, no Get Started
POSTs to subscribed_apps and messenger_profile set what they send, so the
dashboard's fixes turn the page green.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

PAGE = "104729178032417"
STATE = {"fields": [], "get_started": None}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/healthz":
            now = int(time.time() * 1000)
            return self.answer({"status": "ok", "events": 1, "last_event_at_ms": now - 60000,
                                "last_event_age_secs": 60, "bad_signatures_last_hour": 0,
                                "meta_verified_at_ms": now - 3600000, "bad_verify_token_at_ms": None,
                                "bad_verify_tokens_last_hour": 0})
        parts = path.strip("/").split("/")[1:]
        if parts == ["me"]:
            return self.answer({"id": PAGE, "name": "Jasper's Market"})
        if parts == ["me", "messenger_profile"]:
            entry = {"get_started": {"payload": STATE["get_started"]}} if STATE["get_started"] else None
            return self.answer({"data": [entry] if entry and "platform=instagram" not in query else []})
        if parts == [PAGE]:
            return self.answer({"id": PAGE, "name": "Jasper's Market", "username": "JaspersMarket",
                                "link": "https://www.facebook.com/JaspersMarket"})
        if parts == [PAGE, "subscribed_apps"]:
            apps = [{"category": "Business", "link": "https://relay.example.com/", "name": "refboard relay",
                     "id": "738495012345678", "subscribed_fields": STATE["fields"]}] if STATE["fields"] else []
            return self.answer({"data": apps, "paging": {"cursors": {"before": "QVFIUmx1", "after": "QVFIUmx1"}}})
        return self.answer({"error": {"message": "Unsupported get request.", "type": "GraphMethodException",
                                      "code": 100, "error_subcode": 33, "fbtrace_id": "EJplcsCHuLu"}}, 400)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        parts = self.path.partition("?")[0].strip("/").split("/")[1:]
        if parts == [PAGE, "subscribed_apps"]:
            STATE["fields"] = body.get("subscribed_fields", "").split(",")
            return self.answer({"success": True})
        if parts == ["me", "messenger_profile"]:
            STATE["get_started"] = body.get("get_started", {}).get("payload")
            return self.answer({"result": "success"})
        return self.answer({"error": {"message": "Unknown path", "type": "OAuthException", "code": 100}}, 400)


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
