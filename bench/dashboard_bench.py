"""Dashboard benchmark (not a test): the instructors' queue and the statistics at scale.
See bench/README.md, section "Dashboard".

    .venv/bin/python bench/dashboard_bench.py [--database-url URL] [--runs 40] [--keep]

Without --database-url it starts a throwaway PostgreSQL cluster (initdb/pg_ctl from
/usr/lib/postgresql/*/bin, as the `postgres` user when run as root) on a free loopback port in
a temporary folder, and removes it at the end (--keep leaves it running and prints its URL, so
that a second run skips the data generation). The data (1,000,000 requests over 10
definitions, 500,000 events, 100,000 messages) is made in SQL with generate_series, once per
database. Each page is then fetched in process through Flask's test client, signed in as an
instructor of the 10 definitions, and timed end to end (queries and template).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLONES = ["api_bench_a", "api_bench_b", "api_bench_c", "api_bench_d", "api_bench_e"]
TOPICS = [
    "Tarification sociale de la cantine scolaire",
    "Calcul du quotient familial",
    "Aides au logement",
    "Bourses des collèges",
    "Transport scolaire",
    "Portail famille",
    "Inscription en crèche",
    "Aide sociale à l''enfance",
    "Marchés publics",
    "Subventions aux associations",
    "Centre communal d''action sociale",
    "Stationnement résidentiel",
    "Carte mobilité inclusion",
    "Conservatoire de musique",
    "Tarifs de la piscine municipale",
    "Prime à la rénovation énergétique",
]
TOWNS = [
    "Clamart", "Lyon", "Paris", "Marseille", "Toulouse", "Nantes", "Lille", "Rennes", "Dijon",
    "Brest", "Angers", "Nîmes", "Metz", "Reims", "Rouen", "Tours", "Limoges", "Amiens", "Pau",
    "Caen", "Orléans", "Poitiers", "Valence", "Colmar", "Vannes", "Albi", "Auch", "Foix",
]  # fmt: skip


# A throwaway cluster.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster() -> tuple[str, callable]:
    bin_dir = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bin_dir:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql), or give --database-url")
    bin_dir = bin_dir[-1]
    folder = Path(tempfile.mkdtemp(prefix="datapass-bench-pg."))
    as_pg = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = folder / "data"
    subprocess.run(
        [*as_pg, bin_dir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--no-sync"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB "
        "-c maintenance_work_mem=256MB"
    )
    subprocess.run(
        [*as_pg, bin_dir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-o", options,
         "start"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip

    def stop():
        subprocess.run(
            [*as_pg, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "stop"],
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


# Ten definitions: the five shipped ones and five clones of API Particulier.


def definitions_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="datapass-bench-defs."))
    source = ROOT / "workflows" / "definitions"
    for path in source.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    template = (source / "api_particulier.yaml").read_text()
    for clone in CLONES:
        text = template.replace("id: api_particulier", f"id: {clone}", 1)
        text = text.replace("name: API Particulier", f"name: API Banc d'essai {clone[-1]}", 1)
        (folder / f"{clone}.yaml").write_text(text)
    return folder


# The data, in SQL.


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def generate(connection, definition_ids: list[str], requests: int, events: int) -> None:
    from sqlalchemy import text

    def run(label: str, sql: str, **params) -> None:
        start = time.perf_counter()
        connection.execute(text(sql), params)
        print(f"  {label}: {time.perf_counter() - start:.1f} s", flush=True)

    # Indexes are built once after the load (much faster than maintained row by row): their
    # definitions are read from the migrated schema, dropped, and replayed at the end.
    indexes = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('authorization_requests', 'events', 'messages') AND indexname NOT LIKE 'pk_%'"
        )
    ).all()
    for name, _ in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    towns, topics = _sql_array(TOWNS), _sql_array(TOPICS)
    defs = _sql_array(definition_ids)
    run(
        "20,000 organisations",
        f"""INSERT INTO organizations (siret, name, created_at, legal_form, address, is_active)
        SELECT lpad((10000000000000 + i)::text, 14, '0'),
               (ARRAY['Commune de','Ville de','Département de','CCAS de','Syndicat de'])[1 + i % 5]
               || ' ' || ({towns})[1 + i % {len(TOWNS)}] || ' ' || i,
               now(), 'Commune et commune nouvelle', '', true
        FROM generate_series(1, 20000) i""",
    )
    run(
        "50,000 applicants",
        """INSERT INTO users (email, given_name, family_name, job_title, phone_number, is_admin,
                              created_at, session_version)
        SELECT 'agent' || i || '@' || (ARRAY['mairie','ville','departement','ccas'])[1 + i % 4]
               || (i % 997) || '.fr', 'Agent', 'Numéro ' || i, '', '', false, now(), 0
        FROM generate_series(1, 50000) i""",
    )
    # States: 10 % draft, 15 % submitted, 5 % changes requested, 50 % validated, 15 % refused,
    # 5 % archived; created over three years, one every 94 seconds.
    run(
        f"{requests:,} requests",
        f"""INSERT INTO authorization_requests (definition_id, organization_id, applicant_id,
            state, data, terms_accepted, dpo_informed, lock_version, created_at, updated_at,
            submitted_at, decided_at)
        SELECT d, :org0 + (i * 7) % 20000, :user0 + (i * 13) % 50000, s,
               json_build_object(
                 'intitule', ({topics})[1 + (i * 31) % {len(TOPICS)}] || ' n°' || i,
                 'description', 'Démarche ' || ({topics})[1 + (i * 17) % {len(TOPICS)}]
                   || ' pour les usagers de ' || ({towns})[1 + i % {len(TOWNS)}]
                   || ', projet ' || md5(i::text)),
               s <> 'draft', s <> 'draft', 1, c, c + ((i * 7919) % 40) * interval '1 day',
               CASE WHEN s <> 'draft' THEN c + interval '1 day' END,
               CASE WHEN s IN ('validated', 'refused', 'changes_requested')
                    THEN c + ((i * 7919) % 30 + 2) * interval '1 day' END
        FROM (
          SELECT i, ({defs})[1 + i % 10] AS d, (i / 7) % 20 AS band,
                 timestamptz '2023-12-01 00:00+00' + i * interval '94 seconds' AS c
          FROM generate_series(1::bigint, :requests) i
        ) g,
        LATERAL (SELECT CASE WHEN band < 2 THEN 'draft' WHEN band < 5 THEN 'submitted'
                   WHEN band < 6 THEN 'changes_requested' WHEN band < 16 THEN 'validated'
                   WHEN band < 19 THEN 'refused' ELSE 'archived' END AS s) st""",
        requests=requests,
        org0=connection.scalar(text("SELECT min(id) FROM organizations")),
        user0=connection.scalar(text("SELECT min(id) FROM users")),
    )
    # Two events for each of the first events/2 requests: their submission and what followed.
    run(
        f"{events:,} events",
        """INSERT INTO events (name, request_id, from_state, to_state, created_at)
        SELECT CASE WHEN r.state = 'draft' THEN (CASE WHEN k = 0 THEN 'create' ELSE 'message' END)
                    WHEN k = 0 THEN 'submit'
                    WHEN r.state = 'validated' THEN 'approve'
                    WHEN r.state = 'refused' THEN 'refuse'
                    WHEN r.state = 'changes_requested' THEN 'request_changes'
                    ELSE 'message' END,
               r.id,
               CASE WHEN r.state = 'draft' THEN NULL WHEN k = 0 THEN 'draft'
                    WHEN r.state IN ('validated', 'refused', 'changes_requested')
                    THEN 'submitted' END,
               CASE WHEN r.state = 'draft' THEN (CASE WHEN k = 0 THEN 'draft' END)
                    WHEN k = 0 THEN 'submitted'
                    WHEN r.state IN ('validated', 'refused', 'changes_requested') THEN r.state END,
               CASE WHEN k = 0 THEN coalesce(r.submitted_at, r.created_at)
                    ELSE coalesce(r.decided_at, r.updated_at) END
        FROM authorization_requests r CROSS JOIN (VALUES (0), (1)) AS moves(k)
        WHERE r.id < :r0 + :half""",
        half=events // 2,
        r0=connection.scalar(text("SELECT min(id) FROM authorization_requests")),
    )
    run(
        "100,000 messages",
        """INSERT INTO messages (request_id, author_id, from_instructor, body, created_at)
        SELECT r.id, r.applicant_id, i % 3 = 0, 'Bonjour, voici les précisions demandées.',
               r.created_at + interval '2 days'
        FROM generate_series(0, 99999) i JOIN authorization_requests r ON r.id = :r0 + i * 10""",
        r0=connection.scalar(text("SELECT min(id) FROM authorization_requests")),
    )
    start = time.perf_counter()
    for _, definition in indexes:
        connection.execute(text(definition))
    print(f"  {len(indexes)} indexes: {time.perf_counter() - start:.1f} s", flush=True)
    run("analyze", "ANALYZE")


def prepare(url: str, runs: int) -> None:
    from sqlalchemy import func, select

    from datapass import create_app
    from datapass.accounts.models import Role, User
    from datapass.cli import upgrade_database
    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest

    var_dir = Path(tempfile.mkdtemp(prefix="datapass-bench-var."))
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "SQLALCHEMY_DATABASE_URI": url,
            "VAR_DIR": str(var_dir),
            "DEFINITIONS_DIR": str(definitions_dir()),
            "WTF_CSRF_ENABLED": False,
            "STATS_CACHE_TTL": 0,
            "STATS_RATE_LIMIT": 0,
            "SIGNIN_RATE_LIMIT": 0,  # one address signs hundreds of users in
            "PUBLIC_RATE_LIMIT": 0,
            "LOG_FORMAT": "none",
        }
    )
    with app.app_context():
        upgrade_database()
        definition_ids = sorted(app.extensions["datapass.definitions"])
        assert len(definition_ids) == 10, definition_ids
        empty = not db.session.scalar(select(func.count()).select_from(AuthorizationRequest))
        db.session.commit()  # release the table: generating drops and rebuilds its indexes
        if empty:
            print("Generating the data (once per database):", flush=True)
            with db.engine.begin() as connection:
                generate(connection, definition_ids, 1_000_000, 500_000)
        instructor = db.session.scalar(select(User).filter_by(email="instructeur@bench.gouv.fr"))
        if instructor is None:
            instructor = User(
                email="instructeur@bench.gouv.fr",
                given_name="Instructrice",
                family_name="Banc",
                roles=[Role(role="instructor", definition_id=d) for d in definition_ids],
            )
            db.session.add(instructor)
            db.session.commit()
        deep_cursor = _deep_cursor(definition_ids[3])
        # A request with events and messages (see generate).
        sample_id = db.session.scalar(select(func.min(AuthorizationRequest.id))) + 123_450
        counts = {
            "requests": db.session.scalar(select(func.count()).select_from(AuthorizationRequest)),
        }
    print(f"{counts['requests']:,} requests; measuring {runs} runs per page.", flush=True)
    measure(app, runs, definition_ids, deep_cursor, sample_id)


def _deep_cursor(definition_id: str) -> str:
    """The cursor 40,000 rows into one definition's validated requests (set up, not timed)."""
    from sqlalchemy import select

    from datapass.extensions import db
    from datapass.requests.models import AuthorizationRequest as R

    row = db.session.execute(
        select(R.updated_at, R.id)
        .where(R.definition_id == definition_id, R.state == "validated")
        .order_by(R.updated_at.desc(), R.id.desc())
        .offset(40_000)
        .limit(1)
    ).one()
    return f"{row.updated_at.isoformat()}_{row.id}"


