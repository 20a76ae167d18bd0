"""Thrive Voices from a terminal: the same core functions the pages call.

Every command takes --db PATH (else env THRIVE_DB, else data/thrive.db). `python cli.py --help` lists them.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import config
from data import open_db
from data.db import Database, describe_db_error, schema_version
from data.users import ROLES, cli_user

log = logging.getLogger("cli")
log.addHandler(logging.NullHandler())  # details reach a log only where one is configured, never the screen


def with_db(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --db to a command and pass it an opened, migrated database as `db`."""

    @click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="SQLite database file (default: env THRIVE_DB, else data/thrive.db).")
    @functools.wraps(func)
    def wrapper(*args: Any, db_path: Path | None = None, **kwargs: Any) -> Any:
        db = open_db(db_path or config.db_path())
        try:
            return func(*args, db=db, **kwargs)
        finally:
            db.conn.close()

    return wrapper


def run_import(load: Callable[[], Any]) -> Any:
    """Run an all-or-nothing import; on a rejected file print every problem on stderr and exit 1."""
    from data.importer import InvalidFile

    try:
        return load()
    except InvalidFile as exc:
        fail(str(exc))


def fail(message: str) -> None:
    """Print a message for a person on stderr and exit with status 1."""
    click.echo(message, err=True)
    sys.exit(1)


class ThriveGroup(click.Group):
    """The top-level group: a database that is busy, full, read-only, unreachable or damaged ends any command with
    one plain line on stderr and exit status 1; the exception itself goes to the log (logger "cli"), not the screen."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = describe_db_error(exc)
            if message is None:
                raise
            log.error("%s stopped on a database error", ctx.command_path, exc_info=exc)
            click.echo(message, err=True)
            ctx.exit(1)


@click.group(cls=ThriveGroup)
def cli() -> None:
    """Thrive Voices: participatory engagement answers, from capture to findings."""


@cli.command()
@with_db
def init(db: Database) -> None:
    """Create the database, or bring it up to date (safe to run again)."""
    click.echo(f"Database ready: {Path(db.conn.execute('PRAGMA database_list').fetchone()[2])}")
    click.echo("Migrations applied: " + ", ".join(schema_version(db)))


# --- import -----------------------------------------------------------------------------------------------------

@cli.group("import")
def import_group() -> None:
    """Import data from files."""


@import_group.command("responses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--event", default=None, help="Event name or id for rows without an event column (created if new).")
@click.option("--dry-run", is_flag=True, help="Print the mapping and the counts, and write nothing.")
@click.option("--map", "map_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A mapping file (YAML) saying which column is what; see README, 'Import mapping'.")
@click.option("--save-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the mapping used to this file, for the next file of the same form.")
@click.option("--dates", type=click.Choice(["uk", "us"]), default=None,
              help="Day/month order of dates like 03/04/2026 (default uk; SurveyMonkey files us).")
@with_db
def import_responses_cmd(db: Database, file: Path, event: str | None, dry_run: bool, map_file: Path | None,
                         save_map: Path | None, dates: str | None) -> None:
    """Import answers from a CSV or XLSX file: long (id,question,group,text[,respondent,event,created_at]) or a
    survey tool's export (one row per respondent; Microsoft Forms, Google Forms, KoBoToolbox, ODK Central,
    SurveyMonkey, Qualtrics), separated by commas, semicolons or tabs."""
    from data.embeddings import no_background
    from data.importer import import_responses

    mapping = map_file.read_bytes() if map_file else None
    # no background embedding: this process ends now (`cli.py embed` computes the sentence vectors)
    with file.open("rb") as source, no_background():
        result = run_import(lambda: import_responses(db, cli_user(), source, file.name, event=event, mapping=mapping,
                                                     dates=dates, dry_run=dry_run))
    if dry_run or result.mapping.layout == "wide":
        click.echo("Mapping:" if dry_run else "Mapping used:")
        for line in result.mapping.lines():
            click.echo(f"  {line}")
    if save_map:
        save_map.write_text(result.mapping.to_yaml(), encoding="utf-8")
        click.echo(f"Mapping saved to {save_map}")
    click.echo(result.summary())
    if result.added and not dry_run:
        click.echo("Sentence vectors for suggestions: run `python cli.py embed` (the app computes them in the "
                   "background).")


@import_group.command("qdpx")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Say what would be imported, and write nothing.")
@with_db
def import_qdpx_cmd(db: Database, file: Path, dry_run: bool) -> None:
    """Import a REFI-QDA project (.qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder or Thrive Voices): its codebook (new
    codes only), coders, and codings; a project we exported comes back on the same answers; a foreign project's
    texts become answers at an event named after it. Everything not imported is listed."""
    from data.codebook import CodebookError
    from data.refi_import import QdpxError, import_qdpx

    try:
        report = run_import(lambda: import_qdpx(db, cli_user(), file, dry_run=dry_run))
    except (QdpxError, CodebookError) as exc:
        fail(f"{file.name}: {exc}")
    click.echo("\n".join(report.lines()))


# --- bundles (several laptops, one hub) -------------------------------------------------------------------------

@cli.group("bundle")
def bundle_group() -> None:
    """Carry events between laptops and a hub: export a bundle, import (merge) one."""


@bundle_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--event", "event_refs", multiple=True, help="Event name or id (repeatable; default: every event).")
@with_db
def bundle_export_cmd(db: Database, file: Path, event_refs: tuple[str, ...]) -> None:
    """Write the chosen events with everything under them to FILE (a zip holding original texts: keep it safe)."""
    from data.bundle import BundleError, export_bundle
    from data.events import events_named

    event_ids = None
    if event_refs:
        event_ids = []
        for ref in event_refs:
            matches = events_named(db, ref)
            if len(matches) != 1:
                fail(f"{len(matches)} events match {ref!r}; give the event's id (python cli.py events list).")
            event_ids.append(matches[0].id)
    file.parent.mkdir(parents=True, exist_ok=True)
    try:
        manifest = export_bundle(db, cli_user(), file, event_ids)
    except BundleError as exc:
        fail(str(exc))
    counts = manifest["counts"]
    click.echo(f"Wrote {file}: {len(manifest['events'])} event(s), {counts['respondents']:,} respondents, "
               f"{counts['responses']:,} answers, {counts['codings']:,} codings, {counts['flags']:,} flags "
               f"({manifest['open_flags']} open).")


@bundle_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be new, already present or conflicting; write nothing.")
@with_db
def bundle_import_cmd(db: Database, file: Path, dry_run: bool) -> None:
    """Merge a bundle into this database, all or nothing (twice adds nothing; conflicts are kept for an admin)."""
    from data.bundle import BundleError, import_bundle

    try:
        report = import_bundle(db, cli_user(), file, dry_run=dry_run)
    except BundleError as exc:
        fail(str(exc))
    click.echo(report.summary())


# --- events -----------------------------------------------------------------------------------------------------

@cli.group()
def events() -> None:
    """Create, list and close events."""


@events.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_db
def events_list(db: Database, as_json: bool) -> None:
    """List events, newest first."""
    from data.events import list_events

    rows = list_events(db)
    if as_json:
        click.echo(json.dumps([e.__dict__ for e in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No events yet. Create one with: python cli.py events create NAME --date YYYY-MM-DD")
    for e in rows:
        click.echo(f"{e.date}  {e.status:<6}  {e.name}  [{e.venue or '-'}]  {e.question_set_id}  {e.id}")


@events.command("create")
@click.argument("name")
@click.option("--date", "date_", required=True, help="Event date, YYYY-MM-DD.")
@click.option("--venue", default="", help="Where it happens.")
@click.option("--area", default="", help="Area named in question 4 (default: the partnership's area setting).")
@click.option("--question-set", default="thrive", show_default=True, help="Bundled question set key.")
@with_db
def events_create(db: Database, name: str, date_: str, venue: str, area: str, question_set: str) -> None:
    """Create an open event."""
    from data.events import EventError, create_event
    from surveys import QuestionSetError

    try:
        event = create_event(db, cli_user(), name=name, date=date_, venue=venue, area=area, question_set=question_set)
    except (EventError, QuestionSetError) as exc:
        fail(str(exc))
    click.echo(f"Created event {event.title}: {event.id}")


@events.command("close")
@click.argument("event")
@with_db
def events_close(db: Database, event: str) -> None:
    """Close an event (by id or unique name): it takes no more answers."""
    from data.events import close_event, events_named

    matches = events_named(db, event)
    if len(matches) != 1:
        fail(f"{len(matches)} events match {event!r}; give the event's id.")
    closed = close_event(db, cli_user(), matches[0].id)
    click.echo(f"Closed {closed.title}.")


# --- stats ------------------------------------------------------------------------------------------------------

@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_db
def stats(db: Database, as_json: bool) -> None:
    """Answers by question and respondent group."""
    from data.stats import answers_by_question_and_group

    table = answers_by_question_and_group(db, cli_user())
    if as_json:
        click.echo(json.dumps(table, ensure_ascii=False, indent=2))
        return
    if not table["rows"]:
        click.echo("No answers yet. Try: python cli.py demo")
        return
    groups = table["groups"]
    width = max(len(q) for q in table["questions"]) + 2
    click.echo("question".ljust(width) + "".join(g[:14].rjust(15) for g in groups) + "total".rjust(9))
    for question in table["questions"]:
        counts = table["rows"][question]
        click.echo(question.ljust(width) + "".join(str(counts.get(g, 0)).rjust(15) for g in groups)
                   + str(sum(counts.values())).rjust(9))
    people = "person" if table["respondents"] == 1 else "people"
    click.echo(f"{table['respondents']:,} {people}, {table['postits']:,} transcribed post-it(s) (anonymous, not "
               f"people), {table['answers']:,} answers, {table['events']:,} events")


# --- users ------------------------------------------------------------------------------------------------------

@cli.group()
def users() -> None:
    """Manage accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role (repeat for several).")
