"""The PostgreSQL grants for the application's database role (README.md, "Database roles").

The tables belong to an owner role that runs `migrate`; the web processes and workers connect as another role
that may read and write what the application writes, and no more. On the audit trail that is: read events and
append them, never change or remove one; read and move the head (its keyed seal shows a head set back). Not
being the owner, the application's role cannot switch the append-only trigger off (`ALTER TABLE … DISABLE
TRIGGER` needs the owner) and, not being a superuser, cannot skip triggers with `session_replication_role`.
Run it as the owner after every `migrate` (new tables need their grants).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

# What the application's role may do to the audit trail's own tables; every other table: read and write.
AUDIT_TABLES = {"audit_auditevent": "SELECT, INSERT", "audit_audithead": "SELECT, INSERT, UPDATE"}


def grant_statements(role: str, tables: list[str]) -> list[str]:
    """The statements, in order, that give `role` exactly what the application needs on `tables`."""
    quoted = connection.ops.quote_name(role)
    statements = [f"GRANT USAGE ON SCHEMA public TO {quoted}"]
    for table in sorted(tables):
        name = connection.ops.quote_name(table)
        statements.append(f"REVOKE ALL ON {name} FROM {quoted}")
        statements.append(f"GRANT {AUDIT_TABLES.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON {name} TO {quoted}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
    return statements


class Command(BaseCommand):
    help = (
        "Print (or with --execute, run) the PostgreSQL grants for the application's own database role: every "
        "table read and written, but audit events only read and appended. Run as the tables' owner after migrate."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the web processes and workers connect as")
        parser.add_argument("--execute", action="store_true", help="run the statements instead of printing them")

    def handle(self, *args, role: str, execute: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are PostgreSQL's; SQLite has one user (README.md, “Database roles”).")
        with connection.cursor() as cursor:
            tables = [t for t in connection.introspection.table_names(cursor) if not t.startswith("pg_")]
            statements = grant_statements(role, tables)
            if not execute:
                self.stdout.write(";\n".join(statements) + ";")
                return
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"{len(statements)} statements run for role {role}.")
