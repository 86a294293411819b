"""Domain errors raised by services; views and the API map them to status codes in one place."""


class DomainError(Exception):
    status_code = 400
    field = "non_field_errors"

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message or self.default_message)
        if field:
            self.field = field

    default_message = "Invalid request."

    @property
    def message(self) -> str:
        return str(self.args[0])

    def as_payload(self) -> dict:
        if self.status_code == 400:
            return {self.field: [self.message]}
        return {"detail": self.message}


class InvalidInput(DomainError):
    """A rule about the input was broken; `field` names the offending field."""

    status_code = 400


class NotFound(DomainError):
    """Unknown, or not visible to the caller: never reveal that it exists."""

    status_code = 404
    default_message = "Not found."


class PermissionDenied(DomainError):
    """The caller can see the object but their role does not allow the action."""

    status_code = 403
    default_message = "Your role in this group does not allow this action."


class Conflict(DomainError):
    status_code = 409
    default_message = "This action conflicts with the session's state."


class SessionNotOpen(Conflict):
    default_message = "This session is not open."


class AlreadySubmitted(Conflict):
    default_message = "You have already submitted this session."
