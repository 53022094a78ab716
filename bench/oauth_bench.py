"""OAuth benchmark (not a test): token issuance, introspection and a trivial endpoint under
gunicorn on loopback, plus local JWT verification. See bench/README.md, section "OAuth".

    .venv/bin/python bench/oauth_bench.py [--duration 10] [--concurrency 16] [--workers 2]

gunicorn runs with the production settings (datapass.ops.gunicorn_conf), the rate-limit counters
in a throwaway redis-server as in production, and the load comes from wrk (Debian's package, one
thread) or, without it, from a small asyncio client in this process.
Set DATAPASS_DATABASE_URL to bench PostgreSQL instead of the embedded SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wsgi_app():
    """The gunicorn entry point: datapass as configured by DATAPASS_*, plus a trivial endpoint."""
    from datapass import create_app

    app = create_app()
    app.add_url_rule("/bench/ping", "bench_ping", lambda: "ok")
    return app


# Setup: a database with one approved authorization, its secret, and a producer credential.


def prepare(env: dict) -> dict:
    os.environ.update(env)
    from datapass import create_app
    from datapass.accounts.models import Membership, Organization, Role, User
    from datapass.catalog import get_definition
    from datapass.cli import upgrade_database
    from datapass.demo import complete_request_data
    from datapass.extensions import db
    from datapass.lifecycle import services
    from datapass.oauth import services as oauth

    app = create_app()
    with app.app_context():
        upgrade_database()
        org = Organization(siret="21920023500014", name="Commune de Clamart")
        applicant = User(
            email="a@bench.gouv.fr",
            given_name="Agent",
            family_name="Bench",
            job_title="Chargé de mission",
            phone_number="01 23 45 67 89",
        )
        instructor = User(email="i@bench.gouv.fr", given_name="I", family_name="Bench")
        developer = User(email="d@bench.gouv.fr", given_name="D", family_name="Bench")
        applicant.memberships = [Membership(organization=org)]
        instructor.roles = [Role(role="instructor", definition_id="api_particulier")]
        developer.roles = [Role(role="developer", definition_id="api_particulier")]
        db.session.add_all([org, applicant, instructor, developer])
        db.session.flush()
        definition = get_definition("api_particulier")
        request_obj = services.start_request(applicant, definition, org)
        services.save_step(request_obj, applicant, complete_request_data(definition, applicant))
        services.submit_request(request_obj, applicant, terms_accepted=True, dpo_informed=True)
        authorization = services.approve_request(request_obj, instructor, "Validée.")
        credential = oauth.credential_for(authorization)
        secret = oauth.renew_secret(credential, applicant)
        producer, producer_secret = oauth.issue_producer_credential("api_particulier", developer)
        db.session.commit()
        result = {
            "client_id": credential.client_id,
            "client_secret": secret,
            "producer_id": producer.client_id,
            "producer_secret": producer_secret,
        }
        db.engine.dispose()
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_gunicorn(env: dict, port: int, args, log: Path) -> subprocess.Popen:
    """gunicorn in the background; its log (one JSON line a request) goes to `log`."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:datapass.ops.gunicorn_conf",  # the production settings, then these overrides
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        "bench.oauth_bench:wsgi_app()",
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=log_file, stderr=log_file
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /bench/ping HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if b"200 OK" in sock.recv(1024):
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


# Load generators. A request is (method, path, form body, Basic credentials); each measure turns
# it into what its generator sends.


def http_request(method: str, path: str, body: str = "", auth: tuple[str, str] | None = None):
    return (method, path, body, auth)


def _headers(request) -> dict:
    method, _, body, auth = request
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII text is a valid Lua string literal


def wrk_script(requests) -> str:
    """A wrk script sending `requests` in turn on each connection."""
    lines = ["local requests = {}", "init = function(args)"]
    for request in requests:
        method, path, body, _ = request
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in _headers(request).items()
        )
        lines.append(
            f"  requests[#requests + 1] = wrk.format({_lua_string(method)}, {_lua_string(path)}, "
            f"{{{headers}}}, {_lua_string(body) if body else 'nil'})"
        )
    lines += [
        "end",
        "local index = 0",
        "request = function()",
        "  index = index + 1",
        "  return requests[index % #requests + 1]",
        "end",
    ]
    return "\n".join(lines) + "\n"


