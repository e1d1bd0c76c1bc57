"""A change API on loopback that fails the way real ones do, for the cycle scenario's bad-input runs.

GET /broken/api/now/table/change_request?... answers HTTP 500; GET /garbage/... answers 200 with a body that
is not JSON. Usage: change_api.py PORT
"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path.startswith('/broken/'):
            self.send_response(500)
            body = b'{"error": {"message": "internal error"}}'
        else:
            self.send_response(200)
            body = b'<html>maintenance page</html>'
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
