"""Request authentication of the loopback Binance USDT-M venue (a TEST STAND-IN).

Binance signs ``HMAC-SHA256(secret, <query string without signature>)`` and sends the API key in
``X-MBX-APIKEY``. The Nautilus 1.221 client puts every parameter in the query string (POST and
DELETE included) and appends ``signature`` last, so the venue verifies the raw query string as
received. Errors: unknown key -2015, bad or missing signature -1022, timestamp outside
``recvWindow`` (default 5000 ms) or more than 1000 ms in the future -1021.
"""

import hashlib
import hmac
import urllib.parse

from adapters.loopback.binance_futures.errors import BAD_API_KEY
from adapters.loopback.binance_futures.errors import INVALID_SIGNATURE
from adapters.loopback.binance_futures.errors import INVALID_TIMESTAMP
from adapters.loopback.binance_futures.errors import VenueError


def sign(secret: str, payload: str) -> str:
    """Return the hex HMAC-SHA256 signature of ``payload`` (what a Binance client sends)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(raw_query: str) -> tuple[str, str | None]:
    """Split a raw query string into (signed payload, signature or None)."""
    parts = raw_query.split("&") if raw_query else []
    kept: list[str] = []
    signature: str | None = None
    for part in parts:
        if part.startswith("signature="):
            signature = urllib.parse.unquote(part[len("signature=") :])
        else:
            kept.append(part)
    return "&".join(kept), signature


class Authenticator:
    """Checks API keys, signatures and timestamps of signed requests.

    Parameters
    ----------
    api_key, api_secret : str
        The one credential pair the venue accepts. The secret is never logged or echoed.
    """

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.api_key = api_key
        self._secret = api_secret
        self.failures = 0

    def check_key(self, header_key: str | None) -> None:
        """Reject an unknown API key (-2015)."""
        if header_key != self.api_key:
            self.failures += 1
            raise VenueError(BAD_API_KEY, "Invalid API-key, IP, or permissions for action.", status=401)

    def check_signed(
        self, header_key: str | None, raw_query: str, params: dict[str, str], now_ms: int
    ) -> None:
        """Validate key, signature and timestamp of a SIGNED endpoint call."""
        self.check_key(header_key)
        payload, signature = split_signature(raw_query)
        expected = sign(self._secret, payload)
        if signature is None or not hmac.compare_digest(signature.lower(), expected):
            self.failures += 1
            raise VenueError(INVALID_SIGNATURE, "Signature for this request is not valid.")
        try:
            ts = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            raise VenueError(-1102, "Mandatory parameter 'timestamp' was not sent or malformed.") from None
        if ts > now_ms + 1000 or now_ms - ts > recv_window:
            raise VenueError(INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")