_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _wrk_seconds(text: str) -> float:
    number = text.rstrip("umsh")
    return float(number) * _WRK_UNITS[text[len(number) :]]


def wrk_load(port, requests, args, duration, script_dir: Path) -> dict:
    """wrk (one thread, `concurrency` connections): requests/s, p50, p99, failed responses."""
    script = script_dir / "requests.lua"
    script.write_text(wrk_script(requests))
    command = ["wrk", "-t1", f"-c{args.concurrency}", f"-d{round(duration)}s", "--latency"]
    output = subprocess.run(
        [*command, "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"failed": 0}
    for line in output.splitlines():
        fields = line.split()
        if line.startswith("Requests/sec:"):
            result["per_second"] = float(fields[1])
        elif fields[:1] == ["50.000%"] or fields[:1] == ["50%"]:
            result["p50"] = _wrk_seconds(fields[1])
        elif fields[:1] == ["99.000%"] or fields[:1] == ["99%"]:
            result["p99"] = _wrk_seconds(fields[1])
        elif "requests in" in line:
            result["requests"] = int(fields[0])
        elif line.startswith(("Non-2xx", "  Socket errors")):
            result["failed"] += sum(int(f.strip(",")) for f in fields if f.strip(",").isdigit())
    return result


# The fallback when wrk is not installed: a small asyncio HTTP/1.1 client in this process (it
# takes CPU from the server that wrk, in C, does not).


def _raw(request) -> bytes:
    method, path, body, _ = request
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in _headers(request).items()]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def _one_connection(port, payloads, stop_at, latencies, statuses):
    reader = writer = None
    index = 0
    while time.perf_counter() < stop_at:
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = payloads[index % len(payloads)]
        index += 1
        started = time.perf_counter()
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        headers = head.decode("latin-1").lower()
        length = int(headers.split("content-length:")[1].split("\r\n")[0])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        statuses[headers[9:12]] = statuses.get(headers[9:12], 0) + 1
        if "connection: close" in headers:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _python_load(port, requests, concurrency, duration):
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    payloads = [_raw(request) for request in requests]
    stop_at = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(_one_connection(port, payloads, stop_at, latencies, statuses) for _ in range(concurrency))
    )
    latencies.sort()
    return {
        "per_second": len(latencies) / (time.perf_counter() - started),
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "requests": len(latencies),
        "failed": sum(n for status, n in statuses.items() if status != "200"),
    }


def load(port, requests, args, duration, script_dir: Path) -> dict:
    if args.client == "wrk":
        return wrk_load(port, requests, args, duration, script_dir)
    return asyncio.run(_python_load(port, requests, args.concurrency, duration))


