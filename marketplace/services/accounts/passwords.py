"""The password rule of NIST SP 800-63B: long enough, not common or guessable, not the account's
own e-mail or name; no composition rules.

Common and breached passwords are found offline by zxcvbn, whose package ships its frequency lists
(passwords seen in breaches, English words, names) and scores how fast they would be guessed.
"""

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 200
# zxcvbn refuses longer input; a longer password only gets harder to guess than its first part.
_ZXCVBN_MAX = 72
# Score 3 = at least 10^8 guesses: safe against online guessing and a slowed-down offline attack.
MIN_SCORE = 3


def password_problem(password: str, email: str = "", name: str = ""):
    """Why the password is refused (a translated message), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(n)d characters.", n=MAX_LENGTH)
    own = _own_words(email, name)
    if password.strip().casefold() in own:
        return _l("Do not use your e-mail address or your name as the password.")
    if zxcvbn(password[:_ZXCVBN_MAX], user_inputs=sorted(own))["score"] < MIN_SCORE:
        return _l(
            "This password is too common or too easy to guess. "
            "A few unrelated words make a strong one."
        )
    return None


def _own_words(email: str, name: str) -> set[str]:
    """The account's e-mail, its local part and its name, lower-cased."""
    email = (email or "").strip().casefold()
    words = {email, email.split("@")[0], (name or "").strip().casefold()}
    return {word for word in words if word}
