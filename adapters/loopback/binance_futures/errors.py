"""Binance error codes used by the loopback USDT-M venue (a TEST STAND-IN).

A ``VenueError`` becomes the Binance reply ``{"code": <code>, "msg": <msg>}`` with an HTTP
status: 400 for request errors, 401 for -2014/-2015 key errors, 429 (with ``Retry-After``)
for -1003, 503 for stalls turned into server errors.
"""

TOO_MANY_REQUESTS = -1003
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
BAD_PRECISION = -1111
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
BAD_API_KEY = -2015
MARGIN_INSUFFICIENT = -2019
REDUCE_ONLY_REJECT = -2022
POST_ONLY_REJECT = -5022


class VenueError(Exception):
    """A Binance-style rejection.

    Parameters
    ----------
    code : int
        The Binance error code (negative).
    msg : str
        The message Binance would send.
    status : int
        HTTP status of the reply.
    retry_after : int | None
        Seconds for the ``Retry-After`` header (429 only).
    """

    def __init__(self, code: int, msg: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after

    def body(self) -> dict:
        """Return the JSON body Binance sends for this error."""
        return {"code": self.code, "msg": self.msg}