@click.option("--pin", is_flag=True, help="Issue a PIN (6 to 12 digits) instead of a password (peer researchers).")
@click.option("--display-name", default="", help="The person's name as shown in the app.")
@with_db
def users_add(db: Database, name: str, roles: tuple[str, ...], pin: bool, display_name: str) -> None:
    """Create an account; prompts for the password or PIN (never pass it on the command line)."""
    from data.accounts import PIN_RULE, AccountError, create_user

    kind = "pin" if pin else "password"
    secret = click.prompt(f"PIN ({PIN_RULE})" if pin else "Password (10+ characters)", hide_input=True,
                          confirmation_prompt=True)
    try:
        create_user(db, cli_user(), name, secret, list(roles), kind=kind, display_name=display_name)
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"Created {name} ({', '.join(roles)}).")


# --- accounts, safeguarding, erasure, retention (issue 5, D2) ----------------------------------------------------

@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_db
def users_list(db: Database, as_json: bool) -> None:
    """List accounts with their roles and state (never their secrets)."""
    from data.accounts import list_accounts

    rows = list_accounts(db, cli_user())
    if as_json:
        click.echo(json.dumps([a.__dict__ for a in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No accounts yet. Create the first admin with: python cli.py users add NAME --role admin")
    for a in rows:
        state = "disabled" if a.disabled else ("locked" if a.locked_until else "active")
        click.echo(f"{a.username:<20} {state:<8} {a.secret_kind:<8} {','.join(a.roles)}"
                   + ("  (demo)" if a.is_demo else ""))


@users.command("set-roles")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role (repeat for several); replaces the account's roles.")
@with_db
def users_set_roles(db: Database, name: str, roles: tuple[str, ...]) -> None:
    """Replace an account's roles."""
    from data.accounts import AccountError, set_roles

    try:
        account = set_roles(db, cli_user(), name, list(roles))
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"{account.username} now has: {', '.join(account.roles)}.")


@users.command("unlock")
@click.argument("name")
@with_db
def users_unlock(db: Database, name: str) -> None:
    """Clear an account's lock-out after too many wrong tries."""
    from data.accounts import AccountError, unlock

    try:
        unlock(db, cli_user(), name)
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"Unlocked {name}.")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Switch the account back on instead.")
@with_db
def users_disable(db: Database, name: str, enable: bool) -> None:
    """Switch an account off (it can no longer sign in; its history stays), or on again with --enable."""
    from data.accounts import AccountError, set_disabled

    try:
        set_disabled(db, cli_user(), name, not enable)
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"{'Enabled' if enable else 'Disabled'} {name}.")


