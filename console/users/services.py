"""Users, roles and server-side login sessions."""

from __future__ import annotations

import functools
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from console.core.errors import DomainError
from console.core.models import ROLES, Agent, AuditLog, LoginSession, User, utcnow
from console.core.states import AudioPath, Role


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str = Role.AGENT,
    display_name: str = "",
    language: str = "zh-CN",
    skills: list[str] | None = None,
    sip_contact: str = "",
    extension: str = "",
) -> User:
    """A new user (and its agent record when the role is agent)."""
    username = username.strip()
    if role not in ROLES:
        raise DomainError("invalid-role")
    if not username or len(password) < 4:
        raise DomainError("invalid-input", "username / password (min. 4)")
    if session.scalar(select(User).where(User.username == username)):
        raise DomainError("username-taken")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        display_name=display_name or username,
        language=language,
    )
    session.add(user)
    session.flush()
    if role == Role.AGENT:
        session.add(
            Agent(
                user_id=user.id,
                skills=list(skills or []),
                sip_contact=sip_contact,
                extension=extension,
            )
        )
        session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        # Hash anyway: an answer that came back faster would tell which usernames exist.
        check_password_hash(_unknown_user_hash(), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


@functools.cache
def _unknown_user_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def audit_failed_login(
    session: Session, username: str, address: str | None, locked_for_s: int
) -> None:
    """Audit a wrong password and, when it locked sign-in, the lock."""
    name = username.strip()[:64]
    user_id = session.scalar(select(User.id).where(User.username == name)) if name else None
    where = {"username": name, "address": (address or "")[:64]}
    session.add(
        AuditLog(
            user_id=user_id, action="login-failed", object_type="user", object_id=name, detail=where
        )
    )
    if locked_for_s:
        session.add(
            AuditLog(
                user_id=user_id,
                action="login-locked",
                object_type="user",
                object_id=name,
                detail=where | {"seconds": locked_for_s},
            )
        )


def choose_audio(session: Session, user: User, choice: str) -> None:
    """Her audio path for this sign-in ("browser" or "phone"); anything else keeps the last."""
    if user.agent is not None and choice in tuple(AudioPath):
        user.agent.audio = choice


def open_login_session(session: Session, user: User) -> str:
    """A new server-side session token for the user."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token=token, user_id=user.id))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The user behind a live (not revoked) session token."""
    row = session.get(LoginSession, token)
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_login_session(session: Session, token: str) -> None:
    """End a session for good: its cookie stops working everywhere."""
    row = session.get(LoginSession, token)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def agent_id_of(session: Session, user_id: int) -> int | None:
    """The agent record of a user, if she is an agent."""
    return session.scalar(select(Agent.id).where(Agent.user_id == user_id))
