"""The release_dir test application: serves its version; a release with a BROKEN file beside it fails /health."""
import http.server
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
with open(os.path.join(HERE, 'VERSION')) as version_file:
    VERSION = version_file.read().strip()
HEALTHY = not os.path.exists(os.path.join(HERE, 'BROKEN'))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/health':
            status, body = (200, 'ok') if HEALTHY else (500, 'broken')
        else:
            status, body = 200, 'demo %s' % VERSION
        data = (body + '\n').encode()
        self.send_response(status)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()
