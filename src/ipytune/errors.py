"""ipytune's own warning class (tests turn it into an error)."""


class IpytuneWarning(UserWarning):
    """Something the user should know that did not stop the work (e.g. tracking failed)."""
