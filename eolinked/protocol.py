"""A read-only SPARQL 1.1 Protocol endpoint (query operation) over HTTP.

``serve(execute)`` answers ``GET ?query=``, ``POST`` form-encoded ``query=`` and ``POST``
``application/sparql-query`` bodies, with ``default-graph-uri`` / ``named-graph-uri``, content
negotiation (Accept, or a ``format=`` / ``output=`` parameter such as ``json``, ``csv`` or
``text/turtle``) and optional CORS.  ``execute(query, default_graph_uris, named_graph_uris,
deadline)`` runs the query; ``deadline`` is a :func:`time.monotonic` instant (``math.inf``
without a timeout) and the execute function should stop by then.

Status codes: 400 for a missing / repeated query, a syntax error (the body gives line and
column), a query that cannot be evaluated and any update request (the endpoint is read-only);
405 for other methods; 415 for other POST bodies; 503 when the query runs past the timeout (as
Fuseki does): the server stops waiting at the deadline and abandons the worker thread.
"""
from __future__ import annotations

import math
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

from . import results
from .errors import EolinkedError, QueryError, QuerySyntaxError, QueryTimeout
from .results import Result

Execute = Callable[[str, list, list, float], Result]
MAX_BODY = 64 << 20  # bytes of POST body accepted
ALLOW = "GET, POST, OPTIONS"


