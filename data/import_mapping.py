"""Which column of an imported file is what: recognising survey-tool exports and reading a mapping file.

A long file (one row per answer: id, question, group, text) is read as it is. A wide file (one row per respondent, one
column per question, as Microsoft Forms, Google Forms, KoBoToolbox, ODK Central, SurveyMonkey and Qualtrics export)
is recognised from its headers; `Mapping` says, for each column, whether it is a question, the group, the submission
id, the time, or ignored, and why. A mapping can be saved as YAML and given back (`--map`) for the next file.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from surveys import QuestionSet

#: Roles a column can have in a wide file. "personal" is ignored too, and said to be dropped: it is never stored.
ROLES = ("question", "group", "id", "time", "ignore", "personal")
DATE_ORDERS = ("uk", "us")
MAPPING_VERSION = 1


class MappingError(ValueError):
    """A mapping file that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Column:
    """One column of the file: its position (0-based), header as shown, role, question id for role 'question'."""

    index: int
    header: str
    role: str
    question_id: str | None = None
    why: str = ""

    def describe(self) -> str:
        use = f"question {self.question_id}" if self.role == "question" else {
            "personal": "dropped (personal data, never stored)", "ignore": "ignored"}.get(self.role, self.role)
        return f"{self.header or f'(column {self.index + 1})'} -> {use}" + (f"  [{self.why}]" if self.why else "")


@dataclass(frozen=True)
class Mapping:
    """How a file is read: long, or wide with a role per column; the header rows above the data; the date order."""

    layout: str  # "long" | "wide"
    tool: str = ""  # the survey tool recognised ("KoBoToolbox", ...), for people
    header_rows: int = 1
    dates: str = "uk"
    columns: tuple[Column, ...] = ()
    default_group: str | None = None
    time_zone: str | None = None  # Qualtrics states the zone of its times in the third header row
    notes: tuple[str, ...] = field(default=())

    def of(self, role: str) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    def column(self, role: str) -> Column | None:
        found = self.of(role)
        return found[0] if found else None

    @property
    def personal(self) -> list[str]:
        return [c.header for c in self.of("personal")]

    def lines(self) -> list[str]:
        """The mapping for a person: one line per column, and the notes."""
        head = f"layout: {self.layout}" + (f" ({self.tool})" if self.tool else "")
        head += f"; header rows: {self.header_rows}; dates: {self.dates}"
        if self.time_zone:
            head += f"; times in {self.time_zone}"
        out = [head]
        out += [f"  {c.describe()}" for c in self.columns]
        if self.default_group:
            out.append(f"  every respondent's group: {self.default_group}")
        if self.personal:
            out.append("  personal data dropped, never stored: " + ", ".join(self.personal))
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_yaml(self) -> str:
        """The mapping file for the next file of the same form (format in the README: import mapping)."""
        columns = {}
        for c in self.columns:
            key = c.header if c.header and sum(1 for o in self.columns if o.header == c.header) == 1 \
                else f"#{c.index + 1}"
            columns[key] = f"question {c.question_id}" if c.role == "question" else c.role
        doc: dict[str, Any] = {"thrive_import_mapping": MAPPING_VERSION, "layout": self.layout,
                               "header_rows": self.header_rows, "dates": self.dates}
        if self.tool:
            doc["tool"] = self.tool
        if self.time_zone:
            doc["time_zone"] = self.time_zone
        if self.default_group:
            doc["group"] = self.default_group
        if self.layout == "wide":
            doc["columns"] = columns
        return "# Thrive Voices import mapping: python cli.py import responses FILE --map THIS.yaml\n" + \
            yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000)


# --- normalising text ---------------------------------------------------------------------------------------------

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
_NUMBERING = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d{1,3}\s*[.):-]\s+", re.IGNORECASE)


