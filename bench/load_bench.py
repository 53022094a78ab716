"""Load test (not a test of the suite): hundreds of applicants and instructors on the
production setup, driven by Locust. See bench/README.md, section "Load".

    .venv/bin/python bench/load_bench.py [--users 300] [--instructors 60] [--duration 240]
        [--think 5,15] [--web-workers 4] [--worker-concurrency 2] [--keep-logs]

It starts, natively and on free loopback ports, what docker-compose.yml runs: a throwaway
PostgreSQL cluster, Redis, the schema migration and the first signing key, gunicorn with the
production settings (`-c python:datapass.ops.gunicorn_conf datapass.ops.wsgi:create_wsgi_app()`)
behind nginx ending TLS (self-signed certificate) as the production reverse proxy does, a Celery
worker and Celery beat. Around it:
an OpenID Connect provider over TLS (the sign-in is the production one), an SMTP sink and a
webhook receiver over TLS (every mail and webhook is really delivered and counted). Accounts,
organisations, roles and the producer's webhook are prepared in the database beforehand.

Locust then runs headless for --duration seconds. After it stops, the script waits for the
outbox to drain (every row sent) and prints requests per second, p50/p95/p99 per page kind,
errors, requests submitted and validated, the outbox backlog at the end of the load and the time
to drain it, and what the sinks received. It exits non-zero on any error, on a failed outbox
row, or when the backlog has not drained within --drain-timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hmac
import http.server
import json
import logging
import os
import resource
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DEFINITION = "api_particulier"
NGINX = "/usr/sbin/nginx"
SAMPLE = 20.0  # seconds between two CPU samples during the load
EMAILED_INSTRUCTORS = 3  # the others opted out of submit/message emails (a large team would)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# TLS: one self-signed certificate for 127.0.0.1, trusted by every process of the bench.


def make_certificate(folder: Path) -> tuple[Path, Path]:
    from tests.tls import make_certificate as self_signed

    return self_signed(folder, ("localhost",), ("127.0.0.1",))


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# The sinks: SMTP (aiosmtpd) and a webhook receiver over TLS that checks the signatures.


class MailSink:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages, self.recipients, self.ids = 0, 0, set()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.messages += 1
                sink.recipients += len(envelope.rcpt_tos)
                for line in envelope.content.split(b"\r\n"):
                    if line.lower().startswith(b"message-id:"):
                        sink.ids.add(line.split(b":", 1)[1].strip())
                        break
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class WebhookSink:
    def __init__(self, ssl_ctx: ssl.SSLContext):
        self.secret = ""
        self.received, self.bad_signatures, self.ids, self.events = 0, 0, set(), {}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "sha256=" + hmac.new(sink.secret.encode(), body, "sha256").hexdigest()
                if not hmac.compare_digest(self.headers.get("X-Hub-Signature-256", ""), expected):
                    sink.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                event = json.loads(body).get("event", "?")
                sink.received += 1
                sink.ids.add(self.headers.get("webhook-id"))
                sink.events[event] = sink.events.get(event, 0) + 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.socket = ssl_ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()


# The accounts: applicants (one organisation each), instructors, one developer and its webhook.


def _luhn_complete(digits: str) -> str:
    from datapass.accounts.siret import _luhn_valid

    return next(digits + str(d) for d in range(10) if _luhn_valid(digits + str(d)))


def make_siret(index: int) -> str:
    siren = _luhn_complete(f"{21000000 + index:08d}")
    return _luhn_complete(siren + "0001")


def prepare(users: int, instructors: int, webhook_url: str) -> tuple[dict, str]:
    """Accounts in the database, and their identities at the provider; the webhook's secret."""
    from datapass import create_app
    from datapass.accounts.models import Organization, Role, User
    from datapass.extensions import db
    from datapass.models_base import utcnow
    from datapass.notifications import webhooks
    from datapass.notifications.models import EmailOptOut, Webhook

    applicants = users - instructors
    accounts = {"definition": DEFINITION, "applicants": [], "instructors": []}
    app = create_app()
    with app.app_context():
        rows = []
        for k in range(instructors):
            group = f"g{k:03d}"
            email = f"instructeur.{k:03d}@instruction.load.gouv.fr"
            user = User(email=email, given_name=f"Instructeur {k}", family_name="Charge")
            user.roles = [Role(role="instructor", definition_id=DEFINITION)]
            rows.append(user)
            accounts["instructors"].append({"email": email, "group": group})
        for i in range(applicants):
            group = f"g{i % instructors:03d}"
            email = f"demandeur.{i:04d}@{group}.load.gouv.fr"
            siret = make_siret(i)
            # Known and fresh: the sign-in does not ask the company register.
            rows.append(
                Organization(
                    siret=siret,
                    name=f"Commune de Charge {i:04d}",
                    legal_form="Commune et commune nouvelle",
                    address=f"{i} place de la Mairie 92140 Clamart",
                    directory_refreshed_at=utcnow(),
                )
            )
            accounts["applicants"].append(
                {"email": email, "given_name": f"Camille {i}", "family_name": "Martin",
                 "siret": siret, "group": group}
            )  # fmt: skip
        developer = User(
            email="developpeur@producteur.load.gouv.fr", given_name="D", family_name="P"
        )
        developer.roles = [Role(role="developer", definition_id=DEFINITION)]
        db.session.add_all([*rows, developer])
        db.session.flush()
        db.session.add_all(
            EmailOptOut(user_id=user.id, definition_id=DEFINITION)
            for user in rows[EMAILED_INSTRUCTORS:instructors]
        )
        secret = webhooks.new_secret()
        db.session.add(
            Webhook(
                definition_id=DEFINITION,
                url=webhook_url,
                events=["submit", "approve", "request_changes", "refuse"],
                secret_encrypted=webhooks.encrypt_secret(secret),
                enabled=True,
                created_by_id=developer.id,
            )
        )
        db.session.commit()
        db.engine.dispose()
    return accounts, secret