@users.command("reset")
@click.argument("name")
@click.option("--pin", is_flag=True, help="Issue a PIN instead of a password.")
@with_db
def users_reset(db: Database, name: str, pin: bool) -> None:
    """Issue a new password or PIN (prompts; never pass it on the command line)."""
    from data.accounts import PIN_RULE, AccountError, get_account, reset_secret

    try:
        kind = "pin" if pin else get_account(db, name).secret_kind
        secret = click.prompt(f"PIN ({PIN_RULE})" if kind == "pin" else "Password (10+ characters)",
                              hide_input=True, confirmation_prompt=True)
        reset_secret(db, cli_user(), name, secret, kind=kind)
    except AccountError as exc:
        fail(str(exc))
    click.echo(f"New {kind} issued for {name}.")


def _account_or_fail(db: Database, name: str):
    """The account called `name`, or exit with the reason (unknown name) as the CLI's error."""
    from data.accounts import AccountError, get_account

    try:
        return get_account(db, name)
    except AccountError as exc:
        fail(str(exc))


@users.command("sessions")
@click.argument("name")
@with_db
def users_sessions(db: Database, name: str) -> None:
    """List an account's signed-in sessions (browsers kept signed in by a cookie); never their tokens."""
    from data import sessions, settings

    account = _account_or_fail(db, name)
    idle = settings.get_int(db, "idle_timeout_minutes") * 60
    found = sessions.list_active(db, cli_user(), account.username)
    live = {s.id for s in sessions.list_active(db, cli_user(), account.username, idle_seconds=idle)}
    if not found:
        click.echo(f"{account.username} has no signed-in session.")
    for s in found:
        state = "active" if s.id in live else "idle (ends at its next use)"
        click.echo(f"{s.id}  since {s.created_at[:16]}  last seen {s.last_seen[:16]}  "
                   f"{s.user_agent or 'unknown browser'}  {state}")


@users.command("revoke-sessions")
@click.argument("name")
@with_db
def users_revoke_sessions(db: Database, name: str) -> None:
    """Sign an account out everywhere now (a lost tablet, a PIN seen by someone else)."""
    from data import sessions

    account = _account_or_fail(db, name)
    count = sessions.admin_revoke(db, cli_user(), username=account.username)
    click.echo(f"Ended {count} session(s) of {account.username}.")


@cli.group()
def safeguarding() -> None:
    """The safeguarding queue."""


@safeguarding.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of objects) instead of a table.")
@with_db
def safeguarding_list(db: Database, as_json: bool) -> None:
    """List the open safeguarding flags, most urgent first (no answer texts are printed)."""
    from data.flags import open_flags_as_dicts

    rows = open_flags_as_dicts(db, cli_user())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No open safeguarding flags.")
    for f in rows:
        click.echo(f"{f['created_at'][:16]}  {f['urgency']:<23}  {'OVERDUE  ' if f['overdue'] else ''}{f['kind']:<6}  "
                   f"{f['event'] or '-'}  {f['reason']}  [{f['id']}]")


@safeguarding.command("release")
@click.argument("flag_id")
@click.option("--note", required=True, help="Why the answer may be quoted (kept in the flag's history).")
@with_db
def safeguarding_release(db: Database, flag_id: str, note: str) -> None:
    """Release a flag: no further action, its answer may be quoted (audited, as the command-line operator)."""
    from data.flags import FlagError, release

    try:
        item = release(db, cli_user(), flag_id, note)
    except FlagError as exc:
        fail(str(exc))
    click.echo(f"Released flag {flag_id} ({item.status.replace('_', ' ')})."
               + (f" {len(item.withheld_by)} other flag(s) still withhold its answer." if item.withheld_by else ""))


