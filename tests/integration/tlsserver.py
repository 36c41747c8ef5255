"""A loopback HTTPS receiver for egress tests: a CA and a certificate for
hooks.slack.com, other.example.com and localhost made with openssl in a
directory of the test's, and a threaded server that records every request
(method, path, query, Authorization, body) and answers by path: /ok (200
"hello", X-Test: yes), /slow?ms=N, /big (100000 bytes), /loop (302 to
itself), /redirect?to=URL[&code=N] (SENTINEL in URL is replaced by
Receiver.sentinel_port)."""
import http.server
import os
import ssl
import subprocess
import threading
import time
import urllib.parse


def make_ca(work, names=("hooks.slack.com", "other.example.com", "localhost")):
    """ca.pem, srv.pem and srv.key (for names) in work; returns the CA's path."""
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=work,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=StreamSpace test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=hooks.slack.com")
    with open(os.path.join(work, "ext.cnf"), "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    os.chmod(os.path.join(work, "ca.pem"), 0o644)
    return os.path.join(work, "ca.pem")


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A handler base for the loopback TLS servers of the tests: HTTP/1.1, no
    request log, and a client that gives up mid-answer (a timeout, a limit)
    is not an error."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError):
            pass


def serve_tls(work, handler):
    """A threaded server on a free loopback port with make_ca's srv.pem/srv.key
    in work, serving handler in a daemon thread; returns the port."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(work, "srv.pem"), os.path.join(work, "srv.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


class Receiver:
    """Two servers on loopback with the certificate of make_ca: main and sentinel."""

    def __init__(self, work):
        self.work = work
        self.hits = {"main": [], "sentinel": []}
        self.lock = threading.Lock()
        self.main_port = self._serve("main")
        self.sentinel_port = self._serve("sentinel")

    def count(self, who):
        with self.lock:
            return len(self.hits[who])

    def last(self, who="main"):
        with self.lock:
            return self.hits[who][-1]

    def _serve(self, who):
        rcv = self

        class Handler(QuietHandler):
            def answer(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query)
                with rcv.lock:
                    rcv.hits[who].append({"method": self.command, "path": u.path,
                                          "query": u.query,
                                          "auth": self.headers.get("Authorization"),
                                          "body": body.decode()})
                if u.path == "/ok":
                    self.answer(200, b"hello", [("X-Test", "yes")])
                elif u.path == "/slow":
                    time.sleep(int(q["ms"][0]) / 1000.0)
                    self.answer(200, b"slow")
                elif u.path == "/big":
                    self.answer(200, b"x" * 100000)
                elif u.path == "/loop":
                    self.answer(302, b"", [("Location", "/loop")])
                elif u.path == "/redirect":
                    to = q["to"][0].replace("SENTINEL", str(rcv.sentinel_port))
                    self.answer(int(q.get("code", ["302"])[0]), b"", [("Location", to)])
                else:
                    self.answer(404, b"no")

            do_GET = do_POST = do_HEAD = do_PUT = handle_any

        return serve_tls(self.work, Handler)

    def connect_to_args(self):
        """--egress-connect-to for hooks.slack.com and other.example.com (port 443)."""
        return ["--egress-connect-to", "hooks.slack.com:443:127.0.0.1:%d" % self.main_port,
                "--egress-connect-to", "other.example.com:443:127.0.0.1:%d" % self.main_port]
