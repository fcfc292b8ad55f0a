"""Who is acting: roles ranked admin > organizer > player > spectator, and the principal."""

from __future__ import annotations

import dataclasses
import enum


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

    @property
    def is_organizer(self) -> bool:
        return self.role >= Role.ORGANIZER

    def to_json(self) -> dict[str, str]:
        return {"user_id": self.user_id, "username": self.name, "role": self.role.label}