@cli.command("erase")
@click.argument("respondent")
@click.option("--reason", required=True, help="Why (e.g. 'withdrew consent 3 Dec'); kept in the tombstone and audit log.")
@click.option("--event", default=None, help="Event id or name, when a respondent reference is used at several events.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_db
def erase_cmd(db: Database, respondent: str, reason: str, event: str | None, yes: bool) -> None:
    """Erase a respondent with everything derived from them. RESPONDENT is the reference from their thank-you card
    (e.g. K7M-3QP; case, spaces and a missing hyphen do not matter), a respondent id, or an imported file's
    respondent reference."""
    from data.erasure import ErasureError, erase_respondent, find_respondent, preview, reference_of

    user = cli_user()
    try:
        respondent_id = find_respondent(db, user, respondent, event=event)
        counts = preview(db, user, respondent_id)
        ref = reference_of(db, user, respondent_id)
        if not yes:
            click.confirm(f"Erase respondent {respondent_id}" + (f" (reference {ref})" if ref else "")
                          + f" with {counts['answers']} answer(s) and "
                          f"{counts['codings']} coding(s)? This cannot be undone", abort=True)
        result = erase_respondent(db, user, respondent_id, reason)
    except ErasureError as exc:
        fail(str(exc))
    click.echo(result.summary())


@cli.group()
def retention() -> None:
    """Purge original answer texts after the retention period (the redacted texts stay)."""


@retention.command("status")
@with_db
def retention_status(db: Database) -> None:
    """Show the retention period and how many original texts are due to be purged."""
    from data.retention import status

    s = status(db, cli_user())
    if not s.days:
        click.echo(f"Retention is off (0 days): original texts are kept. {s.purged} purged earlier.")
        return
    click.echo(f"Retention: {s.days} days (answers before {s.cutoff[:10]}). Due: {s.due}; held for open flags: "
               f"{s.held}; purged so far: {s.purged}.")


@retention.command("apply")
@with_db
def retention_apply(db: Database) -> None:
    """Replace original texts older than the retention period by their redacted text (audited)."""
    from data.retention import apply, status

    user = cli_user()
    purged = apply(db, user)
    s = status(db, user)
    if not s.days:
        click.echo("Retention is off (0 days): nothing purged.")
        return
    click.echo(f"Purged the original text of {purged} answer(s) older than {s.days} days"
               + (f"; {s.held} kept while their safeguarding flag is open." if s.held else "."))


# --- demo (data/demo.py) ------------------------------------------------------------------------------------------

@cli.command()
@click.option("--if-empty", is_flag=True,
              help="Load only when the database holds no answers; say nothing otherwise (for start scripts).")
@click.option("--accounts/--no-accounts", "accounts_wanted", default=None,
              help="Create the demo accounts even though real accounts exist (or never create them). "
                   "Default: only when the database has no real accounts.")
@click.option("--seed", type=int, default=None, help="Random seed for the demo (default: the fixed demo seed).")
@with_db
def demo(db: Database, if_empty: bool, accounts_wanted: bool | None, seed: int | None) -> None:
    """Load the demo data set: five events, ~500 answers, codes, two coders, safeguarding flags, demo accounts."""
    from data.demo import DEFAULT_SEED, DEMO_ACCOUNTS, DemoError, holds_answers, load_demo
    from data.users import ROLE_LABELS

    if if_empty and holds_answers(db):
        return
    try:
        result = load_demo(db, cli_user(), seed=DEFAULT_SEED if seed is None else seed,
                           accounts_wanted=accounts_wanted)
    except DemoError as exc:
        fail(str(exc))
    if result.loaded:
        click.echo(f"Loaded the demo data set (seed {result.seed}):")
        click.echo(f"  {len(result.events)} events: " + "; ".join(result.events))
    else:
        click.echo("Demo data already loaded: nothing added.")
    click.echo(f"  {result.respondents:,} respondents gave {result.answers:,} answers")
    coded = ", ".join(f"{coder} {count:,}" for coder, count in result.codings.items())
    click.echo(f"  {result.codes} codes; answers coded by {coded} (double-coded sample of {result.double_coded})")
    click.echo(f"  {result.flags_auto + result.flags_manual} safeguarding flags ({result.flags_auto} possible "
               f"disclosures found automatically, {result.flags_manual} raised by a peer researcher)")
    click.echo(f"  {result.pinned} pinned quotes, {result.memos} memos")
    for note in result.notes[1 if not result.loaded else 0:]:
        click.echo(f"  Note: {note}")
    shown = [a for a in DEMO_ACCOUNTS if a.username in result.accounts_created + result.accounts_present]
    if shown:
        click.echo("")
        click.echo("DEMO ACCOUNTS - for demonstrations only. Everyone who has this software knows these secrets:")
        click.echo("never enter real answers while they exist (an admin can switch them off on the Admin page).")
        for account in shown:
            what = "PIN     " if account.kind == "pin" else "password"
            roles = ", ".join(ROLE_LABELS[r] for r in account.roles)
            created = "" if account.username in result.accounts_created else "  (already there)"
            click.echo(f"  {account.username:<18} {what} {account.secret:<16} {roles}{created}")
    if result.accounts_note:
        click.echo(f"Accounts: {result.accounts_note}")
    click.echo("Start the app with: streamlit run app.py")


# --- codebook, codings, agreement (issue 3, B2: data/codebook.py, data/coding.py, data/agreement.py) ---------------

def _csv_rows(data: bytes) -> int:
    """Data rows in a CSV export (cells may hold line breaks, so lines are not rows)."""
    import csv
    import io

    return max(0, sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8")))) - 1)


@cli.group("codebook")
def codebook_group() -> None:
    """Import and export the codebook (our CSV, Taguette's CSV, REFI-QDA .qdc/.qdpx)."""


def _codebook_import(db: Database, file: Path, update: bool, accept: tuple[str, ...]) -> None:
    """Print the plan (new, unchanged, every difference field by field, warnings), then apply what was asked."""
    from data.codebook import CodebookError, apply_codebook_import, plan_codebook_file

    plan = run_import(lambda: plan_codebook_file(db, file.read_bytes(), file.name))
    for line in plan.lines():
        click.echo(line)
    try:
        result = apply_codebook_import(db, cli_user(), plan, update=update or bool(accept),
                                       accept=list(accept) if accept else None)
    except CodebookError as exc:
        fail(str(exc))
    click.echo(f"Applied: {result.summary()}")
    if result.held:
        if update and not accept:
            click.echo("Re-parenting and blanking were not applied; to apply every difference of a code, repeat "
                       "with --accept CODE (for each code).")
        elif not update and not accept:
            click.echo("Existing codes were not changed. To apply the differences, repeat with --update (plain "
                       "changes) or --accept CODE (every difference of that code, re-parenting and blanking too).")


@codebook_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="Also change existing codes the file describes differently (not "
                                             "re-parenting or blanking: those need --accept).")
@click.option("--accept", multiple=True, metavar="CODE", help="Apply every difference for this code, re-parenting "
                                                              "and blanking included (repeatable; implies --update "
                                                              "for these codes only).")
@with_db
def codebook_import_cmd(db: Database, file: Path, update: bool, accept: tuple[str, ...]) -> None:
    """Add codes from a codebook file: our CSV, Taguette's CSV (tag,description), a REFI-QDA .qdc or .qdpx.

    Shows every difference with existing codes, field by field; existing codes change only with --update/--accept.
    """
    _codebook_import(db, file, update, accept)


@codebook_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-archived", is_flag=True, help="Also export archived codes.")
@click.option("--format", "fmt", type=click.Choice(["csv", "taguette"]), default="csv", show_default=True,
              help="csv: ours (code,label,definition,parent,keywords); taguette: Taguette's tag,parent,description.")
@with_db
def codebook_export_cmd(db: Database, file: Path, include_archived: bool, fmt: str) -> None:
    """Write the codebook to a CSV file (importing it back gives the same codebook)."""
    from data.codebook import export_codebook_csv, export_codebook_taguette

    write = export_codebook_taguette if fmt == "taguette" else export_codebook_csv
    data = write(db, include_archived=include_archived, target=file)
    click.echo(f"Wrote {_csv_rows(data)} code(s) to {file}" + (" (Taguette's codebook CSV)." if fmt == "taguette"
                                                               else "."))


@codebook_group.command("starter")
@with_db
def codebook_starter_cmd(db: Database) -> None:
    """Load the starter codebook (neglect categories, thrive factors, barriers, local asks); safe to repeat."""
    from data.codebook import load_starter_codebook

    click.echo(load_starter_codebook(db, cli_user()).summary())


@cli.group("codings")
def codings_group() -> None:
    """Import and export codings (CSV response_id,code,coder[,source,created_at])."""


@codings_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_db
def codings_import_cmd(db: Database, file: Path) -> None:
    """Import codings, all rows or none; response_id may be an answer's id or its external id."""
    from data.coding import import_codings_csv
    result = run_import(lambda: import_codings_csv(db, cli_user(), file.read_bytes(), file.name))
    click.echo(result.summary())


@codings_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--coder", default=None, help="Only this coder's codings.")
@with_db
def codings_export_cmd(db: Database, file: Path, coder: str | None) -> None:
    """Write every coding (or one coder's) to a CSV file."""
    from data.coding import export_codings_csv

    data = export_codings_csv(db, cli_user(), coder=coder, target=file)
    click.echo(f"Wrote {_csv_rows(data)} coding(s) to {file}.")


@cli.command("agreement")
@click.option("--coders", required=True, help="Two coders' usernames, comma-separated: A,B.")
@click.option("--sample", "sample_id", type=int, default=None, help="Only the answers of this double-coding sample.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON {codes: {code: {kappa, alpha, n, ...}}, ...}.")
@with_db
def agreement_cmd(db: Database, coders: str, sample_id: int | None, as_json: bool) -> None:
    """Per code, Cohen's kappa and Krippendorff's alpha between two coders over the answers both coded.
    kappa/alpha are null (with a reason) when undefined: no shared answers, or no variation in the decisions."""
    from data.agreement import AgreementError, report

    names = [c.strip() for c in coders.split(",") if c.strip()]
    if len(names) != 2:
        fail("Give exactly two coders: --coders A,B")
    try:
        result = report(db, cli_user(), names[0], names[1], sample_id=sample_id)
    except AgreementError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    click.echo(f"{result.n} answer(s) coded by both {names[0]} and {names[1]}.")
    click.echo(f"{'code':<28}{'kappa':>7}{'alpha':>7}{'n':>6}  note")
    for name, c in result.codes.items():
        click.echo(f"{name[:27]:<28}{show(c.kappa):>7}{show(c.alpha):>7}{c.n:>6}  {c.reason}")
    overall = result.overall
    click.echo(f"Mean kappa {show(overall['mean_kappa'])}, mean alpha {show(overall['mean_alpha'])} "
               f"over {overall['codes_with_values']} code(s) with values.")


# --- embed (issue 10: sentence vectors of answers, computed in the background of the app or here) ---------------

@cli.command("embed")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Embed at most this many answers.")
@with_db
def embed_cmd(db: Database, limit: int | None) -> None:
    """Compute the sentence vectors that stored answers lack (from their redacted text); safe to stop and rerun."""
    from analysis.embeddings import MODEL_ID, EmbeddingsUnavailable
    from data.embeddings import embedding_coverage, ensure_embeddings

    have, total = embedding_coverage(db)
    todo = total - have if limit is None else min(limit, total - have)
    click.echo(f"{have:,} of {total:,} answers have vectors ({MODEL_ID}); embedding up to {todo:,}")
    try:
        stored = ensure_embeddings(db, limit=limit, progress=lambda n: click.echo(f"  {n:,} / {todo:,}", err=True))
    except EmbeddingsUnavailable as exc:
        fail(f"Sentence embeddings are unavailable: {exc}")
    have, total = embedding_coverage(db)
    click.echo(f"Stored {stored:,} vector(s); {have:,} of {total:,} answers have one")


# --- suggest (issue 3, B1: the suggestion engine) ---------------------------------------------------------------

@cli.command("suggest")
@click.option("--top", "top_k", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many codes to suggest per answer (1-20).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV file to write: response_id,external_id,code,rank,score (rank 1 = best).")
@with_db
def suggest_cmd(db: Database, top_k: int, out: Path) -> None:
    """Suggest codes for every answer that has no human coding yet, learning from the codings so far."""
    import csv

    from data.suggestions import suggest_uncoded

    notes: list[str] = []
    rows = suggest_uncoded(db, cli_user(), top_k, notes=notes)
    for note in notes:
        click.echo(f"Note: {note}", err=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["response_id", "external_id", "code", "rank", "score"])
        writer.writeheader()
        writer.writerows(rows)
    answers = len({r["response_id"] for r in rows})
    click.echo(f"Wrote {len(rows)} suggestion(s) for {answers} uncoded answer(s) to {out}")


# --- findings exports and report (issue 4, C: data/findings.py, exports/) ----------------------------------------

def _findings_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The Findings page's filters, as options shared by every export command."""
    options = [
        click.option("--question", "questions", multiple=True, help="Only this question id (repeatable)."),
        click.option("--group", "groups", multiple=True, help="Only this respondent group id (repeatable)."),
        click.option("--event", "events", multiple=True, help="Only this event, by id or unique name (repeatable)."),
        click.option("--from", "date_from", default=None, help="Events on or after this date, YYYY-MM-DD."),
        click.option("--to", "date_to", default=None, help="Events on or before this date, YYYY-MM-DD."),
        click.option("--code", "codes", multiple=True, help="Only answers raising this code name (repeatable)."),
        click.option("--approved-only", "approved_only", is_flag=True,
                     help="Only answers approved in review (they or their respondent approved, neither has issues)."),
        click.option("--round", "round_ref", default=None, help="Only the events of this engagement round (name or id)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _export_set(db: Database, questions: tuple[str, ...], groups: tuple[str, ...], events: tuple[str, ...],
                date_from: str | None, date_to: str | None, codes: tuple[str, ...], originals: bool = False,
                approved_only: bool = False, round_ref: str | None = None) -> Any:
    import datetime as dt

    from analysis.findings import Filter
    from data.events import events_named
    from data.findings import load_frames
    from exports.tables import build

    event_ids = []
    for name in events:
        matches = events_named(db, name)
        if len(matches) != 1:
            fail(f"{len(matches)} events match {name!r}; give the event's id.")
        event_ids.append(matches[0].id)
    round_ = _round(db, round_ref) if round_ref else None
    frames = load_frames(db, cli_user(), with_text=True, originals=originals, approved_only=approved_only,
                         round_id=round_.id if round_ else None)
    by_name = dict(zip(frames.codes["name"].str.lower(), frames.codes["code_id"], strict=False))
    unknown = [c for c in codes if c.lower() not in by_name]
    if unknown:
        fail(f"Unknown code(s): {', '.join(unknown)}. See: python cli.py codebook export codes.csv")
    try:
        flt = Filter(tuple(questions), tuple(groups), tuple(event_ids),
                     dt.date.fromisoformat(date_from) if date_from else None,
                     dt.date.fromisoformat(date_to) if date_to else None,
                     tuple(int(by_name[c.lower()]) for c in codes))
    except ValueError as exc:
        fail(f"Dates must look like 2026-11-20: {exc}")
    ex = build(frames, flt)
    if approved_only:
        from data.review import REVIEW_FILTER

        ex.filters.update(REVIEW_FILTER)
    if round_:
        ex.filters["Engagement round"] = round_.name
    return ex


def _round(db: Database, ref: str) -> Any:
    from data.rounds import RoundError, get_round

    try:
        return get_round(db, cli_user(), ref)
    except RoundError as exc:
        fail(str(exc))


def _compare_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--compare", "compare_ref", default=None,
                        help="Compare with this engagement round (needs --round): theme shares side by side, the "
                             "change and its 95 % interval, themes that appeared or vanished.")(func)


def _comparison(db: Database, ex: Any, compare_ref: str | None, filters: dict[str, Any]) -> tuple[Any, str, str]:
    """(compare_rounds table, round name, other round name) for --compare, the other filters applied to both."""
    from analysis.findings import compare_rounds

    if not filters.get("round_ref"):
        fail("--compare needs --round: the round to compare with the other.")
    other = _round(db, compare_ref)
    this = _round(db, filters["round_ref"])
    if other.id == this.id:
        fail("--compare names the same round as --round; choose another round.")
    ex_b = _export_set(db, **{**filters, "round_ref": str(other.id)})
    ex.filters["Compared with round"] = other.name
    return compare_rounds(ex.sel, ex_b.sel, "code"), this.name, other.name


def _write_export(db: Database, kind: str, file: Path, ex: Any, originals: bool = False,
                  **writer_options: Any) -> None:
    from data.findings import record_export

    # Only the writer asked for is imported (openpyxl, lxml, python-docx and altair cost seconds between them).
    write: Callable[..., Any]
    if kind == "xlsx":
        from exports.xlsx import write_workbook as write
    elif kind == "csv":
        from exports.csv_export import write_csv as write
    elif kind == "qdpx":
        from exports.refi import write_qdpx as write
    elif kind == "report":
        from exports.report import write_report as write
    else:
        raise ValueError(f"unknown export kind {kind!r}")
    file.parent.mkdir(parents=True, exist_ok=True)
    with click.progressbar(length=100, label=f"Writing {file.name}") as bar:
        done = [0]

        def progress(fraction: float, message: str) -> None:  # noqa: ARG001 - the bar shows the fraction
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        write(ex, file, progress, **writer_options)
    record_export(db, cli_user(), kind, originals=originals, rows=ex.counts["answers"], filters=ex.filters,
                  filename=file.name)
    click.echo(f"Wrote {file}: {ex.counts['answers']:,} answers from {ex.counts['respondents']:,} respondents, "
               f"{ex.counts['codings']:,} codings.")


@cli.group("export")
def export_group() -> None:
    """Export answers, codings and findings (Excel, CSV, REFI-QDA for NVivo/ATLAS.ti/MAXQDA/QualCoder)."""


@export_group.command("xlsx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_findings_filter_options
@click.option("--originals", is_flag=True, help="Add the original texts beside the redacted ones (audited).")
@with_db
@_compare_option
def export_xlsx_cmd(db: Database, file: Path, originals: bool, compare_ref: str | None, **filters: Any) -> None:
    """Excel workbook: README, Responses, Codings, Codebook, Summary, By group, Quotes (and Compare)."""
    ex = _export_set(db, originals=originals, **filters)
    options: dict[str, Any] = {}
    if compare_ref:
        from exports.xlsx import compare_sheet

        cmp, name_a, name_b = _comparison(db, ex, compare_ref, filters)
        options["compare"] = compare_sheet(cmp, name_a, name_b, ex.threshold)
    _write_export(db, "xlsx", file, ex, originals, **options)


@export_group.command("csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_findings_filter_options
@click.option("--originals", is_flag=True, help="Add the original texts beside the redacted ones (audited).")
@with_db
@_compare_option
def export_csv_cmd(db: Database, file: Path, originals: bool, compare_ref: str | None, **filters: Any) -> None:
    """CSV of answers with their codes (UTF-8 with BOM; formula-like cells prefixed with an apostrophe). With
    --compare, the comparison goes to FILE-compare.csv beside it."""
    ex = _export_set(db, originals=originals, **filters)
    cmp = _comparison(db, ex, compare_ref, filters) if compare_ref else None
    _write_export(db, "csv", file, ex, originals)
    if cmp is not None:
        import csv

        from exports.feedback import comparison_base, comparison_rows

        side = file.with_name(f"{file.stem}-compare.csv")
        base = comparison_base(cmp[0])
        with side.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["question", "theme", f"{cmp[1]} (share of {base})", f"{cmp[2]} (share of {base})",
                             "change", "95% interval", "status"])
            for row in comparison_rows(cmp[0], ex.threshold):
                # question and theme are typed text: formula-like ones are made inert, as in the main CSV
                writer.writerow(["'" + v if i < 2 and v[:1] in ("=", "+", "-", "@") else v for i, v in enumerate(row)])
        click.echo(f"Wrote {side}: {len(cmp[0]):,} rows compared with {cmp[2]}.")


@export_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_findings_filter_options
@with_db
def export_qdpx_cmd(db: Database, file: Path, **filters: Any) -> None:
    """REFI-QDA project (.qdpx): one text source per question, codings as selections, coders as users."""
    from data.refi_import import memos_for_export

    ex = _export_set(db, **filters)
    kept_ids = ex.prep.answers["response_id"].to_numpy()[ex.sel.mask]  # no copy of every answer column
    _write_export(db, "qdpx", file, ex, memos=memos_for_export(db, cli_user(), kept_ids))


@export_group.command("qdc")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_db
def export_qdc_cmd(db: Database, file: Path) -> None:
    """REFI-QDA codebook (.qdc)."""
    from data.findings import load_frames, record_export
    from exports.refi import write_qdc

    codes = load_frames(db, cli_user()).codes
    if codes.empty:
        fail("The codebook is empty. Load the starter codebook with: python cli.py codebook starter")
    file.parent.mkdir(parents=True, exist_ok=True)
    write_qdc(codes, file)
    record_export(db, cli_user(), "qdc", rows=len(codes), filename=file.name)
    click.echo(f"Wrote {file}: {len(codes)} codes.")


@cli.command("report")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_findings_filter_options
@with_db
@_compare_option
def report_cmd(db: Database, file: Path, compare_ref: str | None, **filters: Any) -> None:
    """Word report of the findings (.docx) that a strategy lead can edit (with --compare, a comparison section)."""
    ex = _export_set(db, **filters)
    cmp = _comparison(db, ex, compare_ref, filters) if compare_ref else None
    from data import settings as app_settings

    _write_export(db, "report", file, ex, title=app_settings.get(db, "report_title"),
                  author=app_settings.get(db, "report_author"))
    if cmp is not None:
        from exports.feedback import append_comparison

        append_comparison(file, cmp[0], cmp[1], cmp[2], ex.threshold)
        click.echo(f"Added the comparison with {cmp[2]} ({len(cmp[0]):,} rows).")


@codebook_group.command("import-qdc")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--update", is_flag=True, help="As for codebook import.")
@click.option("--accept", multiple=True, metavar="CODE", help="As for codebook import.")
@with_db
def codebook_import_qdc_cmd(db: Database, file: Path, update: bool, accept: tuple[str, ...]) -> None:
    """Import a REFI-QDA codebook (.qdc or .qdpx); the same as codebook import."""
    _codebook_import(db, file, update, accept)


# --- engagement rounds, actions ("you said, we did"), feedback sheets and snapshots (issue 12 item 4) -------------

@cli.group("rounds")
def rounds_group() -> None:
    """Engagement rounds: named groups of events ("Neglect strategy 2019", "2026 refresh")."""


def _round_errors(call: Callable[[], Any]) -> Any:
    from data.actions import ActionError
    from data.rounds import RoundError

    try:
        return call()
    except (RoundError, ActionError) as exc:
        fail(str(exc))


@rounds_group.command("create")
@click.argument("name")
@click.option("--event", "event_refs", multiple=True, help="An event to put in it, by id or unique name (repeatable).")
@with_db
def rounds_create_cmd(db: Database, name: str, event_refs: tuple[str, ...]) -> None:
    """Create a round (and put events in it)."""
    from data import rounds

    round_ = _round_errors(lambda: rounds.create_round(db, cli_user(), name))
    if event_refs:
        _round_errors(lambda: rounds.assign_events(db, cli_user(), round_.id, _event_ids(db, event_refs)))
    click.echo(f"Created round {round_.id}: {round_.name} ({len(event_refs)} event(s)).")


def _event_ids(db: Database, refs: tuple[str, ...]) -> list[str]:
    from data.events import events_named

    out = []
    for ref in refs:
        matches = events_named(db, ref)
        if len(matches) != 1:
            fail(f"{len(matches)} events match {ref!r}; give the event's id (python cli.py events list).")
        out.append(matches[0].id)
    return out


@rounds_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_db
def rounds_list_cmd(db: Database, as_json: bool) -> None:
    """Every round with its events' dates."""
    from dataclasses import asdict

    from data import rounds

    found = rounds.list_rounds(db, cli_user())
    if as_json:
        click.echo(json.dumps([asdict(r) for r in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No rounds yet. Create one with: python cli.py rounds create \"2026 refresh\" --event NAME")
    for r in found:
        click.echo(f"{r.id:>4}  {r.name}  {r.events} event(s)  {r.first_date or ''} {r.last_date or ''}".rstrip())


@rounds_group.command("rename")
@click.argument("round_ref")
@click.argument("name")
@with_db
def rounds_rename_cmd(db: Database, round_ref: str, name: str) -> None:
    """Rename a round."""
    from data import rounds

    round_ = _round(db, round_ref)
    renamed = _round_errors(lambda: rounds.rename_round(db, cli_user(), round_.id, name))
    click.echo(f"Renamed round {renamed.id}: {round_.name} -> {renamed.name}")


@rounds_group.command("assign")
@click.argument("round_ref")
@click.argument("event_refs", nargs=-1, required=True)
@click.option("--move", is_flag=True, help="Move events that are already in another round.")
@with_db
def rounds_assign_cmd(db: Database, round_ref: str, event_refs: tuple[str, ...], move: bool) -> None:
    """Put events (by id or unique name) into a round; an event is in one round at most."""
    from data import rounds

    round_ = _round(db, round_ref)
    changed = _round_errors(lambda: rounds.assign_events(db, cli_user(), round_.id, _event_ids(db, event_refs),
                                                         move=move))
    click.echo(f"{changed} event(s) now in {round_.name}.")


@rounds_group.command("unassign")
@click.argument("round_ref")
@click.argument("event_refs", nargs=-1, required=True)
@with_db
def rounds_unassign_cmd(db: Database, round_ref: str, event_refs: tuple[str, ...]) -> None:
    """Take events out of a round."""
    from data import rounds

    round_ = _round(db, round_ref)
    removed = _round_errors(lambda: rounds.unassign_events(db, cli_user(), round_.id, _event_ids(db, event_refs)))
    click.echo(f"{removed} event(s) taken out of {round_.name}.")


@cli.group("actions")
def actions_group() -> None:
    """What the partnership will do about the themes a round raised ("you said, we did")."""


@actions_group.command("add")
@click.option("--round", "round_ref", required=True, help="The round (name or id).")
@click.option("--theme", "code", required=True, help="The theme or code name people raised.")
@click.option("--what", required=True, help="What the partnership will do.")
@click.option("--owner", default="", help="Who is responsible.")
@click.option("--due", default=None, help="Due date, YYYY-MM-DD.")
@click.option("--status", type=click.Choice(["planned", "in_progress", "done", "dropped"]), default="planned",
              show_default=True)
@click.option("--note", default="", help="A note (progress, why dropped...).")
@with_db
def actions_add_cmd(db: Database, round_ref: str, code: str, what: str, owner: str, due: str | None, status: str,
                    note: str) -> None:
    """Record an action against a theme of a round."""
    from data.actions import add_action

    round_ = _round(db, round_ref)
    action = _round_errors(lambda: add_action(db, cli_user(), round_.id, code, what, owner=owner, due=due,
                                              status=status, note=note))
    click.echo(f"Action {action.id} recorded for {action.label} ({round_.name}): {action.status_label}.")


@actions_group.command("update")
@click.argument("action_id", type=int)
@click.option("--status", type=click.Choice(["planned", "in_progress", "done", "dropped"]), default=None)
@click.option("--what", default=None)
@click.option("--owner", default=None)
@click.option("--due", default=None)
@click.option("--note", default=None)
@with_db
def actions_update_cmd(db: Database, action_id: int, **changes: Any) -> None:
    """Change an action's status, what, owner, due date or note."""
    from data.actions import update_action

    changes = {k: v for k, v in changes.items() if v is not None}
    action = _round_errors(lambda: update_action(db, cli_user(), action_id, **changes))
    click.echo(f"Action {action.id}: {action.status_label}.")


@actions_group.command("list")
@click.option("--round", "round_ref", default=None, help="Only this round's actions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_db
def actions_list_cmd(db: Database, round_ref: str | None, as_json: bool) -> None:
    """Actions, by round and theme."""
    from dataclasses import asdict

    from data.actions import list_actions

    found = list_actions(db, cli_user(), round_id=_round(db, round_ref).id if round_ref else None)
    if as_json:
        click.echo(json.dumps([asdict(a) for a in found], ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("No actions recorded.")
    for a in found:
        extra = ", ".join(x for x in (a.owner, f"due {a.due}" if a.due else "") if x)
        click.echo(f"{a.id:>4}  [{a.status_label}] {a.label}: {a.what}" + (f" ({extra})" if extra else ""))


@cli.command("feedback")
@click.argument("round_ref")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pdf", is_flag=True, help="Also a PDF beside it (LibreOffice).")
@click.option("--png", is_flag=True, help="Also a PNG of the first page beside it (LibreOffice).")
@with_db
def feedback_cmd(db: Database, round_ref: str, file: Path, pdf: bool, png: bool) -> None:
    """The "you said, we did" sheet of a round for its communities (.docx; one page per language used)."""
    from data.actions import feedback_sheet
    from data.findings import record_export
    from exports import feedback

    round_ = _round(db, round_ref)
    sheet = feedback_sheet(db, cli_user(), round_.id)
    file.parent.mkdir(parents=True, exist_ok=True)
    feedback.write_feedback(sheet, file)
    record_export(db, cli_user(), "feedback", rows=len(sheet.themes), filename=file.name,
                  filters={"Engagement round": round_.name})
    click.echo(f"Wrote {file}: {len(sheet.themes)} theme(s), {len(sheet.languages)} language(s) "
               f"({', '.join(lang.code for lang in sheet.languages)}).")
    for fmt, wanted in (("pdf", pdf), ("png", png)):
        if wanted:
            try:
                click.echo(f"Wrote {feedback.convert(file, fmt)}")
            except feedback.FeedbackError as exc:
                fail(str(exc))


@cli.command("snapshot")
@click.option("--round", "round_ref", default=None, help="Only this round's events (default: every event).")
@click.option("--label", default="", help='A label for the impact framework, e.g. "Q3 2026".')
@click.option("--list", "list_only", is_flag=True, help="List the stored snapshots instead of taking one.")
@with_db
def snapshot_cmd(db: Database, round_ref: str | None, label: str, list_only: bool) -> None:
    """Store the counts now (answers, people, post-its, theme shares per question) for reporting over time."""
    from data import rounds

    round_id = _round(db, round_ref).id if round_ref else None
    if list_only:
        for s in rounds.list_snapshots(db, cli_user(), round_id):
            click.echo(f"{s.id:>4}  {s.taken_at[:19]}  {s.label or '-'}  {s.answers:,} answers, {s.people:,} people, "
                       f"{s.postits:,} post-its")
        return
    s = _round_errors(lambda: rounds.take_snapshot(db, cli_user(), round_id, label))
    click.echo(f"Snapshot {s.id} ({s.label or s.taken_at[:10]}): {s.answers:,} answers, {s.people:,} people, "
               f"{s.postits:,} post-its, {s.coded_answers:,} coded, {len(s.shares)} theme share(s).")


if __name__ == "__main__":
    cli()
