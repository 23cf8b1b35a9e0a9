"""Use-cases: each public function is one transaction and checks its own rules."""


class ServiceError(Exception):
    """A rule refused the action; the message is shown to the user (already translated)."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.status = status
