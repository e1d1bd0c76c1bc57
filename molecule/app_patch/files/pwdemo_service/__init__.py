"""The virtualenv test service: serves the version of the installed distribution."""
import http.server
import sys
from importlib.metadata import version


def main():
    body = ('pwdemo-service %s\n' % version('pwdemo-service')).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