def normal(text: Any) -> str:
    """Lower case, compatibility forms, punctuation and underscores as spaces, runs of spaces as one, trimmed."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    value = value.replace("_", " ").replace("&", " and ")
    return _SPACE.sub(" ", _PUNCT.sub(" ", value)).strip()


def compact(text: Any) -> str:
    """normal() without spaces and the joining words, so that 'Parent/carer' and 'Parent or carer' agree."""
    words = [w for w in normal(text).split() if w not in ("or", "and")]
    return "".join(words)


class QuestionMatcher:
    """A question set's questions by id and by wording in every language, {area} standing for any place name."""

    def __init__(self, qs: QuestionSet):
        self.qs = qs
        self.exact: dict[str, str] = {}
        self.templates: list[tuple[re.Pattern[str], str]] = []
        for q in qs.questions:
            self.exact[q.id.lower()] = q.id
            self.exact[normal(q.id)] = q.id
            for text in q.label.values():
                if "{area}" in text:
                    before, _, after = text.partition("{area}")
                    pattern = r"\s*".join(p for p in (re.escape(normal(before)), r"(?:.+?)", re.escape(normal(after)))
                                          if p)
                    self.templates.append((re.compile(f"^{pattern}$"), q.id))
                else:
                    self.exact[normal(text)] = q.id
        self.groups: dict[str, str] = {}
        for g in qs.groups:
            self.groups[g.id.lower()] = g.id
            self.groups[compact(g.id)] = g.id
            for text in g.label.values():
                self.groups[text.strip().lower()] = g.id
                self.groups[compact(text)] = g.id
        self._cache: dict[str, str | None] = {}

    def question(self, cell: Any) -> str | None:
        """The question id a header or question cell names, or None."""
        key = "" if cell is None else str(cell)
        if key in self._cache:
            return self._cache[key]
        found = self.exact.get(key.strip().lower())
        if found is None:
            text = normal(_NUMBERING.sub("", key))
            found = self.exact.get(text)
            if found is None:
                found = next((qid for pattern, qid in self.templates if pattern.match(text)), None)
            if found is None:  # an XML field name under a group path: "group_ab1/thrive_helps", "survey-thrive_helps"
                last = re.split(r"[/:-]", key.strip())[-1].strip().lower()
                found = self.exact.get(last) if last and last != key.strip().lower() else None
        if len(self._cache) < 10_000:
            self._cache[key] = found
        return found

    def group(self, cell: Any) -> str | None:
        text = "" if cell is None else str(cell).strip()
        return self.groups.get(text.lower()) or self.groups.get(compact(text))


# --- recognising a wide file --------------------------------------------------------------------------------------

#: Submission ids, most specific first (KoBo's _uuid before its numeric _id; ODK's instanceID before KEY, which in a
#: repeat table is the parent's key).
ID_HEADERS = ("_uuid", "meta-instanceid", "meta/instanceid", "meta:instanceid", "instanceid", "responseid",
              "response id", "respondent id", "id")
#: Times, the moment the respondent finished first.
TIME_HEADERS = ("completion time", "end", "enddate", "end date", "end time", "_submission_time", "submissiondate",
                "recordeddate", "timestamp", "submitted at")
PERSONAL_HEADERS = ("email", "email address", "e-mail", "name", "first name", "last name", "ip address", "ipaddress",
                    "recipientemail", "recipientfirstname", "recipientlastname", "submittername", "_submitted_by",
                    "locationlatitude", "locationlongitude", "_geolocation", "deviceid", "device id", "phonenumber",
                    "username", "subscriberid", "simserial")
OTHER_METADATA = ("start time", "last modified time", "start", "today", "_id", "_index", "_validation_status",
                  "_notes", "_status", "__version__", "_version_", "_tags", "_attachments", "_xform_id_string",
                  "_parent_index", "key", "submitterid", "attachmentspresent", "attachmentsexpected", "status",
                  "reviewstate", "edits", "formversion", "collector id", "custom data 1", "startdate", "start date",
                  "progress", "duration (in seconds)", "finished", "distributionchannel", "userlanguage",
                  "externalreference", "external reference", "q_recaptchascore", "meta-audit", "audit",
                  "total score", "quiz feedback", "points", "feedback")
GROUP_HEADERS = ("group", "respondent group", "which group", "which group are you in", "you are", "i am a",
                 "i am", "who are you", "respondent type", "role")
