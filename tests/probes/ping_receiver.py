"""Run on a sandbox: a ping receiver in healthchecks.io's shape on 127.0.0.1:PORT; every request's method,
path and body, one JSON line each, into FILE. Stops by itself after an hour."""
import http.server
import json
import sys
import threading

port, log = int(sys.argv[1]), sys.argv[2]


class Receiver(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        with open(log, "a") as out:
            out.write(json.dumps({"method": self.command, "path": self.path, "body": body}) + "\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    do_GET = do_POST = do_HEAD = answer

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Receiver)
threading.Timer(3600, server.shutdown).start()
server.serve_forever()