def measure(app, runs: int, definition_ids: list[str], deep_cursor: str, sample_id: int) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": "instructeur@bench.gouv.fr"})
    assert response.status_code == 302, response.status_code
    pages = [
        ("dashboard, first page", "/instruction", {}),
        ("search, a title word (~6 % of requests)", "/instruction", {"q": "crèche"}),
        ("search, two rarer words", "/instruction", {"q": "piscine Angers"}),
        ("search, organisation name", "/instruction", {"q": "CCAS de Angers 1998"}),
        ("search, applicant email", "/instruction", {"q": "agent4242@"}),
        ("search, request number", "/instruction", {"q": f"D{sample_id}"}),
        (
            "filtered page 1,600 deep (state + API + cursor)",
            "/instruction",
            {"state": "validated", "definition": definition_ids[3], "after": deep_cursor},
        ),
        ("filter: unread messages", "/instruction", {"unread": "y"}),
        (
            "filter: submitted in March 2025",
            "/instruction",
            {"submitted_from": "2025-03-01", "submitted_to": "2025-03-31"},
        ),
        ("request page", f"/instruction/requests/{sample_id}", {}),
        ("statistics, 12 months, uncached", "/stats", {}),
        ("statistics, 12 months, cached", "/stats", {"cache": "on"}),
    ]
    print("\n| page | p50 (ms) | p95 (ms) | max (ms) |\n| --- | --- | --- | --- |")
    for label, path, query in pages:
        if query.pop("cache", None):
            app.config["STATS_CACHE_TTL"] = 600
        for _ in range(3):  # warm-up
            assert client.get(path, query_string=query).status_code == 200, (label, path)
        timings = []
        for _ in range(runs if not path.startswith("/stats") else max(5, runs // 8)):
            start = time.perf_counter()
            response = client.get(path, query_string=query)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(
            f"| {label} | {statistics.median(timings):.0f} | {p95:.0f} | {timings[-1]:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty (or already generated) database")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="leave the throwaway cluster running")
    args = parser.parse_args()
    url, stop = args.database_url, None
    if not url:
        url, stop = start_cluster()
        print(f"Throwaway cluster: {url}", flush=True)
    try:
        prepare(url, args.runs)
    finally:
        if stop and not args.keep:
            stop()
        elif stop:
            print(f"Left running: --database-url {url}")


if __name__ == "__main__":
    main()