TOOLS = (  # (tool, headers that say so), checked in order
    ("Qualtrics", ("responseid", "recordeddate")),
    ("SurveyMonkey", ("respondent id", "collector id")),
    ("KoBoToolbox", ("_uuid", "_submission_time")),
    ("ODK Central", ("submissiondate", "key")),
    ("Microsoft Forms", ("id", "start time", "completion time")),
    ("Google Forms", ("timestamp",)),
)
SURVEYMONKEY_SUBHEADERS = {"response", "open-ended response", "other (please specify)"}
_UUID = re.compile(r"^(?:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.IGNORECASE)


def submission_uuid(value: Any) -> str | None:
    """The canonical UUID when `value` is one (KoBo `_uuid`, ODK `uuid:...`): unique across the whole database."""
    found = _UUID.match(str(value).strip()) if value is not None else None
    return str(uuid.UUID(found.group(1))) if found else None


def _key(header: Any) -> str:
    return "" if header is None else _SPACE.sub(" ", str(header).strip().lower())


def is_long(header: Sequence[Any]) -> bool:
    keys = {_key(h) for h in header}
    return {"question", "text"} <= keys


def detect(rows: Sequence[Sequence[Any]], qs: QuestionSet, *, dates: str | None = None) -> Mapping:
    """The mapping for a file from its first rows (header row first; a few data rows for the group's values)."""
    if not rows:
        return Mapping("long")
    first = list(rows[0])
    if is_long(first):
        return Mapping("long", dates=dates or "uk")
    matcher = QuestionMatcher(qs)
    keys = [_key(h) for h in first]
    header_rows, texts, time_zone, tool = headers(rows)
    notes: list[str] = []
    order = dates or ("us" if tool == "SurveyMonkey" else "uk")
    data = [list(r) for r in rows[header_rows:]]
    columns: list[Column] = []
    for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
        qid = matcher.question(text) or (matcher.question(first[i]) if header_rows > 1 else None)
        if qid:
            by_id = normal(qid) == normal(re.split(r"[/:-]", text)[-1])
            columns.append(Column(i, text, "question", qid, "header is the question's id" if by_id
                                  else "header matches the question's wording"))
            continue
        values = [r[i] for r in data if i < len(r) and r[i] not in (None, "")]
        if values and sum(1 for v in values if matcher.group(v)) >= max(1, 0.8 * len(values)):
            columns.append(Column(i, text, "group", None, "its values are respondent groups"))
        elif key in ID_HEADERS:
            columns.append(Column(i, text, "id", None, "submission id"))
        elif key in TIME_HEADERS:
            columns.append(Column(i, text, "time", None, "when the respondent finished"))
        elif key in PERSONAL_HEADERS:
            columns.append(Column(i, text, "personal", None, "personal data: never stored"))
        elif key in OTHER_METADATA:
            columns.append(Column(i, text, "ignore", None, f"{tool or 'survey tool'} metadata"))
        elif normal(text) in GROUP_HEADERS:
            columns.append(Column(i, text, "group", None, "header names the group"))
        else:
            columns.append(Column(i, text, "ignore", None, "not a question of this question set"))
    # one id, one time, one group: the first by priority keeps its role, the others are ignored with the reason
    columns = _keep_one(columns, "id", ID_HEADERS, keys)
    columns = _keep_one(columns, "time", TIME_HEADERS, keys)
    columns = _keep_one(columns, "group", (), keys)
    seen: dict[str, int] = {}
    for c in columns:
        if c.role == "question":
            if c.question_id in seen:
                notes.append(f"question {c.question_id} has two columns ({seen[c.question_id] + 1} and "
                             f"{c.index + 1}); both are imported")
            seen.setdefault(c.question_id or "", c.index)
    if not seen:
        notes.append("no column matches a question of the question set; give the mapping with --map")
    if not any(c.role == "id" for c in columns):
        notes.append("no submission id column: each row's id is made from its contents, so the same file imported "
                     "again adds nothing")
    return Mapping("wide", tool, header_rows, order, tuple(columns), None, time_zone, tuple(notes))


def headers(rows: Sequence[Sequence[Any]]) -> tuple[int, list[str], str | None, str]:
    """(header rows, each column's header as shown, the stated time zone, the tool) from a file's first rows:
    Qualtrics' question texts (row 2, above its ImportId row) and SurveyMonkey's option row (row 2) included."""
    first = list(rows[0]) if rows else []
    keys = {_key(h) for h in first}
    tool = next((name for name, needs in TOOLS if all(n in keys for n in needs)), "")
    header_rows, texts, time_zone = 1, [str(h or "").strip() for h in first], None
    second = [str(c or "").strip() for c in rows[1]] if len(rows) > 1 else []
    third = [str(c or "").strip() for c in rows[2]] if len(rows) > 2 else []
    if third and any(c.startswith('{"ImportId"') for c in third):  # Qualtrics: names, question texts, ImportIds
        header_rows, tool = 3, tool or "Qualtrics"
        texts = [s or t for s, t in zip(_pad(second, len(texts)), texts, strict=True)]
        zones = re.findall(r'"timeZone"\s*:\s*"([^"]+)"', " ".join(third))
        time_zone = zones[0] if zones else None
    elif second and any(c.lower() in SURVEYMONKEY_SUBHEADERS for c in second):  # SurveyMonkey's second header row
        header_rows, tool = 2, tool or "SurveyMonkey"
        last = ""
        for i, text in enumerate(texts):
            if text:
                last = text
            elif i < len(second) and second[i]:
                texts[i] = f"{last} / {second[i]}"
    return header_rows, texts, time_zone, tool


def _pad(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


def _keep_one(columns: list[Column], role: str, priority: Sequence[str], keys: list[str]) -> list[Column]:
    found = [c for c in columns if c.role == role]
    if len(found) < 2:
        return columns
    rank = {name: n for n, name in enumerate(priority)}
    keep = min(found, key=lambda c: (rank.get(keys[c.index], len(rank)), c.index))
    return [c if c.role != role or c is keep else replace(c, role="ignore", why=f"another {role} column "
                                                           f"({keep.header}) is used") for c in columns]


# --- mapping files ------------------------------------------------------------------------------------------------

def load(text: str | bytes, rows: Sequence[Sequence[Any]], qs: QuestionSet) -> Mapping:
    """A mapping from its YAML, applied to this file's first rows (columns by header text as the dry run shows it,
    or '#N' for the Nth column)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"the mapping file is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise MappingError("the mapping file must be a YAML mapping with layout and columns")
    layout = doc.get("layout", "wide")
    if layout not in ("long", "wide"):
        raise MappingError(f"layout must be long or wide, not {layout!r}")
    dates = str(doc.get("dates", "uk")).lower()
    if dates not in DATE_ORDERS:
        raise MappingError(f"dates must be one of {', '.join(DATE_ORDERS)}, not {dates!r}")
    header_rows = doc.get("header_rows", 1)
    if not isinstance(header_rows, int) or not 1 <= header_rows <= 5:
        raise MappingError("header_rows must be a whole number from 1 to 5")
    group = doc.get("group")
    if group is not None and not any(g.id == group for g in qs.groups):
        raise MappingError(f"group {group!r} is not a group of the question set; use one of "
                           f"{', '.join(g.id for g in qs.groups)}")
    if layout == "long":
        return Mapping("long", str(doc.get("tool", "")), 1, dates)
    given = doc.get("columns")
    if not isinstance(given, dict) or not given:
        raise MappingError("a wide mapping needs 'columns': header -> question <id> | group | id | time | ignore | "
                           "personal")
    _, shown, stated_zone, _ = headers(rows)
    names = [str(h or "").strip() for h in (rows[0] if rows else [])]
    roles: dict[int, tuple[str, str | None]] = {}
    problems = []
    question_ids = {q.id for q in qs.questions}
    for name, use in given.items():
        name = str(name)
        if re.fullmatch(r"#\d+", name):
            index = int(name[1:]) - 1
            if not 0 <= index < len(shown):
                problems.append(f"column {name} is past the file's last column ({len(shown)})")
                continue
        elif name in shown:
            index = shown.index(name)
        elif name in names:
            index = names.index(name)
        else:
            problems.append(f"column {name!r} is not in the file")
            continue
        parts = str(use).split()
        role = parts[0] if parts else ""
        if role not in ROLES:
            problems.append(f"column {name!r}: {use!r} is not one of question <id>, {', '.join(ROLES[1:])}")
        elif role == "question" and (len(parts) != 2 or parts[1] not in question_ids):
            problems.append(f"column {name!r}: say which question, one of {', '.join(sorted(question_ids))}")
        else:
            roles[index] = (role, parts[1] if role == "question" else None)
    if problems:
        raise MappingError("the mapping does not fit this file: " + "; ".join(problems))
    columns = tuple(Column(i, h, *roles.get(i, ("ignore", None)), why="from the mapping file" if i in roles
                           else "not in the mapping file") for i, h in enumerate(shown))
    for role in ("id", "time", "group"):
        if sum(1 for c in columns if c.role == role) > 1:
            raise MappingError(f"the mapping names more than one {role} column")
    if not any(c.role == "question" for c in columns):
        raise MappingError("the mapping names no question column")
    zone = doc.get("time_zone") or stated_zone
    return Mapping("wide", str(doc.get("tool", "")), header_rows, dates, columns, group, zone)


# --- dates --------------------------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_GMT = re.compile(r"\s*(?:GMT|UTC)\s*([+-]\d{1,2})?(?::?(\d{2}))?\s*$", re.IGNORECASE)
_FORMATS = {
    "uk": ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y %H:%M:%S", "%d/%m/%y %H:%M", "%d/%m/%y",
           "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"),
    "us": ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
           "%m/%d/%y %I:%M:%S %p", "%m/%d/%y %I:%M %p", "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M", "%m/%d/%y"),
}
#: Formats whose order is not in doubt (year first: ISO's relatives, Google Forms' CSV download).
_YEAR_FIRST = ("%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def timestamp(value: Any, dates: str = "uk", time_zone: str | None = None) -> str:
    """A UTC ISO-8601 timestamp from an ISO string (with Z or an offset), a UK (or, with dates='us', US) date with or
    without seconds, Google Forms' 2026/11/23 2:05:12 PM GMT, a spreadsheet date or an Excel serial number.

    A time without a zone is taken in `time_zone` (Qualtrics states it), else as UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = _serial(float(value))
    else:
        text = str(value).strip()
        moment = None
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            pass
        if moment is None and re.fullmatch(r"\d{4,5}(?:\.\d+)?", text):
            moment = _serial(float(text))
        if moment is None:
            zone = None
            found = _GMT.search(text)
            if found:
                hours = int(found.group(1) or 0)
                minutes = int(found.group(2) or 0) * (1 if hours >= 0 else -1)
                zone = dt.timezone(dt.timedelta(hours=hours, minutes=minutes))
                text = text[:found.start()]
            for fmt in _YEAR_FIRST + _FORMATS["us" if dates == "us" else "uk"]:
                try:
                    moment = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if moment is not None and zone is not None:
                moment = moment.replace(tzinfo=zone)
        if moment is None:
            example = "11/23/2026 14:05" if dates == "us" else "23/11/2026 14:05:12"
            raise ValueError(f"{text!r} is not a date and time like 2026-11-23T14:05:00Z or {example}"
                             + ("" if dates == "us" else " (for US month-first dates use --dates us)"))
    if moment.tzinfo is None:
        zone_info = _zone(time_zone)
        moment = moment.replace(tzinfo=zone_info or dt.UTC)  # a file's naive times are taken as UTC (README)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _serial(number: float) -> dt.datetime:
    if not 1 <= number < 2_958_466:  # Excel's range: 1900-01-01 to 9999-12-31
        raise ValueError(f"{number!r} is not a date (an Excel date number is between 1 and 2,958,465)")
    return _EXCEL_EPOCH + dt.timedelta(days=number)


def _zone(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - an unknown zone name: times are taken as UTC, as for any other file
        return None
