"""How guessable a secret or password is, estimated with zxcvbn (Dropbox's estimator, which knows
common passwords, words, keyboard walks, repeats and sequences), and its list of common passwords."""

from __future__ import annotations

import math
from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

# zxcvbn's cost grows with length; a prefix's estimate is a lower bound for the whole secret.
_ESTIMATE_CHARS = 128


def estimated_bits(secret: str) -> float:
    """log2 of the guesses zxcvbn estimates an attacker needs. zxcvbn is conservative with random
    text (about 3.3 bits a character), so a truly random key scores below its real entropy."""
    prefix = secret[:_ESTIMATE_CHARS]
    if not prefix:
        return 0.0
    guesses = float(zxcvbn(prefix, max_length=_ESTIMATE_CHARS)["guesses"])
    return math.log2(max(guesses, 1.0))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of real leaks (lower-cased).
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    return password.strip().lower() in _common_passwords()


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200


def password_problem(password: str) -> str | None:
    """Why a new password is refused, in words for the person; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Choose a password of at most {MAX_PASSWORD_LENGTH} characters."
    if is_common_password(password):
        return (
            "That password is too common: it is on lists attackers try first. Choose another, "
            "such as a few unrelated words."
        )
    return None
