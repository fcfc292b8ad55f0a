"""Who is acting: roles ranked admin > organizer > player > spectator, and the principal."""

from __future__ import annotations

import dataclasses
import enum

from tournament.errors import ForbiddenError


class Role(enum.IntEnum):
    SPECTATOR = 0
    PLAYER = 1
    ORGANIZER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        """The role named `name` (`participant` is accepted for player). Raises ValueError."""
        name = {"participant": "player"}.get(name, name)
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}") from None


ROLE_NAMES = tuple(r.label for r in Role)


@dataclasses.dataclass(frozen=True)
class Principal:
    """The authenticated user behind a request or a socket."""

    user_id: str
    name: str
    role: Role
    # An event link's: the one tournament it acts in, and its link generation (tournament's,
    # subject's) that revoking moves on; None for tokens that are not scoped.
    tournament_id: str | None = None
    link: tuple[int, int] | None = None
    link_ttl_s: int | None = None  # the lifetime it was minted with: a renewal is never longer
    # A team member's link: the team (its participant id) this member plays for. Whether the
    # member may act for it now is checked when they act (tournament/teams.py, `Rosters`).
    acts_for: str | None = None

    @property
    def participant_id(self) -> str:
        """The participant this principal plays as: its team, for a team member; else itself."""
        return self.acts_for or self.user_id

    def acts_in(self, tournament_id: str) -> bool:
        """Whether this principal may act in `tournament_id` (a scoped token only in its own)."""
        return self.tournament_id is None or self.tournament_id == tournament_id

    @property
    def is_organizer(self) -> bool:
        return self.role >= Role.ORGANIZER

    @property
    def key(self) -> str:
        """Who this is for limits and idempotency: a role and a subject together, so a token
        minted for another role with the same `sub` shares nothing with it."""
        return f"{self.role.label}:{self.user_id}"

    def to_json(self) -> dict[str, str]:
        return {"user_id": self.user_id, "username": self.name, "role": self.role.label}


# The organizer the server acts as when a tournament's rules decide a match: a no-show forfeited
# (tournament/stations.py), a disqualified player's next match (tournament/bracket_service.py).
SYSTEM = Principal(user_id="livebracket", name="livebracket", role=Role.ORGANIZER)


def check_mint(minter: Principal, role: Role) -> None:
    """Who may mint tokens for whom: organizers and admins, for lower roles only.

    Raises ForbiddenError.
    """
    if not minter.is_organizer:
        raise ForbiddenError("only an organizer may mint tokens", code="insufficient_permissions")
    if role >= minter.role:
        raise ForbiddenError(f"a {minter.role.label} may mint tokens only for lower roles",
                             code="insufficient_permissions")
