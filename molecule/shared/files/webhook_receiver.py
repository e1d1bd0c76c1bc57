"""A webhook receiver for the scenario: appends each POSTed JSON body as one line to a file."""
import http.server
import sys

PORT, OUTPUT = int(sys.argv[1]), sys.argv[2]


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(OUTPUT, 'ab') as handle:
            handle.write(body.replace(b'\n', b' ') + b'\n')
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(('127.0.0.1', PORT), Receiver).serve_forever()
