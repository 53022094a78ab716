"""OAuth benchmark (not a test): token issuance, introspection and a trivial endpoint under
gunicorn on loopback, plus local JWT verification. See bench/README.md, section "OAuth".

    .venv/bin/python bench/oauth_bench.py [--duration 10] [--concurrency 16] [--workers 2]

The load generator is a small asyncio HTTP/1.1 client (16 connections) in this process; it
shares the machine's cores with the server, as a producer on the same host would.
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


def start_gunicorn(env: dict, port: int, args) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
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
    process = subprocess.Popen(command, env={**os.environ, **env})
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


# A minimal keep-alive HTTP/1.1 client: enough for this server, cheap on CPU.


def http_request(method: str, path: str, body: str = "", auth: tuple[str, str] | None = None):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(":".join(auth).encode()).decode())
    if method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def _one_connection(port, requests, stop_at, latencies, statuses, bodies):
    reader = writer = None
    index = 0
    while time.perf_counter() < stop_at:
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = requests[index % len(requests)]
        index += 1
        started = time.perf_counter()
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        headers = head.decode("latin-1").lower()
        length = int(headers.split("content-length:")[1].split("\r\n")[0])
        body = await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        statuses[headers[9:12]] = statuses.get(headers[9:12], 0) + 1
        if len(bodies) < 200:
            bodies.append(body)
        if "connection: close" in headers:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _load(port, requests, concurrency, duration):
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    bodies: list[bytes] = []
    stop_at = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _one_connection(port, requests, stop_at, latencies, statuses, bodies)
            for _ in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    return latencies, elapsed, statuses, bodies


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU time of the gunicorn workers (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def run_load(name, port, requests, args, master_pid: int) -> dict:
    asyncio.run(_load(port, requests, args.concurrency, 1.0))  # warm-up
    cpu_before = server_cpu_seconds(master_pid)
    latencies, elapsed, statuses, bodies = asyncio.run(
        _load(port, requests, args.concurrency, args.duration)
    )
    cpu_ms = (server_cpu_seconds(master_pid) - cpu_before) * 1000 / max(1, len(latencies))
    latencies.sort()
    result = {
        "name": name,
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "server_cpu_ms": cpu_ms,
        "statuses": statuses,
        "bodies": bodies,
    }
    print(
        f"{name:<22} {result['per_second']:>9.0f} req/s   p50 {result['p50_ms']:6.2f} ms   "
        f"p99 {result['p99_ms']:6.2f} ms   server CPU {cpu_ms:.2f} ms/req   {statuses}",
        flush=True,
    )
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
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="datapass-bench-"))
    port = free_port()
    env = {
        "DATAPASS_ENV": "production",
        "DATAPASS_SECRET_KEY": "bench-" + "k" * 40,
        "DATAPASS_VAR_DIR": str(var_dir),
        "DATAPASS_OAUTH_ISSUER": "https://bench.datapass.invalid",  # a claim, never fetched
        "DATAPASS_OAUTH_TOKEN_RATE_LIMIT": "0",  # measure issuance, not the limiter
    }
    if os.environ.get("DATAPASS_DATABASE_URL"):
        env["DATAPASS_DATABASE_URL"] = os.environ["DATAPASS_DATABASE_URL"]
    ids = prepare(env)
    database = env.get("DATAPASS_DATABASE_URL", "sqlite (embedded default)").split("@")[-1]
    print(
        f"gunicorn {args.workers} workers ({args.worker_class}, {args.threads} thread(s)), "
        f"{args.concurrency} connections, {args.duration:.0f} s each, database {database}",
        flush=True,
    )
    server = start_gunicorn(env, port, args)
    try:
        consumer = (ids["client_id"], ids["client_secret"])
        producer = (ids["producer_id"], ids["producer_secret"])
        token_request = http_request(
            "POST", "/oauth/token", "grant_type=client_credentials", consumer
        )
        results = [
            run_load(
                "trivial endpoint", port, [http_request("GET", "/bench/ping")], args, server.pid
            ),
            run_load("token issuance", port, [token_request], args, server.pid),
        ]
        tokens = [json.loads(b)["access_token"] for b in results[1]["bodies"][:100]]
        introspections = [
            http_request("POST", "/oauth/introspect", urlencode({"token": t}), producer)
            for t in tokens
        ]
        results.append(run_load("introspection", port, introspections, args, server.pid))
        active = [json.loads(b)["active"] for b in results[2]["bodies"]]
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
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
