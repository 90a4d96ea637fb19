"""``/users``: admins add users, list them and revoke their tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from sqlalchemy import select

from loanrecovery.service import audit
from loanrecovery.service.auth import create_user, issue_token, revoke_tokens
from loanrecovery.service.db.models import User
from loanrecovery.service.deps import DbSession, WriteSession, require
from loanrecovery.service.errors import ServiceInputError
from loanrecovery.service.schemas import TokenOut, UserCreate, UserOut

__all__ = ["router", "user_out"]

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[User, Depends(require("users.manage"))]


def user_out(user: User) -> UserOut:
    """A user as the API shows it."""
    return UserOut(
        user_id=user.id, name=user.name, role=user.role, capacity=user.capacity, active=user.active
    )


@router.get("", response_model=list[UserOut])
def list_users(db: DbSession, _admin: Admin) -> list[UserOut]:
    """Every user."""
    return [user_out(u) for u in db.scalars(select(User).order_by(User.id))]


@router.post("", response_model=TokenOut, status_code=201, responses={409: {}})
def add_user(body: UserCreate, db: WriteSession, admin: Admin) -> TokenOut:
    """Add a user; the token in the answer is shown this once."""
    with db.begin():
        try:
            user = create_user(db, body.name, body.role, capacity=body.capacity)
        except ServiceInputError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        token = issue_token(db, user)
        audit.record(
            db, actor=admin.name, action="user.added", entity="user", entity_id=user.id,
            after={"name": user.name, "role": user.role, "capacity": user.capacity},
        )  # fmt: skip
        out = TokenOut(user=user_out(user), token=token)
    return out


@router.post("/{user_id}/revoke", response_model=UserOut, responses={404: {}})
def revoke(
    user_id: Annotated[int, Path(ge=1, le=2**62)], db: WriteSession, admin: Admin
) -> UserOut:
    """Revoke every token of a user."""
    with db.begin():
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")
        count = revoke_tokens(db, user)
        audit.record(
            db, actor=admin.name, action="user.tokens_revoked", entity="user",
            entity_id=user.id, after={"revoked": count},
        )  # fmt: skip
        out = user_out(user)
    return out