class HTTPError(Exception):
    """An error answer: HTTP ``status`` with a plain-text ``message``."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class Server:
    """A running endpoint: ``url`` of the SPARQL service, :meth:`close` to stop it,
    :meth:`wait` to block (e.g. in the CLI) until interrupted."""

    def __init__(self, httpd: ThreadingHTTPServer, path: str):
        self.httpd = httpd
        host, port = httpd.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        self.url = f"http://{host}:{port}{path}"
        self._thread = threading.Thread(target=httpd.serve_forever, name="eolinked-sparql-server",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting requests and release the port (running queries are abandoned)."""
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C closes it."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(execute: Execute, host: str = "127.0.0.1", port: int = 0, timeout: float | None = 60.0,
          cors: bool = False, path: str = "/sparql", quiet: bool = False, log=None) -> Server:
    """Start an endpoint at ``http://host:port/path`` in a background thread (``port=0``: a free
    port; see ``Server.url``).  ``timeout`` in seconds (None: no limit); ``cors`` adds
    ``Access-Control-Allow-Origin: *`` and answers preflight requests; one line per request is
    logged to ``log`` (stderr) unless ``quiet``."""
    if not path.startswith("/"):
        raise EolinkedError(f"endpoint path {path!r} must start with '/'", hint="for example /sparql")
    handler = type("SparqlHandler", (_Handler,), {
        "execute": staticmethod(execute), "timeout_s": timeout, "cors": cors, "path_": path,
        "quiet": quiet, "log": log})
    server_cls = _V6Server if ":" in host else ThreadingHTTPServer
    try:
        httpd = server_cls((host, port), handler)
    except OSError as exc:
        raise EolinkedError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                            hint="choose another --port or --host") from exc
    httpd.daemon_threads = True
    return Server(httpd, path)


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "eolinked-sparql/1.0"
    execute: Execute
    timeout_s: float | None
    cors: bool
    path_: str
    quiet: bool
    log = None

    # --- HTTP methods -----------------------------------------------------------------------
    def do_GET(self):
        self._run(lambda url: self._query(self._url_params(url), url))

    def do_POST(self):
        self._run(lambda url: self._query(self._post_params(url), url))

    def do_OPTIONS(self):
        self._run(self._options)

    def _not_allowed(self):
        self._run(lambda url: _raise(HTTPError(
            405, f"method {self.command} is not allowed: this read-only SPARQL endpoint answers "
                 f"GET and POST queries", {"Allow": ALLOW})))

    do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    # --- request handling -------------------------------------------------------------------
    def _run(self, handle):
        started = time.monotonic()
        status, size = 500, 0
        try:
            url = urlsplit(self.path)
            if url.path != self.path_:
                raise HTTPError(404, f"no SPARQL endpoint at {url.path}; send queries to {self.path_}")
            status, headers, body = handle(url)
        except HTTPError as exc:
            status, headers, body = exc.status, exc.headers, (exc.message + "\n").encode()
            headers = {"Content-Type": "text/plain; charset=utf-8", **headers}
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 -- an execute bug must not kill the server thread
            if not self.quiet:
                traceback.print_exc(file=self.log or sys.stderr)
            status, body = 500, f"internal error: {type(exc).__name__}: {exc}\n".encode()
            headers = {"Content-Type": "text/plain; charset=utf-8"}
            self.close_connection = True
        size = len(body)
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if self.cors:
                self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            status = 499  # the client went away
        self._log_line(status, size, time.monotonic() - started)

    def _options(self, url):
        headers = {"Allow": ALLOW}
        if self.cors:
            headers.update({
                "Access-Control-Allow-Methods": ALLOW,
                "Access-Control-Allow-Headers": self.headers.get("Access-Control-Request-Headers")
                or "Accept, Content-Type",
                "Access-Control-Max-Age": "86400"})
        return 204, headers, b""

    def _url_params(self, url) -> dict:
        return parse_qs(url.query, keep_blank_values=True)

    def _post_params(self, url) -> dict:
        params = self._url_params(url)
        ctype, _, rest = (self.headers.get("Content-Type") or "").partition(";")
        ctype = ctype.strip().lower()
        charset = "utf-8"
        for param in rest.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        body = self._body()
        try:
            text = body.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"cannot decode the request body as {charset}: {exc}")
        if ctype == "application/x-www-form-urlencoded":
            for key, values in parse_qs(text, keep_blank_values=True).items():
                params.setdefault(key, []).extend(values)
        elif ctype == "application/sparql-query":
            params.setdefault("query", []).append(text)
        elif ctype == "application/sparql-update":
            raise HTTPError(400, "this endpoint is read-only: SPARQL Update requests "
                                 "(application/sparql-update) are not accepted")
        else:
            raise HTTPError(415, f"unsupported POST content type {ctype or '(none)'!r}: send "
                                 "application/x-www-form-urlencoded (query=...) or "
                                 "application/sparql-query (the query as the body)")
        return params

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                raise HTTPError(411, "chunked request bodies are not supported; send Content-Length")
            return b""
        try:
            n = int(length)
        except ValueError:
            raise HTTPError(400, f"invalid Content-Length {length!r}")
        if n > MAX_BODY:
            raise HTTPError(413, f"request body of {n} bytes exceeds the limit of {MAX_BODY} bytes")
        return self.rfile.read(n)

    def _query(self, params: dict, url):
        if "update" in params:
            raise HTTPError(400, "this endpoint is read-only: SPARQL Update (the update= parameter) "
                                 "is not accepted")
        queries = params.get("query", [])
        if len(queries) > 1:
            raise HTTPError(400, f"the request holds {len(queries)} queries; send exactly one "
                                 "(query= parameter or application/sparql-query body)")
        if not queries or not queries[0].strip():
            raise HTTPError(400, f"missing query: send GET {self.path_}?query=... or POST the query "
                                 "(form field query= or an application/sparql-query body)")
        result = self._execute(queries[0], params.get("default-graph-uri", []),
                               params.get("named-graph-uri", []))
        fmt = None
        for name in params.get("format", []) + params.get("output", []):
            fmt = fmt or results.resolve(name, result.kind)
        media = results.FORMATS[fmt].media_type if fmt else None
        if fmt is None:
            fmt, media = results.negotiate(self.headers.get("Accept"), result.kind)
        try:
            body = results.write(result, fmt)
        except EolinkedError as exc:
            raise HTTPError(500, f"cannot write the result as {fmt}: {exc}")
        return 200, {"Content-Type": f"{media}; charset=utf-8", "Vary": "Accept"}, body

    def _execute(self, query: str, default_graphs: list, named_graphs: list) -> Result:
        timeout = self.timeout_s
        deadline = time.monotonic() + timeout if timeout else math.inf
        box: dict = {}

        def work():
            try:
                box["result"] = self.execute(query, default_graphs, named_graphs, deadline)
            except BaseException as exc:  # noqa: BLE001 -- handed to the request thread
                box["error"] = exc

        worker = threading.Thread(target=work, name="eolinked-query", daemon=True)
        worker.start()
        worker.join(None if deadline == math.inf else max(deadline - time.monotonic(), 0.0))
        if worker.is_alive() or isinstance(box.get("error"), QueryTimeout):
            limit = f"the timeout of {timeout:g} s" if timeout else "its time limit"
            raise HTTPError(503, f"query exceeded {limit}; raise --timeout or narrow the query")
        if "error" in box:
            raise _http_error(box["error"])
        result = box["result"]
        if not isinstance(result, Result):
            raise HTTPError(500, f"internal error: execute returned {type(result).__name__}, not a Result")
        return result

    # --- logging ----------------------------------------------------------------------------
    def _log_line(self, status: int, size: int, seconds: float) -> None:
        if self.quiet:
            return
        target = self.path if len(self.path) <= 200 else self.path[:197] + "..."
        print(f'{self.client_address[0]} - [{time.strftime("%Y-%m-%d %H:%M:%S")}] '
              f'"{self.command} {target}" {status} {size} {seconds:.3f}s',
              file=self.log or sys.stderr, flush=True)

    def log_request(self, code="-", size="-"):  # replaced by _log_line
        pass

    def log_error(self, format, *args):  # malformed requests the base class rejects
        if not self.quiet:
            print(f"{self.client_address[0]} - {format % args}", file=self.log or sys.stderr, flush=True)


def _http_error(exc: BaseException) -> HTTPError:
    if isinstance(exc, QuerySyntaxError):
        text = str(exc)
        if exc.line is not None and f"line {exc.line}" not in text:
            where = f"line {exc.line}" + (f", column {exc.column}" if exc.column is not None else "")
            text = f"{where}: {text}"
        return HTTPError(400, f"SPARQL syntax error: {text}")
    if isinstance(exc, (QueryError, EolinkedError)):
        return HTTPError(400, f"query error: {exc}")
    raise exc


def _raise(exc: Exception):
    raise exc
