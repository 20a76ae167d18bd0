"""Who is acting, and what each role may do: the permission checks every core function makes.

Authentication (passwords, PINs, lock-out) lives in data/accounts.py; this module only decides.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

ROLES = ("admin", "engagement_officer", "peer_researcher", "strategy_lead", "safeguarding_lead")

ROLE_LABELS = {
    "admin": "Admin",
    "engagement_officer": "Engagement officer",
    "peer_researcher": "Peer researcher",
    "strategy_lead": "Strategy lead",
    "safeguarding_lead": "Safeguarding lead",
}

#: permission -> the roles that hold it. The one truth for what each role may do.
PERMISSIONS: dict[str, frozenset[str]] = {
    "collect": frozenset({"peer_researcher", "engagement_officer", "admin"}),
    "transcribe": frozenset({"peer_researcher", "engagement_officer", "admin"}),
    "import": frozenset({"engagement_officer", "admin"}),
    "manage_events": frozenset({"engagement_officer", "admin"}),
    "read_answers": frozenset({"engagement_officer", "strategy_lead", "admin"}),
    "code": frozenset({"engagement_officer", "admin"}),
    "codebook": frozenset({"engagement_officer", "admin"}),
    "findings": frozenset({"strategy_lead", "engagement_officer", "admin"}),
    "export": frozenset({"strategy_lead", "engagement_officer", "admin"}),
    "export_original": frozenset({"admin"}),
    "safeguarding": frozenset({"safeguarding_lead"}),
    # every role that records or imports answers (a disclosure must never block a save), and the safeguarding lead
    "raise_flag": frozenset({"peer_researcher", "engagement_officer", "safeguarding_lead", "admin"}),
    "manage_users": frozenset({"admin"}),
    "erase": frozenset({"admin"}),
    "settings": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    # event bundles carry original texts between laptops and the hub (export and import)
    "bundle": frozenset({"admin"}),
    # review before analysis: mark respondents or answers approved / has issues (data/review.py)
    "review": frozenset({"engagement_officer", "admin"}),
    # engagement rounds, their actions ("you said, we did") and snapshots: officers manage; leads read (findings)
    "manage_rounds": frozenset({"engagement_officer", "admin"}),
}


class PermissionDenied(PermissionError):
    """The acting user's roles do not include the permission an action needs."""

    def __init__(self, user: User | None, permission: str):
        self.user = user
        self.permission = permission
        who = user.username if user else "nobody signed in"
        super().__init__(f"{who} may not {permission.replace('_', ' ')}: ask an admin for the right role.")


@dataclass(frozen=True)
class User:
    """The person (or command line) acting. `roles` is a set of names from ROLES."""

    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""
    is_demo: bool = False

    def can(self, permission: str) -> bool:
        return bool(self.roles & PERMISSIONS[permission])

    @property
    def name(self) -> str:
        return self.display_name or self.username


def require(user: User | None, permission: str) -> User:
    """Return the user if they hold `permission`, else raise PermissionDenied."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not user.can(permission):
        raise PermissionDenied(user, permission)
    return user


def cli_user() -> User:
    """The operator at the command line: whoever can run the CLI can already read the database file."""
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return User(f"cli:{who}", frozenset(ROLES), "command line")
