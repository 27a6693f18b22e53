"""What can go wrong when a trigger is fired; the web layer maps each to a status code."""


class TransitionError(Exception):
    """A trigger that could not be fired; `allowed` lists what could be."""

    status = 409

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.allowed = allowed


class UnknownTrigger(TransitionError):
    """The workflow has no such trigger."""


class InvalidTransition(TransitionError):
    """The trigger exists but does not leave the request's current state."""


class RoleNotAllowed(TransitionError):
    """The actor holds none of the roles the trigger needs."""

    status = 403


class GuardRefused(TransitionError):
    """A guard said no, or the data the trigger takes is missing or unexpected."""

    status = 422


class ConcurrentTransition(TransitionError):
    """Someone else moved the request first; reload and try again."""