def identities(accounts: dict) -> dict[str, dict]:
    found = {}
    for a in accounts["applicants"]:
        found[a["email"]] = {
            "sub": "sub-" + a["email"], "email": a["email"], "given_name": a["given_name"],
            "usual_name": a["family_name"], "siret": a["siret"], "uid": a["email"],
            "phone_number": "01 46 62 35 35", "job_title": "Chargée de mission",
        }  # fmt: skip
    for a in accounts["instructors"]:
        found[a["email"]] = {
            "sub": "sub-" + a["email"], "email": a["email"], "given_name": "Instructeur",
            "usual_name": a["group"], "uid": a["email"],
        }  # fmt: skip
    return found


# Processes.


class Stack:
    def __init__(self, folder: Path):
        self.folder, self.processes, self.stops = folder, [], []

    def start(self, name: str, command: list, env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - kept open for the child
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for stop in reversed(self.stops):
            stop()


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/nginx/body;
    proxy_temp_path {folder}/nginx/proxy;
    fastcgi_temp_path {folder}/nginx/fastcgi;
    uwsgi_temp_path {folder}/nginx/uwsgi;
    scgi_temp_path {folder}/nginx/scgi;
    client_max_body_size 64m;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def wait_ready(url: str, ca: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({process.returncode})")
        try:
            if requests.get(url, verify=str(ca), timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


# Where the CPU goes: each component's process tree, in CPU seconds (Linux /proc).


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / ticks)
    return table


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in table.items():
        children.setdefault(parent, []).append(pid)
    result = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in table:
                total += table[pid][1]
                todo += children.get(pid, [])
        result[name] = total
    return result


def postmaster_pid(database_url: str) -> int | None:
    port = database_url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if args and args[0].endswith(b"/postgres") and port.encode() in args:
            return int(entry.name)
    return None


def machine_busy() -> float:
    """CPU seconds spent by the whole machine (every core, every user), from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def outbox_counts(engine) -> dict[tuple[str, str], int]:
    from sqlalchemy import text

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT channel, state, count(*) FROM outbox_messages GROUP BY 1, 2")
        )
        return {(channel, state): n for channel, state, n in rows}


def backlog(counts: dict) -> int:
    return sum(n for (_c, state), n in counts.items() if state in ("pending", "sending"))


def request_states(engine) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT state, count(*) FROM authorization_requests GROUP BY 1")
        )
        return dict(rows.all())


def scalar(engine, sql: str) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def print_stats(prefix: Path) -> tuple[int, int]:
    """Locust's per-name statistics; returns (requests, failures)."""
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    print(f"\n{'page kind':<34} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} "
          f"{'p99':>6} {'max':>6}  (ms)")  # fmt: skip
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        print(
            f"{name:<34} {int(row['Request Count']):>7} {int(row['Failure Count']):>5} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6} "
            f"{float(row['Max Response Time']):>6.0f}"
        )
    total = rows[-1]
    return int(total["Request Count"]), int(total["Failure Count"])


def print_failures(prefix: Path) -> int:
    """Locust's failed requests, and exceptions raised in the scenario (returns how many)."""
    path = Path(f"{prefix}_failures.csv")
    if path.exists():
        with open(path, encoding="utf-8") as failures:
            for row in csv.DictReader(failures):
                print(f"  FAILURE x{row['Occurrences']}: {row['Method']} {row['Name']}: "
                      f"{row['Error']}")  # fmt: skip
    exceptions = 0
    path = Path(f"{prefix}_exceptions.csv")
    if path.exists():
        with open(path, encoding="utf-8") as found:
            for row in csv.DictReader(found):
                exceptions += int(row["Count"])
                print(f"  EXCEPTION x{row['Count']}: {row['Message']}\n{row['Traceback']}")
    return exceptions


def sample_cpu(process: subprocess.Popen, roots: dict[str, int], interval: float, engine) -> list:
    """Until `process` ends: every `interval` s, the cores used by the machine and by each of
    our components, and the outbox backlog at that moment."""
    samples = []
    busy, trees, at = machine_busy(), tree_cpu(roots), time.monotonic()
    while process.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(interval)
        now_busy, now_trees, now = machine_busy(), tree_cpu(roots), time.monotonic()
        if process.poll() is None:
            span = now - at
            shares = {name: (now_trees[name] - trees.get(name, 0.0)) / span for name in now_trees}
            sample = {"machine": (now_busy - busy) / span, **shares}
            samples.append({**sample, "backlog": backlog(outbox_counts(engine))})
        busy, trees, at = now_busy, now_trees, now
    return samples


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300, help="simulated users in all")
    parser.add_argument("--instructors", type=int, default=60, help="how many are instructors")
    parser.add_argument("--duration", type=float, default=240, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second")
    parser.add_argument("--think", default="5,15", help="seconds between two actions: min,max")
    parser.add_argument("--web-workers", type=int, default=4, help="WEB_CONCURRENCY (compose: 4)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="compose: 2")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not 0 < args.instructors < args.users:
        parser.error("--instructors must be between 1 and --users - 1")

    missing = [
        hint
        for found, hint in (
            (shutil.which("redis-server"), "apt-get install redis-server"),
            (shutil.which("nginx") or Path(NGINX).exists(), "apt-get install nginx-light"),
            (list(Path("/usr/lib/postgresql").glob("*/bin/initdb")), "apt-get install postgresql"),
            ((BIN / "locust").exists(), '.venv/bin/pip install -e ".[bench]"'),
        )
        if not found
    ]
    if missing:
        sys.exit("missing: " + "; ".join(missing))
    folder = Path(tempfile.mkdtemp(prefix="datapass-load."))
    stack = Stack(folder)
    try:
        return run(args, folder, stack)
    finally:
        stack.stop()
        if args.keep_logs:
            print(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(args, folder: Path, stack: Stack) -> int:
    from bench.dashboard_bench import start_cluster

    cert, key = make_certificate(folder)
    ssl_ctx = server_context(cert, key)
    database_url, stop_cluster = start_cluster()
    stack.stops.append(stop_cluster)
    redis_port = free_port()
    stack.start(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(folder),
         "--appendonly", "yes", "--save", ""],
        dict(os.environ),
    )  # fmt: skip
    mail = MailSink()
    stack.stops.append(mail.stop)
    hooks = WebhookSink(ssl_ctx)
    stack.stops.append(hooks.stop)
    web_port, proxy_port = free_port(), free_port()
    base_url = f"https://127.0.0.1:{proxy_port}"
    client_id, client_secret = "datapass-load", secrets.token_urlsafe(24)
    known: dict[str, dict] = {}  # the provider's users, filled once the accounts are made
    from tests.accounts.oidc_provider import OIDCProvider  # ProConnect's part, over TLS

    provider = OIDCProvider(
        client_id,
        client_secret,
        ssl_context=ssl_ctx,
        redirect_uri_prefix="https://127.0.0.1:",
        identities=known,
    ).start()
    stack.stops.append(provider.stop)
    for sub in ("keys", "uploads", "metrics", "beat"):
        (folder / sub).mkdir()
    env = {
        **os.environ,
        "DATAPASS_ENV": "production",
        "DATAPASS_SECRET_KEY": secrets.token_urlsafe(48),
        "DATAPASS_DATABASE_URL": database_url,
        "DATAPASS_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATAPASS_VAR_DIR": str(folder),
        "DATAPASS_UPLOAD_DIR": str(folder / "uploads"),
        "DATAPASS_OAUTH_KEY_DIR": str(folder / "keys"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        "DATAPASS_SMTP_HOST": "127.0.0.1",
        "DATAPASS_SMTP_PORT": str(mail.port),
        "DATAPASS_BASE_URL": base_url,
        "DATAPASS_OIDC_ISSUER": provider.issuer,
        "DATAPASS_OIDC_CLIENT_ID": client_id,
        "DATAPASS_OIDC_CLIENT_SECRET": client_secret,
        # Every simulated user comes from 127.0.0.1: the per-address limits are switched off.
        "DATAPASS_SIGNIN_RATE_LIMIT": "0",
        "DATAPASS_PUBLIC_RATE_LIMIT": "0",
        "DATAPASS_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver listens on the loopback
        # The bench's certificate is the only one trusted (requests, and Python's ssl).
        "SSL_CERT_FILE": str(cert),
        "REQUESTS_CA_BUNDLE": str(cert),
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": str(args.web_workers),
        "DATAPASS_TRUSTED_PROXIES": "1",  # the TLS-terminating proxy in front (nginx)
    }
    datapass = [str(BIN / "datapass")]
    # What the compose file's one-shot "migrate" service does.
    with open(folder / "migrate.log", "wb") as log:
        for command in (["db", "upgrade"], ["rotate-signing-key"]):
            subprocess.run(
                [*datapass, *command], env=env, check=True, cwd=ROOT, stdout=log, stderr=log
            )
    os.environ.update({k: v for k, v in env.items() if k.startswith(("DATAPASS_", "PROM"))})
    os.environ["DATAPASS_LOG_LEVEL"] = "WARNING"  # this process only, not the stack's
    started = time.monotonic()
    accounts, hooks.secret = prepare(
        args.users, args.instructors, f"https://127.0.0.1:{hooks.port}/hook"
    )
    print(f"prepared {args.users - args.instructors} applicants, {args.instructors} instructors "
          f"in {time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
    known.update(identities(accounts))
    for logger in ("", "werkzeug", "mail.log"):  # the provider's and the SMTP sink's logs
        logging.getLogger(logger).setLevel(logging.WARNING)

    web = stack.start(
        "web",
        [str(BIN / "gunicorn"), "-c", "python:datapass.ops.gunicorn_conf",
         "datapass.ops.wsgi:create_wsgi_app()"],
        env,
    )  # fmt: skip
    celery = str(BIN / "celery")
    stack.start(
        "worker",
        [celery, "-A", "worker.celery_app", "worker", "--loglevel", "INFO",
         "--concurrency", str(args.worker_concurrency)],
        env,
    )  # fmt: skip
    stack.start(
        "beat",
        [celery, "-A", "worker.celery_app", "beat", "--loglevel", "INFO",
         "--schedule", str(folder / "beat" / "schedule")],
        env,
    )  # fmt: skip
    (folder / "nginx").mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(folder=folder, port=proxy_port, upstream=web_port, cert=cert, key=key)
    )
    nginx = shutil.which("nginx") or NGINX
    proxy = stack.start("proxy", [nginx, "-c", str(conf), "-p", str(folder)], env)
    wait_ready(f"{base_url}/readyz", cert, proxy)
    if web.poll() is not None:
        raise RuntimeError(f"gunicorn exited: see {folder / 'web.log'}")
    print(f"production stack up: {base_url} (nginx, TLS) -> gunicorn {args.web_workers} workers, "
          f"worker concurrency {args.worker_concurrency}, {database_url.split('@')[-1]}",
          flush=True)  # fmt: skip

    accounts_file = folder / "accounts.json"
    accounts_file.write_text(json.dumps(accounts))
    counters_file = folder / "counters.json"
    prefix = folder / "locust"
    locust_env = {
        **os.environ,
        "LOAD_ACCOUNTS": str(accounts_file),
        "LOAD_CA_FILE": str(cert),
        "LOAD_THINK": args.think,
        "LOAD_COUNTERS": str(counters_file),
    }
    applicants = args.users - args.instructors
    print(f"locust: {args.users} users ({applicants} applicants, {args.instructors} instructors), "
          f"{args.duration:.0f} s, think time {args.think} s", flush=True)  # fmt: skip
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    roots = {name: process.pid for name, process in stack.processes}
    pg_pid = postmaster_pid(database_url)
    if pg_pid:
        roots["postgres"] = pg_pid
    cpu_before = {**tree_cpu(roots), "locust": children_cpu(), "bench process": self_cpu()}
    busy_before, load_start = machine_busy(), time.monotonic()
    # Exactly --instructors instructors (Locust's fixed_count), the other users applicants.
    locust = subprocess.Popen(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
         "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
         "--run-time", f"{int(args.duration)}s", "--host", base_url, "--csv", str(prefix),
         "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"],
        env={**locust_env, "LOAD_INSTRUCTORS": str(args.instructors)},
        cwd=ROOT,
        stdout=open(folder / "locust.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    samples = sample_cpu(locust, {**roots, "locust": locust.pid}, SAMPLE, engine)
    load_end = time.monotonic()
    cpu_after = {**tree_cpu(roots), "locust": children_cpu(), "bench process": self_cpu()}
    busy = machine_busy() - busy_before

    at_end = outbox_counts(engine)
    peak = max((sample["backlog"] for sample in samples), default=0)
    print(f"\nload stopped (locust exit {locust.returncode}); outbox backlog at the end of the "
          f"load: {backlog(at_end)} rows not yet sent (sampled peak during the load: {peak})",
          flush=True)  # fmt: skip
    drained_after = None
    while time.monotonic() - load_end < args.drain_timeout:
        counts = outbox_counts(engine)
        if backlog(counts) == 0:
            drained_after = time.monotonic() - load_end
            break
        time.sleep(0.5)
    counts = outbox_counts(engine)
    time.sleep(1)  # the sinks may still be answering the last deliveries

    total, failures = print_stats(prefix)
    exceptions = print_failures(prefix)
    counters = json.loads(counters_file.read_text()) if counters_file.exists() else {}
    states = request_states(engine)
    authorizations = scalar(engine, "SELECT count(*) FROM authorizations")
    print("\nlocust counters: " + ", ".join(f"{k} {v}" for k, v in counters.items()))
    print(f"requests in the database by state: {states}; authorizations issued: {authorizations}")
    print(f"outbox at the end: { {f'{c}/{s}': n for (c, s), n in sorted(counts.items())} }")
    if drained_after is None:
        print(f"outbox NOT drained after {args.drain_timeout:.0f} s: {backlog(counts)} rows left")
    else:
        print(f"outbox drained {drained_after:.1f} s after the end of the load")
    sent_mails = counts.get(("email", "sent"), 0)
    sent_hooks = counts.get(("webhook", "sent"), 0)
    print(f"SMTP sink: {mail.messages} messages ({len(mail.ids)} distinct Message-IDs, "
          f"{mail.recipients} recipients) for {sent_mails} email rows sent")  # fmt: skip
    print(f"webhook receiver: {hooks.received} deliveries ({len(hooks.ids)} distinct webhook-ids, "
          f"{hooks.bad_signatures} bad signatures) for {sent_hooks} webhook rows sent; "
          f"by event {hooks.events}")  # fmt: skip
    print(f"sign-ins at the provider: {provider.sign_ins}")
    elapsed = load_end - load_start
    used = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    if samples:
        names = list(samples[0])
        print(
            f"\ncores used per {SAMPLE:.0f} s of load, and outbox rows not yet sent:\n  s    "
            + " ".join(f"{n[:8]:>8}" for n in names)
        )
        for index, sample in enumerate(samples, 1):
            values = (f"{sample[n]:>8.2f}" if n != "backlog" else f"{sample[n]:>8}" for n in names)
            print(f"{index * SAMPLE:>4.0f}    " + " ".join(values))
    shares = ", ".join(f"{name} {seconds / elapsed:.2f}" for name, seconds in used.items())
    print(f"CPU during the load in cores ({elapsed:.0f} s, {os.cpu_count()} cores): machine "
          f"{busy / elapsed:.2f}, ours {sum(used.values()) / elapsed:.2f}: {shares}")  # fmt: skip
    failed_rows = sum(n for (_c, s), n in counts.items() if s == "failed")
    web_log = (folder / "web.log").read_text(errors="replace")
    durations = sorted(
        json.loads(line)["duration_ms"]
        for line in web_log.splitlines()
        if line.startswith("{") and '"logger": "datapass.access"' in line
    )
    if durations:
        n = len(durations)
        print(f"time in the app (access log, {n} requests): p50 {durations[n // 2]:.0f} ms, "
              f"p95 {durations[int(n * 0.95)]:.0f} ms, p99 {durations[int(n * 0.99)]:.0f} ms; "
              "the rest of what Locust measures is waiting for a worker, the proxy, TLS and "
              "the client")  # fmt: skip
    web_errors = web_log.count('"level": "ERROR"') + web_log.count("WORKER TIMEOUT")
    worker_errors = (folder / "worker.log").read_text(errors="replace").count("ERROR")
    print(f"error lines: web {web_errors}, worker {worker_errors}")
    problems = []
    if locust.returncode not in (0, 1) or total == 0:
        problems.append(f"locust did not run properly (exit {locust.returncode})")
    if failures:
        problems.append(f"{failures} failed requests")
    if exceptions:
        problems.append(f"{exceptions} exceptions in the scenario")
    if drained_after is None:
        problems.append("outbox not drained")
    if failed_rows:
        problems.append(f"{failed_rows} outbox rows failed")
    if len(mail.ids) < sent_mails or len(hooks.ids) < sent_hooks:
        problems.append("sent outbox rows missing at the sinks")
    if hooks.bad_signatures:
        problems.append("webhooks with a bad signature")
    if web_errors:
        problems.append(f"{web_errors} ERROR lines in the web log")
    if problems:
        print("\nFAILED: " + "; ".join(problems))
        tail = (folder / "locust.log").read_text(errors="replace")[-3000:]
        print(f"--- locust.log (end)\n{tail}")
        return 1
    print("\nOK: no error, outbox drained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