def call(port: int, request) -> dict:
    """One request, its JSON answer."""
    from urllib.request import Request, urlopen

    method, path, body, _ = request
    data = body.encode() if method == "POST" else None
    sent = Request(f"http://127.0.0.1:{port}{path}", data, _headers(request), method=method)
    with urlopen(sent, timeout=10) as response:
        return json.load(response)


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU time of the gunicorn workers (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run_load(name, port, requests, args, master_pid: int, script_dir: Path) -> dict:
    load(port, requests, args, 1, script_dir)  # warm-up
    cpu_before = server_cpu_seconds(master_pid)
    result = load(port, requests, args, args.duration, script_dir)
    cpu_ms = (server_cpu_seconds(master_pid) - cpu_before) * 1000 / max(1, result["requests"])
    result.update(name=name, server_cpu_ms=cpu_ms)
    print(
        f"{name:<22} {result['per_second']:>9.0f} req/s   p50 {result['p50'] * 1000:6.2f} ms   "
        f"p99 {result['p99'] * 1000:6.2f} ms   server CPU {cpu_ms:.2f} ms/req   "
        f"failed {result['failed']}",
        flush=True,
    )
    if result["failed"]:
        raise SystemExit(f"{name}: {result['failed']} failed responses, the bench is wrong")
    return result


def local_verifications(token: str, jwks: dict, duration: float) -> float:
    """JWT verifications per second on one core, as a producer verifying with the JWKS."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(jwks)
    registry = jwt.JWTClaimsRegistry(exp={"essential": True}, aud={"value": "api_particulier"})
    count, stop_at = 0, time.perf_counter() + duration
    started = time.perf_counter()
    while time.perf_counter() < stop_at:
        registry.validate(jwt.decode(token, keys, algorithms=["ES256"]).claims)
        count += 1
    rate = count / (time.perf_counter() - started)
    print(f"{'local JWT verification':<22} {rate:>9.0f} /s (one core, joserfc, ES256)", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measure")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--rate-limits",
        choices=("redis", "memory"),
        default="redis" if shutil.which("redis-server") else "memory",
        help="where the rate-limit counters live: a throwaway redis-server, as in production "
        "(the default when installed), or each worker's memory",
    )
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator: wrk (Debian package, the default when installed) or the built-in "
        "asyncio client",
    )
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="datapass-bench-"))
    port = free_port()
    env = {
        "DATAPASS_ENV": "production",
        "DATAPASS_SECRET_KEY": "bench-" + "k" * 40,
        "DATAPASS_VAR_DIR": str(var_dir),
        "DATAPASS_OAUTH_ISSUER": "https://bench.datapass.invalid",  # a claim, never fetched
        "DATAPASS_OAUTH_TOKEN_RATE_LIMIT": "0",  # measure issuance, not the limiter
        # Introspection is counted as in production, under a limit this load cannot reach.
        "DATAPASS_OAUTH_INTROSPECT_RATE_LIMIT": str(10**9),
    }
    for name in ("DATAPASS_DATABASE_URL", "DATAPASS_RATELIMIT_STORAGE_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    redis = None
    if args.rate_limits == "redis" and not env.get("DATAPASS_RATELIMIT_STORAGE_URL"):
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        env["DATAPASS_RATELIMIT_STORAGE_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        wait_for_port(redis_port)
    ids = prepare(env)
    database = env.get("DATAPASS_DATABASE_URL", "sqlite (embedded default)").split("@")[-1]
    limits = env.get("DATAPASS_RATELIMIT_STORAGE_URL", "memory://")
    print(
        f"gunicorn {args.workers} workers ({args.worker_class}, {args.threads} thread(s)), "
        f"{args.concurrency} connections ({args.client}), {args.duration:.0f} s each, "
        f"database {database}, rate limits in {limits}",
        flush=True,
    )
    server = start_gunicorn(env, port, args, var_dir / "server.log")
    try:
        consumer = (ids["client_id"], ids["client_secret"])
        producer = (ids["producer_id"], ids["producer_secret"])
        token_request = http_request(
            "POST", "/oauth/token", "grant_type=client_credentials", consumer
        )
        results = [
            run_load(
                "trivial endpoint",
                port,
                [http_request("GET", "/bench/ping")],
                args,
                server.pid,
                var_dir,
            ),
            run_load("token issuance", port, [token_request], args, server.pid, var_dir),
        ]
        tokens = [call(port, token_request)["access_token"] for _ in range(100)]
        introspections = [
            http_request("POST", "/oauth/introspect", urlencode({"token": t}), producer)
            for t in tokens
        ]
        results.append(run_load("introspection", port, introspections, args, server.pid, var_dir))
        active = [call(port, request)["active"] for request in introspections]
        assert all(active), "introspection answered inactive: the bench is wrong"
        ceiling = results[0]["per_second"]
        print(f"introspection / ceiling: {results[2]['per_second'] / ceiling:.0%}", flush=True)
        from urllib.request import urlopen

        with urlopen(f"http://127.0.0.1:{port}/.well-known/jwks.json") as response:
            jwks = json.load(response)
        local_verifications(tokens[0], jwks, min(args.duration, 3.0))
    finally:
        server.terminate()
        server.wait(10)
        if redis is not None:
            redis.terminate()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
